"""What a user sees from the command lines: ``python -m lab.server``/``lab.client`` and
``tcp-observatory netstat``/``watch``, each run as a real subprocess."""

from __future__ import annotations

import json
import os
import re
import socket
import sys

import psutil
import pytest
from support import LOCALHOST, Lab, console_script, single_line, wait_for

from tcp_observatory.lab.observe.model import Endpoint, RoleKind

OWN_PID = os.getpid()
OWN_NAME = psutil.Process().name()
NO_TRACEBACK = "Traceback"


def free_port(lab: Lab) -> tuple[int, socket.socket]:
    """A port that is bound (so nobody else takes it) but not listening: connects are refused."""
    sock = lab.keep(socket.socket())
    sock.bind((LOCALHOST, 0))
    return sock.getsockname()[1], sock


# -- python -m lab.client --------------------------------------------------------------------


@pytest.mark.needs("system-sockets")
def test_external_client_process(lab: Lab, source_kind: str) -> None:
    server = lab.server("single")
    kernel = lab.kernel(source_kind, server.port)
    proc = lab.python("-m", "tcp_observatory.lab.client",
                      "--port", str(server.port), "--lang", "en", stdin=True)
    proc.expect_text("Connected:")
    accepted = lab.server_events.wait("accepted")
    peer = accepted.peer

    row = kernel.wait(peer, server.address, "ESTABLISHED", lambda c: c.pid == proc.popen.pid)
    assert row.role.kind is RoleKind.EXTERNAL
    assert row.process is not None and "python" in row.process.lower()
    served = kernel.wait(server.address, peer, "ESTABLISHED", lambda c: c.pid == OWN_PID)
    assert served.role.kind is RoleKind.SERVER

    proc.write("hello\nFin\n")
    lab.server_events.wait("fin", peer=peer)
    assert lab.server_events.messages(peer) == ["hello", "Fin"]
    assert proc.wait() == 0
    assert "End of program" in proc.rest()
    assert NO_TRACEBACK not in proc.stderr_text
    kernel.wait(peer, server.address, "FIN_WAIT_2", lambda c: c.pid is None)


def test_client_to_nobody_exits_1_with_one_line(lab: Lab) -> None:
    port, _holder = free_port(lab)
    proc = lab.python("-m", "tcp_observatory.lab.client", "--port", str(port), "--lang", "en")
    assert proc.wait() == 1
    line = single_line(proc.stderr_lines)
    assert line.startswith("Connection refused") and "nobody is listening" in line
    assert str(port) in line
    assert NO_TRACEBACK not in proc.stderr_text


# -- python -m lab.server --------------------------------------------------------------------


def _started_port(line: str) -> int:
    match = re.search(r"127\.0\.0\.1:(\d+)", line)
    assert match, line
    return int(match.group(1))


@pytest.mark.needs("sigint")
def test_server_prints_one_line_per_event_single(lab: Lab) -> None:
    proc = lab.python("-m", "tcp_observatory.lab.server", "--port", "0", "--lang", "en")
    first = proc.expect(lambda line: line.strip() != "", what="the start line")
    assert first.startswith("Server started: 127.0.0.1:") and "single mode, backlog 1" in first
    port = _started_port(first)

    one = lab.client(port)
    p1 = str(one.local)
    assert proc.expect(lambda line: bool(line)) == f"Connection from {p1}"
    one.send("hello")
    assert proc.expect(lambda line: bool(line)) == f"{p1} said: hello"
    one.send("\x1b[2J\u202eevil")  # untrusted text is shown escaped, on one line
    assert proc.expect(lambda line: bool(line)) == f"{p1} said: \\e[2J\\u202eevil"
    one.send("Fin")
    assert proc.expect(lambda line: bool(line)) == f"{p1} said: Fin"
    disconnected = proc.expect(lambda line: bool(line))
    assert disconnected.startswith(f"Disconnection of {p1}") and "CLOSE_WAIT" in disconnected

    two = lab.raw(port)
    p2 = str(Endpoint.of(*two.getsockname()[:2]))
    released = proc.expect(lambda line: bool(line))
    assert released.startswith(f"{p1}'s socket released")
    assert proc.expect(lambda line: bool(line)) == f"Connection from {p2}"
    two.close()
    assert proc.expect(lambda line: bool(line)).startswith(f"{p2} left without \"Fin\"")

    proc.interrupt()
    assert proc.expect(lambda line: bool(line)) == "Server stopped"
    assert proc.wait() == 0
    assert NO_TRACEBACK not in proc.stderr_text
    assert proc.stderr_lines == []


