"""The steps' evidence rules on plain records, and the submission folder a grader verifies:
stamped screenshots, manifest, report, progress, and ``tcp-observatory verify``."""

from __future__ import annotations

import html
import io
import json
import os
import subprocess
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from app_support import drawn
from rich.console import Console, RenderableType
from rich.text import Text
from support import ROOT, conn, console_script, single_line

from tcp_observatory.lab import __version__
from tcp_observatory.lab.errors import LabError
from tcp_observatory.lab.grading.manifest import (
    MANIFEST,
    load_manifest,
    save_answer,
    save_screenshot,
)
from tcp_observatory.lab.grading.record import connection_from_json, seal_for
from tcp_observatory.lab.grading.report import write_report
from tcp_observatory.lab.grading.stamp import stamp_found, stamp_text
from tcp_observatory.lab.grading.verify import verify
from tcp_observatory.lab.guide.evidence import Message, check_evidence
from tcp_observatory.lab.guide.progress import Progress, load_progress, save_progress
from tcp_observatory.lab.guide.steps import STEP_IDS, STEPS, get_step
from tcp_observatory.lab.observe.model import Connection, Endpoint, RoleKind, Snapshot, Transition

PORT = 9500
SERVER = Endpoint("127.0.0.1", PORT)
C1, C2 = Endpoint("127.0.0.1", 50001), Endpoint("127.0.0.1", 50002)
PID = 4242
STUDENT, HOST = "Ana Dupont-Lévy", "pc-b204"
WHEN = datetime(2026, 11, 24, 9, 3, 12, tzinfo=timezone(timedelta(hours=1)))


# -- plain records -------------------------------------------------------------------------
def row(local: Endpoint, remote: Endpoint | None, state: str, kind: RoleKind,
        n: int | None = None, *, server: bool = False, pid: int | None = PID) -> Connection:
    """A row as the kernel's dump gives it, queues empty and a keepalive timer running."""
    return conn(local, remote, state, kind, n, server_side=server, pid=pid,
                process="python3" if pid else None, recv_q=0, send_q=0, timer="keepalive",
                timer_left=1.5)


LISTEN = row(SERVER, None, "LISTEN", RoleKind.LISTENER)


def served(c: Endpoint, n: int, state: str = "ESTABLISHED") -> Connection:
    return row(SERVER, c, state, RoleKind.SERVER, n, server=True)


def client(c: Endpoint, n: int, state: str = "ESTABLISHED", kind: RoleKind = RoleKind.CLIENT,
           pid: int | None = PID) -> Connection:
    return row(c, SERVER, state, kind, n, pid=pid)


# What each step looks like when done: (rows, messages, mode)
DONE: dict[str, tuple[list[Connection], list[Message], str]] = {
    "p1-q1": ([LISTEN, served(C1, 1), client(C1, 1)], [(1, "Bonjour")], "single"),
    "p1-q2": ([LISTEN, served(C1, 1, "CLOSE_WAIT"),
               client(C1, 1, "FIN_WAIT_2", RoleKind.ORPHANED, pid=None)],
              [(1, "Bonjour"), (1, "Fin")], "single"),
    "p1-q3": ([LISTEN, served(C1, 1), client(C1, 1),
               # The waiting client's message waits in the queued end's Recv-Q.
               row(SERVER, C2, "ESTABLISHED", RoleKind.QUEUED, 2, server=True,
                   pid=None)._replace(recv_q=20),
               client(C2, 2)],
              [(1, "Bonjour du client 1")], "single"),
    "p2-q1": ([LISTEN, served(C1, 1), client(C1, 1), served(C2, 2), client(C2, 2)],
              [(1, "un"), (2, "deux")], "threaded"),
    "p2-fin": ([LISTEN, client(C1, 1, "TIME_WAIT", RoleKind.ORPHANED, pid=None)],
               [(1, "Bonjour"), (1, "Fin")], "threaded"),
}


# Someone else's traffic, seen with the "all connections" filter: never stored.
BROWSER = row(Endpoint("192.168.1.2", 62558), Endpoint("93.186.135.58", 443), "ESTABLISHED",
              RoleKind.OTHER, pid=777)


def snapshot_of(step_id: str) -> Snapshot:
    return Snapshot(1_700_000_000.0, (*DONE[step_id][0], BROWSER), "psutil")


