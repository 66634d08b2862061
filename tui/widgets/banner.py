"""The latest change, written large: what the room should look at right now.

A change is one event with all its ends: "Fin" sent by client 1 moves client 1's end to
FIN_WAIT_2 *and* the server's end to CLOSE_WAIT in the same instant, so the banner tells
the cause (the app's action, or the server's) and every socket it moved:
"client 1 sends Fin: orphaned (client 1) → FIN_WAIT_2 · server ↔ client 1 → CLOSE_WAIT".
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.style import Style
from rich.text import Text
from textual.widgets import Static

from tcp_observatory.lab.i18n import t
from tcp_observatory.lab.observe.model import Transition
from tcp_observatory.lab.observe.roles import describe_role
from tcp_observatory.lab.text import clock_text
from tcp_observatory.tui.theme import (
    ACTION_STYLE,
    FAINT,
    INFERRED_STYLE,
    MUTED,
    state_glyph,
    state_style,
)
from tcp_observatory.tui.widgets import bigtext
from tcp_observatory.tui.widgets.prose import set_text

SEPARATOR = "  ·  "


def moves(transitions: Sequence[Transition]) -> list[Transition]:
    """One move per socket: from its first state of the event to its last (the passages
    between, such as an inferred FIN_WAIT_1, fold into it); the acting client's end first,
    then the server's ends, as the lab numbers them."""
    first: dict[object, Transition] = {}
    last: dict[object, Transition] = {}
    for tr in transitions:
        first.setdefault(tr.key, tr)
        last[tr.key] = tr
    out = [last[k]._replace(from_state=first[k].from_state) for k in last]
    return sorted(out, key=lambda tr: (tr.connection.role.client or 0,
                                       tr.connection.role.server_side))


class Banner(Static):
    """Shows one event: its time and cause, then each socket it moved, "FROM → TO"."""

    def __init__(self, lang: str, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.lang = lang
        self.moved: list[Transition] = []
        self.cause = ""
        self.caption = ""
        self.compact = False  # a projector's small window: no letters three rows high
        self.past = ""  # the past moment shown (stepping through moments), said first

    @property
    def transition(self) -> Transition | None:
        return self.moved[0] if self.moved else None

    def show(self, tr: Transition | None, past: str = "") -> None:
        """Show ``tr``; ``past`` names the past moment it is the lab's last change of."""
        self.show_event([] if tr is None else [tr], past=past)

    def show_event(self, transitions: Sequence[Transition], cause: str = "",
                   past: str = "") -> None:
        """Show the sockets ``transitions`` moved (one event), and its ``cause``."""
        self.moved = moves(transitions)
        self.cause = cause
        self.past = past
        self.refresh_banner()

    def set_compact(self, compact: bool) -> None:
        if compact != self.compact:
            self.compact = compact
            self.refresh_banner()

    def on_resize(self) -> None:
        self.refresh_banner()

    def _move_text(self, tr: Transition, *, with_from: bool) -> Text:
        who = describe_role(tr.connection.role, self.lang)
        out = Text(who, style="bold #ffffff")
        before = tr.from_state or "-"
        if with_from:
            out.append(" ")
            out.append(before, style=state_style(before))
        out.append(" → ", style="bold #ffffff")
        out.append(f"{state_glyph(tr.to_state)} {tr.to_state}", style=state_style(tr.to_state))
        if tr.inferred:
            out.stylize(INFERRED_STYLE)
        return out

    def refresh_banner(self) -> None:
        moved = self.moved
        if not moved:
            self.caption = ""
            self.update(Text(f"⏸ {self.past}  ", style="bold #000000 on #ffd700")
                        if self.past else "")
            return
        parts = [f"{describe_role(tr.connection.role, self.lang)}: {tr.from_state or '-'} -> "
                 f"{tr.to_state}" for tr in moved]
        self.caption = (f"{self.cause}: " if self.cause else "") + " · ".join(parts)
        head = Text()
        if self.past:  # a past moment stepped to: said before anything else
            head.append(f"⏸ {self.past}  ", style="bold #000000 on #ffd700")
        head.append(f"{clock_text(moved[0].time)}  ", style=FAINT)
        if self.cause:
            head.append(t("banner.cause", self.lang, cause=self.cause), style=ACTION_STYLE)
        # The room inside the border and padding; before the first layout there is none
        # (the resize that follows draws it again), so the outcome never depends on timing.
        room = self.content_size.width
        if len(moved) == 1:
            tr = moved[0]
            before = tr.from_state or "-"
            line = f"{before} → {tr.to_state}"
            if not self.compact and bigtext.supported(line) and bigtext.width(line) <= room:
                head.append(("   " if self.cause else "")
                            + describe_role(tr.connection.role, self.lang), style="bold #ffffff")
                head.append(f"   {tr.connection.local} → {tr.connection.remote_text}",
                            style=MUTED)
                body = bigtext.big([(before, state_style(before)), (" → ", "#ffffff"),
                                    (tr.to_state, state_style(tr.to_state))])
                if tr.inferred:
                    body.stylize(INFERRED_STYLE)
                self.update(Text("\n").join([head, body]))
                return
        # Every socket the event moved, one after the other, each kept whole on its line:
        # after the head when the window is small, else on lines of their own with where
        # each came from.
        lines = [head] if self.compact else [head, Text()]
        for tr in moved:
            move = self._move_text(tr, with_from=not self.compact)
            row = lines[-1]
            if not row.plain:
                sep = Text()
            else:
                sep = Text(" " if row is head else SEPARATOR, style=FAINT)
            if room > 0 and row.plain and row.cell_len + sep.cell_len + move.cell_len > room:
                lines.append(move)
                continue
            row.append_text(sep)
            row.append_text(move)
        # Where the room allows, the states they reached, three rows high.
        big = "  ".join(tr.to_state for tr in moved)
        if not self.compact and bigtext.supported(big) and bigtext.width(big) <= room:
            letters: list[tuple[str, Style | str]] = []
            for i, tr in enumerate(moved):
                if i:
                    letters.append(("  ", "#ffffff"))
                letters.append((tr.to_state, INFERRED_STYLE if tr.inferred
                              else state_style(tr.to_state)))
            lines.append(bigtext.big(letters))
        set_text(self, Text("\n").join(lines))
