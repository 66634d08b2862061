"""Helpers shared by the tests, written once: deadline polling, event logs, subprocesses,
the kernel, hand-made kernel rows and bound sessions (app_support.py adds the Textual ones).

Nothing here sleeps to synchronise: every wait polls a condition with a deadline and fails
with what was last seen.
"""

from __future__ import annotations

import contextlib
import os
import queue
import random
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypedDict, TypeVar

from tcp_observatory.lab.net.client import LabClient
from tcp_observatory.lab.net.server import LabServer
from tcp_observatory.lab.observe.model import (
    Connection,
    Endpoint,
    Role,
    RoleKind,
    Snapshot,
    state_name,
)
from tcp_observatory.lab.observe.observer import Observer
from tcp_observatory.lab.observe.roles import Registry
from tcp_observatory.lab.observe.sources import Source, open_source
from tcp_observatory.lab.session import Session, Sink

if TYPE_CHECKING:
    from typing_extensions import Unpack

T = TypeVar("T")
ROOT = Path(__file__).resolve().parent.parent
LOCALHOST = "127.0.0.1"
SOURCES = ("psutil", "netlink")
# The source the app's tests watch the kernel with: the one the app itself picks on Linux and
# Windows (netlink, or psutil), psutil on macOS, where "auto" would run netstat at every poll.
APP_SOURCE = "psutil" if sys.platform == "darwin" else "auto"


def wait_for(
    predicate: Callable[[], T | None],
    timeout: float = 10.0,
    interval: float = 0.02,
    message: str | Callable[[], str] = "",
) -> T:
    """Call ``predicate`` until it returns something truthy and return that value.

    Fails after ``timeout`` seconds with ``message`` (a string, or a callable giving the
    details of what was last seen) and the last value the predicate returned.
    """
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            what = message() if callable(message) else message
            name = getattr(predicate, "__name__", repr(predicate))
            raise AssertionError(
                f"timed out after {timeout} s waiting for {what or name} "
                f"(last value: {value!r})"
            )
        time.sleep(interval)


# -- hand-made kernel rows ------------------------------------------------------------------
class ConnFields(TypedDict, total=False):
    """The fields of a Connection past its ends, state and role, as the kernel fills them."""

    family: int
    pid: int | None
    process: str | None
    recv_q: int | None
    send_q: int | None
    timer: str | None
    timer_left: float | None
    retransmits: int | None
    inode: int | None
    uid: int | None
    bytes_received: int | None
    bytes_acked: int | None


def ep(port: int, host: str = LOCALHOST) -> Endpoint:
    """The endpoint ``host:port`` (loopback unless told)."""
    return Endpoint(host, port)


def conn(local: Endpoint | int, remote: Endpoint | int | None, state: str,
         role: Role | RoleKind = RoleKind.OTHER, client: int | None = None, *,
         server_side: bool = False, **fields: Unpack[ConnFields]) -> Connection:
    """One kernel row for a hand-made snapshot.

    A port number stands for 127.0.0.1:port; ``remote`` None is a listener's. ``role`` is a
    Role, or a RoleKind made into ``Role(kind, client, server_side=server_side)``; the other
    fields are Connection's, None (unknown) unless given.
    """
    if isinstance(role, RoleKind):
        role = Role(role, client, server_side=server_side)
    return Connection(ep(local) if isinstance(local, int) else local,
                      ep(remote) if isinstance(remote, int) else remote,
                      state, role=role, **fields)


def crowd(n: int, state: str = "ESTABLISHED", **fields: Unpack[ConnFields]) -> list[Connection]:
    """``n`` connections of other programs (ports 20000 and up to 9600), all in ``state``."""
    return [conn(20000 + i, 9600, state, **fields) for i in range(n)]


