"""The lab's client (listing 1): sends each line; "Fin" is sent, then the socket is closed.

Each message is sent followed by a newline, so that the server can tell messages apart
(see ``lab.net.framing``); the handout's server strips it. One thread per client does the
connecting, the sending and the watching, so ``send`` never blocks its caller: a client
stuck in SYN_SENT (the server's queue is full) or writing to a server that does not read
never freezes the app.

Given ``server_up`` (the app's: "does anything listen on the port?"), a client refused while
nothing listens waits for a server instead of failing, and connects once one listens: a
client started before the student's server (a JVM takes seconds) or with ``--no-server``.
A refusal while something listens stays a failure (on Windows: the accept queue is full).
"""

from __future__ import annotations

import contextlib
import errno
import queue
import selectors
import socket
import sys
import threading
import time
from collections.abc import Callable

from tcp_observatory.lab.errors import LabError, connect_error, is_refused
from tcp_observatory.lab.i18n import current_language, t
from tcp_observatory.lab.net.framing import is_fin
from tcp_observatory.lab.observe.model import Endpoint
from tcp_observatory.lab.observe.plumbing import close_pair, wake_pair
from tcp_observatory.lab.observe.roles import Registry
from tcp_observatory.lab.records import record

_FIN = object()  # queue marker: close after what was queued before it
_AGAIN = object()  # _connect's answer: a server listens now, connect again


@record(frozen=True)
class ClientEvent:
    kind: str  # connecting waiting connected sent fin closed server-closed received failed error
    time: float
    number: int
    text: str = ""
    local: Endpoint | None = None
    refused: bool = False  # a "failed" connect the server refused (Windows: its queue full)
    ident: int = 0  # which client this is (numbers are reused by a new scene; this is not)


ClientSink = Callable[[ClientEvent], None]


