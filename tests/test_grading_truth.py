"""Grading tells the truth: a demo is never a student's submission (even renamed, hashes
and seals redone), steps the app performed are reported, copies across a class are named,
and every problem names its file."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest
from support import cli, free_port
from test_steps_bundle import DONE, HOST, STUDENT, WHEN, screen_svg, snapshot_of, student_bundle

from tcp_observatory.lab import __version__
from tcp_observatory.lab.grading.manifest import save_screenshot
from tcp_observatory.lab.grading.record import origin_of, seal_for, seal_of_entry
from tcp_observatory.lab.grading.verify import verify

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("demo") / "bundle"
    done = cli("demo", "--out", str(out), "--port", str(free_port()), "--lang", "en",
               "--student", "Alice Martin")
    assert done.returncode == 0, done.stdout + done.stderr
    return out


def rename_everywhere(folder: Path, old: str, new: str, *, drop_demo: bool) -> None:
    """What a determined copier does: another name in the manifest and in every picture's
    stamp, the demo flag removed, then every seal and hash recomputed to match."""
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    manifest["student"] = new
    manifest.pop("demo", None)
    for entry in manifest["screenshots"]:
        entry["student"] = new
        if drop_demo:
            entry.pop("origin", None)
        old_seal, new_seal = entry["seal"], seal_of_entry(entry)
        entry["seal"] = new_seal
        svg = folder / entry["file"]
        text = svg.read_text(encoding="utf-8").replace(old.replace(" ", "&#160;"),
                                                       new.replace(" ", "&#160;"))
        text = text.replace(old_seal, new_seal)
        svg.write_text(text, encoding="utf-8")
        entry["sha256"] = hashlib.sha256(svg.read_bytes()).hexdigest()
    (folder / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")


def test_a_renamed_copy_of_the_demo_is_rejected(demo: Path, tmp_path: Path) -> None:
    copy = tmp_path / "eve"
    shutil.copytree(demo, copy)
    rename_everywhere(copy, "Alice Martin", "Eve Copie", drop_demo=True)
    result = verify(copy, "en")
    assert not result.ok
    # Everything else was redone consistently: the watermark in the pictures still tells.
    assert all(s.intact for r in result.rows for s in r.shots)
    assert any("a picture of the app's demo (its watermark is visible)" in p
               for p in result.problems)
    done = cli("verify", str(copy), "--lang", "en")
    assert done.returncode == 1


def test_the_demo_flag_is_sealed(demo: Path, tmp_path: Path) -> None:
    """Removing the flag without redoing the seal breaks the seal, picture by picture."""
    copy = tmp_path / "flagless"
    shutil.copytree(demo, copy)
    manifest = json.loads((copy / "manifest.json").read_text(encoding="utf-8"))
    manifest.pop("demo")
    for entry in manifest["screenshots"]:
        entry.pop("origin")
    (copy / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    result = verify(copy, "en")
    assert not result.ok and not result.intact_demo
    files = {e["file"] for e in manifest["screenshots"]}
    sealed = [p for p in result.problems if "seal no longer matches" in p]
    assert {p.split(":")[0] for p in sealed} == files


def test_steps_the_app_performed_are_reported(tmp_path: Path) -> None:
    folder = tmp_path / "student"
    student_bundle(folder)
    # One more screenshot of p1-q2 whose messages the app sent (as an old Ctrl+R did).
    _rows, messages, mode = DONE["p1-q2"]
    origin = origin_of(sent_by_app=messages, scene_by_app=["a fresh single server"])
    seal = seal_for("p1-q2", snapshot_of("p1-q2"), messages, mode, origin=origin)
    saved = save_screenshot(folder, "p1-q2", screen_svg("p1-q2", seal=seal),
                            snapshot=snapshot_of("p1-q2"), student=STUDENT, host=HOST,
                            version=__version__, now=WHEN.replace(hour=11), messages=messages,
                            mode=mode, origin=origin)
    result = verify(folder, "en")
    assert not result.ok
    assert f"{saved.path.name}: the app itself sent 2 of the step's messages; this is not " \
           "the student's work" in result.problems
    assert any(saved.path.name in n and "scene set up by the app" in n for n in result.notes)


def test_every_problem_names_its_file(tmp_path: Path) -> None:
    folder = student_bundle(tmp_path / "s")
    svg = sorted(folder.glob("p1-q3-*.svg"))[0]
    svg.write_text(svg.read_text(encoding="utf-8") + " ", encoding="utf-8")
    done = cli("verify", str(folder), "--lang", "en")
    assert done.returncode == 1
    assert f"! {svg.name} was modified" in done.stdout
    last = done.stdout.strip().splitlines()[-1]
    assert "1 problem listed above" in last and "manifest" not in last


def test_a_class_folder_names_submissions_that_share_kernel_evidence(tmp_path: Path) -> None:
    alice = student_bundle(tmp_path / "class" / "alice")
    bob = tmp_path / "class" / "bob"
    shutil.copytree(alice, bob)
    rename_everywhere(bob, STUDENT, "Bob Copie", drop_demo=False)
    # Each alone looks fine: same evidence, another name, consistent hashes.
    assert verify(bob, "en").ok
    done = cli("verify", str(tmp_path / "class"), "--lang", "en")
    assert done.returncode == 1, done.stdout
    shared = [line for line in done.stdout.splitlines() if "share the same kernel evidence"
              in line]
    assert len(shared) == 1
    assert str(alice) in shared[0] and str(bob) in shared[0] and HOST in shared[0]
    assert done.stdout.strip().splitlines()[-1] == "0 of 2 submissions accepted."


@pytest.mark.needs("posix-paths")
def test_readme_says_what_verify_proves() -> None:
    readme = " ".join((ROOT / "README.md").read_text(encoding="utf-8").split())
    assert "tamper-evident, not tamper-proof" in readme
    assert "does not catch a determined forger" in readme
