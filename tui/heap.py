"""Keep a big table's long-lived records out of the garbage collector's full passes.

With every connection of a busy machine shown (10,000 rows), the app holds about a million
Python objects that live as long as their socket. CPython's full collection (generation 2)
walks all of them: ~170 ms here, during which no key is answered, and connections that
come and go (a browser's) trigger one every few seconds. ``gc.freeze()`` moves the objects
alive now out of the collector's sight: they are still freed by reference counting when
their row goes, but no longer walked. Fresh rows are frozen in turn once they are a
quarter of the table. A small table (a lab: tens of rows) never freezes anything.
"""

from __future__ import annotations

import gc

FREEZE_AT = 1000  # rows: below this a full collection is cheap


class Heap:
    def __init__(self, at_least: int = FREEZE_AT) -> None:
        self.at_least = at_least
        self.freezes = 0
        self._added = 0

    def grew(self, added: int, kept: int) -> bool:
        """``added`` rows (or lines) came since the last call, ``kept`` are held now:
        freeze what lives now if those not yet frozen are many. True if it froze."""
        self._added += added
        if kept < self.at_least or self._added < max(self.at_least, kept // 4):
            return False
        # Garbage is collected first, so that none is frozen with the living: a full pass,
        # but over what is not frozen yet (the first time everything, ~0.2 s at 10,000
        # rows, during the first look at them; then the newer objects alone).
        gc.collect()
        gc.freeze()
        self._added = 0
        self.freezes += 1
        return True

    def release(self) -> None:
        """Give the frozen objects back to the collector (the table is going away)."""
        if self.freezes:
            gc.unfreeze()
            self.freezes = 0
