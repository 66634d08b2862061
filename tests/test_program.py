"""The student's own programs (--exec-server / --exec-client) run by lab.net.program.

Python stand-ins in tests/students/ play the student's server and client; the kernel facts
asserted are the lab's (CLOSE_WAIT/FIN_WAIT_2 with the single server, TIME_WAIT with the
threaded one).
"""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from functools import partial
from pathlib import Path

import psutil
import pytest
from support import LOCALHOST, free_port, wait_for

from tcp_observatory.lab.net.program import (
    Program,
    ProgramEvent,
    ProgramExited,
    ProgramFailed,
    ProgramInput,
    ProgramLine,
    exit_text,
    short_name,
)
from tcp_observatory.lab.observe.model import Endpoint
from tcp_observatory.lab.observe.sources import open_source

STUDENTS = Path(__file__).parent / "students"
PY = f'"{sys.executable}"'


class Pane:
    """Collects what a program's pane would show."""

    def __init__(self) -> None:
        self.events: list[ProgramEvent] = []
        self._lock = threading.Lock()

    def __call__(self, event: ProgramEvent) -> None:
        with self._lock:
            self.events.append(event)

    def lines(self) -> list[str]:
        with self._lock:
            return [e.text for e in self.events if isinstance(e, ProgramLine)]

    def failures(self) -> list[str]:
        with self._lock:
            return [e.message for e in self.events if isinstance(e, ProgramFailed)]

    def exits(self) -> list[ProgramExited]:
        with self._lock:
            return [e for e in self.events if isinstance(e, ProgramExited)]

    def has(self, text: str) -> bool:
        return any(text in line for line in self.lines())


@pytest.fixture
def run() -> Iterator[list[Program]]:
    programs: list[Program] = []
    yield programs
    for p in programs:
        pids = p.pids()
        p.stop(grace=1.0)
        for pid in pids:
            wait_for(partial(gone, pid), timeout=5, message=f"pid {pid} to end")


