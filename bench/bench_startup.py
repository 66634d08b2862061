#!/usr/bin/env python3
"""How long the app takes to show its first full screen, beside a bare Textual app.

Issue 25's figure, measured side by side in one run: each program is started in a real
terminal (its own tmux server, 160x48 by default) and the pane is read until its first full
screen is there:

- ``bare``: a Textual app with nothing but a DataTable of a few rows (the least a table
  app costs with this Textual); full when its rows show;
- ``ours``: ``tcp-observatory`` as a student starts it (the built-in server on a free port
  and one client); full when the table shows the listener's row and both ESTABLISHED rows
  of the client's connection.

They take turns (each in its turn first), after one warm-up run of each that is not
counted: it writes the bytecode caches, so each starts as a user's second start does, even
where PYTHONDONTWRITEBYTECODE is set (that would compile the app's modules at every start,
and not Textual's, installed compiled). Then each is run once more under
``-X importtime`` (the imports of the whole start, lazy ones included) to say where the
import time goes.

    python bench/bench_startup.py --repeat 9

``--before DIR`` adds another checkout of the app (a folder holding its ``lab`` and ``tui``,
e.g. ``git archive main lab tui | tar -x -C DIR``) to the same turns, run by this
interpreter with that folder's code in place of the installed one, so that a change is
measured before and after under the same load.

Figures are medians; the ratio divides each app's by the bare app's. Beside the time, the
CPU the process had used when its screen was full (all threads): on a machine shared with
other work the times stretch, the CPU much less.
"""

from __future__ import annotations

import argparse
import os
import shlex
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

LOCALHOST = "127.0.0.1"
PY = sys.executable
TOOL = str(Path(PY).parent / "tcp-observatory")

BARE_APP = '''
from textual.app import App
from textual.widgets import DataTable


class Bare(App[None]):
    def compose(self):
        yield DataTable()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_columns("Local address", "Foreign address", "State", "Role")
        table.add_row("127.0.0.1:9500", "0.0.0.0:0", "LISTEN", "bare-row-1")
        table.add_row("127.0.0.1:9500", "127.0.0.1:50750", "ESTABLISHED", "bare-row-2")
        table.add_row("127.0.0.1:50750", "127.0.0.1:9500", "ESTABLISHED", "bare-row-3")


Bare().run()
'''


# -X importtime writes to file descriptor 2, and Textual draws on sys.__stderr__: the log
# takes descriptor 2 and Python's stderr is given the terminal back before anything else
# is imported (the interpreter's own start-up, the same for both, is left out of the log).
IMPORTTIME = """
import os, sys
terminal = os.dup(2)
os.dup2(os.open({log!r}, os.O_WRONLY | os.O_CREAT | os.O_TRUNC), 2)
sys.stderr = sys.__stderr__ = open(terminal, "w", closefd=False)
sys.argv = {argv!r}
{run}
"""


