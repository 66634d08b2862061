"""``tcp-observatory demo``: the whole lab unattended, marked as a demo that ``verify``
never takes for a student's submission."""

from __future__ import annotations

import json
from pathlib import Path

from app_support import make_app, press, wait_until
from support import cli, free_port, lab_session
from test_steps_bundle import STUDENT, student_bundle
from textual.widgets import Input

from tcp_observatory.lab.grading.stamp import svg_text_content
from tcp_observatory.lab.guide.progress import Progress, save_progress


def test_demo_writes_a_demo_bundle_that_verify_refuses_as_a_submission(tmp_path: Path) -> None:
    out = tmp_path / "bundle"
    done = cli("demo", "--out", str(out), "--port", str(free_port()), "--lang", "en",
               "--student", "Ada Demo")
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    shots = sorted(p.name.split("-2")[0] for p in out.glob("*.svg"))
    assert shots == ["p1-q1", "p1-q2", "p1-q3", "p2-fin", "p2-q1"]
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert {s["step"] for s in manifest["screenshots"]} == set(shots)
    assert all(s["evidence"]["met"] for s in manifest["screenshots"])
    assert all(s["answer"] for s in manifest["screenshots"])  # model answers kept with them
    assert manifest["demo"] is True and all(s["origin"]["demo"] for s in manifest["screenshots"])
    for svg in out.glob("*.svg"):  # the stamp and the demo's watermark in every screenshot
        text = svg_text_content(svg.read_text(encoding="utf-8"))
        assert "Ada" in text and "0.1.0" in text and "DEMO,notastudent'swork" in text
    report = (out / "report.html").read_text(encoding="utf-8")
    assert "p2-fin" in report and "TIME_WAIT" in report
    verified = cli("verify", str(out), "--lang", "en")
    # Intact, and still never a student's submission: a non-zero exit and one sentence.
    assert verified.returncode == 1, verified.stdout + verified.stderr
    assert verified.stdout.strip().splitlines()[-1] == (
        "REJECTED: this is the app's demo, intact; it is not a student's submission.")
    # One edited byte: its problems, like any folder.
    first = sorted(out.glob("p1-q2-*.svg"))[0]
    data = bytearray(first.read_bytes())
    data[len(data) // 2] ^= 0x01
    first.write_bytes(bytes(data))
    edited = cli("verify", str(out), "--lang", "en")
    assert edited.returncode == 1
    assert f"{first.name} was modified" in edited.stdout
    assert "intact" not in edited.stdout.strip().splitlines()[-1]


def test_demo_refuses_a_folder_that_holds_a_submission(tmp_path: Path) -> None:
    (tmp_path / "manifest.json").write_text("{}", encoding="utf-8")
    done = cli("demo", "--out", str(tmp_path), "--port", str(free_port()))
    assert done.returncode == 1
    assert len(done.stderr.strip().splitlines()) == 1 and "Traceback" not in done.stderr


async def test_progress_resumes_after_a_restart(tmp_path: Path) -> None:
    save_progress(tmp_path, Progress(step="p1-q3", met=["p1-q1", "p1-q2"],
                                     answers={"p1-q3": "queued"}, student="Bea Resume"))
    app = make_app(lab_session(), tmp_path, student=None, auto_capture=True)
    async with app.run_test(size=(120, 40)) as pilot:
        # No name prompt: the name comes from the saved progress.
        assert type(app.screen).__name__ != "NamePrompt"
        assert app.guide.student == "Bea Resume" and app.step_id == "p1-q3"
        await press(pilot, "f1")
        panel_answer = app.query_one("#step-answer", Input)
        assert panel_answer.value == "queued"
        stamp = str(app.query_one("#stamp").render())
        assert "Bea Resume" in stamp and "p1-q3" in stamp
        await press(pilot, "ctrl+n")
        await wait_until(pilot, lambda: app.step_id == "p2-q1", "the next step")
    # The move to the next step was saved too.
    from tcp_observatory.lab.guide.progress import load_progress

    assert load_progress(tmp_path).step == "p2-q1"


def test_verify_many_submissions_gives_one_line_each(tmp_path: Path) -> None:
    good = tmp_path / "alice"
    student_bundle(good)
    empty = tmp_path / "bob"
    empty.mkdir()
    result = cli("verify", str(good), str(empty), "--lang", "en")
    lines = result.stdout.strip().splitlines()
    assert lines[0].startswith(str(good)) and "ACCEPTED" in lines[0] and STUDENT in lines[0]
    assert lines[1].startswith(str(empty))
    assert lines[-1] == "1 of 2 submissions accepted."
    assert result.returncode == 2  # a folder that is not a submission at all


async def test_unwritable_screenshots_folder_is_one_clear_message(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the folder should be", encoding="utf-8")
    app = make_app(lab_session(), blocker, student="Cy")
    async with app.run_test(size=(120, 40)) as pilot:
        await press(pilot, "ctrl+s")
        await wait_until(pilot, lambda: app._notifications, "a notification")
        messages = [n.message for n in app._notifications]
        assert any("not-a-folder" in m for m in messages), messages
        assert app.is_running and not app.shots.saved
    assert blocker.read_text(encoding="utf-8") == "a file where the folder should be"
    assert list(tmp_path.iterdir()) == [blocker]  # nothing half-written beside it
