"""How the server cuts the byte stream into messages: the Framer alone, then real sockets."""

from __future__ import annotations

import pytest
from support import Lab

from tcp_observatory.lab.net.framing import IDLE_FLUSH, MAX_MESSAGE, Framer, is_fin
from tcp_observatory.lab.observe.model import Endpoint

# -- the Framer ----------------------------------------------------------------------------


def test_lines_are_messages_and_the_rest_waits() -> None:
    f = Framer()
    assert f.feed(b"one\ntwo\nthr") == ["one", "two"]
    assert f.pending
    assert f.feed(b"ee\n") == ["three"]
    assert not f.pending
    assert f.flush() == []


def test_crlf_and_empty_lines() -> None:
    f = Framer()
    assert f.feed(b"windows\r\n\r\n\nlast\r") == ["windows", "", ""]
    assert f.feed(b"\n") == ["last"]


def test_a_line_split_across_reads_is_one_message() -> None:
    f = Framer()
    for byte in b"hello":
        assert f.feed(bytes([byte])) == []
    assert f.feed(b"\n") == ["hello"]


def test_idle_flush_delivers_a_bare_chunk() -> None:
    f = Framer()
    assert f.feed(b"hello") == []
    assert f.flush() == ["hello"]
    assert not f.pending
    assert f.flush() == []
    # A bare chunk keeps a trailing \r only where it was not ending a line.
    assert f.feed(b"Fin") == []
    assert f.flush() == ["Fin"]
    assert 0 < IDLE_FLUSH < 1


def test_long_lines_come_in_pieces_of_max_size() -> None:
    f = Framer(max_message=4)
    assert f.feed(b"abcdefghij") == ["abcd", "efgh"]
    assert f.feed(b"k\n") == ["ijk"]
    assert Framer(max_message=4).feed(b"abcdefghij\n") == ["abcd", "efgh", "ij"]
    exact = Framer(max_message=4)
    assert exact.feed(b"abcd") == []  # exactly the limit: still one message
    assert exact.feed(b"\n") == ["abcd"]
    assert Framer(max_message=4).feed(b"abcd\n") == ["abcd"]
    assert MAX_MESSAGE >= 1024 * 1024


def test_pieces_do_not_depend_on_how_the_bytes_arrive() -> None:
    data = b"0123456789" * 3 + b"\nshort\n" + b"x" * 9
    whole = Framer(max_message=7)
    expected = whole.feed(data) + whole.flush()
    for size in (1, 2, 3, 5, 8, 13):
        f = Framer(max_message=7)
        got: list[str] = []
        for i in range(0, len(data), size):
            got += f.feed(data[i : i + size])
        assert got + f.flush() == expected, size
    assert expected == ["0123456", "7890123", "4567890", "1234567", "89",
                        "short", "xxxxxxx", "xx"]


def test_bytes_that_are_not_utf8_are_replaced() -> None:
    f = Framer()
    assert f.feed(b"caf\xc3\xa9 \xff\xfe!\n") == ["café \ufffd\ufffd!"]
    assert f.feed("€".encode()[:2]) == []
    assert f.feed("€".encode()[2:] + b"\n") == ["€"]


@pytest.mark.parametrize("text", ["Fin", "fin", "FIN", " fin\n", "Fin\r\n", "\tFiN  "])
def test_is_fin(text: str) -> None:
    assert is_fin(text)


@pytest.mark.parametrize("text", ["", "Fini", "fin.", "F in", "la fin", "Fin Fin"])
def test_is_not_fin(text: str) -> None:
    assert not is_fin(text)


# -- through the server, from a raw socket (the handout's client sends no newline) ---------


@pytest.mark.parametrize("mode", ["single", "threaded"])
def test_bare_chunks_are_separate_messages(lab: Lab, mode: str) -> None:
    server = lab.server(mode)
    sock = lab.raw(server.port)
    peer = Endpoint.of(*sock.getsockname()[:2])
    sock.send(b"hello")
    lab.server_events.wait_message("hello", peer=peer)
    sock.send(b"world")
    lab.server_events.wait_message("world", peer=peer)
    sock.send(b"Fin")
    sock.close()
    lab.server_events.wait("fin", peer=peer)
    assert lab.server_events.messages(peer) == ["hello", "world", "Fin"]
    assert not lab.server_events.of("eof")


def test_messages_in_one_send_stay_distinct(lab: Lab) -> None:
    server = lab.server("threaded")
    sock = lab.raw(server.port)
    peer = Endpoint.of(*sock.getsockname()[:2])
    sock.sendall(b"un\ndeux\r\n\ntrois\nFin\nignored after Fin\n")
    sock.close()
    lab.server_events.wait("fin", peer=peer)
    lab.server_events.wait("closed", peer=peer)
    assert lab.server_events.messages(peer) == ["un", "deux", "", "trois", "Fin"]


def test_invalid_utf8_gives_replacement_characters(lab: Lab) -> None:
    server = lab.server("single")
    sock = lab.raw(server.port)
    peer = Endpoint.of(*sock.getsockname()[:2])
    sock.sendall(b"\xff\xfeabc\xc3\n\x1b[31mred\n")
    lab.server_events.wait_message("\x1b[31mred", peer=peer)
    # The event carries the raw text; escaping is the display's job (see test_text).
    assert lab.server_events.messages(peer) == ["\ufffd\ufffdabc\ufffd", "\x1b[31mred"]


def test_one_mebibyte_message_arrives_whole(lab: Lab) -> None:
    server = lab.server("single")
    sock = lab.raw(server.port)
    peer = Endpoint.of(*sock.getsockname()[:2])
    payload = "é" * (512 * 1024)  # 1 MiB of UTF-8, two bytes per character
    sock.sendall(payload.encode() + b"\nFin\n")
    lab.server_events.wait("fin", peer=peer)
    messages = lab.server_events.messages(peer)
    assert [len(m) for m in messages] == [len(payload), 3]
    assert messages[0] == payload


def test_leaving_without_fin_ends_the_client(lab: Lab) -> None:
    server = lab.server("single")
    first = lab.raw(server.port)
    peer = Endpoint.of(*first.getsockname()[:2])
    first.sendall(b"partial")
    first.close()
    lab.server_events.wait("eof", peer=peer)
    assert lab.server_events.messages(peer) == ["partial"]
    # The single server is free again: the next client is served.
    second = lab.raw(server.port)
    other = Endpoint.of(*second.getsockname()[:2])
    second.sendall(b"next\n")
    lab.server_events.wait_message("next", peer=other)


def test_lab_client_messages_and_fin(lab: Lab) -> None:
    server = lab.server("threaded")
    client = lab.client(server.port)
    for text in ("a", "b c", "FIN"):
        assert client.send(text)
    assert not client.send("too late")
    assert client.wait_closed(10)
    lab.server_events.wait("closed", peer=client.local)
    assert lab.server_events.messages(client.local) == ["a", "b c", "FIN"]
    kinds = [e.kind for e in lab.client_events.events]
    assert kinds == ["connecting", "connected", "sent", "sent", "fin", "closed"]
    assert client.state == "closed"
