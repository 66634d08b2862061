"""The live view: snapshots and events from the session's threads onto the table, the
diagram, the ladder, the timeline, the banner and the panes; the keys that act on the lab."""

from __future__ import annotations

import time

from textual import events
from textual.css.query import NoMatches
from textual.css.scalar import Scalar
from textual.widgets import ContentSwitcher, Input
from textual.widgets.data_table import CellDoesNotExist

from lab.cmdline import is_loopback
from lab.errors import LabError
from lab.guide.evidence import message_of
from lab.guide.steps import get_step
from lab.i18n import t
from lab.net.client import ClientEvent
from lab.net.describe import describe_event
from lab.net.modes import SINGLE
from lab.net.program import ProgramLine, short_name
from lab.net.server import ServerEvent
from lab.observe.explain import explain, most_telling
from lab.observe.model import Connection, RoleKind, Snapshot, Transition
from lab.session import Action, Event, ObserverUpdate, Paced, ProgramReport, SessionError
from lab.text import clock_text, printable
from tui.base import MAX_EVENTS, VIEWS, ObservatoryBase
from tui.bounded import keep
from tui.messages import ProgramMessage, SessionMessage, SnapshotMessage
from tui.programs import show_reports
from tui.widgets.banner import Banner
from tui.widgets.clients import ClientCard
from tui.widgets.connections import (
    ALWAYS,
    COLUMNS,
    PRESENT_COLUMNS,
    STACKED_SCROLLBAR,
    ConnectionsTable,
    row_key,
    scroll_order,
    stack,
)
from tui.widgets.diagram import StateDiagram, markers_from
from tui.widgets.ladder import LadderView, ladder_from
from tui.widgets.steps_panel import StepsPanel
from tui.widgets.why import WhyLine

NARROW = 110  # columns below which the panes are stacked and the table scrolls sideways
# As app.tcss lays them out: the steps panel (46 cells, at most 45% of the screen) and the
# server and clients beside the table (a third of the width, 30 to 52 cells).
PANEL_WIDTH, PANEL_SHARE = 46, 0.45
RIGHT_MIN, RIGHT_MAX = 30, 52
PROGRAMS_EVERY = 0.1  # seconds between two showings of the student's programs' lines
SHORT = 32  # rows below which the window is a projector's small one (80x24, 100x30)
CAUSE_WINDOW = 2.0  # seconds an action may precede the state changes it caused
# What the server does, as opposed to what it receives: the causes of a change.
SERVER_DOINGS = frozenset({"accepted", "released", "closed", "refused", "idle", "aborted"})

SERVER_NOTES = {
    "accepted": "act.accepted",
    "released": "act.released",
    "closed": "act.closed",
    "fin": "act.fin-received",
    "eof": "act.eof",
    "reset": "act.reset",
    "refused": "act.refused",
}


def action_note(a: Action, lang: str) -> str:
    """An action of the app's in words, as the timeline and the step's picture tell it."""
    text = printable(a.text, 80)
    if a.kind in ("mode", "server-start"):
        text = t(f"mode.{a.text}", lang)
    elif a.kind == "close-after-fin":
        text = t("yes" if a.text == "on" else "no", lang)
    note = t(f"act.{a.kind}", lang, n=a.client, text=text)
    return note + " " + t("act.by_app", lang) if a.by_app else note


def server_note(e: ServerEvent, lang: str) -> str | None:
    """A server event worth a line in the timeline, in words (None for the others)."""
    key = SERVER_NOTES.get(e.kind)
    if key is not None:
        return t(key, lang, peer=str(e.peer) if e.peer else "")
    if e.kind in ("overflow", "idle", "aborted"):  # the kernel's drops, the server's choices
        return describe_event(e, lang) or None  # drops named by nobody are not told
    return None


