"""Run a student's own server or client (any language) as a child process.

**A terminal, where the system has one.** On Linux and macOS the program's input and output
are a pseudo-terminal, as in the student's own shell: C's stdio, Java and Python then write
each line when it is printed, instead of keeping it in a buffer until the program exits.
The terminal is raw: nothing typed is echoed back, edited or turned into a signal, and
nothing printed is rewritten. The error stream stays a pipe, so that its lines are shown
apart. On Windows (no pseudo-terminal for a console program) input and output are pipes.

**Output** is read in threads, cut into bounded lines and handed over at most ``max_rate``
lines a second per stream: past that rate the reader stops reading, the terminal's buffer
fills and the program waits in its write, as it would on a slow terminal. Nothing is read
only to be thrown away. Lines are handed over already made printable (``lab.text.printable``);
show them without markup.

**Input** is written by a thread of its own: a program that does not read never blocks
whoever typed the line. Lines wait for it up to ``max_pending`` bytes; past that a line is
refused, and the sink is told (``ProgramInput``) when the program stops and resumes reading.

**Ending it.** The program runs in its own process group (a session on POSIX), and ending
it ends every process descended from it, including those that left the group (``setsid``,
a double fork): they are tracked while it runs (its children, sampled) and recognised by a
mark every descendant inherits in its environment.
"""

from __future__ import annotations

import contextlib
import os
import select
import shlex
import signal
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from typing import IO, TYPE_CHECKING

from tcp_observatory.lab.i18n import t
from tcp_observatory.lab.records import record
from tcp_observatory.lab.text import printable

if TYPE_CHECKING:  # psutil is imported where programs are handled, not with the app's
    import psutil  # first screen (which has none): it costs the start ~15 ms

MAX_LINE = 2000  # characters kept from one line; the rest is cut with a visible note
MAX_RATE = 200  # lines per second handed over per stream; past it the program waits
MAX_PENDING = 64 * 1024  # bytes of typed lines that may wait for a program that does not read
STALL = 1.0  # seconds a write may wait before the program is said not to read its input
PARTIAL = 0.15  # seconds a line without its newline (a prompt) waits before it is shown
GRACE = 2.0  # seconds between terminate and kill
MARK = "TCP_OBSERVATORY_PROGRAM"  # environment variable every descendant inherits
_POLL = 0.25  # seconds between two looks at the stop flag while a thread waits on the terminal


@record(frozen=True)
class ProgramStarted:
    """The program runs, as process ``pid``."""

    pid: int
    command: str


@record(frozen=True)
class ProgramLine:
    """One line the program printed (``stream`` is "out" or "err"), already printable."""

    stream: str
    text: str


@record(frozen=True)
class ProgramWaiting:
    """The program is not started yet: nothing listens on ``port`` (a client program)."""

    port: int


@record(frozen=True)
class ProgramInput:
    """The program's input: ``state`` "stalled" (it stopped reading; ``pending`` bytes wait),
    "resumed" (it read them), or "refused" (a line was not sent: ``pending`` bytes wait)."""

    state: str
    pending: int


@record(frozen=True)
class ProgramExited:
    """The program ended with ``status`` (negative: killed by that signal)."""

    status: int
    seconds: float
    # It failed before doing anything the lab sees: nothing on its standard output, no
    # line typed to it. Said from what it did, not from a time (a loaded machine or a
    # slow school PC takes seconds to start a JVM that then fails at once).
    at_once: bool = False


@record(frozen=True)
class ProgramFailed:
    """The program could not start, or does not do what the lab needs: one sentence."""

    message: str


ProgramEvent = (ProgramStarted | ProgramLine | ProgramWaiting | ProgramInput | ProgramExited
                | ProgramFailed)


def expand(command: str, port: int) -> list[str]:
    """The argument list for ``command``, with ``{port}`` replaced by the lab port."""
    command = command.replace("{port}", str(port))
    return shlex.split(command, posix=os.name != "nt")


def short_name(command: str) -> str:
    """What a row calls the program: ``Serveur.py`` for ``python3 Serveur.py``, ``java``."""
    try:
        words = shlex.split(command)
    except ValueError:
        words = command.split()
    if not words:
        return "?"
    first = os.path.basename(words[0])
    if first.lower().startswith("python") and len(words) > 1 and not words[1].startswith("-"):
        first = os.path.basename(words[1])
    return printable(first, 40)