@pytest.mark.needs("sigint")
def test_server_prints_one_line_per_event_threaded(lab: Lab) -> None:
    proc = lab.python("-m", "tcp_observatory.lab.server",
                      "--threaded", "--port", "0", "--lang", "fr")
    first = proc.expect(lambda line: line.strip() != "", what="the start line")
    assert first.startswith("Lancement serveur") and "multi-thread" in first
    port = _started_port(first)

    one = lab.client(port)
    p1 = str(one.local)
    proc.expect(lambda line: line == f"[thread-1] Connexion de la machine {p1}")
    two = lab.client(port)
    p2 = str(two.local)
    proc.expect(lambda line: line == f"[thread-2] Connexion de la machine {p2}")
    one.send("salut")
    proc.expect(lambda line: line == f"[thread-1] {p1} a dit\u00a0: salut")
    two.send("Fin")
    proc.expect(lambda line: line == f"[thread-2] {p2} a dit\u00a0: Fin")
    proc.expect(lambda line: line.startswith(f"[thread-2] Déconnexion de {p2}"))
    proc.expect(lambda line: line == f"[thread-2] Connexion avec {p2} fermée par le serveur")

    proc.interrupt()
    proc.expect(lambda line: line == "Serveur arrêté")
    assert proc.wait() == 0
    assert NO_TRACEBACK not in proc.stderr_text


def test_server_port_in_use_exits_with_one_line(lab: Lab) -> None:
    taken = lab.server("single")
    proc = lab.python("-m", "tcp_observatory.lab.server", "--port", str(taken.port), "--lang", "en")
    code = proc.wait()
    assert code != 0
    line = single_line(proc.stderr_lines)
    assert str(taken.port) in line and "already in use" in line
    assert NO_TRACEBACK not in proc.stderr_text
    # The server already there is untouched.
    assert taken.running


@pytest.mark.parametrize(
    "command",
    [
        ["-m", "tcp_observatory.lab.server"],
        ["-m", "tcp_observatory.lab.client"],
        ["-m", "tcp_observatory.tui", "netstat"],
        ["-m", "tcp_observatory.tui", "watch"],
    ],
    ids=["server", "client", "netstat", "watch"],
)
@pytest.mark.parametrize("port", ["abc", "70000"])
def test_bad_port_exits_2_with_one_line(lab: Lab, command: list[str], port: str) -> None:
    proc = lab.python(*command, "--port", port)
    assert proc.wait() == 2
    line = single_line(proc.stderr_lines)
    assert port in line and "port" in line
    assert NO_TRACEBACK not in proc.stderr_text
    assert proc.rest() == []


# -- tcp-observatory netstat -----------------------------------------------------------------


@pytest.mark.needs("system-sockets", "handout-netstat-layout")
def test_netstat_table_with_processes(lab: Lab, source_kind: str) -> None:
    server = lab.server("single")
    client = lab.client(server.port)
    lab.server_events.wait("accepted", peer=client.local)
    proc = lab.spawn([*console_script(), "netstat", "--port", str(server.port), "-b",
                      "--lang", "en", "--source", source_kind])
    assert proc.wait() == 0
    lines = proc.rest()
    assert NO_TRACEBACK not in proc.stderr_text
    header = next(line for line in lines if "Proto" in line)
    assert "Local address" in header and "Foreign address" in header and "State" in header

    def row(local: str, remote: str, state: str) -> int:
        hits = [i for i, line in enumerate(lines)
                if line.split()[:4] == ["TCP", local, remote, state]]
        assert len(hits) == 1, (local, remote, state, lines)
        return hits[0]

    addr, peer = str(server.address), str(client.local)
    owner = f"[{OWN_NAME}] (pid {OWN_PID})"
    for i in (row(addr, "0.0.0.0:0", "LISTEN"), row(addr, peer, "ESTABLISHED"),
              row(peer, addr, "ESTABLISHED")):
        assert lines[i + 1].strip().startswith(owner), lines[i + 1]


