"""The snapshot differ, on hand-made snapshots: appeared, changed, vanished, inferred."""

from __future__ import annotations

import itertools

import pytest
from support import conn

from tcp_observatory.lab.observe.differ import Differ
from tcp_observatory.lab.observe.model import Connection, Endpoint, Snapshot, Transition

SERVER = Endpoint("127.0.0.1", 9500)


def snap(t: float, *connections: Connection) -> Snapshot:
    return Snapshot(time=t, connections=connections, source="test")


def brief(transitions: list[Transition]) -> list[tuple[object, ...]]:
    return [(tr.connection.local.port, tr.from_state, tr.to_state, tr.duration, tr.inferred)
            for tr in transitions]


def test_appeared_changed_vanished_with_durations() -> None:
    d = Differ()
    assert brief(d.feed(snap(10.0, conn(1, SERVER, "ESTABLISHED")))) == [
        (1, None, "ESTABLISHED", None, False)]
    assert d.feed(snap(11.0, conn(1, SERVER, "ESTABLISHED"))) == []
    assert brief(d.feed(snap(12.5, conn(1, SERVER, "TIME_WAIT")))) == [
        (1, "ESTABLISHED", "FIN_WAIT_1", 2.5, True),
        (1, "FIN_WAIT_1", "FIN_WAIT_2", None, True),
        (1, "FIN_WAIT_2", "TIME_WAIT", None, False),
    ]
    gone = d.feed(snap(14.0))
    assert brief(gone) == [(1, "TIME_WAIT", "CLOSED", 1.5, False)]
    assert gone[0].time == 14.0


def test_fin_wait_2_infers_fin_wait_1_first() -> None:
    d = Differ()
    d.feed(snap(0.0, conn(1, SERVER, "ESTABLISHED")))
    out = d.feed(snap(1.0, conn(1, SERVER, "FIN_WAIT_2")))
    assert brief(out) == [
        (1, "ESTABLISHED", "FIN_WAIT_1", 1.0, True),
        (1, "FIN_WAIT_1", "FIN_WAIT_2", None, False),
    ]
    assert out[0].to_json()["inferred"] is True
    assert out[1].to_json()["inferred"] is False


def test_close_wait_vanishing_infers_last_ack() -> None:
    d = Differ()
    d.feed(snap(0.0, conn(1, SERVER, "CLOSE_WAIT", pid=7, process="python")))
    out = d.feed(snap(3.0))
    assert brief(out) == [
        (1, "CLOSE_WAIT", "LAST_ACK", 3.0, True),
        (1, "LAST_ACK", "CLOSED", None, False),
    ]
    # A vanished connection is reported as it was last seen.
    assert out[-1].connection.pid == 7 and out[-1].connection.process == "python"


def test_a_state_seen_directly_is_not_inferred() -> None:
    d = Differ()
    d.feed(snap(0.0, conn(1, SERVER, "ESTABLISHED")))
    assert brief(d.feed(snap(1.0, conn(1, SERVER, "FIN_WAIT_1")))) == [
        (1, "ESTABLISHED", "FIN_WAIT_1", 1.0, False)]
    assert brief(d.feed(snap(2.0, conn(1, SERVER, "FIN_WAIT_2")))) == [
        (1, "FIN_WAIT_1", "FIN_WAIT_2", 1.0, False)]
    assert brief(d.feed(snap(3.0, conn(1, SERVER, "TIME_WAIT")))) == [
        (1, "FIN_WAIT_2", "TIME_WAIT", 1.0, False)]


def test_several_connections_are_independent() -> None:
    d = Differ()
    d.feed(snap(0.0, conn(1, SERVER, "ESTABLISHED"), conn(2, SERVER, "ESTABLISHED")))
    out = d.feed(snap(2.0, conn(2, SERVER, "CLOSE_WAIT"), conn(3, SERVER, "SYN_SENT")))
    assert sorted(brief(out), key=lambda x: (x[0], x[3] is None)) == [
        (1, "ESTABLISHED", "CLOSED", 2.0, False),
        (2, "ESTABLISHED", "CLOSE_WAIT", 2.0, False),
        (3, None, "SYN_SENT", None, False),
    ]