class LiveView(ObservatoryBase):
    # -- from the session's threads --------------------------------------------------------
    def _from_session(self, event: Event) -> None:
        """Called on any thread: hand over to the UI without blocking."""
        if isinstance(event, ObserverUpdate):
            with self._pending_lock:
                if self._first_look is None:  # the observer's first poll the app hears of
                    self._first_look = event.snapshot.time
                self._pending.extend(event.transitions)
            self.post_message(SnapshotMessage(event.snapshot))
        elif isinstance(event, ProgramReport):
            # Gathered in a batch; its first report posts the message that shows them all.
            with self._pending_lock:
                batch = self._program_batch
                if batch is None:
                    batch = self._program_batch = []
                    self._program_batches.append(batch)
                    self.post_message(ProgramMessage(batch))
                batch.append(event)
        else:
            with self._pending_lock:
                # Reports after this event (a client's card added) are shown after it.
                self._program_batch = None
                self.post_message(SessionMessage(event))

    def on_program_message(self, message: ProgramMessage) -> None:
        wait = self._programs_shown + PROGRAMS_EVERY - time.monotonic()
        if wait > 0:  # shown a moment ago: the batch grows a little longer
            self.set_timer(wait, lambda: self._show_programs(message.batch))
        else:
            self._show_programs(message.batch)

    def _show_programs(self, last: list[ProgramReport]) -> None:
        """Show the batches of reports up to ``last``, in order (a flood's lines reach the
        screen at most ``1 / PROGRAMS_EVERY`` times a second, many at once)."""
        with self._pending_lock:
            if not any(batch is last for batch in self._program_batches):
                return  # shown already, with a later batch
            upto = next(i for i, batch in enumerate(self._program_batches) if batch is last)
            batches = self._program_batches[:upto + 1]
            del self._program_batches[:upto + 1]
            if any(batch is self._program_batch for batch in batches):
                self._program_batch = None
            reports = [report for batch in batches for report in batch]
        self._programs_shown = time.monotonic()
        if self._stopped or not reports:
            return
        for report in reports:
            self._heard_from_program(report)
        try:
            show_reports(reports, self.lang, self.server_pane, self.clients_pane)
        except NoMatches:
            pass  # reports that arrived while the screen was being torn down

    def on_snapshot_message(self, message: SnapshotMessage) -> None:
        with self._pending_lock:
            transitions, self._pending = self._pending, []
        if self._stopped:
            return  # the window is closing: the widgets may be gone already
        try:
            self.apply(message.snapshot, transitions)
        except NoMatches:
            pass  # a snapshot that arrived while the screen was being torn down

    def apply(self, snapshot: Snapshot, transitions: list[Transition]) -> None:
        """Show a snapshot and its transitions (or keep them for later while paused).

        The views show the step's scene; the timeline and the history keep everything."""
        if snapshot.warning and not self._warned_source:
            self._warned_source = True
            self.notify(t("ns.own_only", self.lang), severity="warning", timeout=15)
        keep(self.history, transitions, MAX_EVENTS)
        self._to_timeline(transitions)
        if (not transitions and snapshot.changed == () and snapshot.gone == ()
                and not self.paused and self.snapshot is not None
                and self.snapshot.seq == snapshot.seq - 1):
            # Nothing new from the kernel: every view already shows it. Only the evidence
            # is looked at again (a message sent may have met it without a kernel change).
            self.snapshot = self.snapshot._replace(time=snapshot.time, seq=snapshot.seq,
                                                  changed=(), gone=())
            self.table.apply(self.snapshot, [])
            self._check_evidence(self.scene_only(self._lab_rows(self.snapshot)))
            return
        snapshot = self.scene(snapshot)
        if transitions:
            self._record_moment(snapshot, transitions)
        if self.paused:
            self._held_snapshot = snapshot
            keep(self._held_transitions, transitions, MAX_EVENTS)
            return
        self._show(snapshot, transitions)
        self._check_evidence(self.scene_only(self._lab_rows(snapshot)))

    def _to_timeline(self, transitions: list[Transition]) -> None:
        """Write the transitions on the timeline. At the first look, the other programs'
        connections found open did not open then: they are one line, not thousands (a
        busy machine's 10,000 had filled the timeline).

        The first look is the observer's first poll, known by its time, not the first
        snapshot the view applies: paused from the start, every snapshot applied is held
        and none is shown, and those opened later had each been told as found at start."""
        first_look = self._first_look
        if first_look is not None:
            found = [tr for tr in transitions
                     if tr.time == first_look and tr.from_state is None
                     and tr.connection.role.kind is RoleKind.OTHER]
            if found:
                self.timeline.add_note(found[0].time,
                                       t("tl.already_open", self.lang, n=len(found)))
                skipped = {id(tr) for tr in found}
                transitions = [tr for tr in transitions if id(tr) not in skipped]
        for tr in transitions:
            self.timeline.add_transition(tr)

    def _lab_rows(self, snapshot: Snapshot) -> Snapshot:
        """The lab port's rows alone: what the steps, the cards and the queue read. With
        every connection shown (thousands), they need not walk the others."""
        observer = getattr(self.session, "observer", None)
        if observer is None or not observer.all_ports:
            return snapshot
        if self._lab_of is not None and self._lab_of[0] is snapshot.connections:
            return self._lab_of[1]
        port = self.session.port
        lab = snapshot._replace(connections=tuple(
            c for c in snapshot.connections
            if c.local.port == port or (c.remote is not None and c.remote.port == port)))
        self._lab_of = (snapshot.connections, lab)
        return lab

    def _show(self, snapshot: Snapshot, transitions: list[Transition], *,
              exact: bool = False) -> None:
        """Put one moment on every view: the table, the clients' states, the banner.

        ``exact``: a recorded moment stepped to (F7, then [ or ]), or the present caught
        up after one. A past moment is shown as it was on every view: time in state up to
        it, each card's state and last line then, the lab's last change then on the
        banner, and the timeline marks it (what came after is dimmed)."""
        self.snapshot = snapshot
        moment = self._moment()
        as_of = moment[1] if moment is not None else None
        since = self._since(snapshot, as_of) if exact else None
        self.table.apply(snapshot, transitions, linger=not exact, as_of=as_of, since=since)
        self.table.set_earlier(frozenset(self.scene_earlier))
        lab = self._lab_rows(snapshot)
        listener = next((c for c in lab.connections if c.role.kind is RoleKind.LISTENER
                         and c.local.port == self.session.port), None)
        # Linux: a listener's Recv-Q is the accept queue's length, its Send-Q the backlog.
        self.server_pane.set_queue(listener.recv_q if listener else None,
                                   listener.send_q if listener else None)
        # Once the new rows are laid out: a column cut at the edge gives way whole. (Asked
        # here and now, before layout, a quiet table would never be asked again.)
        self.call_after_refresh(self._fit_if_cut)
        self._update_client_states(lab, as_of)
        # The banner tells the lab's story: with every connection shown, a browser's
        # sockets coming and going do not take its place.
        told = [tr for tr in transitions if tr.connection.role.kind is not RoleKind.OTHER]
        if exact:
            label = moment[0] if moment is not None else ""
            self.query_one(Banner).show(self._last_told(as_of), past=label)
            self.timeline.show_moment(as_of, label)
        elif told:
            self._tell(told)
        self._refresh_view(snapshot.time if exact else None)
        self._explain()

    def _tell(self, told: list[Transition]) -> None:
        """One event on the banner: what caused it, and every socket it moved. Changes a
        later poll reports for the same cause (the server's end moved a poll after the
        client's) join the same event."""
        when = told[-1].time
        cause = self._cause_of(when)
        if cause is not None and cause is self._event_cause:
            told = [*self._event, *told]
        self._event_cause, self._event = cause, told
        note = "" if cause is None else (
            action_note(cause, self.lang) if isinstance(cause, Action)
            else server_note(cause, self.lang) or "")
        self.query_one(Banner).show_event(told, note)

    def _cause_of(self, when: float) -> Action | ServerEvent | None:
        """What made the lab's sockets move at ``when``: the latest thing done, just before,
        by the app (a message, "Fin", a client added...) or by the server (it accepted,
        released, closed); not what it only received (a "Fin" read is a consequence)."""
        best: Action | ServerEvent | None = None
        for a in reversed(self.actions):
            if a.time <= when + 0.05:
                best = a
                break
        for e in reversed(self.server_events):
            if e.time <= when + 0.05 and e.kind in SERVER_DOINGS:
                if best is None or e.time > best.time:
                    best = e
                break
        return best if best is not None and best.time >= when - CAUSE_WINDOW else None

    def _explain(self) -> None:
        """The why line: the selected row's sentence, else the one the room needs first."""
        # (Called at every snapshot, twice a second, and when the table's cursor moves.)
        try:
            why = self.query_one(WhyLine)
        except NoMatches:
            return
        if self.snapshot is None:
            why.say(None)
            return
        table = self.table
        now = self.snapshot.time if self.paused else self.clock()

        def held(c: Connection) -> float | None:
            row = table.rows_by_key.get(row_key(c))
            return None if row is None else max(0.0, now - row.since)

        rows = list(self._lab_rows(self.snapshot).connections)
        selected = self._selected_row()
        if selected is not None and selected.role.kind is not RoleKind.OTHER:
            sentence = explain(selected, self.lang, held=held(selected), rows=rows)
            if sentence:
                why.say(sentence, selected.state)
                return
        if self.view == "connections" and self.size.height < SHORT:
            # A small window's table and timeline need every row: the sentence comes for
            # the row one selects (the drawing views have the rows the timeline gave up).
            why.say(None)
            return
        earlier = self.scene_earlier
        found = most_telling([c for c in rows if c.key not in earlier], self.lang, held)
        why.say(found[1] if found else None, found[0].state if found else "")

    def _selected_row(self) -> Connection | None:
        """The connection under the table's cursor, if the table has the focus or was used."""
        table = self.table
        if table.row_count == 0 or self.focused is not table:
            return None
        try:
            key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        except CellDoesNotExist:  # a cursor past the rows just removed
            return None
        row = table.rows_by_key.get(str(key))
        return None if row is None or row.gone_at is not None else row.conn

    def on_data_table_row_highlighted(self) -> None:
        self._explain()

    def _moment(self) -> tuple[str, float] | None:
        """The past moment on screen (paused, stepped to with [ or ]): what to call it on
        screen, and its time; None when the view shows the present."""
        if not self.paused or self.step_index is None or not self.moments:
            return None
        when = self.moments[self.step_index][0].time
        label = t("app.past_moment", self.lang, i=self.step_index + 1, n=len(self.moments),
                  time=clock_text(when))
        return label, when

    def _since(self, snapshot: Snapshot, until: float | None) -> dict[str, float]:
        """When each row of ``snapshot`` entered the state it has there (up to ``until``),
        from the history: a row's time in state at a moment stepped to."""
        state_of = {row_key(c): c.state for c in snapshot.connections}
        began: dict[str, float] = {}
        for tr in self.history:
            if tr.inferred or (until is not None and tr.time > until):
                continue
            key = row_key(tr.connection)
            if state_of.get(key) == tr.to_state and tr.time >= began.get(key, tr.time):
                began[key] = tr.time
        return began

    def _last_told(self, until: float | None) -> Transition | None:
        """The lab's last change at ``until`` (None: now), as the banner tells it."""
        for tr in reversed(self.history):
            if tr.connection.role.kind is not RoleKind.OTHER and (
                    until is None or tr.time <= until):
                return tr
        return None

    def _fit_if_cut(self) -> None:
        # Wide, or with rows of two lines (80 columns): a row grew wider than the view.
        if self.table.overflows() and (self.size.width >= NARROW or self.table.line_height > 1):
            self.fit_table()

    def _refresh_view(self, until: float | None = None) -> None:
        """Redraw the diagram or the ladder (only the one on screen), as of ``until``."""
        if self.view == "connections" or self.snapshot is None:
            return
        history = self.history if until is None else [
            tr for tr in self.history if tr.time <= until]
        if self.view == "diagram":
            diagram = self.query_one(StateDiagram)
            diagram.border_title = t("pane.diagram", self.lang, port=self.session.port)
            diagram.set_markers(markers_from(self.snapshot, history, self.lang))
            return
        number = self._ladder_client()
        ladder = self.query_one(LadderView)
        if number is None:
            ladder.border_title = t("pane.ladder_none", self.lang)
            ladder.show([], client=None)
            return
        ladder.border_title = t("pane.ladder", self.lang, n=number)
        actions = self.actions if until is None else [a for a in self.actions if a.time <= until]
        events = self.server_events if until is None else [
            e for e in self.server_events if e.time <= until]
        ladder.show(ladder_from(number, actions, events, history, self.lang), client=number)

    def _ladder_client(self) -> int | None:
        """The client whose connection the ladder draws: focused card, else the first one."""
        card = self._focused_card()
        if card is not None:
            return card.number
        cards = self.clients_pane.cards()
        return cards[0].number if cards else None

    def _update_client_states(self, snapshot: Snapshot, when: float | None = None) -> None:
        """Each card shows its own socket's state in ``snapshot``, the moment ``when``
        (None: now): found by the client's ident (the socket it made), not by its number,
        which a later scene gives to another client."""
        registry = self.session.registry
        by_ident: dict[int, str] = {}
        by_number: dict[int, str] = {}  # clients made without an ident (tests' own)
        for c in snapshot.connections:
            if c.role.client is not None and c.local.port != self.session.port:
                ident = registry.ident_of(c.local, c.remote)
                if ident:
                    by_ident[ident] = c.state
                else:
                    by_number[c.role.client] = c.state
        for card in self.clients_pane.cards():
            card.at(when)
            state = by_ident.get(card.ident) if card.ident else by_number.get(card.number)
            card.set_state(state or ("CLOSED" if card.closed_by(when) else ""))

    async def on_session_message(self, message: SessionMessage) -> None:
        if self._stopped:
            return
        try:
            await self._handle(message.event)
        except NoMatches:
            pass  # an event that arrived while the screen was being torn down

    async def _handle(self, e: Event) -> None:
        if isinstance(e, ServerEvent):
            self._on_server_event(e)
        elif isinstance(e, ClientEvent):
            if e.kind == "failed" and e.refused and e.number not in self.step_refused:
                self.step_refused.append(e.number)  # Windows: refused at a full accept queue
            card = self.clients_pane.card(e.number)
            if card is not None:
                card.on_client_event(e)  # the card ignores an earlier client's events
        elif isinstance(e, Action):
            await self._on_action(e)
        elif isinstance(e, ProgramReport):
            self._heard_from_program(e)
            show_reports([e], self.lang, self.server_pane, self.clients_pane)
        elif isinstance(e, Paced):
            self._refresh_labels()
        elif isinstance(e, SessionError) and e.text != self._last_error:
            # A failing source reports at every retry: say it once, until it changes.
            self._last_error = e.text
            self.notify(t("err.source", self.lang, text=e.text), severity="error", timeout=10)

    def _on_server_event(self, e: ServerEvent) -> None:
        keep(self.server_events, [e], MAX_EVENTS)
        said = message_of(e, self.session.registry)
        if said is not None and not self._from_earlier(e):
            keep(self.step_messages, [said], MAX_EVENTS)
        self.server_pane.log_event(e)
        note = server_note(e, self.lang)
        if note is not None:
            self.timeline.add_note(e.time, note, server=True)
        if e.kind in ("listening", "stopped"):
            self._refresh_labels()

    def _heard_from_program(self, e: ProgramReport) -> None:
        """The student's server printed a line equal to one a client sent in this step:
        the server received that message, whatever the kernel could tell."""
        if e.who != 0 or not isinstance(e.event, ProgramLine):
            return
        said = self.current_witness().printed(e.event.text)
        if said is not None:
            keep(self.step_messages, [said], MAX_EVENTS)

    def _from_earlier(self, e: ServerEvent) -> bool:
        """Whether the server event came over a connection of an earlier step (its
        message is not this step's evidence)."""
        peer = e.peer
        return peer is not None and any(
            key[0] == peer or key[1] == peer for key in self.scene_earlier)

    async def _on_action(self, a: Action) -> None:
        keep(self.actions, [a], MAX_EVENTS)
        if a.kind in ("server-start", "program-server"):
            self.server_scene(a.time)
        if a.kind == "client-add" and a.client is not None:
            card = await self.clients_pane.add_card(a.client, a.ident)
            if self.autopilot is None:
                self.card_added(card)  # tui.focus: the keys go to a client's input
        elif a.kind == "client-remove" and a.client is not None:
            focused = self._focused_card()
            had_focus = (focused is not None and focused.number == a.client
                         and focused.follows(a.ident))
            await self.clients_pane.remove_card(a.client, a.ident)
            if self.autopilot is None:
                self.card_removed(had_focus)
        if a.kind in ("send", "fin") and a.client is not None:
            self.current_witness().typed(a.client, a.text)  # what its bytes are checked against
        note = action_note(a, self.lang)
        if a.by_app:
            if a.kind in ("send", "fin"):
                keep(self.sent_by_app, [(a.client, a.text)], MAX_EVENTS)
        self.timeline.add_note(a.time, note)
        self._refresh_labels()

    # -- labels ----------------------------------------------------------------------------
    def _refresh_labels(self) -> None:
        s = self.session
        mode = t(f"mode.{s.mode}", self.lang)
        # Read once: a step's setup stops and replaces the server on another thread.
        server = s.server if s.server_running else None
        if server is not None:
            sub = t("app.server_at", self.lang, addr=server.address, mode=mode)
            key = "server.info" if s.mode == SINGLE else "server.info.threaded"
            info = t(key, self.lang, mode=mode, backlog=server.backlog,
                     caf=t("yes" if s.close_after_fin else "no", self.lang))
        elif s.with_server:
            sub = t("app.server_stopped", self.lang, port=s.port)
            info = t("server.off", self.lang)
        elif s.exec_server is not None:
            sub = t("prog.app.server", self.lang, name=short_name(s.exec_server), port=s.port)
            info = t("prog.server.info", self.lang, command=printable(s.exec_server, 200))
        else:
            sub = t("app.no_server", self.lang, port=s.port)
            info = t("server.none", self.lang, port=s.port)
        if server is not None and not is_loopback(s.host):
            info += "\n⚠ " + t("warn.exposed", self.lang, addr=server.address)
        moment = self._moment()
        if self.paused:
            sub += "  " + t("app.paused", self.lang)
            if moment is not None:
                sub += "  " + moment[0]
        self.sub_title = sub
        server_title = t("pane.server", self.lang)
        if server is not None:
            server_title += f" {server.address}"
        self.server_pane.set_info(server_title, info)
        self.server_pane.close_after_fin = s.close_after_fin
        filt = (t("app.filter_all", self.lang) if s.all_ports
                else t("app.filter_port", self.lang, port=s.port))
        observer = s.observer
        if observer.effective_interval > observer.interval:  # polls cost too much: say so
            filt += " · " + t("app.paced", self.lang, interval=observer.effective_interval,
                              cost=observer.poll_cost * 1000)
        title = t("pane.connections", self.lang, filter=filt)
        if moment is not None:  # said where the rows are read, not only in the header
            title = f"{moment[0]} · {title}"
        self.table.border_title = title

    def on_resize(self, event: events.Resize) -> None:
        # The event's size: this handler runs before App's own, so self.size is the old one.
        self._arrange(event.size.width)
        self.call_after_refresh(self.keep_panel_above_keys)
        short = event.size.height < SHORT
        self.screen.set_class(short, "-short")
        for banner in self.query(Banner):
            banner.set_compact(short)
        for why in self.query(WhyLine):
            why.set_max_lines(2 if short else 3)
        self.call_after_refresh(self._explain)
        self.call_after_refresh(self.fit_table)

    def _columns(self) -> tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]:
        """The table's columns: all it may show, those the current step reads (with the
        addresses and the state), and the one its question asks about."""
        wanted = PRESENT_COLUMNS if self.present else COLUMNS
        step = get_step(self.step_id)
        reads = tuple(c for c in dict.fromkeys((*ALWAYS, *step.reads)) if c in wanted)
        return wanted, reads, tuple(c for c in step.asks if c in wanted)

    def _arrange(self, width: int) -> bool:
        """Lay the window out for the step's columns; True if that changed.

        Where beside the server and the clients the table could not show whole every
        column the step reads, their column narrows to its least (``RIGHT_MIN``); where it
        still could not, or below ``NARROW`` columns, the panes stack (the table above
        them). The steps panel takes its width beside the panes, or, where the table could
        not then show those columns (80x24), lies over the panes' lower half instead
        (F1 takes it away)."""
        mains = list(self.query("#main"))
        panels = list(self.query(StepsPanel))
        if not mains or not panels:
            return False
        table = self.table
        _, reads, _ = self._columns()
        laid_out = table.outer_size.width > 0
        gutter = (table.outer_size.width - table.scrollable_content_region.width
                  if laid_out else 2)  # the border, and a scrollbar if one shows
        need = table.needed(reads) + gutter
        panel = panels[0]
        beside = min(PANEL_WIDTH, int(width * PANEL_SHARE))
        overlay = width < NARROW or width - beside < need
        room = width - (beside if panel.display and not overlay else 0)
        right = min(RIGHT_MAX, max(RIGHT_MIN, room // 3))
        stacked = width < NARROW or room - RIGHT_MIN < need
        slim = not stacked and room - right < need
        main = mains[0]
        changed = (main.has_class("-narrow") != stacked or main.has_class("-slim") != slim
                   or panel.has_class("-overlay") != overlay)
        main.set_class(stacked, "-narrow")
        main.set_class(slim, "-slim")
        panel.set_class(overlay, "-overlay")
        return changed

    def keep_panel_above_keys(self) -> None:
        """The steps panel (docked right, or over the panes at 80x24) ends above the keys'
        rows: they wrap on one or two rows, and the panel's answer box, at its bottom, had
        gone under them (off the screen at 140x44)."""
        for keys in self.query("#keys"):
            rows = keys.outer_size.height
            for panel in self.query(StepsPanel):
                if panel.styles.margin.bottom != rows:
                    panel.styles.margin = (0, 0, rows, 0)  # docked at the bottom (80x24)
                room = max(3, self.size.height - rows)  # docked right: full height, less them
                if panel.has_class("-overlay"):  # over the panes: below the table, not on it
                    room = max(6, room - self.table.region.bottom)
                if panel.styles.max_height != Scalar.from_number(room):
                    panel.styles.max_height = room

    def fit_table(self) -> None:
        """Fit the table to the step: every column it reads shown whole where they fit.

        Wide enough (110 columns or more), the panes are arranged for them (``_arrange``)
        and the columns that still do not fit give way whole, what the step does not read
        first, so no header is cut at the edge. Narrower, the columns come in the order
        the step needs them (the addresses, the state, what its question asks about, the
        rest of what it reads, the others last); where those it reads do not fit side by
        side (80 columns), the two addresses share a column, and so do the role and the
        process, one above the other, as in the step's picture; the columns it does not
        read give way. Otherwise the table scrolls sideways to the others."""
        if self._arrange(self.size.width):
            self.call_after_refresh(self.fit_table)  # once laid out again
            return
        wanted, reads, asks = self._columns()
        narrow = self.size.width < NARROW
        for table in self.query(ConnectionsTable):
            width = table.scrollable_content_region.width
            if narrow:
                if not table.region.width:
                    continue  # not on screen (a picture being taken): fitted on its return
                order = wanted if self.present else scroll_order(wanted, reads, asks)
                # Rows of two lines fill the view soon: room is kept for their scrollbar.
                width = table.size.width - STACKED_SCROLLBAR
                if not self.present and table.needed(reads) > width:
                    # Too narrow for them side by side: the addresses share a column, the
                    # role and the process another, a row takes two lines, and what the
                    # step does not read gives way.
                    if table.fit(width, stack(order), stack(reads), stack(asks)):
                        table.scroll_to(x=0, animate=False)
                elif table.shown != order:
                    table.set_shown(order)
                    table.scroll_to(x=0, animate=False)
            elif width > 0:
                table.fit(width, wanted, reads, asks)
            for main in self.query("#main"):
                if main.has_class("-stacked") != (table.line_height > 1):
                    main.set_class(table.line_height > 1, "-stacked")  # app.tcss: more rows
                    self.call_after_refresh(self.keep_panel_above_keys)

    def _tick(self) -> None:
        self._update_stamp()
        if not self.paused and not self._stopped:
            for table in self.query(ConnectionsTable):
                table.tick()
            self._explain()  # a CLOSE_WAIT held open is told once it has lingered

    # -- actions ---------------------------------------------------------------------------
    def action_add_client(self) -> None:
        # The card appears when the session reports the client (a step's setup adds
        # clients from a thread the same way); its input takes the focus then.
        self._focus_new_client = self.session.add_client()

    async def action_remove_client(self) -> None:
        card = self._focused_card()
        if card is None:
            cards = self.clients_pane.cards()
            if len(cards) != 1:
                self.notify(t("err.remove_none", self.lang), severity="warning")
                return
            card = cards[0]
        self.session.remove_client(card.number)

    def on_client_card_send(self, message: ClientCard.Send) -> None:
        if self.session.send(message.number, message.text):
            return
        card = self.clients_pane.card(message.number)
        if card is not None and card.program and not card.closed:
            # Refused: the student's program does not read its input (its log says so).
            # The line goes back into the field rather than being lost.
            card.query_one(Input).value = message.text

    def action_toggle_server_mode(self) -> None:
        """F4: a new server in the other mode, and a new scene: the old server's clients are
        closed rather than left on screen talking to a server that is gone."""
        self.focus_client()  # the next client's input takes it (these are closed)
        try:
            self.session.reset_clients()
            self.session.switch_mode()
        except LabError as exc:
            self.notify(str(exc), severity="error", timeout=8)
        self._refresh_labels()

    def action_toggle_close_after_fin(self) -> None:
        self.session.set_close_after_fin(not self.session.close_after_fin)
        self._refresh_labels()

    def action_toggle_filter(self) -> None:
        self.session.set_all_ports(not self.session.all_ports)
        self._refresh_labels()

    def action_next_view(self) -> None:
        self.view = VIEWS[(VIEWS.index(self.view) + 1) % len(VIEWS)]
        self._apply_view()

    def _apply_view(self) -> None:
        self.query_one(ContentSwitcher).current = self.view
        self.screen.set_class(self.view != "connections", "-drawing")
        until = None
        if self.step_index is not None and self.moments:
            until = self.moments[self.step_index][0].time
        self._refresh_view(until)
        self.timeline.scroll_end(animate=False)
        self._explain()

    def action_toggle_present(self) -> None:
        self.present = not self.present
        self._apply_present()

    def _apply_present(self) -> None:
        """Presentation: the latest change written large, fewer columns, no server log."""
        self.screen.set_class(self.present, "-present")
        self.table.cell_padding = 2 if self.present else 1
        self.table.set_shown(PRESENT_COLUMNS if self.present else COLUMNS)
        self.call_after_refresh(self.fit_table)
        told = [tr for tr in self.history if tr.connection.role.kind is not RoleKind.OTHER]
        if self.present and told and not self.query_one(Banner).moved:
            self._tell([tr for tr in told if tr.time == told[-1].time])

    def action_toggle_server(self) -> None:
        try:
            if self.session.server_running:
                self.session.stop_server()
            else:
                self.session.start_server()
        except LabError as exc:
            self.notify(str(exc), severity="error", timeout=8)
        self._refresh_labels()

