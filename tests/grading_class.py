"""A class of submissions made by the app itself, for the graders' tests.

The app runs the lab for one student after another, each in an app of their own and a
folder of their own: the step's scene set as Ctrl+R sets it, then the student's part typed
as a client's input sends it (``Session.send``, as ``ClientCard.Send`` does), the answer
kept as the panel keeps it, and the picture taken by the app when the evidence shows.
Every run has its own connections, so its own kernel evidence (ephemeral ports, sockets,
instants); all share what a class shares: the host, the lab port, and here the pid (one
test process makes the class).
The copies are what a copier does to such folders (``copy_as``).
"""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from app_support import make_app
from support import lab_session

from tcp_observatory.lab.errors import LabError
from tcp_observatory.lab.grading.record import seal_of_entry
from tcp_observatory.lab.guide.setup import poll_wait, run_setup, student_part
from tcp_observatory.lab.guide.steps import get_step
from tcp_observatory.lab.net.client import LabClient
from tcp_observatory.tui.app import ObservatoryApp

STEP_TIMEOUT = 20.0


@dataclass(frozen=True)
class Student:
    folder: str
    name: str
    steps: tuple[str, ...]


def answer_of(student: Student, step_id: str) -> str:
    return f"{student.name} : réponse à {step_id} <b>&</b>"


def _drive(student: Student, folder: Path, lang: str,
           errors: list[str]) -> Callable[[ObservatoryApp], None]:
    def run(app: ObservatoryApp) -> None:
        try:
            for step_id in student.steps:
                _one_step(app, student, step_id, folder, lang)
        except (LabError, AssertionError) as exc:
            errors.append(str(exc))
        finally:
            app.call_from_thread(app.exit, 0)

    return run


def _one_step(app: ObservatoryApp, student: Student, step_id: str, folder: Path,
              lang: str) -> None:
    def choose() -> None:  # Ctrl+N to the step, the answer typed, Ctrl+R: the app's part
        app.select_step(step_id)
        app.remember_answer(step_id, answer_of(student, step_id))
        app.prepare_scene()

    app.call_from_thread(choose)
    numbers = run_setup(app.session, step_id, lang=lang)
    for op in student_part(get_step(step_id)):  # the messages are the student's
        number = numbers[int(op[1]) - 1]
        text = "Fin" if op[0] == "fin" else str(op[2])
        if not app.session.send(number, text):
            raise AssertionError(f"{student.name}: {step_id}: client {number} did not send")
        if op[0] == "fin":
            client = app.session.clients.get(number)

            def closed(c: LabClient | None = client) -> bool:
                return c is not None and c.state in ("closed", "failed")

            if client is not None and not poll_wait(closed, STEP_TIMEOUT):
                raise AssertionError(f"{student.name}: {step_id}: client {number} not closed")

    def saved() -> bool:
        return bool(app.shots.save_errors) or any(
            p.parent == folder and p.name.startswith(step_id + "-") for p in app.shots.saved)

    if not poll_wait(saved, STEP_TIMEOUT):
        raise AssertionError(f"{student.name}: {step_id}: no picture within {STEP_TIMEOUT} s "
                             f"(evidence: {app.guide.evidence})")
    if app.shots.save_errors:
        raise AssertionError(app.shots.save_errors[-1])


def make_class(root: Path, students: Sequence[Student], *, lang: str, port: int,
               size: tuple[int, int]) -> None:
    """Run the lab for each student in turn, each in an app of their own, in
    ``root / student.folder``; all on the same lab port, as a class on 9500."""
    for student in students:
        session = lab_session(port=port, source="auto")
        errors: list[str] = []
        folder = root / student.folder
        app = make_app(session, folder, lang=lang, student=student.name, auto_capture=True,
                       autopilot=_drive(student, folder, lang, errors))
        try:
            app.run(headless=True, size=size)
        finally:
            app.shutdown()
        assert not errors, errors


def rename_in(folder: Path, entry: dict, old: str, new: str) -> None:
    """One picture renamed as a copier renames it: the name in its record and in its
    stamp, its seal and hash redone to match."""
    entry["student"] = new
    old_seal, new_seal = entry["seal"], seal_of_entry(entry)
    entry["seal"] = new_seal
    svg = folder / entry["file"]
    text = svg.read_text(encoding="utf-8").replace(old.replace(" ", "&#160;"),
                                                   new.replace(" ", "&#160;"))
    svg.write_text(text.replace(old_seal, new_seal), encoding="utf-8")
    entry["sha256"] = hashlib.sha256(svg.read_bytes()).hexdigest()


def copy_as(source: Path, target: Path, old: str, new: str) -> Path:
    """A classmate's folder handed in as one's own: renamed throughout, hashes redone."""
    shutil.copytree(source, target)
    manifest = json.loads((target / "manifest.json").read_text(encoding="utf-8"))
    manifest["student"] = new
    for entry in manifest["screenshots"]:
        rename_in(target, entry, old, new)
    (target / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    return target


def borrow_step(source: Path, old: str, target: Path, new: str, step_id: str) -> str:
    """One step's picture taken from a classmate into one's own folder, renamed."""
    theirs = json.loads((source / "manifest.json").read_text(encoding="utf-8"))
    entry = next(e for e in theirs["screenshots"] if e["step"] == step_id)
    shutil.copy2(source / entry["file"], target / entry["file"])
    rename_in(target, entry, old, new)
    mine = json.loads((target / "manifest.json").read_text(encoding="utf-8"))
    mine["screenshots"].append(entry)
    (target / "manifest.json").write_text(json.dumps(mine), encoding="utf-8")
    return str(entry["file"])
