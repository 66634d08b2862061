"""Where the keys go. A student types into a client's input: after the keys that change the
scene or the panel (F1, Ctrl+R, Ctrl+N, Ctrl+B, F2, F4) the focus is in one, the last used,
else the first. The answer box takes it only when clicked or by its own key (F12), so
"Bonjour" and "Fin" never land in the answer by surprise."""

from __future__ import annotations

from textual import events
from textual.widget import Widget
from textual.widgets import Input

from tui.base import ObservatoryBase
from tui.widgets.clients import ClientCard
from tui.widgets.steps_panel import AnswerInput, StepsPanel


def _card_of(widget: Widget) -> ClientCard | None:
    return next((node for node in widget.ancestors_with_self
                 if isinstance(node, ClientCard)), None)


class Focus(ObservatoryBase):
    def focus_client(self) -> bool:
        """Put the focus in a client's input: the last used, else the first that takes
        input. Without one, the next card to appear takes it (a scene's clients are
        closed before the new ones connect) and the answer box gives it up now."""
        for box in self.query(AnswerInput):
            box.chosen = False
        card = self._client_to_focus()
        if card is None:
            self._client_focus_pending = True
            for box in self.query(AnswerInput):
                if box.screen.focused is box:
                    box.screen.set_focus(None)
            return False
        self._client_focus_pending = False
        # At once, not after the keys already queued (a student types on without waiting);
        # on the input's own screen (under the name prompt, it has the focus once it closes).
        field = card.query_one(Input)
        field.screen.set_focus(field)
        return True

    def _client_to_focus(self) -> ClientCard | None:
        cards = [c for c in self.clients_pane.cards() if c.query_one(Input).focusable]
        last = next((c for c in cards if c.number == self._last_client), None)
        return last or (cards[0] if cards else None)

    def on_descendant_focus(self, event: events.DescendantFocus) -> None:
        card = _card_of(event.widget)
        self._show_typing(card)
        if card is not None:
            self._last_client = card.number
            self._client_focus_pending = False
            for box in self.query(AnswerInput):
                if box.screen.focused is not box:  # (chosen again since this was sent)
                    box.chosen = False

    def on_descendant_blur(self, event: events.DescendantBlur) -> None:
        if _card_of(event.widget) is not None and self._focused_card() is None:
            self._show_typing(None)

    def on_input_changed(self, event: Input.Changed) -> None:
        card = _card_of(event.input)
        if card is not None and self._focused_card() is card:
            self._show_typing(card)

    def _show_typing(self, card: ClientCard | None) -> None:
        """The steps panel says where the keys go where it covers the clients' cards."""
        text = card.query_one(Input).value if card is not None else ""
        for panel in self.query(StepsPanel):
            panel.show_typing(card.number if card is not None else None, text)

    def card_added(self, card: ClientCard) -> None:
        """A client's card appeared: F2's own takes the focus; any other takes it when the
        focus is waiting for a client or already in one (the last used keeps it)."""
        if self._focus_new_client == card.number:
            self._focus_new_client = None
            self._last_client = card.number
            self.focus_client()
        elif (self._client_focus_pending or self.focused is None
              or self._focused_card() is not None):
            self.focus_client()

    def card_removed(self, had_focus: bool) -> None:
        """A client's card left; if it held the focus, another client's input takes it."""
        if had_focus or self.focused is None:
            self.focus_client()

    def action_answer(self) -> None:
        """F12: the answer box takes the focus (the steps panel opens if hidden); pressed
        in the answer box, back to the client's input."""
        box = self.query_one(AnswerInput)
        if self.focused is box:  # (has_focus follows a message later)
            self.focus_client()
            return
        panel = self.query_one(StepsPanel)
        if not panel.display:
            panel.display = True
            self.call_after_refresh(self.fit_table)
        self._client_focus_pending = False
        box.choose()
