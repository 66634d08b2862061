"""``tcp-observatory verify``: a submission checked from its own files. Every step present,
every file matching its hash, the stamp visible in each picture, the evidence re-checked
from the stored record, and the record matching the seal in its picture.

This catches accidents, edits and mix-ups, not a determined forger: nothing is signed."""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lab.errors import LabError
from lab.files import reason_of
from lab.grading.manifest import MANIFEST, PROGRESS, REPORT, load_manifest
from lab.grading.record import evidence_of_entry, seal_of_entry
from lab.grading.stamp import squash, stamp_found, svg_text_content, watermark_found
from lab.guide.evidence import Evidence
from lab.guide.steps import STEP_IDS
from lab.i18n import t
from lab.text import clock_text, printable


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

    @property
    def good(self) -> bool:
        return self.intact and self.stamped and self.evidence is not None and self.evidence.met

    def to_json(self) -> dict[str, Any]:
        return {"file": self.file, "step": self.step, "time": self.time,
                "present": self.present, "intact": self.intact, "stamped": self.stamped,
                "evidence": self.evidence.to_json() if self.evidence else None,
                "problem": self.problem}


@dataclass
class StepRow:
    step: str
    shots: list[ShotCheck] = field(default_factory=list)

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
    def ok(self) -> bool:
        return self.intact and any(s.good for s in self.shots)

    def to_json(self) -> dict[str, Any]:
        return {"step": self.step, "present": self.present, "intact": self.intact,
                "evidence": self.evidence, "stamped": self.stamped, "ok": self.ok,
                "screenshots": [s.to_json() for s in self.shots]}


@dataclass
class VerifyResult:
    folder: Path
    rows: list[StepRow]
    problems: list[str]  # each makes the submission fail
    extra_files: list[str]  # reported, not fatal
    notes: list[str]  # reported, not fatal
    manifest: dict[str, Any]
    demo: bool = False  # the app's demo: never a student's submission, intact or not

    @property
    def ok(self) -> bool:
        return not self.demo and not self.problems and all(r.ok for r in self.rows)

    @property
    def intact_demo(self) -> bool:
        return self.demo and not self.problems and all(r.ok for r in self.rows)

    def to_json(self) -> dict[str, Any]:
        m = self.manifest
        return {"folder": str(self.folder), "ok": self.ok,
                "student": m.get("student"), "host": m.get("host"), "version": m.get("version"),
                "created": m.get("created"), "updated": m.get("updated"),
                "steps": [r.to_json() for r in self.rows], "problems": self.problems,
                "extra_files": self.extra_files, "notes": self.notes, "demo": self.demo}


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
    shot.stamped = stamp_found(svg, str(student), str(entry.get("host", "")), shot.step,
                               str(entry.get("version", "")))
    try:
        shot.evidence = evidence_of_entry(entry, lang)
        seal = seal_of_entry(entry)
    except (ValueError, TypeError, LabError) as exc:
        shot.evidence = None
        shot.problem = shot.problem or t("verify.bad_record", lang, file=name, reason=exc)
        return shot
    if entry.get("seal") != seal or squash(seal) not in svg_text_content(svg):
        # The record beside the picture is not the one the picture was sealed with.
        shot.evidence = Evidence(False, [], [t("verify.seal", lang)])
        shot.problem = shot.problem or t("verify.seal_broken", lang, file=name)
    return shot


def verify(folder: str | os.PathLike[str], lang: str = "fr") -> VerifyResult:
    """Check a submission folder; LabError when it has no usable manifest."""
    path = Path(folder)
    manifest = load_manifest(path, lang)
    rows = {step_id: StepRow(step_id) for step_id in STEP_IDS}
    problems: list[str] = []
    notes: list[str] = []
    referenced: set[str] = set()
    seen_digests: dict[str, str] = {}
    student = manifest.get("student")
    demo = manifest.get("demo") is True
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
            problems.append(t("verify.bad_record", lang, file=printable(str(name), 80),
                              reason=printable(repr(exc), 200)))
            continue
        rows[str(step_id)].shots.append(shot)
        if shot.problem:
            problems.append(shot.problem)
        if shot.demo and not demo:
            # A demo picture handed in as a student's (the flag removed, the hashes redone).
            problems.append(t("verify.demo_picture", lang, file=name))
        demo = demo or shot.demo
        problems.extend(_origin_problems(entry, str(name), lang))
        notes.extend(_origin_notes(entry, str(name), lang))
        if entry.get("student") != student:
            # Someone else's screenshot in this submission: never acceptable.
            problems.append(t("verify.other_student", lang, file=name,
                              student=printable(str(entry.get("student")), 60)))
        digest = entry.get("sha256")
        if isinstance(digest, str) and digest in seen_digests:
            problems.append(t("verify.reused", lang, file=name, other=seen_digests[digest]))
        elif isinstance(digest, str):
            seen_digests[digest] = str(name)
    known = {MANIFEST, REPORT, PROGRESS} | referenced
    extra: list[str] = []
    with contextlib.suppress(OSError):
        extra = sorted(p.name + ("/" if p.is_dir() else "") for p in path.iterdir()
                       if p.name not in known)
    return VerifyResult(path, list(rows.values()), problems, extra, notes, manifest, demo)


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


