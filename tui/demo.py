"""``tcp-observatory demo``: every step of the lab, unattended, with its screenshot.

For instructors (project it with ``--pace``) and for the README (the repository's
``screenshots/`` folder is this command's output). Headless when there is no terminal or
no ``--pace``; the bundle it writes passes ``tcp-observatory verify``.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path

from tcp_observatory.lab.errors import LabError
from tcp_observatory.lab.files import ensure_folder
from tcp_observatory.lab.grading.report import write_report
from tcp_observatory.lab.grading.verify import format_verify, verify
from tcp_observatory.lab.guide.setup import poll_wait, run_setup
from tcp_observatory.lab.guide.steps import STEPS
from tcp_observatory.lab.i18n import t
from tcp_observatory.lab.session import Session
from tcp_observatory.lab.text import clean_field
from tcp_observatory.tui.app import ObservatoryApp

SIZE = (160, 48)
STEP_TIMEOUT = 30.0  # seconds for one step's evidence to show once it is set up

# What a good student might answer: shown in the demo's screenshots and report.
MODEL_ANSWERS: dict[str, tuple[str, str]] = {
    "p1-q1": (
        "Deux lignes pour le port du serveur en plus de LISTEN : le côté serveur "
        "(127.0.0.1:port ↔ port du client) et le côté client, toutes deux ESTABLISHED.",
        "Besides LISTEN, two rows for the server port: the server's end and the client's "
        "end of the same connection, both ESTABLISHED.",
    ),
    "p1-q2": (
        "Le client a fermé le premier : son côté est en FIN_WAIT_2 et n'appartient plus à "
        "aucun processus (orphelin). Le serveur n'a pas appelé close() : son côté reste en "
        "CLOSE_WAIT.",
        "The client closed first: its end is FIN_WAIT_2 and no process owns it any more. The "
        "server never called close(): its end stays in CLOSE_WAIT.",
    ),
    "p1-q3": (
        "Non : le serveur simple ne sert qu'un client à la fois. Le second est ESTABLISHED "
        "dans le noyau (file d'attente d'accept()), ses octets attendent dans Recv-Q.",
        "No: the single server serves one client at a time. The second is ESTABLISHED in the "
        "kernel (accept queue) and its bytes wait in Recv-Q.",
    ),
    "p2-q1": (
        "Oui : un thread par client, les deux messages sont reçus ; deux lignes ESTABLISHED "
        "côté serveur, chacune tenue par le processus serveur.",
        "Yes: one thread per client, both messages arrive; two server-side ESTABLISHED "
        "rows, each held by the server process.",
    ),
    "p2-fin": (
        "Le client, qui ferme le premier, passe en TIME_WAIT (60 s) pour absorber les "
        "segments en retard ; le serveur ferme ensuite et sa ligne disparaît (LAST_ACK).",
        "The client closes first, so its end waits in TIME_WAIT (60 s) to absorb late "
        "segments; the server closes next and its row goes (LAST_ACK).",
    ),
}


class DemoFailed(LabError):
    pass


def autopilot(pace: float, lang: str) -> Callable[[ObservatoryApp], None]:
    """Drive the app from a worker thread: each step set up, evidenced, captured."""

    def pause(seconds: float) -> None:
        if seconds > 0:
            time.sleep(seconds)  # the pace an audience can follow, not a synchronisation

    def run(app: ObservatoryApp) -> None:
        try:
            app.call_from_thread(app.action_toggle_steps)
            for step in STEPS:
                answer = MODEL_ANSWERS[step.id][0 if lang == "fr" else 1]
                app.call_from_thread(app.select_step, step.id)
                app.call_from_thread(app.remember_answer, step.id, answer)
                pause(pace)
                app.call_from_thread(app.prepare_scene)
                run_setup(app.session, step.id, lang=lang, play_student=True)
                def shot(s: str = step.id) -> bool:
                    return bool(app.shots.save_errors) or any(
                        p.name.startswith(s + "-") for p in app.shots.saved)

                if not poll_wait(shot, STEP_TIMEOUT):
                    evidence = app.guide.evidence
                    missing = t("list.sep", lang).join(evidence.missing) if evidence else ""
                    raise DemoFailed(t("demo.timeout", lang, step=step.id, missing=missing))
                if app.shots.save_errors:
                    raise DemoFailed(app.shots.save_errors[-1])
                pause(pace)
            app.call_from_thread(app.exit, 0)
        except LabError as exc:
            app.demo_error = str(exc)
            app.call_from_thread(app.exit, 1)

    return run


def run_demo(args: argparse.Namespace) -> int:
    out = Path(args.out)
    args.student = "Démo" if args.student is None else args.student
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise LabError(t("demo.not_empty", args.lang, folder=out))
    if not clean_field(args.student):
        raise LabError(t("bundle.no_student", args.lang))
    ensure_folder(out, args.lang)  # an unwritable --out fails now, in one sentence
    session = Session(port=args.port, mode="single", interval=0.05, source=args.source)
    session.bind()
    visible = args.pace is not None and sys.stdout.isatty()
    app = ObservatoryApp(session, lang=args.lang, clients=0, student=args.student,
                         folder=out, autopilot=autopilot(args.pace or 0.0, args.lang),
                         demo=True)
    try:
        code = app.run(headless=not visible, size=None if visible else SIZE)
    finally:
        app.shutdown()
    if app.demo_error:
        print(app.demo_error, file=sys.stderr, flush=True)
        return 1
    result = verify(out, args.lang)
    write_report(out, args.lang, result)  # the page says the verdict: the app's demo
    print(format_verify(result, args.lang), flush=True)
    print(t("demo.done", args.lang, n=len(app.shots.saved), folder=out), flush=True)
    return (code or 0) if result.intact_demo else 1
