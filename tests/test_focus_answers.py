"""Nothing the student types is lost (issue 26, points 5 and 8): after the keys that change
the scene or the panel, "Bonjour" reaches a client (the server logs it), never the answer
box; the focused input is seen at 80x24; an answer is on disk without Enter, through a
change of step, Ctrl+Q and SIGTERM. Real sockets on 127.0.0.1, the app driven with Pilot."""

from __future__ import annotations

import asyncio
import json
import signal
import socket
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from app_support import make_app, press, screen_lines, wait_until
from support import lab_session
from textual.pilot import Pilot
from textual.widgets import Input

from tcp_observatory.lab.grading.manifest import MANIFEST, REPORT
from tcp_observatory.lab.guide.progress import load_progress
from tcp_observatory.tui.app import ObservatoryApp
from tcp_observatory.tui.focus import focused_card
from tcp_observatory.tui.widgets.steps_panel import StepsPanel

SIZE = (140, 44)
ANSWER = "CLOSE_WAIT chez le serveur"


def keys(text: str) -> list[str]:
    return ["space" if ch == " " else ch for ch in text]


def focused_client(app: ObservatoryApp) -> int | None:
    """The client whose input has the focus (None: no client's input has it)."""
    card = focused_card(app)
    return card.number if card is not None and isinstance(app.focused, Input) else None


def answer_box(app: ObservatoryApp) -> Input:
    return app.query_one("#step-answer", Input)


def connected(app: ObservatoryApp, n: int) -> bool:
    card = app.clients_pane.card(n)
    return card is not None and card.kernel_state == "ESTABLISHED"


async def say_bonjour(pilot: Pilot[Any], app: ObservatoryApp, client: int) -> None:
    """Type "Bonjour" and Enter, as the student does: the server must log it."""
    await press(pilot, *keys("Bonjour"), "enter")
    await wait_until(pilot, lambda: any(a.kind == "send" and a.client == client
                                        and a.text == "Bonjour" for a in app.recorder.actions),
                     f"client {client} to send Bonjour")
    await wait_until(pilot, lambda: any("Bonjour" in x for x in app.server_pane.lines_text),
                     "the server's log to show Bonjour")


async def click(pilot: Pilot[Any], selector: str, done: Callable[[], bool]) -> None:
    """Click a widget as a student does (scrolled to it first), again until ``done()``:
    the window may be laying itself out anew as the panel opens, or a toast may cover it."""
    widget = pilot.app.query_one(selector)

    loop = asyncio.get_running_loop()
    deadline = loop.time() + 15
    while not done():
        assert loop.time() < deadline, f"clicking {selector} never did it"
        pilot.app.clear_notifications()
        region = widget.region
        if region.area > 0 and pilot.app.screen.region.contains_region(region):
            await pilot.click(selector)
        else:
            widget.scroll_visible(animate=False)  # the student scrolls the panel to it
        await pilot.pause(0.05)


async def choose_answer_box(pilot: Pilot[Any], app: ObservatoryApp) -> None:
    """Open the steps panel and click in the answer box, as a student does."""
    app.query_one(StepsPanel).show()
    await click(pilot, "#step-answer", lambda: answer_box(app).has_focus)


def on_disk(folder: Path, step: str, answer: str) -> bool:
    """The answer in progress.json, in the manifest and in the report."""
    try:
        manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
        report = (folder / REPORT).read_text(encoding="utf-8")
    except (OSError, ValueError):
        return False
    return (load_progress(folder).answers.get(step) == answer
            and manifest["answers"].get(step) == answer and answer in report)


# -- 5. focus stays where the student types -------------------------------------------------
@pytest.mark.parametrize("key", ["f1", "ctrl+n", "ctrl+b"])
async def test_after_a_panel_key_the_keys_go_to_the_client(tmp_path: Path, key: str) -> None:
    app = make_app(lab_session("threaded"), tmp_path, clients=1)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: connected(app, 1), "client 1 connected")
        if key == "ctrl+b":
            app.select_step("p1-q2")
        await choose_answer_box(pilot, app)
        await press(pilot, key)
        await wait_until(pilot, lambda: focused_client(app) == 1, "client 1's input focused")
        await say_bonjour(pilot, app, 1)
        assert answer_box(app).value == "" and app.guide.progress.answers.get(app.step_id, "") == ""


async def test_after_setting_the_step_up_the_keys_go_to_its_client(tmp_path: Path) -> None:
    """Ctrl+R closes the clients and connects the step's: the new client 1 takes the keys
    (they had fallen into the answer box when the focused input went away)."""
    app = make_app(lab_session(), tmp_path, clients=1)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: connected(app, 1), "client 1 connected")
        old = app.clients_pane.card(1)
        await press(pilot, "f1")  # the steps panel open, as a student doing the lab has it
        await press(pilot, "ctrl+r")

        def new_client() -> bool:
            card = app.clients_pane.card(1)
            return card is not None and card is not old and connected(app, 1)

        await wait_until(pilot, new_client, "the step's own client 1")
        await wait_until(pilot, lambda: focused_client(app) == 1, "client 1's input focused")
        await say_bonjour(pilot, app, 1)
        assert answer_box(app).value == ""


