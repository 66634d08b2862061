"""Start the app from parsed arguments: bind the port first, then open the window."""

from __future__ import annotations

import argparse
import sys

from tcp_observatory.lab.errors import LabError
from tcp_observatory.lab.i18n import t
from tcp_observatory.lab.session import Session


def build_session(args: argparse.Namespace) -> Session:
    try:
        session = Session(
            host=args.host, port=args.port, mode=args.mode, close_after_fin=args.close_after_fin,
            with_server=not args.no_server, interval=args.interval, all_ports=args.all,
            source=args.source, max_clients=args.max_clients, backlog=args.backlog,
            idle_timeout=args.idle_timeout,
            exec_server=getattr(args, "exec_server", None),
            exec_threaded_server=getattr(args, "exec_threaded_server", None),
            exec_clients=getattr(args, "exec_client", None) or (), lang=args.lang,
        )
    except (ImportError, OSError) as exc:
        raise LabError(t("err.no_source", args.lang, source=args.source, reason=exc)) from None
    session.bind()  # a taken port fails here, before the terminal is taken over
    return session


def check_folder(args: argparse.Namespace) -> None:
    """A screenshots folder is one student's: another name would make it fail ``verify``."""
    from tcp_observatory.lab.grading.manifest import folder_student
    from tcp_observatory.lab.text import clean_field

    owner = folder_student(args.screenshots)
    if args.student and owner and clean_field(args.student) != owner:
        raise LabError(t("err.other_student", args.lang, folder=args.screenshots,
                         owner=owner, student=clean_field(args.student)))


def run_app(args: argparse.Namespace) -> int:
    check_folder(args)
    session = build_session(args)  # a taken port is the first thing to say
    if not (sys.stdin and sys.stdin.isatty() and sys.stdout and sys.stdout.isatty()):
        session.shutdown()
        raise LabError(t("err.no_terminal", args.lang))
    clients = max(args.clients, len(getattr(args, "exec_client", None) or ()))
    # The built-in lab starts now, while Textual loads and the window is put together:
    # the first screen shows it running, and neither waits for the other. What it does
    # meanwhile is kept and reaches the app when the app mounts (ObservatoryApp.on_mount).
    # A student's own programs start with the window, as before, once it catches SIGHUP
    # and SIGTERM: one started earlier would outlive a terminal closed at that moment.
    early = session.exec_server is None and not session.exec_clients
    try:
        if early:
            session.hold_events()
            session.start(clients=0)
            for _ in range(clients):
                session.add_client()
        from tcp_observatory.tui.app import ObservatoryApp

        app = ObservatoryApp(session, lang=args.lang, clients=clients, present=args.present,
                             view=args.view, student=args.student, folder=args.screenshots,
                             signals=True, colours=getattr(args, "theme", "dark"),
                             start_session=not early)
    except BaseException:
        session.shutdown()
        raise
    try:
        result = app.run()
    finally:
        app.shutdown()
        app.stopped(app.return_code or 0)
    return result or 0
