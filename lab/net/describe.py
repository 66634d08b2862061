"""A server event in words, for the console server and the app's server pane alike."""

from __future__ import annotations

from tcp_observatory.lab.i18n import t
from tcp_observatory.lab.net.modes import SINGLE
from tcp_observatory.lab.net.overflow import Drops
from tcp_observatory.lab.net.server import ServerEvent
from tcp_observatory.lab.text import printable


def describe_event(e: ServerEvent, lang: str, close_after_fin: bool = False,
                   limit: int | None = None) -> str:
    """One line for ``e`` ("" for the events a log does not show); peer text made safe."""
    peer = str(e.peer) if e.peer else ""
    prefix = f"[{e.thread}] " if e.thread else ""
    if e.kind == "listening":  # said by the caller, with the address and the backlog
        return ""
    if e.kind == "message":
        return prefix + t("srv.message", lang, peer=peer, text=printable(e.text, limit))
    if e.kind == "fin":
        key = "srv.fin.held" if e.mode == SINGLE and not close_after_fin else "srv.fin"
        return prefix + t(key, lang, peer=peer)
    if e.kind == "refused":
        return t("srv.refused", lang, peer=peer, limit=e.text, n=e.count or 0,
                 silent=f"{e.silent or 0:.0f}")
    if e.kind == "overflow":
        if e.drops is None:  # nothing names a waiting handshake: nothing is said of drops
            return ""
        return describe_drops(e.drops, lang)
    if e.kind == "overflow-unknown":
        return t("srv.overflow_unknown", lang)
    if e.kind == "idle":
        return prefix + t("srv.idle", lang, peer=peer, s=e.text)
    return prefix + t(f"srv.{e.kind}", lang, peer=peer)


def describe_drops(d: Drops, lang: str) -> str:
    """The lab's full accept queue and the handshakes it left waiting, each named."""
    who = ", ".join(
        t("srv.stuck.client" if s.client is not None else "srv.stuck.peer", lang,
          n=s.client, addr=str(s.peer),
          state=s.state if s.state == "SYN_SENT" else t("srv.stuck.recv", lang))
        for s in d.stuck)
    return t("srv.overflow", lang, n=len(d.stuck), queue=d.queue, backlog=d.backlog, who=who)