# -- events --------------------------------------------------------------------------------
class EventLog:
    """Thread-safe record of server and client events (the ``on_event`` sink)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._events: list[Any] = []

    def __call__(self, event: Any) -> None:
        with self._lock:
            self._events.append(event)

    @property
    def events(self) -> list[Any]:
        with self._lock:
            return list(self._events)

    def of(self, kind: str, **fields: object) -> list[Any]:
        return [
            e for e in self.events
            if e.kind == kind and all(getattr(e, k) == v for k, v in fields.items())
        ]

    def messages(self, peer: Endpoint | None = None) -> list[str]:
        return [e.text for e in self.events
                if e.kind == "message" and (peer is None or e.peer == peer)]

    def wait(self, kind: str, timeout: float = 10.0, **fields: object) -> Any:
        """Wait for the first event of ``kind`` whose attributes equal ``fields``."""

        def found() -> Any:
            hits = self.of(kind, **fields)
            return hits[0] if hits else None

        return wait_for(found, timeout, message=lambda: f"event {kind} {fields}; "
                        f"events so far: {self.summary()}")

    def wait_message(self, text: str, peer: Endpoint | None = None, timeout: float = 10.0) -> Any:
        fields: dict[str, object] = {"text": text}
        if peer is not None:
            fields["peer"] = peer
        return self.wait("message", timeout, **fields)

    def summary(self) -> str:
        return ", ".join(f"{e.kind}({getattr(e, 'peer', '')}{getattr(e, 'text', '')[:40]!r})"
                         for e in self.events)


# -- the kernel ----------------------------------------------------------------------------
class Kernel:
    """What one source reports for the lab port, labelled with the test's registry."""

    def __init__(self, source: Source, port: int, registry: Registry) -> None:
        self.observer = Observer(source, port, lambda *_: None, registry=registry)
        self.port = port
        self.last: Snapshot | None = None

    @property
    def source_name(self) -> str:
        return self.observer.source.name

    def snapshot(self) -> Snapshot:
        self.last, _ = self.observer.poll_once()
        return self.last

    def find(self, local: Endpoint, remote: Endpoint | None) -> Connection | None:
        return self.snapshot().by_key().get((local, remote))

    def describe(self) -> str:
        if self.last is None:
            return "nothing polled"
        rows = [
            f"{c.local} {c.remote_text} {c.state} pid={c.pid} role={c.role.kind.value}"
            f" recv_q={c.recv_q}"
            for c in self.last.connections
        ]
        return f"{self.source_name} saw: " + ("; ".join(rows) or "no connection")

    def wait(
        self,
        local: Endpoint,
        remote: Endpoint | None,
        state: str,
        check: Callable[[Connection], bool] = lambda c: True,
        timeout: float = 10.0,
    ) -> Connection:
        """Wait until the connection ``local -> remote`` is in ``state`` and ``check`` holds."""

        def seen() -> Connection | None:
            c = self.find(local, remote)
            return c if c is not None and c.state == state and check(c) else None

        return wait_for(seen, timeout, message=lambda: f"{local} -> {remote} in {state}; "
                        + self.describe())

    def wait_gone(self, local: Endpoint, remote: Endpoint | None, timeout: float = 10.0) -> None:
        wait_for(lambda: self.find(local, remote) is None, timeout,
                 message=lambda: f"{local} -> {remote} to vanish; " + self.describe())


def ss_rows(port: int) -> set[tuple[Endpoint, Endpoint | None, str]] | None:
    """``ss -tanH`` for the port, as (local, remote, state); None when ss is not installed."""
    if shutil.which("ss") is None:
        return None
    out = subprocess.run(
        ["ss", "-tanH", f"( sport = :{port} or dport = :{port} )"],
        capture_output=True, text=True, check=True, timeout=10,
    ).stdout

    def endpoint(text: str) -> Endpoint | None:
        host, _, p = text.rpartition(":")
        return None if p == "*" else Endpoint.of(host.strip("[]"), int(p))

    rows: set[tuple[Endpoint, Endpoint | None, str]] = set()
    for line in out.splitlines():
        state, _rq, _sq, local, peer = line.split()[:5]
        loc = endpoint(local)
        assert loc is not None
        rows.add((loc, endpoint(peer), state_name(state)))
    return rows


