"""The lab's TCP server, in its two modes, with the handout's behaviour.

``single`` (listing 2): backlog 1, one client at a time. After "Fin" the server does not
close the connection (the handout leaves ``close()`` commented out): the kernel keeps
CLOSE_WAIT on the server side, and the client's side sits in FIN_WAIT_2, until the socket
is released, which in the handout happens when the next ``accept()`` rebinds the variable.
``close_after_fin`` closes it at once, for comparison.

``threaded`` (listing 3): backlog 5, one thread per client, closes after "Fin" (once the
client has closed its side, or after ``FIN_GRACE``: see ``_await_peer_close``).

Fixed without changing what students observe: a peer that leaves without "Fin" ends that
client instead of spinning on empty reads; bytes that are not UTF-8 are decoded with
replacement characters; long messages are kept whole (see ``lab.net.framing``). Every thread
waits in ``select`` on its socket and a wake-up socket, so the server uses no CPU while
idle and stops at once. Sockets are watched with ``selectors`` (epoll, kqueue), never
``select.select``, so a socket numbered above 1024 is served like any other.

A classroom connects in bursts: the accepting thread drains the accept queue (accepts
until it is empty) after each wake-up and does nothing slow, so the server keeps every
client a plain ``accept()`` loop (the handout's listing 3) would keep. When the queue
overflows anyway, a monitor names the handshakes the kernel left waiting, from the
kernel's rows of the server's own port (``lab.net.overflow``); inside the app, the
session's observer does that for any server on the lab port instead.
"""

from __future__ import annotations

import contextlib
import queue
import selectors
import socket
import sys
import threading
import time
from collections.abc import Callable

from tcp_observatory.lab.errors import LabError, bind_error
from tcp_observatory.lab.i18n import current_language, t
from tcp_observatory.lab.net.framing import IDLE_FLUSH, Framer, is_fin
from tcp_observatory.lab.net.modes import (
    DEFAULT_MAX_CLIENTS,
    DEFAULT_PORT,
    MODES,
    SINGLE,
    THREADED,
    default_backlog,
)
from tcp_observatory.lab.net.overflow import Drops, DropWatch
from tcp_observatory.lab.observe.model import Endpoint
from tcp_observatory.lab.observe.plumbing import close_pair, wake_pair
from tcp_observatory.lab.observe.roles import Registry, classify
from tcp_observatory.lab.records import record

__all__ = ["DEFAULT_MAX_CLIENTS", "DEFAULT_PORT", "MODES", "SINGLE", "THREADED", "LabServer",
           "ServerEvent"]

FIN_GRACE = 1.0  # seconds the server waits for the client to close first after "Fin"
OVERFLOW_EVERY = 0.5  # seconds between two looks at the kernel's rows of the server's port


@record(frozen=True)
class ServerEvent:
    """Something the server did or saw. ``text`` is raw peer text: sanitize before display."""

    kind: str  # listening accepted message fin eof reset released closed refused stopped error
    time: float
    peer: Endpoint | None = None
    text: str = ""
    thread: str = ""
    serial: int = 0  # the server's number for the connection, 1, 2, ...
    mode: str = SINGLE
    count: int | None = None  # refused: clients connected; overflow: handshakes waiting
    silent: float | None = None  # refused: seconds the most silent client has said nothing
    drops: Drops | None = None  # overflow: the listener at its backlog, the handshakes waiting


EventSink = Callable[[ServerEvent], None]


class _Wake:
    """A socket pair: writing to one end wakes every ``select`` that watches the other."""

    def __init__(self) -> None:
        self.r, self.w = wake_pair()
        self.r.setblocking(False)

    def fire(self) -> None:
        with contextlib.suppress(OSError):
            self.w.send(b"x")

    def close(self) -> None:
        close_pair(self.r, self.w)


