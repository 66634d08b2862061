"""What the student types reaches the disk by itself (lab.grading.autosave): soon, in order,
atomically, off the caller's thread, and at once when asked (a step change, quitting)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from support import wait_for

from tcp_observatory.lab.grading.autosave import AutoSave
from tcp_observatory.lab.grading.manifest import MANIFEST, REPORT, load_manifest, save_answers
from tcp_observatory.lab.guide.progress import PROGRESS, Progress, load_progress


class Recorded(AutoSave):
    """An AutoSave that keeps what it reports: its errors, and each list of answers it
    tells as saved."""

    def __init__(self, folder: Path) -> None:
        self.errors: list[str] = []
        self.told: list[list[str]] = []
        super().__init__(folder, "en", on_error=self.errors.append, on_saved=self.told.append)


@pytest.fixture
def saver(tmp_path: Path) -> Iterator[Recorded]:
    s = Recorded(tmp_path / "screenshots")
    try:
        yield s
    finally:
        s.close()


def progress_answers(folder: Path) -> dict[str, str]:
    return load_progress(folder).answers


def test_an_answer_reaches_the_disk_by_itself(saver: Recorded) -> None:
    progress = Progress(answers={"p1-q2": "CLOSE_WAIT côté serveur"})
    saver.keep(progress, answer_of="p1-q2")
    folder = saver.folder
    wait_for(lambda: progress_answers(folder).get("p1-q2") == "CLOSE_WAIT côté serveur",
             message="the answer in progress.json")
    wait_for(lambda: (folder / REPORT).exists(), message="the report")
    assert load_manifest(folder)["answers"] == {"p1-q2": "CLOSE_WAIT côté serveur"}
    assert "CLOSE_WAIT côté serveur" in (folder / REPORT).read_text(encoding="utf-8")
    assert saver.errors == [] and saver.told == []
    # No temporary file is left beside them (each write is atomic).
    assert sorted(p.name for p in folder.iterdir()) == [MANIFEST, PROGRESS, REPORT]


def test_the_caller_goes_on_changing_its_progress(saver: AutoSave) -> None:
    """What is written is the progress as it was given, not what it became later."""
    progress = Progress(answers={"p1-q1": "un"})
    saver.keep(progress, answer_of="p1-q1", now=True)
    progress.answers["p1-q1"] = "changed after keep, never kept"
    assert saver.flush()
    assert progress_answers(saver.folder)["p1-q1"] == "un"


def test_typing_writes_the_latest_text(saver: AutoSave) -> None:
    progress = Progress()
    for n in range(1, 40):
        progress.answers["p1-q3"] = "x" * n
        saver.keep(progress, answer_of="p1-q3")
    assert saver.flush()
    assert progress_answers(saver.folder)["p1-q3"] == "x" * 39
    assert load_manifest(saver.folder)["answers"]["p1-q3"] == "x" * 39


def test_flush_writes_now_and_close_stops_the_thread(tmp_path: Path) -> None:
    saver = AutoSave(tmp_path, "en", delay=3600)  # never by itself within this test
    saver.keep(Progress(step="p2-q1", answers={"p2-q1": "deux"}), answer_of="p2-q1")
    thread = saver._thread
    assert thread is not None and thread.is_alive()
    assert not (tmp_path / PROGRESS).exists()
    assert saver.close()
    assert load_progress(tmp_path).step == "p2-q1"
    assert load_manifest(tmp_path)["answers"] == {"p2-q1": "deux"}
    assert not thread.is_alive()
    # After close, a change (a screenshot saved while the window closes) is written at once.
    saver.keep(Progress(step="p2-fin"))
    assert load_progress(tmp_path).step == "p2-fin"
    assert not any(t.name == "autosave" and t.is_alive() for t in threading.enumerate())


def test_enter_is_told_once_written(saver: Recorded) -> None:
    saver.keep(Progress(answers={"p1-q1": "oui"}), answer_of="p1-q1", now=True, announce=True)
    wait_for(lambda: saver.told == [["p1-q1"]],
             message="the answer told as saved")


def test_an_unwritable_folder_is_said_once(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder", encoding="utf-8")
    errors: list[str] = []
    saver = AutoSave(blocker / "screenshots", "en", on_error=errors.append)
    try:
        for text in ("a", "ab", "abc"):
            saver.keep(Progress(answers={"p1-q1": text}), answer_of="p1-q1", now=True)
            assert saver.flush()
    finally:
        saver.close()
    assert len(errors) == 1 and "Cannot write" in errors[0] and "\n" not in errors[0]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a-file"]


def test_an_answer_already_stored_is_not_written_again(tmp_path: Path) -> None:
    assert save_answers(tmp_path, {"p1-q1": "un", "p1-q2": "deux"})
    before = (tmp_path / MANIFEST).stat().st_mtime_ns
    assert not save_answers(tmp_path, {"p1-q2": "deux"})
    assert (tmp_path / MANIFEST).stat().st_mtime_ns == before
    assert save_answers(tmp_path, {"p1-q2": "deux bis"})
    answers = json.loads((tmp_path / MANIFEST).read_text(encoding="utf-8"))["answers"]
    assert answers == {"p1-q1": "un", "p1-q2": "deux bis"}