def ss_agrees(port: int, local: Endpoint, remote: Endpoint | None, state: str) -> None:
    """Cross-check one fact with ``ss``; does nothing where ss is missing."""
    if shutil.which("ss") is None:
        return
    wait_for(lambda: (local, remote, state) in (ss_rows(port) or set()), 5.0,
             message=lambda: f"ss to show {local} {remote} {state}; ss: {ss_rows(port)}")


# -- sessions ------------------------------------------------------------------------------
class SessionOptions(TypedDict, total=False):
    """Session's settings that the tests vary past its mode, port and source."""

    close_after_fin: bool
    with_server: bool
    all_ports: bool
    max_clients: int
    sink: Sink | None
    backlog: int | None
    idle_timeout: float | None
    exec_server: str | None
    exec_clients: Sequence[str]
    lang: str
    exec_threaded_server: str | None


def lab_session(mode: str = "single", *, port: int = 0, source: Source | str = APP_SOURCE,
                host: str = LOCALHOST, **options: Unpack[SessionOptions]) -> Session:
    """A session polling every 0.1 s (the app's own interval), its port bound (0: a free
    one the kernel picks)."""
    session = Session(host=host, port=port, mode=mode, interval=0.1, source=source, **options)
    session.bind()
    return session


# -- subprocesses --------------------------------------------------------------------------
def console_script() -> list[str]:
    """The installed ``tcp-observatory`` next to this interpreter, or ``python -m tui``."""
    script = Path(sys.executable).with_name("tcp-observatory")
    return [str(script)] if script.exists() else [sys.executable, "-m", "tcp_observatory.tui"]


