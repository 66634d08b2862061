"""The live table of the kernel's TCP connections, updated in place.

Rows are keyed by (local, remote) and updated cell by cell, never cleared, so the cursor
and scroll stay where the user put them. A row that appears, changes state or vanishes is
highlighted for a moment (TCPView's green / yellow / red), and a vanished row lingers
before it goes. Every cell is a ``Text``: addresses like ``[::1]`` are never read as markup.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence

from rich.style import Style
from rich.text import Text
from textual import events
from textual.binding import Binding
from textual.geometry import Size
from textual.message import Message
from textual.widgets import DataTable
from textual.widgets.data_table import ColumnKey, RowKey

from tcp_observatory.lab.i18n import t
from tcp_observatory.lab.observe.model import Connection, Endpoint, RoleKind, Snapshot, Transition
from tcp_observatory.lab.observe.roles import describe_role
from tcp_observatory.lab.records import record
from tcp_observatory.tui.heap import Heap
from tcp_observatory.tui.theme import DIM_STYLE, EARLIER_STYLE, FLASH_STYLE, state_style
from tcp_observatory.tui.widgets.fast_table import FastTable

# A row left by an earlier step: dimmed, and this mark before its role (at 80 columns,
# where the role and the process share a column, before the process: the shorter line); the
# table's lower border says what both mean.
EARLIER_MARK = "↺ "

# Most telling first: a narrow screen scrolls sideways to the rest.
COLUMNS = ("proto", "local", "remote", "state", "role", "process", "age", "queues", "timer")
# Presentation mode: what the room needs, nothing more ("local" and "remote" must stay).
PRESENT_COLUMNS = ("role", "state", "local", "remote", "age")
_ROLE_ORDER = {
    RoleKind.LISTENER: 0,
    RoleKind.SERVER: 1,
    RoleKind.QUEUED: 1,
    RoleKind.CLIENT: 2,
    RoleKind.EXTERNAL: 3,
    RoleKind.ORPHANED: 4,
    RoleKind.OTHER: 5,
}
# When the table is narrow, columns give way whole (a header cut to "Depu" tells nothing),
# the least telling first (Proto: it always says TCP); the addresses and the state stay.
GIVE_WAY = ("proto", "timer", "queues", "age", "process", "role")
ALWAYS = ("local", "remote", "state")  # which connection a row is, and its state
# Where a step's columns do not fit side by side (80 columns), two of them share a column,
# one above the other, and each row takes two lines: the step's picture does the same.
STACKED = {"addresses": ("local", "remote"), "who": ("role", "process")}
STACKED_SCROLLBAR = 1  # app.tcss: the vertical scrollbar of rows of two lines, in cells
# The widest a cell of each column usually is, before any row is there to measure.
TYPICAL = {"proto": 5, "local": 15, "remote": 15, "state": 11, "role": 18, "process": 16,
           "age": 8, "queues": 9, "timer": 13, "addresses": 17, "who": 18}
MEASURED_ROWS = 300  # rows sampled to measure a column
# Past this many rows the "for" column stops ticking every second (it still updates on change).
TICK_LIMIT = 400
# Up to this many rows a new row is put in its place at once; past it, once a second.
SORT_AT_ONCE = 1000
# More transitions than this in one update (the first look at a busy machine): no highlight.
BULK = 50


Key = tuple[Endpoint, Endpoint | None]  # a connection's (local, remote)


def row_key(c: Connection) -> str:
    return f"{c.local}|{c.remote_text}"


def stack(columns: Sequence[str]) -> tuple[str, ...]:
    """The columns with the two addresses in one, and the role and the process in one
    (each where both are there), at the place of the first of the two."""
    out: list[str] = []
    for col in columns:
        for name, parts in STACKED.items():
            if col in parts and all(p in columns for p in parts):
                col = name
        if col not in out:
            out.append(col)
    return tuple(out)


def parts(columns: Sequence[str]) -> tuple[str, ...]:
    """The plain columns behind these (a stacked column stands for its two)."""
    return tuple(p for c in columns for p in STACKED.get(c, (c,)))


def scroll_order(wanted: Sequence[str], reads: Sequence[str],
                 asks: Sequence[str]) -> tuple[str, ...]:
    """The columns of a table too narrow for all that a step reads (80 columns): it scrolls
    sideways, so what is in view at first is what the step needs most: the addresses and
    the state, what its question asks about, the rest of what it reads, then the others,
    Proto last (it always says TCP)."""
    head = [c for c in (*ALWAYS, *asks) if c in wanted]
    head = list(dict.fromkeys(head))
    rest = [c for c in wanted if c in reads and c not in head]
    others = [c for c in wanted if c not in head and c not in rest and c != "proto"]
    return (*head, *rest, *others, *(["proto"] if "proto" in wanted else []))


_SHARED: dict[tuple[str, str | Style], Text] = {}


def _shared(text: str, style: str | Style = "") -> Text:
    """One Text for every unhighlighted cell that reads ``text`` in ``style`` (never styled
    after: a highlighted row builds its own)."""
    key = (text, style)
    cell = _SHARED.get(key)
    if cell is None:
        if len(_SHARED) > 20_000:
            _SHARED.clear()
        cell = _SHARED[key] = Text(text, style=style)
    return cell


def _cell_width(cell: Text) -> int:
    """The cells its widest line takes (a stacked cell has two)."""
    if "\n" not in cell.plain:
        return cell.cell_len
    return max((line.cell_len for line in cell.split()), default=0)


def _same(a: Text, b: Text) -> bool:
    return a.plain == b.plain and a.style == b.style and a.spans == b.spans


def format_age(seconds: float) -> str:
    seconds = max(0.0, seconds)
    if seconds < 60:
        return f"{int(seconds)} s"
    minutes, sec = divmod(int(seconds), 60)
    if minutes < 60:
        return f"{minutes} min {sec:02d}"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d}"


@record
class _Row:
    conn: Connection
    since: float  # when it was first seen in its current state
    flash: str | None = None
    flash_until: float = 0.0
    gone_at: float | None = None


class ConnectionsTable(FastTable):
    # Sorting without a mouse (a projector's keyboard): s cycles the column, the lab's
    # own order first; a second press on the same column is not needed to reverse: S does.
    BINDINGS = [
        Binding("s", "cycle_sort", "Sort", show=False),
        Binding("S", "reverse_sort", "Reverse", show=False),
    ]

    def __init__(
        self,
        lang: str,
        *,
        clock: Callable[[], float] = time.time,
        flash_seconds: float = 1.5,
        linger_seconds: float = 2.5,
        id: str | None = None,
    ) -> None:
        super().__init__(id=id)
        self.lang = lang
        self._clock = clock
        self.flash_seconds = flash_seconds
        self.linger_seconds = linger_seconds
        self.rows_by_key: dict[str, _Row] = {}
        self._sort_column: str | None = None
        self._sort_reverse = False
        self._last_tick = 0.0
        self.shown: tuple[str, ...] = COLUMNS
        self._seq = 0  # the observer's number of the snapshot applied last
        self._flashing: set[str] = set()  # rows highlighted or lingering: what tick visits
        self._unsorted = False
        # Changes of rows off the lab port kept for the next flush (a big table)
        self._later_transitions: list[Transition] = []
        self._later_current: dict[str, Connection] = {}
        self._later_leaving: set[str] = set()
        self.heap = Heap()  # thousands of rows: kept out of the collector's full passes
        self._added = 0  # rows added since the heap last heard
        # Connections from before the current step: shown (the kernel still holds them),
        # dimmed and said to be earlier, after the step's own rows.
        self.earlier: frozenset[Key] = frozenset()
        # Stepping through recorded moments: the instant shown (time in state is counted
        # up to it); None: now.
        self.as_of: float | None = None
        self._size_heard = Size(0, 0)  # the size the app last heard of (Resized)

    class Resized(Message):
        """The table's size changed (the window's, or the panes' around it): the app fits
        the step's columns to it again, and keeps the steps panel below it."""

    def on_mount(self) -> None:
        self._add_columns()

    def on_resize(self, event: events.Resize) -> None:
        if event.size != self._size_heard:  # rows added or removed change the virtual size
            self._size_heard = event.size
            self.post_message(self.Resized())

    def _add_columns(self) -> None:
        for col in self.shown:
            self.add_column(Text(t(f"col.{col}", self.lang)), key=col)

    def set_shown(self, columns: tuple[str, ...]) -> None:
        """Show only these columns (presentation mode shows fewer); rows are kept. With a
        stacked column (``STACKED``) every row takes two lines."""
        self.shown = columns
        self.line_height = 2 if any(c in STACKED for c in columns) else 1
        snapshot_rows = list(self.rows_by_key.items())
        self.clear(columns=True)
        self._add_columns()
        now = self._clock()
        for key, row in snapshot_rows:
            self._add(key, row, now)
        self.resort()

    def fit(self, width: int, wanted: tuple[str, ...], keep: tuple[str, ...] = (),
            asks: tuple[str, ...] = ()) -> bool:
        """Show those of ``wanted`` that fit whole in ``width`` cells, the ones in ``keep``
        (what the current step reads) giving way last, and never the addresses, the state
        or what the step asks about (``asks``); True if it changed."""
        widths = self._widths(wanted)
        pad = 2 * self.cell_padding
        shown = list(wanted)
        order = [c for c in GIVE_WAY if c not in keep] + [
            c for c in GIVE_WAY if c in keep and c not in asks]
        for col in order:
            if sum(widths[c] + pad for c in shown) <= width:
                break
            if col in shown:
                shown.remove(col)
        if tuple(shown) == self.shown:
            return False
        self.set_shown(tuple(shown))
        return True

    def needed(self, columns: Sequence[str]) -> int:
        """The cells these columns take, whole, with the rows shown now."""
        widths = self._widths(tuple(columns))
        return sum(widths[c] + 2 * self.cell_padding for c in columns)

    def overflows(self) -> bool:
        """Whether a column is cut at the right edge (the rows grew wider than the view)."""
        return self.virtual_size.width > self.scrollable_content_region.width

    def _widths(self, columns: tuple[str, ...]) -> dict[str, int]:
        widths = {c: max(TYPICAL[c], Text(t(f"col.{c}", self.lang)).cell_len) for c in columns}
        now = self._clock()
        for i, row in enumerate(self.rows_by_key.values()):
            if i >= MEASURED_ROWS:
                break
            cells = self._cells(row, now, stacked=any(c in STACKED for c in columns))
            for c in columns:
                widths[c] = max(widths[c], _cell_width(cells[c]))
        return widths

    def set_earlier(self, keys: frozenset[Key]) -> None:
        """Mark the rows of these connections as from before the current step."""
        if keys == self.earlier:
            return
        changed = keys ^ self.earlier
        self.earlier = keys
        # The mark in a row is short (its role column must not push Process out): the
        # table's lower border says what it means.
        shown = sum(1 for row in self.rows_by_key.values() if row.conn.key in keys)
        self.border_subtitle = (Text(t("table.earlier", self.lang, n=shown),
                                     style=EARLIER_STYLE) if shown else None)
        now = self._clock()
        moved = False
        for key, row in self.rows_by_key.items():
            if row.conn.key in changed:
                self._write_row(key, row, now)
                moved = True
        if moved:
            self._unsorted = True
            if len(self.rows_by_key) <= SORT_AT_ONCE:
                self.resort()
        self.commit()

    def on_unmount(self) -> None:
        self.heap.release()

    def _add(self, key: str, row: _Row, now: float) -> None:
        self._added += 1
        cells = self._cells(row, now, stacked=self.line_height > 1)
        self.add_row(*(cells[c] for c in self.shown), key=key, height=self.line_height)

    # -- rendering -------------------------------------------------------------------------
    def _cells(self, row: _Row, now: float, *, stacked: bool = False) -> dict[str, Text]:
        """Each column's cell; with ``stacked``, the stacked columns' too."""
        if self.as_of is not None:
            now = self.as_of  # a past moment: time in state up to then, not up to now
        c = row.conn
        flash = FLASH_STYLE.get(row.flash or "") if row.flash else None
        gone = row.gone_at is not None
        state = "CLOSED" if gone else c.state
        queues = "" if c.recv_q is None else f"{c.recv_q}/{c.send_q}"
        timer = ""
        if c.timer and c.timer_left is not None:
            timer = f"{c.timer} {c.timer_left:.0f} s"
            if c.retransmits:
                timer += f" ×{c.retransmits}"
        if c.process:
            process = f"{c.process} ({c.pid})" if c.pid else c.process
        elif c.pid:
            process = f"pid {c.pid}"
        elif c.role.kind is RoleKind.QUEUED:
            process = "-"  # nobody owns it until accept() returns it
        elif c.inode:
            process = t("proc.unknown", self.lang)  # held, by a process not read (yet)
        else:
            process = t("proc.orphaned", self.lang)
        # A highlighted row's cells are its own (they are styled); the others share the
        # cells that read the same ("TCP", "ESTABLISHED", "other"...): with thousands of
        # rows, most of a row's cells are a few distinct ones.
        cell = Text if flash is not None else _shared
        role = describe_role(c.role, self.lang)
        earlier = c.key in self.earlier
        if earlier:  # still in the kernel, from an earlier step: said so, and dimmed
            role = EARLIER_MARK + role
            cells = {
                "proto": cell(c.proto, EARLIER_STYLE),
                "local": Text(str(c.local), style=EARLIER_STYLE),
                "remote": Text(c.remote_text, style=EARLIER_STYLE),
                "state": cell(state, state_style(state) + EARLIER_STYLE),
                "queues": cell(queues, EARLIER_STYLE),
                "timer": cell(timer, EARLIER_STYLE),
                "process": cell(process, EARLIER_STYLE),
                "role": cell(role, EARLIER_STYLE),
                "age": cell(format_age(now - row.since), EARLIER_STYLE),
            }
        else:
            cells = {
                "proto": cell(c.proto),
                "local": Text(str(c.local)),
                "remote": Text(c.remote_text),
                "state": cell(state, state_style(state)),
                "queues": cell(queues),
                "timer": cell(timer),
                "process": cell(process, DIM_STYLE if not c.pid else ""),
                "role": cell(role),
                "age": cell(format_age(now - row.since)),
            }
        if flash is not None:
            for text in cells.values():
                text.stylize(flash)
        if stacked:
            cells["addresses"] = Text.assemble(cells["local"], " →\n", cells["remote"])
            role_cell, process_cell = cells["role"], cells["process"]
            if earlier:  # the mark on the shorter line: the role's can be 30 cells long
                role_cell = role_cell[len(EARLIER_MARK):]
                process_cell = Text.assemble(Text(EARLIER_MARK, style=EARLIER_STYLE),
                                             process_cell)
            cells["who"] = Text.assemble(role_cell, "\n", process_cell)
            if flash is not None:
                cells["who"].stylize(flash)
        return cells

    def _write_row(self, key: str, row: _Row, now: float, only: tuple[str, ...] = COLUMNS) -> None:
        stacked = self.line_height > 1
        cells = self._cells(row, now, stacked=stacked)
        row_key = RowKey(key)
        for col in self.shown:
            if col not in only and not (stacked and any(p in only for p in STACKED.get(col, ()))):
                continue
            column_key = ColumnKey(col)
            before = self.written_cell(row_key, column_key)
            if before is not None and _same(before, cells[col]):
                continue  # unchanged: a cell written makes the whole table draw again
            # Re-measure a column only when this cell no longer fits (measuring is O(rows)).
            wide = _cell_width(cells[col]) if stacked else cells[col].cell_len
            wider = wide > self.columns[col].content_width  # type: ignore[index]
            self.set_cell(row_key, column_key, cells[col], wider)

    # -- updates ---------------------------------------------------------------------------
    def apply(self, snapshot: Snapshot, transitions: Sequence[Transition] = (), *,
              linger: bool = True, as_of: float | None = None,
              since: Mapping[str, float] | None = None) -> None:
        """Bring the table to a snapshot, by the transitions the observer computed.

        The observer's differ is the one diff: a row is new, changed or gone because a
        transition says so, and its time in state starts at that transition's time. Rows
        that leave the snapshot without one (a filter changed, a step's scene hid them)
        leave the view quietly. ``linger=False`` (stepping through recorded moments) shows
        exactly the kernel's rows at that moment: nothing lingers.

        The snapshot that follows the one applied last is applied by what changed and what
        went alone (the observer says which): with thousands of rows, a poll where little
        changed costs little.

        ``as_of`` (a recorded moment stepped to) counts time in state up to that moment,
        not up to now; ``since`` (row key -> when its state began, from the history) gives
        the rows their time in state at a moment stepped to or back from.
        """
        now = self._clock()
        ages = as_of != self.as_of  # every "for" cell reads differently
        self.as_of = as_of
        incremental = (linger and snapshot.seq != 0 and snapshot.seq == self._seq + 1
                       and snapshot.changed is not None and snapshot.gone is not None)
        self._seq = snapshot.seq
        if not incremental:
            self._later_transitions.clear()
            self._later_current.clear()
            self._later_leaving.clear()
            current = {row_key(c): c for c in snapshot.connections}
            leaving = [k for k in self.rows_by_key if k not in current]
            reorder = self._apply_parts(transitions, current, leaving, now, snapshot.time,
                                        linger)
        else:
            assert snapshot.changed is not None and snapshot.gone is not None
            current = {row_key(c): c for c in snapshot.changed}
            gone = [(k, c) for k, c in ((row_key(c), c) for c in snapshot.gone)
                    if k not in current]
            if len(self.rows_by_key) > SORT_AT_ONCE:
                # Thousands of rows: each change makes the table lay out every row again.
                # The lab port's rows change at once; the others', once a second.
                current, gone, transitions = self._defer(current, gone, transitions)
            reorder = self._apply_parts(transitions, current, [k for k, _ in gone], now,
                                        snapshot.time, linger)
        for key, began in (since or {}).items():
            row = self.rows_by_key.get(key)
            if row is not None and row.since != began and row.gone_at is None:
                row.since = began
                if not ages:
                    self._write_row(key, row, now, ("age",))
        if ages:
            for key, row in self.rows_by_key.items():
                self._write_row(key, row, now, ("age",))
        self.tick(now)
        if reorder:
            self._unsorted = True
            if len(self.rows_by_key) <= SORT_AT_ONCE:
                self.resort()
        if self._added:
            self.heap.grew(self._added, len(self.rows_by_key))
            self._added = 0
        self.commit()

    def _defer(self, current: dict[str, Connection], gone: list[tuple[str, Connection]],
               transitions: Sequence[Transition],
               ) -> tuple[dict[str, Connection], list[tuple[str, Connection]], list[Transition]]:
        """Keep the changes of rows off the lab port for the next flush; return the rest."""
        now_current: dict[str, Connection] = {}
        for key, conn in current.items():
            if conn.role.kind is RoleKind.OTHER:
                self._later_current[key] = conn
                self._later_leaving.discard(key)
            else:
                now_current[key] = conn
        now_gone = []
        for key, conn in gone:
            if conn.role.kind is RoleKind.OTHER:
                self._later_leaving.add(key)
                self._later_current.pop(key, None)
            else:
                now_gone.append((key, conn))
        now_transitions = []
        for tr in transitions:
            if tr.connection.role.kind is RoleKind.OTHER:
                self._later_transitions.append(tr)
            else:
                now_transitions.append(tr)
        return now_current, now_gone, now_transitions

    def _flush(self, now: float) -> None:
        """Apply the changes kept back by ``_defer``."""
        if not (self._later_transitions or self._later_current or self._later_leaving):
            return
        transitions, self._later_transitions = self._later_transitions, []
        current, self._later_current = self._later_current, {}
        leaving, self._later_leaving = list(self._later_leaving), set()
        if self._apply_parts(transitions, current, leaving, now, now, True):
            self._unsorted = True

    def _apply_parts(self, transitions: Sequence[Transition], current: dict[str, Connection],
                     leaving: list[str], now: float, seen_at: float, linger: bool) -> bool:
        """Transitions, then rows new or changed (``current``), then rows that left quietly;
        True if rows came or changed state (the order may have changed)."""
        reorder = False
        bulk = len(transitions) > BULK
        for tr in transitions:
            if tr.inferred:
                continue  # the table shows what was observed
            key = row_key(tr.connection)
            row = self.rows_by_key.get(key)
            if tr.to_state == "CLOSED":
                if row is not None and row.gone_at is None and linger:
                    row.gone_at, row.since = now, tr.time
                    self._flash(key, row, "gone", now + self.linger_seconds)
                    self._write_row(key, row, now)
                continue
            conn = current.get(key)
            if conn is None:
                continue  # not in the view: hidden by the step's scene, or filtered out
            if row is None:
                row = _Row(conn, tr.time)
                if not bulk:  # hundreds of rows at once (a first look) are not news
                    self._flash(key, row, "new", now + self.flash_seconds)
                self.rows_by_key[key] = row
                self._add(key, row, now)
                reorder = True
            else:
                row.conn, row.since, row.gone_at = conn, tr.time, None
                self._flash(key, row, "new" if tr.from_state is None else "changed",
                            now + self.flash_seconds)
                self._write_row(key, row, now)
                reorder = True
        for key, conn in current.items():
            row = self.rows_by_key.get(key)
            if row is None:  # in view without a transition: a filter or a scene changed
                row = _Row(conn, seen_at)
                self.rows_by_key[key] = row
                self._add(key, row, now)
                reorder = True
            elif row.gone_at is not None or (row.conn is not conn and row.conn != conn):
                # A row said gone that the kernel holds again (a server restarted between
                # two polls: its listener went and came back, and the transitions reached
                # the view with the snapshot before) is the kernel's again: it must not
                # linger out of the table while the socket is there.
                if row.gone_at is not None or row.conn.state != conn.state:
                    row.since, row.gone_at = seen_at, None  # or a moment stepped to
                row.conn = conn
                self._write_row(key, row, now)
        out = []
        for key in leaving:
            row = self.rows_by_key.get(key)
            if row is not None and (row.gone_at is None or not linger):
                del self.rows_by_key[key]
                self._flashing.discard(key)
                out.append(key)
        self._remove_rows(out)
        return reorder

    def _remove_rows(self, keys: list[str]) -> None:
        """Remove rows: several, or any in a big table, with one renumbering."""
        if keys:
            self.remove_rows(keys, batch=len(keys) > 4 or len(self.rows) > SORT_AT_ONCE)

    def _flash(self, key: str, row: _Row, kind: str, until: float) -> None:
        row.flash, row.flash_until = kind, until
        self._flashing.add(key)

    def tick(self, now: float | None = None) -> None:
        """Expire highlights and lingering rows; refresh the "for" column once a second.

        Only the highlighted rows are visited; a big table is sorted here, at most once a
        second, rather than at every poll that adds a row."""
        now = self._clock() if now is None else now
        second = now - self._last_tick >= 1.0
        # A row leaving a big table costs a renumbering of every row (~20 ms at 10,000,
        # and a new layout): such rows leave together, once a second.
        remove = second or len(self.rows_by_key) <= SORT_AT_ONCE
        expired = []
        for key in list(self._flashing):
            row = self.rows_by_key.get(key)
            if row is None:
                self._flashing.discard(key)
            elif row.gone_at is not None:
                if remove and now >= row.gone_at + self.linger_seconds:
                    del self.rows_by_key[key]
                    self._flashing.discard(key)
                    expired.append(key)
            elif row.flash and now >= row.flash_until:
                row.flash = None
                self._flashing.discard(key)
                self._write_row(key, row, now)
            elif not row.flash:
                self._flashing.discard(key)
        if expired:
            self._remove_rows(expired)
        if second:
            self._last_tick = now
            self._flush(now)
            if self._unsorted and len(self.rows_by_key) > SORT_AT_ONCE:
                self.resort()
            if len(self.rows_by_key) <= TICK_LIMIT:
                for key, row in self.rows_by_key.items():
                    self._write_row(key, row, now, ("age",))
        self.commit()

    # -- sorting ---------------------------------------------------------------------------
    def _order_of(self, key: str) -> tuple[object, ...]:
        """``_default_order`` of a row by its key (local|remote, as its cells show)."""
        conn = self.rows_by_key[key].conn
        role = conn.role
        local, _, remote = key.partition("|")
        # The step's own rows first, then those left by earlier steps.
        return (conn.key in self.earlier, _ROLE_ORDER.get(role.kind, 9), role.client or 0,
                local, remote)

    def _default_order(self, local: str, remote: str) -> tuple[object, ...]:
        key = f"{local}|{remote}"
        return self._order_of(key) if key in self.rows_by_key else (True, 9, 0, local, remote)

    def _addresses(self, values: Sequence[Text]) -> tuple[str, str]:
        """A row's local and remote addresses, from its cells as shown."""
        if "addresses" in self.shown:
            local, _, remote = values[self.shown.index("addresses")].plain.partition(" →\n")
            return local, remote
        return (values[self.shown.index("local")].plain,
                values[self.shown.index("remote")].plain)

    def resort(self) -> None:
        self._unsorted = False
        if not self.rows_by_key:
            return
        if self._sort_column is None:
            # By the rows' own records, not by their cells (3x faster at 10,000 rows).
            if len(self.rows_by_key) == len(self.rows) and self.place(
                    [RowKey(k) for k in sorted(self.rows_by_key, key=self._order_of)]):
                return
            self.sort(key=lambda v: self._default_order(*self._addresses(v)))
            return
        column = self._sort_column
        if column not in self.shown:
            return

        def by_column(values: tuple[Text, ...]) -> tuple[object, ...]:
            text = values[self.shown.index(column)].plain
            if column == "addresses":
                text = self._addresses(values)[0]
            if column in ("local", "remote", "addresses"):
                host, _, port = text.rpartition(":")
                return (host, int(port) if port.isdigit() else 0)
            return (text,)

        self.sort(key=by_column, reverse=self._sort_reverse)

    def sort_by(self, column: str | None) -> None:
        """Sort by a column (again: reverse it); None: the lab's own order."""
        if column is not None and column == self._sort_column:
            self._sort_reverse = not self._sort_reverse
        else:
            self._sort_column, self._sort_reverse = column, False
        self.resort()

    def action_cycle_sort(self) -> None:
        order: list[str | None] = [None, *self.shown]
        at = order.index(self._sort_column) if self._sort_column in order else 0
        self._sort_column, self._sort_reverse = order[(at + 1) % len(order)], False
        self.resort()

    def action_reverse_sort(self) -> None:
        self._sort_reverse = not self._sort_reverse
        self.resort()

    def on_data_table_header_selected(self, event: DataTable.HeaderSelected) -> None:
        event.stop()
        self.sort_by(str(event.column_key.value))

    # -- queries (tests, the app) ----------------------------------------------------------
    def state_of(self, predicate: Callable[[Connection], bool]) -> list[str]:
        return [r.conn.state for r in self.rows_by_key.values()
                if r.gone_at is None and predicate(r.conn)]
