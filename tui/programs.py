"""Show what a student's own program (--exec-server / --exec-client) does, in its pane.

Every line it prints goes to the pane's log (bounded: the pane says how many lines left it),
so an error printed just before it stopped stays on screen. The lines arrive already made
printable (lab.net.program); they are shown without markup.
"""

from __future__ import annotations

from textual.widgets import Input

from tcp_observatory.lab.i18n import t
from tcp_observatory.lab.net.program import (
    MAX_PENDING,
    ProgramExited,
    ProgramFailed,
    ProgramInput,
    ProgramLine,
    ProgramStarted,
    ProgramWaiting,
    exit_text,
)
from tcp_observatory.lab.session import ProgramReport
from tcp_observatory.lab.text import printable
from tcp_observatory.tui.widgets.clients import ClientsPane
from tcp_observatory.tui.widgets.server_pane import ServerPane

ERR_STYLE = "#ff8787"
NOTE_STYLE = "bold #ffd700"


def size_text(count: int, lang: str) -> str:
    """A number of bytes as a person reads it: "300 bytes", "12 KiB" ("12 Kio")."""
    if count < 1024:
        return t("size.bytes", lang, n=count)
    return t("size.kib", lang, n=round(count / 1024))


def report_text(report: ProgramReport, lang: str) -> tuple[str, str]:
    """The line a pane shows for one report, and its style."""
    e = report.event
    name = report.name
    if isinstance(e, ProgramLine):
        return e.text, ERR_STYLE if e.stream == "err" else ""
    if isinstance(e, ProgramStarted):
        return t("prog.started", lang, command=printable(e.command, 200), pid=e.pid), NOTE_STYLE
    if isinstance(e, ProgramWaiting):
        return t("prog.waiting", lang, name=name, port=e.port), NOTE_STYLE
    if isinstance(e, ProgramInput):
        size = size_text(e.pending, lang)
        if e.state == "stalled":
            text = t("prog.input.stalled", lang, name=name, size=size,
                     max=size_text(MAX_PENDING, lang))
        elif e.state == "refused":
            text = t("prog.input.refused", lang, name=name, size=size)
        else:
            text = t("prog.input.resumed", lang, name=name)
        return text, NOTE_STYLE
    if isinstance(e, ProgramExited):
        return exit_text(e, name, lang), NOTE_STYLE
    return e.message, "bold " + ERR_STYLE


def show_reports(reports: list[ProgramReport], lang: str, server: ServerPane,
                 clients: ClientsPane) -> None:
    """Show reports in their order; the lines of one pane in a row are written at once."""
    run: list[tuple[str, str]] = []
    for i, report in enumerate(reports):
        if not isinstance(report.event, ProgramLine):
            show_report(report, lang, server, clients)
            continue
        run.append(report_text(report, lang))
        after = reports[i + 1] if i + 1 < len(reports) else None
        if (after is None or after.who != report.who
                or not isinstance(after.event, ProgramLine)):
            _show_lines(report, run, server, clients)
            run = []


def _show_lines(report: ProgramReport, lines: list[tuple[str, str]], server: ServerPane,
                clients: ClientsPane) -> None:
    if report.who == 0:
        server.program_lines(lines)
        return
    card = clients.card(report.who)
    if card is not None and card.follows(report.ident):
        card.program = report.name
        card.program_lines(lines)


def show_report(report: ProgramReport, lang: str, server: ServerPane, clients: ClientsPane) -> None:
    text, style = report_text(report, lang)
    e = report.event
    if report.who == 0:
        server.program_lines([(text, style)])
        return
    card = clients.card(report.who)
    if card is None or not card.follows(report.ident):
        return
    card.program = report.name
    card.program_lines([(text, style)])
    if isinstance(e, ProgramStarted):
        card.program_status(t("prog.started", lang, command=report.name, pid=e.pid))
    elif isinstance(e, ProgramWaiting):
        card.program_status(t("client.waiting", lang, port=e.port))
    elif isinstance(e, (ProgramExited, ProgramFailed)):
        card.program_status(text)
        if not card.closed:
            card.closed = True
            field = card.query_one(Input)
            field.placeholder = t("client.closed_placeholder", lang)
            field.disabled = True


__all__ = ["report_text", "show_report", "show_reports", "size_text"]
