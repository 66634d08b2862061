"""Turn consecutive snapshots into transitions: appeared, changed, vanished.

Polling misses states that last microseconds on loopback. Where the TCP state machine
says a state must have been passed (ESTABLISHED -> FIN_WAIT_2 passed FIN_WAIT_1), the
differ emits it too, marked ``inferred``: never as observed.
"""

from __future__ import annotations

from collections.abc import Iterable

from tcp_observatory.lab.observe.model import Connection, Endpoint, Snapshot, Transition

Key = tuple[Endpoint, "Endpoint | None"]

# (from, to) observed -> states passed over in between, per RFC 793.
_PASSED_OVER: dict[tuple[str | None, str], tuple[str, ...]] = {
    ("ESTABLISHED", "FIN_WAIT_2"): ("FIN_WAIT_1",),
    ("ESTABLISHED", "TIME_WAIT"): ("FIN_WAIT_1", "FIN_WAIT_2"),
    ("ESTABLISHED", "LAST_ACK"): ("CLOSE_WAIT",),
    ("CLOSE_WAIT", "CLOSED"): ("LAST_ACK",),
    ("SYN_SENT", "FIN_WAIT_2"): ("ESTABLISHED", "FIN_WAIT_1"),
    ("SYN_SENT", "TIME_WAIT"): ("ESTABLISHED", "FIN_WAIT_1", "FIN_WAIT_2"),
    ("FIN_WAIT_1", "TIME_WAIT"): ("FIN_WAIT_2",),
}


class _Seen:
    __slots__ = ("connection", "since")

    def __init__(self, connection: Connection, since: float) -> None:
        self.connection = connection
        self.since = since


class Differ:
    """Keeps the last state of every connection; not thread-safe (one poller owns it)."""

    def __init__(self) -> None:
        self._seen: dict[Key, _Seen] = {}

    def reset(self) -> None:
        self._seen.clear()

    def prime(self, snapshot: Snapshot) -> None:
        """Adopt a snapshot without emitting anything (after a change of filter)."""
        current = snapshot.by_key()
        kept = {k: v for k, v in self._seen.items() if k in current and
                v.connection.state == current[k].state}
        self._seen = {k: kept.get(k, _Seen(c, snapshot.time)) for k, c in current.items()}

    def feed(self, snapshot: Snapshot) -> list[Transition]:
        """Every connection of the snapshot against the last seen: O(connections)."""
        current = snapshot.by_key()
        gone = [seen.connection for key, seen in self._seen.items() if key not in current]
        return self.feed_delta(snapshot.time, current.values(), gone)

    def feed_delta(self, now: float, changed: Iterable[Connection],
                   gone: Iterable[Connection]) -> list[Transition]:
        """Only what changed: ``changed``, the connections new or different since the last
        feed; ``gone``, those of the last feed no longer reported (by object: one whose key
        is among ``changed`` did not go, it changed). O(change), not O(connections)."""
        out: list[Transition] = []
        present: set[Key] = set()
        for conn in changed:
            key = conn.key
            present.add(key)
            seen = self._seen.get(key)
            if seen is None:
                out.append(Transition(now, conn, None, conn.state, None))
                self._seen[key] = _Seen(conn, now)
            elif seen.connection.state != conn.state:
                before = seen.connection.state
                out.extend(self._chain(now, conn, before, conn.state, now - seen.since))
                self._seen[key] = _Seen(conn, now)
            else:
                seen.connection = conn  # queues, timers and owner may change in place
        for old in gone:
            key = old.key
            if key in present:
                continue
            vanished = self._seen.pop(key, None)
            if vanished is not None:
                out.extend(self._chain(now, vanished.connection, vanished.connection.state,
                                       "CLOSED", now - vanished.since))
        return out

    @staticmethod
    def _chain(now: float, conn: Connection, before: str, after: str,
               lasted: float) -> list[Transition]:
        """``before`` → ``after``, through the states the machine says were passed over.

        Each step starts where the previous one ended (ESTABLISHED → FIN_WAIT_1 →
        FIN_WAIT_2 → TIME_WAIT), so every "from" is the state last seen or inferred for
        the socket. How long ``before`` lasted goes on the first step: it is the state
        that was observed for that long; the passed-over ones have no known duration.
        """
        states = (before, *_PASSED_OVER.get((before, after), ()), after)
        last = len(states) - 2
        return [
            Transition(now, conn, states[i], states[i + 1], lasted if i == 0 else None,
                       inferred=i < last)
            for i in range(len(states) - 1)
        ]
