"""The screenshot flow: the stamp bar, and a step's stamped SVG with its evidence record,
written off the UI thread. Taking one freezes what it proves (the scene's rows, messages
and witness, sealed in the stamp), lays the screen out as the step's picture, exports it
and gives the screen back.

A plain object, owned by the app: it is given the scene, the record and the name it
stamps; its widgets are the stamp bar, the picture's scene and the panel it hides."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual.app import App
from textual.widget import Widget
from textual.widgets import Static

from tcp_observatory.lab import __version__
from tcp_observatory.lab.errors import LabError
from tcp_observatory.lab.grading.manifest import save_screenshot
from tcp_observatory.lab.grading.record import origin_of, seal_for
from tcp_observatory.lab.grading.stamp import stamp_text, watermark_text
from tcp_observatory.lab.guide.evidence import Receipt
from tcp_observatory.lab.i18n import t
from tcp_observatory.lab.observe.model import RoleKind, Snapshot
from tcp_observatory.lab.observe.roles import describe_role
from tcp_observatory.lab.text import printable
from tcp_observatory.tui.lookup import present
from tcp_observatory.tui.messages import ShotFailed, ShotSaved
from tcp_observatory.tui.notes import action_note, server_note
from tcp_observatory.tui.scene import Scene
from tcp_observatory.tui.stepthrough import Recorder
from tcp_observatory.tui.widgets.steps_panel import StepsPanel

if TYPE_CHECKING:
    # The picture's scene and its module come with the first picture (``ScreenshotFlow.view``):
    # the first screen has no use for them (they and the table library they draw with took
    # about 3 ms of every start).
    from tcp_observatory.tui.widgets.evidence_view import EvidenceView, StoryLine

CAPTURE_REFRESHES = 20  # refreshes a capture waits at most for the picture's layout
STORY_SPAN = 120.0  # seconds of transitions kept with a picture's record (200 at most)


def story(scene_rows: Snapshot, scene: Scene, recorder: Recorder, lang: str) -> list[StoryLine]:
    """The step's events since its scene began, in time order, causes first."""
    from tcp_observatory.tui.widgets.evidence_view import StoryLine

    since = scene.start
    shown = {c.key for c in scene_rows.connections}
    lines: list[tuple[float, int, StoryLine]] = []
    for a in recorder.actions:
        # Closing the previous scene's server and clients is not this step's story.
        if a.time >= since and a.kind not in ("client-remove", "server-stop"):
            lines.append((a.time, 0, StoryLine(a.time, action_note(a, lang), True)))
    for e in recorder.server_events:
        if e.time < since:
            continue
        note = server_note(e, lang)
        if e.kind == "message":
            note = t("pic.received", lang, peer=str(e.peer) if e.peer else "?",
                     text=printable(e.text, 60))
        if note is not None:
            lines.append((e.time, 0, StoryLine(e.time, note, True)))
    for tr in recorder.history:
        c = tr.connection
        if (tr.time < since or c.role.kind in (RoleKind.OTHER, RoleKind.LISTENER)
                or (c.key in scene.past and c.key not in shown)):
            continue
        text = t("pic.change", lang, role=describe_role(c.role, lang),
                 before=tr.from_state or "-", after=tr.to_state)
        if tr.inferred:
            text += " ≈ " + t("pic.inferred", lang)
        lines.append((tr.time, 1, StoryLine(tr.time, text, inferred=tr.inferred,
                                            state=tr.to_state)))
    lines.sort(key=lambda x: (x[0], x[1]))
    return [line for _, _, line in lines]


