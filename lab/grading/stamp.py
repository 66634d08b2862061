"""The stamp: the line on screen, and so in every screenshot, that names the student, the host,
the time, the step and the app's version; and how a grader finds it again in an SVG."""

from __future__ import annotations

import re
from datetime import datetime

from tcp_observatory.lab.i18n import t
from tcp_observatory.lab.text import clean_field

_TIME_RE = r"\d{4}-\d{2}-\d{2}\d{2}:\d{2}:\d{2}"  # a stamp's time once whitespace is removed
_TIME_MARK = "\x00TIME\x00"


def local_time(when: datetime | float | None) -> datetime:
    if when is None:
        return datetime.now().astimezone()
    if isinstance(when, (int, float)):
        return datetime.fromtimestamp(when).astimezone()
    # An aware time keeps its own offset; a naive one is taken as this machine's local time.
    return when if when.tzinfo is not None else when.astimezone()


def stamp_text(
    student: str,
    host: str,
    when: datetime | float | None,
    step_id: str,
    version: str,
    lang: str = "fr",
    seal: str | None = None,
) -> str:
    """The line shown on screen, and so in the screenshot, that ties it to one student.

    ``seal`` (see ``seal_for``) ties the picture to the evidence record stored beside it.
    """
    line = _stamp(student, host, f"{local_time(when):%Y-%m-%d %H:%M:%S}", step_id, version, lang)
    return f"{line} · {t('stamp.seal', lang)} {seal}" if seal else line


def _stamp(student: str, host: str, clock: str, step_id: str, version: str, lang: str) -> str:
    return t("stamp.line", lang, student=clean_field(student), host=clean_field(host),
             time=clock, step=step_id, version=version)


def svg_text_content(svg: str) -> str:
    """The visible text of an SVG screenshot, whitespace removed.

    Rich (Textual's exporter) writes one ``<text>`` per run of one style, HTML-escaped, with
    spaces as ``&#160;`` and runs of spaces left out: only the order of the visible
    characters survives, so that is what is compared.
    """
    import html  # a grader's, not the app's first screen (its entities take ~3 ms)

    runs = re.findall(r"<text\b[^>]*>(.*?)</text>", svg, flags=re.S)
    text = "".join(html.unescape(re.sub(r"<[^>]*>", "", run)) for run in runs)
    return squash(text)


def squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


def stamp_times(svg: str, student: str, host: str, step_id: str, version: str) -> list[str]:
    """The times (``YYYY-MM-DD HH:MM:SS``) of the stamps the SVG shows for these values
    (French or English): empty when it shows none."""
    visible = svg_text_content(svg)
    times: list[str] = []
    for lang in ("fr", "en"):
        line = squash(_stamp(student, host, _TIME_MARK, step_id, version, lang))
        before, _, after = line.partition(_TIME_MARK)
        for found in re.finditer(re.escape(before) + f"({_TIME_RE})" + re.escape(after),
                                 visible):
            shown = found.group(1)
            times.append(f"{shown[:10]} {shown[10:]}")
    return times


def stamp_found(svg: str, student: str, host: str, step_id: str, version: str) -> bool:
    """Whether the SVG shows the stamp for these values (any time, French or English)."""
    return bool(stamp_times(svg, student, host, step_id, version))


def stamp_clock(iso: object) -> str | None:
    """A manifest's time (ISO 8601) as the stamp writes it; None when it is not one."""
    if not isinstance(iso, str):
        return None
    try:
        return f"{datetime.fromisoformat(iso):%Y-%m-%d %H:%M:%S}"
    except ValueError:
        return None


def watermark_text(lang: str) -> str:
    """The band a demo run shows on screen, and so in each of its pictures."""
    return t("demo.watermark", lang)


def watermark_found(svg: str) -> bool:
    """Whether an SVG shows the demo's watermark (in either language)."""
    visible = svg_text_content(svg)
    return any(squash(watermark_text(lang)) in visible for lang in ("fr", "en"))
