"""Peers that misbehave, as curious students will: bytes that are not text, terminal escape
sequences, bidi overrides, markup, a mebibyte at once, resets, half-closes, silence.

The server goes on serving everyone else and uses no CPU while it waits; what a peer sent is
shown literally (escaped), never interpreted, by ``python -m lab.server`` and by the app.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct
import sys
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import pytest
from app_support import drawn, make_app, press, wait_until
from support import LOCALHOST, Lab, lab_session, wait_for
from textual.widgets import RichLog

from tcp_observatory.lab.observe.model import Endpoint
from tcp_observatory.lab.text import printable

# Unicode's Bidi_Control property (PropList.txt): the characters that reorder text.
BIDI_CONTROL = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")

MIB = 1024 * 1024


def forbidden(ch: str) -> bool:
    """C0, DEL, C1 (all of category Cc) and the bidi controls."""
    return unicodedata.category(ch) == "Cc" or ch in BIDI_CONTROL


def rst_close(sock: socket.socket) -> None:
    """Close with a reset (RST) instead of a FIN."""
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()


def peer_of(sock: socket.socket) -> Endpoint:
    return Endpoint.of(*sock.getsockname()[:2])


@dataclass(frozen=True)
class Hostile:
    """What a peer sends, how it leaves, and what the server must report."""

    name: str
    payload: bytes
    messages: tuple[str, ...]  # what the server reports, raw (display escapes it)
    leave: str = "stay"  # stay | rst | half-close
    then: str = ""  # the event that ends the connection, if any


HOSTILE = [
    Hostile("not-utf8", b"\xff\xfe\xc3(\x9b\xed\xa0\x80ok\n",
            ("\ufffd\ufffd\ufffd(\ufffd\ufffd\ufffd\ufffdok",)),
    Hostile("c0-controls", b"nul\x00 bell\x07 bs\x08 del\x7f cr\rmid\n",
            ("nul\x00 bell\x07 bs\x08 del\x7f cr\rmid",)),
    Hostile("clear-screen", b"\x1b[2J\x1b[H\x1b[31mred\n", ("\x1b[2J\x1b[H\x1b[31mred",)),
    Hostile("osc52-clipboard", b"\x1b]52;c;cm0gLXJmIH4=\x07\n", ("\x1b]52;c;cm0gLXJmIH4=\x07",)),
    Hostile("c1-csi", "\u009b2J\u009d0;title\u009c\n".encode(), ("\u009b2J\u009d0;title\u009c",)),
    Hostile("bidi-override", "invoice \u202egpj.exe\u202c \u2067x\u2069\n".encode(),
            ("invoice \u202egpj.exe\u202c \u2067x\u2069",)),
    Hostile("markup", b"[@click=app.quit]x[/] [red]red[/red] [link=http://x]l[/link]\n",
            ("[@click=app.quit]x[/] [red]red[/red] [link=http://x]l[/link]",)),
    Hostile("one-mebibyte", b"M" * MIB + b"\n", ("M" * MIB,)),
    Hostile("reset", b"half a line", ("half a line",), leave="rst", then="reset"),
    Hostile("half-close", b"no newline, no Fin", ("no newline, no Fin",), leave="half-close",
            then="eof"),
    Hostile("silent", b"", ()),
]


@pytest.mark.parametrize("bad", HOSTILE, ids=[h.name for h in HOSTILE])
def test_threaded_server_serves_others_whatever_a_peer_sends(lab: Lab, bad: Hostile) -> None:
    server = lab.server("threaded")
    witness = lab.client(server.port)
    lab.server_events.wait("accepted", peer=witness.local)
    sock = lab.raw(server.port)
    peer = peer_of(sock)
    lab.server_events.wait("accepted", peer=peer)
    if bad.payload:
        sock.sendall(bad.payload)
    if bad.leave == "rst":
        # Let the bytes be read first, so that the reset is what ends the connection.
        lab.server_events.wait_message(bad.messages[-1], peer=peer)
        rst_close(sock)
    elif bad.leave == "half-close":
        sock.shutdown(socket.SHUT_WR)
    if bad.then:
        lab.server_events.wait(bad.then, peer=peer)
    elif bad.messages:
        lab.server_events.wait_message(bad.messages[-1], peer=peer, timeout=20)
    assert tuple(lab.server_events.messages(peer)) == bad.messages
    # Everyone else is still served, at once.
    witness.send(f"still served after {bad.name}")
    lab.server_events.wait_message(f"still served after {bad.name}", peer=witness.local)
    newcomer = lab.client(server.port)
    newcomer.send("newcomer")
    lab.server_events.wait_message("newcomer", peer=newcomer.local)
    if bad.leave == "half-close":
        # The server saw the end of stream and closed its side: the peer reads the end too.
        lab.server_events.wait("closed", peer=peer)
        sock.settimeout(10)
        assert sock.recv(10) == b""
    if bad.leave == "stay":
        assert not lab.server_events.of("eof", peer=peer) and not lab.server_events.of(
            "closed", peer=peer)
    assert server.running


def test_single_server_moves_on_after_reset_and_half_close(lab: Lab) -> None:
    server = lab.server("single")
    first = lab.raw(server.port)
    lab.server_events.wait("accepted", peer=peer_of(first))
    first.sendall(b"\x1b[2J\xff\n")
    lab.server_events.wait_message("\x1b[2J\ufffd", peer=peer_of(first))
    rst_close(first)
    lab.server_events.wait("reset")
    second = lab.raw(server.port)
    lab.server_events.wait("accepted", peer=peer_of(second))
    second.shutdown(socket.SHUT_WR)
    lab.server_events.wait("eof", peer=peer_of(second))
    third = lab.client(server.port)
    third.send("served after both")
    lab.server_events.wait_message("served after both", peer=third.local)


def test_an_idle_server_with_odd_clients_still_answers(lab: Lab) -> None:
    """20 connected clients that send nothing (and a few odd ones): each odd one is dealt
    with, and a silent client is still heard at once. (What the idle server costs in CPU,
    beside the handout's code, is measured by ``bench/bench_idle.py``.)"""
    server = lab.server("threaded")
    clients = [lab.client(server.port) for _ in range(10)]
    raws = []
    for _ in range(10):  # one at a time: a burst would overflow the accept queue (backlog 5)
        raws.append(lab.raw(server.port))
        lab.server_events.wait("accepted", peer=peer_of(raws[-1]))
    raws[0].sendall(b"a line never finished")  # the framer holds bytes, then flushes them
    raws[1].shutdown(socket.SHUT_WR)  # half-closed: the server closes its side
    wait_for(lambda: len(lab.server_events.of("accepted")) == 20, 10, message="20 accepted")
    lab.server_events.wait_message("a line never finished")
    lab.server_events.wait("closed", peer=peer_of(raws[1]))
    assert all(c.state == "connected" for c in clients)
    clients[3].send("awake")
    lab.server_events.wait_message("awake", peer=clients[3].local)


def test_printable_leaves_no_control_or_bidi_character_in_all_of_unicode() -> None:
    every = "".join(chr(c) for c in range(sys.maxunicode + 1) if not 0xD800 <= c <= 0xDFFF)
    shown = printable(every)
    left = sorted({f"U+{ord(ch):04X}" for ch in shown if forbidden(ch)})
    assert not left, f"printable() let through {left}"
    assert "\n" not in shown and "\r" not in shown
    # Everything else is kept as is: letters, symbols, emoji, markup brackets.
    ordinary = "café ↔ « € » 日本 🙂 [bold] \\ ~"
    assert printable(ordinary) == ordinary
    for ch in sorted(BIDI_CONTROL):
        assert printable(ch) == f"\\u{ord(ch):04x}"


@pytest.mark.needs("sigint")
def test_lab_server_command_prints_no_raw_escape(lab: Lab) -> None:
    proc = lab.python("-m", "tcp_observatory.lab.server",
                      "--threaded", "--port", "0", "--lang", "en")
    first = proc.expect(lambda line: line.strip() != "", what="the start line")
    port = int(first.split("127.0.0.1:")[1].split()[0].rstrip(",;:)"))
    sock = lab.raw(port)
    peer = peer_of(sock)
    proc.expect_text(f"Connection from {peer}")
    sent = [h for h in HOSTILE if h.payload and h.leave == "stay" and len(h.payload) < MIB]
    for h in sent:
        sock.sendall(h.payload)
    sock.sendall(b"the end\n")
    proc.expect_text(f"{peer} said: the end")
    said = [line for line in proc.stdout_lines if f"{peer} said: " in line]
    expected = [f"[thread-1] {peer} said: {printable(m)}" for h in sent for m in h.messages]
    assert said == [*expected, f"[thread-1] {peer} said: the end"]
    for line in proc.stdout_lines:
        bad = sorted({f"U+{ord(ch):04X}" for ch in line if forbidden(ch)})
        assert not bad, f"raw control characters {bad} printed in {line!r}"
    assert "\\e]52;c;" in "\n".join(said) and "\\u202e" in "\n".join(said)
    rst_close(sock)
    proc.expect_text("reset the connection (RST)")
    proc.interrupt()
    assert proc.wait() == 0
    assert "Traceback" not in proc.stderr_text


# -- the app -----------------------------------------------------------------------------------






def rendered_text(widget: RichLog) -> str:
    """What a RichLog really drew (its strips), not what the app meant to write."""
    return "\n".join("".join(seg.text for seg in strip) for strip in widget.lines)


def no_actions_or_links(widget: RichLog) -> bool:
    for strip in widget.lines:
        for seg in strip:
            style = seg.style
            if style is not None and (style.link or any(
                    str(k).startswith("@") for k in (style.meta or {}))):
                return False
    return True


async def test_app_shows_hostile_text_literally_and_keeps_running(tmp_path: Path) -> None:
    app = make_app(lab_session("threaded", source="auto"), tmp_path)
    socks: list[socket.socket] = []
    try:
        async with app.run_test(size=(160, 48)) as pilot:
            port = app.session.port

            def connect() -> socket.socket:
                sock = socket.create_connection((LOCALHOST, port), timeout=10)
                socks.append(sock)
                return sock

            talker = await asyncio.to_thread(connect)
            sent = [h for h in HOSTILE if h.payload and h.leave == "stay"]
            for h in sent:
                await asyncio.to_thread(talker.sendall, h.payload)
            await asyncio.to_thread(talker.sendall, b"last one\n")
            pane = app.server_pane
            await wait_until(pilot, lambda: any("last one" in x for x in pane.lines_text),
                             "the server pane shows every message")
            silent = await asyncio.to_thread(connect)
            resetter = await asyncio.to_thread(connect)
            await asyncio.to_thread(resetter.sendall, b"\x1b[5m")
            await wait_until(pilot, lambda: any("\\e[5m" in x for x in pane.lines_text),
                             "the resetter's bytes")
            rst_close(resetter)
            halfer = await asyncio.to_thread(connect)
            halfer.shutdown(socket.SHUT_WR)
            await wait_until(pilot, lambda: any("(RST)" in x for x in pane.lines_text) and
                             any("without" in x for x in pane.lines_text), "reset and eof shown")

            joined = "\n".join(pane.lines_text)
            for h in sent:
                for m in h.messages:
                    assert printable(m, 2000) in joined, h.name
            assert "[@click=app.quit]x[/] [red]red[/red]" in joined
            assert "… (+" in joined  # the mebibyte is cut for display, and says so
            left = sorted({f"U+{ord(ch):04X}" for x in pane.lines_text for ch in x
                           if forbidden(ch)})
            assert not left, f"raw control characters in the server pane: {left}"
            log = pane.query_one("#server-log", RichLog)
            await wait_until(pilot, lambda: "[@click=app.quit]x[/]" in rendered_text(log),
                             "the hostile lines drawn")
            drawn = rendered_text(log)
            assert "[red]red[/red]" in drawn
            assert "\x1b" not in drawn and "\u202e" not in drawn
            assert no_actions_or_links(log), "peer text became a clickable action or link"
            svg = app.export_screenshot()
            assert "\x1b" not in svg and "\x9b" not in svg and "\u202e" not in svg
            # Still running, still answering keys.
            await press(pilot, "f7")
            await wait_until(pilot, lambda: app.recorder.paused, "paused")
            await press(pilot, "f7")
            await wait_until(pilot, lambda: not app.recorder.paused, "live again")
            assert app.is_running
            # The silent peer is simply still connected.
            quiet = peer_of(silent)
            assert app.table.state_of(lambda c: c.local == quiet) == ["ESTABLISHED"]
            await press(pilot, "ctrl+q")
    finally:
        for s in socks:
            with contextlib.suppress(OSError):
                s.close()


async def test_app_client_shows_what_a_hostile_server_sends_literally(tmp_path: Path) -> None:
    """--no-server, a student's own server answers: its bytes reach a client card."""
    listener = socket.create_server((LOCALHOST, 0))
    listener.settimeout(10)
    port = listener.getsockname()[1]
    served: list[socket.socket] = []
    payload = "\x1b]52;c;aGk=\x07 [@click=app.quit]q[/] \u202eevil \x9b2J".encode() + b"\xff"

    def serve() -> None:
        conn, _ = listener.accept()
        served.append(conn)
        conn.sendall(payload)

    app = make_app(lab_session(port=port, with_server=False, source="auto"), tmp_path,
                   clients=1)
    try:
        async with app.run_test(size=(160, 48)) as pilot:
            await asyncio.to_thread(serve)
            await wait_until(pilot, lambda: (c := app.clients_pane.card(1)) is not None
                             and "[@click=app.quit]" in c.last, "the client card shows it")
            card = app.clients_pane.card(1)
            assert card is not None
            assert "\\e]52;c;aGk=\\x07 [@click=app.quit]q[/] \\u202eevil \\x9b2J\ufffd" in card.last
            assert not any(forbidden(ch) for ch in card.last)
            await drawn(pilot)
            assert app.is_running
            await press(pilot, "ctrl+q")
    finally:
        for s in [*served, listener]:
            s.close()