@pytest.mark.needs("system-sockets")
def test_netstat_json_one_object_per_line(lab: Lab, source_kind: str) -> None:
    server = lab.server("single")
    client = lab.client(server.port)
    client.send("Fin")
    lab.server_events.wait("fin", peer=client.local)
    addr, peer = str(server.address), str(client.local)

    def fin_wait_2_listed() -> list[dict]:
        proc = lab.spawn([*console_script(), "netstat", "--port", str(server.port), "--json",
                          "--source", source_kind])
        assert proc.wait() == 0
        rows = [json.loads(line) for line in proc.rest()]
        states = {(r["local"], r["remote"]): r["state"] for r in rows}
        return rows if states.get((peer, addr)) == "FIN_WAIT_2" else []

    rows = wait_for(fin_wait_2_listed, message="netstat --json to list FIN_WAIT_2")
    by_key = {(r["local"], r["remote"]): r for r in rows}
    assert by_key[(addr, "0.0.0.0:0")]["state"] == "LISTEN"
    assert by_key[(addr, "0.0.0.0:0")]["pid"] == OWN_PID
    assert by_key[(addr, peer)]["state"] == "CLOSE_WAIT"
    assert by_key[(addr, peer)]["process"] == OWN_NAME
    assert by_key[(peer, addr)]["pid"] is None
    assert by_key[(peer, addr)]["role"] == "orphaned"
    for r in rows:
        assert {"proto", "local", "remote", "state", "pid", "process", "role"} <= r.keys()
        assert server.port in (r["local_port"], r["remote_port"])


# -- tcp-observatory watch -------------------------------------------------------------------

WATCH_KEYS = {"time", "local", "remote", "from", "to", "pid", "process"}


@pytest.mark.needs("system-sockets", "sigint")
def test_watch_json_shows_the_closing_states(lab: Lab, source_kind: str) -> None:
    server = lab.server("single")
    addr = str(server.address)
    proc = lab.spawn([*console_script(), "watch", "--port", str(server.port), "--json",
                      "--interval", "0.05", "--source", source_kind])
    events: list[dict] = []

    def transition(local: str, remote: str, to: str) -> dict:
        """The first line for ``local remote -> to``, read already or still to come."""

        def match(event: dict) -> bool:
            return (event["local"], event["remote"], event["to"]) == (local, remote, to)

        def wanted(line: str) -> bool:
            events.append(json.loads(line))
            return match(events[-1])

        done = [e for e in events if match(e)]
        if done:
            return done[0]
        return json.loads(proc.expect(wanted, what=f"{local} {remote} -> {to}"))

    listen = transition(addr, "0.0.0.0:0", "LISTEN")  # the watcher is polling
    assert listen["from"] is None

    client = lab.client(server.port)
    peer = str(client.local)
    established = [transition(peer, addr, "ESTABLISHED"), transition(addr, peer, "ESTABLISHED")]
    for e in established:
        assert e["from"] is None and e["pid"] == OWN_PID and e["process"] == OWN_NAME

    client.send("Fin")
    fin_wait_2 = transition(peer, addr, "FIN_WAIT_2")
    assert fin_wait_2["pid"] is None and fin_wait_2["from"] in ("ESTABLISHED", "FIN_WAIT_1")
    close_wait = transition(addr, peer, "CLOSE_WAIT")
    assert close_wait["from"] == "ESTABLISHED" and close_wait["pid"] == OWN_PID
    for e in events:
        assert WATCH_KEYS <= e.keys(), e
    # The differ may add the FIN_WAIT_1 it deduced; never anything else, never as observed.
    inferred = [e for e in events if e["inferred"]]
    assert [(e["local"], e["from"], e["to"]) for e in inferred] in (
        [], [(peer, "ESTABLISHED", "FIN_WAIT_1")])
    assert events.index(fin_wait_2) > max(events.index(e) for e in established)

    proc.interrupt()
    assert proc.wait() == 0
    assert NO_TRACEBACK not in proc.stderr_text
    for line in proc.rest():
        assert WATCH_KEYS <= json.loads(line).keys()


@pytest.mark.needs("sigint")
def test_watch_text_mode_stops_on_ctrl_c(lab: Lab) -> None:
    server = lab.server("threaded")
    proc = lab.spawn([*console_script(), "watch", "--port", str(server.port),
                      "--interval", "0.05", "--lang", "en", "--source", "psutil"])
    line = proc.expect_text("LISTEN")
    assert str(server.address) in line and "->" in line
    wait_for(lambda: "Watching port" in proc.stderr_text, message="the watching banner")
    proc.interrupt()
    assert proc.wait() == 0
    assert NO_TRACEBACK not in proc.stderr_text


def test_console_script_is_installed() -> None:
    script = console_script()
    if script[0] == sys.executable:
        pytest.skip("tcp-observatory is not installed next to this interpreter")
    assert os.access(script[0], os.X_OK)