async def test_a_new_client_takes_the_keys_from_the_answer_box(tmp_path: Path) -> None:
    app = make_app(lab_session("threaded"), tmp_path, clients=1)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: connected(app, 1), "client 1 connected")
        await choose_answer_box(pilot, app)
        await press(pilot, "f2")
        await wait_until(pilot, lambda: focused_client(app) == 2 and connected(app, 2),
                         "client 2's input focused")
        await say_bonjour(pilot, app, 2)
        assert answer_box(app).value == ""


async def test_after_switching_mode_the_next_client_takes_the_keys(tmp_path: Path) -> None:
    """F4 closes every client: nothing typed lands in the answer box meanwhile, and the next
    client's input takes the keys."""
    app = make_app(lab_session(), tmp_path, clients=1)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: connected(app, 1), "client 1 connected")
        await choose_answer_box(pilot, app)
        await press(pilot, "f4")
        await wait_until(pilot, lambda: app.session.mode == "threaded"
                         and not app.clients_pane.cards(), "the old clients closed")
        assert not answer_box(app).has_focus
        await press(pilot, *keys("Bonjour"))
        await press(pilot, "f2")
        await wait_until(pilot, lambda: focused_client(app) == 1 and connected(app, 1),
                         "the new client 1's input focused")
        await say_bonjour(pilot, app, 1)
        assert answer_box(app).value == ""


async def test_the_last_used_client_gets_the_keys_back(tmp_path: Path) -> None:
    app = make_app(lab_session("threaded"), tmp_path, clients=2)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: connected(app, 1) and connected(app, 2), "2 clients")
        assert focused_client(app) == 1  # at start, the first
        await click(pilot, "#client-2-input", lambda: focused_client(app) == 2)
        await choose_answer_box(pilot, app)
        await press(pilot, "f1")
        await wait_until(pilot, lambda: focused_client(app) == 2, "back to client 2")
        await say_bonjour(pilot, app, 2)


async def test_the_answer_box_takes_the_keys_by_its_key_or_a_click_only(tmp_path: Path) -> None:
    app = make_app(lab_session("threaded"), tmp_path, clients=1)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: focused_client(app) == 1, "client 1's input focused")
        # Its key is in the footer, in the app's language.
        assert any(a.binding.key == "f12" and a.binding.description == "Answer"
                   for a in app.active_bindings.values())
        # Out of the Tab order: Tab goes round without landing in it.
        await press(pilot, "f1")
        for _ in range(len(app.screen.focus_chain) + 2):
            await press(pilot, "tab")
            assert not answer_box(app).has_focus
        # Its key opens the panel if hidden and gives it the keys; again, back to the client.
        await press(pilot, "f1")
        assert not app.query_one(StepsPanel).display
        await press(pilot, "f12")
        await wait_until(pilot, lambda: answer_box(app).has_focus, "the answer box focused")
        assert app.query_one(StepsPanel).display
        await press(pilot, *keys("oui"))
        assert answer_box(app).value == "oui"
        await press(pilot, "f12")
        await wait_until(pilot, lambda: focused_client(app) == 1, "back to client 1")
        # Back in the box, the next keys go on with the answer (they do not replace it).
        await press(pilot, "f12", *keys(" et non"))
        assert answer_box(app).value == "oui et non"
        await press(pilot, "f12")
        # A click gives it the keys too.
        await choose_answer_box(pilot, app)


async def test_the_focused_input_is_seen_at_80x24(tmp_path: Path) -> None:
    """Client 1's card, which has the keys, is drawn heavy (seen without colours), client
    2's round. With the steps panel open over the cards (F1), the panel's top line says
    where the keys go and shows what is typed there; with the answer box chosen, it does not."""
    app = make_app(lab_session("threaded"), tmp_path, clients=2)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: connected(app, 1) and connected(app, 2), "2 clients")

        def corner(n: int) -> str:
            """A card's top-left corner as drawn: on screen where it is in view and nothing
            lies over it, else as its border is styled (the keys' two rows and the panel
            at 80x24 may hide it)."""
            card = app.clients_pane.card(n)
            assert card is not None
            x, y = card.region.x, card.region.y
            if (card.region.area and 0 <= y < app.screen.size.height
                    and app.screen.get_widget_at(x, y)[0] is card):
                return screen_lines(app)[y][x]
            return {"heavy": "┏", "round": "╭"}.get(card.styles.border_top[0], "?")

        await wait_until(pilot, lambda: corner(1) == "┏" and corner(2) == "╭",
                         "client 1's card heavy, client 2's round")

        def typing_line() -> str:
            return next((line for line in screen_lines(app) if "Keys → client" in line), "")

        await press(pilot, "f1")
        await wait_until(pilot, lambda: "Keys → client 1:" in typing_line(),
                         "the panel saying the keys go to client 1")
        await press(pilot, *keys("Bonj"))
        await wait_until(pilot, lambda: "Keys → client 1: Bonj" in typing_line(),
                         "what is typed, on the panel")
        await press(pilot, "f12")
        await wait_until(pilot, lambda: typing_line() == "" and answer_box(app).has_focus,
                         "the answer box chosen, the line gone")
        await wait_until(pilot, lambda: corner(1) == "╭", "client 1's card round: no keys")
        await press(pilot, "f1")  # the panel away, the keys back to client 1
        await wait_until(pilot, lambda: corner(1) == "┏", "client 1's card heavy again")
        await press(pilot, *keys("our"), "enter")  # "Bonj" was kept: the line goes on
        await wait_until(pilot, lambda: any("Bonjour" in x for x in app.server_pane.lines_text),
                         "the server's log to show Bonjour")
        assert [a.text for a in app.recorder.actions if a.kind == "send"] == ["Bonjour"]


