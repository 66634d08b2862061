"""The app's actions and the server's events in words, as the timeline, the banner and a
step's picture tell them."""

from __future__ import annotations

from tcp_observatory.lab.i18n import t
from tcp_observatory.lab.net.describe import describe_event
from tcp_observatory.lab.net.server import ServerEvent
from tcp_observatory.lab.session import Action
from tcp_observatory.lab.text import printable

SERVER_NOTES = {
    "accepted": "act.accepted",
    "released": "act.released",
    "closed": "act.closed",
    "fin": "act.fin-received",
    "eof": "act.eof",
    "reset": "act.reset",
    "refused": "act.refused",
}


def action_note(a: Action, lang: str) -> str:
    """An action of the app's in words, as the timeline and the step's picture tell it."""
    text = printable(a.text, 80)
    if a.kind in ("mode", "server-start"):
        text = t(f"mode.{a.text}", lang)
    elif a.kind == "close-after-fin":
        text = t("yes" if a.text == "on" else "no", lang)
    note = t(f"act.{a.kind}", lang, n=a.client, text=text)
    return note + " " + t("act.by_app", lang) if a.by_app else note


def server_note(e: ServerEvent, lang: str) -> str | None:
    """A server event worth a line in the timeline, in words (None for the others)."""
    key = SERVER_NOTES.get(e.kind)
    if key is not None:
        return t(key, lang, peer=str(e.peer) if e.peer else "")
    if e.kind in ("overflow", "idle", "aborted"):  # the kernel's drops, the server's choices
        return describe_event(e, lang) or None  # drops named by nobody are not told
    return None
