"""Asks the student's name once: it is stamped on every screenshot."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Static

from tcp_observatory.lab.i18n import t
from tcp_observatory.lab.text import clean_field


class NamePrompt(ModalScreen[str]):
    DEFAULT_CSS = """
    NamePrompt {
        align: center middle;
    }
    NamePrompt > Vertical {
        width: 64;
        max-width: 95%;
        height: auto;
        border: heavy #ffd700;
        background: #101010;
        padding: 1 2;
    }
    NamePrompt Input {
        margin-top: 1;
    }
    """
    BINDINGS = [("escape", "skip", "")]

    def __init__(self, lang: str) -> None:
        super().__init__()
        self.lang = lang

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(Text(t("name.title", self.lang), style="bold"))
            yield Static(Text(t("name.why", self.lang), style="#bcbcbc"))
            yield Input(placeholder=t("name.placeholder", self.lang), id="name-input")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        name = clean_field(event.value)
        if name:
            self.dismiss(name)

    def action_skip(self) -> None:
        self.dismiss("")
