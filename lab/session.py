"""The whole lab in one object: a server, numbered clients and an observer.

The app, the demo and tests drive the lab through a Session; everything it sees (server
and client events, the app's own actions, snapshots and transitions) reaches one sink,
from whatever thread it happened on. The sink must not block: the app posts a message.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from lab.net.client import ClientEvent, LabClient
from lab.net.framing import is_fin
from lab.net.server import DEFAULT_MAX_CLIENTS, SINGLE, THREADED, LabServer, ServerEvent
from lab.observe.model import Snapshot, Transition
from lab.observe.observer import Observer
from lab.observe.roles import Registry
from lab.observe.sources import Source, open_source


@dataclass(frozen=True)
class Action:
    """Something the app did on the user's behalf: the cause shown next to its effects."""

    kind: str  # client-add client-remove send fin server-start server-stop mode close-after-fin
    time: float
    client: int | None = None
    text: str = ""
    by_app: bool = False  # done by a step's setup or the demo, not typed by the student


@dataclass(frozen=True)
class ObserverUpdate:
    snapshot: Snapshot
    transitions: list[Transition]


@dataclass(frozen=True)
class SessionError:
    text: str
    time: float


Event = ServerEvent | ClientEvent | Action | ObserverUpdate | SessionError
Sink = Callable[[Event], None]


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
    ) -> None:
        self.host = host
        self.port = port
        self.mode = mode
        self.close_after_fin = close_after_fin
        self.with_server = with_server
        self.max_clients = max_clients
        self.backlog = backlog  # None: the handout's, by mode (1 single, 5 threaded)
        self.idle_timeout = idle_timeout
        self.registry = Registry()
        self._sink = sink or (lambda _e: None)
        self._lock = threading.RLock()
        self.server: LabServer | None = None
        self.clients: dict[int, LabClient] = {}
        self._next_client = 1
        src = open_source(source) if isinstance(source, str) else source
        self.observer = Observer(
            src, port, self._on_update, interval=interval, registry=self.registry,
            all_ports=all_ports, on_error=self._source_failed,
        )

    # -- sink ------------------------------------------------------------------------------
    def set_sink(self, sink: Sink) -> None:
        self._sink = sink

    def _emit(self, event: Event) -> None:
        self._sink(event)

    def _source_failed(self, exc: BaseException) -> None:
        self._emit(SessionError(str(exc), time.time()))

    def _on_update(self, snapshot: Snapshot, transitions: list[Transition]) -> None:
        self._emit(ObserverUpdate(snapshot, transitions))

    def _relay(self, event: ServerEvent | ClientEvent) -> None:
        """A socket event: pass it on, and look at the kernel at once for its effect."""
        self._emit(event)
        self.observer.poll_now()

    def _action(self, kind: str, client: int | None = None, text: str = "", *,
                by_app: bool = False) -> None:
        self._emit(Action(kind, time.time(), client, text, by_app))

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
            backlog=self.backlog, idle_timeout=self.idle_timeout,
        )

    def start(self, clients: int = 1) -> None:
        self.bind()
        if self.server is not None and not self.server.running:
            self.server.start()
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
        if self.server is not None:
            self.server.stop()
            self.server = None
        self.observer.stop()
        self.observer.source.close()

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
        with self._lock:
            number = self._next_client
            self._next_client += 1
            client = LabClient(
                self.host if self.host not in ("0.0.0.0", "::", "") else "127.0.0.1",
                self.port, number=number, on_event=self._relay, registry=self.registry,
            )
            self.clients[number] = client
        self._action("client-add", number)
        client.start()
        return number

    def remove_client(self, number: int) -> None:
        with self._lock:
            client = self.clients.pop(number, None)
        if client is not None:
            self._action("client-remove", number)
            client.close()

    def reset_clients(self) -> None:
        """Close every client and number the next one 1 again: a new scene for a step."""
        with self._lock:
            numbers = list(self.clients)
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
        """Send ``text`` from client ``number``; ``by_app`` when the student did not type it."""
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