class LabClient:
    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 9500,
        *,
        number: int = 1,
        on_event: ClientSink | None = None,
        registry: Registry | None = None,
        connect_timeout: float | None = None,
        windows: bool | None = None,
        ident: int = 0,
        server_up: Callable[[], bool] | None = None,
    ) -> None:
        self.host = host
        self.port = port
        self.number = number
        self.ident = ident
        self.registry = registry
        self.connect_timeout = connect_timeout
        self.server_up = server_up
        self.windows = sys.platform == "win32" if windows is None else windows
        self.refused = False  # the connect was refused (on Windows, also: the queue was full)
        self.state = "new"  # new connecting connected closed failed
        self.local: Endpoint | None = None
        self.error: LabError | None = None
        self._sink = on_event
        self._sock: socket.socket | None = None
        self._outbox: queue.SimpleQueue[object] = queue.SimpleQueue()
        self._wake_r, self._wake_w = wake_pair()
        self._wake_r.setblocking(False)
        self._closing = threading.Event()
        self._abort = threading.Event()
        self._connected = threading.Event()
        self._done = threading.Event()
        self._thread: threading.Thread | None = None

    # -- public ----------------------------------------------------------------------------
    def start(self) -> None:
        """Connect in the background; events report the outcome."""
        if self._thread is None:
            self.state = "connecting"
            self._thread = threading.Thread(
                target=self._run, name=f"client-{self.number}", daemon=True
            )
            self._thread.start()

    def connect(self, timeout: float | None = 10.0) -> Endpoint:
        """Connect and wait for the outcome: the local endpoint, or a LabError."""
        self.start()
        finished = self._wait_connected(timeout)
        if self.error is not None:
            raise self.error
        if not finished or self.local is None:
            self.close()
            raise LabError(t("err.connect_slow", current_language(), host=self.host,
                             port=self.port))
        return self.local

    def send(self, text: str) -> bool:
        """Queue one message; "Fin" (any case) is sent, then the connection is closed.

        Returns False when the client can no longer send.
        """
        if self._closing.is_set() or self.state in ("closed", "failed"):
            return False
        self._outbox.put(text)
        if is_fin(text):
            self._closing.set()
            self._outbox.put(_FIN)
        self._poke()
        return True

    def close(self, timeout: float = 2.0) -> None:
        """Close now, without "Fin" (also aborts a connection still in SYN_SENT)."""
        self._abort.set()
        self._closing.set()
        self._outbox.put(_FIN)
        self._poke()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(min(timeout, 0.5))
            if thread.is_alive() and self._sock is not None:
                # Still sending to a peer that does not read (a client waiting in the
                # accept queue): shutting the socket down wakes the blocked sendall().
                with contextlib.suppress(OSError):
                    self._sock.shutdown(socket.SHUT_RDWR)
                thread.join(timeout)
        if self._thread is None:
            self._cleanup()

    def wait_closed(self, timeout: float | None = None) -> bool:
        return self._done.wait(timeout)


    # -- internals -------------------------------------------------------------------------
    def _wait_connected(self, timeout: float | None) -> bool:
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            if self._connected.is_set():
                return True
            if self._done.is_set():
                return False
            left = None if deadline is None else deadline - time.monotonic()
            if left is not None and left <= 0:
                return False
            self._connected.wait(0.05 if left is None else min(0.05, left))

    def _poke(self) -> None:
        with contextlib.suppress(OSError):
            self._wake_w.send(b"x")

    def _emit(self, kind: str, text: str = "") -> None:
        if self._sink is None:
            return
        try:
            self._sink(ClientEvent(kind, time.time(), self.number, text, self.local,
                                   refused=kind == "failed" and self.refused,
                                   ident=self.ident))
        except Exception as exc:
            print(f"lab.client: event handler failed: {exc!r}", file=sys.stderr)

    def _run(self) -> None:
        try:
            outcome = self._connect()
            while outcome is _AGAIN:
                outcome = self._connect()
            if outcome:
                self._loop()
        except Exception as exc:  # never a silent dead thread: the card must say why
            self._fail(LabError(t("err.connect", current_language(), host=self.host,
                                  port=self.port, reason=exc)))
        finally:
            self._cleanup()

    def _label(self, sock: socket.socket, target: Endpoint) -> bool:
        """Note the client's end, and name it in the registry (the table's "client N");
        False when the socket has none yet to tell."""
        try:
            host, port = sock.getsockname()[:2]
        except OSError:
            return False
        self.local = Endpoint.of(host, port)
        if self.registry is not None:
            self.registry.add_client(self.local, self.number, target, ident=self.ident)
        return True

    def _connect(self) -> object:
        """True when connected; False when it failed or was closed; _AGAIN after waiting."""
        self._emit("connecting")
        try:
            infos = socket.getaddrinfo(self.host, self.port, type=socket.SOCK_STREAM)
        except (socket.gaierror, UnicodeError, ValueError) as exc:
            reason = getattr(exc, "strerror", None) or exc
            return self._fail(LabError(t("err.unknown_host", current_language(),
                                         host=repr(self.host), reason=reason)))
        family, _, _, _, addr = infos[0]
        sock = socket.socket(family, socket.SOCK_STREAM)
        self._sock = sock
        sock.setblocking(False)
        target = Endpoint.of(str(addr[0]), int(addr[1]))
        labelled = False
        if target.host.startswith("127.") or target.host == "::1":
            # On this machine (the lab's case) the handshake completes within connect():
            # an observer's poll just after it, before the end was labelled, saw an
            # ESTABLISHED connection from an unknown end (an external one) and told its
            # arrival so. The end is chosen and labelled first.
            with contextlib.suppress(OSError):
                sock.bind((target.host, 0))
                labelled = self._label(sock, target)
        err = sock.connect_ex(addr)
        if err not in (0, errno.EINPROGRESS, errno.EWOULDBLOCK, errno.EAGAIN, 10035):
            return self._refused_or_wait(OSError(err, _strerror(err)))
        if not labelled:  # the local port exists from here on, even while SYN_SENT
            self._label(sock, target)
        deadline = None if self.connect_timeout is None else time.monotonic() + self.connect_timeout
        # selectors, not select.select: no limit on socket numbers (Windows' select reports
        # a failed connect as an exception, which its selector counts as writable).
        with selectors.DefaultSelector() as selector:
            selector.register(self._wake_r, selectors.EVENT_READ)
            selector.register(sock, selectors.EVENT_WRITE)
            while err != 0:
                left = None if deadline is None else max(0.0, deadline - time.monotonic())
                ready = selector.select(left)
                if self._abort.is_set():
                    self._emit("closed")
                    return False
                if any(key.fileobj is sock for key, _ in ready):
                    err = sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                    if err:
                        return self._refused_or_wait(OSError(err, _strerror(err)))
                    break
                if deadline is not None and time.monotonic() >= deadline:
                    return self._fail(connect_error(TimeoutError(), self.host, self.port))
                self._drain_wake()
        sock.setblocking(True)
        self.state = "connected"
        self._connected.set()
        self._emit("connected")
        return True

    def _refused_or_wait(self, exc: OSError) -> object:
        """Refused while nothing listens on the port: wait for a server (if the app tells
        when one listens), then connect again; else a failure, said as such."""
        if self.server_up is None or not is_refused(exc) or self.server_up():
            return self._refused_or_failed(exc)
        sock, self._sock = self._sock, None
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.close()
        self._emit("waiting", str(self.port))
        while not self.server_up():
            if self._abort.wait(0.1):
                self._emit("closed")
                return False
        return _AGAIN

    def _refused_or_failed(self, exc: OSError) -> bool:
        """A connect that failed: "connection refused" is said as such (on Windows, with
        the full accept queue among its causes)."""
        self.refused = is_refused(exc)
        return self._fail(connect_error(exc, self.host, self.port, windows=self.windows))

    def _fail(self, error: LabError) -> bool:
        self.error = error
        self.state = "failed"
        self._emit("failed", str(error))
        return False

    def _drain_wake(self) -> None:
        with contextlib.suppress(OSError):
            while self._wake_r.recv(4096):
                pass

    def _loop(self) -> None:
        sock = self._sock
        assert sock is not None
        # Lines typed while the connection was still in SYN_SENT are waiting: send them now.
        if self._flush_outbox(sock):
            return
        with selectors.DefaultSelector() as selector:
            selector.register(self._wake_r, selectors.EVENT_READ)
            selector.register(sock, selectors.EVENT_READ)
            self._read_loop(sock, selector)

    def _read_loop(self, sock: socket.socket, selector: selectors.BaseSelector) -> None:
        reading = True
        while True:
            ready = {key.fileobj for key, _ in selector.select()}
            if self._wake_r in ready:
                self._drain_wake()
                if self._flush_outbox(sock):
                    return
            if reading and sock in ready:
                try:
                    data = sock.recv(65536)
                except (ConnectionResetError, ConnectionAbortedError) as exc:
                    # Said, not taken for an orderly close: a reset (RST) or, on Windows,
                    # an abort (WSAECONNABORTED, 10053) ends the connection at once.
                    kind = "reset" if isinstance(exc, ConnectionResetError) else "aborted"
                    self._emit("failed", t(f"cli.{kind}", current_language()))
                    return
                except OSError:
                    data = b""
                if data:
                    self._emit("received", data.decode("utf-8", errors="replace"))
                else:
                    # The server closed its side: this side is now CLOSE_WAIT until we close.
                    reading = False
                    selector.unregister(sock)
                    self._emit("server-closed")

    def _flush_outbox(self, sock: socket.socket) -> bool:
        """Send what is queued; True when the connection is finished."""
        while True:
            try:
                item = self._outbox.get_nowait()
            except queue.Empty:
                return False
            if item is _FIN:
                self._emit("closed")
                return True
            text = str(item)
            try:
                sock.sendall((text + "\n").encode("utf-8"))
                if is_fin(text):
                    # Close at once, as the handout's client does: the client must be the
                    # side that closes first (and so the one left in TIME_WAIT), which a
                    # slow event handler between send and close could turn around.
                    sock.close()
            except OSError as exc:
                self._emit("error", exc.strerror or str(exc))
                return True
            self._emit("fin" if is_fin(text) else "sent", text)

    def _cleanup(self) -> None:
        if self.state != "failed":
            self.state = "closed"
        if self._sock is not None:
            with contextlib.suppress(OSError):
                self._sock.close()
        close_pair(self._wake_r, self._wake_w)
        self._done.set()


def _strerror(err: int) -> str:
    import os

    try:
        return os.strerror(err)
    except ValueError:
        return f"error {err}"