# Another checkout's code in place of the installed one: an editable install's finder comes
# before PYTHONPATH, so it is taken out of the way first.
# The folder's lab/ and tui/ are tcp_observatory.lab and .tui, as setuptools maps them (a
# checkout from before that name imports its own "lab" and "tui": the folder is on the path).
BEFORE = """import sys, types
sys.meta_path[:] = [f for f in sys.meta_path if "editable" not in repr(f)]
sys.path.insert(0, {folder!r})
package = types.ModuleType("tcp_observatory")
package.__path__ = [{folder!r}]
sys.modules["tcp_observatory"] = package
try:
    from tcp_observatory.tui.cli import main
except ImportError:
    from tui.cli import main
sys.exit(main())
"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((LOCALHOST, 0))
        return int(probe.getsockname()[1])


class Terminal:
    """A tmux server of the bench's own, kept up by an idle session for the whole run, so
    that no measured start includes tmux's own start."""

    def __init__(self, width: int, height: int) -> None:
        self.socket = f"bench-startup-{os.getpid()}"
        self.size = (str(width), str(height))
        self.tmux("new-session", "-d", "-s", "keep", "-x", self.size[0], "-y", self.size[1],
                  "cat")
        self.path = self.tmux("display-message", "-p", "#{socket_path}").strip()

    def tmux(self, *args: str, check: bool = True) -> str:
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        return subprocess.run(["tmux", "-L", self.socket, "-f", "/dev/null", *args],
                              capture_output=True, text=True, check=check, env=env).stdout

    def time_to_screen(self, name: str, command: str, full: Callable[[str], bool],
                       timeout: float = 30.0) -> Start:
        """From starting ``command`` in a new session to ``full(pane text)``."""
        started = time.perf_counter()
        pid = int(self.tmux("new-session", "-d", "-P", "-F", "#{pane_pid}", "-s", name,
                            "-x", self.size[0], "-y", self.size[1], command))
        try:
            while True:
                screen = self.tmux("capture-pane", "-p", "-t", name, check=False)
                took = time.perf_counter() - started
                if full(screen):
                    return Start(took, _cpu(pid))
                if took > timeout:
                    raise RuntimeError(f"{name}: no full screen after {timeout:.0f} s:\n"
                                       f"{screen}")
                time.sleep(0.005)
        finally:
            self.end(name)

    def end(self, name: str) -> None:
        """Close the window (SIGHUP: the app quits as with Ctrl+Q) and wait for its
        process to be gone, so that it does not share the cores with the next start."""
        panes = self.tmux("list-panes", "-t", name, "-F", "#{pane_pid}", check=False).split()
        self.tmux("kill-session", "-t", name, check=False)
        deadline = time.monotonic() + 15
        for pid in map(int, panes):
            while Path(f"/proc/{pid}").exists() and _alive(pid):
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{name}: process {pid} still running after its "
                                       f"window closed")
                time.sleep(0.01)

    def close(self) -> None:
        self.tmux("kill-server", check=False)
        if self.path:
            Path(self.path).unlink(missing_ok=True)  # kill-server leaves its socket behind


class Start(NamedTuple):
    wall: float  # seconds from the start to the full screen
    cpu: float  # seconds of CPU the process had used by then (all its threads)