def make_listener(host: str, port: int, backlog: int) -> socket.socket:
    """Bind and listen, or raise a LabError with one sentence."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except (socket.gaierror, UnicodeError, ValueError) as exc:  # "127.0.0..1" is not idna
        raise LabError(t("err.unknown_address", current_language(), host=host,
                         reason=getattr(exc, "strerror", None) or exc)) from None
    family, _, _, _, addr = infos[0]
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        # Windows: its default already refuses a second listener on the port, and unlike
        # SO_EXCLUSIVEADDRUSE it lets the server restart (F4) while old connections linger.
        if sys.platform != "win32":
            # Lets the server restart at once while old connections sit in TIME_WAIT;
            # a second listener on the same port is still refused.
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(addr)
        sock.listen(backlog)
    except OSError as exc:
        sock.close()
        raise bind_error(exc, host, port) from None
    return sock


class LabServer:
    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = DEFAULT_PORT,
        *,
        mode: str = SINGLE,
        close_after_fin: bool = False,
        backlog: int | None = None,
        max_clients: int = DEFAULT_MAX_CLIENTS,
        on_event: EventSink | None = None,
        registry: Registry | None = None,
        idle_timeout: float | None = None,
        watch_drops: bool = True,
    ) -> None:
        """``watch_drops``: look at the kernel's rows of the port for handshakes dropped at
        the full queue (the console server); the app's session does that itself, for
        whichever server listens on the lab port."""
        if mode not in MODES:
            raise LabError(t("err.mode", current_language(), mode=repr(mode)))
        self.host = host
        self.port = port
        self.mode = mode
        self.close_after_fin = close_after_fin
        self.backlog = backlog if backlog is not None else default_backlog(mode)
        self.max_clients = max_clients
        self.idle_timeout = idle_timeout  # close a client silent this long (None: never)
        self.registry = registry
        self.watch_drops = watch_drops
        self._sink = on_event
        self._listener: socket.socket | None = None
        self._bound: Endpoint | None = None  # the listener's address, once bound
        self._wake = _Wake()
        self._stopping = threading.Event()
        self._threads: set[threading.Thread] = set()
        self._conns: set[socket.socket] = set()
        self._last_heard: dict[socket.socket, float] = {}  # when each client last sent
        # accepted connections on their way to their thread (threaded mode)
        self._handoff: queue.SimpleQueue[tuple[socket.socket, Endpoint, int] | None] = (
            queue.SimpleQueue())
        self._lock = threading.Lock()
        self._held: socket.socket | None = None  # single mode: the finished, unclosed socket
        self._held_peer: Endpoint | None = None
        self._serial = 0
        self._active = 0
        self._started = False

    # -- life ------------------------------------------------------------------------------
    @property
    def address(self) -> Endpoint:
        """Where the server listens, or listened: the address is kept when it binds, so
        that it can be read on any thread while another stops the server (the closed
        listener has no name to give)."""
        if self._bound is None:
            return Endpoint.of(self.host, self.port)
        return self._bound

    @property
    def running(self) -> bool:
        """Started (accepting) and not stopped."""
        return self._started and not self._stopping.is_set()

    def bind(self) -> Endpoint:
        """Listen now (so that a taken port fails before anything else starts)."""
        if self._listener is None:
            self._listener = make_listener(self.host, self.port, self.backlog)
            host, port = self._listener.getsockname()[:2]
            self._bound = Endpoint.of(host, port)
            self.port = self._bound.port
        return self.address

    def start(self) -> Endpoint:
        if self._started:
            return self.address
        address = self.bind()
        self._started = True
        self._emit("listening", text=str(self.backlog))
        loops = [(self._accept_loop, "server-accept"), (self._spawn_loop, "server-spawn")]
        if self.watch_drops:
            loops.append((self._watch_overflows, "server-overflows"))
        for target, name in loops:
            thread = threading.Thread(target=target, name=name, daemon=True)
            self._threads.add(thread)
            thread.start()
        return address

    def stop(self, timeout: float = 2.0) -> None:
        """Close every socket and stop every thread; the port is free afterwards."""
        if self._stopping.is_set():
            return
        self._stopping.set()
        self._wake.fire()
        self._handoff.put(None)
        with self._lock:
            conns = list(self._conns)
        for c in conns:
            with contextlib.suppress(OSError):
                c.shutdown(socket.SHUT_RDWR)
        with self._lock:
            threads = list(self._threads)
        for thread in threads:
            if thread is not threading.current_thread():
                thread.join(timeout)
        while True:  # accepted, never handed to a thread
            try:
                item = self._handoff.get_nowait()
            except queue.Empty:
                break
            if item is not None:
                _close(item[0])
        with self._lock:
            for c in list(self._conns):
                _close(c)
            self._conns.clear()
        if self._held is not None:
            _close(self._held)
            self._held = None
        if self._listener is not None:
            _close(self._listener)
        self._wake.close()
        self._emit("stopped")

    def __enter__(self) -> LabServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- events ----------------------------------------------------------------------------
    def _emit(self, kind: str, **kw: object) -> None:
        if self._sink is None:
            return
        event = ServerEvent(kind=kind, time=time.time(), mode=self.mode, **kw)  # type: ignore[arg-type]
        try:
            self._sink(event)
        except Exception as exc:  # a broken display must not take the server down
            print(f"lab.server: event handler failed: {exc!r}", file=sys.stderr)

    # -- accepting -------------------------------------------------------------------------
    def _watch(self, sock: socket.socket) -> selectors.BaseSelector:
        """A selector on ``sock`` and the wake-up socket (no limit on socket numbers)."""
        selector = selectors.DefaultSelector()
        selector.register(self._wake.r, selectors.EVENT_READ)
        selector.register(sock, selectors.EVENT_READ)
        return selector

    def _wait(self, selector: selectors.BaseSelector, timeout: float | None) -> bool | None:
        """True: readable; False: timed out; None: asked to stop."""
        try:
            ready = selector.select(timeout)
        except (OSError, ValueError):
            return None
        if self._stopping.is_set() or any(key.fileobj is self._wake.r for key, _ in ready):
            return None
        return bool(ready)

    def _wait_readable(self, sock: socket.socket, timeout: float | None) -> bool | None:
        """True: readable; False: timed out; None: asked to stop."""
        try:
            selector = self._watch(sock)
        except (OSError, ValueError):
            return None
        with selector:
            return self._wait(selector, timeout)

    def _accept_loop(self) -> None:
        listener = self._listener
        assert listener is not None
        listener.setblocking(False)
        with self._watch(listener) as selector:
            while self._wait(selector, None) is not None:
                # Drain the queue: every waiting client now, one wake-up for a whole burst.
                while not self._stopping.is_set():
                    try:
                        conn, addr = listener.accept()
                    except (BlockingIOError, InterruptedError):
                        break
                    except OSError:
                        if self._stopping.is_set():
                            return
                        break
                    conn.setblocking(True)
                    self._accepted(conn, Endpoint.of(addr[0], addr[1]))
                    if self._stopping.is_set():
                        return

    def _accepted(self, conn: socket.socket, peer: Endpoint) -> None:
        self._serial += 1
        serial = self._serial
        if self.mode == THREADED:
            # Starting a thread waits for it to run: another thread does that, so that this
            # one goes straight back to the kernel's queue.
            self._handoff.put((conn, peer, serial))
            return
        # Single mode (listing 2): serve this client to the end before the next accept().
        self._release_held()
        self._track(conn, peer, "")
        self._emit("accepted", peer=peer, serial=serial)
        self._serve(conn, peer, "", serial)
        if self._stopping.is_set():
            return
        if self.close_after_fin:
            self._finish(conn, peer, "", serial)
        else:
            self._held, self._held_peer = conn, peer

    def _spawn_loop(self) -> None:
        """Threaded mode: a thread for each accepted client, off the accepting thread."""
        while True:
            item = self._handoff.get()
            if item is None or self._stopping.is_set():
                if item is not None:
                    _close(item[0])
                return
            self._start_worker(*item)

    def _start_worker(self, conn: socket.socket, peer: Endpoint, serial: int) -> None:
        with self._lock:
            full = self._active >= self.max_clients
            if not full:
                self._active += 1
            oldest = min(self._last_heard.values(), default=None) if full else None
            connected = self._active
        if full:
            silent = 0.0 if oldest is None else time.monotonic() - oldest
            self._emit("refused", peer=peer, serial=serial, text=str(self.max_clients),
                       count=connected, silent=silent)
            _close(conn)
            return
        name = f"thread-{serial}"
        self._track(conn, peer, name)
        if self._stopping.is_set():  # stop() may have shut the others down already
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
        self._emit("accepted", peer=peer, serial=serial, thread=name)
        worker = threading.Thread(
            target=self._client_thread, args=(conn, peer, name, serial), name=name,
            daemon=True,
        )
        with self._lock:
            self._threads.add(worker)
        worker.start()

    def _watch_overflows(self) -> None:
        """Name the handshakes the kernel left waiting at this server's full accept queue,
        as they happen, from the kernel's rows of its port (never from the host's counters:
        another program's full queue is not this server's). Where the rows cannot be read
        (no sock_diag: macOS, Windows, a locked-down container), say it cannot be told."""
        try:
            from tcp_observatory.lab.observe.netlink import NetlinkSource

            source = NetlinkSource()
        except (ImportError, OSError):
            self._emit("overflow-unknown")
            return
        watch = DropWatch(self.port)
        try:
            while not self._stopping.wait(OVERFLOW_EVERY):
                try:
                    rows = source.poll(self.port, owners=False).connections
                except OSError:
                    continue
                if self.registry is not None:  # the app's clients are named by number
                    rows = tuple(classify(rows, self.port, self.registry))
                for drops in watch.news(rows):
                    self._emit("overflow", text=str(drops.backlog), count=len(drops.stuck),
                               drops=drops)
        finally:
            source.close()

    def _track(self, conn: socket.socket, peer: Endpoint, thread: str) -> None:
        with self._lock:
            self._conns.add(conn)
            self._last_heard[conn] = time.monotonic()
        if self.registry is not None:
            self.registry.add_accepted(peer, thread)

    def _release_held(self) -> None:
        """Single mode: the next accept() releases the previous connection (CLOSE_WAIT ends)."""
        held, peer = self._held, self._held_peer
        if held is None:
            return
        self._held = self._held_peer = None
        # The client normally closed long ago; if it is closing right now (a client queued
        # behind it is accepted the instant "Fin" is read), let it close first, as _finish does.
        self._await_peer_close(held)
        self._forget(held)
        _close(held)
        self._emit("released", peer=peer)

    def _finish(self, conn: socket.socket, peer: Endpoint, thread: str, serial: int) -> None:
        self._await_peer_close(conn)
        self._forget(conn)
        _close(conn)
        self._emit("closed", peer=peer, thread=thread, serial=serial)

    def _forget(self, conn: socket.socket) -> None:
        with self._lock:
            self._conns.discard(conn)
            self._last_heard.pop(conn, None)

    def _await_peer_close(self, conn: socket.socket) -> None:
        """Give the client a moment to close first, as it does right after "Fin".

        The handout's client closes straight after sending "Fin", and the lab expects the
        client, the side that closes first, to end in TIME_WAIT. Closing the instant "Fin"
        is read would race the client's close() and sometimes leave TIME_WAIT on the
        server's side instead. Waiting (at most ``FIN_GRACE`` s) for the peer's end of
        stream makes the outcome the same on every run; bytes after "Fin" are discarded.
        """
        deadline = time.monotonic() + FIN_GRACE
        while True:
            left = deadline - time.monotonic()
            if left <= 0 or not self._wait_readable(conn, left):
                return
            try:
                if not conn.recv(65536):
                    return
            except OSError:
                return

    def _client_thread(self, conn: socket.socket, peer: Endpoint, name: str, serial: int) -> None:
        try:
            self._serve(conn, peer, name, serial)
            if not self._stopping.is_set():
                self._finish(conn, peer, name, serial)
        finally:
            self._forget(conn)
            with self._lock:
                self._active -= 1
                self._threads.discard(threading.current_thread())

    # -- serving one client ----------------------------------------------------------------
    def _serve(self, conn: socket.socket, peer: Endpoint, thread: str, serial: int) -> None:
        """Read messages until "Fin", end of stream, a reset, silence, or stop.

        A plain blocking ``recv`` as in the handout (a timeout only while a bare chunk
        waits to become a message, or with ``idle_timeout``): no ``select`` and so no limit
        on socket numbers, and the least work per message. ``stop`` wakes it by shutting
        the socket down."""
        framer = Framer()
        heard = time.monotonic()
        current: float | None = -1.0
        while not self._stopping.is_set():
            timeout = IDLE_FLUSH if framer.pending else None
            if self.idle_timeout is not None:
                left = max(0.001, heard + self.idle_timeout - time.monotonic())
                timeout = left if timeout is None else min(timeout, left)
            try:
                if timeout != current:
                    conn.settimeout(timeout)
                    current = timeout
                data = conn.recv(65536)
            except TimeoutError:
                if framer.pending:  # the sender paused: a bare chunk is a message
                    if self._deliver(framer.flush(), peer, thread, serial):
                        return
                if (self.idle_timeout is not None
                        and time.monotonic() - heard >= self.idle_timeout):
                    self._emit("idle", peer=peer, thread=thread, serial=serial,
                               text=f"{self.idle_timeout:g}")
                    return
                continue
            except ConnectionResetError:
                self._deliver(framer.flush(), peer, thread, serial)
                self._emit("reset", peer=peer, thread=thread, serial=serial)
                return
            except ConnectionAbortedError:
                self._deliver(framer.flush(), peer, thread, serial)
                self._emit("aborted", peer=peer, thread=thread, serial=serial)
                return
            except OSError:
                return
            if self._stopping.is_set():
                return
            if not data:
                if not self._deliver(framer.flush(), peer, thread, serial):
                    self._emit("eof", peer=peer, thread=thread, serial=serial)
                return
            heard = time.monotonic()
            if self.idle_timeout is not None or self.mode == THREADED:
                self._last_heard[conn] = heard  # one dict store: atomic, no lock needed
            if self._deliver(framer.feed(data), peer, thread, serial):
                return

    def _deliver(self, messages: list[str], peer: Endpoint, thread: str, serial: int) -> bool:
        """Report messages; True once "Fin" has been received (later bytes are ignored)."""
        for text in messages:
            self._emit("message", peer=peer, text=text, thread=thread, serial=serial)
            if is_fin(text):
                self._emit("fin", peer=peer, thread=thread, serial=serial)
                return True
        return False


def _close(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.close()

