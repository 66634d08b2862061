"""One step, one scene; the name asked only of a student taking a screenshot; French that
reads as written. Real sockets on 127.0.0.1, the app driven with Pilot."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
from app_support import drawn, make_app, press, wait_until
from rich.text import Text
from snapshot_scene import make_scene_app, play_scene
from support import console_script, lab_session

from tcp_observatory.lab.i18n import MESSAGES, NBSP, t, texts
from tcp_observatory.lab.observe.model import Connection, RoleKind
from tcp_observatory.tui.app import ObservatoryApp
from tcp_observatory.tui.widgets.connections import COLUMNS
from tcp_observatory.tui.widgets.prompt import NamePrompt
from tcp_observatory.tui.widgets.prose import wrap_text
from tcp_observatory.tui.widgets.steps_panel import StepsPanel

SIZE = (140, 44)
ROOT = Path(__file__).resolve().parent.parent


def lab_rows(app: ObservatoryApp) -> list[Connection]:
    return [r.conn for r in app.table.rows_by_key.values()
            if r.gone_at is None and r.conn.role.kind is not RoleKind.OTHER]


def client_states(app: ObservatoryApp, n: int) -> list[str]:
    return [c.state for c in lab_rows(app)
            if not c.role.server_side and c.role.client == n and c.remote is not None]


# -- 1. nobody who only watches is asked anything ------------------------------------------
@pytest.mark.parametrize(("present", "view"), [(False, "connections"), (True, "connections"),
                                             (False, "diagram")],
                         ids=["bare", "present", "diagram"])
async def test_a_watcher_is_never_asked_for_a_name(tmp_path: Path, present: bool,
                                                   view: str) -> None:
    app = make_app(lab_session(), tmp_path, student=None, clients=1, auto_capture=True,
                   present=present, view=view)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: client_states(app, 1) == ["ESTABLISHED"], "connected")
        app.session.send(1, "Bonjour")
        # The moment a student's picture would be taken: the step's evidence is met, and
        # the panel says that Ctrl+S saves it.
        panel = app.query_one(StepsPanel)
        await wait_until(pilot, lambda: app.guide.evidence is not None and app.guide.evidence.met
                         and panel.hint == t("steps.shoot_hint", "en"), "the evidence met")
        assert not isinstance(app.screen, NamePrompt)
        # nothing taken on a watcher's behalf
        assert app.shots.saved == [] and not app.shots.capturing


async def test_the_name_is_asked_at_the_first_screenshot_and_kept_for_the_folder(
        tmp_path: Path) -> None:
    app = make_app(lab_session(), tmp_path, student=None, auto_capture=True)
    async with app.run_test(size=SIZE) as pilot:
        await press(pilot, "ctrl+s")
        await wait_until(pilot, lambda: isinstance(app.screen, NamePrompt), "name prompt")
        await press(pilot, *"Zoe", "space", *"Leroy")
        await press(pilot, "enter")
        await wait_until(pilot, lambda: len(app.shots.saved) == 1, "screenshot saved")
        assert app.guide.student == "Zoe Leroy"
    # Reopened without --student: the folder's name, no prompt; Ctrl+S saves at once.
    again = make_app(lab_session(), tmp_path, student=None, auto_capture=True)
    async with again.run_test(size=SIZE) as pilot:
        assert again.guide.student == "Zoe Leroy"
        await press(pilot, "ctrl+s")
        await wait_until(pilot, lambda: len(again.shots.saved) == 1, "second screenshot saved")
        assert not isinstance(again.screen, NamePrompt)
    manifest = json.loads((tmp_path / "manifest.json").read_text(encoding="utf-8"))
    assert {s["student"] for s in manifest["screenshots"]} == {"Zoe Leroy"}


def test_another_name_for_a_used_folder_is_one_sentence(tmp_path: Path) -> None:
    (tmp_path / "manifest.json").write_text(json.dumps(
        {"format": 1, "student": "Zoe Leroy", "screenshots": [], "answers": {}}),
        encoding="utf-8")
    env = {**os.environ, "LANG": "en_US.UTF-8"}
    env.pop("LC_ALL", None)
    done = subprocess.run([*console_script(), "--student", "Max Other", "--screenshots",
                           str(tmp_path), "--port", "0", "--lang", "en"],
                          capture_output=True, text=True, cwd=ROOT, env=env, timeout=60,
                          stdin=subprocess.DEVNULL)
    assert done.returncode == 1
    assert "already holds Zoe Leroy's screenshots" in done.stderr
    assert "Traceback" not in done.stderr and len(done.stderr.strip().splitlines()) == 1


# -- 2. one step, one scene ---------------------------------------------------------------
async def test_setting_a_step_up_leaves_the_messages_to_the_student(tmp_path: Path) -> None:
    app = make_app(lab_session(), tmp_path, auto_capture=True)
    async with app.run_test(size=SIZE) as pilot:
        app.select_step("p2-q1")
        await press(pilot, "ctrl+r")
        await wait_until(pilot, lambda: client_states(app, 1) == ["ESTABLISHED"]
                         and client_states(app, 2) == ["ESTABLISHED"], "two clients")
        # The setup is over once it says the step is ready (whatever it did is told by then).
        await wait_until(pilot, lambda: any(  # Textual keeps the toasts shown there
            "Step p2-q1 is ready" in n.message for n in app._notifications), "step ready")
        assert app.session.mode == "threaded"
        # The app set the scene, said so, and sent nothing.
        assert not any(a.kind in ("send", "fin") for a in app.recorder.actions)
        assert any("set up by the app" in line for line in app.timeline.lines_text)
        assert app.guide.evidence is not None and not app.guide.evidence.met
        assert "p2-q1" not in app.guide.progress.met and app.shots.saved == []
        # The student's own messages complete the step.
        app.session.send(1, "un")
        app.session.send(2, "deux")
        await wait_until(pilot, lambda: "p2-q1" in app.guide.progress.met, "step met")
        entry = json.loads((tmp_path / "manifest.json").read_text())["screenshots"][-1]
        assert entry["step"] == "p2-q1"


@pytest.mark.needs("system-sockets")
async def test_a_new_scene_numbers_clients_from_one_and_clears_the_past(tmp_path: Path) -> None:
    app = make_app(lab_session("threaded"), tmp_path, clients=2, auto_capture=True)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: client_states(app, 2) == ["ESTABLISHED"]
                         and len([c for c in lab_rows(app) if c.role.kind is RoleKind.SERVER
                                  and c.role.client == 1]) == 1, "2 clients, 1 served")
        app.session.send(1, "earlier step")
        await wait_until(pilot, lambda: any("earlier step" in x
                                            for x in app.server_pane.lines_text), "logged")
        old_ports = {c.local.port for c in lab_rows(app) if not c.role.server_side
                     and c.remote is not None}
        app.select_step("p2-fin")
        await press(pilot, "ctrl+r")
        await wait_until(pilot, lambda: app.session.mode == "threaded"
                         and sorted(app.session.clients) == [1]
                         and client_states(app, 1) == ["ESTABLISHED"], "new scene")
        await wait_until(pilot, lambda: any(
            "Step p2-fin is ready" in n.message for n in app._notifications), "step ready")
        # Clients numbered from 1 again, one card, the old server's log gone from view.
        await wait_until(pilot, lambda: [c.number for c in app.clients_pane.cards()] == [1],
                         "one card, numbered 1")
        assert not any("earlier step" in x for x in app.server_pane.lines_text)
        # The old clients' rows (now TIME_WAIT or closing) are still shown, as the kernel
        # holds them, marked as earlier: out of the step's scene.
        old_rows = [c for c in lab_rows(app) if c.local.port in old_ports]
        assert all(c.key in app.scene.earlier for c in old_rows)
        assert app.views.snapshot is not None
        assert not [c for c in app.scene.only(app.views.snapshot).connections
                    if c.local.port in old_ports]
        # ... but the timeline keeps the whole history.
        assert any("earlier step" in x for x in app.timeline.lines_text)
        # The student's "Fin" ends the step with the new client's TIME_WAIT only: the old
        # clients' rows stayed out of the scene while they went on closing.
        app.session.send(1, "Fin")
        await wait_until(pilot, lambda: client_states(app, 1) == ["TIME_WAIT"], "TIME_WAIT")
        waits = [c for c in lab_rows(app) if c.state == "TIME_WAIT"
                 and c.key not in app.scene.earlier]
        assert len(waits) == 1
        # An old client that closed first holds its own TIME_WAIT (which end closes first
        # is the kernel's race when the old server and its clients go): still shown, and
        # still marked as earlier.
        assert all(c.key in app.scene.earlier for c in lab_rows(app)
                   if c.local.port in old_ports)


async def test_switching_mode_closes_the_old_servers_clients(tmp_path: Path) -> None:
    app = make_app(lab_session(), tmp_path, clients=1, auto_capture=True)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: client_states(app, 1) == ["ESTABLISHED"], "connected")
        await press(pilot, "f4")
        await wait_until(pilot, lambda: app.session.mode == "threaded"
                         and not app.clients_pane.cards(), "old clients closed")
        assert app.session.clients == {}


# -- 7. French as written ------------------------------------------------------------------
@pytest.mark.parametrize("width", [18, 30, 44, 60])
def test_french_never_starts_a_line_with_its_punctuation(width: int) -> None:
    for key in MESSAGES:
        for text in texts(key, "fr"):
            lines = wrap_text(Text(text), width).plain.split("\n")
            for line in lines:
                assert not line.startswith(("?", "!", ":", ";", "»")), (key, width, lines)
                assert not line.rstrip().endswith("«"), (key, width, lines)


def test_wrapping_keeps_every_character_and_fits() -> None:
    text = Text("Quel processus détient chaque extrémité" + NBSP + "? Après «" + NBSP + "Fin"
                + NBSP + "», un_mot_beaucoup_trop_long_pour_une_seule_ligne fin.")
    for width in (10, 16, 25):
        out = wrap_text(text, width).plain
        assert all(len(line) <= width for line in out.split("\n"))
        assert out.replace("\n", "").replace(" ", "") == text.plain.replace(" ", "")


@pytest.mark.parametrize("panel", [False, True], ids=["alone", "steps-panel"])
async def test_headers_are_whole_at_160x48(panel: bool) -> None:
    """The French table headers at 160x48 are never cut at the edge, panel open or not."""
    app = make_scene_app("fr")
    async with app.run_test(size=(160, 48)) as pilot:
        await play_scene(pilot)
        if panel:
            await press(pilot, "f1")
        steps = app.query_one(StepsPanel)
        # Once the panel is laid out (or stays closed), the columns are fitted to what is
        # left: none cut at the edge.
        await wait_until(pilot, lambda: (steps.region.width > 0) == panel
                         and not app.table.overflows(), "the table fitted beside the panel")
        shown = [str(k.value) for k in app.table.columns]
        labels = [app.table.columns[k].label.plain for k in app.table.columns]
        assert labels == [t(f"col.{c}", "fr") for c in shown]
        assert {"local", "remote", "state"} <= set(shown) <= set(COLUMNS)


# -- 4. the timeline in time order ---------------------------------------------------------
async def test_the_timeline_is_in_time_order_with_causes_first(tmp_path: Path) -> None:
    """Events arrive out of order (a poll that began before an action is delivered after
    it); the timeline shows them by when they happened, the action before its effects."""
    from tcp_observatory.lab.net.server import ServerEvent
    from tcp_observatory.lab.observe.model import Endpoint, Role, Snapshot, Transition
    from tcp_observatory.lab.session import Action

    app = make_app(lab_session(), tmp_path, start_session=False, auto_capture=True)
    async with app.run_test(size=(160, 48)) as pilot:
        t0 = 1_790_000_000.0
        peer = Endpoint("127.0.0.1", 50001)
        listen = Connection(Endpoint("127.0.0.1", 9500), None, "LISTEN",
                            role=Role(RoleKind.LISTENER))
        client = Connection(peer, Endpoint("127.0.0.1", 9500), "ESTABLISHED",
                            role=Role(RoleKind.CLIENT, client=1))
        app._from_session(ServerEvent("accepted", t0 + 0.016, peer, serial=1))
        app._from_session(Action("send", t0 + 0.020, 1, "hello"))
        recorder = app.recorder
        await wait_until(pilot, lambda: len(recorder.actions) == 1
                         and len(recorder.server_events) == 1,
                         "the accept and the send handled")
        app.apply(Snapshot(t0 + 0.020, (listen, client), "fixed"),
                  [Transition(t0 + 0.011, listen, None, "LISTEN", None),
                   Transition(t0 + 0.020, client, None, "ESTABLISHED", None)])
        await drawn(pilot)
        app.timeline.flush()
        late = Connection(Endpoint("127.0.0.1", 9500), peer, "ESTABLISHED",
                          role=Role(RoleKind.SERVER, client=1, server_side=True))
        # Later still, a transition older than everything on screen.
        app.apply(Snapshot(t0 + 0.030, (listen, client, late), "fixed"),
                  [Transition(t0 + 0.012, late, None, "ESTABLISHED", None)])
        await drawn(pilot)
        app.timeline.flush()
        lines = app.timeline.lines_text
        times = [line[:12] for line in lines]
        assert times == sorted(times), lines
        order = [next(k for k in ("LISTEN", "server ↔ client 1", "accept()", "sends", "client 1")
                      if k in line) for line in lines]
        assert order == ["LISTEN", "server ↔ client 1", "accept()", "sends", "client 1"], lines
        # The action at .020 comes before the state change seen at the same instant.
        assert "sends" in lines[3] and "ESTABLISHED" in lines[4]
        assert app.timeline.redraws >= 1  # the late one was put in its place


@pytest.mark.parametrize("size", [(80, 24), (160, 48)], ids=["80x24", "160x48"])
async def test_the_inferred_mark_is_on_screen(size: tuple[int, int]) -> None:
    from tcp_observatory.lab.grading.stamp import svg_text_content

    app = make_scene_app("en")
    async with app.run_test(size=size) as pilot:
        await play_scene(pilot)
        # At 80x24 the timeline shows its last two lines (the table's rows of two lines
        # take its third): the student scrolls up to the line, as here.
        lines = app.timeline.lines_text
        at = next(i for i, line in enumerate(lines) if "inferred" in line)
        if at < app.timeline.scroll_y or at >= app.timeline.scroll_y + app.timeline.size.height:
            app.timeline.scroll_to(y=at, animate=False)
            await drawn(pilot)
        text = svg_text_content(app.export_screenshot())
    # The scene's FIN_WAIT_1 was passed over between two polls: it is marked, visibly.
    assert "FIN_WAIT_1≈inferred" in text


async def test_a_screenshot_being_saved_is_not_taken_twice(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Ctrl+S, then evidence seen again while the picture is still being written: the
    automatic capture does not add a second picture of the same moment."""
    import threading

    import tcp_observatory.tui.screenshots as shots

    gate = threading.Event()
    real_save = shots.save_screenshot

    def slow_save(*args: object, **kwargs: object) -> object:
        gate.wait(10)
        return real_save(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(shots, "save_screenshot", slow_save)
    app = make_app(lab_session(), tmp_path, clients=1)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: client_states(app, 1) == ["ESTABLISHED"], "connected")
        app.session.send(1, "Bonjour")
        await wait_until(pilot, lambda: app.guide.evidence is not None and app.guide.evidence.met,
                         "evidence met")
        # Ctrl+S first: with automatic capture on before it, a poll could take the step's
        # picture by itself and Ctrl+S a second one, which is not the case under test.
        await press(pilot, "ctrl+s")
        app.shots.auto_capture = True

        def writing() -> bool:  # the picture is taken; writing it waits at the gate
            return not app.shots.capturing and any(
                w.group == "screenshot" and not w.is_finished for w in app.workers)

        await wait_until(pilot, writing, "the picture taken, its file being written")
        assert app.views.snapshot is not None
        app._check_evidence(app.views.snapshot)  # the next poll sees the evidence again
        gate.set()
        await wait_until(pilot, lambda: "p1-q1" in app.guide.progress.met, "step met")
        # Every picture begun is written by now (a second one would have begun before the
        # gate opened): nothing is being taken or written any more.
        await wait_until(pilot, lambda: not app.shots.capturing and not any(
            w.group == "screenshot" and not w.is_finished for w in app.workers),
            "every picture written")
        assert len(list(tmp_path.glob("p1-q1-*.svg"))) == 1 and len(app.shots.saved) == 1


