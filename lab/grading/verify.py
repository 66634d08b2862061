"""``tcp-observatory verify``'s check of one submission, from its own files. Every step
present, every file matching its hash, the stamp visible in each picture, the evidence
re-checked from the stored record, the record matching the seal in its picture, and the
picture showing that record (its table read back, cell by cell; its stamp's time).

This catches accidents, edits and mix-ups, not a determined forger: nothing is signed.
Copies show only across a class (``copies``); the command itself is ``grade``."""

from __future__ import annotations

import contextlib
import hashlib
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tcp_observatory.lab.errors import LabError
from tcp_observatory.lab.files import reason_of
from tcp_observatory.lab.grading.manifest import MANIFEST, REPORT, answer_digest, load_manifest
from tcp_observatory.lab.grading.picture import (
    Difference,
    first_difference,
    header_label,
    row_order,
)
from tcp_observatory.lab.grading.record import evidence_of_entry, seal_of_entry, snapshot_from_entry
from tcp_observatory.lab.grading.stamp import (
    squash,
    stamp_clock,
    stamp_times,
    svg_text_content,
    watermark_found,
)
from tcp_observatory.lab.guide.evidence import Evidence
from tcp_observatory.lab.guide.progress import PROGRESS
from tcp_observatory.lab.guide.steps import STEP_IDS, get_step
from tcp_observatory.lab.i18n import LANGS, t
from tcp_observatory.lab.observe.model import Connection
from tcp_observatory.lab.observe.roles import describe_role
from tcp_observatory.lab.text import printable


@dataclass
class ShotCheck:
    file: str
    step: str
    time: str
    present: bool = False
    intact: bool = False
    stamped: bool = False
    evidence: Evidence | None = None  # None when the stored data could not be read
    problem: str = ""
    demo: bool = False  # made by the app's demo (its record says so, or its watermark shows)
    shows: bool = False  # the picture shows the sealed record's rows and the stamp's time

    @property
    def good(self) -> bool:
        return (self.intact and self.stamped and self.shows and self.evidence is not None
                and self.evidence.met)

    def to_json(self) -> dict[str, Any]:
        return {"file": self.file, "step": self.step, "time": self.time,
                "present": self.present, "intact": self.intact, "stamped": self.stamped,
                "shows_record": self.shows,
                "evidence": self.evidence.to_json() if self.evidence else None,
                "problem": self.problem}


@dataclass
class StepRow:
    step: str
    shots: list[ShotCheck] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # those of the step's screenshots

    @property
    def present(self) -> bool:
        return any(s.present for s in self.shots)

    @property
    def intact(self) -> bool:
        """Every screenshot of the step is there and unchanged."""
        return self.present and all(s.intact for s in self.shots)

    @property
    def evidence(self) -> bool:
        return any(s.intact and s.evidence is not None and s.evidence.met for s in self.shots)

    @property
    def stamped(self) -> bool:
        return any(s.intact and s.stamped for s in self.shots)

    @property
    def shows(self) -> bool:
        return any(s.intact and s.shows for s in self.shots)

    @property
    def ok(self) -> bool:
        return self.intact and any(s.good for s in self.shots)

    @property
    def grade(self) -> str:
        """For a gradebook: ``met``, ``missing`` (no picture) or ``refused``."""
        if not self.present:
            return "missing"
        return "met" if self.ok and not self.problems else "refused"

    def to_json(self) -> dict[str, Any]:
        return {"step": self.step, "present": self.present, "intact": self.intact,
                "evidence": self.evidence, "stamped": self.stamped,
                "shows_record": self.shows, "ok": self.ok, "grade": self.grade,
                "problems": self.problems, "screenshots": [s.to_json() for s in self.shots]}