def verdict(result: VerifyResult, lang: str) -> str:
    """One line: accepted, or why not."""
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
        ("verify.why.problems", len(result.problems)),
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
            t("verify.col.stamp", lang))
    widths = [max(len(h), 6) + 2 for h in head]
    lines = [t("verify.header", lang, folder=result.folder,
               student=printable(str(m.get("student") or "?"), 60),
               host=printable(str(m.get("host") or "?"), 60),
               version=printable(str(m.get("version") or "?"), 20)), ""]
    lines.append("".join(h.ljust(w) for h, w in zip(head, widths, strict=True)).rstrip())
    for r in result.rows:
        cells = (r.step, *(yes if v else no for v in (r.present, r.intact, r.evidence, r.stamped)))
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


def run_verify(args: argparse.Namespace) -> int:
    """``tcp-observatory verify DIR [DIR...]``: 0 accepted, 1 rejected, 2 not a usable folder.

    With several folders, or one class folder whose subfolders are the submissions, one
    line per submission, the pairs that share the same kernel evidence, then a count.
    """
    lang = getattr(args, "lang", "fr")
    folders = [str(f) for f in (args.folder if isinstance(args.folder, list) else [args.folder])]
    if len(folders) == 1:
        folders = class_folders(folders[0]) or folders
    if len(folders) > 1:
        return _verify_many(folders, lang, getattr(args, "json", False))
    try:
        result = verify(folders[0], lang)
    except LabError as exc:
        print(exc, file=sys.stderr, flush=True)
        return 2
    except Exception as exc:  # a manifest edited into a shape nobody foresaw
        print(t("bundle.bad_manifest", lang, file=folders[0], reason=printable(repr(exc), 200)),
              file=sys.stderr, flush=True)
        return 2
    if getattr(args, "json", False):
        print(json.dumps(result.to_json(), ensure_ascii=False, indent=1))
    else:
        print(format_verify(result, lang), flush=True)
    return 0 if result.ok else 1


def class_folders(folder: str) -> list[str]:
    """The submissions in a class folder: its subfolders that hold a manifest (none when
    ``folder`` is itself a submission)."""
    path = Path(folder)
    if (path / MANIFEST).exists() or not path.is_dir():
        return []
    with contextlib.suppress(OSError):
        return [str(p) for p in sorted(path.iterdir()) if (p / MANIFEST).is_file()]
    return []


def evidence_prints(result: VerifyResult) -> dict[tuple[float, tuple[int, ...]], str]:
    """What identifies a screenshot's kernel evidence: the instant the kernel was read and
    the ports of the connections it showed. Two students' runs never share both."""
    out: dict[tuple[float, tuple[int, ...]], str] = {}
    for entry in result.manifest.get("screenshots", []):
        if not isinstance(entry, dict):
            continue
        when, rows = entry.get("snapshot_time"), entry.get("snapshot")
        if not isinstance(when, (int, float)) or not isinstance(rows, list):
            continue
        ports = sorted({p for r in rows if isinstance(r, dict) and r.get("remote_host")
                        for p in (r.get("local_port"), r.get("remote_port"))
                        if isinstance(p, int)})
        if ports:
            out[(float(when), tuple(ports))] = str(entry.get("step"))
    return out


def shared_evidence(results: Sequence[VerifyResult], lang: str) -> list[tuple[int, int, str]]:
    """Pairs of submissions (indexes) that hold the same kernel evidence, with a sentence."""
    seen: dict[tuple[float, tuple[int, ...]], int] = {}
    pairs: list[tuple[int, int, str]] = []
    reported: set[tuple[int, int]] = set()
    for i, result in enumerate(results):
        for key, step in evidence_prints(result).items():
            j = seen.setdefault(key, i)
            if j == i or (j, i) in reported:
                continue
            reported.add((j, i))
            host = printable(str(result.manifest.get("host") or "?"), 40)
            pairs.append((j, i, t("verify.shared", lang, a=results[j].folder, b=result.folder,
                                  step=step, ports=", ".join(map(str, key[1][:6])),
                                  time=clock_text(key[0]), host=host)))
    return pairs


def _verify_many(folders: Sequence[str], lang: str, as_json: bool) -> int:
    worst = 0
    out: list[dict[str, Any]] = []
    results: list[VerifyResult] = []
    broken: list[tuple[str, str]] = []
    for folder in folders:
        try:
            results.append(verify(folder, lang))
        except Exception as exc:  # LabError or worse: one broken folder must not stop the class
            worst = 2
            broken.append((str(folder), str(exc)))
    pairs = shared_evidence(results, lang)
    copied = {k for j, i, _ in pairs for k in (j, i)}
    for i, result in enumerate(results):
        if i in copied:
            result.problems.append(next(s for a, b, s in pairs if i in (a, b)))
    accepted = sum(r.ok for r in results)
    if any(not r.ok for r in results):
        worst = max(worst, 1)
    if as_json:
        out.extend(r.to_json() for r in results)
        out.extend({"folder": f, "ok": False, "error": e} for f, e in broken)
        print(json.dumps(out, ensure_ascii=False, indent=1))
        return worst
    for result in results:
        student = printable(str(result.manifest.get("student") or "?"), 60)
        print(f"{result.folder}\t{student}\t{verdict(result, lang)}", flush=True)
    for folder, error in broken:
        print(f"{folder}\t-\t{error}", flush=True)
    for _, _, sentence in pairs:
        print(f"! {sentence}", flush=True)
    print(t("verify.many", lang, n=accepted, total=len(folders)), flush=True)
    return worst
