"""Windows tells its own story at a full accept queue: it refuses the connection (10061,
"connection refused") where Linux and macOS leave the client in SYN_SENT. The step p1-q3
says so, its evidence accepts that outcome, its setup takes it as the scene, and the client
says "connection refused". Windows is a parameter, so all of this runs on Linux too."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from support import LOCALHOST, EventLog, conn, free_port, lab_session, wait_for

from tcp_observatory.lab import __version__
from tcp_observatory.lab.errors import LabError, connect_error, is_refused
from tcp_observatory.lab.grading.manifest import save_screenshot
from tcp_observatory.lab.grading.record import evidence_of_entry, seal_for, seal_of_entry
from tcp_observatory.lab.guide.evidence import check_evidence
from tcp_observatory.lab.guide.setup import run_setup
from tcp_observatory.lab.guide.steps import STEPS, get_step
from tcp_observatory.lab.net.client import LabClient
from tcp_observatory.lab.observe.model import Connection, Endpoint, RoleKind, Snapshot

PORT = 9500
SERVER = Endpoint(LOCALHOST, PORT)
C1, C2 = Endpoint(LOCALHOST, 50001), Endpoint(LOCALHOST, 50002)


def row(local: Endpoint, remote: Endpoint | None, state: str, kind: RoleKind,
        n: int | None = None, *, server: bool = False, pid: int | None = 4242) -> Connection:
    return conn(local, remote, state, kind, n, server_side=server, pid=pid,
                process="python.exe" if pid else None)


LISTEN = row(SERVER, None, "LISTEN", RoleKind.LISTENER)
SERVED = row(SERVER, C1, "ESTABLISHED", RoleKind.SERVER, 1, server=True)
CLIENT1 = row(C1, SERVER, "ESTABLISHED", RoleKind.CLIENT, 1)
QUEUED = row(SERVER, C2, "ESTABLISHED", RoleKind.QUEUED, 2, server=True, pid=None)
CLIENT2 = row(C2, SERVER, "ESTABLISHED", RoleKind.CLIENT, 2)
# Windows' outcome: client 2 refused, so no row of it at all.
REFUSED_SCENE = [LISTEN, SERVED, CLIENT1]
SAID = [(1, "Bonjour du client 1")]


# -- the client says "connection refused" -----------------------------------------------------
@pytest.mark.parametrize("lang,refused",
                         [("en", "Connection refused"), ("fr", "Connexion refusée")])
def test_a_refusal_is_said_as_such_and_on_windows_names_the_full_queue(
        monkeypatch: pytest.MonkeyPatch, lang: str, refused: str) -> None:
    monkeypatch.setattr("tcp_observatory.lab.errors.current_language", lambda: lang)
    exc = OSError(10061, "No connection could be made")
    assert is_refused(exc)
    on_windows = str(connect_error(exc, LOCALHOST, PORT, windows=True))
    elsewhere = str(connect_error(exc, LOCALHOST, PORT, windows=False))
    assert on_windows.startswith(refused) and elsewhere.startswith(refused)
    assert "accept()" in on_windows and "SYN_SENT" in on_windows
    assert "accept()" not in elsewhere


@pytest.mark.parametrize("windows", [True, False])
def test_the_client_reports_a_refused_connect(windows: bool) -> None:
    """A real refusal on loopback (nobody listens): the event says it was refused, and
    its text is the sentence for the system given."""
    events = EventLog()
    client = LabClient(LOCALHOST, free_port(), number=2, on_event=events, windows=windows)
    try:
        with pytest.raises(LabError, match="Connection refused"):
            client.connect(timeout=10)
        failed = events.wait("failed", number=2)
        assert failed.refused and client.refused and client.state == "failed"
        assert ("accept() queue is full" in failed.text) is windows
    finally:
        client.close()


# -- the step says what Windows does ------------------------------------------------------------
@pytest.mark.parametrize("lang", ["en", "fr"])
def test_step_p1_q3_tells_windows_refusal_on_windows_only(lang: str) -> None:
    step = get_step("p1-q3")
    todo_win = step.text("todo", lang, windows=True)
    assert todo_win != step.text("todo", lang, windows=False)
    assert ("refused" if lang == "en" else "refusée") in todo_win
    assert "Windows" in step.text("evidence", lang, windows=True)
    assert "Windows" not in step.text("evidence", lang, windows=False)
    # The other steps tell one story everywhere.
    for other in STEPS:
        if other.id != "p1-q3":
            for what in ("title", "todo", "question", "evidence"):
                assert other.text(what, lang, windows=True) == other.text(what, lang,
                                                                          windows=False)


# -- the evidence accepts Windows' outcome on Windows ----------------------------------------
def test_windows_refusal_meets_p1_q3_on_windows() -> None:
    ev = check_evidence("p1-q3", REFUSED_SCENE, SAID, "single", port=PORT, lang="en",
                        refused=[2], windows=True)
    assert ev.met, ev.missing
    assert any("Client 2's connection was refused" in f for f in ev.found)


def test_the_same_outcome_is_not_met_where_a_full_queue_does_not_refuse() -> None:
    ev = check_evidence("p1-q3", REFUSED_SCENE, SAID, "single", port=PORT, lang="en",
                        refused=[2], windows=False)
    assert not ev.met
    assert "No client waiting in the accept() queue" in ev.missing


def test_on_windows_one_client_alone_is_not_enough() -> None:
    ev = check_evidence("p1-q3", REFUSED_SCENE, SAID, "single", port=PORT, lang="en",
                        refused=[], windows=True)
    assert not ev.met
    assert "No client waiting in the accept() queue, and no connection refused" in ev.missing


def test_on_windows_the_refused_client_must_be_another_than_the_served_one() -> None:
    ev = check_evidence("p1-q3", REFUSED_SCENE, SAID, "single", port=PORT, lang="en",
                        refused=[1], windows=True)
    assert not ev.met


def test_on_windows_a_queued_client_still_meets_p1_q3() -> None:
    scene = [LISTEN, SERVED, CLIENT1, QUEUED, CLIENT2]
    ev = check_evidence("p1-q3", scene, SAID, "single", port=PORT, lang="en", windows=True)
    assert ev.met, ev.missing


def test_on_windows_the_refusal_needs_the_single_server_and_a_message() -> None:
    assert not check_evidence("p1-q3", REFUSED_SCENE, SAID, "threaded", port=PORT, lang="en",
                              refused=[2], windows=True).met
    assert not check_evidence("p1-q3", REFUSED_SCENE, [], "single", port=PORT, lang="en",
                              refused=[2], windows=True).met


# -- the record keeps the refusal, sealed, for the grader ------------------------------------
def test_a_refusal_is_stored_sealed_and_rechecked_by_verify(tmp_path: Path) -> None:
    snap = Snapshot(1_700_000_000.0, tuple(REFUSED_SCENE), "psutil")
    saved = save_screenshot(tmp_path, "p1-q3", "<svg></svg>", snapshot=snap, student="Ana",
                            host="pc", version=__version__, messages=SAID, mode="single",
                            port=PORT, lang="en", refused=[2])
    assert saved.evidence.met
    entry = json.loads((tmp_path / "manifest.json").read_text(encoding="utf-8"))[
        "screenshots"][0]
    assert entry["refused"] == [2]
    assert evidence_of_entry(entry, "en").met
    assert seal_of_entry(entry) == entry["seal"] == seal_for(
        "p1-q3", snap, SAID, "single", PORT, None, [2])
    entry["refused"] = []  # a refusal removed from the record breaks its seal
    assert seal_of_entry(entry) != entry["seal"]
    assert not evidence_of_entry(entry, "en").met


def test_records_without_a_refusal_keep_their_seal() -> None:
    snap = Snapshot(1.0, tuple(REFUSED_SCENE), "psutil")
    assert seal_for("p1-q3", snap, SAID, "single", PORT) == seal_for(
        "p1-q3", snap, SAID, "single", PORT, None, [])


# -- the setup takes a refused second client as the scene on Windows --------------------------
@dataclass
class FakeClient:
    number: int
    refused: bool
    local: Endpoint
    state: str = "connected"
    error: LabError | None = None


@dataclass
class FakeRegistry:
    accepted: dict[Endpoint, str]

    def copy(self) -> tuple[dict[Endpoint, int], dict[Endpoint, str]]:
        return {}, dict(self.accepted)


@dataclass
class FakeSession:
    """What run_setup uses of a Session, with client 2 refused as Windows would."""

    mode: str = "single"
    close_after_fin: bool = False
    exec_server: str | None = None
    exec_clients: list[str] = field(default_factory=list)
    clients: dict[int, Any] = field(default_factory=dict)
    registry: FakeRegistry = field(default_factory=lambda: FakeRegistry({C1: "main"}))
    sent: list[tuple[int, str]] = field(default_factory=list)
    with_server: bool = True  # the built-in server, running
    server_running: bool = True

    def restart_server(self, mode: str) -> None:
        self.mode = mode

    def reset_clients(self) -> None:
        self.clients = {}

    def add_client(self) -> int:
        n = len(self.clients) + 1
        refused = n == 2
        self.clients[n] = FakeClient(n, refused, C1 if n == 1 else C2,
                                     state="failed" if refused else "connected",
                                     error=LabError("Connection refused") if refused else None)
        return n

    def send(self, number: int, text: str, *, by_app: bool = False) -> bool:
        if self.clients[number].state != "connected":
            return False
        self.sent.append((number, text))
        return True


def test_on_windows_a_refused_second_client_is_the_scene() -> None:
    session = FakeSession()
    numbers = run_setup(session, "p1-q3", lambda p, s: wait_for(p, s) is not None,  # type: ignore[arg-type]
                        windows=True, play_student=True)
    assert numbers == [1, 2]
    assert session.sent == [(1, "Bonjour du client 1")]  # the refused one has nothing to send


def test_elsewhere_a_refused_second_client_is_a_failed_setup() -> None:
    with pytest.raises(LabError, match="Connection refused"):
        run_setup(FakeSession(), "p1-q3", lambda p, s: wait_for(p, s) is not None,  # type: ignore[arg-type]
                  windows=False)


# -- the client's pane ------------------------------------------------------------------------
async def test_the_clients_pane_says_connection_refused(tmp_path: Path) -> None:
    """A connection refused while a server listens (Windows, its accept queue full): its
    card says the connection was refused, and the step counts it among the refused
    clients. Here the server is stopped (F8) and the session made to say a server listens,
    so the refusal is not taken for "no server yet" (the client would wait for one)."""
    from app_support import make_app, press, wait_until

    session = lab_session()
    session.listener_up = lambda: True  # type: ignore[method-assign]
    app = make_app(session, tmp_path)
    async with app.run_test(size=(140, 44)) as pilot:
        await wait_until(pilot, lambda: app.session.server_running, "the server")
        await press(pilot, "f8")
        await wait_until(pilot, lambda: not app.session.server_running, "the server stopped")
        await press(pilot, "f2")
        await wait_until(pilot, lambda: app.scene.refused == [1], "client 1 refused")
        card = app.clients_pane.card(1)
        assert card is not None and "Connection refused" in card.last
