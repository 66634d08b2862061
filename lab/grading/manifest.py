"""``manifest.json``: for each screenshot its hash and what the kernel showed when it was taken
(connections, transitions, messages), and the student's answers. One read-modify-write at a
time in this process; every write atomic (``lab.files``)."""

from __future__ import annotations

import contextlib
import json
import os
import threading
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from tcp_observatory.lab.errors import LabError
from tcp_observatory.lab.files import ensure_folder, reason_of, write_atomic, write_new
from tcp_observatory.lab.grading.record import evidence_record, seal_of
from tcp_observatory.lab.grading.stamp import local_time
from tcp_observatory.lab.guide.evidence import Evidence, Message, Receipt, check_evidence
from tcp_observatory.lab.guide.steps import MAX_ANSWER, get_step
from tcp_observatory.lab.i18n import t
from tcp_observatory.lab.observe.model import RoleKind, Snapshot, Transition
from tcp_observatory.lab.records import record
from tcp_observatory.lab.text import clean_field

APP_NAME = "TCP Observatory"
DEFAULT_FOLDER = "screenshots"
MANIFEST = "manifest.json"
REPORT = "report.html"
FORMAT = 1
MAX_TRANSITIONS = 1000  # per screenshot: the most recent ones

lock = threading.Lock()  # one read-modify-write of the folder's files at a time


def answer_digest(step_id: str, answer: str) -> str:
    """What the app stores beside an answer it saves: an answer edited in the manifest by
    hand no longer matches it (``verify`` notes it). No key: a note, not a proof."""
    import hashlib  # here, not with the app's first screen: its library takes ~5 ms to load

    data = f"{step_id}\x00{answer}".encode("utf-8", errors="surrogatepass")
    return hashlib.sha256(data).hexdigest()[:16]


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
        raise LabError(t("bundle.unreadable", lang, file=file, reason=reason_of(exc))) from None
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise LabError(t("bundle.not_json", lang, file=file)) from None
    if (not isinstance(data, dict) or not isinstance(data.get("screenshots"), list)
            or not isinstance(data.get("answers", {}), dict)):
        raise LabError(t("bundle.bad_manifest", lang, file=file))
    data.setdefault("answers", {})
    if not isinstance(data.get("answer_digests", {}), dict):
        data["answer_digests"] = {}  # each answer is then noted as kept without its digest
    return data


def _manifest_for_update(folder: Path, now: datetime, lang: str) -> dict[str, Any]:
    if not (folder / MANIFEST).exists():
        return _new_manifest(now)
    return load_manifest(folder, lang)


def save_manifest(folder: Path, manifest: dict[str, Any], lang: str) -> None:
    data = json.dumps(manifest, ensure_ascii=False, indent=1).encode("utf-8")
    write_atomic(folder / MANIFEST, data, lang)


@record(frozen=True)
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
    origin: dict[str, Any] | None = None,
    refused: Iterable[int] = (),
    receipts: Iterable[Receipt] = (),
) -> SavedScreenshot:
    """Store one stamped screenshot and its record; LabError when it cannot be written.

    ``messages`` are those the server received during the step, ``mode`` the server's mode
    when the screenshot was taken (default: the step's). Either the SVG and its manifest
    entry are both written, or neither is. ``origin`` (``record.origin_of``) says what the
    app did rather than the student: it is stored, sealed, and reported by ``verify``.
    ``refused``: the clients whose connect was refused during the step (Windows refuses
    one at a full accept queue, and no row shows it); stored and sealed with the rest.
    ``receipts``: what the kernel showed of the step's bytes; stored and sealed likewise.
    """
    step = get_step(step_id)
    student, host = clean_field(student), clean_field(host)
    if not student:
        raise LabError(t("bundle.no_student", lang))
    when = local_time(now)
    conns, msgs, record = evidence_record(step.id, snapshot, messages, mode, port, origin,
                                          refused, receipts)
    mode, port = record["mode"], record["port"]
    transitions = [tr for tr in transitions if tr.connection.role.kind is not RoleKind.OTHER]
    stored_refused = record.get("refused", [])
    stored_receipts = [Receipt.from_json(r) for r in record.get("kernel", [])]
    evidence = check_evidence(step.id, conns, msgs, mode, port=port, lang=lang,
                              refused=stored_refused, windows=bool(stored_refused),
                              receipts=stored_receipts)
    import hashlib

    data = svg_text.encode("utf-8")
    with lock:
        path = ensure_folder(folder, lang)
        manifest = _manifest_for_update(path, when, lang)
        file = write_new(path, f"{step.id}-{when:%Y%m%d-%H%M%S}", ".svg", data, lang)
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
            **({"origin": record["origin"]} if "origin" in record else {}),
            **({"refused": record["refused"]} if "refused" in record else {}),
            **({"kernel": record["kernel"]} if "kernel" in record else {}),
            "seal": seal_of(record),
            "answer": answer,
            "evidence": evidence.to_json(),
        })
        if answer:
            manifest["answers"][step.id] = answer
            manifest.setdefault("answer_digests", {})[step.id] = answer_digest(step.id, answer)
        manifest.update(student=student, host=host, version=version, updated=_iso(when))
        if origin and origin.get("demo"):
            manifest["demo"] = True
        try:
            save_manifest(path, manifest, lang)
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
    save_answers(folder, {step_id: answer}, now=now, lang=lang)


def save_answers(
    folder: str | os.PathLike[str],
    answers: Mapping[str, str],
    *,
    now: datetime | float | None = None,
    lang: str = "fr",
) -> bool:
    """Keep the student's answers (step -> answer) in the manifest in one rewrite.

    Returns whether the manifest changed: an answer already stored as it is is not written
    again (the app saves as the student types, and the report need not follow a no-op)."""
    steps = {get_step(step_id).id: str(answer)[:MAX_ANSWER] for step_id, answer in answers.items()}
    when = local_time(now)
    with lock:
        path = ensure_folder(folder, lang)
        exists = (path / MANIFEST).exists()
        manifest = _manifest_for_update(path, when, lang)
        if exists and all(manifest["answers"].get(k) == v for k, v in steps.items()):
            return False
        manifest["answers"].update(steps)
        digests = manifest.setdefault("answer_digests", {})
        digests.update({k: answer_digest(k, v) for k, v in steps.items()})
        manifest["updated"] = _iso(when)
        save_manifest(path, manifest, lang)
    return True


def folder_student(folder: str | os.PathLike[str]) -> str:
    """The student a screenshots folder already belongs to ("" for a new or unreadable one).

    A folder is one student's submission: once a screenshot names someone, the app keeps
    that name for the folder instead of asking again."""
    try:
        manifest = load_manifest(folder)
    except (LabError, OSError, ValueError):
        return ""
    student = manifest.get("student")
    return clean_field(student) if isinstance(student, str) else ""
