"""Where the keys go. A student types into a client's input: after the keys that change the
scene or the panel (F1, Ctrl+R, Ctrl+N, Ctrl+B, F2, F4) the focus is in one, the last used,
else the first. The answer box takes it only when clicked or by its own key (F12), so
"Bonjour" and "Fin" never land in the answer by surprise.

A plain object, owned by the app: it remembers the client whose input had the keys; the
widgets it moves the focus between are found through the app's screen."""

from __future__ import annotations

from typing import Any, TypeVar

from textual.app import App
from textual.widget import Widget
from textual.widgets import Input

from tcp_observatory.tui.lookup import present
from tcp_observatory.tui.widgets.clients import ClientCard, ClientsPane
from tcp_observatory.tui.widgets.steps_panel import AnswerInput, StepsPanel

W = TypeVar("W")


def focused_in(app: App[Any], kind: type[W]) -> W | None:
    """The widget of type ``kind`` that holds the focus (the focused widget or a parent)."""
    node = app.focused
    while node is not None:
        if isinstance(node, kind):
            return node
        node = node.parent  # type: ignore[assignment]
    return None


def focused_card(app: App[Any]) -> ClientCard | None:
    """The client card whose input (or the card itself) has the focus."""
    return focused_in(app, ClientCard)


def card_of(widget: Widget) -> ClientCard | None:
    return next((node for node in widget.ancestors_with_self
                 if isinstance(node, ClientCard)), None)


class Focus:
    def __init__(self, app: App[Any]) -> None:
        self._app = app
        self._last_client: int | None = None  # the client whose input last had the focus
        # No client's input could take it yet: the next card's does (at start, the first's).
        self._pending = True
        self.new_client: int | None = None  # F2's client: its card takes the focus

    def focus_client(self) -> bool:
        """Put the focus in a client's input: the last used, else the first that takes
        input. Without one, the next card to appear takes it (a scene's clients are
        closed before the new ones connect) and the answer box gives it up now."""
        app = self._app
        for box in present(app, AnswerInput):
            box.chosen = False
        card = self._client_to_focus()
        if card is None:
            self._pending = True
            for box in present(app, AnswerInput):
                if box.screen.focused is box:
                    box.screen.set_focus(None)
            return False
        self._pending = False
        # At once, not after the keys already queued (a student types on without waiting);
        # on the input's own screen (under the name prompt, it has the focus once it closes).
        field = card.query_one(Input)
        field.screen.set_focus(field)
        return True

    def _client_to_focus(self) -> ClientCard | None:
        cards = [c for c in self._app.query_one(ClientsPane).cards()
                 if c.query_one(Input).focusable]
        last = next((c for c in cards if c.number == self._last_client), None)
        return last or (cards[0] if cards else None)

    def focused(self, widget: Widget) -> None:
        """A widget took the focus: a client's input is the last used from now on."""
        card = card_of(widget)
        self._show_typing(card)
        if card is not None:
            self._last_client = card.number
            self._pending = False
            for box in present(self._app, AnswerInput):
                if box.screen.focused is not box:  # (chosen again since this was sent)
                    box.chosen = False

    def blurred(self, widget: Widget) -> None:
        if card_of(widget) is not None and focused_card(self._app) is None:
            self._show_typing(None)

    def typed(self, field: Input) -> None:
        card = card_of(field)
        if card is not None and focused_card(self._app) is card:
            self._show_typing(card)

    def _show_typing(self, card: ClientCard | None) -> None:
        """The steps panel says where the keys go where it covers the clients' cards."""
        text = card.query_one(Input).value if card is not None else ""
        for panel in present(self._app, StepsPanel):
            panel.show_typing(card.number if card is not None else None, text)

    def card_added(self, card: ClientCard) -> None:
        """A client's card appeared: F2's own takes the focus; any other takes it when the
        focus is waiting for a client or already in one (the last used keeps it)."""
        if self.new_client == card.number:
            self.new_client = None
            self._last_client = card.number
            self.focus_client()
        elif (self._pending or self._app.focused is None
              or focused_card(self._app) is not None):
            self.focus_client()

    def card_removed(self, had_focus: bool) -> None:
        """A client's card left; if it held the focus, another client's input takes it."""
        if had_focus or self._app.focused is None:
            self.focus_client()

    def answer(self) -> bool:
        """F12: the answer box takes the focus (the steps panel opens if hidden); pressed
        in the answer box, back to the client's input. True when the panel was opened."""
        app = self._app
        panel = app.query_one(StepsPanel)
        panel.build()
        box = app.query_one(AnswerInput)
        if app.focused is box:  # (has_focus follows a message later)
            self.focus_client()
            return False
        opened = not panel.display
        if opened:
            panel.show()
        self._pending = False
        box.choose()
        return opened
