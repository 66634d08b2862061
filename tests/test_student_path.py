"""The student's own path, not the demo's: F2, F4, Ctrl+N in their own order, with the
kernel (``ss``) as the witness. Each test is a defect a user measured on that path.

Real sockets on 127.0.0.1, the app driven with Pilot; waits are conditions with deadlines.
"""

from __future__ import annotations

import tempfile

import pytest
from app_support import drawn, make_app, press, table_app, wait_until
from support import lab_session
from walk import card_local, cards_differ, type_in
from walk import kernel as walk_kernel

from tcp_observatory.lab.observe.model import Connection, Endpoint, RoleKind
from tcp_observatory.tui.app import ObservatoryApp

SIZE = (160, 48)

needs_ss = pytest.mark.needs("ss")


def rows(app: ObservatoryApp) -> list[Connection]:
    """The lab's rows the table shows now (not those lingering after they went)."""
    return [r.conn for r in app.table.rows_by_key.values()
            if r.gone_at is None and r.conn.role.kind is not RoleKind.OTHER]


def kernel(app: ObservatoryApp) -> dict[tuple[Endpoint, Endpoint | None], str]:
    return walk_kernel(app.session.port)


def cards_follow_the_kernel(app: ObservatoryApp) -> bool:
    """Every card with a socket shows that socket's state, as ``ss`` reads it."""
    lab = Endpoint("127.0.0.1", app.session.port)
    locals_ = [card_local(c) for c in app.clients_pane.cards()]
    before = kernel(app)
    after = kernel(app)
    for local in locals_:  # each card's socket connected, and not moving between readings
        if local is None or before.get((local, lab)) != after.get((local, lab)):
            return False
    return not cards_differ(app, before, after)


@needs_ss
async def test_after_fin_and_ctrl_n_the_orphan_stays_shown_and_the_card_reads_its_state(
        ) -> None:
    """p1-q2: "Fin", then Ctrl+N. The orphaned FIN_WAIT_2 is still in the kernel: it stays
    a row (marked as before this step) and client 1's card says FIN_WAIT_2, not CLOSED."""
    with tempfile.TemporaryDirectory() as folder:
        app = make_app(lab_session(), folder, clients=1)
        async with app.run_test(size=SIZE) as pilot:
            app.select_step("p1-q2")
            await wait_until(pilot, lambda: [c.kernel_state for c in app.clients_pane.cards()]
                             == ["ESTABLISHED"], "client 1 connected")
            card = app.clients_pane.cards()[0]
            await type_in(pilot, card, "Bonjour")
            await type_in(pilot, card, "Fin")
            await wait_until(pilot, lambda: card.kernel_state == "FIN_WAIT_2", "FIN_WAIT_2")
            local = card_local(card)
            assert local is not None
            await press(pilot, "ctrl+n")
            assert app.step_id == "p1-q3"
            # the kernel still holds it ...
            lab = Endpoint("127.0.0.1", app.session.port)
            assert kernel(app).get((local, lab)) == "FIN_WAIT_2"
            await pilot.pause(0.3)  # several polls (every 0.05 s) after the step changed
            await wait_until(pilot, lambda: app.views.snapshot is not None
                             and app.views.snapshot.time > app.scene.start, "a poll after Ctrl+N")
            # ... so the table shows it, marked as earlier, and the card reads it
            row = next(c for c in rows(app) if c.local == local)
            assert row.state == "FIN_WAIT_2" and row.key in app.scene.earlier
            text = app.table.rows_by_key[f"{row.local}|{row.remote_text}"]
            assert text.conn.key in app.table.earlier
            role_cell = app.table.get_row(f"{row.local}|{row.remote_text}")[
                app.table.shown.index("role")].plain
            assert role_cell.startswith("↺ ")
            assert "before this step" in str(app.table.border_subtitle)
            assert card.kernel_state == "FIN_WAIT_2"
            # out of the new step's evidence and scene
            assert app.views.snapshot is not None
            assert all(c.local != local for c in app.scene.only(app.views.snapshot).connections)


@needs_ss
async def test_new_clients_after_f4_read_their_own_sockets_not_the_old_cards() -> None:
    """The handout's path: p1-q3 with F2 twice (three clients of the single server), then
    F4 (threaded) and F2 twice. The new clients 1 and 2 are ESTABLISHED in the kernel; their
    cards must say so (they read the old clients' TIME_WAIT), blank of the old messages."""
    with tempfile.TemporaryDirectory() as folder:
        app = make_app(lab_session(), folder, clients=1)
        async with app.run_test(size=SIZE) as pilot:
            app.select_step("p1-q3")
            await press(pilot, "f2", "f2")
            await wait_until(pilot, lambda: len(app.clients_pane.cards()) == 3
                             and all(c.kernel_state == "ESTABLISHED"
                                     for c in app.clients_pane.cards()), "three clients")
            first = app.clients_pane.cards()[0]
            await type_in(pilot, first, "old message")
            await wait_until(pilot, lambda: "old message" in first.last, "sent")
            old_idents = {c.ident for c in app.clients_pane.cards()}
            await press(pilot, "f4")
            await wait_until(pilot, lambda: app.session.mode == "threaded"
                             and not app.clients_pane.cards(), "old clients closed")
            await press(pilot, "f2", "f2")
            await wait_until(pilot, lambda: [c.number for c in app.clients_pane.cards()]
                             == [1, 2], "two new cards")
            cards = app.clients_pane.cards()
            assert not {c.ident for c in cards} & old_idents
            await wait_until(pilot, lambda: cards_follow_the_kernel(app)
                             and all(c.kernel_state == "ESTABLISHED" for c in cards),
                             "each card reads its own socket")
            assert all("old message" not in c.last for c in cards)
            # the old clients' sockets (TIME_WAIT now) are still rows, marked as earlier
            old = [c for c in rows(app) if c.state == "TIME_WAIT"]
            assert old and all(c.key in app.scene.earlier for c in old)


