"""The submission folder: stamped screenshots, their manifest, the report, and verification.

A student's screenshots go to one folder (``screenshots`` by default) with ``manifest.json``,
which records for each screenshot its hash and what the kernel showed when it was taken
(connections, transitions, messages). A grader runs ``tcp-observatory verify DIR``: every step
present, every file untouched, the evidence re-checked from the stored data, and the stamp
(student, host, step, version) visible in the picture. ``report.html`` shows it all on one page.

The hash catches edits and mix-ups, not a determined forger: nothing here is signed.
Every write goes to a temporary file in the same folder, then ``os.replace``: a crash or a
full disk never leaves a half-written file under a real name.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import hashlib
import html
import itertools
import json
import os
import re
import sys
import tempfile
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from lab.errors import LabError
from lab.i18n import t
from lab.observe.model import Connection, Endpoint, Role, RoleKind, Snapshot, Transition
from lab.steps import STEP_IDS, STEPS, Evidence, Message, check_evidence, get_step, lab_port
from lab.text import printable

APP_NAME = "TCP Observatory"
DEFAULT_FOLDER = "screenshots"
MANIFEST = "manifest.json"
REPORT = "report.html"
PROGRESS = "progress.json"
FORMAT = 1
MAX_TRANSITIONS = 1000  # per screenshot: the most recent ones
MAX_ANSWER = 20_000  # characters

_lock = threading.Lock()  # one read-modify-write of the manifest at a time in this process
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_TIME_RE = r"\d{4}-\d{2}-\d{2}\d{2}:\d{2}:\d{2}"  # a stamp's time once whitespace is removed
_TIME_MARK = "\x00TIME\x00"


# -- stamp -----------------------------------------------------------------------------------
def clean_field(text: str, limit: int = 60) -> str:
    """A name or host as it is stamped: one line, no control characters, at most ``limit``."""
    text = " ".join(_CONTROL.sub(" ", str(text)).split())
    return text[:limit].rstrip()


def _local(when: datetime | float | None) -> datetime:
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
    line = _stamp(student, host, f"{_local(when):%Y-%m-%d %H:%M:%S}", step_id, version, lang)
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
    runs = re.findall(r"<text\b[^>]*>(.*?)</text>", svg, flags=re.S)
    text = "".join(html.unescape(re.sub(r"<[^>]*>", "", run)) for run in runs)
    return _squash(text)


def _squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


def stamp_found(svg: str, student: str, host: str, step_id: str, version: str) -> bool:
    """Whether the SVG shows the stamp for these values (any time, French or English)."""
    visible = svg_text_content(svg)
    for lang in ("fr", "en"):
        line = _squash(_stamp(student, host, _TIME_MARK, step_id, version, lang))
        before, _, after = line.partition(_TIME_MARK)
        if re.search(re.escape(before) + _TIME_RE + re.escape(after), visible):
            return True
    return False


# -- the evidence record and its seal ----------------------------------------------------------
MAX_STORED_MESSAGES = 200  # the step's latest messages kept as evidence
MAX_MESSAGE_CHARS = 500  # of each (a 1 MiB paste is not evidence of anything more)


def _record(step: str, mode: str, port: int | None, snapshot: list[Any],
            messages: list[Any]) -> dict[str, Any]:
    return {"step": step, "mode": mode, "port": port, "snapshot": snapshot,
            "messages": messages}


def evidence_record(
    step_id: str, snapshot: Snapshot, messages: Iterable[Message], mode: str | None = None,
    port: int | None = None,
) -> tuple[list[Connection], list[Message], dict[str, Any]]:
    """What a screenshot's evidence is checked on, as stored: lab rows, capped messages."""
    step = get_step(step_id)
    # Only the lab's rows: with the "all connections" filter on, the rest of the machine's
    # traffic (browsers, mail...) is the student's business, not the grader's.
    conns = [c for c in snapshot.connections if c.role.kind is not RoleKind.OTHER]
    port = port if port is not None else lab_port(conns)
    msgs = [(n, str(text)[:MAX_MESSAGE_CHARS]) for n, text in messages][-MAX_STORED_MESSAGES:]
    record = _record(step.id, mode or step.mode, port, [c.to_json() for c in conns],
                     [[n, text] for n, text in msgs])
    return conns, msgs, record