# -- steps as data ---------------------------------------------------------------------------
def test_steps_are_the_lab_questions_in_order() -> None:
    assert STEP_IDS == ("p1-q1", "p1-q2", "p1-q3", "p2-q1", "p2-fin")
    for step in STEPS:
        for what in ("title", "todo", "question", "evidence"):
            fr, en = step.text(what, "fr"), step.text(what, "en")
            assert fr and en and fr != en, (step.id, what)
        assert step.setup[0] == ("mode", step.mode)
    with pytest.raises(LabError):
        get_step("p9-q9")


@pytest.mark.parametrize("step_id", STEP_IDS)
def test_done_step_meets_its_evidence_and_no_other(step_id: str) -> None:
    rows, messages, mode = DONE[step_id]
    ev = check_evidence(step_id, Snapshot(0.0, tuple(rows), "test"), messages, mode)
    assert ev.met and ev.found and not ev.missing
    # The same data rebuilt from JSON gives the same verdict.
    stored = [connection_from_json(json.loads(json.dumps(c.to_json()))) for c in rows]
    assert stored == rows
    assert check_evidence(step_id, stored, messages, mode).met
    # ... and no other step, except p1-q1 inside p1-q3 (one client served, as in p1-q1).
    also = {s for s in STEP_IDS if s != step_id and check_evidence(s, rows, messages, mode).met}
    assert also == ({"p1-q1"} if step_id == "p1-q3" else set())


def test_evidence_negative_cases() -> None:
    rows, messages, _ = DONE["p1-q1"]
    wrong_mode = check_evidence("p1-q1", rows, messages, "threaded", lang="en")
    assert not wrong_mode.met and any("single" in m for m in wrong_mode.missing)
    assert not check_evidence("p1-q1", rows, [], "single").met  # nothing received yet
    # The queued client's message reached the server: that is not what p1-q3 shows.
    rows, messages, mode = DONE["p1-q3"]
    assert not check_evidence("p1-q3", rows, [*messages, (2, "hé")], mode).met
    # A TIME_WAIT whose client did not send "Fin" during the step (left from earlier).
    rows, _, mode = DONE["p2-fin"]
    assert not check_evidence("p2-fin", rows, [(3, "Fin")], mode).met
    assert not check_evidence("p2-fin", rows, [], mode).met
    # The server's end in TIME_WAIT is not the client's.
    server_tw = [LISTEN, row(SERVER, C1, "TIME_WAIT", RoleKind.ORPHANED, 1, server=True,
                             pid=None)]
    assert not check_evidence("p2-fin", server_tw, [(1, "Fin")], mode).met


def test_unknown_sender_counts_for_a_rule_but_never_against_it() -> None:
    rows, _, mode = DONE["p1-q3"]
    assert check_evidence("p1-q3", rows, [(None, "Bonjour")], mode).met
    rows, _, mode = DONE["p2-fin"]
    assert check_evidence("p2-fin", rows, [(None, "Fin")], mode).met


# -- stamp -----------------------------------------------------------------------------------
def test_stamp_text_in_both_languages() -> None:
    assert stamp_text(STUDENT, HOST, WHEN, "p1-q2", "0.1.0") == (
        "Élève\u00a0: Ana Dupont-Lévy · Hôte\u00a0: pc-b204 · 2026-11-24 09:03:12 · Étape p1-q2 · "
        "TCP Observatory 0.1.0")
    assert stamp_text("  Ana\x1b[31m\nDupont ", HOST, WHEN, "p2-fin", "0.1.0", "en") == (
        "Student: Ana [31m Dupont · Host: pc-b204 · 2026-11-24 09:03:12 · Step p2-fin · "
        "TCP Observatory 0.1.0")


def rich_svg(*lines: RenderableType, width: int = 160) -> str:
    """An SVG exported the way Textual exports a screenshot (Rich's export_svg)."""
    console = Console(record=True, width=width, file=io.StringIO(), color_system="truecolor")
    for line in lines:
        console.print(line)
    return console.export_svg(title="TCP Observatory")


