"""The app's structure: one object per concern, each owned by one module, wired by the app.

The app had been four mixins sharing some fifty attributes declared in one base class,
with hooks that raised NotImplementedError: one snapshot's way went from part to part and
back. These tests keep it one straight line: no concern declares or writes another's
state, the app has no mixin, and ``ObservatoryApp.apply`` reads top to bottom."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

from textual.app import App

from tcp_observatory.lab.session import Session
from tcp_observatory.tui.app import ObservatoryApp
from tcp_observatory.tui.focus import Focus
from tcp_observatory.tui.guided import Guide
from tcp_observatory.tui.live import Views
from tcp_observatory.tui.messages import Inbox
from tcp_observatory.tui.scene import Scene
from tcp_observatory.tui.screenshots import ScreenshotFlow
from tcp_observatory.tui.stepthrough import Recorder

TUI = Path(__file__).resolve().parent.parent / "tui"

# The app's attribute, the concern's class, and the one module that owns it.
CONCERNS: dict[str, tuple[type, str]] = {
    "inbox": (Inbox, "messages.py"),
    "recorder": (Recorder, "stepthrough.py"),
    "scene": (Scene, "scene.py"),
    "guide": (Guide, "guided.py"),
    "shots": (ScreenshotFlow, "screenshots.py"),
    "views": (Views, "live.py"),
    "focus": (Focus, "focus.py"),
}


def _class(module: str, name: str) -> ast.ClassDef:
    tree = ast.parse((TUI / module).read_text(encoding="utf-8"))
    return next(node for node in tree.body
                if isinstance(node, ast.ClassDef) and node.name == name)


def _assigned(cls: ast.ClassDef) -> Iterator[ast.expr]:
    """What the class's statements assign to (``x = ``, ``x: T = ``, ``x += ``)."""
    for node in ast.walk(cls):
        if isinstance(node, ast.Assign):
            yield from node.targets
        elif isinstance(node, (ast.AnnAssign, ast.AugAssign)):
            yield node.target


def _self_attributes(cls: ast.ClassDef) -> set[str]:
    """The attributes a class declares: every ``self.name = ...`` in its methods."""
    names: set[str] = set()
    for target in _assigned(cls):
        for sub in ast.walk(target):
            if (isinstance(sub, ast.Attribute) and isinstance(sub.value, ast.Name)
                    and sub.value.id == "self"):
                names.add(sub.attr)
    return names


def _written_through(cls: ast.ClassDef) -> set[str]:
    """The attributes a class holds and writes into: ``self.held.x = ...``."""
    held: set[str] = set()
    for target in _assigned(cls):
        if (isinstance(target, ast.Attribute) and isinstance(target.value, ast.Attribute)
                and isinstance(target.value.value, ast.Name)
                and target.value.value.id == "self"):
            held.add(target.value.attr)
    return held


def _held_concerns(cls: ast.ClassDef) -> set[str]:
    """The attributes in which a class keeps another concern it was given (its
    ``__init__`` parameters annotated with a concern's class)."""
    concern_names = {kind.__name__ for kind, _ in CONCERNS.values()}
    init = next(node for node in cls.body
                if isinstance(node, ast.FunctionDef) and node.name == "__init__")
    given = {arg.arg for arg in [*init.args.args, *init.args.kwonlyargs]
             if arg.annotation is not None and isinstance(arg.annotation, ast.Name)
             and arg.annotation.id in concern_names}
    held: set[str] = set()
    for node in ast.walk(init):
        if (isinstance(node, ast.Assign) and isinstance(node.value, ast.Name)
                and node.value.id in given):
            for target in node.targets:
                if isinstance(target, ast.Attribute):
                    held.add(target.attr)
    return held


