"""Client panes: one card per client, with its kernel state and an input line; a student's
client program (--exec-client) also gets the log of what it printed."""

from __future__ import annotations

import time
from collections.abc import Iterable

from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.css.types import EdgeType
from textual.message import Message
from textual.widgets import Input, Static

from tcp_observatory.lab.i18n import t
from tcp_observatory.lab.net.client import ClientEvent
from tcp_observatory.lab.text import printable
from tcp_observatory.tui.bounded import keep
from tcp_observatory.tui.theme import state_style
from tcp_observatory.tui.widgets.line_input import LineInput
from tcp_observatory.tui.widgets.pane_log import PaneLog, show_dropped
from tcp_observatory.tui.widgets.prose import set_text

CARD_LINES = 500  # rows of a client program's log kept
LOG_ROWS = 8  # rows of it on screen at most (.client-log's max-height in app.tcss)

MAX_SAID = 200  # status lines a card keeps for stepping back through moments
# The card whose input has the keys is drawn heavy (app.tcss draws the others round).
HAS_KEYS_BORDER: tuple[EdgeType, str] = ("heavy", "#5fff5f")


class ClientCard(Vertical):
    class Send(Message):
        def __init__(self, number: int, text: str) -> None:
            super().__init__()
            self.number = number
            self.text = text

    def __init__(self, number: int, lang: str, ident: int = 0) -> None:
        super().__init__(id=f"client-{number}", classes="client-card")
        self.number = number
        # The client this card follows, for good: a new client given the same number (a
        # new scene) gets a new card, never this one's state, message or exit.
        self.ident = ident
        self.lang = lang
        self.local = ""
        self.kernel_state = ""
        self.last = t("client.connecting", lang)
        self.closed = False
        self.closed_at: float | None = None
        self.program = ""  # the student's program in this pane (--exec-client), if any
        # Its status lines with their times, for a past moment stepped to (F7, [ ]); the
        # moment shown, None: now.
        self.said: list[tuple[float, str]] = []
        self.moment: float | None = None
        self.lines_text: list[str] = []  # what the program printed, as its log shows it

    def compose(self) -> ComposeResult:
        yield Static(id=f"client-{self.number}-status", classes="client-status")
        yield Static(id=f"client-{self.number}-dropped", classes="pane-dropped")
        yield PaneLog(CARD_LINES, id=f"client-{self.number}-log", classes="client-log")
        # The focus comes back here after F1, F12, Ctrl+N...: the next key goes on with
        # the line (selected, the line typed before was replaced by it).
        yield LineInput(placeholder=t("client.placeholder", self.lang),
                        id=f"client-{self.number}-input", classes="client-input",
                        select_on_focus=False)

    def on_mount(self) -> None:
        self._render_title()

    # The card with the keys: its own border, set here when its input takes or loses the
    # focus. A ":focus-within" rule did it by restyling the card and all its parts at every
    # move of the focus (the first one included: ~3 ms of the start).
    def on_descendant_focus(self, event: events.DescendantFocus) -> None:
        self.styles.border = HAS_KEYS_BORDER

    def on_descendant_blur(self, event: events.DescendantBlur) -> None:
        self.styles.border = None  # back to app.tcss's

    def _render_title(self) -> None:
        title = Text(t("client.title", self.lang, n=self.number))
        if self.program:
            title.append(f" ({self.program})")
        if self.kernel_state:
            title.append(" · ")
            title.append(self.kernel_state, style=state_style(self.kernel_state))
        self.border_title = title
        self.border_subtitle = Text(self.local) if self.local else None
        set_text(self.query_one(".client-status", Static), self._status())

    def _status(self) -> Text:
        if self.moment is None:
            return Text(self.last)
        then = [text for when, text in self.said if when <= self.moment]
        return Text("⏸ " + (then[-1] if then else t("client.connecting", self.lang)),
                    style="#9e9e9e")

    def at(self, moment: float | None) -> None:
        """Show the card as it was at ``moment`` (None: now): its last line then."""
        if moment != self.moment:
            self.moment = moment
            self._render_title()

    def closed_by(self, moment: float | None) -> bool:
        """Whether its socket was closed at ``moment`` (None: now)."""
        return self.closed and (moment is None or (
            self.closed_at is not None and self.closed_at <= moment))

    def _said(self, when: float) -> None:
        self.said.append((when, self.last))
        if len(self.said) > MAX_SAID:
            del self.said[:len(self.said) - MAX_SAID]

    def set_state(self, state: str) -> None:
        if state != self.kernel_state:
            self.kernel_state = state
            self._render_title()

    def follows(self, ident: int) -> bool:
        """Whether an event of client ``ident`` is this card's (0: not told, as before)."""
        return not ident or not self.ident or ident == self.ident

    def on_client_event(self, e: ClientEvent) -> None:
        if not self.follows(e.ident):
            return  # an earlier client that had this number
        if e.local is not None:
            self.local = str(e.local)
        kind = e.kind
        text = printable(e.text, 200)
        if kind == "connected":
            self.last = t("client.connected", self.lang, local=self.local)
        elif kind in ("sent", "received", "failed", "error"):
            self.last = t(f"client.{kind}", self.lang, text=text)
        elif kind == "waiting":
            self.last = t("client.waiting", self.lang, port=text)
        elif kind == "closed" and self.closed:
            pass  # keep '"Fin" sent, socket closed'
        elif kind in ("fin", "closed", "server-closed"):
            self.last = t(f"client.{kind.replace('-', '_')}", self.lang)
        if kind in ("fin", "closed", "failed"):
            if not self.closed:
                self.closed_at = e.time
            self.closed = True
            field = self.query_one(Input)
            field.placeholder = t("client.closed_placeholder", self.lang)
            field.disabled = True
        self._said(e.time)
        self._render_title()

    def program_lines(self, lines: list[tuple[str, str]]) -> None:
        """Lines (text, style) the student's client printed (already printable), or lines
        about it: kept in the card's log, which a flood cannot grow without end."""
        keep(self.lines_text, [text for text, _ in lines], CARD_LINES)
        log = self.query_one(PaneLog)
        log.display = True
        before = log.dropped
        log.add([Text(text, style=style) for text, style in lines])
        if not log.has_class("-full") and len(log.lines) >= LOG_ROWS:
            log.add_class("-full")  # its height is fixed from now: no new layout per line
        if log.dropped != before:
            show_dropped(self.query_one(".pane-dropped", Static),
                         t("pane.dropped", self.lang, n=log.dropped, max=CARD_LINES))

    @property
    def dropped(self) -> int:
        """Lines of the program's log let go (a flood), as the card says above the log."""
        return self.query_one(PaneLog).dropped

    def program_status(self, text: str) -> None:
        """The card's status line for the student's client: started, waiting, ended."""
        self.last = text
        self._said(time.time())
        self._render_title()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        text = event.value
        event.input.clear()
        self.post_message(self.Send(self.number, text))


