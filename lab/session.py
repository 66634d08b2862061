"""The whole lab in one object: a server, numbered clients and an observer.

The app, the demo and tests drive the lab through a Session; everything it sees (server
and client events, the app's own actions, snapshots and transitions) reaches one sink,
from whatever thread it happened on. The sink must not block: the app posts a message.
"""

from __future__ import annotations

import os
import queue
import threading
import time
from collections.abc import Callable, Sequence

from tcp_observatory.lab.net.client import ClientEvent, LabClient
from tcp_observatory.lab.net.framing import is_fin
from tcp_observatory.lab.net.overflow import DropWatch
from tcp_observatory.lab.net.program import (
    Program,
    ProgramEvent,
    ProgramExited,
    ProgramFailed,
    ProgramStarted,
    ProgramWaiting,
    children_map,
    end_marked,
    short_name,
)
from tcp_observatory.lab.net.server import (
    DEFAULT_MAX_CLIENTS,
    SINGLE,
    THREADED,
    LabServer,
    ServerEvent,
)
from tcp_observatory.lab.observe.model import Connection, Snapshot, Transition
from tcp_observatory.lab.observe.observer import Observer
from tcp_observatory.lab.observe.roles import Registry
from tcp_observatory.lab.observe.sources import Source, open_source
from tcp_observatory.lab.records import record

SERVER_WAIT = 5.0  # seconds a student's client may take to connect before the next starts
PROGRAM_STOP_WAIT = 5.0  # seconds a restart waits for the student's clients to end
PIDS_EVERY = 0.5  # seconds between two samples of the student's programs' processes


@record(frozen=True)
class Action:
    """Something the app did on the user's behalf: the cause shown next to its effects."""

    kind: str  # client-add client-remove send fin server-start server-stop mode close-after-fin
    # program-server (the student's own server started)
    time: float
    client: int | None = None
    text: str = ""
    by_app: bool = False  # done by a step's setup or the demo, not typed by the student
    ident: int = 0  # client-add / client-remove: which client (its number may be reused)


@record(frozen=True)
class ObserverUpdate:
    snapshot: Snapshot
    transitions: list[Transition]


@record(frozen=True)
class Paced:
    """The observer polls less often than asked (a poll costs too much), or again as asked."""

    interval: float  # seconds between polls now
    asked: float  # seconds between polls asked for (--interval)
    cost: float  # seconds one poll takes


@record(frozen=True)
class SessionError:
    text: str
    time: float


@record(frozen=True)
class ProgramReport:
    """What a student's own program did: ``who`` is 0 for its server, n for client n."""

    who: int
    name: str
    event: ProgramEvent
    time: float
    ident: int = 0  # which client (0: the server); its number ``who`` may be reused


Event = (ServerEvent | ClientEvent | Action | ObserverUpdate | SessionError | ProgramReport
         | Paced)
Sink = Callable[[Event], None]


