"""The layout's promises: ``lab`` never loads Textual, and no module imports in a circle."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LAB = ROOT / "lab"


def lab_modules() -> list[str]:
    names = []
    for path in sorted(LAB.rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        names.append(".".join(parts))
    return names


def test_there_are_modules_to_check() -> None:
    names = lab_modules()
    assert "lab.net.server" in names and "lab.grading.verify" in names and len(names) > 20


def test_every_lab_module_imports_without_textual() -> None:
    """Each module in a fresh interpreter: one that pulled Textual in would be named."""
    code = (
        "import importlib, json, sys\n"
        "bad = {}\n"
        "for name in json.loads(sys.argv[1]):\n"
        "    before = set(sys.modules)\n"
        "    importlib.import_module(name)\n"
        "    if any(m == 'textual' or m.startswith('textual.') for m in sys.modules):\n"
        "        bad[name] = sorted(set(sys.modules) - before)[:5]\n"
        "        break\n"
        "print(json.dumps(bad))\n"
    )
    done = subprocess.run([sys.executable, "-c", code, json.dumps(lab_modules())], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {}, f"Textual loaded by {done.stdout}"


def _imports(path: Path, package: str) -> set[str]:
    """The project modules a file imports at its top level (not under TYPE_CHECKING or in
    a function: those do not run at import time, so they make no circle)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    out: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module.split(".")[0] in ("lab", "tui"):
                out.add(node.module)
        elif isinstance(node, ast.Import):
            out.update(a.name for a in node.names if a.name.split(".")[0] in ("lab", "tui"))
    return out


def test_no_import_circles() -> None:
    graph: dict[str, set[str]] = {}
    for top in ("lab", "tui"):
        for path in (ROOT / top).rglob("*.py"):
            parts = path.relative_to(ROOT).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            graph[name] = _imports(path, name)
    # A module importing ``a.b.c`` also runs ``a`` and ``a.b``: those count as edges too.
    for name, deps in graph.items():
        for dep in list(deps):
            names = dep.split(".")
            deps.update(".".join(names[:i]) for i in range(1, len(names)) if
                        ".".join(names[:i]) in graph)
        deps.discard(name)
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for dep in sorted(graph.get(node, ())):
            if dep not in graph:
                continue
            if state.get(dep) == 1:
                cycle = [*stack[stack.index(dep):], dep]
                raise AssertionError("import circle: " + " -> ".join(cycle))
            if dep not in state:
                visit(dep)
        stack.pop()
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node)