def test_prime_emits_nothing_and_keeps_durations() -> None:
    d = Differ()
    d.feed(snap(0.0, conn(1, SERVER, "ESTABLISHED"), conn(2, SERVER, "ESTABLISHED")))
    # The filter changed: port 3 comes into view, 2 leaves it, 1 is unchanged.
    primed = snap(5.0, conn(1, SERVER, "ESTABLISHED"), conn(3, SERVER, "LISTEN"))
    assert d.prime(primed) is None  # type: ignore[func-returns-value]  # it says nothing
    assert d.feed(snap(6.0, conn(1, SERVER, "ESTABLISHED"), conn(3, SERVER, "LISTEN"))) == []
    out = d.feed(snap(8.0, conn(1, SERVER, "CLOSE_WAIT"), conn(3, SERVER, "LISTEN")))
    assert brief(out) == [(1, "ESTABLISHED", "CLOSE_WAIT", 8.0, False)]


def test_prime_on_a_fresh_differ_then_changes() -> None:
    d = Differ()
    d.prime(snap(1.0, conn(1, SERVER, "ESTABLISHED")))
    assert d.feed(snap(2.0, conn(1, SERVER, "ESTABLISHED"))) == []
    assert brief(d.feed(snap(4.0))) == [(1, "ESTABLISHED", "CLOSED", 3.0, False)]


def test_queues_change_in_place_without_a_transition() -> None:
    d = Differ()
    d.feed(snap(0.0, conn(1, SERVER, "ESTABLISHED", recv_q=0)))
    assert d.feed(snap(1.0, conn(1, SERVER, "ESTABLISHED", recv_q=12, pid=5))) == []
    (gone,) = d.feed(snap(2.0))
    assert gone.connection.recv_q == 12 and gone.connection.pid == 5
    assert gone.duration == 2.0


def test_reset_forgets_everything() -> None:
    d = Differ()
    d.feed(snap(0.0, conn(1, SERVER, "ESTABLISHED")))
    d.reset()
    assert brief(d.feed(snap(1.0, conn(1, SERVER, "ESTABLISHED")))) == [
        (1, None, "ESTABLISHED", None, False)]


def test_transition_json() -> None:
    listener = Connection(local=SERVER, remote=None, state="LISTEN", pid=3, process="python")
    (tr,) = Differ().feed(snap(1.0, listener))
    data = tr.to_json()
    assert data == {
        "time": 1.0, "local": "127.0.0.1:9500", "remote": "0.0.0.0:0", "from": None,
        "to": "LISTEN", "duration": None, "inferred": False, "pid": 3, "process": "python",
        "role": "other", "client": None,
    }


@pytest.mark.parametrize(
    ("before", "after", "passed"),
    [
        ("ESTABLISHED", "LAST_ACK", ["CLOSE_WAIT"]),
        ("SYN_SENT", "FIN_WAIT_2", ["ESTABLISHED", "FIN_WAIT_1"]),
        ("FIN_WAIT_1", "TIME_WAIT", ["FIN_WAIT_2"]),
        ("SYN_SENT", "ESTABLISHED", []),
        ("LAST_ACK", "CLOSED", []),
    ],
)
def test_inferred_chains(before: str, after: str, passed: list[str]) -> None:
    d = Differ()
    d.feed(snap(0.0, conn(1, SERVER, before)))
    out = d.feed(snap(1.0, *([] if after == "CLOSED" else [conn(1, SERVER, after)])))
    assert [tr.to_state for tr in out if tr.inferred] == passed
    # Every "from" is the state last seen or inferred: the chain is unbroken.
    chain = [before, *passed, after]
    assert [(tr.from_state, tr.to_state) for tr in out] == list(itertools.pairwise(chain))
    assert [tr.inferred for tr in out] == [True] * len(passed) + [False]
    assert out[0].duration == 1.0 and all(tr.duration is None for tr in out[1:])