class ScreenshotFlow:
    def __init__(self, app: App[Any], lang: str, *, host: str, demo: bool,
                 auto_capture: bool) -> None:
        self._app = app
        self.lang = lang
        self.host = host
        self.demo = demo  # the app's own demo: watermarked, and marked so in the manifest
        self.auto_capture = auto_capture  # met evidence takes the step's picture by itself
        self.capturing = False  # the screen is the picture's, until it is exported
        self.shooting: set[str] = set()  # steps whose evidence screenshot is being saved
        self.saved: list[Path] = []  # screenshots written by this run
        self.save_errors: list[str] = []  # and the sentences of those that could not be
        self._stamps_shown: dict[int, Text] = {}  # id of a stamp bar -> the text it shows
        self._panel_shown = False  # the steps panel's display, kept while a picture is taken
        self._focus_before: Widget | None = None  # and the focus

    # -- the stamp -------------------------------------------------------------------------
    def stamp(self, student: str, step: str, when: float, seal: str | None = None) -> None:
        line = stamp_text(student or "?", self.host, when, step, __version__, self.lang, seal)
        text = Text(line, style="bold #000000 on #ffd700")
        if self.demo:  # on screen, and so in every picture: a demo is never a student's work
            text = Text.assemble((f" {watermark_text(self.lang)} ", "bold #ffffff on #d70000"),
                                 " ", text)
        for bar in present(self._app, Static, "stamp"):
            shown = self._stamps_shown.get(id(bar))
            if shown is not None and shown.plain == text.plain:
                continue
            # The clock ticks every second: a text as long as the last one wraps as it did,
            # so the screen need not be laid out again (~15 ms with thousands of rows).
            bar.update(text, layout=shown is None or shown.cell_len != text.cell_len)
            self._stamps_shown[id(bar)] = text

    # -- taking one ------------------------------------------------------------------------
    def automatic(self, step: str) -> bool:
        """Whether met evidence may take the step's picture now (none being taken or saved
        for it, and automatic capture on)."""
        return self.auto_capture and step not in self.shooting and not self.capturing

    def freeze(self, step: str, now: float, shown: Snapshot, scene: Scene, recorder: Recorder,
               *, student: str, answer: str, mode: str, port: int,
               receipts: list[Receipt]) -> tuple[str, dict[str, Any]]:
        """What the picture of ``step`` proves, frozen at ``now``: its seal (shown in the
        stamp) and its record's fields. From now until it is exported, the screen is the
        picture's."""
        self.capturing = True
        self.shooting.add(step)  # until it is saved, no automatic one for the same step
        snapshot = scene.only(shown)  # the step's rows: what its record holds
        messages = list(scene.messages)
        origin = origin_of(demo=self.demo, sent_by_app=scene.sent_by_app,
                           scene_by_app=scene.by_app)
        refused = list(scene.refused)
        seal = seal_for(step, snapshot, messages, mode, port, origin, refused, receipts)
        args = dict(snapshot=snapshot, messages=messages, mode=mode, port=port,
                    transitions=[tr for tr in recorder.history
                                 if tr.time >= now - STORY_SPAN][-200:],
                    answer=answer, student=student, host=self.host, version=__version__,
                    now=now, lang=self.lang, origin=origin, refused=refused, receipts=receipts)
        return seal, args

    def enter(self, step: str, scene_rows: Snapshot, lines: list[StoryLine],
              earlier: int) -> None:
        """The screen as the step's picture: its scene alone (``earlier`` connections of
        earlier steps left out, and said), every column it reads, whole."""
        app = self._app
        self.view().show_scene(step, scene_rows, lines, earlier)
        app.clear_notifications()  # a toast ("step ready") is not part of the evidence
        self._focus_before = app.focused  # hiding the panes drops the focus: give it back
        app.screen.add_class("-capture")
        panel = app.query_one(StepsPanel)
        self._panel_shown = bool(panel.display)
        panel.display = False  # the evidence wins over side panels in the picture

    def view(self) -> EvidenceView:
        """The picture's scene, made the first time a picture is taken: in the screen's tree
        when this returns, before the panes (hidden but while a picture is taken)."""
        from tcp_observatory.tui.widgets.evidence_view import EvidenceView

        for view in present(self._app, EvidenceView):
            return view
        main = self._app.query_one("#main")
        view = EvidenceView(self.lang, id="evidence")
        main.screen.mount(view, before=main)
        return view

    def laid_out(self) -> bool:
        """The picture's layout is on screen: the scene shown, the panes and panel gone."""
        app = self._app
        shown = self.view().region.area > 0
        # The panes' containers are never drawn (app.tcss): their region is always empty,
        # the panes' own tells.
        panes = [w for w in app.query("#main *") if w.visible]
        hidden = all(w.region.area == 0 for w in (*panes, *app.query("#keys"),
                                                   *app.query(StepsPanel)))
        return shown and hidden

    def leave(self) -> None:
        app = self._app
        app.screen.remove_class("-capture")
        app.query_one(StepsPanel).show(self._panel_shown)
        before = self._focus_before
        if before is not None and before.is_attached:
            # At once, so that keys typed while the picture is written reach the input, and
            # again once the panes are laid out (hiding them may still blur it).
            app.screen.set_focus(before, scroll_visible=False)
            app.call_after_refresh(before.focus)
            # Hiding the panes sent the input a Hide message, whose handler blurs it. On a
            # loaded machine the input handles it only now, after the focus came back: a
            # call queued behind it, in the input's own queue, gives the focus back again.
            before.call_later(self._refocus, before)
        self._focus_before = None

    def _refocus(self, widget: Widget) -> None:
        if widget.is_attached and not self.capturing and self._app.focused is not widget:
            self._app.screen.set_focus(widget, scroll_visible=False)

    def capture(self, step: str, args: dict[str, Any], folder: Path,
                done: Callable[[], None], tries: int = 0) -> None:
        """Export the picture once laid out, give the screen back (then ``done``), and
        write it with its record off the UI thread (``ShotSaved`` or ``ShotFailed``)."""
        # A refresh already under way when the capture began may not have laid the
        # picture's screen out yet: exported then, the picture would miss its stamp and
        # scene (and verify would reject it). Wait for the layout, a few refreshes at most.
        app = self._app
        if not self.laid_out() and tries < CAPTURE_REFRESHES:
            app.call_after_refresh(self.capture, step, args, folder, done, tries + 1)
            return
        svg = app.export_screenshot(title=f"TCP Observatory — {step}")
        self.leave()
        self.capturing = False
        done()

        def work() -> None:
            from tcp_observatory.lab.grading.report import (
                write_report,  # loaded at the first picture
            )

            try:
                saved = save_screenshot(folder, step, svg, **args)
                write_report(folder, self.lang)
            except LabError as exc:
                app.post_message(ShotFailed(step, str(exc)))
                return
            app.post_message(ShotSaved(step, saved))

        app.run_worker(work, thread=True, group="screenshot", exit_on_error=False)

    # -- written, or not -------------------------------------------------------------------
    def failed(self, message: ShotFailed) -> None:
        self.shooting.discard(message.step)
        self.save_errors.append(message.error)

    def written(self, message: ShotSaved) -> None:
        self.shooting.discard(message.step)
        self.saved.append(message.saved.path)
