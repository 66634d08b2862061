"""Why a state lingers: one sentence per situation of the lab, in French and English, each
naming who holds the socket; checked on rows as the kernel gives them."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from support import ConnFields, Lab, conn, ss_agrees

from tcp_observatory.lab.observe.explain import LINGER, explain, holder, most_telling
from tcp_observatory.lab.observe.model import Connection, Role, RoleKind

if TYPE_CHECKING:
    from typing_extensions import Unpack

PORT = 9500
LISTENER = conn(PORT, None, "LISTEN", RoleKind.LISTENER, pid=4242, process="python3",
                recv_q=2, send_q=1)


def row(state: str, role: Role, *, local: int = 50001, **fields: Unpack[ConnFields]
        ) -> Connection:
    """A lab row in ``state``: the server's end (port 9500) when ``role`` is server-side,
    else the client's (port ``local``)."""
    ends = (PORT, local) if role.server_side else (local, PORT)
    return conn(*ends, state, role, **fields)


SERVING = Role(RoleKind.SERVER, 1, server_side=True)
ORPHAN = Role(RoleKind.ORPHANED, 1)
QUEUED = Role(RoleKind.QUEUED, 2, server_side=True)


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_close_wait_is_told_only_once_it_lingers(lang: str) -> None:
    """A threaded server's CLOSE_WAIT lasts under a second: nothing to say. Held open, the
    sentence names the program holding it, says it received FIN and has not called
    close(), and that listing 2's server never does."""
    c = row("CLOSE_WAIT", SERVING, pid=4242, process="python3")
    assert explain(c, lang, held=0.4) is None
    assert explain(c, lang, held=None) is None
    why = explain(c, lang, held=40.0)
    assert why is not None
    assert "python3" in why and "close()" in why and "FIN" in why and "40" in why
    assert ("listing 2" in why) and ("CLOSE_WAIT" in why)
    assert explain(c, lang, held=LINGER) is not None
    # A client's end left in CLOSE_WAIT (the server closed first): no word of listing 2.
    client = row("CLOSE_WAIT", Role(RoleKind.CLIENT, 3), pid=77, process="Client.py")
    told = explain(client, lang, held=12.0)
    assert told is not None and "Client.py" in told and "listing 2" not in told


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_orphaned_fin_wait_2_says_nobody_holds_it_and_the_timeout(lang: str) -> None:
    why = explain(row("FIN_WAIT_2", ORPHAN, timer="timewait", timer_left=52.0), lang)
    assert why is not None
    assert "FIN_WAIT_2" in why and "52" in why and "FIN" in why
    nobody = {"fr": "aucun ne le détient", "en": "no program holds it"}[lang]
    assert nobody in why
    # Without the kernel's timer (psutil), the system's timeout is named instead.
    plain = explain(row("FIN_WAIT_2", ORPHAN), lang)
    assert plain is not None and "52" not in plain and "tcp_fin_timeout" in plain
    # A FIN_WAIT_2 still held by its program (a half-close) is not an orphan.
    assert explain(row("FIN_WAIT_2", Role(RoleKind.CLIENT, 1), pid=9, process="x"), lang) \
        is None


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_time_wait_says_who_closed_first_for_how_long_and_why(lang: str) -> None:
    why = explain(row("TIME_WAIT", ORPHAN, timer_left=31.0), lang)
    assert why is not None
    assert "2 MSL" in why and "ACK" in why and "31" in why
    first = {"fr": "a fermé le premier", "en": "closed first"}[lang]
    nobody = {"fr": "sans programme", "en": "held by no program"}[lang]
    assert first in why and nobody in why
    assert why.startswith(("orphelin (client 1)", "orphaned (client 1)"))


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_a_queued_connection_names_the_server_that_has_not_called_accept(lang: str) -> None:
    c = row("ESTABLISHED", QUEUED, local=50002)
    why = explain(c, lang, rows=[LISTENER, c])
    assert why is not None and "accept()" in why and "python3" in why and "Recv-Q" in why
    # Served, the same state says nothing.
    assert explain(row("ESTABLISHED", SERVING, pid=4242, process="python3"), lang) is None
    # Without the listener's row, the server is still named, by its part.
    alone = explain(c, lang)
    assert alone is not None and "python3" not in alone and "accept()" in alone


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_syn_sent_sent_again_blames_the_full_queue(lang: str) -> None:
    c = row("SYN_SENT", Role(RoleKind.CLIENT, 4), local=50004, pid=4242, process="python3",
            retransmits=3)
    why = explain(c, lang, rows=[LISTENER, c])
    assert why is not None and "(2/1)" in why and "3" in why and "python3" in why
    assert "connect()" in why
    # Not known full (psutil gives no queue): said as likely, with no figures.
    unknown = explain(c, lang, rows=[LISTENER._replace(recv_q=None, send_q=None), c])
    assert unknown is not None and "(2/1)" not in unknown
    # A first SYN not yet sent again is an ordinary handshake.
    assert explain(c._replace(retransmits=0), lang, rows=[LISTENER, c]) is None


def test_the_holder_is_the_program_not_a_guess() -> None:
    assert holder(row("ESTABLISHED", SERVING, pid=4242, process="python3"), "en") == "python3"
    program = Role(RoleKind.SERVER, 1, server_side=True, program="Serveur.py")
    assert holder(row("ESTABLISHED", program, pid=4242, process="python3"), "fr") == \
        "Serveur.py"
    assert holder(row("ESTABLISHED", SERVING, pid=4242), "en") == "process 4242"
    assert holder(row("FIN_WAIT_2", ORPHAN), "en") is None


def test_the_most_telling_row_comes_first() -> None:
    fw2 = row("FIN_WAIT_2", ORPHAN)
    cw = row("CLOSE_WAIT", SERVING, pid=4242, process="python3")
    queued = row("ESTABLISHED", QUEUED, local=50002)
    rows = [LISTENER, fw2, cw, queued]
    held = {cw.key: 10.0}
    found = most_telling(rows, "en", lambda c: held.get(c.key))
    assert found is not None and found[0] is cw
    # Before it lingers, the orphan's sentence is the one.
    found = most_telling(rows, "en", lambda c: 0.5)
    assert found is not None and found[0] is fw2
    assert most_telling([LISTENER], "en") is None


@pytest.mark.needs("system-sockets")
def test_sentences_for_the_kernels_own_rows_after_fin(lab: Lab, source_kind: str) -> None:
    """Listing 2's server after "Fin": the kernel's server end in CLOSE_WAIT (held by this
    program), the client's orphaned in FIN_WAIT_2; each gets its sentence."""
    import psutil

    server = lab.server("single")
    kernel = lab.kernel(source_kind, server.port)
    client = lab.client(server.port)
    local = client.local
    assert local is not None
    client.send("Fin")
    lab.server_events.wait("fin", peer=local)
    assert client.wait_closed(10)
    orphan = kernel.wait(local, server.address, "FIN_WAIT_2", lambda c: c.pid is None)
    serving = kernel.wait(server.address, local, "CLOSE_WAIT", lambda c: c.pid is not None)
    ss_agrees(server.port, server.address, local, "CLOSE_WAIT")
    rows = list(kernel.snapshot().connections)
    name = psutil.Process().name()
    for lang in ("fr", "en"):
        why = explain(serving, lang, held=LINGER, rows=rows)
        assert why is not None and name in why and "close()" in why
        told = explain(orphan, lang, rows=rows)
        assert told is not None and "FIN_WAIT_2" in told