class Proc:
    """A subprocess whose stdout and stderr are read by threads, so reads have deadlines."""

    def __init__(self, args: list[str], *, stdin: bool = False,
                 env: dict[str, str] | None = None) -> None:
        self.args = args
        self.popen = subprocess.Popen(
            args,
            stdin=subprocess.PIPE if stdin else subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            encoding="utf-8",
            errors="replace",
            cwd=ROOT,
            env=env,
        )
        self._lines: queue.Queue[str | None] = queue.Queue()
        self.stdout_lines: list[str] = []
        self._err: list[str] = []
        self._readers = [
            threading.Thread(target=self._pump, args=(self.popen.stdout, self._lines.put),
                             daemon=True),
            threading.Thread(target=self._pump, args=(self.popen.stderr, self._err.append),
                             daemon=True),
        ]
        for t in self._readers:
            t.start()
        self._eof = False

    @staticmethod
    def _pump(stream: Any, put: Callable[[Any], None]) -> None:
        with contextlib.suppress(ValueError, OSError):
            for line in stream:
                put(line.rstrip("\n"))
        put(None)

    @property
    def stderr_text(self) -> str:
        return "\n".join(x for x in self._err if x is not None)

    @property
    def stderr_lines(self) -> list[str]:
        return [x for x in self._err if x is not None and x.strip()]

    def expect(self, predicate: Callable[[str], object], timeout: float = 10.0,
               what: str = "") -> str:
        """Read stdout lines until one satisfies ``predicate``; return it."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0 or self._eof:
                break
            try:
                line = self._lines.get(timeout=left)
            except queue.Empty:
                break
            if line is None:
                self._eof = True
                break
            self.stdout_lines.append(line)
            if predicate(line):
                return line
        raise AssertionError(
            f"{self.args[1:]}: no stdout line for {what or predicate!r} within {timeout} s "
            f"(exit code {self.popen.poll()}); stdout so far: {self.stdout_lines}; "
            f"stderr: {self.stderr_text!r}"
        )

    def expect_text(self, text: str, timeout: float = 10.0) -> str:
        return self.expect(lambda line: text in line, timeout, what=repr(text))

    def write(self, text: str) -> None:
        assert self.popen.stdin is not None
        self.popen.stdin.write(text)
        self.popen.stdin.flush()

    def close_stdin(self) -> None:
        if self.popen.stdin is not None:
            with contextlib.suppress(OSError):
                self.popen.stdin.close()

    def interrupt(self) -> None:
        """Ctrl+C."""
        self.popen.send_signal(signal.SIGINT)

    def wait(self, timeout: float = 10.0) -> int:
        """Wait for the exit and for both pipes to be drained; return the exit code."""
        try:
            code = self.popen.wait(timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError(
                f"{self.args[1:]} still running after {timeout} s; stdout: "
                f"{self.rest()}; stderr: {self.stderr_text!r}"
            ) from None
        for t in self._readers:
            t.join(timeout)
        return code

    def rest(self) -> list[str]:
        """Every stdout line read so far plus those still queued."""
        while True:
            try:
                line = self._lines.get_nowait()
            except queue.Empty:
                break
            if line is None:
                self._eof = True
                continue
            self.stdout_lines.append(line)
        return self.stdout_lines

    def stop(self) -> None:
        """Terminate (then kill) if still running, and always reap."""
        self.close_stdin()
        if self.popen.poll() is None:
            self.popen.terminate()
            try:
                self.popen.wait(5)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait(5)
        for stream in (self.popen.stdout, self.popen.stderr):
            if stream is not None:
                with contextlib.suppress(OSError):
                    stream.close()
        for t in self._readers:
            t.join(5)


def cli(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """``tcp-observatory ARGS`` run to its end in an English locale, from the repository."""
    env = {**os.environ, "LANG": "en_US.UTF-8"}
    env.pop("LC_ALL", None)
    return subprocess.run([*console_script(), *args], capture_output=True, text=True,
                          encoding="utf-8", cwd=ROOT, env=env, timeout=timeout,
                          stdin=subprocess.DEVNULL, check=False)


def child_env(**extra: str) -> dict[str, str]:
    """The environment for a subprocess: no forced unbuffering, so flushes are tested."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}
    env.update(extra)
    return env


def single_line(lines: Iterable[str]) -> str:
    lines = [x for x in lines if x.strip()]
    assert len(lines) == 1, f"expected exactly one line, got {lines}"
    return lines[0]


def _clients_ports() -> tuple[int, int]:
    """The range the kernel takes a client's end from (a socket that binds no port)."""
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range", encoding="ascii") as f:
            low, high = map(int, f.read().split())
        return low, high
    except (OSError, ValueError):
        return 49152, 65535  # macOS's and Windows' (IANA's dynamic ports)


_HANDED_OUT: set[int] = set()


def free_port() -> int:
    """A port nothing listens on right now, for a program the test starts in a subprocess.

    Not one the kernel would give (bind to port 0): that range is where every client's end
    comes from, and between this call and the program's bind a connection of another test
    (two suites side by side open thousands) took the port, once in five runs of two
    suites ("Port 55421 is already in use"). Below the range, only another listener
    could, and each is handed a port at random among some 20,000, never the same twice."""
    low, high = _clients_ports()
    first, last = (10000, low - 1) if low > 20000 else (high + 1, 65535)
    rng = random.SystemRandom()
    for _ in range(1000):
        port = rng.randint(first, last)
        if port in _HANDED_OUT:
            continue
        with socket.socket() as s:
            try:
                s.bind((LOCALHOST, port))
            except OSError:
                continue
        _HANDED_OUT.add(port)
        return port
    raise AssertionError(f"no free port between {first} and {last}")


def port_is_free(port: int) -> bool:
    """Whether a server could listen on 127.0.0.1:port now (once a program has exited)."""
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((LOCALHOST, port))
            s.listen(1)
        except OSError:
            return False
    return True


