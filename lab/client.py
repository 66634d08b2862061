"""``python -m lab.client``: the lab's client in a terminal (listing 1)."""

from __future__ import annotations

import sys
import threading

from tcp_observatory.lab.cmdline import ClearParser, port_number, timeout_seconds
from tcp_observatory.lab.errors import LabError
from tcp_observatory.lab.i18n import LANGS, default_lang, set_language, t
from tcp_observatory.lab.net.client import ClientEvent, LabClient
from tcp_observatory.lab.net.framing import is_fin
from tcp_observatory.lab.text import printable, utf8_stdio


def main(argv: list[str] | None = None) -> int:
    utf8_stdio()
    p = ClearParser(prog="python -m lab.client", description="The lab's TCP client.")
    p.add_argument("--host", default="127.0.0.1", help="server address (127.0.0.1)")
    p.add_argument("--port", type=port_number, default=9500, help="server port (9500)")
    p.add_argument("--lang", choices=LANGS, default=default_lang())
    p.add_argument("--timeout", type=timeout_seconds, default=None,
                   help="give up connecting after this many seconds (default: as the OS does)")
    args = p.parse_args(argv)
    lang = args.lang
    set_language(lang)
    addr = f"{args.host}:{args.port}"

    connected = threading.Event()  # a failure before it is said by connect()'s exception

    def show(e: ClientEvent) -> None:
        if e.kind == "failed" and connected.is_set():  # a reset or an abort
            print(t("cli.error", lang, text=e.text), file=sys.stderr, flush=True)
        elif e.kind == "server-closed":
            print(t("cli.server_closed", lang), flush=True)
        elif e.kind == "received":
            print(t("cli.received", lang, text=printable(e.text)), flush=True)
        elif e.kind == "error":
            print(t("cli.error", lang, text=e.text), file=sys.stderr, flush=True)

    print(t("cli.title", lang), flush=True)
    print(t("cli.connecting", lang, addr=addr), flush=True)
    client = LabClient(args.host, args.port, on_event=show, connect_timeout=args.timeout)
    try:
        local = client.connect(timeout=None)
    except LabError as exc:
        print(exc, file=sys.stderr, flush=True)
        return 1
    except KeyboardInterrupt:
        client.close()
        return 130
    connected.set()
    print(t("cli.connected", lang, local=local, addr=addr), flush=True)
    try:
        for line in sys.stdin or ():  # no standard input at all: nothing to send
            text = line.rstrip("\r\n")
            if not client.send(text):
                break
            if is_fin(text):
                break
    except KeyboardInterrupt:
        pass
    finally:
        client.close()
    client.wait_closed(5)
    print(t("cli.bye", lang), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