class ClientsPane(VerticalScroll):
    def __init__(self, lang: str, *, id: str | None = None,
                 cards: Iterable[tuple[int, int]] = ()) -> None:
        """``cards``: the clients (number, ident) the lab has already, drawn with the pane
        (their "client-add" finds each card there instead of mounting it afterwards)."""
        super().__init__(id=id)
        self.lang = lang
        self._initial = list(cards)

    def compose(self) -> ComposeResult:
        empty = Static(Text(t("clients.empty", self.lang)), id="clients-empty")
        empty.display = not self._initial
        yield empty
        for number, ident in self._initial:
            yield ClientCard(number, self.lang, ident)

    def card(self, number: int) -> ClientCard | None:
        found = self.query(f"#client-{number}")
        return found.first(ClientCard) if found else None

    def cards(self) -> list[ClientCard]:
        return list(self.query(ClientCard))

    async def add_card(self, number: int, ident: int = 0) -> ClientCard:
        existing = self.card(number)
        if existing is not None:
            if existing.follows(ident):
                return existing
            await existing.remove()  # an earlier client's card: the new one starts blank
        card = ClientCard(number, self.lang, ident)
        await self.mount(card)
        self._update_empty()
        return card

    async def remove_card(self, number: int, ident: int = 0) -> None:
        card = self.card(number)
        if card is not None and card.follows(ident):
            await card.remove()
        self._update_empty()

    def _update_empty(self) -> None:
        self.query_one("#clients-empty").display = not self.cards()