@dataclass
class VerifyResult:
    folder: Path
    rows: list[StepRow]
    problems: list[str]  # each makes the submission fail
    extra_files: list[str]  # reported, not fatal
    notes: list[str]  # reported, not fatal
    manifest: dict[str, Any]
    demo: bool = False  # the app's demo: never a student's submission, intact or not
    copies: list[str] = field(default_factory=list)  # folders sharing its kernel evidence
    answer_notes: list[str] = field(default_factory=list)  # answers edited by hand (in notes)

    @property
    def ok(self) -> bool:
        return not self.demo and not self.problems and all(r.ok for r in self.rows)

    def step_problem(self, step: str, problem: str) -> None:
        """A problem of one step's screenshot: it refuses the step and the submission."""
        self.problems.append(problem)
        for row in self.rows:
            if row.step == step:
                row.problems.append(problem)

    @property
    def intact_demo(self) -> bool:
        return self.demo and not self.problems and all(r.ok for r in self.rows)

    def to_json(self) -> dict[str, Any]:
        m = self.manifest
        return {"folder": str(self.folder), "ok": self.ok,
                "student": m.get("student"), "host": m.get("host"), "version": m.get("version"),
                "created": m.get("created"), "updated": m.get("updated"),
                "steps": [r.to_json() for r in self.rows], "problems": self.problems,
                "extra_files": self.extra_files, "notes": self.notes, "demo": self.demo,
                "copies": self.copies}


def safe_name(name: object) -> bool:
    return (isinstance(name, str) and name not in ("", ".", "..") and "/" not in name
            and "\\" not in name and ":" not in name and "\x00" not in name)


def _check_shot(folder: Path, entry: dict[str, Any], student: object,
                lang: str) -> ShotCheck:
    name = entry.get("file")
    shot = ShotCheck(file=str(name), step=str(entry.get("step")), time=str(entry.get("time", "")))
    if not safe_name(name):
        shot.problem = t("verify.bad_name", lang, file=printable(str(name), 80))
        return shot
    path = folder / str(name)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        shot.problem = t("verify.missing_file", lang, file=name)
        return shot
    except OSError as exc:
        shot.problem = t("verify.unreadable_file", lang, file=name, reason=reason_of(exc))
        return shot
    shot.present = True
    shot.intact = hashlib.sha256(data).hexdigest() == entry.get("sha256")
    if not shot.intact:
        shot.problem = t("verify.tampered", lang, file=name)
    svg = data.decode("utf-8", errors="replace")
    origin = entry.get("origin")
    shot.demo = watermark_found(svg) or (isinstance(origin, dict) and origin.get("demo") is True)
    # The stamp must name the submission's student, not whoever made the picture first.
    times = stamp_times(svg, str(student), str(entry.get("host", "")), shot.step,
                        str(entry.get("version", "")))
    shot.stamped = bool(times)
    try:
        shot.evidence = evidence_of_entry(entry, lang)
        seal = seal_of_entry(entry)
        rows = snapshot_from_entry(entry).connections
    except (ValueError, TypeError, LabError) as exc:
        shot.evidence = None
        shot.problem = shot.problem or t("verify.bad_record", lang, file=name, reason=exc)
        return shot
    if entry.get("seal") != seal or squash(seal) not in svg_text_content(svg):
        # The record beside the picture is not the one the picture was sealed with.
        shot.evidence = Evidence(False, [], [t("verify.seal", lang)])
        shot.problem = shot.problem or t("verify.seal_broken", lang, file=name)
        return shot
    # The seal ties the record to the picture's stamp; what the picture shows must be
    # that record too (a picture edited, its hash redone, keeps its seal).
    differs = _picture_differs(svg, entry, rows, times, lang)
    shot.shows = differs is None
    if differs is not None and shot.intact:
        shot.problem = shot.problem or t("verify.pic.differs", lang, file=name,
                                         step=shot.step, what=differs)
    return shot


