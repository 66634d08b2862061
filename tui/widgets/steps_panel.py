"""The guided lab: the steps, what to do, the question, the evidence awaited, the answer."""

from __future__ import annotations

from collections.abc import Callable

from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.message import Message
from textual.widgets import Input, Static

from tcp_observatory.lab.guide.evidence import Evidence
from tcp_observatory.lab.guide.steps import STEPS, get_step
from tcp_observatory.lab.i18n import t
from tcp_observatory.tui.widgets.line_input import LineInput
from tcp_observatory.tui.widgets.prose import Prose, set_text


class AnswerInput(LineInput):
    """The answer box. It is out of the Tab order and out of Textual's own moves of the
    focus (when a focused client's input is removed, the focus must not fall here and take
    the keystrokes meant for a client): it takes the focus when clicked, or by its key."""

    def __init__(self, *, placeholder: str, value: str = "", id: str | None = None) -> None:
        # Coming back to it, the next key goes on with the answer (selected, it replaced it).
        super().__init__(value, placeholder=placeholder, id=id, select_on_focus=False)
        self.chosen = False  # the student asked for it (a click, or its key)

    def allow_focus(self) -> bool:
        return self.chosen

    def choose(self) -> None:
        self.chosen = True
        self.screen.set_focus(self)  # at once: the keys already queued come here

    def on_mouse_down(self, event: events.MouseDown) -> None:
        if self.screen.focused is not self:
            self.choose()