def screen_svg(step_id: str, *, student: str = STUDENT, lang: str = "fr",
               seal: str | None = None, when: datetime = WHEN) -> str:
    """A step's picture: the stamp, then the step's table as the app draws it (its rows
    from ``DONE``), which ``verify`` reads back and compares with the record."""
    from tcp_observatory.tui.widgets.evidence_view import scene_table

    stamp = stamp_text(student, HOST, when, step_id, __version__, lang, seal)
    # Styled in pieces, as a footer would be: Rich leaves out the runs that are only spaces.
    head, _, rest = stamp.partition(" · ")
    return rich_svg("TCP Observatory — <étapes> & \"connexions\"",
                    Text.assemble((head, "bold reverse"), " ", ("· ", "dim"), (rest, "italic")),
                    scene_table(DONE[step_id][0], get_step(step_id).reads, lang, 160))


def test_stamp_found_in_a_rich_svg_either_language() -> None:
    for lang in ("fr", "en"):
        svg = screen_svg("p1-q2", lang=lang)
        assert "&#160;" in svg  # spaces as Rich writes them
        assert stamp_found(svg, STUDENT, HOST, "p1-q2", __version__)
        assert not stamp_found(svg, STUDENT, HOST, "p1-q3", __version__)
        assert not stamp_found(svg, "Bob", HOST, "p1-q2", __version__)
        assert not stamp_found(svg, STUDENT, "pc-b205", "p1-q2", __version__)
        assert not stamp_found(svg, STUDENT, HOST, "p1-q2", "9.9.9")
    names = 'Zoé <O\'Brien> & "Co"'
    assert stamp_found(screen_svg("p2-q1", student=names), names, HOST, "p2-q1", __version__)
    # A stamp folded over two lines of a narrow screen is still found.
    narrow = rich_svg(stamp_text(STUDENT, HOST, WHEN, "p1-q1", __version__), width=40)
    assert stamp_found(narrow, STUDENT, HOST, "p1-q1", __version__)


@pytest.mark.parametrize("width", [60, 80, 160])
async def test_stamp_found_in_a_textual_screenshot(width: int) -> None:
    """Textual's own export (wrapped on a narrow screen), with characters it must escape."""
    from textual.app import App, ComposeResult
    from textual.widgets import Footer, Header, Static

    name = "Zoé <O'Brien> & \"Co\""
    stamp = stamp_text(name, HOST, WHEN, "p1-q2", __version__)

    class Stamped(App[None]):
        CSS = "#stamp { height: auto; }"

        def compose(self) -> ComposeResult:
            yield Header()
            yield Static("Étape p1-q2 · p1-q3 · p2-q1", markup=False)
            yield Static(stamp, id="stamp", markup=False)
            yield Footer()

    app = Stamped()
    async with app.run_test(size=(width, 24)) as pilot:
        await drawn(pilot)
        svg = app.export_screenshot()
    assert stamp_found(svg, name, HOST, "p1-q2", __version__)
    assert not stamp_found(svg, name, HOST, "p1-q3", __version__)


# -- the bundle ------------------------------------------------------------------------------
def transitions_of(step_id: str) -> list[Transition]:
    return [Transition(1_700_000_000.0, c, None, c.state, None)
            for c in (*DONE[step_id][0], BROWSER)]


def save(folder: Path, step_id: str, *, answer: str = "", when: datetime = WHEN,
         svg: str | None = None) -> Path:
    _rows, messages, mode = DONE[step_id]
    seal = seal_for(step_id, snapshot_of(step_id), messages, mode)
    saved = save_screenshot(
        folder, step_id, svg if svg is not None else screen_svg(step_id, seal=seal, when=when),
        snapshot=snapshot_of(step_id), transitions=transitions_of(step_id), answer=answer,
        student=STUDENT, host=HOST, version=__version__, now=when, messages=messages,
        mode=mode,
    )
    assert saved.evidence.met
    return saved.path


def student_bundle(folder: Path) -> Path:
    """A student's complete submission, every step evidenced and stamped."""
    for i, step_id in enumerate(STEP_IDS):
        save(folder, step_id, answer=f"réponse {step_id}", when=WHEN + timedelta(minutes=i))
    return folder


@pytest.fixture
def bundle(tmp_path: Path) -> Path:
    return student_bundle(tmp_path / "screenshots")