def gone(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def start(programs: list[Program], command: str, port: int, pane: Pane) -> Program:
    prog = Program(command, port, pane, lang="en", cwd=str(STUDENTS))
    programs.append(prog)
    assert prog.start(), pane.failures()
    return prog


def states(port: int) -> dict[tuple[Endpoint, Endpoint | None], str]:
    source = open_source("psutil")
    try:
        return {(c.local, c.remote): c.state for c in source.poll(port).connections}
    finally:
        source.close()


def client_port(pane: Pane) -> int:
    line = wait_for(lambda: next((x for x in pane.lines() if x.startswith("Connecte depuis")),
                                 None), message="the client's connected line")
    return int(line.split()[-1])


def test_short_name() -> None:
    assert short_name("python3 Serveur.py") == "Serveur.py"
    assert short_name("java Client") == "java"
    assert short_name("./serveur") == "serveur"


@pytest.mark.parametrize("server,after_fin", [
    ("serveur_single.py", ("FIN_WAIT_2", "CLOSE_WAIT")),
    ("serveur_thread.py", ("TIME_WAIT", None)),
])
@pytest.mark.needs("system-sockets")
def test_student_server_and_client_reach_the_lab_states(
    run: list[Program], server: str, after_fin: tuple[str, str | None]
) -> None:
    port = free_port()
    srv_pane, cli_pane = Pane(), Pane()
    srv = start(run, f"{PY} {server} {{port}}", port, srv_pane)
    assert srv.check_listens(timeout=10)
    cli = start(run, f"{PY} client.py {{port}}", port, cli_pane)
    local = Endpoint(LOCALHOST, client_port(cli_pane))
    server_end = Endpoint(LOCALHOST, port)
    wait_for(lambda: states(port).get((local, server_end)) == "ESTABLISHED")
    # the client's socket belongs to the client program's pid
    assert cli.pid in cli.pids()
    assert cli.send_line("Bonjour")
    wait_for(lambda: srv_pane.has("Bonjour"), message="the server printing the message")
    assert cli.send_line("Fin")
    assert cli.wait_exited(10)
    assert cli.returncode == 0
    client_state, server_state = after_fin
    wait_for(lambda: states(port).get((local, server_end)) == client_state,
             message=lambda: f"client in {client_state}: {states(port)}")
    if server_state is not None:
        wait_for(lambda: states(port).get((server_end, local)) == server_state,
                 message=lambda: f"server in {server_state}: {states(port)}")
    else:
        wait_for(lambda: (server_end, local) not in states(port))
    assert srv.running


@pytest.mark.needs("posix-shell")
def test_stop_ends_the_whole_process_group(run: list[Program]) -> None:
    pane = Pane()
    prog = start(run, "sh -c 'sleep 60 & sleep 60'", 0, pane)
    wait_for(lambda: len(prog.pids()) >= 2, message="the shell and its children")
    pids = prog.pids()
    prog.stop(grace=1.0)
    for pid in pids:
        wait_for(partial(gone, pid), timeout=5, message=f"pid {pid} to end")
    assert pane.exits()
    assert "stopped" in exit_text(pane.exits()[0], prog.name, "en")


def test_not_found_is_one_sentence(run: list[Program]) -> None:
    pane = Pane()
    prog = Program("no-such-program-xyz --port {port}", 9500, pane, lang="en")
    assert not prog.start()
    assert pane.failures() == [
        "Program not found: no-such-program-xyz; check its name and the current folder."
    ]


def test_crash_shows_its_error_and_exit(run: list[Program]) -> None:
    pane = Pane()
    prog = start(run, f"{PY} crash.py", 9500, pane)
    assert prog.wait_exited(10)
    assert pane.has("NameError")
    (exited,) = pane.exits()
    assert exited.status == 1
    assert "stopped as soon as it started" in exit_text(exited, prog.name, "en")


def test_server_on_another_port_is_reported(run: list[Program]) -> None:
    pane = Pane()
    port = free_port()
    prog = start(run, f"{PY} other_port.py", port, pane)
    assert not prog.check_listens(timeout=2)
    (message,) = pane.failures()
    assert message.startswith("other_port.py listens on port ")
    assert f"not on the lab port {port}" in message


@pytest.mark.needs("proc-io")
def test_endless_binary_printer_is_held_back_and_escaped(run: list[Program]) -> None:
    """A flood is not read and thrown away: past the rate the reader stops reading, the
    program waits in its write (as on a slow terminal), and no line handed over is lost."""
    pane = Pane()
    prog = Program(f"{PY} flood.py", 9500, pane, lang="en", cwd=str(STUDENTS),
                   max_line=200, max_rate=50)
    run.append(prog)
    assert prog.start()
    wait_for(lambda: len(pane.lines()) >= 150, timeout=15, message="150 lines of the flood")
    written = psutil.Process(prog.pid).io_counters().write_chars
    lines = pane.lines()
    # Every line, in order: none was dropped to keep up...
    numbers = [int(x.split()[1]) for x in lines if x.startswith("line ")]
    assert numbers == list(range(1, len(numbers) + 1))
    # ...because the program was held back: it wrote about what was shown, plus what the
    # terminal's buffer and one read hold (reading and discarding, it had written hundreds
    # of MiB by now).
    assert written < 1024 * 1024, f"the flood wrote {written} bytes"
    assert all("\x1b" not in x and "\x00" not in x for x in lines)
    assert any("\\e[31m" in x for x in lines)
    assert all(len(x) <= 200 + len("… (+99999 chars)") + 10 for x in lines)


def test_stdin_gets_the_line_as_typed(run: list[Program]) -> None:
    pane = Pane()
    prog = start(run, f"{PY} -c \"import sys; print(repr(sys.stdin.readline()), flush=True)\"",
                 0, pane)
    assert prog.send_line("  salut [b]x[/b] ")
    assert prog.wait_exited(10)
    assert pane.lines() == ["'  salut [b]x[/b] \\n'"]


@pytest.mark.needs("system-sockets")
@pytest.mark.skipif(shutil.which("javac") is None, reason="javac is not installed")
def test_java_client(run: list[Program], tmp_path: Path) -> None:
    source = tmp_path / "Client.java"
    source.write_text(
        "import java.io.*; import java.net.*;\n"
        "public class Client { public static void main(String[] a) throws Exception {\n"
        "  Socket s = new Socket(\"127.0.0.1\", Integer.parseInt(a[0]));\n"
        "  System.out.println(\"Connecte depuis \" + s.getLocalPort());\n"
        "  BufferedReader in = new BufferedReader(new InputStreamReader(System.in));\n"
        "  OutputStream out = s.getOutputStream(); String l = \"\";\n"
        "  while (!l.equals(\"Fin\") && (l = in.readLine()) != null) {\n"
        "    out.write(l.getBytes(\"UTF-8\")); out.flush(); }\n"
        "  s.close(); System.out.println(\"Fin du programme\"); } }\n"
    )
    subprocess.run(["javac", str(source)], check=True, cwd=tmp_path, timeout=120)
    port = free_port()
    srv_pane, cli_pane = Pane(), Pane()
    srv = start(run, f"{PY} serveur_single.py {{port}}", port, srv_pane)
    assert srv.check_listens(timeout=10)
    cli = Program("java -cp . Client {port}", port, cli_pane, lang="en", cwd=str(tmp_path))
    run.append(cli)
    assert cli.start()
    local = Endpoint(LOCALHOST, client_port(cli_pane))
    assert cli.name == "java"
    assert cli.send_line("Bonjour de Java")
    wait_for(lambda: srv_pane.has("Bonjour de Java"), timeout=20)
    assert cli.send_line("Fin")
    assert cli.wait_exited(20)
    wait_for(lambda: states(port).get((local, Endpoint(LOCALHOST, port))) == "FIN_WAIT_2")


@pytest.mark.needs("system-sockets")
def test_rows_name_the_students_programs(run: list[Program]) -> None:
    """Rows read "server (serveur_single.py)", "client 2 (client.py)"; orphaned still applies."""
    from tcp_observatory.lab.observe.observer import Observer
    from tcp_observatory.lab.observe.roles import Registry, describe_role

    port = free_port()
    registry = Registry()
    srv_pane, cli_pane = Pane(), Pane()
    srv = start(run, f"{PY} serveur_single.py {{port}}", port, srv_pane)
    assert srv.check_listens(timeout=10)
    cli = start(run, f"{PY} client.py {{port}}", port, cli_pane)
    local = Endpoint(LOCALHOST, client_port(cli_pane))
    registry.set_program(0, srv.name, srv.pids())
    registry.set_program(2, cli.name, cli.pids())
    source = open_source("psutil")
    observer = Observer(source, port, lambda *_: None, registry=registry)
    try:
        def roles() -> dict[tuple[Endpoint, Endpoint | None], str]:
            snap, _ = observer.poll_once()
            return {(c.local, c.remote): describe_role(c.role, "en") for c in snap.connections}

        server_end = Endpoint(LOCALHOST, port)

        def labelled() -> dict[tuple[Endpoint, Endpoint | None], str] | None:
            now = roles()
            return now if now.get((local, server_end)) else None

        seen = wait_for(labelled)
        assert seen[(local, server_end)] == "client 2 (client.py)"
        assert seen[(server_end, None)].endswith("(serveur_single.py)")
        assert seen[(server_end, local)].endswith("(serveur_single.py)")
        assert cli.send_line("Fin")
        assert cli.wait_exited(10)
        # the client is gone: its FIN_WAIT_2 has no pid, and is still labelled by its address
        wait_for(lambda: roles().get((local, server_end), "").endswith("(client.py)")
                 and "2" in roles()[(local, server_end)]
                 and roles()[(local, server_end)] != "client 2 (client.py)")
    finally:
        source.close()


@pytest.mark.needs("posix-shell")
def test_a_program_that_never_reads_never_blocks_the_writer(run: list[Program]) -> None:
    """200 KB typed for a program that never reads: each line is taken at once (none blocks
    the caller, the window's thread), the program is said not to read, and past
    ``max_pending`` bytes waiting a line is refused, with what waits."""
    pane = Pane()
    prog = start(run, f"{PY} sourd.py 60", 0, pane)
    wait_for(lambda: pane.has("Je ne lis jamais"), message="the program's first line")
    line = "x" * 2000
    outcomes: list[bool] = []
    typist = threading.Thread(target=lambda: outcomes.extend(
        prog.send_line(line) for _ in range(100)), daemon=True)
    typist.start()
    typist.join(10)
    assert not typist.is_alive(), "a line typed for the program blocked its caller"
    assert len(outcomes) == 100
    refused = [e for e in pane.events if isinstance(e, ProgramInput) and e.state == "refused"]
    assert not all(outcomes) and refused
    assert outcomes.count(False) == len(refused)
    # Refused only once the waiting lines had reached the bound:
    assert all(prog.max_pending - len(line) - 1 < e.pending <= prog.max_pending
               for e in refused)
    assert prog.pending_input <= prog.max_pending
    wait_for(lambda: any(isinstance(e, ProgramInput) and e.state == "stalled"
                         for e in list(pane.events)), message="the stall to be said")
    assert prog.running


def descendant_pid(pane: Pane) -> int:
    line = wait_for(lambda: next((x for x in pane.lines() if x.startswith("petit-fils")), None),
                    message="the grandchild's pid")
    return int(line.split()[1])


@pytest.mark.needs("posix-shell")
def test_stop_ends_a_descendant_that_left_the_session(run: list[Program]) -> None:
    """A double fork with setsid(): the grandchild is in no group of the program's and its
    parents are gone; stop() still ends it (it bears the program's mark)."""
    listener = socket.socket()
    listener.bind((LOCALHOST, 0))
    listener.listen(1)
    try:
        pane = Pane()
        prog = start(run, f"{PY} fork_client.py {{port}}", listener.getsockname()[1], pane)
        client_port(pane)
        assert prog.send_line("go")
        grandchild = descendant_pid(pane)
        assert prog.wait_exited(10)  # the program itself has exited
        assert not gone(grandchild)
        assert os.getsid(grandchild) != prog.pid  # not in the session the program led
        prog.stop(grace=1.0)
        wait_for(lambda: gone(grandchild), timeout=5, message="the grandchild to end")
    finally:
        listener.close()



def test_at_once_is_told_from_what_the_program_did_not_from_the_clock(
        run: list[Program]) -> None:
    """A program that fails before printing anything or being typed to "stopped as soon as
    it started", however long a loaded machine took to get there; one that printed its
    greeting first simply ended."""
    slow = Pane()
    prog = start(run, f'{PY} -c "import time, sys; time.sleep(1.5); sys.exit(3)"', 9500, slow)
    assert prog.wait_exited(10)
    (exited,) = slow.exits()
    assert exited.seconds >= 1.5 and exited.at_once
    assert "stopped as soon as it started" in exit_text(exited, prog.name, "en")
    spoke = Pane()
    prog = start(run, f'{PY} -c "import sys; print(\'Console Client\', flush=True); '
                      f'sys.exit(2)"', 9500, spoke)
    assert prog.wait_exited(10)
    (exited,) = spoke.exits()
    assert not exited.at_once
    assert "stopped as soon as it started" not in exit_text(exited, prog.name, "en")
