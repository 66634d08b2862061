"""Poll a source off the caller's thread and hand each snapshot and its transitions on.

An action (a message, a "Fin") can ask for a poll at once with ``poll_now`` so that its
effect shows without waiting for the next tick.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from lab.observe.differ import Differ
from lab.observe.model import Snapshot, Transition
from lab.observe.plumbing import is_plumbing
from lab.observe.roles import Registry, classify
from lab.observe.sources import Source

Listener = Callable[[Snapshot, list[Transition]], None]


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
            raw = self.source.poll(wanted)
            # The app's own wake-up sockets (TCP pairs on Windows) are not the lab's.
            mine = [c for c in raw.connections if not is_plumbing(c.local, c.remote)]
            conns = classify(mine, self.port, self.registry,
                             owners_known=getattr(self.source, "owners_known", True))
            snap = Snapshot(raw.time, tuple(conns), raw.source, raw.warning, raw.duration)
            if self._refilter:
                # A change of filter is not a change of state: no transitions for it.
                self._refilter = False
                self._differ.prime(snap)
                return snap, []
            return snap, self._differ.feed(snap)

    def _run(self) -> None:
        while not self._stop.is_set():
            started = time.monotonic()
            self._wake.clear()
            try:
                snap, transitions = self.poll_once()
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
            # Sleep for what is left of the interval, unless someone asks for a poll.
            left = self.interval - (time.monotonic() - started)
            if left > 0:
                self._wake.wait(left)
