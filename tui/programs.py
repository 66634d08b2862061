"""Show what a student's own program (--exec-server / --exec-client) prints, in its pane.

The lines arrive already made printable (lab.net.program); they are shown without markup.
"""

from __future__ import annotations

from textual.widgets import Input

from lab.i18n import t
from lab.net.program import (
    ProgramDropped,
    ProgramExited,
    ProgramFailed,
    ProgramLine,
    exit_text,
)
from lab.session import ProgramReport
from tui.widgets.clients import ClientsPane
from tui.widgets.server_pane import ServerPane

ERR_STYLE = "#ff8787"
NOTE_STYLE = "bold #ffd700"


def report_text(report: ProgramReport, lang: str) -> tuple[str, str]:
    """The line a pane shows for one report, and its style."""
    e = report.event
    if isinstance(e, ProgramLine):
        return e.text, ERR_STYLE if e.stream == "err" else ""
    if isinstance(e, ProgramDropped):
        return t("prog.dropped", lang, count=e.count), NOTE_STYLE
    if isinstance(e, ProgramExited):
        return exit_text(e, report.name, lang), NOTE_STYLE
    return e.message, "bold " + ERR_STYLE


def show_report(report: ProgramReport, lang: str, server: ServerPane, clients: ClientsPane) -> None:
    text, style = report_text(report, lang)
    if report.who == 0:
        server.program_line(text, style)
        return
    card = clients.card(report.who)
    if card is None or not card.follows(report.ident):
        return
    card.program = report.name
    ended = isinstance(report.event, (ProgramExited, ProgramFailed))
    card.program_line(text)
    if ended and not card.closed:
        card.closed = True
        field = card.query_one(Input)
        field.placeholder = t("client.closed_placeholder", lang)
        field.disabled = True


__all__ = ["report_text", "show_report"]
