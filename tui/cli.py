"""``tcp-observatory``: the app, and its plain-terminal commands (netstat, watch, ...).

Textual is imported only when the app itself is started, so the commands stay fast; and a
plain ``netstat`` (the command a script runs again and again) does not even import
argparse: ``quick_netstat`` reads its few options, and leaves anything else (a mistake,
``--help``) to the full parser and its messages.
"""

from __future__ import annotations

import gc
import sys
from types import SimpleNamespace

from tcp_observatory.lab.errors import LabError
from tcp_observatory.lab.i18n import LANGS, default_lang, set_language
from tcp_observatory.lab.net.modes import DEFAULT_PORT, MODES
from tcp_observatory.lab.text import utf8_stdio

TYPE_CHECKING = False  # not typing's: importing typing costs a one-shot command ~1.5 ms
if TYPE_CHECKING:
    import argparse
    from typing import Any

SOURCES = ("auto", "psutil", "netlink", "netstat")


def build_parser() -> argparse.ArgumentParser:
    import argparse

    class ChosenLang(argparse.Action):
        """``--lang`` given on the command line, not taken from the system's locale."""

        def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace,
                     values: Any, option_string: str | None = None) -> None:
            namespace.lang = values
            namespace.lang_chosen = True

    from tcp_observatory.lab import __version__
    from tcp_observatory.lab.cmdline import (
        ClearParser,
        add_server_options,
        interval,
        non_negative_int,
        port_number,
    )

    p = ClearParser(
        prog="tcp-observatory",
        description="Run the network lab's server and clients in one window and watch the "
        "kernel's TCP states change.",
    )
    p.add_argument("--version", action="version", version=f"tcp-observatory {__version__}")
    p.add_argument("--mode", choices=MODES, default="single", help="server mode (single)")
    p.add_argument("--host", default="127.0.0.1", help="server address (127.0.0.1)")
    p.add_argument("--port", type=port_number, default=DEFAULT_PORT, help="lab port (9500)")
    p.add_argument("--clients", type=non_negative_int, default=1,
                   help="clients to connect at start (1)")
    p.add_argument("--lang", choices=LANGS, default=default_lang(), action=ChosenLang,
                   help="fr or en")
    p.add_argument("--interval", type=interval, default=0.1, help="seconds between polls (0.1)")
    p.add_argument("--all", action="store_true",
                   help="show every connection, not only the lab port")
    p.add_argument("--no-server", action="store_true",
                   help="do not start a server: observe programs running elsewhere")
    p.add_argument("--exec-server", default=None, metavar="CMD",
                   help="run your own server instead of the built-in one "
                        "(\"python3 Serveur.py\"; {port} is replaced by the lab port)")
    p.add_argument("--exec-threaded-server", default=None, metavar="CMD",
                   help="your threaded server, for part 2's steps (Ctrl+R starts it there, "
                        "and --exec-server's for part 1)")
    p.add_argument("--exec-client", action="append", default=[], metavar="CMD",
                   help="run your own client in a client pane (repeatable; F2 starts one more)")
    p.add_argument("--close-after-fin", action="store_true",
                   help="single mode: the server closes after \"Fin\" (the handout does not)")
    add_server_options(p)
    p.add_argument("--source", choices=SOURCES, default="auto", help="connection source")
    p.add_argument("--view", choices=("connections", "diagram", "ladder"), default="connections",
                   help="open on this view (F9 cycles them)")
    p.add_argument("--student", default=None,
                   help="your name, stamped on every screenshot (else asked at the first one)")
    p.add_argument("--screenshots", default="screenshots", metavar="DIR",
                   help="where screenshots, answers and progress go (./screenshots)")
    p.add_argument("--present", action="store_true",
                   help="open in presentation mode (for a projector; F10 toggles it)")
    p.add_argument("--theme", choices=("dark", "light"), default="dark",
                   help="colours: dark, or light and high-contrast for a projector that "
                        "washes dark backgrounds out (Ctrl+T switches)")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")

    # Options a command shares with the app default to the app's value (SUPPRESS), so
    # `tcp-observatory --port 9600 netstat` and `tcp-observatory netstat --port 9600` agree.
    same = argparse.SUPPRESS

    ns = sub.add_parser("netstat", help="one snapshot, laid out like netstat -n")
    ns.add_argument("--port", type=port_number, default=same)
    ns.add_argument("-b", action="store_true", help="show the process under each row")
    ns.add_argument("--all", action="store_true", default=same,
                    help="every connection, not only the port")
    ns.add_argument("--json", action="store_true", help="one JSON object per connection")
    ns.add_argument("--source", choices=SOURCES, default=same)
    ns.add_argument("--lang", choices=LANGS, default=same)

    w = sub.add_parser("watch", help="one line per state change, until Ctrl+C")
    w.add_argument("--port", type=port_number, default=same)
    w.add_argument("--interval", type=interval, default=same)
    w.add_argument("--all", action="store_true", default=same)
    w.add_argument("--json", action="store_true", help="one JSON object per transition")
    w.add_argument("--source", choices=SOURCES, default=same)
    w.add_argument("--lang", choices=LANGS, default=same)

    v = sub.add_parser("verify", help="check a screenshots folder: every step present, "
                       "untouched, stamped and showing its evidence")
    v.add_argument("folder", metavar="DIR", nargs="+",
                   help="a screenshots folder (with manifest.json); several: one line each")
    v.add_argument("--lang", choices=LANGS, default=same, action=ChosenLang,
                   help="fr or en; the files written (--csv, --report, each report.html) "
                   "are in the lab's language, French, unless it is given")
    v.add_argument("--json", action="store_true", help="the result as one JSON object")
    v.add_argument("--csv", default=None, metavar="FILE",
                   help="write a gradebook: one row per folder, one column per step")
    v.add_argument("--report", default=None, metavar="FILE.html",
                   help="write one page by question: every student's picture side by side")

    d = sub.add_parser("demo", help="run every step unattended and write a verified bundle")
    d.add_argument("--out", required=True, metavar="DIR", help="an empty or new folder")
    d.add_argument("--port", type=port_number, default=same)
    d.add_argument("--student", default=same, help="name on the stamps (Démo)")
    d.add_argument("--lang", choices=LANGS, default=same)
    d.add_argument("--pace", type=interval, default=None, metavar="S",
                   help="seconds between actions, shown in the terminal (for projecting); "
                   "without it the demo runs headless")
    d.add_argument("--source", choices=SOURCES, default=same)
    return p


