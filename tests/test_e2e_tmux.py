"""End to end, as a person would: the app in a real terminal (tmux), keys typed, screen read."""

from __future__ import annotations

import os
import shlex
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import psutil
import pytest
from support import free_port, port_is_free, wait_for

from tcp_observatory.lab.guide.progress import load_progress

pytestmark = pytest.mark.needs("tmux")




class Tmux:
    def __init__(self) -> None:
        self.sock = f"tcpobs-{uuid.uuid4().hex[:8]}"

    def run(self, *args: str) -> str:
        out = subprocess.run(["tmux", "-L", self.sock, *args], capture_output=True, text=True,
                             timeout=10, check=False)
        return out.stdout

    def screen(self) -> str:
        return self.run("capture-pane", "-p", "-t", "app")

    def wait_for(self, predicate: Callable[[str], bool], what: str, timeout: float = 20) -> str:
        deadline = time.monotonic() + timeout
        while True:
            text = self.screen()
            if predicate(text):
                return text
            if time.monotonic() > deadline:
                size = self.run("display-message", "-p", "-t", "app",
                                "#{pane_width}x#{pane_height}").strip()
                raise AssertionError(f"timed out waiting for {what}; the pane is {size}; "
                                     f"screen:\n{text}")
            time.sleep(0.1)  # polling interval of a wait-for-condition, not a synchronisation

    def keys(self, *keys: str) -> None:
        self.run("send-keys", "-t", "app", *keys)


@pytest.fixture
def tmux() -> Iterator[Tmux]:
    t = Tmux()
    try:
        yield t
    finally:
        t.run("kill-server")