def test_manifest_records_each_screenshot(bundle: Path) -> None:
    manifest = load_manifest(bundle)
    assert manifest["student"] == STUDENT and manifest["host"] == HOST
    assert manifest["version"] == __version__
    assert manifest["created"] == "2026-11-24T09:03:12+01:00"
    assert manifest["updated"] == "2026-11-24T09:07:12+01:00"
    entries = manifest["screenshots"]
    assert [e["step"] for e in entries] == list(STEP_IDS)
    first = entries[0]
    assert first["file"] == "p1-q1-20261124-090312.svg"
    assert first["time"] == "2026-11-24T09:03:12+01:00"
    assert first["evidence"]["met"] is True
    assert first["answer"] == "réponse p1-q1"
    assert [connection_from_json(c) for c in first["snapshot"]] == DONE["p1-q1"][0]
    assert len(first["transitions"]) == len(DONE["p1-q1"][0])
    assert "93.186.135.58" not in (bundle / MANIFEST).read_text(encoding="utf-8")
    assert sorted(p.name for p in bundle.iterdir()) == sorted(
        [MANIFEST] + [e["file"] for e in entries])


def test_a_good_bundle_verifies(bundle: Path) -> None:
    result = verify(bundle)
    assert result.ok, result.to_json()
    assert all(r.present and r.intact and r.evidence and r.stamped for r in result.rows)
    assert result.extra_files == [] and result.problems == []


def test_same_second_never_overwrites(tmp_path: Path) -> None:
    first = save(tmp_path, "p1-q1")
    second = save(tmp_path, "p1-q1")
    third = save(tmp_path, "p1-q1")
    assert (first.name, second.name, third.name) == (
        "p1-q1-20261124-090312.svg", "p1-q1-20261124-090312-2.svg", "p1-q1-20261124-090312-3.svg")
    assert len(load_manifest(tmp_path)["screenshots"]) == 3


def test_one_edited_byte_is_caught(bundle: Path) -> None:
    svg = next(bundle.glob("p1-q2-*.svg"))
    data = bytearray(svg.read_bytes())
    at = data.index(b"Bonjour") if b"Bonjour" in data else len(data) // 2
    data[at] ^= 0x01
    svg.write_bytes(bytes(data))
    result = verify(bundle, "en")
    assert not result.ok
    row = {r.step: r for r in result.rows}["p1-q2"]
    assert row.present and not row.intact
    assert all(r.intact for r in result.rows if r.step != "p1-q2")
    assert any("sha256" in p for p in result.problems)


def test_missing_step_or_file_is_caught(bundle: Path) -> None:
    next(bundle.glob("p1-q3-*.svg")).unlink()
    result = verify(bundle, "en")
    assert not result.ok
    assert not {r.step: r for r in result.rows}["p1-q3"].present
    assert any("missing" in p for p in result.problems)


def test_bundle_without_a_step_is_rejected(tmp_path: Path) -> None:
    for step_id in STEP_IDS[:-1]:
        save(tmp_path, step_id)
    result = verify(tmp_path, "en")
    assert not result.ok
    assert [r.step for r in result.rows if not r.present] == ["p2-fin"]


def test_evidence_is_rechecked_from_the_stored_snapshot(bundle: Path) -> None:
    manifest = json.loads((bundle / MANIFEST).read_text(encoding="utf-8"))
    entry = next(e for e in manifest["screenshots"] if e["step"] == "p1-q2")
    for c in entry["snapshot"]:
        if c["state"] == "CLOSE_WAIT":
            c["state"] = "ESTABLISHED"
    entry["evidence"] = {"met": True, "found": [], "missing": []}  # a claim, not a proof
    (bundle / MANIFEST).write_text(json.dumps(manifest), encoding="utf-8")
    result = verify(bundle, "en")
    row = {r.step: r for r in result.rows}["p1-q2"]
    assert row.intact and not row.evidence and not result.ok


def test_unstamped_screenshot_is_rejected(tmp_path: Path) -> None:
    for step_id in STEP_IDS:
        save(tmp_path, step_id, svg=rich_svg("no stamp here") if step_id == "p2-q1" else None)
    result = verify(tmp_path, "en")
    assert not result.ok
    assert [r.step for r in result.rows if not r.stamped] == ["p2-q1"]


def test_extra_files_are_reported_not_fatal(bundle: Path) -> None:
    (bundle / "notes.txt").write_text("brouillon", encoding="utf-8")
    save_progress(bundle, Progress(student=STUDENT))
    write_report(bundle)
    result = verify(bundle)
    assert result.ok
    assert result.extra_files == ["notes.txt"]


