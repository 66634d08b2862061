"""``python -m lab.server``: the lab's server in a terminal, one flushed line per event."""

from __future__ import annotations

import argparse
import contextlib
import json
import queue
import signal
import sys
import threading
from typing import TextIO

from tcp_observatory.lab.cmdline import (
    ClearParser,
    add_server_options,
    is_loopback,
    port_number,
)
from tcp_observatory.lab.errors import LabError
from tcp_observatory.lab.i18n import LANGS, default_lang, set_language, t
from tcp_observatory.lab.net.describe import describe_event
from tcp_observatory.lab.net.server import (
    DEFAULT_PORT,
    SINGLE,
    THREADED,
    LabServer,
    ServerEvent,
)
from tcp_observatory.lab.text import utf8_stdio


def format_event(e: ServerEvent, lang: str, close_after_fin: bool = False) -> str:
    return describe_event(e, lang, close_after_fin)


class LineWriter:
    """The one writer of the console's output: threads hand it whole lines, it writes them
    in order, each whole, one event per line, however many threads report at once."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self._lines: queue.SimpleQueue[str | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="server-output", daemon=True)
        self._thread.start()

    def put(self, line: str) -> None:
        self._lines.put(line)

    def _run(self) -> None:
        while True:
            line = self._lines.get()
            if line is None:
                return
            batch = [line]
            while True:  # what is waiting goes out in one write, then one flush
                try:
                    more = self._lines.get_nowait()
                except queue.Empty:
                    break
                if more is None:
                    self._write(batch)
                    return
                batch.append(more)
            self._write(batch)

    def _write(self, lines: list[str]) -> None:
        with contextlib.suppress(OSError, ValueError):  # a closed pipe ends the output only
            self._stream.write("".join(line + "\n" for line in lines))
            self._stream.flush()

    def close(self, timeout: float = 5.0) -> None:
        self._lines.put(None)
        self._thread.join(timeout)


def event_json(e: ServerEvent, lang: str, close_after_fin: bool,
               address: str | None = None) -> str:
    """One event as one JSON object (the text as received, the sentence as shown)."""
    return json.dumps({
        "time": e.time, "kind": e.kind, "peer": str(e.peer) if e.peer else None,
        "thread": e.thread or None, "serial": e.serial or None, "mode": e.mode,
        "text": e.text if e.kind == "message" else None, "count": e.count,
        "address": address if e.kind == "listening" else None,
        # overflow: the handshakes the kernel left waiting at the full queue, by client end
        "stuck": None if e.drops is None else [
            {"peer": str(s.peer), "state": s.state, "tries": s.tries} for s in e.drops.stuck],
        "line": format_event(e, lang, close_after_fin) or None,
    }, ensure_ascii=False)


def build_parser() -> argparse.ArgumentParser:
    p = ClearParser(prog="python -m lab.server", description="The lab's TCP server.")
    p.add_argument("--threaded", action="store_true", help="one thread per client (listing 3)")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (127.0.0.1)")
    p.add_argument("--port", type=port_number, default=DEFAULT_PORT, help="port (9500)")
    p.add_argument(
        "--close-after-fin", action="store_true",
        help="single mode: close the connection after \"Fin\" (the handout does not)",
    )
    add_server_options(p)
    p.add_argument("--json", action="store_true", help="one JSON object per event and line")
    p.add_argument("--lang", choices=LANGS, default=default_lang())
    return p


def main(argv: list[str] | None = None) -> int:
    utf8_stdio()
    args = build_parser().parse_args(argv)
    lang = args.lang
    set_language(lang)
    done = threading.Event()
    out = LineWriter(sys.stdout)

    def show(e: ServerEvent) -> None:  # on the server's threads: hand over, never block
        if args.json:
            out.put(event_json(e, lang, args.close_after_fin, str(server.address)))
            return
        line = format_event(e, lang, args.close_after_fin)
        if line:
            out.put(line)

    server = LabServer(
        args.host, args.port, mode=THREADED if args.threaded else SINGLE,
        close_after_fin=args.close_after_fin, max_clients=args.max_clients, on_event=show,
        backlog=args.backlog, idle_timeout=args.idle_timeout,
    )
    try:
        addr = server.start()
    except LabError as exc:
        out.close()
        print(exc, file=sys.stderr, flush=True)
        return 1
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    try:  # from here on, Ctrl+C (even during the first lines) ends the server cleanly
        # Said once the server is running: whoever waits for this line may connect at once.
        if not args.json:
            out.put(t("srv.listening", lang, addr=addr, mode=t(f"mode.{server.mode}", lang),
                      backlog=server.backlog))
        if not is_loopback(args.host):
            print("!! " + t("warn.exposed", lang, addr=addr), file=sys.stderr, flush=True)
        while not done.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
        out.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