def open_pane(tmux: Tmux, argv: list[str]) -> None:
    """``argv`` in a 160x48 terminal; the shell says how it exited (EXITED=status)."""
    # The pane's size is the terminal's: COLUMNS and LINES, if set (pytest-xdist's workers
    # set them to 80x24), would override it in the app (shutil.get_terminal_size).
    env = {**{k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")},
           "TERM": "xterm-256color", "COLORTERM": "truecolor"}
    subprocess.run(
        ["tmux", "-L", tmux.sock, "new-session", "-d", "-s", "app", "-x", "160", "-y", "48",
         f"{shlex.join(argv)}; echo EXITED=$?; sleep 30"],
        check=True, timeout=10, env=env,
    )


def pane_app(tmux: Tmux) -> psutil.Process:
    """The program the pane's shell runs."""
    shell = psutil.Process(int(tmux.run("display", "-p", "-t", "app", "#{pane_pid}")))
    (app,) = shell.children()
    return app


def start_app(tmux: Tmux, folder: Path, port: int) -> None:
    """The app in a 160x48 terminal; the shell says how it exited (EXITED=status)."""
    open_pane(tmux, [sys.executable, "-m", "tcp_observatory.tui", "--port", str(port),
                     "--lang", "en", "--student", "E2E Student", "--screenshots", str(folder)])


def test_message_and_fin_show_close_wait_and_fin_wait_2(tmux: Tmux, tmp_path: Path) -> None:
    port = free_port()
    start_app(tmux, tmp_path, port)
    tmux.wait_for(lambda s: s.count("ESTABLISHED") >= 2 and "client 1" in s,
                  "both sides ESTABLISHED")
    tmux.keys("hello observatory", "Enter")
    tmux.wait_for(lambda s: "› hello observatory" in s, "the server's log shows the message")
    # Step p1-q1's evidence (both sides ESTABLISHED, a message received) takes its screenshot.
    tmux.wait_for(lambda s: any(tmp_path.glob("p1-q1-*.svg")), "the p1-q1 screenshot")
    shot = next(tmp_path.glob("p1-q1-*.svg")).read_text(encoding="utf-8")
    assert "E2E" in shot and "p1-q1" in shot
    # The live panes are back (while a picture is taken, the evidence view stands in for
    # them and the client's input is not on screen to type into).
    tmux.wait_for(lambda s: f"Server 127.0.0.1:{port}" in s and "accept queue" in s,
                  "the live panes after the screenshot")
    tmux.keys("Fin", "Enter")
    def told(screen: str) -> bool:
        """Both ends with their roles, whole (a column widens one frame after its text)."""
        table = [line for line in screen.splitlines() if f"127.0.0.1:{port}" in line]
        return (any("CLOSE_WAIT" in line and "server ↔ client 1" in line for line in table)
                and any("FIN_WAIT_2" in line and "orphaned (client 1)" in line
                        for line in table))

    tmux.wait_for(told, "CLOSE_WAIT (server ↔ client 1) and FIN_WAIT_2 (orphaned) on screen")
    tmux.keys("C-q")
    tmux.wait_for(lambda s: "EXITED=0" in s, "a clean exit")
    assert port_is_free(port)


ANSWER = "typed then the window closed"


def type_an_answer(tmux: Tmux, port: int) -> psutil.Process:
    """The app up, an answer typed in its box (no Enter); returns the app's process."""
    tmux.wait_for(lambda s: s.count("ESTABLISHED") >= 2 and "Client 1" in s, "connected")
    tmux.keys("F12")
    tmux.keys("-l", ANSWER)
    tmux.wait_for(lambda s: ANSWER in s, "the answer typed in its box")
    app = pane_app(tmux)
    assert any(c.laddr and c.laddr.port == port for c in app.net_connections("tcp"))
    return app


@pytest.mark.needs("stop-signals")
@pytest.mark.parametrize("name", ["SIGHUP", "SIGTERM"])
def test_a_signal_ends_the_app_as_ctrl_q_does(tmux: Tmux, tmp_path: Path, name: str) -> None:
    """SIGHUP (the terminal closing) or SIGTERM: the answer typed without Enter is written,
    the terminal given back as it was, every socket closed, the status 128 + the signal."""
    number = int(getattr(signal, name))
    port = free_port()
    start_app(tmux, tmp_path, port)
    app = type_an_answer(tmux, port)
    os.kill(app.pid, number)
    screen = tmux.wait_for(lambda s: "EXITED=" in s, "the app's exit")
    assert f"EXITED={128 + number}" in screen
    assert "Traceback" not in screen
    # The terminal is given back: the main screen again, no mouse reporting left on.
    flags = tmux.run("display", "-p", "-t", "app", "#{alternate_on} #{mouse_any_flag}")
    assert flags.split() == ["0", "0"]
    assert load_progress(tmp_path).answers.get("p1-q1") == ANSWER
    assert not app.is_running() and port_is_free(port)


@pytest.mark.needs("stop-signals")
def test_closing_the_terminal_keeps_the_answer(tmux: Tmux, tmp_path: Path) -> None:
    """The terminal itself goes (the window closed): the app is told by SIGHUP, with no
    terminal left to restore; it writes the answer and ends, its port free (if Textual's
    last writes to the dead terminal hang its exit, the process ends after STOP_GRACE)."""
    port = free_port()
    start_app(tmux, tmp_path, port)
    app = type_an_answer(tmux, port)
    tmux.run("kill-session", "-t", "app")
    try:
        app.wait(20)
    except psutil.TimeoutExpired:
        app.kill()
        raise AssertionError("the app was still running 20 s after its terminal closed") \
            from None
    assert load_progress(tmp_path).answers.get("p1-q1") == ANSWER
    assert port_is_free(port)


# The app's own start (python -m tcp_observatory.tui), with one change to Textual's driver
# that makes a race wide enough to test: right after the driver gives the terminal back
# (Ctrl+Q, or a signal), it says so in a file and waits, the app's loop still running, until
# the test says it sent its signal (a second file; 1.5 s at most where none comes). A
# closing terminal sends SIGHUP, then SIGCONT; a SIGCONT then is one that came as the app
# was quitting. "stray" also starts a thread that never ends and is not marked daemon (the
# interpreter would wait for it at its exit).
LATE_SIGNAL = '''
import sys, threading, time
from pathlib import Path
from textual.drivers.linux_driver import LinuxDriver
from tcp_observatory.tui.cli import main

mark = Path(sys.argv[2])
given_back = LinuxDriver.stop_application_mode

def stop_application_mode(self):
    given_back(self)
    mark.write_text("given back")
    sent = mark.with_name("signal-sent")
    deadline = time.monotonic() + (20 if sys.argv[1] == "plain" else 1.5)
    while not sent.exists() and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(0.2)  # the signal's handler, where there is one, runs in this time

LinuxDriver.stop_application_mode = stop_application_mode
if sys.argv[1] == "stray":
    threading.Thread(target=threading.Event().wait, name="stray").start()
sys.argv = ["tcp-observatory", *sys.argv[3:]]
sys.exit(main())
'''


def start_wrapped(tmux: Tmux, tmp_path: Path, port: int, how: str) -> Path:
    script = tmp_path / "late_signal.py"
    script.write_text(LATE_SIGNAL)
    mark = tmp_path / "given-back"
    open_pane(tmux, [sys.executable, str(script), how, str(mark), "--port", str(port),
                     "--lang", "en", "--screenshots", str(tmp_path / "shots")])
    return mark


def connected_app(tmux: Tmux) -> psutil.Process:
    tmux.wait_for(lambda s: s.count("ESTABLISHED") >= 2, "connected")
    return pane_app(tmux)


@pytest.mark.needs("stop-signals")
def test_a_sigcont_as_the_app_quits_does_not_take_the_terminal_back(
        tmux: Tmux, tmp_path: Path) -> None:
    """Ctrl+Q, and the window closed at that moment: its SIGCONT once reached Textual's
    driver, which took the terminal again and started an input thread nothing stopped;
    the process never ended (on the closed terminal, at 100% CPU)."""
    port = free_port()
    mark = start_wrapped(tmux, tmp_path, port, "plain")
    app = connected_app(tmux)
    tmux.keys("C-q")
    wait_for(mark.exists, 20, message="the terminal given back")
    os.kill(app.pid, signal.SIGCONT)
    mark.with_name("signal-sent").write_text("SIGCONT")
    screen = tmux.wait_for(lambda s: "EXITED=" in s, "the app's exit")
    assert "EXITED=0" in screen and "Traceback" not in screen
    flags = tmux.run("display", "-p", "-t", "app", "#{alternate_on} #{mouse_any_flag}")
    assert flags.split() == ["0", "0"], "the terminal was taken again after the quit"
    assert port_is_free(port)


@pytest.mark.needs("stop-signals")
def test_a_thread_left_running_does_not_keep_the_process_alive(
        tmux: Tmux, tmp_path: Path) -> None:
    """Whatever thread is left at the exit (here one that never ends), the process ends
    STOP_GRACE after the window closed, with the app's exit status."""
    port = free_port()
    start_wrapped(tmux, tmp_path, port, "stray")
    app = connected_app(tmux)
    tmux.keys("C-q")
    screen = tmux.wait_for(lambda s: "EXITED=" in s, "the app's exit", timeout=30)
    assert "EXITED=0" in screen and "Traceback" not in screen
    assert not app.is_running() and port_is_free(port)
