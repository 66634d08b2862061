"""The CI says what it runs, and the lowest versions it tests are the floors pyproject states.

Read from the files themselves, so that the matrix, ``requires-python``, the dependency
floors and ``constraints/lowest.txt`` cannot drift apart unnoticed.
"""

from __future__ import annotations

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


def workflow() -> dict[str, Any]:
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
    assert "ruff check lab tui tests bench" in lint and "mypy lab tui" in lint
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
