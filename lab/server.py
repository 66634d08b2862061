"""``python -m lab.server``: the lab's server in a terminal, one flushed line per event."""

from __future__ import annotations

import argparse
import signal
import sys
import threading

from lab.cmdline import ClearParser, is_loopback, port_number, positive_int, utf8_stdio
from lab.errors import LabError
from lab.i18n import LANGS, default_lang, set_language, t
from lab.net.server import (
    DEFAULT_MAX_CLIENTS,
    DEFAULT_PORT,
    SINGLE,
    THREADED,
    LabServer,
    ServerEvent,
)
from lab.text import printable


def format_event(e: ServerEvent, lang: str, close_after_fin: bool = False) -> str:
    peer = str(e.peer) if e.peer else ""
    prefix = f"[{e.thread}] " if e.thread else ""
    if e.kind == "listening":
        return ""
    if e.kind == "message":
        return prefix + t("srv.message", lang, peer=peer, text=printable(e.text))
    if e.kind == "fin":
        key = "srv.fin.held" if e.mode == SINGLE and not close_after_fin else "srv.fin"
        return prefix + t(key, lang, peer=peer)
    if e.kind == "refused":
        return t("srv.refused", lang, peer=peer, limit=e.text)
    return prefix + t(f"srv.{e.kind}", lang, peer=peer)


def build_parser() -> argparse.ArgumentParser:
    p = ClearParser(prog="python -m lab.server", description="The lab's TCP server.")
    p.add_argument("--threaded", action="store_true", help="one thread per client (listing 3)")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (127.0.0.1)")
    p.add_argument("--port", type=port_number, default=DEFAULT_PORT, help="port (9500)")
    p.add_argument(
        "--close-after-fin", action="store_true",
        help="single mode: close the connection after \"Fin\" (the handout does not)",
    )
    p.add_argument("--max-clients", type=positive_int, default=DEFAULT_MAX_CLIENTS,
                   help="threaded mode: most clients served at once")
    p.add_argument("--lang", choices=LANGS, default=default_lang())
    return p


def main(argv: list[str] | None = None) -> int:
    utf8_stdio()
    args = build_parser().parse_args(argv)
    lang = args.lang
    set_language(lang)
    done = threading.Event()

    def show(e: ServerEvent) -> None:
        line = format_event(e, lang, args.close_after_fin)
        if line:
            print(line, flush=True)

    server = LabServer(
        args.host, args.port, mode=THREADED if args.threaded else SINGLE,
        close_after_fin=args.close_after_fin, max_clients=args.max_clients, on_event=show,
    )
    try:
        addr = server.start()
    except LabError as exc:
        print(exc, file=sys.stderr, flush=True)
        return 1
    print(t("srv.listening", lang, addr=addr, mode=t(f"mode.{server.mode}", lang),
            backlog=server.backlog), flush=True)
    if not is_loopback(args.host):
        print("!! " + t("warn.exposed", lang, addr=addr), file=sys.stderr, flush=True)
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    try:
        while not done.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
