"""Installed under one distinctive name: the wheel holds ``tcp_observatory.lab`` and
``tcp_observatory.tui`` (from the folders lab/ and tui/), nothing at the top level that
another distribution ("lab", "tui" on the index) or a student's own ``lab.py`` could take."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> zipfile.ZipFile:
    out = tmp_path_factory.mktemp("wheel")
    # Built as `pip install .` builds it (pyproject.toml's build-system, isolated), from a
    # copy: a build leaves build/ and *.egg-info behind it.
    source = tmp_path_factory.mktemp("source")
    for name in ("lab", "tui"):
        shutil.copytree(ROOT / name, source / name,
                        ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, source / name)
    done = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet",
                           "-w", str(out), str(source)],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    (built,) = out.glob("tcp_observatory-*.whl")
    return zipfile.ZipFile(built)


def test_the_wheel_has_one_top_level_name(wheel: zipfile.ZipFile) -> None:
    tops = {name.split("/")[0] for name in wheel.namelist()}
    assert {t for t in tops if not t.endswith(".dist-info")} == {"tcp_observatory"}
    top_level = [n for n in wheel.namelist() if n.endswith(".dist-info/top_level.txt")]
    if top_level:  # setuptools writes it: the names an installer puts in site-packages
        assert wheel.read(top_level[0]).decode().split() == ["tcp_observatory"]


def test_the_wheel_holds_every_module_and_the_stylesheet(wheel: zipfile.ZipFile) -> None:
    names = set(wheel.namelist())
    for top in ("lab", "tui"):
        for path in (ROOT / top).rglob("*"):
            if path.suffix in (".py", ".tcss") and "__pycache__" not in path.parts:
                inside = "tcp_observatory/" + path.relative_to(ROOT).as_posix()
                assert inside in names, f"{inside} is not in the wheel"


def test_the_entry_points_run_under_the_package_name() -> None:
    for module in ("tcp_observatory.tui", "tcp_observatory.lab.server",
                   "tcp_observatory.lab.client"):
        done = subprocess.run([sys.executable, "-m", module, "--help"], capture_output=True,
                              text=True, timeout=60, cwd="/" if sys.platform != "win32" else None)
        assert done.returncode == 0 and "usage" in done.stdout.lower(), (module, done.stderr)