def _calls(function: ast.FunctionDef) -> list[str]:
    """The calls a method makes, in the order written: ``self.a.b(...)`` as ``a.b``."""
    calls: list[tuple[int, int, str]] = []
    for node in ast.walk(function):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            parts: list[str] = [node.func.attr]
            value = node.func.value
            while isinstance(value, ast.Attribute):
                parts.append(value.attr)
                value = value.value
            if isinstance(value, ast.Name) and value.id == "self":
                calls.append((node.lineno, node.col_offset, ".".join(reversed(parts))))
    return [name for _, _, name in sorted(calls)]


def test_the_app_has_no_mixin_and_the_base_with_its_hooks_is_gone() -> None:
    assert ObservatoryApp.__bases__ == (App,)
    ours = [cls for cls in ObservatoryApp.__mro__
            if cls.__module__.startswith("tcp_observatory.tui.")]
    assert ours == [ObservatoryApp]
    assert not (TUI / "base.py").exists()
    for path in sorted(TUI.rglob("*.py")):  # no hook left for another part to fill in
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Raise) and node.exc is not None:
                raised = node.exc.func if isinstance(node.exc, ast.Call) else node.exc
                assert not (isinstance(raised, ast.Name)
                            and raised.id == "NotImplementedError"), path.name


def test_each_concern_is_one_object_of_its_own_module(tmp_path: Path) -> None:
    app = ObservatoryApp(Session(port=0), lang="en", clients=0, student="Test Student",
                         folder=tmp_path, auto_capture=False, start_session=False)
    try:
        for attribute, (kind, module) in CONCERNS.items():
            assert type(getattr(app, attribute)) is kind, attribute
            assert kind.__module__ == "tcp_observatory.tui." + module.removesuffix(".py"), kind
            assert kind.__bases__ == (object,), f"{kind.__name__} is a plain object"
        # The app's concerns are distinct objects, and the views read the ones it owns.
        assert len({id(getattr(app, a)) for a in CONCERNS}) == len(CONCERNS)
    finally:
        app.shutdown()


def test_no_concern_declares_or_writes_another_concerns_state() -> None:
    declared = {name: _self_attributes(_class(module, kind.__name__))
                for name, (kind, module) in CONCERNS.items()}
    for name, attributes in declared.items():
        for other, theirs in declared.items():
            # (Each concern is told its language; the views and the guide keep the session.)
            shared = attributes & theirs - {"lang", "_app", "session", "clock"}
            assert other == name or not shared, f"{name} and {other} both declare {shared}"
    for name, (kind, module) in CONCERNS.items():
        cls = _class(module, kind.__name__)
        held = _held_concerns(cls)
        assert not held & _written_through(cls), f"{name} writes into {held}"
        # And none knows the app's class (only Textual's App, for its widgets).
        tree = ast.parse((TUI / module).read_text(encoding="utf-8"))
        imported = {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
        assert "tcp_observatory.tui.app" not in imported, module
    # The views are given the recorder and the scene, to read.
    assert _held_concerns(_class("live.py", "Views")) == {"_recorder", "_scene"}


def test_one_snapshot_takes_one_straight_line_through_the_app() -> None:
    """``apply``: recorded, on the timeline, the scene kept true, the moment kept (held
    while paused), shown, the evidence looked for; met evidence takes the picture."""
    app = _class("app.py", "ObservatoryApp")
    methods = {node.name: node for node in app.body if isinstance(node, ast.FunctionDef)}
    steps = {"recorder.keep", "views.to_timeline", "views.quiet", "scene.track",
             "recorder.record", "recorder.hold", "views.show", "_check_evidence"}
    assert [call for call in _calls(methods["apply"]) if call in steps] == [
        "recorder.keep", "views.to_timeline", "views.quiet", "_check_evidence",
        "scene.track", "recorder.record", "recorder.hold", "views.show", "_check_evidence"]
    check = _calls(methods["_check_evidence"])
    assert check.index("guide.check") < check.index("take_screenshot")
    assert _calls(methods["on_snapshot_message"]) == ["inbox.transitions", "apply"]
