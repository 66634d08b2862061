"""The timeline says "evidence observed" for a screenshot only when its record says the
evidence was met: Ctrl+S before it saves a picture, and says that it is not met yet.
Real sockets on 127.0.0.1, the app driven with Pilot at 80x24."""

from __future__ import annotations

import json
from pathlib import Path

from app_support import make_app, press, wait_until
from support import lab_session

from tcp_observatory.lab.net.modes import SINGLE
from tcp_observatory.lab.observe.model import RoleKind
from tcp_observatory.tui.app import ObservatoryApp


def client_established(app: ObservatoryApp) -> bool:
    states = [(r.conn.role.kind, r.conn.state) for r in app.table.rows_by_key.values()
              if r.gone_at is None]
    return ((RoleKind.CLIENT, "ESTABLISHED") in states
            and (RoleKind.SERVER, "ESTABLISHED") in states
            and (RoleKind.LISTENER, "LISTEN") in states)


def shot_lines(app: ObservatoryApp) -> list[str]:
    return [line for line in app.timeline.lines_text if ".svg" in line]


async def test_ctrl_s_before_the_evidence_does_not_say_it_was_observed(tmp_path: Path) -> None:
    # met evidence takes its own screenshot
    app = make_app(lab_session(SINGLE), tmp_path, clients=1, auto_capture=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: client_established(app), "client 1 connected")
        assert app.step_id == "p1-q1"  # its evidence also needs a message received
        await press(pilot, "ctrl+s")
        await wait_until(pilot, lambda: len(shot_lines(app)) == 1, "the screenshot's line")
        manifest = json.loads((tmp_path / "manifest.json").read_text(encoding="utf-8"))
        assert [s["evidence"]["met"] for s in manifest["screenshots"]] == [False]
        (line,) = shot_lines(app)
        assert "evidence not observed yet" in line and "evidence observed" not in line
        assert "p1-q1" not in app.guide.progress.met
        # Now the evidence: the message received meets it, and its screenshot says so.
        app.session.send(1, "Bonjour")
        await wait_until(pilot, lambda: len(shot_lines(app)) == 2, "the met step's line")
        manifest = json.loads((tmp_path / "manifest.json").read_text(encoding="utf-8"))
        assert [s["evidence"]["met"] for s in manifest["screenshots"]] == [False, True]
        assert "evidence observed, screenshot p1-q1-" in shot_lines(app)[1]
        assert "evidence observed" not in shot_lines(app)[0]
    app.shutdown()
