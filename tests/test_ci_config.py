"""The CI says what it runs, and the lowest versions it tests are the floors pyproject states.

Read from the files themselves, so that the matrix, ``requires-python``, the dependency
floors and ``constraints/lowest.txt`` cannot drift apart unnoticed.
"""

from __future__ import annotations

import os
import re
from typing import Any

import yaml
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from support import ROOT

WORKFLOW = ROOT / ".github" / "workflows" / "tests.yml"
CONSTRAINTS = ROOT / "constraints" / "lowest.txt"
PYPROJECT = ROOT / "pyproject.toml"
NEWEST_PYTHON = "3.13"


def workflow() -> dict[str | bool, Any]:
    data = yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def project_field(name: str) -> str:
    """One ``name = ...`` value of [project], as written (tomllib is not in Python 3.10)."""
    text = PYPROJECT.read_text(encoding="utf-8")
    match = re.search(rf"^{re.escape(name)}\s*=\s*(\".*?\"|\[.*?^\])", text, re.M | re.S)
    assert match, f"no {name} in pyproject.toml"
    return match.group(1)


def dependencies() -> list[Requirement]:
    block = project_field("dependencies")
    return [Requirement(s) for s in re.findall(r'^\s*"([^"]+)"', block, re.M)]


def floors() -> dict[str, str]:
    """name -> the lowest version pyproject allows (every dependency states one, with >=)."""
    out = {}
    for req in dependencies():
        lows = [s.version for s in req.specifier if s.operator == ">="]
        assert len(lows) == 1, f"{req}: one >= floor expected"
        out[req.name.lower()] = lows[0]
    return out


def pins(text: str) -> dict[str, str]:
    """name -> version of each ``name==version`` line of a constraints file."""
    out = {}
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            name, sep, version = line.partition("==")
            assert sep, f"{line!r} is not an exact pin"
            out[name.strip().lower()] = version.strip()
    return out


def lowest_python() -> str:
    spec = SpecifierSet(project_field("requires-python").strip('"'))
    (low,) = [s.version for s in spec if s.operator == ">="]
    return low


def run_lines(job: dict[str, Any]) -> list[str]:
    return [str(step["run"]) for step in job["steps"] if "run" in step]


def test_the_matrix_names_the_three_systems_and_the_lowest_and_newest_python() -> None:
    matrix = workflow()["jobs"]["tests"]["strategy"]["matrix"]
    assert set(matrix["os"]) == {"ubuntu-latest", "macos-latest", "windows-latest"}
    assert [str(v) for v in matrix["python"]] == [lowest_python(), NEWEST_PYTHON]
    assert lowest_python() == "3.10"
    runs = " ".join(run_lines(workflow()["jobs"]["tests"]))
    assert "pip install -e \".[test]\"" in runs and "pytest" in runs


def test_linters_run_once_and_tmux_is_there_for_the_end_to_end_test() -> None:
    jobs = workflow()["jobs"]
    assert jobs["lint"]["runs-on"] == "ubuntu-latest"
    lint = " ".join(run_lines(jobs["lint"]))
    assert "ruff check lab tui tests bench" in lint and "scripts/typecheck.sh" in lint
    for name in ("tests", "lowest"):
        assert any("apt-get install -y tmux" in line for line in run_lines(jobs[name])), name


def test_the_lowest_job_installs_the_constraints_on_the_lowest_python() -> None:
    job = workflow()["jobs"]["lowest"]
    assert job["runs-on"] == "ubuntu-latest"
    setup = next(s for s in job["steps"] if str(s.get("uses", "")).startswith(
        "actions/setup-python"))
    assert str(setup["with"]["python-version"]) == lowest_python()
    runs = run_lines(job)
    assert any("-c constraints/lowest.txt" in line for line in runs)
    # Only the SVG snapshots are left out there, by their marker.
    assert any('pytest' in line and '-m "not svg_snapshot"' in line for line in runs)


def test_the_constraints_pin_exactly_the_floors_pyproject_states() -> None:
    assert pins(CONSTRAINTS.read_text(encoding="utf-8")) == floors()
    assert set(floors()) == {"textual", "rich", "psutil"}


def test_a_drifted_pin_is_caught() -> None:
    """The comparison above fails when one side moves."""
    drifted = CONSTRAINTS.read_text(encoding="utf-8").replace(
        f"textual=={floors()['textual']}", "textual==0.1.0")
    assert pins(drifted) != floors()


def test_textual_and_rich_are_capped_below_their_next_release_line() -> None:
    """The table leans on DataTable's private names (tui/widgets/fast_table.py) and the
    snapshots on Textual's drawing: a new major release is taken on purpose, not the day
    it ships."""
    from importlib.metadata import version

    from packaging.version import Version

    caps = {}
    for req in dependencies():
        below = [s.version for s in req.specifier if s.operator == "<"]
        if below:
            caps[req.name.lower()] = Version(below[0])
    assert set(caps) == {"textual", "rich"}
    for name, cap in caps.items():
        assert cap.release[1:] in ((), (0,)), f"{name}: cap {cap} is not a release line"
        if not os.environ.get("TCP_OBSERVATORY_UNCAPPED"):  # the weekly job lifts them
            installed = Version(version(name))
            assert installed < cap, f"{name} {installed} is past its cap {cap}"


def test_the_linters_are_pinned_exactly() -> None:
    block = project_field("test")
    reqs = {Requirement(s).name.lower(): Requirement(s)
            for s in re.findall(r'^\s*"([^"]+)"', block, re.M)}
    for name in ("ruff", "mypy"):
        ops = [s.operator for s in reqs[name].specifier]
        assert ops == ["=="], f"{name} is not pinned: {reqs[name]}"


def test_a_weekly_job_runs_the_newest_releases_past_the_caps() -> None:
    flow = workflow()
    triggers = flow.get("on", flow.get(True))  # YAML 1.1 reads a bare `on` as True
    assert triggers is not None
    assert triggers["schedule"][0]["cron"]
    job = flow["jobs"]["newest"]
    assert "schedule" in job["if"]
    runs = run_lines(job)
    assert any("--upgrade textual rich" in line for line in runs)
    assert job["env"]["TCP_OBSERVATORY_UNCAPPED"] == "1"
    assert any("pytest" in line for line in runs)


def test_every_job_has_a_time_limit_a_pip_cache_and_one_run_per_branch() -> None:
    flow = workflow()
    assert flow["concurrency"]["cancel-in-progress"] is True
    for name, job in flow["jobs"].items():
        assert 0 < int(job["timeout-minutes"]) <= 30, name
        if name != "newest":  # the newest releases, never a cached wheel
            setup = next(s for s in job["steps"]
                         if str(s.get("uses", "")).startswith("actions/setup-python"))
            assert setup["with"]["cache"] == "pip", name


def test_svg_snapshots_are_compared_on_linux_only_and_reported_on_failure() -> None:
    steps = workflow()["jobs"]["tests"]["steps"]
    runs = [s for s in steps if "pytest" in str(s.get("run", ""))]
    others = [s for s in runs if s.get("if") == "runner.os != 'Linux'"]
    assert others and all('-m "not svg_snapshot"' in s["run"] for s in others)
    linux = [s for s in runs if s.get("if") == "runner.os == 'Linux'"]
    assert linux and all("svg_snapshot" not in s["run"] for s in linux)
    upload = [s for s in steps if str(s.get("uses", "")).startswith("actions/upload-artifact")]
    assert upload and "failure()" in upload[0]["if"]
    assert upload[0]["with"]["path"] == "snapshot_report.html"