# -- 8. nothing the student types is lost ---------------------------------------------------
async def test_an_answer_is_saved_as_typed_without_enter(tmp_path: Path) -> None:
    app = make_app(lab_session("threaded"), tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await choose_answer_box(pilot, app)
        await press(pilot, *keys(ANSWER))
        await wait_until(pilot, lambda: on_disk(tmp_path, "p1-q1", ANSWER),
                         "the answer on disk without Enter")
        assert answer_box(app).has_focus  # saving took nothing from the student


async def test_an_answer_survives_a_change_of_step(tmp_path: Path) -> None:
    """Typed, then at once Ctrl+N and Ctrl+B: the answer is back in the box and on disk, and
    the next step did not catch the keystrokes still on their way."""
    app = make_app(lab_session("threaded"), tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await choose_answer_box(pilot, app)
        await press(pilot, *keys(ANSWER), "ctrl+n")
        assert app.step_id == "p1-q2"
        await pilot.pause(0.2)
        assert answer_box(app).value == ""
        await press(pilot, "ctrl+b")
        assert app.step_id == "p1-q1"
        assert answer_box(app).value == ANSWER
        await wait_until(pilot, lambda: on_disk(tmp_path, "p1-q1", ANSWER), "on disk")
    answers = load_progress(tmp_path).answers
    assert answers["p1-q1"] == ANSWER and answers.get("p1-q2", "") == ""


async def test_ctrl_q_writes_what_was_typed(tmp_path: Path) -> None:
    app = make_app(lab_session("threaded"), tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        app.guide.autosave.delay = 3600.0  # only quitting can write it within this test
        await choose_answer_box(pilot, app)
        await press(pilot, *keys(ANSWER), "ctrl+q")
    assert app.return_value == 0
    assert on_disk(tmp_path, "p1-q1", ANSWER)


async def test_sigterm_writes_what_was_typed_and_closes_every_socket(tmp_path: Path) -> None:
    """The signal's handler (a real process receives it in test_e2e_tmux): the answer typed
    is written, the session closed (the port is free), the exit status 128 + 15."""
    app = make_app(lab_session("threaded"), tmp_path, clients=1)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: connected(app, 1), "client 1 connected")
        port = app.session.port
        app.guide.autosave.delay = 3600.0
        await choose_answer_box(pilot, app)
        await press(pilot, *keys(ANSWER))
        app.stop_by_signal(signal.SIGTERM)
    assert app.return_value == 128 + signal.SIGTERM
    assert on_disk(tmp_path, "p1-q1", ANSWER)
    assert app.session.clients == {} and not app.session.server_running
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", port))


async def test_the_panel_made_on_its_key_holds_the_kept_answer_and_takes_the_keys(
        tmp_path: Path) -> None:
    """The steps panel's parts are made when it is first shown (tui.widgets.steps_panel):
    F12 as the first key, with letters typed at once after it, makes the box with the
    answer kept from an earlier session, and the letters go on with that answer, not to
    the client."""
    first = make_app(lab_session("threaded"), tmp_path)
    async with first.run_test(size=SIZE) as pilot:
        await choose_answer_box(pilot, first)
        await press(pilot, *keys(ANSWER), "ctrl+q")
    app = make_app(lab_session("threaded"), tmp_path, clients=1)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: focused_client(app) == 1, "client 1's input focused")
        panel = app.query_one(StepsPanel)
        assert not panel.built and not panel.children and not panel.display
        assert panel.typed_answer() == ANSWER  # kept, before the box is made
        await press(pilot, "f12", *keys("!"))
        await wait_until(pilot, lambda: answer_box(app).value == ANSWER + "!",
                         "the letters after F12 in the answer box")
        assert panel.built and panel.display and answer_box(app).has_focus
        assert app.clients_pane.cards()[0].query_one(Input).value == ""