def test_a_scene_begun_before_the_first_snapshot_leaves_out_what_was_already_finished() -> None:
    """A step chosen before the app's first poll (the grading class's apps, a student quick
    on Ctrl+R): another run's TIME_WAIT on the lab port, in that first snapshot, is an
    earlier connection, not the step's (at 80x24 its picture could not hold the extra rows,
    and verify refused it); what is alive in that snapshot stays the step's."""
    from support import conn

    from tcp_observatory.lab.observe.model import Snapshot
    from tcp_observatory.tui.scene import Scene

    old = conn(9500, 40001, "TIME_WAIT", RoleKind.ORPHANED, 1, server_side=True)
    gone_client = conn(40002, 9500, "FIN_WAIT_2", RoleKind.ORPHANED, 2)
    listener = conn(9500, None, "LISTEN", RoleKind.LISTENER)
    new = conn(40003, 9500, "ESTABLISHED", RoleKind.CLIENT, 1)
    scene = Scene()
    scene.begin(1.0, None, finished_only=False)
    first = Snapshot(1.1, (listener, old, gone_client, new), "fixed")
    scene.first_look(lambda: first)
    assert scene.earlier == {old.key, gone_client.key}
    assert scene.only(first).connections == (listener, new)
    # Once only: a later TIME_WAIT is the step's own story.
    later = conn(40003, 9500, "TIME_WAIT", RoleKind.ORPHANED, 1)
    scene.first_look(lambda: Snapshot(2.0, (listener, later), "fixed"))
    assert later.key not in scene.earlier
