"""Make untrusted text (anything received from a socket) safe to show.

Control characters would move the cursor, change colours or clear a terminal; bidi
overrides would reorder what a grader reads. Each is replaced by a visible escape, so the
text is shown literally. Markup is the widget's business: show the result with markup off.
"""

from __future__ import annotations

import re
import sys
import time

_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")

_UNSAFE = re.compile("[\x00-\x08\x0a-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def _escape(match: re.Match[str]) -> str:
    ch = match.group(0)
    named = {"\n": "\\n", "\r": "\\r", "\x1b": "\\e"}
    if ch in named:
        return named[ch]
    code = ord(ch)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def clock_text(ts: float) -> str:
    """``HH:MM:SS.mmm`` in local time: how the timeline and ``watch`` show an instant."""
    return time.strftime("%H:%M:%S", time.localtime(ts)) + f".{int(ts * 1000) % 1000:03d}"


def printable(text: str, limit: int | None = None) -> str:
    """Escape every control character except tab; cut to ``limit`` characters if given."""
    cut = ""
    if limit is not None and len(text) > limit:
        cut = f"… (+{len(text) - limit} chars)"
        text = text[:limit]
    return _UNSAFE.sub(_escape, text).replace("\t", "    ") + cut


def clean_field(text: str, limit: int = 60) -> str:
    """A name or host as it is stamped: one line, no control characters, at most ``limit``."""
    text = " ".join(_CONTROL.sub(" ", str(text)).split())
    return text[:limit].rstrip()


def utf8_stdio() -> None:
    """Windows consoles default to a legacy code page: force UTF-8 so « » and ↔ print.

    Here, not with the argument parsers, so that a one-shot command can call it without
    importing argparse."""
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.reconfigure(encoding="utf-8", errors="replace")  # type: ignore[union-attr]
        except (AttributeError, ValueError):
            pass