def _cpu(pid: int) -> float:
    """The process's user and system time, from /proc (the pane's process is the program:
    the shell tmux starts it with runs it in its place)."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def bare_full(screen: str) -> bool:
    return all(f"bare-row-{i}" in screen for i in (1, 2, 3))


def ours_full(port: int) -> Callable[[str], bool]:
    """The listener's row and both ends of client 1's connection, in the table."""
    here = f"{LOCALHOST}:{port}"

    def full(screen: str) -> bool:
        rows = [line for line in screen.splitlines() if here in line]
        listening = any("LISTEN " in line for line in rows)
        established = sum("ESTABLISHED" in line for line in rows)
        return listening and established >= 2

    return full


class Runs:
    def __init__(self, terminal: Terminal, folder: Path, before: Path | None) -> None:
        self.terminal = terminal
        self.folder = folder
        self.bare_file = folder / "bare_app.py"
        self.bare_file.write_text(BARE_APP)
        self.before = before
        self.count = 0

    def bare(self, log: Path | None = None) -> Start:
        self.count += 1
        argv = [PY, str(self.bare_file)]
        run = f"import runpy; runpy.run_path({str(self.bare_file)!r}, run_name='__main__')"
        return self.terminal.time_to_screen(f"bare{self.count}", self._command(argv, run, log),
                                            bare_full)

    def ours(self, log: Path | None = None) -> Start:
        return self._app(TOOL, log)

    def older(self) -> Start:
        assert self.before is not None
        launcher = self.folder / "before.py"
        launcher.write_text(BEFORE.format(folder=str(self.before.resolve())))
        return self._app(shlex.join([PY, str(launcher)]), None)

    def _app(self, start: str, log: Path | None) -> Start:
        self.count += 1
        port = free_port()
        shots = self.folder / f"shots{self.count}"
        argv = [*shlex.split(start), "--port", str(port), "--lang", "en",
                "--screenshots", str(shots)]
        run = "from tcp_observatory.tui.cli import main; sys.exit(main())"
        return self.terminal.time_to_screen(f"ours{self.count}", self._command(argv, run, log),
                                            ours_full(port))

    def _command(self, argv: list[str], run: str, log: Path | None) -> str:
        if log is None:
            return shlex.join(argv)
        script = self.folder / f"importtime{self.count}.py"
        script.write_text(IMPORTTIME.format(log=str(log), argv=argv, run=run))
        return shlex.join([PY, "-X", "importtime", str(script)])


def import_times(path: Path) -> tuple[float, dict[str, float], list[tuple[float, str]]]:
    """Total import seconds, by top-level package, and the slowest modules (self time)."""
    total = 0.0
    by_package: dict[str, float] = defaultdict(float)
    modules: list[tuple[float, str]] = []
    for line in path.read_text().splitlines():
        if not line.startswith("import time:") or "self [us]" in line:
            continue
        self_us, _cumulative, name = line[len("import time:"):].split("|")
        seconds = int(self_us) / 1e6
        name = name.strip()
        total += seconds
        by_package[name.split(".")[0]] += seconds
        modules.append((seconds, name))
    return total, by_package, sorted(modules, reverse=True)


def part_imports(runs: Runs, top: int) -> None:
    print("\n**import time of the whole start, lazy imports included (-X importtime, one run "
          "each)**\n", flush=True)
    logs = {}
    for what in ("bare", "ours"):
        log = runs.folder / f"importtime-{what}.txt"
        (runs.bare if what == "bare" else runs.ours)(log)
        logs[what] = import_times(log)
    bare_total, bare_packages, _ = logs["bare"]
    ours_total, ours_packages, ours_modules = logs["ours"]
    print(f"- total: ours {ours_total * 1000:.0f} ms, bare {bare_total * 1000:.0f} ms")
    print("\n| package | ours | bare |\n|---|---:|---:|")
    for name, seconds in sorted(ours_packages.items(), key=lambda kv: -kv[1])[:top]:
        print(f"| {name} | {seconds * 1000:.1f} ms | {bare_packages.get(name, 0) * 1000:.1f} ms |")
    print("\nslowest of ours (self time): " + ", ".join(
        f"{name} {seconds * 1000:.1f}" for seconds, name in ours_modules[:top]) + " ms",
        flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=9, help="starts of each, alternating (9)")
    parser.add_argument("--size", default="160x48", help="terminal size (160x48)")
    parser.add_argument("--top", type=int, default=15, help="rows of the import table (15)")
    parser.add_argument("--no-imports", action="store_true", help="skip the import part")
    parser.add_argument("--before", default=None, type=Path, metavar="DIR",
                        help="another checkout's folder (its lab/ and tui/), measured in the "
                        "same turns")
    args = parser.parse_args(argv)
    if shutil.which("tmux") is None:
        print("tmux is missing: this bench needs a real terminal")
        return 1
    if not Path(TOOL).exists():
        print(f"{TOOL} is missing: install the project in this interpreter's venv first")
        return 1
    width, height = (int(x) for x in args.size.split("x"))
    print(f"{os.uname().sysname} {os.uname().release}, Python {sys.version.split()[0]}, "
          f"{os.cpu_count()} CPUs, {width}x{height}; medians of {args.repeat}", flush=True)
    terminal = Terminal(width, height)
    try:
        with tempfile.TemporaryDirectory(prefix="bench-startup-") as tmp:
            runs = Runs(terminal, Path(tmp), args.before)
            contenders: list[tuple[str, Callable[[], Start]]] = [
                ("bare Textual app, DataTable", runs.bare),
                ("tcp-observatory (server, one client)", runs.ours)]
            if args.before:
                contenders.append((f"{args.before} (server, one client)", runs.older))
            for _name, start in contenders:
                start()  # warm-up: compiled bytecode and the page cache, for each
            times: list[list[Start]] = [[] for _ in contenders]
            for i in range(args.repeat):
                # Each takes its turn first: none always starts after the same one.
                for k in range(len(contenders)):
                    j = (i + k) % len(contenders)
                    times[j].append(contenders[j][1]())
            bare = statistics.median(s.wall for s in times[0])
            bare_cpu = statistics.median(s.cpu for s in times[0])
            print("\n| first full screen | median | range | ratio to bare | CPU by then | "
                  "ratio |\n|---|---:|---:|---:|---:|---:|")
            for (name, _start), took in zip(contenders, times, strict=True):
                walls = [s.wall for s in took]
                median, cpu = statistics.median(walls), statistics.median(s.cpu for s in took)
                print(f"| {name} | {median * 1000:.0f} ms | "
                      f"{min(walls) * 1000:.0f}–{max(walls) * 1000:.0f} ms | "
                      f"{median / bare:.2f}x | {cpu * 1000:.0f} ms | {cpu / bare_cpu:.2f}x |",
                      flush=True)
            if not args.no_imports:
                part_imports(runs, args.top)
    finally:
        terminal.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
