"""The latest transition, written large: what the room should look at right now."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from lab.observe.model import Transition
from lab.observe.roles import describe_role
from lab.text import clock_text
from tui.theme import INFERRED_STYLE, state_style
from tui.widgets import bigtext


class Banner(Static):
    """Shows one transition: who, then "FROM → TO" three rows high when it fits."""

    def __init__(self, lang: str, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.lang = lang
        self.transition: Transition | None = None
        self.caption = ""
        self.past = ""  # the past moment shown (stepping through moments), said first

    def show(self, tr: Transition | None, past: str = "") -> None:
        """Show ``tr``; ``past`` names the past moment it is the lab's last change of."""
        self.transition = tr
        self.past = past
        self.refresh_banner()

    def on_resize(self) -> None:
        self.refresh_banner()

    def refresh_banner(self) -> None:
        tr = self.transition
        past = Text()
        if self.past:  # a past moment stepped to: said before anything else
            past = Text(f"⏸ {self.past}  ", style="bold #000000 on #ffd700")
        if tr is None:
            self.caption = ""
            self.update(past)
            return
        c = tr.connection
        who = describe_role(c.role, self.lang)
        before = tr.from_state or "-"
        head = past + Text(f"{clock_text(tr.time)}  ", style="#9e9e9e")
        head.append(who, style="bold #ffffff")
        head.append(f"   {c.local} → {c.remote_text}", style="#bcbcbc")
        self.caption = f"{who}: {before} -> {tr.to_state}"
        line = f"{before} → {tr.to_state}"
        # The room inside the border and padding; before the first layout there is none
        # (the resize that follows draws it again), so the outcome never depends on timing.
        room = self.content_size.width
        if bigtext.supported(line) and bigtext.width(line) <= room:
            body = bigtext.big([(before, state_style(before)), (" → ", "#ffffff"),
                                (tr.to_state, state_style(tr.to_state))])
        else:
            body = Text(before, style=state_style(before))
            body.append("  →  ", style="bold #ffffff")
            body.append(tr.to_state, style=state_style(tr.to_state))
        if tr.inferred:
            body.stylize(INFERRED_STYLE)
        out = Text()
        out.append_text(head)
        out.append("\n")
        out.append_text(body)
        self.update(out)