def netlink_available() -> bool:
    """Whether this machine lets the netlink sock_diag source open (Linux, allowed socket)."""
    if sys.platform != "linux":
        return False
    try:
        from tcp_observatory.lab.observe.netlink import NetlinkSource

        NetlinkSource().close()
    except (ImportError, OSError):
        return False
    return True


class Sockets:
    """Opens loopback sockets and closes every one of them at teardown."""

    def __init__(self) -> None:
        self.opened: list[socket.socket] = []

    def keep(self, sock: socket.socket) -> socket.socket:
        self.opened.append(sock)
        return sock

    def listener(self, backlog: int = 5, host: str = LOCALHOST) -> socket.socket:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        sock = self.keep(socket.socket(family, socket.SOCK_STREAM))
        sock.bind((host, 0))
        sock.listen(backlog)
        return sock

    def connect(self, listener: socket.socket) -> socket.socket:
        family = listener.family
        sock = self.keep(socket.socket(family, socket.SOCK_STREAM))
        sock.settimeout(5)
        sock.connect(listener.getsockname()[:2])
        return sock

    def accept(self, listener: socket.socket) -> socket.socket:
        listener.settimeout(5)
        conn, _ = listener.accept()
        return self.keep(conn)

    def pair(self, listener: socket.socket) -> tuple[socket.socket, socket.socket]:
        client = self.connect(listener)
        return client, self.accept(listener)

    def close_all(self) -> None:
        for sock in self.opened:
            sock.close()
        self.opened.clear()


# -- the lab fixture -----------------------------------------------------------------------
class Lab:
    """Everything one test starts; ``close`` releases all of it, whatever happened."""

    def __init__(self) -> None:
        self.registry = Registry()
        self.server_events = EventLog()
        self.client_events = EventLog()
        self._servers: list[LabServer] = []
        self._clients: list[LabClient] = []
        self._sockets: list[socket.socket] = []
        self._sources: list[Source] = []
        self._procs: list[Proc] = []
        self._numbers = 0

    def server(self, mode: str = "single", **kw: Any) -> LabServer:
        """A started LabServer on a free port of 127.0.0.1, reporting to ``server_events``."""
        server = LabServer(LOCALHOST, 0, mode=mode, on_event=self.server_events,
                           registry=self.registry, **kw)
        self._servers.append(server)
        server.start()
        return server

    def client(self, port: int, *, connect: bool = True) -> LabClient:
        """A LabClient numbered 1, 2, ... in creation order; connected unless told not to."""
        self._numbers += 1
        client = LabClient(LOCALHOST, port, number=self._numbers, on_event=self.client_events,
                           registry=self.registry)
        self._clients.append(client)
        if connect:
            client.connect(timeout=10)
        else:
            client.start()
        return client

    def raw(self, port: int) -> socket.socket:
        """A plain socket connected like the handout's client (no framing of its own)."""
        sock = socket.create_connection((LOCALHOST, port), timeout=10)
        self._sockets.append(sock)
        return sock

    def keep(self, sock: socket.socket) -> socket.socket:
        self._sockets.append(sock)
        return sock

    def kernel(self, source_kind: str, port: int) -> Kernel:
        source = open_source(source_kind)
        self._sources.append(source)
        return Kernel(source, port, self.registry)

    def spawn(self, args: list[str], *, stdin: bool = False) -> Proc:
        proc = Proc(args, stdin=stdin, env=child_env())
        self._procs.append(proc)
        return proc

    def python(self, *args: str, stdin: bool = False) -> Proc:
        return self.spawn([sys.executable, *args], stdin=stdin)

    def close(self) -> None:
        for proc in self._procs:
            proc.stop()
        for client in self._clients:
            client.close()
        for sock in self._sockets:
            with contextlib.suppress(OSError):
                sock.close()
        for server in self._servers:
            server.stop()
        for source in self._sources:
            source.close()