def has_terminal() -> bool:
    """Whether programs get a pseudo-terminal here (not on Windows)."""
    return os.name != "nt" and hasattr(os, "openpty")


def _raw_terminal() -> tuple[int, int]:
    """A pseudo-terminal (master, slave), raw: no echo, no line editing, no signal keys,
    output as written; the master does not block (a reader and a writer share it)."""
    import termios
    import tty

    master, slave = os.openpty()
    try:
        tty.setraw(slave, termios.TCSANOW)
        os.set_blocking(master, False)
    except (OSError, termios.error):
        os.close(master)
        os.close(slave)
        raise
    return master, slave


class _Lines:
    """Cuts one stream into lines and hands them over at most ``rate`` a second.

    When the budget is spent, ``feed`` waits (its reader thread reads nothing meanwhile):
    the program's writes then wait too, as on a slow terminal.
    """

    def __init__(self, program: Program, stream: str) -> None:
        self.program = program
        self.stream = stream
        self.buf = b""
        self.rate = float(program.max_rate)
        self.tokens = self.rate
        self.last = time.monotonic()
        self.limit = program.max_line * 4  # bytes: a line longer than this is cut

    def feed(self, chunk: bytes) -> bool:
        """Take ``chunk``; hand over its whole lines. False when the program is being ended."""
        self.buf += chunk
        while True:
            cut = self.buf.find(b"\n")
            if cut >= 0:
                raw, self.buf = self.buf[:cut], self.buf[cut + 1:]
            elif len(self.buf) > self.limit:
                raw, self.buf = self.buf[:self.limit], self.buf[self.limit:]
            else:
                return True
            if not self._spend():
                return False
            self._emit(raw)

    def flush(self) -> None:
        """Hand over what is left without a newline (a prompt, the last words before exit)."""
        if self.buf and self._spend():
            self._emit(self.buf)
        self.buf = b""

    def _spend(self) -> bool:
        while True:
            now = time.monotonic()
            self.tokens = min(self.rate, self.tokens + (now - self.last) * self.rate)
            self.last = now
            if self.tokens >= 1:
                self.tokens -= 1
                return True
            if self.program._stop.wait((1 - self.tokens) / self.rate):
                return False

    def _emit(self, raw: bytes) -> None:
        text = raw.decode("utf-8", errors="replace").rstrip("\r")
        if self.stream == "out":
            self.program.spoke = True
        self.program._sink(ProgramLine(self.stream, printable(text, self.program.max_line)))