def seal_of(record: dict[str, Any]) -> str:
    """A short digest of an evidence record, shown in the stamp of its screenshot.

    Editing the stored record (to claim states the picture does not show) changes it, and
    the picture, whose hash is stored too, still shows the old one.
    """
    data = json.dumps(record, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(data.encode("utf-8")).hexdigest()[:12]


def seal_for(step_id: str, snapshot: Snapshot, messages: Iterable[Message],
             mode: str | None = None, port: int | None = None) -> str:
    return seal_of(evidence_record(step_id, snapshot, messages, mode, port)[2])


def seal_of_entry(entry: dict[str, Any]) -> str:
    return seal_of(_record(_str(entry.get("step")), _str(entry.get("mode")),
                           _opt_int(entry.get("port")), entry.get("snapshot") or [],
                           entry.get("messages") or []))


# -- rebuilding what was stored ----------------------------------------------------------------
def connection_from_json(d: dict[str, Any]) -> Connection:
    """The inverse of ``Connection.to_json``; ValueError when ``d`` is not one."""
    if not isinstance(d, dict):
        raise ValueError("a connection must be a JSON object")
    try:
        local = Endpoint.of(_str(d["local_host"]), _int(d["local_port"]))
        remote = None
        if d.get("remote_host") is not None:
            remote = Endpoint.of(_str(d["remote_host"]), _int(d["remote_port"]))
        role = Role(
            RoleKind(d.get("role", "other")),
            client=_opt_int(d.get("client")),
            thread=_opt_str(d.get("thread")),
            server_side=bool(d.get("server_side", False)),
        )
        return Connection(
            local=local,
            remote=remote,
            state=_str(d["state"]),
            family=6 if d.get("proto") == "TCPv6" else 4,
            pid=_opt_int(d.get("pid")),
            process=_opt_str(d.get("process")),
            role=role,
            recv_q=_opt_int(d.get("recv_q")),
            send_q=_opt_int(d.get("send_q")),
            timer=_opt_str(d.get("timer")),
            timer_left=_opt_float(d.get("timer_left")),
            retransmits=_opt_int(d.get("retransmits")),
            inode=_opt_int(d.get("inode")),
            uid=_opt_int(d.get("uid")),
        )
    except (KeyError, TypeError) as exc:
        raise ValueError(f"not a stored connection: {exc}") from None


def _str(v: object) -> str:
    if not isinstance(v, str):
        raise ValueError(f"expected text, got {v!r}")
    return v


def _int(v: object) -> int:
    if isinstance(v, bool) or not isinstance(v, int):
        raise ValueError(f"expected a whole number, got {v!r}")
    return v


def _opt_int(v: object) -> int | None:
    return None if v is None else _int(v)


def _opt_str(v: object) -> str | None:
    return None if v is None else _str(v)


def _opt_float(v: object) -> float | None:
    if v is None:
        return None
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise ValueError(f"expected a number, got {v!r}")
    return float(v)


def snapshot_from_entry(entry: dict[str, Any]) -> Snapshot:
    conns = entry.get("snapshot")
    if not isinstance(conns, list):
        raise ValueError("the screenshot has no stored snapshot")
    t_ = entry.get("snapshot_time")
    return Snapshot(
        time=float(t_) if isinstance(t_, (int, float)) else 0.0,
        connections=tuple(connection_from_json(c) for c in conns),
        source=str(entry.get("source") or "stored"),
    )


def messages_from_entry(entry: dict[str, Any]) -> list[Message]:
    out: list[Message] = []
    for m in entry.get("messages") or []:
        if not (isinstance(m, list) and len(m) == 2 and isinstance(m[1], str)):
            raise ValueError("a stored message must be [client number or null, text]")
        out.append((_opt_int(m[0]), m[1]))
    return out


def evidence_of_entry(entry: dict[str, Any], lang: str) -> Evidence:
    """Re-check a stored screenshot's evidence from its stored data alone."""
    step = _str(entry.get("step"))
    mode = _str(entry.get("mode") or get_step(step).mode)
    port = _opt_int(entry.get("port"))
    return check_evidence(step, snapshot_from_entry(entry), messages_from_entry(entry), mode,
                          port=port, lang=lang)


# -- writing -----------------------------------------------------------------------------------
def _reason(exc: OSError) -> str:
    return exc.strerror or str(exc)


def ensure_folder(folder: str | os.PathLike[str], lang: str = "fr") -> Path:
    path = Path(folder)
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise LabError(t("bundle.cannot_write", lang, folder=path, reason=_reason(exc))) from None
    if not path.is_dir():
        reason = t("bundle.not_dir", lang)
        raise LabError(t("bundle.cannot_write", lang, folder=path, reason=reason))
    return path


def _temp_file(folder: Path, data: bytes, name: str) -> Path:
    """Write ``data`` to a new hidden temporary file in ``folder`` and flush it to disk."""
    fd, tmp = tempfile.mkstemp(prefix=f".{name}.", suffix=".tmp", dir=folder)
    try:
        if hasattr(os, "fchmod"):  # mkstemp makes it private; a submission is meant to be read
            os.fchmod(fd, 0o644)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    return Path(tmp)


def write_atomic(path: str | os.PathLike[str], data: bytes, lang: str = "fr") -> None:
    """Replace ``path`` with ``data`` all at once (a temporary file, then ``os.replace``)."""
    path = Path(path)
    tmp: Path | None = None
    try:
        tmp = _temp_file(path.parent, data, path.name)
        os.replace(tmp, path)
    except OSError as exc:
        if tmp is not None:
            with contextlib.suppress(OSError):
                tmp.unlink()
        raise LabError(t("bundle.cannot_write", lang, folder=path, reason=_reason(exc))) from None


def _write_new(folder: Path, stem: str, ext: str, data: bytes, lang: str) -> Path:
    """Write a file under a name not yet taken: ``stem.ext``, else ``stem-2.ext``, ..."""
    tmp: Path | None = None
    try:
        tmp = _temp_file(folder, data, stem + ext)
        for i in itertools.count(1):
            target = folder / f"{stem}{'' if i == 1 else f'-{i}'}{ext}"
            try:
                os.link(tmp, target)  # fails if the name exists: never overwrites
            except FileExistsError:
                continue
            except OSError:
                # No hard links on this file system: check, then rename.
                if target.exists():
                    continue
                os.replace(tmp, target)
            return target
    except OSError as exc:
        raise LabError(t("bundle.cannot_write", lang, folder=folder, reason=_reason(exc))) from None
    finally:
        if tmp is not None:
            with contextlib.suppress(OSError):
                tmp.unlink()
    raise AssertionError("unreachable")


def _iso(when: datetime) -> str:
    return when.isoformat(timespec="seconds")


def _new_manifest(now: datetime) -> dict[str, Any]:
    return {"format": FORMAT, "app": APP_NAME, "version": "", "student": "", "host": "",
            "created": _iso(now), "updated": _iso(now), "answers": {}, "screenshots": []}


def load_manifest(folder: str | os.PathLike[str], lang: str = "fr") -> dict[str, Any]:
    """The folder's manifest; LabError (one sentence) when the folder or manifest is unusable."""
    path = Path(folder)
    if not path.exists():
        raise LabError(t("bundle.no_folder", lang, folder=path))
    if not path.is_dir():
        raise LabError(t("bundle.not_folder", lang, folder=path))
    file = path / MANIFEST
    if not file.exists():
        raise LabError(t("bundle.no_manifest", lang, folder=path))
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
    except OSError as exc:
        raise LabError(t("bundle.unreadable", lang, file=file, reason=_reason(exc))) from None
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise LabError(t("bundle.not_json", lang, file=file)) from None
    if (not isinstance(data, dict) or not isinstance(data.get("screenshots"), list)
            or not isinstance(data.get("answers", {}), dict)):
        raise LabError(t("bundle.bad_manifest", lang, file=file))
    data.setdefault("answers", {})
    return data


def _manifest_for_update(folder: Path, now: datetime, lang: str) -> dict[str, Any]:
    if not (folder / MANIFEST).exists():
        return _new_manifest(now)
    return load_manifest(folder, lang)


def _save_manifest(folder: Path, manifest: dict[str, Any], lang: str) -> None:
    data = json.dumps(manifest, ensure_ascii=False, indent=1).encode("utf-8")
    write_atomic(folder / MANIFEST, data, lang)


@dataclass(frozen=True)
class SavedScreenshot:
    path: Path
    evidence: Evidence
    time: str  # ISO 8601 with offset, as in the manifest


def save_screenshot(
    folder: str | os.PathLike[str],
    step_id: str,
    svg_text: str,
    *,
    snapshot: Snapshot,
    transitions: Sequence[Transition] = (),
    answer: str = "",
    student: str,
    host: str,
    version: str,
    now: datetime | float | None = None,
    messages: Iterable[Message] = (),
    mode: str | None = None,
    port: int | None = None,
    lang: str = "fr",
) -> SavedScreenshot:
    """Store one stamped screenshot and its record; LabError when it cannot be written.

    ``messages`` are those the server received during the step, ``mode`` the server's mode
    when the screenshot was taken (default: the step's). Either the SVG and its manifest
    entry are both written, or neither is.
    """
    step = get_step(step_id)
    student, host = clean_field(student), clean_field(host)
    if not student:
        raise LabError(t("bundle.no_student", lang))
    when = _local(now)
    conns, msgs, record = evidence_record(step.id, snapshot, messages, mode, port)
    mode, port = record["mode"], record["port"]
    transitions = [tr for tr in transitions if tr.connection.role.kind is not RoleKind.OTHER]
    evidence = check_evidence(step.id, conns, msgs, mode, port=port, lang=lang)
    data = svg_text.encode("utf-8")
    with _lock:
        path = ensure_folder(folder, lang)
        manifest = _manifest_for_update(path, when, lang)
        file = _write_new(path, f"{step.id}-{when:%Y%m%d-%H%M%S}", ".svg", data, lang)
        answer = str(answer)[:MAX_ANSWER]
        manifest["screenshots"].append({
            "file": file.name,
            "step": step.id,
            "time": _iso(when),
            "sha256": hashlib.sha256(data).hexdigest(),
            "student": student,
            "host": host,
            "version": version,
            "mode": mode,
            "port": port,
            "lang": lang,
            "snapshot_time": snapshot.time,
            "source": snapshot.source,
            "snapshot": record["snapshot"],
            "transitions": [tr.to_json() for tr in transitions[-MAX_TRANSITIONS:]],
            "messages": record["messages"],
            "seal": seal_of(record),
            "answer": answer,
            "evidence": evidence.to_json(),
        })
        if answer:
            manifest["answers"][step.id] = answer
        manifest.update(student=student, host=host, version=version, updated=_iso(when))
        try:
            _save_manifest(path, manifest, lang)
        except LabError:
            with contextlib.suppress(OSError):
                file.unlink()
            raise
    return SavedScreenshot(file, evidence, _iso(when))


def save_answer(
    folder: str | os.PathLike[str],
    step_id: str,
    answer: str,
    *,
    now: datetime | float | None = None,
    lang: str = "fr",
) -> None:
    """Keep the student's answer to a step in the manifest, beside its screenshots."""
    step = get_step(step_id)
    when = _local(now)
    with _lock:
        path = ensure_folder(folder, lang)
        manifest = _manifest_for_update(path, when, lang)
        manifest["answers"][step.id] = str(answer)[:MAX_ANSWER]
        manifest["updated"] = _iso(when)
        _save_manifest(path, manifest, lang)


# -- verifying -----------------------------------------------------------------------------------
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

    @property
    def ok(self) -> bool:
        return not self.problems and all(r.ok for r in self.rows)

    def to_json(self) -> dict[str, Any]:
        m = self.manifest
        return {"folder": str(self.folder), "ok": self.ok,
                "student": m.get("student"), "host": m.get("host"), "version": m.get("version"),
                "created": m.get("created"), "updated": m.get("updated"),
                "steps": [r.to_json() for r in self.rows], "problems": self.problems,
                "extra_files": self.extra_files, "notes": self.notes}


def _safe_name(name: object) -> bool:
    return (isinstance(name, str) and name not in ("", ".", "..") and "/" not in name
            and "\\" not in name and ":" not in name and "\x00" not in name)


def _check_shot(folder: Path, entry: dict[str, Any], student: object,
                lang: str) -> ShotCheck:
    name = entry.get("file")
    shot = ShotCheck(file=str(name), step=str(entry.get("step")), time=str(entry.get("time", "")))
    if not _safe_name(name):
        shot.problem = t("verify.bad_name", lang, file=printable(str(name), 80))
        return shot
    path = folder / str(name)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        shot.problem = t("verify.missing_file", lang, file=name)
        return shot
    except OSError as exc:
        shot.problem = t("verify.unreadable_file", lang, file=name, reason=_reason(exc))
        return shot
    shot.present = True
    shot.intact = hashlib.sha256(data).hexdigest() == entry.get("sha256")
    if not shot.intact:
        shot.problem = t("verify.tampered", lang, file=name)
    svg = data.decode("utf-8", errors="replace")
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
    if entry.get("seal") != seal or _squash(seal) not in svg_text_content(svg):
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
    return VerifyResult(path, list(rows.values()), problems, extra, notes, manifest)


def verdict(result: VerifyResult, lang: str) -> str:
    """One line: accepted, or why not."""
    if result.ok:
        return t("verify.ok", lang, n=len(result.rows))
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

    With several folders (a grader's whole class), one line per submission, then a count.
    """
    lang = getattr(args, "lang", "fr")
    folders = args.folder if isinstance(args.folder, list) else [args.folder]
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


def _verify_many(folders: Sequence[str], lang: str, as_json: bool) -> int:
    worst = 0
    accepted = 0
    out: list[dict[str, Any]] = []
    for folder in folders:
        try:
            result = verify(folder, lang)
        except Exception as exc:  # LabError or worse: one broken folder must not stop the class
            worst = 2
            out.append({"folder": str(folder), "ok": False, "error": str(exc)})
            if not as_json:
                print(f"{folder}\t-\t{exc}", flush=True)
            continue
        accepted += result.ok
        worst = max(worst, 0 if result.ok else 1)
        if as_json:
            out.append(result.to_json())
        else:
            student = printable(str(result.manifest.get("student") or "?"), 60)
            print(f"{folder}\t{student}\t{verdict(result, lang)}", flush=True)
    if as_json:
        print(json.dumps(out, ensure_ascii=False, indent=1))
    else:
        print(t("verify.many", lang, ok=accepted, n=len(folders)), flush=True)
    return worst


# -- report --------------------------------------------------------------------------------------
_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:0 auto;max-width:75rem;
padding:1rem 2rem;color:#1b1b1b;background:#fafafa;line-height:1.45}
header{border-bottom:3px solid #1b1b1b;margin-bottom:1rem}
h1{margin:.2rem 0}dl{display:grid;grid-template-columns:max-content 1fr;gap:.1rem 1rem}
dt{font-weight:600}dd{margin:0}
table{border-collapse:collapse;margin:1rem 0}th,td{border:1px solid #999;padding:.25rem .6rem;
text-align:left}th{background:#e8e8e8}
.yes{color:#0a6b2d;font-weight:600}.no{color:#b00020;font-weight:600}
.verdict{font-size:1.15rem;font-weight:700;padding:.5rem .8rem;border-radius:.3rem}
.verdict.ok{background:#d9f2e1}.verdict.bad{background:#fbdde2}
section{background:#fff;border:1px solid #ccc;border-radius:.4rem;padding:.5rem 1.2rem;
margin:1.2rem 0}
.q p{margin:.3rem 0}.q .en{color:#555;font-style:italic}
.answer{white-space:pre-wrap;background:#f3f3f3;border-left:4px solid #777;padding:.5rem .8rem;
font-family:ui-monospace,"Cascadia Mono",Menlo,monospace}
figure{margin:.8rem 0}figure img{max-width:100%;border:1px solid #888}
figcaption{font-size:.85rem;color:#444}li.found::marker{content:"✓ "}
li.missing::marker{content:"✗ "}li.missing{color:#b00020}
"""


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _yes_no(value: bool, lang: str) -> str:
    word = "yes" if value else "no"
    return f'<span class="{word}">{_e(t(word, lang))}</span>'


def write_report(folder: str | os.PathLike[str], lang: str = "fr") -> Path:
    """Write ``report.html``: one offline page with every step, screenshot, answer and check."""
    path = Path(folder)
    result = verify(path, lang)
    m = result.manifest
    answers = m.get("answers") or {}
    out: list[str] = [
        "<!DOCTYPE html>",
        f'<html lang="{_e(lang)}"><head><meta charset="utf-8">',
        '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
        'img-src data:; style-src \'unsafe-inline\'">',
        f"<title>{_e(APP_NAME)} — {_e(m.get('student') or '')}</title>",
        f"<style>{_CSS}</style></head><body>",
        f"<header><h1>{_e(t('report.title', lang))}</h1><dl>",
    ]
    for key, value in (("report.student", m.get("student")), ("report.host", m.get("host")),
                       ("report.version", f"{APP_NAME} {m.get('version') or '?'}"),
                       ("report.created", m.get("created")), ("report.updated", m.get("updated"))):
        out.append(f"<dt>{_e(t(key, lang))}</dt><dd>{_e(value or '?')}</dd>")
    out.append("</dl>")
    out.append(f'<p class="verdict {"ok" if result.ok else "bad"}">{_e(verdict(result, lang))}</p>')
    out.append("</header>")
    # Summary table
    out.append(f"<h2>{_e(t('report.summary', lang))}</h2><table><tr>")
    for key in ("verify.col.step", "report.col.title", "verify.col.present", "verify.col.intact",
                "verify.col.evidence", "verify.col.stamp"):
        out.append(f"<th>{_e(t(key, lang))}</th>")
    out.append("</tr>")
    for step, row in zip(STEPS, result.rows, strict=True):
        out.append(f'<tr><td><a href="#{_e(step.id)}">{_e(step.id)}</a></td>'
                   f"<td>{_e(step.text('title', lang))}</td>"
                   + "".join(f"<td>{_yes_no(v, lang)}</td>"
                             for v in (row.present, row.intact, row.evidence, row.stamped))
                   + "</tr>")
    out.append("</table>")
    if result.problems or result.notes or result.extra_files:
        out.append("<ul>")
        out.extend(f'<li class="missing">{_e(p)}</li>' for p in result.problems)
        out.extend(f"<li>{_e(n)}</li>" for n in result.notes)
        if result.extra_files:
            files = ", ".join(result.extra_files)
            out.append(f"<li>{_e(t('verify.extra', lang, files=files))}</li>")
        out.append("</ul>")
    # One section per step
    for step, row in zip(STEPS, result.rows, strict=True):
        out.append(f'<section id="{_e(step.id)}"><h2>{_e(step.id)} — '
                   f"{_e(step.text('title', lang))}</h2>")
        out.append(f'<div class="q"><p class="fr" lang="fr">{_e(step.question[0])}</p>'
                   f'<p class="en" lang="en">{_e(step.question[1])}</p></div>')
        out.append(f"<h3>{_e(t('report.answer', lang))}</h3>")
        answer = answers.get(step.id) if isinstance(answers.get(step.id), str) else ""
        if answer:
            out.append(f'<div class="answer">{_e(answer)}</div>')
        else:
            out.append(f"<p><em>{_e(t('report.no_answer', lang))}</em></p>")
        if not row.shots:
            out.append(f'<p class="no">{_e(t("report.no_screenshot", lang))}</p>')
        for shot in row.shots:
            out.append(_shot_html(path, shot, lang))
        out.append("</section>")
    out.append("</body></html>")
    data = "\n".join(out).encode("utf-8")
    target = path / REPORT
    with _lock:
        write_atomic(target, data, lang)
    return target


def _shot_html(folder: Path, shot: ShotCheck, lang: str) -> str:
    parts = [f"<h3>{_e(t('report.evidence', lang))}</h3>"]
    if shot.evidence is not None:
        parts.append("<ul>")
        parts.extend(f'<li class="found">{_e(f)}</li>' for f in shot.evidence.found)
        parts.extend(f'<li class="missing">{_e(f)}</li>' for f in shot.evidence.missing)
        parts.append("</ul>")
    if shot.problem:
        parts.append(f'<p class="no">{_e(shot.problem)}</p>')
    if shot.present and _safe_name(shot.file):
        with contextlib.suppress(OSError):
            data = (folder / shot.file).read_bytes()
            uri = "data:image/svg+xml;base64," + base64.b64encode(data).decode("ascii")
            caption = t("report.caption", lang, file=shot.file, time=shot.time,
                        intact=t("yes" if shot.intact else "no", lang),
                        stamp=t("yes" if shot.stamped else "no", lang))
            parts.append(f'<figure><img src="{uri}" alt="{_e(shot.file)}">'
                         f"<figcaption>{_e(caption)}</figcaption></figure>")
    return "\n".join(parts)