def quick_netstat(argv: list[str]) -> SimpleNamespace | None:
    """``netstat`` and its own options, read without argparse; None for anything else."""
    if not argv or argv[0] != "netstat":
        return None
    args = SimpleNamespace(command="netstat", port=DEFAULT_PORT, b=False, all=False,
                           json=False, source="auto", lang=default_lang())
    words = iter(argv[1:])
    for word in words:
        name, eq, value = word.partition("=")
        if name in ("-b", "--all", "--json") and not eq:
            setattr(args, name.lstrip("-"), True)
            continue
        if name not in ("--port", "--source", "--lang"):
            return None
        if not eq:
            value = next(words, "")
        if name == "--port":
            if not value.isdigit() or not 1 <= int(value) <= 65535:
                return None  # argparse says what is wrong
            args.port = int(value)
        elif name == "--source" and value in SOURCES:
            args.source = value
        elif name == "--lang" and value in LANGS:
            args.lang = value
        else:
            return None
    return args


def main(argv: list[str] | None = None) -> int:
    utf8_stdio()
    words = sys.argv[1:] if argv is None else argv
    args: Any = quick_netstat(words)
    if args is None:
        args = build_parser().parse_args(words)
    set_language(args.lang)
    # ClearParser makes subparsers err in one line too.
    try:
        if args.command == "netstat":
            from tcp_observatory.lab.observe.netstat import run_netstat

            return run_netstat(args)
        if args.command == "demo":
            from tcp_observatory.tui.demo import run_demo

            return run_demo(args)
        if args.command == "watch":
            from tcp_observatory.lab.observe.netstat import run_watch

            return run_watch(args)
        if args.command == "verify":
            from tcp_observatory.lab.grading.grade import run_verify

            return run_verify(args)
        # The app's start makes some 74,000 lasting objects and almost no garbage (180
        # passes of the cyclic collector freed 2,000), and those passes cost it a sixth of
        # its time: the collector is held off until the first screen is drawn (tui.app
        # gives it back then), or until the end if the app never starts.
        gc.disable()
        try:
            from tcp_observatory.tui.run import run_app

            return run_app(args)
        finally:
            gc.enable()
    except LabError as exc:
        print(exc, file=sys.stderr, flush=True)
        return exc.exit_code
    except KeyboardInterrupt:
        return 130