@needs_ss
async def test_a_new_server_starts_the_steps_story_again() -> None:
    """p2-q1 on the handout's path: a message to the old single server, then F4 and two
    new clients. The evidence counts only the new server's messages, and the step's
    picture holds neither the old server's shutdown nor its clients' rows."""
    with tempfile.TemporaryDirectory() as folder:
        app = make_app(lab_session(), folder, clients=1)
        async with app.run_test(size=SIZE) as pilot:
            app.select_step("p2-q1")
            await wait_until(pilot, lambda: [c.kernel_state for c in app.clients_pane.cards()]
                             == ["ESTABLISHED"], "client 1 connected")
            await type_in(pilot, app.clients_pane.cards()[0], "to the old server")
            await wait_until(pilot, lambda: any(text == "to the old server"
                                                for _, text in app.scene.messages),
                             "the old server received it")
            await press(pilot, "f4")
            await wait_until(pilot, lambda: app.session.mode == "threaded"
                             and not app.clients_pane.cards(), "old client closed")
            assert app.scene.messages == []
            await press(pilot, "f2", "f2")
            await wait_until(pilot, lambda: len(app.clients_pane.cards()) == 2 and all(
                c.kernel_state == "ESTABLISHED" for c in app.clients_pane.cards()),
                "two new clients")
            one, two = app.clients_pane.cards()
            await type_in(pilot, one, "un")
            await wait_until(pilot, lambda: len(app.scene.messages) == 1, "first message")
            assert app.guide.evidence is not None and not app.guide.evidence.met
            await type_in(pilot, two, "deux")
            await wait_until(pilot, lambda: app.guide.evidence is not None
                             and app.guide.evidence.met,
                             "p2-q1 met by the new server's two clients")
            # The picture: the step's rows and story only.
            from tcp_observatory.tui.widgets.evidence_view import EvidenceView

            assert app.views.snapshot is not None
            app.enter_capture("p2-q1", app.views.snapshot)
            view = app.query_one(EvidenceView)
            story = " | ".join(line.text for line in view.story)
            app.leave_capture()
            assert "to the old server" not in story and "stopped" not in story
            new_locals = {card_local(c) for c in (one, two)}
            client_rows = [c for c in view.rows if not c.role.server_side
                           and c.remote is not None]
            assert {c.local for c in client_rows} == new_locals
            assert view.left_out >= 1  # the old client's socket, said to be left out


async def test_a_listener_that_went_and_came_back_between_two_views_stays_a_row() -> None:
    """Found by the random walk (seeds 201 and 202, Ctrl+R under load): the server was
    restarted between two polls, both polls' transitions reached the view with the first
    snapshot (the listener gone), and the next snapshot, holding the new listener, found
    its row lingering as gone: the row left the table while the kernel listened."""
    from tcp_observatory.lab.observe.model import Role, Snapshot, Transition

    clock = [1000.0]

    lab = Endpoint("127.0.0.1", 9500)
    old = Connection(lab, None, "LISTEN", role=Role(RoleKind.LISTENER), inode=1)
    new = old._replace(inode=2)  # the new server's socket: same address, same state
    app = table_app(lambda: clock[0])
    async with app.run_test(size=(160, 30)) as pilot:
        table = app.table
        table.apply(Snapshot(1000.0, (old,), "t", seq=1, changed=(old,), gone=()),
                    [Transition(1000.0, old, None, "LISTEN", None)])
        # Snapshot 2 (listener gone) arrives with snapshot 3's transition too.
        table.apply(Snapshot(1000.1, (), "t", seq=2, changed=(), gone=(old,)),
                    [Transition(1000.1, old, "LISTEN", "CLOSED", 0.1),
                     Transition(1000.15, new, None, "LISTEN", None)])
        table.apply(Snapshot(1000.15, (new,), "t", seq=3, changed=(new,), gone=()), [])
        clock[0] = 1010.0  # long past the lingering of a row that went
        table.tick()
        await drawn(pilot)
        assert [(r.conn.state, r.gone_at) for r in table.rows_by_key.values()] == [
            ("LISTEN", None)]
        assert table.row_count == 1


def test_a_reused_number_is_not_taken_for_the_new_client_having_connected() -> None:
    """Ctrl+R started a student's client 2 before client 1 had connected: the registry
    still held the earlier client 1's address, so "client 1 connected" was already true.
    The new client is known by its ident."""
    from tcp_observatory.lab.observe.roles import Registry

    registry = Registry()
    lab = Endpoint("127.0.0.1", 9500)
    registry.add_client(Endpoint("127.0.0.1", 40001), 1, lab, ident=1)  # the earlier one
    assert registry.has_ident(1)
    assert not registry.has_ident(3)  # the new client 1, not connected yet
    registry.add_client(Endpoint("127.0.0.1", 40002), 1, lab, ident=3)
    assert registry.has_ident(3)
    assert registry.ident_of(Endpoint("127.0.0.1", 40001), lab) == 1
    assert registry.ident_of(Endpoint("127.0.0.1", 40002), lab) == 3