class StepsPanel(VerticalScroll, can_focus=False):
    class AnswerChanged(Message):
        """The answer box changed: as typed (saved soon), or with Enter (saved now)."""

        def __init__(self, step_id: str, answer: str, *, submitted: bool = False) -> None:
            super().__init__()
            self.step_id = step_id
            self.answer = answer
            self.submitted = submitted

    def __init__(self, lang: str, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.lang = lang
        self.step_id = STEPS[0].id
        self.met: list[str] = []
        self.evidence: Evidence | None = None
        self.scene_by_app: list[str] = []
        self.todo = ""
        self.hint = ""
        # step id -> which of the student's own programs it needs (--exec-server), if any
        self.program_hint: Callable[[str], str | None] = lambda _step: None
        # The parts are made the first time the panel is shown (``show``): hidden at the
        # start, ten widgets cost the first screen about 5 ms (bench/bench_startup.py).
        # Until then the answer and the typing line are kept here.
        self.built = False
        self._answer = ""
        self._typing: tuple[int | None, str] = (None, "")

    def set_scene(self, by_app: list[str], todo: str) -> None:
        """What the app set up for the step, and what is left to the student."""
        self.scene_by_app = list(by_app)
        self.todo = todo
        self.refresh_panel()

    def set_hint(self, hint: str) -> None:
        if hint != self.hint:
            self.hint = hint
            self.refresh_panel()

    def compose(self) -> ComposeResult:
        return ()  # made when first shown (build)

    def show(self, shown: bool = True) -> None:
        """Show or hide the panel; shown, its parts are there at once (``build``)."""
        if shown:
            self.build()
        self.display = shown

    def build(self) -> None:
        """Make the panel's parts, once. They are in the screen's tree when this returns
        (a query finds them, the answer box can take the focus), and composed soon after."""
        if self.built:
            return
        self.built = True
        self.mount(Static(id="step-typing"),  # shown only where the panel covers the clients
                   Prose(id="steps-list"), Prose(id="step-body"), Prose(id="step-evidence"))
        # The answer box stays at the panel's foot, in view however long the step's text
        # is (the text above scrolls).
        area = Vertical(id="step-answer-area")
        self.mount(area)
        box = AnswerInput(placeholder=t("steps.answer_placeholder", self.lang),
                          value=self._answer, id="step-answer")
        area.mount(Static(Text(t("steps.answer", self.lang), style="bold"),
                          id="step-answer-label"),
                   box,
                   Static(Text(t("steps.keys", self.lang), style="#9e9e9e"), id="step-keys"))
        self.refresh_panel()
        self.show_typing(*self._typing)

    def on_mount(self) -> None:
        self.border_title = t("steps.title", self.lang)
        self.refresh_panel()

    def show_step(self, step_id: str, met: list[str], answer: str) -> None:
        if step_id != self.step_id:
            self.scene_by_app, self.todo, self.hint = [], "", ""
        self.step_id = step_id
        self.met = list(met)
        self.evidence = None
        self._answer = answer
        if not self.built:
            return
        field = self.query_one("#step-answer", Input)
        if field.value != answer:
            with field.prevent(Input.Changed):  # the stored answer, not a student's typing
                field.value = answer
        self.refresh_panel()

    def show_typing(self, client: int | None, text: str = "") -> None:
        """Where the keys go, and what is typed there: the panel's top line when it lies
        over the clients' cards (80x24), which then cannot show their own input."""
        self._typing = (client, text)
        self.set_class(client is not None, "-typing")
        if not self.built:
            return
        if client is not None:
            line = Text(t("steps.typing", self.lang, n=client), style="bold")
            line.append(text)  # the student's own typing, shown literally
            line.append("▏")
            # One line, always: the screen need not be laid out again at every key.
            self.query_one("#step-typing", Static).update(line, layout=False)

    def typed_answer(self) -> str:
        """What the answer box holds now (its Changed message may still be on its way)."""
        if not self.built:
            return self._answer
        return self.query_one("#step-answer", Input).value

    def set_evidence(self, evidence: Evidence, met: list[str]) -> None:
        if evidence == self.evidence and met == self.met:
            return
        self.evidence = evidence
        self.met = list(met)
        self.refresh_panel()

    def refresh_panel(self) -> None:
        if not self.built:
            return  # drawn when made
        lang = self.lang
        listing = Text()
        for step in STEPS:
            done = step.id in self.met
            here = step.id == self.step_id
            mark = "✓" if done else ("▶" if here else "·")
            style = "bold #5fff5f" if done else ("bold #ffffff" if here else "#9e9e9e")
            listing.append(f"{mark} {step.id:<7}{step.text('title', lang)}\n", style=style)
        set_text(self.query_one("#steps-list", Static), listing)
        step = get_step(self.step_id)
        body = Text()
        body.append(f"\n{step.id} — {step.text('title', lang)}\n", style="bold #ffd700")
        body.append(t("steps.todo", lang), style="bold")
        body.append(" " + step.text("todo", lang) + "\n")
        hint = self.program_hint(step.id)
        if hint:
            body.append(hint + "\n", style="bold #87d7ff")
        body.append(t("steps.question", lang), style="bold")
        body.append(" " + step.text("question", lang) + "\n")
        body.append(t("steps.evidence", lang), style="bold")
        body.append(" " + step.text("evidence", lang))
        if self.scene_by_app:
            body.append("\n" + t("steps.by_app", lang), style="bold #87afff")
            body.append(" " + t("list.sep", lang).join(self.scene_by_app), style="#87afff")
        if self.todo:
            body.append("\n" + t("steps.your_turn", lang), style="bold #5fff5f")
            body.append(" " + self.todo, style="#5fff5f")
        set_text(self.query_one("#step-body", Static), body)
        ev = Text()
        if step.id in self.met:
            ev.append("\n✓ " + t("steps.met", lang) + "\n", style="bold #5fff5f")
        elif self.hint:
            ev.append("\n" + self.hint + "\n", style="bold #ffd700")
        elif self.evidence is not None:
            ev.append("\n")
        if self.evidence is not None:
            for fact in self.evidence.found:
                ev.append(f"  ✓ {fact}\n", style="#5fff5f")
            for fact in self.evidence.missing:
                ev.append(f"  … {fact}\n", style="#ffaf00")
        set_text(self.query_one("#step-evidence", Static), ev)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if event.value != event.input.value:
            return  # Enter before a change of step, which took the text (tui.guided)
        self.post_message(self.AnswerChanged(self.step_id, event.value, submitted=True))

    def on_input_changed(self, event: Input.Changed) -> None:
        event.stop()
        if event.value != event.input.value:
            # Typed before a change of step that has since put another answer in the box:
            # the app took the typed text for its own step then (tui.guided).
            return
        self.post_message(self.AnswerChanged(self.step_id, event.value))