def _picture_differs(svg: str, entry: dict[str, Any], rows: Sequence[Connection],
                     times: list[str], lang: str) -> str | None:
    """The first thing the picture shows that its record does not say, in words (None
    when it shows the record: its stamp's time, then each row, cell by cell)."""
    expected = stamp_clock(entry.get("time"))
    if times and expected not in times:
        return t("verify.pic.stamp_time", lang, shown=times[0], expected=expected or "?")
    step = get_step(str(entry.get("step")))
    shown_lang = entry.get("lang")
    langs = [shown_lang] if shown_lang in LANGS else list(LANGS)
    diff: Difference | None = None
    for pic_lang in langs:  # the picture is in the language it was taken in
        diff = first_difference(svg, rows, step.reads, pic_lang)
        if diff is None or diff.row:
            break
    if diff is None:
        return None
    if not diff.row:
        return t("verify.pic.no_table", lang)
    column = " / ".join(header_label(diff.column, lang).split("\n"))
    ordered = sorted(rows, key=row_order)
    who = (describe_role(ordered[diff.row - 1].role, lang) if diff.row <= len(ordered)
           else "?")
    if not diff.shown:
        return t("verify.pic.row_missing", lang, row=diff.row, who=who, column=column,
                 expected=diff.expected)
    if not diff.expected:
        return t("verify.pic.row_extra", lang, row=diff.row, column=column,
                 shown=printable(diff.shown, 80))
    return t("verify.pic.cell", lang, row=diff.row, who=who, column=column,
             shown=printable(diff.shown, 80), expected=diff.expected)


def verify(folder: str | os.PathLike[str], lang: str = "fr") -> VerifyResult:
    """Check a submission folder; LabError when it has no usable manifest."""
    path = Path(folder)
    manifest = load_manifest(path, lang)
    result = VerifyResult(path, [StepRow(step_id) for step_id in STEP_IDS], [], [], [],
                          manifest, manifest.get("demo") is True)
    rows = {r.step: r for r in result.rows}
    problems, notes = result.problems, result.notes
    referenced: set[str] = set()
    seen_digests: dict[str, str] = {}
    student = manifest.get("student")
    for entry in manifest["screenshots"]:
        if not isinstance(entry, dict):
            problems.append(t("verify.bad_entry", lang))
            continue
        name = entry.get("file")
        if isinstance(name, str):
            referenced.add(name)
        step_id = entry.get("step")
        if not isinstance(step_id, str) or step_id not in rows:
            notes.append(t("verify.unknown_step", lang, file=printable(str(name), 80),
                           step=printable(str(step_id), 40)))
            continue
        try:
            shot = _check_shot(path, entry, student, lang)
        except Exception as exc:  # a hand-edited entry of any shape: rejected, never a crash
            result.step_problem(step_id, t("verify.bad_record", lang,
                                           file=printable(str(name), 80),
                                           reason=printable(repr(exc), 200)))
            continue
        rows[step_id].shots.append(shot)
        if shot.problem:
            result.step_problem(step_id, shot.problem)
        if shot.demo and not result.demo:
            # A demo picture handed in as a student's (the flag removed, the hashes redone).
            result.step_problem(step_id, t("verify.demo_picture", lang, file=name))
        result.demo = result.demo or shot.demo
        for problem in _origin_problems(entry, str(name), lang):
            result.step_problem(step_id, problem)
        notes.extend(_origin_notes(entry, str(name), lang))
        if entry.get("student") != student:
            # Someone else's screenshot in this submission: never acceptable.
            result.step_problem(step_id, t("verify.other_student", lang, file=name,
                                           student=printable(str(entry.get("student")), 60)))
        digest = entry.get("sha256")
        if isinstance(digest, str) and digest in seen_digests:
            result.step_problem(step_id, t("verify.reused", lang, file=name,
                                           other=seen_digests[digest]))
        elif isinstance(digest, str):
            seen_digests[digest] = str(name)
    result.answer_notes = _answer_notes(manifest, lang)
    notes.extend(result.answer_notes)
    known = {MANIFEST, REPORT, PROGRESS} | referenced
    with contextlib.suppress(OSError):
        result.extra_files = sorted(p.name + ("/" if p.is_dir() else "") for p in path.iterdir()
                                    if p.name not in known)
    return result


def _answer_notes(manifest: dict[str, Any], lang: str) -> list[str]:
    """Answers the app did not save as they are now (edited in the manifest by hand, or
    kept by a version that stored no digest): noted, not refused; an answer is graded by
    reading it."""
    digests = manifest.get("answer_digests")
    digests = digests if isinstance(digests, dict) else {}
    notes: list[str] = []
    for step_id, answer in (manifest.get("answers") or {}).items():
        if step_id not in STEP_IDS or not isinstance(answer, str) or not answer:
            continue
        stored = digests.get(step_id)
        if stored is None:
            notes.append(t("verify.answer_no_digest", lang, step=step_id))
        elif stored != answer_digest(step_id, answer):
            notes.append(t("verify.answer_edited", lang, step=step_id))
    return notes


