"""Run a student's own server or client (any language) as a child process.

The program runs in its own process group so that ending it also ends whatever it started
(a ``java`` launcher, a shell). Its output is read in threads, cut into bounded lines and
rate-limited: a program that floods or prints binary cannot stall whoever shows the lines.
Lines are handed over already made printable (``lab.text.printable``); show them without markup.
"""

from __future__ import annotations

import os
import shlex
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import IO

import psutil

from lab.i18n import t
from lab.text import printable

MAX_LINE = 2000  # characters kept from one line; the rest is cut with a visible note
MAX_RATE = 200  # lines per second handed over per stream; the rest is counted as dropped
GRACE = 2.0  # seconds between terminate and kill


@dataclass(frozen=True)
class ProgramLine:
    """One line the program printed (``stream`` is "out" or "err"), already printable."""

    stream: str
    text: str


@dataclass(frozen=True)
class ProgramDropped:
    """``count`` lines were not handed over because the program printed too fast."""

    stream: str
    count: int


@dataclass(frozen=True)
class ProgramExited:
    """The program ended with ``status`` (negative: killed by that signal)."""

    status: int
    seconds: float


@dataclass(frozen=True)
class ProgramFailed:
    """The program could not start, or does not do what the lab needs: one sentence."""

    message: str


ProgramEvent = ProgramLine | ProgramDropped | ProgramExited | ProgramFailed


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


class Program:
    """One running student program. ``sink`` is called from reader threads."""

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
    ) -> None:
        self.command = command
        self.port = port
        self.name = short_name(command)
        self.lang = lang
        self.cwd = cwd
        self._sink = sink
        self._max_line = max_line
        self._max_rate = max_rate
        self._proc: subprocess.Popen[bytes] | None = None
        self._started = 0.0
        self._stdin_lock = threading.Lock()
        self._threads: list[threading.Thread] = []
        self._exited = threading.Event()

    # --- lifecycle -------------------------------------------------------------------------
    def start(self) -> bool:
        """Start the program; on failure report one sentence to the sink and return False."""
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
        try:
            self._proc = subprocess.Popen(
                argv,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                cwd=self.cwd,
                env={**os.environ, "PYTHONUNBUFFERED": "1"},
                **kwargs,  # type: ignore[call-overload]
            )
        except FileNotFoundError:
            self._fail("prog.err.not_found", name=argv[0])
            return False
        except PermissionError:
            self._fail("prog.err.permission", name=argv[0])
            return False
        except OSError as exc:
            self._fail("prog.err.start", name=argv[0], reason=exc.strerror or str(exc))
            return False
        self._started = time.monotonic()
        assert self._proc.stdout is not None and self._proc.stderr is not None
        readers = [
            threading.Thread(target=self._read, args=("out", self._proc.stdout), daemon=True),
            threading.Thread(target=self._read, args=("err", self._proc.stderr), daemon=True),
        ]
        for th in readers:
            th.start()
        waiter = threading.Thread(target=self._wait, args=(readers,), daemon=True)
        waiter.start()
        self._threads = [*readers, waiter]
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

    def send_line(self, text: str) -> bool:
        """Write ``text`` plus a newline to the program's stdin; False if it is gone."""
        proc = self._proc
        if proc is None or proc.stdin is None or proc.poll() is not None:
            return False
        data = (text + "\n").encode("utf-8", errors="replace")
        with self._stdin_lock:
            try:
                proc.stdin.write(data)
                proc.stdin.flush()
            except (BrokenPipeError, OSError, ValueError):
                return False
        return True

    def pids(self) -> set[int]:
        """The program's pid and its children's, as far as the OS tells."""
        proc = self._proc
        if proc is None or proc.poll() is not None:
            return set()
        out = {proc.pid}
        try:
            out.update(c.pid for c in psutil.Process(proc.pid).children(recursive=True))
        except psutil.Error:
            pass
        return out

    def listening_ports(self) -> set[int]:
        """TCP ports the program (or a child) listens on."""
        pids = self.pids()
        if not pids:
            return set()
        ports: set[int] = set()
        for pid in pids:
            try:
                conns = psutil.Process(pid).net_connections(kind="tcp")
            except (psutil.Error, AttributeError):
                try:
                    conns = psutil.Process(pid).connections(kind="tcp")
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
            time.sleep(poll)
        if ports:
            self._fail("prog.err.other_port", name=self.name, port=self.port,
                       ports=", ".join(str(p) for p in sorted(ports)))
        else:
            self._fail("prog.err.no_listen", name=self.name, port=self.port, seconds=f"{timeout:g}")
        return False

    def stop(self, grace: float = GRACE) -> None:
        """End the whole process group: terminate, then kill after ``grace`` seconds."""
        proc = self._proc
        if proc is None:
            return
        if proc.poll() is None:
            self._signal(proc, kill=False)
            try:
                proc.wait(grace)
            except subprocess.TimeoutExpired:
                pass
        # whatever the program started may outlive it in the group: kill the group
        self._signal(proc, kill=True)
        try:
            proc.wait(grace)
        except subprocess.TimeoutExpired:
            pass
        if proc.stdin is not None:
            try:
                proc.stdin.close()
            except OSError:
                pass
        self._exited.wait(grace)

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

    def _read(self, stream: str, pipe: IO[bytes]) -> None:
        """Cut the stream into lines of at most ``max_line`` and hand them over, rate-limited."""
        buf = b""
        window_start = time.monotonic()
        in_window = 0
        dropped = 0
        limit_bytes = self._max_line * 4

        def emit(raw: bytes) -> None:
            nonlocal window_start, in_window, dropped
            now = time.monotonic()
            if now - window_start >= 1.0:
                window_start, in_window = now, 0
            if in_window >= self._max_rate:
                dropped += 1
                return
            if dropped:
                self._sink(ProgramDropped(stream, dropped))
                dropped = 0
                in_window += 1
            in_window += 1
            text = raw.decode("utf-8", errors="replace").rstrip("\r")
            self._sink(ProgramLine(stream, printable(text, self._max_line)))

        read = getattr(pipe, "read1", pipe.read)
        while True:
            try:
                chunk = read(65536)
            except (OSError, ValueError):
                break
            if not chunk:
                break
            buf += chunk
            while True:
                cut = buf.find(b"\n")
                if cut < 0:
                    break
                emit(buf[:cut])
                buf = buf[cut + 1:]
            if len(buf) > limit_bytes:
                emit(buf[:limit_bytes])
                buf = b""
        if buf:
            emit(buf)
        if dropped:
            self._sink(ProgramDropped(stream, dropped))

    def _wait(self, readers: list[threading.Thread]) -> None:
        proc = self._proc
        assert proc is not None
        status = proc.wait()
        for th in readers:
            th.join(GRACE)
        seconds = time.monotonic() - self._started
        self._sink(ProgramExited(status, seconds))
        self._exited.set()


def exit_text(event: ProgramExited, name: str, lang: str) -> str:
    """One sentence for a program's exit, as its pane shows it."""
    if event.status < 0 and sys.platform != "win32":
        try:
            sig = signal.Signals(-event.status).name
        except ValueError:
            sig = str(-event.status)
        return t("prog.exit.signal", lang, name=name, signal=sig)
    if event.status != 0 and event.seconds < 1.0:
        return t("prog.exit.at_once", lang, name=name, status=event.status)
    return t("prog.exit.status", lang, name=name, status=event.status)
