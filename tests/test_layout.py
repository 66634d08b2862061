"""The layout's promises: ``lab`` never loads Textual, no module imports in a circle, and
none imports from a layer above its own."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# The folders lab/ and tui/ are installed as these packages (pyproject.toml's package-dir).
PACKAGE = "tcp_observatory"
LAB, TUI = f"{PACKAGE}.lab", f"{PACKAGE}.tui"


def project_modules() -> dict[str, Path]:
    modules = {}
    for top in ("lab", "tui"):
        for path in sorted((ROOT / top).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            modules[f"{PACKAGE}.{name}"] = path
    return modules


def lab_modules() -> list[str]:
    return [name for name in project_modules() if name == LAB or name.startswith(LAB + ".")]


def test_there_are_modules_to_check() -> None:
    names = lab_modules()
    assert f"{LAB}.net.server" in names and f"{LAB}.grading.verify" in names
    assert len(names) > 20


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


# The layers, from the ground up: a module may import from its own layer and those below it,
# never from one above. A module belongs to the layer of the longest name here that is its own
# or a package holding it (``lab`` names its ``__init__`` alone: a new module of ``lab`` is given
# a layer here, not the ground by default).
LAYERS: list[tuple[str, ...]] = [
    (LAB, f"{LAB}.text", f"{LAB}.records", f"{LAB}.i18n", f"{LAB}.errors",
     f"{LAB}.files"),  # the ground
    (f"{LAB}.observe",),  # the kernel's view of the connections
    (f"{LAB}.net",),  # the lab's sockets (they name their own rows to the observer)
    (f"{LAB}.session",),  # a server, its clients and an observer as one object
    (f"{LAB}.guide",),  # the steps: their setup, what proves them, where the student is
    (f"{LAB}.grading",),  # what a student hands in and a grader checks
    (f"{LAB}.cmdline", f"{LAB}.server", f"{LAB}.client"),  # the lab's own commands
    (TUI,),  # the app
]


def _imported_names(path: Path, name: str) -> set[str]:
    """Every dotted name a file imports from ``lab`` or ``tui``, wherever the import stands:
    at the top, in a function, under TYPE_CHECKING. One in a function runs later and one
    under TYPE_CHECKING only for the checker, but each ties the two modules all the same (an
    import moved into a function hides a circle, it does not undo it). ``from a import b``
    gives ``a`` and ``a.b`` (``b`` may be a module); a relative import is made absolute."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            module = node.module or ""
            if node.level:
                base = package.split(".")[:len(package.split(".")) - (node.level - 1)]
                module = ".".join([*base, module] if module else base)
            out.add(module)
            out.update(f"{module}.{alias.name}" for alias in node.names)
    return {n for n in out if n.split(".")[:2] in (["tcp_observatory", "lab"],
                                                    ["tcp_observatory", "tui"])}


def import_graph() -> dict[str, set[str]]:
    """module -> the project modules it imports. Importing ``a.b.c`` also runs ``a`` and
    ``a.b``: those count as edges too."""
    modules = project_modules()
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        deps: set[str] = set()
        for imported in _imported_names(path, name):
            parts = imported.split(".")
            deps.update(p for p in (".".join(parts[:i]) for i in range(1, len(parts) + 1))
                        if p in modules)
        deps.discard(name)
        graph[name] = deps
    return graph


def test_imports_are_read_wherever_they_stand(tmp_path: Path) -> None:
    """The reader itself: an import in a function, under TYPE_CHECKING or relative counts."""
    (tmp_path / "lab" / "observe").mkdir(parents=True)
    file = tmp_path / "lab" / "observe" / "x.py"
    file.write_text(
        "from typing import TYPE_CHECKING\n"
        f"if TYPE_CHECKING:\n    from {LAB}.session import Session\n"
        f"def f():\n    import {TUI}.app\n    from . import model\n    from ..net import server\n",
        encoding="utf-8")
    assert _imported_names(file, f"{LAB}.observe.x") >= {
        f"{LAB}.session", f"{TUI}.app", f"{LAB}.observe.model", f"{LAB}.net.server"}


def test_no_import_circles() -> None:
    graph = import_graph()
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for dep in sorted(graph[node]):
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


def layer_of(module: str) -> int | None:
    best: tuple[int, int] | None = None  # (length of the name that matched, layer)
    for level, names in enumerate(LAYERS):
        for named in names:
            if module == named or (named != LAB and module.startswith(named + ".")):
                if best is None or len(named) > best[0]:
                    best = (len(named), level)
    return None if best is None else best[1]


def test_every_module_has_a_layer() -> None:
    modules = project_modules()
    assert [m for m in modules if layer_of(m) is None] == []
    assert [n for names in LAYERS for n in names if n not in modules] == []


def test_no_import_runs_up_the_layers() -> None:
    up = [f"{name} -> {dep}" for name, deps in sorted(import_graph().items())
          for dep in sorted(deps) if (layer_of(dep) or 0) > (layer_of(name) or 0)]
    assert up == [], "imports from a higher layer:\n" + "\n".join(up)


def test_no_import_names_the_folders() -> None:
    """Every import of ours names the installed package (``tcp_observatory.lab...``): one
    that named the folder (``lab...``) would work from the repository's root only, and load
    a second copy of the module beside the installed one."""
    bare = []
    for top in ("lab", "tui", "tests", "bench"):
        for path in sorted((ROOT / top).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Import):
                    names = [a.name for a in node.names]
                elif isinstance(node, ast.ImportFrom) and not node.level:
                    names = [node.module or ""]
                else:
                    continue
                bare += [f"{path.relative_to(ROOT)}:{node.lineno}: {n}" for n in names
                         if n.split(".")[0] in ("lab", "tui")]
    assert bare == []