class HeldEvents:
    """A sink that keeps the events until the real one is given (``Session.hold_events``),
    then hands them over in order; an event arriving during or after that goes straight
    through, never ahead of one kept."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._events: list[Event] = []
        self._target: Sink | None = None

    def __call__(self, event: Event) -> None:
        with self._lock:
            target = self._target
            if target is None:
                self._events.append(event)
                return
        target(event)

    def release(self, target: Sink) -> None:
        with self._lock:
            for event in self._events:
                target(event)
            self._events.clear()
            self._target = target


class Session:
    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 9500,
        mode: str = SINGLE,
        close_after_fin: bool = False,
        with_server: bool = True,
        interval: float = 0.1,
        all_ports: bool = False,
        source: Source | str = "auto",
        max_clients: int = DEFAULT_MAX_CLIENTS,
        sink: Sink | None = None,
        backlog: int | None = None,
        idle_timeout: float | None = None,
        exec_server: str | None = None,
        exec_clients: Sequence[str] = (),
        lang: str = "fr",
        exec_threaded_server: str | None = None,
    ) -> None:
        self.host = host
        self.port = port
        self.mode = mode
        self.close_after_fin = close_after_fin
        # The student's own programs run instead of the built-in server or clients.
        self.exec_server = exec_server
        # The student's threaded server (listing 3), for the steps about it: Ctrl+R starts
        # it there, and --exec-server's program for the single-server steps.
        self.exec_threaded_server = exec_threaded_server if exec_server is not None else None
        self.exec_clients = list(exec_clients)
        self.lang = lang
        self.programs: dict[int, Program] = {}
        self._every_program: list[Program] = []  # all ever started: all are ended at quit
        self._queued: dict[int, str] = {}  # client programs waiting for a listener
        self._strangers: set[int] = set()  # lab sockets' owners known not to be ours
        self._pids_checked = 0.0
        self._program_queue: queue.Queue[tuple[int, str] | None] = queue.Queue()
        self._program_starter: threading.Thread | None = None
        self._closing = False
        # Something listens on the lab port (the observer saw it): clients wait for it.
        self._listening = threading.Event()
        self._listeners: set[object] = set()
        self.with_server = with_server and exec_server is None
        self.max_clients = max_clients
        self.backlog = backlog  # None: the handout's, by mode (1 single, 5 threaded)
        self.idle_timeout = idle_timeout
        self.registry = Registry()
        self._sink = sink or (lambda _e: None)
        self._lock = threading.RLock()
        self.server: LabServer | None = None
        self.clients: dict[int, LabClient] = {}
        self._next_client = 1
        # Every client gets an ident never given again (numbers start from 1 in a new scene).
        self._next_ident = 1
        self.idents: dict[int, int] = {}  # client number -> its ident, for the live ones
        src = open_source(source) if isinstance(source, str) else source
        if hasattr(src, "byte_counts"):
            # The lab port's sockets with their byte counts (Linux's netlink): a message
            # reaching any server's socket is seen, whoever wrote the server.
            src.byte_counts = True
        # Handshakes dropped at the lab's full accept queue are judged from the kernel's
        # rows of the lab port, whoever's server listens there; only a source that tells
        # each listener's queue and each handshake's retransmissions can (netlink).
        self.judges_drops = bool(getattr(src, "listener_queues", False))
        self._drops = DropWatch(port)
        self.observer = Observer(
            src, port, self._on_update, interval=interval, registry=self.registry,
            all_ports=all_ports, on_error=self._source_failed, on_pace=self._paced,
        )

    # -- sink ------------------------------------------------------------------------------
    def set_sink(self, sink: Sink) -> None:
        held = self._sink
        if isinstance(held, HeldEvents):
            held.release(sink)  # what happened before, in order, then the new sink
            self._sink = sink
            self.observer.release()
            return
        self._sink = sink

    def hold_events(self) -> None:
        """Keep every event until ``set_sink``: the lab can start before its window is up
        (the app's first screen then finds the server, the clients and the observer's
        first look ready, instead of starting them once it is drawn). Meanwhile the
        observer polls when the server or a client acts, not every interval."""
        self._sink = HeldEvents()
        self.observer.hold()

    @property
    def holding(self) -> bool:
        """Whether events are being kept for a sink still to come (``hold_events``)."""
        return isinstance(self._sink, HeldEvents)

    def _emit(self, event: Event) -> None:
        self._sink(event)

    def _paced(self, interval: float, cost: float) -> None:
        self._emit(Paced(interval, self.observer.interval, cost))

    def _source_failed(self, exc: BaseException) -> None:
        self._emit(SessionError(str(exc), time.time()))

    def _on_update(self, snapshot: Snapshot, transitions: list[Transition]) -> None:
        self._note_listeners(snapshot)
        self._refresh_program_pids(snapshot)
        self._emit(ObserverUpdate(snapshot, transitions))
        if self.judges_drops:
            self._judge_drops(snapshot)

    def _judge_drops(self, snapshot: Snapshot) -> None:
        """Say when the lab port's listener shows handshakes dropped at its full queue:
        its own rows, looked at again only when one of them changed."""
        port = self.port
        changed, gone = snapshot.changed, snapshot.gone
        if changed is not None and gone is not None and not any(
                _on_port(c, port) for c in (*changed, *gone)):
            return
        self._drops.port = port
        rows = snapshot.connections
        if self.observer.all_ports:
            rows = tuple(c for c in rows if _on_port(c, port))
        for drops in self._drops.news(rows):
            self._emit(ServerEvent("overflow", snapshot.time, text=str(drops.backlog),
                                   mode=self.mode, count=len(drops.stuck), drops=drops))

    def _note_listeners(self, snapshot: Snapshot) -> None:
        """Whether a socket listens on the lab port, from what changed in this poll."""
        for c in snapshot.gone or ():
            self._listeners.discard(c.key)
        for c in snapshot.changed or ():
            if c.remote is None and c.local.port == self.port and c.state == "LISTEN":
                self._listeners.add(c.key)
            else:
                self._listeners.discard(c.key)
        if self._listeners:
            self._listening.set()
        else:
            self._listening.clear()

    def listener_up(self) -> bool:
        """Whether a server listens on the lab port: ours, or one the observer saw."""
        return self.server_running or self._listening.is_set()

    def _relay(self, event: ServerEvent | ClientEvent) -> None:
        """A socket event: pass it on, and look at the kernel at once for its effect."""
        self._emit(event)
        if (isinstance(event, ServerEvent) and event.kind == "listening"
                and not self.judges_drops):
            # Nothing here can tell the lab's dropped handshakes from another program's.
            self._emit(ServerEvent("overflow-unknown", event.time, mode=event.mode))
        self.observer.poll_now()

    def _action(self, kind: str, client: int | None = None, text: str = "", *,
                by_app: bool = False, ident: int = 0) -> None:
        self._emit(Action(kind, time.time(), client, text, by_app, ident))

    def client_known(self, number: int, ident: int = 0) -> bool:
        """Whether client ``number`` (this one: ``ident``) has a socket the lab knows."""
        if ident:
            return self.registry.has_ident(ident)
        return number in self.registry.copy()[0].values()

    def _new_ident(self, number: int) -> int:
        with self._lock:
            ident = self._next_ident
            self._next_ident += 1
            self.idents[number] = ident
            return ident

    # -- life ------------------------------------------------------------------------------
    def bind(self) -> None:
        """Take the port now, so that a taken port fails before any window opens."""
        if self.with_server and self.server is None:
            self.server = self._new_server()
            self.server.bind()
            self.port = self.server.port
            self.observer.port = self.port

    def _new_server(self) -> LabServer:
        return LabServer(
            self.host, self.port, mode=self.mode, close_after_fin=self.close_after_fin,
            max_clients=self.max_clients, on_event=self._relay, registry=self.registry,
            backlog=self.backlog, idle_timeout=self.idle_timeout, watch_drops=False,
        )

    def start(self, clients: int = 1) -> None:
        self.bind()
        if self.server is not None and not self.server.running:
            self.server.start()
        if self.exec_server is not None and 0 not in self.programs:
            self.start_program_server()
        self.observer.start()
        for _ in range(clients):
            self.add_client()

    def shutdown(self) -> None:
        """Close every socket and stop every thread (the port is free afterwards)."""
        with self._lock:
            clients = list(self.clients.values())
            self.clients.clear()
        for c in clients:
            c.close()
        self._closing = True
        self._program_queue.put(None)
        if self._program_starter is not None:
            self._program_starter.join(SERVER_WAIT + 1)
        self.stop_programs()
        if self.server is not None:
            self.server.stop()
            self.server = None
        self.observer.stop()
        self._end_strays()
        self.observer.source.close()

    def _end_strays(self) -> None:
        """Before the app exits: a lab socket still held by a descendant of the student's
        programs (one that hid from every other check) ends with its holder."""
        marks = {p.mark for p in self._every_program}
        if not marks:
            return
        try:
            snapshot = self.observer.source.poll(self.port, lab_port=self.port)
        except Exception:  # a source that fails now: the programs were ended already
            return
        end_marked({c.pid for c in snapshot.connections if c.pid is not None}, marks)

    # -- server ----------------------------------------------------------------------------
    @property
    def server_running(self) -> bool:
        return self.server is not None and self.server.running

    def stop_server(self) -> None:
        with self._lock:
            if self.server is not None:
                self.server.stop()
                self.server = None
                self._action("server-stop")

    def start_server(self) -> None:
        """Start (or restart) the server with the current mode and options."""
        with self._lock:
            if self.server is not None:
                return
            server = self._new_server()
            server.start()  # LabError when the port is taken: the caller shows it
            self.server = server
            self.with_server = True
            self._action("server-start", text=self.mode)

    def switch_mode(self, mode: str | None = None) -> str:
        """Restart the server in the other mode (or ``mode``); connected clients see it close."""
        with self._lock:
            self.mode = mode or (THREADED if self.mode == SINGLE else SINGLE)
            self._action("mode", text=self.mode)
            if self.server is not None:
                self.stop_server()
                self.start_server()
            return self.mode

    def set_close_after_fin(self, value: bool) -> None:
        with self._lock:
            self.close_after_fin = value
            if self.server is not None:
                self.server.close_after_fin = value
            self._action("close-after-fin", text="on" if value else "off")

    # -- clients ---------------------------------------------------------------------------
    def add_client(self) -> int:
        if self.exec_clients:
            return self.add_program_client()
        with self._lock:
            number = self._next_client
            self._next_client += 1
            ident = self._new_ident(number)
            client = LabClient(
                self.host if self.host not in ("0.0.0.0", "::", "") else "127.0.0.1",
                self.port, number=number, on_event=self._relay, registry=self.registry,
                ident=ident,
                server_up=self.listener_up,
            )
            self.clients[number] = client
        self._action("client-add", number, ident=ident)
        client.start()
        return number

    def remove_client(self, number: int) -> None:
        with self._lock:
            queued = self._queued.pop(number, None)
        if queued is not None:  # a client program still waiting for a server: never started
            self._action("client-remove", number, ident=self.idents.get(number, 0))
            return
        program = self.programs.get(number) if number else None
        if program is not None:
            self._action("client-remove", number, ident=self.idents.get(number, 0))
            threading.Thread(target=program.stop, daemon=True).start()
            return
        with self._lock:
            client = self.clients.pop(number, None)
        if client is not None:
            self._action("client-remove", number, ident=client.ident)
            client.close()

    def reset_clients(self) -> None:
        """Close every client and number the next one 1 again: a new scene for a step."""
        with self._lock:
            numbers = [*self.clients, *(n for n in self.programs if n), *self._queued]
        for number in numbers:
            self.remove_client(number)
        with self._lock:
            if not self.clients:
                self._next_client = 1

    def restart_server(self, mode: str) -> None:
        """A fresh server in ``mode``: sockets the old one held (a CLOSE_WAIT kept after
        "Fin" in single mode) are closed, so the next scene starts clean."""
        with self._lock:
            if self.mode != mode:
                self.mode = mode
                self._action("mode", text=mode)
            self.stop_server()
            self.start_server()

    def send(self, number: int, text: str, *, by_app: bool = False) -> bool:
        """Send ``text`` from client ``number``; ``by_app`` when the student did not type it.

        A student's client program gets the line on its standard input, as typed."""
        program = self.programs.get(number) if number else None
        if program is not None:
            # Refused when the program does not read what it was given (its pane says so).
            if not program.send_line(text):
                return False
            self._action("fin" if is_fin(text) else "send", number, text, by_app=by_app)
            self.observer.poll_now()
            return True
        client = self.clients.get(number)
        if client is None:
            return False
        self._action("fin" if is_fin(text) else "send", number, text, by_app=by_app)
        ok = client.send(text)
        self.observer.poll_now()
        return ok

    # -- observer --------------------------------------------------------------------------
    def set_all_ports(self, value: bool) -> None:
        self.observer.set_all_ports(value)

    @property
    def all_ports(self) -> bool:
        return self.observer.all_ports

    # -- the student's own programs ----------------------------------------------------------
    def _start_program(self, who: int, command: str) -> Program:
        holder: list[Program] = []
        ident = self.idents.get(who, 0) if who else 0

        def report(event: ProgramEvent) -> None:
            self._emit(ProgramReport(who, holder[0].name, event, time.time(), ident))
            if isinstance(event, (ProgramStarted, ProgramExited, ProgramFailed)):
                # Its sockets may have come or gone: look now. (Not at every line: a
                # program printing fast would keep the observer polling without a pause.)
                self.observer.poll_now()

        program = Program(command, self.port, report, self.lang)
        holder.append(program)
        with self._lock:
            self.programs[who] = program
            self._every_program.append(program)
            self._strangers.clear()  # a pid seen before may now be this program's
        if program.start():
            self.registry.set_program(who, program.name, program.pids(), ident=ident)
        return program

    def program_server_command(self, mode: str | None = None) -> str | None:
        """The student's server for ``mode`` (default: the session's): their threaded one
        for the threaded steps where they gave it, else --exec-server's."""
        mode = mode or self.mode
        if mode == THREADED and self.exec_threaded_server is not None:
            return self.exec_threaded_server
        return self.exec_server

    def restart_program_server(self, mode: str) -> Program | None:
        """A fresh run of the student's server for a step in ``mode`` (Ctrl+R): the old
        process and every descendant ended (the sockets it held are closed, as a fresh
        built-in server closes the old one's), then the step's program started."""
        # The clients go first and the server waits for their FINs: the side that closes
        # first keeps the port in TIME_WAIT, and a student's server that does not set
        # SO_REUSEADDR (the handout's does not) could not listen on it again.
        self.reset_clients()
        deadline = time.monotonic() + PROGRAM_STOP_WAIT
        with self._lock:
            clients = [p for n, p in self.programs.items() if n]
            old = self.programs.get(0)
        while any(p.running for p in clients) and time.monotonic() < deadline:
            time.sleep(0.02)
        if old is not None:
            while (old.running and _holds_established(old, self.port)
                   and time.monotonic() < deadline):
                time.sleep(0.02)
            old.stop()
            self._action("server-stop")
        if self.exec_threaded_server is not None and mode != self.mode:
            self.mode = mode
            self._action("mode", text=mode)
        return self.start_program_server()

    def start_program_server(self) -> Program | None:
        """Start the student's server; a thread checks it listens on the lab port."""
        command = self.program_server_command()
        if command is None:
            return None
        program = self._start_program(0, command)
        self._action("program-server", text=program.name)
        if program.running:
            threading.Thread(target=program.check_listens, daemon=True).start()
        return program

    def add_program_client(self) -> int:
        """Start one more student client (the last --exec-client command repeats)."""
        with self._lock:
            number = self._next_client
            self._next_client += 1
        ident = self._new_ident(number)
        command = self.exec_clients[min(number - 1, len(self.exec_clients) - 1)]
        self._action("client-add", number, ident=ident)
        # Started in order, from one thread, once something listens on the lab port (a
        # client started before it would only be refused).
        with self._lock:
            self._queued[number] = command
        self._program_queue.put((number, command))
        with self._lock:
            if self._program_starter is None:
                self._program_starter = threading.Thread(target=self._start_clients, daemon=True)
                self._program_starter.start()
        return number

    def _start_clients(self) -> None:
        while True:
            item = self._program_queue.get()
            if item is None:
                return
            number, command = item
            if not self._wait_listener(number, command):
                if self._closing:
                    return
                continue  # removed while it waited
            with self._lock:
                if self._queued.pop(number, None) is None:
                    continue
            program = self._start_program(number, command)
            # The next one starts once this one connected: the step's order is the kernel's.
            deadline = time.monotonic() + SERVER_WAIT
            ident = self.idents.get(number, 0)
            while (program.running and not self._closing and time.monotonic() < deadline
                   and not self.client_known(number, ident)):
                time.sleep(0.02)

    def _wait_listener(self, number: int, command: str) -> bool:
        """Wait until something listens on the lab port, saying so in the client's pane;
        False when the app closes or the client was removed meanwhile."""
        said = False
        while not self.listener_up():
            with self._lock:
                if self._closing or number not in self._queued:
                    return False
            if not said:
                said = True
                self._emit(ProgramReport(number, short_name(command), ProgramWaiting(self.port),
                                         time.time(), self.idents.get(number, 0)))
            self._listening.wait(0.2)
        return not self._closing

    def _refresh_program_pids(self, snapshot: Snapshot) -> None:
        """Which processes are the student's programs': children appear after the start (a
        java launcher's JVM, a shell's program), and a lab socket may pass to a process
        whose parents are gone (a fork, then the parent exits; a double fork)."""
        with self._lock:
            programs = list(self.programs.items())
        if not programs:
            return
        _names, known = self.registry.programs()
        own = os.getpid()
        port = self.port
        adopted = False
        for c in snapshot.changed or ():
            pid = c.pid
            if (pid is None or pid == own or pid in known or pid in self._strangers
                    or (c.local.port != port and (c.remote is None or c.remote.port != port))):
                continue
            if any(program.adopt(pid) for _who, program in programs):
                adopted = True
            else:
                if len(self._strangers) > 4096:
                    self._strangers.clear()
                self._strangers.add(pid)
        now = time.monotonic()
        if not adopted and now - self._pids_checked < PIDS_EVERY:
            return
        self._pids_checked = now
        children = children_map()  # one walk of the process table for every program
        for who, program in programs:
            pids = program.pids(children)
            if pids:
                self.registry.set_program(who, program.name, pids,
                                          ident=self.idents.get(who, 0) if who else 0)

    def stop_programs(self) -> None:
        """End every program and its descendants (in parallel: each may take its grace
        period), those that have ended too: what they started may still run."""
        with self._lock:
            programs = list(self._every_program)
        threads = [threading.Thread(target=p.stop, daemon=True) for p in programs]
        for th in threads:
            th.start()
        for th in threads:
            th.join()


def _on_port(c: Connection, port: int) -> bool:
    return c.local.port == port or (c.remote is not None and c.remote.port == port)


def _holds_established(program: Program, port: int) -> bool:
    """Whether the program still has a connection on ``port`` its peer has not closed."""
    import psutil

    for pid in program.pids():
        try:
            conns = psutil.Process(pid).net_connections(kind="tcp")
        except psutil.Error:
            continue
        if any(c.status == psutil.CONN_ESTABLISHED and c.laddr and c.laddr.port == port
               for c in conns):
            return True
    return False
