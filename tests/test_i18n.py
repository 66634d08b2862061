"""The catalogue: both languages say the same things, with the same placeholders, real
plurals, French typography, and no key used in the code that the catalogue lacks."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tcp_observatory.lab import i18n
from tcp_observatory.lab.i18n import MESSAGES, NBSP, Plural, placeholders, t, texts

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("key", sorted(MESSAGES))
def test_french_and_english_have_the_same_placeholders(key: str) -> None:
    fr = [placeholders(x) for x in texts(key, "fr")]
    en = [placeholders(x) for x in texts(key, "en")]
    assert all(p == fr[0] for p in fr + en), f"{key}: {fr} vs {en}"
    assert all(x.strip() for x in texts(key, "fr") + texts(key, "en")), f"{key} is empty"


def test_plurals_follow_each_language_rule() -> None:
    assert t("verify.why.missing", "fr", n=1) == "1 étape sans capture"
    assert t("verify.why.missing", "fr", n=0) == "0 étape sans capture"
    assert t("verify.why.missing", "fr", n=3) == "3 étapes sans capture"
    assert t("verify.why.missing", "en", n=1) == "1 step without a screenshot"
    assert t("verify.why.missing", "en", n=0) == "0 steps without a screenshot"
    assert t("verify.why.missing", "en", n=2) == "2 steps without a screenshot"


def test_no_faked_plural_is_left() -> None:
    for key in MESSAGES:
        for lang in ("fr", "en"):
            for text in texts(key, lang):
                assert "(s)" not in text and "(e)" not in text, f"{key} [{lang}]: {text}"


def test_plural_entries_take_a_count() -> None:
    for key, entry in MESSAGES.items():
        if isinstance(entry, Plural):
            assert "n" in placeholders(entry.en[1]), f"{key}: a plural needs {{n}}"


def test_french_punctuation_is_held_by_a_no_break_space() -> None:
    text = t("cli.connected", "fr", local="a", addr="b")
    assert f"Connecté{NBSP}:" in text and f"«{NBSP}Fin{NBSP}»" in text
    for key in MESSAGES:
        for fr in texts(key, "fr"):
            for mark in (" :", " ;", " ?", " !", " »", "« "):
                assert mark not in fr, f"{key}: breakable space at {mark!r} in {fr!r}"
    # What is not French prose is left alone.
    assert i18n.french("http://x 10:30 --port") == "http://x 10:30 --port"


def test_steps_come_from_the_catalogue() -> None:
    from tcp_observatory.lab.guide.steps import STEPS

    for step in STEPS:
        for what in ("title", "todo", "question", "evidence"):
            for lang in ("fr", "en"):
                assert step.text(what, lang) == t(f"step.{step.id}.{what}", lang)


def test_an_unknown_key_fails_under_the_tests_and_shows_itself_otherwise(
        monkeypatch: pytest.MonkeyPatch) -> None:
    assert i18n.STRICT, "conftest sets strict mode: a missing key must fail the tests"
    with pytest.raises(KeyError):
        t("no.such.key", "fr")
    monkeypatch.setattr(i18n, "STRICT", False)
    assert t("no.such.key", "fr") == "no.such.key"


def _literal_keys() -> set[str]:
    """Every key given to ``t`` as a literal string anywhere in lab/ and tui/."""
    keys: set[str] = set()
    for top in ("lab", "tui"):
        for path in (ROOT / top).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
                        and node.func.id == "t" and node.args
                        and isinstance(node.args[0], ast.Constant)
                        and isinstance(node.args[0].value, str)):
                    keys.add(node.args[0].value)
    return keys


def test_every_key_the_code_names_is_in_the_catalogue() -> None:
    keys = _literal_keys()
    assert len(keys) > 150
    assert sorted(keys - set(MESSAGES)) == []


def test_french_writes_decimal_commas() -> None:
    """French sentences write a decimal value with a comma ("4,62 s"), English with a
    point; whole numbers, ports and addresses are left alone."""
    assert t("unit.seconds", "fr", s=4.6231) == f"4,62{NBSP}s"
    assert t("unit.seconds", "en", s=4.6231) == "4.62 s"
    paced = t("app.paced", "fr", interval=0.35, cost=70.0)
    assert "0,35" in paced and "0.35" not in paced and "70 ms" in paced
    assert "0.35" in t("app.paced", "en", interval=0.35, cost=70.0)
    assert t("ev.listen", "fr", addr="127.0.0.1:9500").count("127.0.0.1:9500") == 1
    assert f"{i18n.FrenchNumber(12345.5):,.1f}" == f"12{i18n.NNBSP}345,5"


def test_every_french_number_placeholder_takes_a_comma() -> None:
    """Any sentence that formats a decimal (``{x:.2f}``) writes it the French way."""
    import re
    import string

    decimal = re.compile(r"\d\.\d")
    checked = 0
    for key in MESSAGES:
        for fr in texts(key, "fr"):
            specs = {name: spec for _, name, spec, _ in string.Formatter().parse(fr)
                     if name and spec and spec.endswith("f")}
            if not specs:
                continue
            values: dict[str, object] = {
                name: 1.25 for name in placeholders(fr)}
            values["n"] = 2
            checked += 1
            assert not decimal.search(t(key, "fr", **values)), key
    assert checked >= 3