class Program:
    """One running student program. ``sink`` is called from the program's threads (and from
    ``send_line``'s caller); it must not block."""

    def __init__(
        self,
        command: str,
        port: int,
        sink: Callable[[ProgramEvent], None],
        lang: str = "fr",
        *,
        cwd: str | None = None,
        max_line: int = MAX_LINE,
        max_rate: int = MAX_RATE,
        max_pending: int = MAX_PENDING,
        terminal: bool | None = None,
    ) -> None:
        self.command = command
        self.port = port
        self.name = short_name(command)
        self.lang = lang
        self.cwd = cwd
        self.max_line = max_line
        self.max_rate = max_rate
        self.max_pending = max_pending
        # Inherited by every process the program starts, whatever group or session it
        # moves to: how its descendants are known once their parents are gone.
        self.mark = f"{os.getpid()}-{os.urandom(8).hex()}"
        self.terminal = has_terminal() if terminal is None else terminal
        self._sink = sink
        self._proc: subprocess.Popen[bytes] | None = None
        self._master: int | None = None  # the terminal's end this process holds
        self._started = 0.0
        self.spoke = False  # it wrote a line on its standard output
        self.typed_to = False  # a line was given to its input
        self._started_at = 0.0  # wall clock, to compare with processes' creation times
        self._threads: list[threading.Thread] = []
        self._readers: list[threading.Thread] = []
        self._exited = threading.Event()
        self._stop = threading.Event()  # the program is being ended: threads let go
        self._ended = threading.Event()  # stop() has ended it and every descendant
        self._release_lock = threading.Lock()
        # Input: lines waiting for the writer thread, their size, and whether it is stuck.
        self._input = threading.Condition()
        self._inbox: deque[bytes] = deque()
        self._pending = 0
        self._write_since: float | None = None
        self._stalled = False
        # Every process seen descending from the program: pid -> process (psutil checks
        # a pid against its creation time, so a reused pid is never taken for ours).
        self._tracked: dict[int, psutil.Process] = {}
        self._track_lock = threading.Lock()

    # --- lifecycle -------------------------------------------------------------------------
    def start(self) -> bool:
        """Start the program; on failure report one sentence to the sink and return False."""
        import psutil

        try:
            argv = expand(self.command, self.port)
        except ValueError as exc:
            self._fail("prog.err.syntax", reason=str(exc))
            return False
        if not argv:
            self._fail("prog.err.empty")
            return False
        kwargs: dict[str, object] = {}
        if os.name == "nt":
            kwargs["creationflags"] = subprocess.CREATE_NEW_PROCESS_GROUP  # type: ignore[attr-defined]
        else:
            kwargs["start_new_session"] = True
        env = {**os.environ, "PYTHONUNBUFFERED": "1", MARK: self.mark}
        slave: int | None = None
        if self.terminal:
            try:
                self._master, slave = _raw_terminal()
            except OSError:
                self.terminal = False  # no terminal left (a full pty table): pipes, as Windows
        if self.terminal:
            env["TERM"] = "dumb"  # a terminal that draws nothing: no colours, no cursor moves
            streams: dict[str, object] = {"stdin": slave, "stdout": slave}
        else:
            streams = {"stdin": subprocess.PIPE, "stdout": subprocess.PIPE}
        try:
            self._proc = subprocess.Popen(
                argv, stderr=subprocess.PIPE, cwd=self.cwd, env=env,
                **streams, **kwargs,  # type: ignore[call-overload]
            )
        except FileNotFoundError:
            self._fail("prog.err.not_found", name=argv[0])
        except PermissionError:
            self._fail("prog.err.permission", name=argv[0])
        except OSError as exc:
            self._fail("prog.err.start", name=argv[0], reason=exc.strerror or str(exc))
        finally:
            if slave is not None:
                os.close(slave)  # the program holds it now; the master reads EOF when it ends
        if self._proc is None:
            self._close_master()
            return False
        self._started = time.monotonic()
        self._started_at = time.time()
        with contextlib.suppress(psutil.Error):
            self._track(psutil.Process(self._proc.pid))
        self._sink(ProgramStarted(self._proc.pid, self.command.replace("{port}", str(self.port))))
        proc = self._proc
        assert proc.stderr is not None
        if self._master is not None:
            out = threading.Thread(target=self._read_terminal, args=(self._master,), daemon=True)
        else:
            assert proc.stdout is not None
            out = threading.Thread(target=self._read_pipe, args=("out", proc.stdout), daemon=True)
        err = threading.Thread(target=self._read_pipe, args=("err", proc.stderr), daemon=True)
        writer = threading.Thread(target=self._write_loop, daemon=True)
        self._readers = [out, err]
        for th in (out, err, writer):
            th.start()
        waiter = threading.Thread(target=self._wait, daemon=True)
        waiter.start()
        self._threads = [out, err, writer, waiter]
        return True

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    @property
    def returncode(self) -> int | None:
        return self._proc.poll() if self._proc is not None else None

    def wait_exited(self, timeout: float | None = None) -> bool:
        """Wait until the exit was reported (all output read first)."""
        return self._exited.wait(timeout)

    # --- input -----------------------------------------------------------------------------
    def send_line(self, text: str) -> bool:
        """Give ``text`` plus a newline to the program's input; never blocks.

        False if the program is gone, or if the line was refused because the program does
        not read what it was given before (the sink is told, with what waits)."""
        proc = self._proc
        if proc is None or proc.poll() is not None or self._stop.is_set():
            return False
        data = (text + "\n").encode("utf-8", errors="replace")
        with self._input:
            refused = self._pending and self._pending + len(data) > self.max_pending
            if not refused:
                self._inbox.append(data)
                self.typed_to = True
                self._pending += len(data)
                self._input.notify()
            pending = self._pending
        if refused:
            self._sink(ProgramInput("refused", pending))
            return False
        self._check_stall()
        return True

    @property
    def pending_input(self) -> int:
        """Bytes typed for the program that it has not read yet (written or waiting)."""
        with self._input:
            return self._pending

    def _check_stall(self) -> None:
        """Say once that the program does not read: a write has waited ``STALL`` seconds."""
        with self._input:
            since = self._write_since
            if self._stalled or since is None or time.monotonic() - since < STALL:
                return
            self._stalled = True
            pending = self._pending
        self._sink(ProgramInput("stalled", pending))

    def _write_loop(self) -> None:
        while True:
            with self._input:
                while not self._inbox and not self._stop.is_set():
                    self._input.wait()
                if self._stop.is_set():
                    return
                data = self._inbox[0]
                self._write_since = time.monotonic()
            ok = self._write_all(data)
            with self._input:
                if self._inbox:
                    self._inbox.popleft()
                self._pending -= len(data)
                self._write_since = None
                resumed = ok and self._stalled and not self._inbox
                if resumed:
                    self._stalled = False
            if resumed:
                self._sink(ProgramInput("resumed", 0))
            if not ok:
                return

    def _write_all(self, data: bytes) -> bool:
        """Write ``data`` whole; False when the program can no longer be written to."""
        master = self._master
        if master is None:  # a pipe (Windows): a blocking write, in this thread only
            proc = self._proc
            if proc is None or proc.stdin is None:
                return False
            watchdog = threading.Timer(STALL, self._check_stall)  # says a write is stuck
            watchdog.daemon = True
            watchdog.start()
            try:
                proc.stdin.write(data)
                proc.stdin.flush()
            except (OSError, ValueError):
                return False
            finally:
                watchdog.cancel()
            return True
        view = memoryview(data)
        while view:
            if self._stop.is_set():
                return False
            try:
                _, ready, _ = select.select([], [master], [], _POLL)
            except (OSError, ValueError):
                return False
            if not ready:
                self._check_stall()
                continue
            try:
                view = view[os.write(master, view):]
            except BlockingIOError:
                continue
            except OSError:
                return False
        return True

    # --- processes -------------------------------------------------------------------------
    def pids(self, children: dict[int, list[int]] | None = None) -> set[int]:
        """The program's pid and its descendants' that still run, as far as the OS tells
        (those seen once are kept when their parent ends: a double fork's grandchild).
        ``children``: ``children_map()``, when several programs are sampled at once."""
        return {p.pid for p in self._alive(children)}

    def adopt(self, pid: int) -> bool:
        """Track ``pid`` if it descends from this program (its environment bears the mark):
        a process found holding a lab socket, whose parents are gone."""
        import psutil

        try:
            proc = psutil.Process(pid)
            if proc.environ().get(MARK) != self.mark:
                return False
        except psutil.Error:
            return False
        self._track(proc)
        return True

    def _track(self, proc: psutil.Process) -> None:
        with self._track_lock:
            self._tracked.setdefault(proc.pid, proc)

    def _alive(self, children: dict[int, list[int]] | None = None) -> list[psutil.Process]:
        """Sample the tracked processes: drop the ended ones, add their new descendants."""
        import psutil

        with self._track_lock:
            tracked = list(self._tracked.values())
        alive: dict[int, psutil.Process] = {}
        for proc in tracked:
            if _runs(proc):
                alive[proc.pid] = proc
            else:
                with self._track_lock:
                    if self._tracked.get(proc.pid) is proc:
                        del self._tracked[proc.pid]
        if not alive:
            return []
        if children is None:
            children = children_map()
        under = {pid for pids in children.values() for pid in pids}
        more: dict[int, list[int]] = {}  # below tracked processes no longer under this one
        for proc in list(alive.values()):
            if proc.pid in under:
                continue
            try:  # its parents ended (a double fork): its own walk
                for child in proc.children(recursive=True):
                    more.setdefault(child.ppid(), []).append(child.pid)
            except psutil.Error:
                continue
        todo = list(alive)
        while todo:
            parent = todo.pop()
            for pid in (*children.get(parent, ()), *more.get(parent, ())):
                if pid in alive:
                    continue
                try:
                    child = psutil.Process(pid)
                except psutil.Error:
                    continue
                if _runs(child):
                    alive[pid] = child
                    self._track(child)
                    todo.append(pid)
        return list(alive.values())

    def _marked(self) -> list[psutil.Process]:
        """Every process bearing the mark: descendants that left the group and were never
        seen by a sample (only processes started since the program are read)."""
        import psutil

        since = self._started_at - 1.0
        own = os.getpid()
        found: list[psutil.Process] = []
        for proc in psutil.process_iter(["create_time"]):
            created = proc.info.get("create_time")
            if proc.pid == own or created is None or created < since:
                continue
            try:
                if proc.environ().get(MARK) == self.mark:
                    found.append(proc)
            except psutil.Error:
                continue
        return found

    def descendants(self) -> list[psutil.Process]:
        """Every live process of the program's: tracked ones and those bearing its mark."""
        procs = {p.pid: p for p in self._alive()}
        for proc in self._marked():
            if proc.pid not in procs and _runs(proc):
                procs[proc.pid] = proc
                self._track(proc)
        return list(procs.values())

    def listening_ports(self) -> set[int]:
        """TCP ports the program (or a descendant) listens on."""
        import psutil

        ports: set[int] = set()
        for proc in self._alive():
            try:
                conns = proc.net_connections(kind="tcp")
            except psutil.Error:
                continue
            for c in conns:
                if c.status == psutil.CONN_LISTEN and c.laddr:
                    ports.add(c.laddr.port)
        return ports

    def check_listens(self, timeout: float = 3.0, poll: float = 0.1) -> bool:
        """Wait up to ``timeout`` for the program to listen on the lab port.

        Reports one sentence if it listens elsewhere or not at all; True if it listens on it.
        """
        deadline = time.monotonic() + timeout
        ports: set[int] = set()
        while time.monotonic() < deadline:
            if not self.running:
                return False  # its exit is reported by the waiter
            ports = self.listening_ports()
            if self.port in ports:
                return True
            if self._stop.wait(poll):
                return False
        if ports:
            self._fail("prog.err.other_port", name=self.name, port=self.port,
                       ports=", ".join(str(p) for p in sorted(ports)))
        else:
            self._fail("prog.err.no_listen", name=self.name, port=self.port, seconds=f"{timeout:g}")
        return False

    def stop(self, grace: float = GRACE) -> None:
        """End the program and every descendant: terminate, then kill after ``grace`` s."""
        import psutil

        proc = self._proc
        if proc is None or self._ended.is_set():
            return  # never started, or ended already (F3, then quit): nothing of it is left
        self._stop.set()
        with self._input:
            self._input.notify_all()
        others = [p for p in self.descendants() if p.pid != proc.pid]
        # Its group is signalled only while the program was still ours to reap: once reaped
        # long ago, its pid may name someone else's group. What it left behind is known by
        # pid (tracked, or bearing the mark).
        group = proc.poll() is None
        if group:
            self._signal(proc, kill=False)
        for other in others:
            with contextlib.suppress(psutil.Error):
                other.terminate()
        deadline = time.monotonic() + grace
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(grace)
        _wait_gone(others, deadline)
        # Whatever is left (in the group, or started during the grace period): killed.
        if group:
            self._signal(proc, kill=True)
        left = [p for p in self.descendants() if p.pid != proc.pid]
        for other in left:
            with contextlib.suppress(psutil.Error):
                other.kill()
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(grace)
        _wait_gone(left, time.monotonic() + grace)
        self._exited.wait(grace)
        self._release(grace)
        self._ended.set()

    def _release(self, grace: float) -> None:
        """Let the threads go and close this side of the terminal and of the pipes."""
        self._stop.set()
        with self._input:
            self._input.notify_all()
        current = threading.current_thread()
        for th in self._threads:
            if th is not current:
                th.join(grace)
        with self._release_lock:
            if any(th.is_alive() for th in self._threads if th is not current):
                return  # a reader still blocked on a pipe some stray process holds
            self._close_master()
            proc = self._proc
            if proc is not None:
                for pipe in (proc.stdin, proc.stdout, proc.stderr):
                    if pipe is not None:
                        with contextlib.suppress(OSError):
                            pipe.close()

    def _close_master(self) -> None:
        master, self._master = self._master, None
        if master is not None:
            with contextlib.suppress(OSError):
                os.close(master)

    @staticmethod
    def _signal(proc: subprocess.Popen[bytes], kill: bool) -> None:
        if os.name == "nt":
            try:
                if kill:
                    subprocess.run(["taskkill", "/F", "/T", "/PID", str(proc.pid)],
                                   capture_output=True, check=False)
                else:
                    proc.send_signal(signal.CTRL_BREAK_EVENT)  # type: ignore[attr-defined]
            except OSError:
                pass
            return
        try:
            os.killpg(proc.pid, signal.SIGKILL if kill else signal.SIGTERM)  # type: ignore[attr-defined,unused-ignore]
        except (ProcessLookupError, PermissionError):
            pass

    # --- threads ---------------------------------------------------------------------------
    def _fail(self, key: str, **values: object) -> None:
        self._sink(ProgramFailed(t(key, self.lang, **values)))

    def _read_pipe(self, stream: str, pipe: IO[bytes]) -> None:
        lines = _Lines(self, stream)
        read = getattr(pipe, "read1", pipe.read)
        while True:
            try:
                chunk = read(65536)
            except (OSError, ValueError):
                break
            if not chunk or not lines.feed(chunk):
                break
        lines.flush()

    def _read_terminal(self, master: int) -> None:
        """Read the terminal; a line still without its newline after ``PARTIAL`` seconds
        (a prompt such as "Message : ") is shown as it is."""
        lines = _Lines(self, "out")
        while not self._stop.is_set():
            try:
                ready, _, _ = select.select([master], [], [], PARTIAL if lines.buf else _POLL)
            except (OSError, ValueError):
                break
            if not ready:
                lines.flush()
                continue
            try:
                chunk = os.read(master, 65536)
            except BlockingIOError:
                continue
            except OSError:  # EIO: every process holding the terminal has closed it
                break
            if not chunk or not lines.feed(chunk):
                break
        lines.flush()

    def _wait(self) -> None:
        proc = self._proc
        assert proc is not None
        status = proc.wait()
        for th in self._readers:
            th.join(GRACE)
        seconds = time.monotonic() - self._started
        self._sink(ProgramExited(status, seconds,
                                 at_once=status > 0 and not self.spoke and not self.typed_to))
        self._exited.set()
        if not any(th.is_alive() for th in self._readers):
            # All its output read: the terminal and the pipes are of no more use.
            threading.Thread(target=self._release, args=(GRACE,), daemon=True).start()


