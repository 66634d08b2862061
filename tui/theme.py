"""Colours chosen to read on a projector: bold, saturated, one per state family."""

from __future__ import annotations

from rich.style import Style

STATE_STYLE: dict[str, Style] = {
    "LISTEN": Style(color="#5fafff", bold=True),
    "SYN_SENT": Style(color="#ffaf00", bold=True),
    "SYN_RECEIVED": Style(color="#ffaf00", bold=True),
    "ESTABLISHED": Style(color="#5fff5f", bold=True),
    "FIN_WAIT_1": Style(color="#ff8787", bold=True),
    "FIN_WAIT_2": Style(color="#ff5f5f", bold=True),
    "CLOSE_WAIT": Style(color="#ffd700", bold=True),
    "CLOSING": Style(color="#ff87ff", bold=True),
    "LAST_ACK": Style(color="#ff87ff", bold=True),
    "TIME_WAIT": Style(color="#d7afff", bold=True),
    "CLOSED": Style(color="#8a8a8a", strike=True),
}

DEFAULT_STATE_STYLE = Style(color="white", bold=True)

# TCPView's convention: new rows green, changed yellow, vanishing red.
FLASH_STYLE: dict[str, Style] = {
    "new": Style(bgcolor="#005f00"),
    "changed": Style(bgcolor="#5f5f00"),
    "gone": Style(bgcolor="#5f0000"),
}

ACTION_STYLE = Style(color="#5fd7ff", bold=True)
SERVER_STYLE = Style(color="#87afff")
INFERRED_STYLE = Style(color="#8a8a8a", italic=True)
DIM_STYLE = Style(color="#9e9e9e")
# A row left by an earlier step: still the kernel's, no longer the step's story.
EARLIER_STYLE = Style(dim=True, italic=True)
PEER_TEXT_STYLE = Style(color="#ffffff")
# Stepping back through moments: what came after the moment shown, greyed.
LATER_STYLE = Style(color="#585858", bold=False)


def state_style(state: str) -> Style:
    return STATE_STYLE.get(state, DEFAULT_STATE_STYLE)
