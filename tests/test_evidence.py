"""Each lab step, set up with ``run_setup`` on a real Session, shows its evidence in the kernel.

Real sockets on 127.0.0.1, the psutil source, a free port; every wait polls the evidence
check with a deadline. The stored form (JSON) of each snapshot gives the same verdict.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from support import wait_for

from tcp_observatory.lab.grading.record import connection_from_json
from tcp_observatory.lab.guide.evidence import Evidence, Message, check_evidence, message_of
from tcp_observatory.lab.guide.setup import SetupCancelled, run_setup, wait_unless
from tcp_observatory.lab.guide.steps import STEP_IDS
from tcp_observatory.lab.net.server import ServerEvent
from tcp_observatory.lab.observe.model import RoleKind, Snapshot
from tcp_observatory.lab.session import Event, ObserverUpdate, Session


class Recorder:
    """The session's sink: the latest snapshot, and the server's messages since ``mark``."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.snapshot: Snapshot | None = None
        self._events: list[ServerEvent] = []
        self._start = 0
        self.session: Session | None = None

    def __call__(self, event: Event) -> None:
        with self._lock:
            if isinstance(event, ObserverUpdate):
                self.snapshot = event.snapshot
            elif isinstance(event, ServerEvent):
                self._events.append(event)

    def mark(self) -> None:
        with self._lock:
            self._start = len(self._events)

    def messages(self) -> list[Message]:
        assert self.session is not None
        with self._lock:
            events = self._events[self._start:]
        found = (message_of(e, self.session.registry) for e in events)
        return [m for m in found if m is not None]

    def evidence(self, step_id: str) -> tuple[Evidence, Snapshot | None]:
        assert self.session is not None
        snap = self.snapshot
        if snap is None:
            return Evidence(False, [], ["no snapshot yet"]), None
        ev = check_evidence(step_id, snap, self.messages(), self.session.mode,
                            port=self.session.port, lang="en")
        return ev, snap

    def describe(self, step_id: str) -> str:
        ev, snap = self.evidence(step_id)
        rows = "; ".join(f"{c.local}->{c.remote_text} {c.state} {c.role.kind.value}"
                         f" n={c.role.client} pid={c.pid}"
                         for c in (snap.connections if snap else ()))
        return f"evidence for {step_id}: missing {ev.missing}; rows: {rows}; " \
               f"messages: {self.messages()}"


Started = tuple[Session, Recorder]  # the session the fixture started, and its events


@pytest.fixture
def lab_session() -> Iterator[Started]:
    rec = Recorder()
    session = Session(port=0, source="psutil", interval=0.05, sink=rec)
    rec.session = session
    try:
        session.start(clients=0)
        yield session, rec
    finally:
        session.shutdown()


def reach(step_id: str, rec: Recorder) -> tuple[Evidence, Snapshot]:
    """Wait until the step's evidence is met; return it and the snapshot that met it."""

    def met() -> tuple[Evidence, Snapshot] | None:
        ev, snap = rec.evidence(step_id)
        return (ev, snap) if ev.met and snap is not None else None

    return wait_for(met, 15.0, message=lambda: rec.describe(step_id))


def same_from_json(step_id: str, snap: Snapshot, rec: Recorder, session: Session) -> Evidence:
    stored = [connection_from_json(c.to_json()) for c in snap.connections]
    assert stored == list(snap.connections)
    return check_evidence(step_id, stored, rec.messages(), session.mode, port=session.port)


@pytest.mark.parametrize("step_id", STEP_IDS)
def test_each_step_shows_its_evidence(lab_session: Started, step_id: str) -> None:
    session, rec = lab_session
    rec.mark()
    numbers = run_setup(session, step_id, play_student=True)
    assert numbers and all(n in session.clients for n in numbers)
    ev, snap = reach(step_id, rec)
    assert not ev.missing and ev.found
    assert same_from_json(step_id, snap, rec, session).met


def test_steps_in_lab_order_on_one_session(lab_session: Started) -> None:
    """As a student goes: each step's setup starts from what the previous one left."""
    session, rec = lab_session
    for step_id in STEP_IDS:
        rec.mark()
        run_setup(session, step_id, play_student=True)
        _ev, snap = reach(step_id, rec)
        assert same_from_json(step_id, snap, rec, session).met


def test_close_evidence_is_not_met_while_established(lab_session: Started) -> None:
    session, rec = lab_session
    rec.mark()
    run_setup(session, "p1-q1", play_student=True)
    _ev, snap = reach("p1-q1", rec)
    early = check_evidence("p1-q2", snap, rec.messages(), session.mode, lang="en")
    assert not early.met
    assert any("CLOSE_WAIT" in m for m in early.missing)
    assert any("Fin" in m for m in early.missing)


def test_single_server_second_client_is_queued_not_served(lab_session: Started) -> None:
    session, rec = lab_session
    rec.mark()
    first, second = run_setup(session, "p1-q3", play_student=True)
    _ev, snap = reach("p1-q3", rec)
    queued = [c for c in snap.connections if c.role.kind is RoleKind.QUEUED]
    assert [c.role.client for c in queued] == [second]
    assert {n for n, _ in rec.messages()} == {first}


def test_old_time_wait_does_not_prove_the_fin_step(lab_session: Started) -> None:
    """TIME_WAIT left by clients of an earlier step (removed, no "Fin") proves nothing."""
    session, rec = lab_session
    run_setup(session, "p2-q1", play_student=True)
    reach("p2-q1", rec)
    rec.mark()
    for number in list(session.clients):
        session.remove_client(number)

    def stale_time_wait() -> Snapshot | None:
        snap = rec.snapshot
        if snap is None:
            return None
        waits = [c for c in snap.connections
                 if c.state == "TIME_WAIT" and not c.role.server_side]
        return snap if waits else None

    snap = wait_for(stale_time_wait, 10.0, message=lambda: rec.describe("p2-fin"))
    ev = check_evidence("p2-fin", snap, rec.messages(), session.mode, lang="en")
    assert not ev.met
    assert rec.messages() == []


def test_a_setup_called_off_stops_waiting_at_once() -> None:
    """``wait_unless``: the wait a setup is in gives up when it is called off (the app
    quits, a new Ctrl+R), with SetupCancelled, not at the end of its timeout."""
    off = threading.Event()
    outcome: list[str] = []

    def setup() -> None:
        try:
            wait_unless(off.is_set)(lambda: False, 120)
            outcome.append("waited to the end")
        except SetupCancelled:
            outcome.append("called off")

    worker = threading.Thread(target=setup)
    worker.start()
    try:
        assert wait_unless(lambda: False)(lambda: True, 120)  # a met condition is met
        off.set()
        worker.join(30)
        assert outcome == ["called off"]
    finally:
        off.set()
        worker.join()