def children_map() -> dict[int, list[int]]:
    """pid -> its children's pids, for the processes under this one (the programs and
    theirs): one walk of the process table shared by every program sampled, where
    ``Process.children`` walks it once per call."""
    import psutil

    children: dict[int, list[int]] = {}
    try:
        below = psutil.Process().children(recursive=True)
    except psutil.Error:
        return children
    for proc in below:
        try:
            children.setdefault(proc.ppid(), []).append(proc.pid)
        except psutil.Error:
            continue
    return children


def _runs(proc: psutil.Process) -> bool:
    """Whether ``proc`` (the same process, not a reused pid) runs and is not a zombie."""
    import psutil

    try:
        return proc.is_running() and proc.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def _wait_gone(procs: Iterable[psutil.Process], deadline: float) -> None:
    """Wait until every one of ``procs`` has ended (a zombie has), or ``deadline``."""
    left = list(procs)
    while left:
        left = [p for p in left if _runs(p)]
        if not left or time.monotonic() >= deadline:
            return
        time.sleep(0.02)


def end_marked(pids: Iterable[int], marks: set[str], grace: float = GRACE) -> list[int]:
    """End those of ``pids`` that bear one of ``marks`` (the app's programs' descendants
    still holding a lab socket): terminate, then kill after ``grace``. Returns them."""
    import psutil

    own = os.getpid()
    found: list[psutil.Process] = []
    for pid in set(pids):
        if pid == own:
            continue
        try:
            proc = psutil.Process(pid)
            if proc.environ().get(MARK) in marks:
                found.append(proc)
        except psutil.Error:
            continue
    for proc in found:
        with contextlib.suppress(psutil.Error):
            proc.terminate()
    _wait_gone(found, time.monotonic() + grace)
    for proc in found:
        if _runs(proc):
            with contextlib.suppress(psutil.Error):
                proc.kill()
    _wait_gone(found, time.monotonic() + grace)
    return [p.pid for p in found]


def exit_text(event: ProgramExited, name: str, lang: str) -> str:
    """One sentence for a program's exit, as its pane shows it."""
    if event.status < 0 and sys.platform != "win32":
        try:
            sig = signal.Signals(-event.status).name
        except ValueError:
            sig = str(-event.status)
        return t("prog.exit.signal", lang, name=name, signal=sig)
    if event.at_once:
        return t("prog.exit.at_once", lang, name=name, status=event.status)
    return t("prog.exit.status", lang, name=name, status=event.status)