def test_unusable_folder_is_one_clear_error(tmp_path: Path) -> None:
    with pytest.raises(LabError, match="does not exist"):
        verify(tmp_path / "nowhere", "en")
    with pytest.raises(LabError, match=r"no manifest\.json"):
        verify(tmp_path, "en")
    (tmp_path / MANIFEST).write_text("{ not json", encoding="utf-8")
    with pytest.raises(LabError, match="not JSON"):
        verify(tmp_path, "en")
    (tmp_path / MANIFEST).write_text("[1, 2]", encoding="utf-8")
    with pytest.raises(LabError, match="not shaped like"):
        verify(tmp_path, "en")


def test_manifest_file_names_cannot_escape_the_folder(bundle: Path) -> None:
    manifest = json.loads((bundle / MANIFEST).read_text(encoding="utf-8"))
    manifest["screenshots"][0]["file"] = "../../etc/passwd"
    (bundle / MANIFEST).write_text(json.dumps(manifest), encoding="utf-8")
    result = verify(bundle, "en")
    assert not result.ok and any("Refused file name" in p for p in result.problems)
    write_report(bundle, "en")  # and the report does not embed it


def test_report_is_one_page_with_answers_escaped(bundle: Path) -> None:
    hostile = "<script>alert(1)</script> & <img src=x onerror=alert(2)>"
    save_answer(bundle, "p1-q2", hostile)
    page = write_report(bundle, "en").read_text(encoding="utf-8")
    assert "<script" not in page and "onerror=alert(2)>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; &lt;img src=x onerror=alert(2)&gt;" \
        in page
    for step in STEPS:
        assert f'id="{step.id}"' in page
        assert html.escape(step.text("question", "fr")) in page  # French
        assert html.escape(step.text("question", "en")) in page  # English
    assert page.count("data:image/svg+xml;base64,") == len(STEPS)
    # Written as the app writes it: it vouches for nothing; verify's own says the verdict.
    assert STUDENT in page and HOST in page and "NOT VERIFIED" in page
    assert "ACCEPTED" not in page
    checked = write_report(bundle, "en", verify(bundle, "en")).read_text(encoding="utf-8")
    assert "ACCEPTED" in checked and "NOT VERIFIED" not in checked
    assert "http://" not in page.replace("http://www.w3.org", "")  # offline: nothing fetched
    # The answer stays with the screenshots: the manifest keeps it.
    assert load_manifest(bundle)["answers"]["p1-q2"] == hostile


def test_progress_resumes_after_a_restart(tmp_path: Path) -> None:
    assert load_progress(tmp_path) == Progress()  # nothing saved yet
    before = Progress(step="p1-q3", student=STUDENT, answers={"p1-q1": "ESTABLISHED"})
    before.mark_met("p1-q2")
    before.mark_met("p1-q1")
    save_progress(tmp_path / "screenshots", before)
    after = load_progress(tmp_path / "screenshots")  # a new process would read the same file
    assert after == before and after.met == ["p1-q1", "p1-q2"]
    assert [p.name for p in (tmp_path / "screenshots").iterdir()] == ["progress.json"]


@pytest.mark.parametrize("content", [b"{ broken", b"\xff\xfe", b"[]",
                                     b'{"step": "p7", "met": 3, "answers": [], "student": 5}'])
def test_damaged_progress_gives_the_defaults(tmp_path: Path, content: bytes) -> None:
    (tmp_path / "progress.json").write_bytes(content)
    assert load_progress(tmp_path) == Progress()