def _origin(entry: dict[str, Any]) -> dict[str, Any]:
    origin = entry.get("origin")
    return origin if isinstance(origin, dict) else {}


def _origin_problems(entry: dict[str, Any], name: str, lang: str) -> list[str]:
    """The app sent the step's messages (the demo does): the step is not the student's."""
    sent = _origin(entry).get("sent_by_app")
    if isinstance(sent, list) and sent and _origin(entry).get("demo") is not True:
        return [t("verify.sent_by_app", lang, file=printable(name, 80), n=len(sent))]
    return []


def _origin_notes(entry: dict[str, Any], name: str, lang: str) -> list[str]:
    scene = _origin(entry).get("scene_by_app")
    if isinstance(scene, list) and scene:
        what = t("list.sep", lang).join(printable(str(x), 80) for x in scene[:5])
        return [t("verify.scene_by_app", lang, file=printable(name, 80), what=what)]
    return []


def verdict(result: VerifyResult, lang: str, problems: str = "above") -> str:
    """One line: accepted, or why not. ``problems``: where the problems are printed
    (``above`` the line, ``below`` it, or ``listed`` beside it)."""
    if result.ok:
        return t("verify.ok", lang, n=len(result.rows))
    if result.intact_demo:
        return t("verify.demo_intact", lang)
    why: list[str] = []
    counts = (
        ("verify.why.missing", sum(not r.present for r in result.rows)),
        ("verify.why.tampered", sum(r.present and not r.intact for r in result.rows)),
        ("verify.why.evidence", sum(r.intact and not r.evidence for r in result.rows)),
        ("verify.why.stamp", sum(r.intact and not r.stamped for r in result.rows)),
        ("verify.why.picture", sum(r.intact and r.evidence and r.stamped and not r.shows
                                   for r in result.rows)),
        (f"verify.why.problems.{problems}", len(result.problems)),
    )
    for key, n in counts:
        if n:
            why.append(t(key, lang, n=n))
    if not why:  # evidence and stamp both met, but never on the same screenshot
        why.append(t("verify.why.unmatched", lang))
    return t("verify.failed", lang, why=", ".join(why))


def format_verify(result: VerifyResult, lang: str) -> str:
    m = result.manifest
    yes, no = t("yes", lang), t("no", lang)
    head = (t("verify.col.step", lang), t("verify.col.present", lang),
            t("verify.col.intact", lang), t("verify.col.evidence", lang),
            t("verify.col.stamp", lang), t("verify.col.shows", lang))
    widths = [max(len(h), 6) + 2 for h in head]
    lines = [t("verify.header", lang, folder=result.folder,
               student=printable(str(m.get("student") or "?"), 60),
               host=printable(str(m.get("host") or "?"), 60),
               version=printable(str(m.get("version") or "?"), 20)), ""]
    lines.append("".join(h.ljust(w) for h, w in zip(head, widths, strict=True)).rstrip())
    for r in result.rows:
        cells = (r.step, *(yes if v else no for v in (r.present, r.intact, r.evidence,
                                                      r.stamped, r.shows)))
        lines.append("".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)).rstrip())
        for shot in r.shots:
            if shot.evidence is not None and not shot.evidence.met and shot.intact:
                for miss in shot.evidence.missing:
                    lines.append(f"    {shot.file}: {miss}")
            if shot.intact and not shot.stamped:
                lines.append(f"    {shot.file}: {t('verify.no_stamp', lang)}")
    lines.append("")
    lines.extend(f"! {p}" for p in result.problems)
    lines.extend(f"- {n}" for n in result.notes)
    if result.extra_files:
        lines.append(t("verify.extra", lang, files=", ".join(
            printable(f, 80) for f in result.extra_files)))
    lines.append(verdict(result, lang))
    return "\n".join(lines)
