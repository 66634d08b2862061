"""Poll a source off the caller's thread and hand each snapshot and its transitions on.

An action (a message, a "Fin") can ask for a poll at once with ``poll_now`` so that its
effect shows without waiting for the next tick.

Work follows change, not size: a socket whose record the source returns unchanged (the
same object: netlink does so; for other sources the observer finds the equal record of the
last poll) keeps its role and is not diffed again. The roles are all decided again only
when the registry of the app's own sockets changed. The polling adapts: when a poll costs
more than a fifth of the interval, the interval grows (and ``on_pace`` says so) instead of
polling back to back; it comes back when polls are cheap again.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable

from tcp_observatory.lab.observe import plumbing
from tcp_observatory.lab.observe.differ import Differ
from tcp_observatory.lab.observe.model import Connection, Endpoint, Snapshot, Transition
from tcp_observatory.lab.observe.plumbing import is_plumbing
from tcp_observatory.lab.observe.roles import Registry, classify
from tcp_observatory.lab.observe.sources import Source

Listener = Callable[[Snapshot, list[Transition]], None]
# (interval now used, what one poll costs): called when the interval had to grow, or came back.
Pace = Callable[[float, float], None]

BUDGET = 0.2  # the share of the interval a poll may cost before the interval grows
MAX_INTERVAL = 5.0


class Observer:
    def __init__(
        self,
        source: Source,
        port: int | None,
        listener: Listener,
        *,
        interval: float = 0.1,
        registry: Registry | None = None,
        all_ports: bool = False,
        on_error: Callable[[BaseException], None] | None = None,
        owners: bool = True,
        on_pace: Pace | None = None,
    ) -> None:
        if interval <= 0:
            raise ValueError("the polling interval must be greater than 0")
        self.source = source
        self.port = port
        self.all_ports = all_ports
        self.interval = interval
        self.registry = registry if registry is not None else Registry()
        self._listener = listener
        self._on_error = on_error
        self._differ = Differ()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._refilter = False
        self._held = False  # polls only when asked (``hold``)
        # Whether every socket's owner is wanted (a Process column is shown), or only the
        # lab port's, which roles need.
        self.owners = owners
        self._on_pace = on_pace
        self.effective_interval = interval  # grows while polls are too costly
        self.poll_cost = 0.0  # seconds: the median of the last polls
        self._costs: deque[float] = deque(maxlen=5)
        # id(record from the source) -> that record, and -> the same with its role. The
        # records are kept so that their ids stay theirs.
        self._records: dict[int, Connection] = {}
        self._roled: dict[int, Connection] = {}
        # key -> record, for sources that build every record afresh (psutil, netstat)
        self._by_key: dict[tuple[Endpoint, Endpoint | None], Connection] = {}
        self._version: tuple[int, int] = (-1, -1)
        self._seq = 0

    # -- control ---------------------------------------------------------------------------
    def start(self) -> None:
        if self._thread is not None:
            return
        self._thread = threading.Thread(target=self._run, name="observer", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 2.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout)
        self._thread = None

    def poll_now(self) -> None:
        """Ask for a poll as soon as possible (from any thread)."""
        self._wake.set()

    def hold(self) -> None:
        """Poll only when asked (``poll_now``), not every interval, until ``release``: while
        the app's window is being put together, a poll every interval tells nothing new and
        takes the interpreter from it (each poll's system calls hand it back and forth). The
        cost of those polls says nothing of the source either: it does not pace polling."""
        self._held = True

    def release(self) -> None:
        """Poll every interval again, starting now."""
        self._held = False
        self._wake.set()

    def set_all_ports(self, all_ports: bool) -> None:
        with self._lock:
            if all_ports != self.all_ports:
                self.all_ports = all_ports
                self._refilter = True
        self.poll_now()

    # -- polling ---------------------------------------------------------------------------
    def poll_once(self) -> tuple[Snapshot, list[Transition]]:
        """One poll on the calling thread: used by the loop, the CLI and tests."""
        with self._lock:
            wanted = None if self.all_ports else self.port
            raw = self.source.poll(wanted, owners=self.owners, lab_port=self.port)
            if raw.changed is None or raw.gone is None:  # the source did not compare
                raw = self._compare(raw)
            assert raw.changed is not None and raw.gone is not None
            version = (self.registry.version, plumbing.version())
            roled = self._roled
            if version != self._version:  # what the app owns changed: every role may too
                self._version = version
                records, gone = list(self._records.values()), []
                for old in raw.gone:
                    gone.extend(self._drop(old))
                # Every record still there is labelled again (and told as changed).
                records = [c for c in records if id(c) in self._records] + list(raw.changed)
                self._records.clear()
                previous, roled = roled, {}
                self._roled = roled
            else:
                records, gone, previous = list(raw.changed), [], {}
                for old in raw.gone:
                    gone.extend(self._drop(old))
            # The app's own wake-up sockets (TCP pairs on Windows) are not the lab's; one
            # registered after it was shown leaves as gone.
            plumbing_now = [c for c in records if is_plumbing(c.local, c.remote)]
            gone.extend(previous[id(c)] for c in plumbing_now if id(c) in previous)
            records = [c for c in records if not is_plumbing(c.local, c.remote)]
            changed = classify(records, self.port, self.registry,
                               owners_known=getattr(self.source, "owners_known", True))
            for r, c in zip(records, changed, strict=True):
                self._records[id(r)] = r
                roled[id(r)] = c
            self._seq += 1
            snap = Snapshot(raw.time, tuple(roled.values()), raw.source, raw.warning,
                            raw.duration, tuple(changed), tuple(gone), self._seq)
            if self._refilter:
                # A change of filter is not a change of state: no transitions for it.
                self._refilter = False
                self._differ.prime(snap)
                return snap, []
            return snap, self._differ.feed_delta(snap.time, changed, gone)

    def _drop(self, record: Connection) -> list[Connection]:
        """Forget a record the source no longer returns; its labelled form, if it had one."""
        key = id(record)
        if self._records.pop(key, None) is None:
            return []
        return [self._roled.pop(key)]

    def _compare(self, raw: Snapshot) -> Snapshot:
        """For a source that builds every record afresh (psutil, netstat): keep the last
        poll's object where the record is equal, and say what changed and what went."""
        last, now = self._by_key, {}
        records: list[Connection] = []
        changed: list[Connection] = []
        gone: list[Connection] = []
        for c in raw.connections:
            if c.key in now:
                continue  # listed twice (psutil may): one row
            before = last.pop(c.key, None)
            if before is not None and before == c:
                c = before
            else:
                changed.append(c)
                if before is not None:
                    gone.append(before)  # replaced: the old object leaves with its key
            now[c.key] = c
            records.append(c)
        self._by_key = now
        gone.extend(last.values())
        return raw._replace(connections=tuple(records), changed=tuple(changed),
                            gone=tuple(gone))

    def _pace(self, cost: float) -> None:
        """Grow the interval while polls cost more than their share; come back after.

        The cost is the median of the last five polls: one costly poll (a new program's
        sockets looked up in /proc) does not slow the next ones down.
        """
        self._costs.append(cost)
        self.poll_cost = _median(self._costs)
        wanted = self.interval
        if self.poll_cost > BUDGET * self.interval:
            wanted = min(MAX_INTERVAL, max(self.interval, round(self.poll_cost / BUDGET, 2)))
        before = self.effective_interval
        if wanted == before or (wanted != self.interval and abs(wanted - before) < 0.2 * before):
            return  # no flapping: only a change of a fifth or more, or the way back
        self.effective_interval = wanted
        if self._on_pace is not None:
            self._on_pace(wanted, self.poll_cost)

    def _run(self) -> None:
        while not self._stop.is_set():
            started = time.monotonic()
            self._wake.clear()
            held = self._held
            try:
                snap, transitions = self.poll_once()
                if not held:
                    self._pace(time.monotonic() - started)
            except Exception as exc:  # a failing source must not kill the thread silently
                if self._on_error is not None:
                    self._on_error(exc)
                self._stop.wait(max(self.interval, 1.0))
                continue
            if self._stop.is_set():
                break
            try:
                self._listener(snap, transitions)
            except Exception as exc:  # a failing consumer is reported, polling goes on
                if self._on_error is not None:
                    self._on_error(exc)
            if self._held:
                self._wake.wait()  # until someone asks for a poll (or release, or stop)
                continue
            # Sleep for what is left of the interval, unless someone asks for a poll.
            left = self.effective_interval - (time.monotonic() - started)
            if left > 0:
                self._wake.wait(left)


def _median(values: deque[float]) -> float:
    """statistics.median of a few values (that module costs the app's start ~5 ms)."""
    ordered = sorted(values)
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return ordered[middle]
    return (ordered[middle - 1] + ordered[middle]) / 2