def test_unwritable_folder_is_a_lab_error_and_leaves_nothing(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder", encoding="utf-8")
    folder = blocker / "screenshots"  # under a regular file: fails even for root
    with pytest.raises(LabError) as err:
        save(folder, "p1-q1")
    assert "Cannot write" in str(err.value) or "Impossible" in str(err.value)
    assert "\n" not in str(err.value)
    with pytest.raises(LabError):
        save_progress(folder, Progress())
    with pytest.raises(LabError):
        save_answer(folder, "p1-q1", "x")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a-file"]


def test_failed_manifest_write_removes_the_screenshot(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    save(tmp_path, "p1-q1")
    before = sorted(p.name for p in tmp_path.iterdir())

    def refuse(path: Path, data: bytes, lang: str = "fr") -> None:
        raise LabError("Cannot write: disk full.")

    monkeypatch.setattr("tcp_observatory.lab.grading.manifest.write_atomic", refuse)
    with pytest.raises(LabError, match="disk full"):
        save(tmp_path, "p1-q2")
    assert sorted(p.name for p in tmp_path.iterdir()) == before


def test_no_student_name_no_screenshot(tmp_path: Path) -> None:
    with pytest.raises(LabError):
        save_screenshot(tmp_path, "p1-q1", "<svg/>", snapshot=snapshot_of("p1-q1"),
                        student=" \t", host=HOST, version=__version__, now=WHEN)
    assert list(tmp_path.iterdir()) == []


# -- tcp-observatory verify ----------------------------------------------------------------
def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "LANG": "en_US.UTF-8"}
    env.pop("LC_ALL", None)
    return subprocess.run([*console_script(), "verify", *args], capture_output=True, text=True,
                          encoding="utf-8", cwd=ROOT, env=env, timeout=60)


def test_verify_command_accepts_a_good_bundle(bundle: Path) -> None:
    done = run_cli(str(bundle), "--lang", "en")
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.strip().splitlines()
    assert lines[-1].startswith("ACCEPTED")
    for step_id in STEP_IDS:
        assert any(line.split()[:5] == [step_id, "yes", "yes", "yes", "yes"] for line in lines)
    as_json = json.loads(run_cli(str(bundle), "--json").stdout)
    assert as_json["ok"] is True and len(as_json["steps"]) == len(STEP_IDS)


def test_verify_command_rejects_a_tampered_bundle(bundle: Path) -> None:
    svg = next(bundle.glob("p2-q1-*.svg"))
    svg.write_bytes(svg.read_bytes().replace(b"</svg>", b"</svg> "))
    done = run_cli(str(bundle), "--lang", "fr")
    assert done.returncode == 1
    last = done.stdout.strip().splitlines()[-1]
    assert last.startswith("REFUSÉ") and "modifié" in last
    assert "Traceback" not in done.stderr


def test_verify_command_on_a_missing_folder_says_so_in_one_line(tmp_path: Path) -> None:
    done = run_cli(str(tmp_path / "nowhere"), "--lang", "en")
    assert done.returncode == 2
    line = single_line(done.stderr.splitlines())
    assert "does not exist" in line and "nowhere" in line
    assert done.stdout == ""


# -- what verify must not be fooled by (no hash recomputed in any of these) -----------------
def _edit_manifest(folder: Path, change: Callable[[dict[str, Any]], object]) -> None:
    path = folder / MANIFEST
    manifest = json.loads(path.read_text(encoding="utf-8"))
    change(manifest)
    path.write_text(json.dumps(manifest), encoding="utf-8")


def test_an_edited_evidence_record_breaks_the_seal(bundle: Path) -> None:
    assert verify(bundle, "en").ok

    def forge(m: dict) -> None:  # claim a state the picture does not show
        entry = next(e for e in m["screenshots"] if e["step"] == "p1-q2")
        entry["snapshot"][0]["state"] = "TIME_WAIT"

    _edit_manifest(bundle, forge)
    result = verify(bundle, "en")
    assert not result.ok
    assert any("seal" in p for p in result.problems)


def test_someone_elses_folder_renamed_is_rejected(bundle: Path) -> None:
    _edit_manifest(bundle, lambda m: m.update(student="Mallory Copy"))
    result = verify(bundle, "en")
    assert not result.ok
    assert any("Mallory" not in p and "in the name of" in p for p in result.problems)
    assert not any(r.stamped for r in result.rows)  # the pictures name the real student


def test_one_picture_for_two_steps_is_rejected(bundle: Path) -> None:
    def reuse(m: dict) -> None:
        shots = m["screenshots"]
        shots.append({**shots[0], "step": "p1-q2"})

    _edit_manifest(bundle, reuse)
    result = verify(bundle, "en")
    assert not result.ok and any("same picture" in p for p in result.problems)


@pytest.mark.parametrize("field,value", [("messages", 5), ("step", ["x"]), ("snapshot", "x"),
                                         ("port", {"a": 1}), ("sha256", None)])
def test_odd_shapes_in_the_manifest_are_rejected_without_a_traceback(
        bundle: Path, field: str, value: object) -> None:
    _edit_manifest(bundle, lambda m: m["screenshots"][1].__setitem__(field, value))
    assert not verify(bundle, "en").ok
    done = subprocess.run([*console_script(), "verify", str(bundle), str(bundle), "--lang", "en"],
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode in (1, 2) and "Traceback" not in done.stderr
    assert done.stdout.strip().splitlines()[-1] == "0 of 2 submissions accepted."
