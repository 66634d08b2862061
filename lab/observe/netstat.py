"""``tcp-observatory netstat`` and ``watch``: the observer on a plain terminal, no Textual."""

from __future__ import annotations

import os
import sys

from tcp_observatory.lab.i18n import current_language, t
from tcp_observatory.lab.observe.model import Connection, RoleKind, Snapshot, Transition
from tcp_observatory.lab.observe.roles import classify, describe_role
from tcp_observatory.lab.observe.sources import Source, open_source
from tcp_observatory.lab.text import clock_text

TYPE_CHECKING = False  # not typing's: importing typing costs a one-shot command ~1.5 ms
if TYPE_CHECKING:
    import argparse

# A one-shot command imports only what it needs: the observer, threads and signals are
# imported by ``run_watch`` (a one-shot's whole run is worth ~40 ms; see bench/bench_scale.py).


def _source(kind: str, probe: bool = True) -> Source:
    try:
        return open_source(kind, probe=probe)
    except (ImportError, OSError) as exc:
        raise _no_source(kind, exc) from None


def _no_source(kind: str, exc: BaseException) -> SystemExit:
    """The source asked for cannot be used: one sentence, exit 1."""
    return SystemExit(_fail(t("err.no_source", current_language(), source=kind, reason=exc)))


def _fail(message: str) -> int:
    print(message, file=sys.stderr, flush=True)
    return 1


def _process_text(c: Connection, lang: str, windows: bool = False) -> str:
    if c.role.kind is RoleKind.QUEUED and c.pid is None:
        return "[-]"  # in the accept queue: no process owns it until accept() returns it
    if c.process:
        return f"[{c.process}]" + (f" (pid {c.pid})" if c.pid else "")
    if c.pid is None and c.inode:
        return f"[{t('ns.unknown_owner', lang)}]"  # held by a process this user cannot read
    if c.pid is None:
        return "[System]" if windows else f"[{t('ns.orphaned', lang)}]"
    return f"[pid {c.pid}]"


# Windows' netstat spells LISTEN its own way; every other state as the handout does.
WINDOWS_STATES = {"LISTEN": "LISTENING"}
WINDOWS_WIDTHS = (7, 23, 23)  # Proto, Local Address, Foreign Address, as Windows pads them
HANDOUT_WIDTHS = (6, 25, 25)


def sort_key(c: Connection) -> tuple[object, ...]:
    return (c.family, c.local.host, c.local.port, c.remote.host if c.remote else "",
            c.remote.port if c.remote else 0)


def render_netstat(snap: Snapshot, port: int | None, lang: str, with_process: bool,
                   windows: bool | None = None) -> str:
    """The handout's ``netstat -n`` layout (``-b``: the process on the line below).

    On Windows (``windows``, by default where this runs) it is Windows' own: its title,
    column widths and spellings (LISTENING; TCP for IPv6 too), and no owner line on a
    TIME_WAIT row, where Windows' netstat -b writes none.
    """
    windows = sys.platform == "win32" if windows is None else windows
    rows = sorted(snap.connections, key=sort_key)
    lines = ["", t("ns.title.win", lang), ""] if windows else [t("ns.title", lang), ""]
    widths = WINDOWS_WIDTHS if windows else HANDOUT_WIDTHS
    win = ".win" if windows else ""
    head = (t("ns.proto", lang), t("ns.local" + win, lang), t("ns.remote" + win, lang),
            t("ns.state", lang))
    lines.append("  " + "".join(h.ljust(w) for h, w in zip(head, widths, strict=False)) + head[3])
    wp, wl, wr = widths
    for c in rows:
        proto = "TCP" if windows else c.proto
        extra = ""
        if (c.recv_q or c.send_q) and not windows:
            extra = f"   Recv-Q {c.recv_q or 0} Send-Q {c.send_q or 0}"
        state = WINDOWS_STATES.get(c.state, c.state) if windows else c.state
        lines.append(f"  {proto:<{wp}}{c.local!s:<{wl}}{c.remote_text:<{wr}}{state}{extra}")
        if with_process and not (windows and c.state == "TIME_WAIT"):
            lines.append(f"   {_process_text(c, lang, windows)}  {describe_role(c.role, lang)}")
    if not rows:
        lines.append("  " + t("ns.none", lang, port=port if port is not None else "*"))
    return "\n".join(lines)


def run_netstat(args: argparse.Namespace) -> int:
    source = _source(args.source, probe=False)  # one poll: it is the probe
    port = None if args.all else args.port
    # Owners only where they are shown: -b's lines, or --json's fields (the lab port's
    # sockets' owners decide their roles); a bare listing reads nothing but the kernel's.
    shown = bool(args.b or args.json)
    try:
        snap = source.poll(port, owners=shown, lab_port=args.port if shown else None)
    except OSError as exc:
        source.close()
        if args.source != "auto" or source.name != "netlink":
            raise _no_source(args.source, exc) from None
        from tcp_observatory.lab.observe.sources import (
            PsutilSource,  # sock_diag blocked: as auto would
        )

        source = PsutilSource()
        snap = source.poll(port)
    finally:
        source.close()
    if shown:  # roles are shown only by -b and --json
        conns = classify(snap.connections, args.port,
                         owners_known=getattr(source, "owners_known", True))
        snap = snap._replace(connections=tuple(conns))
    if snap.warning:
        print(t("ns.own_only", args.lang), file=sys.stderr, flush=True)
    if args.json:
        import json  # only --json pays for it

        for c in sorted(snap.connections, key=sort_key):
            print(json.dumps(c.to_json(), ensure_ascii=False))
    else:
        print(render_netstat(snap, port, args.lang, args.b))
    return 0


def format_transition(tr: Transition, lang: str) -> str:
    c = tr.connection
    clock = clock_text(tr.time)
    before = tr.from_state or "—"
    lasted = f"  ({t('unit.seconds3', lang, s=tr.duration)})" if tr.duration is not None else ""
    mark = f"  [{t('ns.inferred', lang)}]" if tr.inferred else ""
    who = describe_role(c.role, lang)
    proc = _process_text(c, lang, sys.platform == "win32")
    return (f"{clock}  {c.proto:<5} {c.local!s:<22} {c.remote_text:<22} "
            f"{before:>12} -> {tr.to_state:<12} {who} {proc}{lasted}{mark}")


def run_watch(args: argparse.Namespace) -> int:
    import json
    import signal
    import threading

    from tcp_observatory.lab.observe.observer import Observer

    source = _source(args.source)
    done = threading.Event()
    warned = False
    closed = False

    def emit(snap: Snapshot, transitions: list[Transition]) -> None:
        nonlocal warned, closed
        if snap.warning and not warned:
            warned = True
            print(t("ns.own_only", args.lang), file=sys.stderr, flush=True)
        try:
            for tr in transitions:
                if args.json:
                    print(json.dumps(tr.to_json(), ensure_ascii=False), flush=True)
                else:
                    print(format_transition(tr, args.lang), flush=True)
        except BrokenPipeError:  # `watch --json | head -1`: the reader has gone, so do we
            closed = True
            done.set()

    def failed(exc: BaseException) -> None:
        print(t("err.source_failed", current_language(), reason=exc), file=sys.stderr, flush=True)

    def paced(interval: float, cost: float) -> None:
        key = "ns.paced" if interval > args.interval else "ns.unpaced"
        print(t(key, args.lang, interval=interval, cost=cost * 1000, asked=args.interval),
              file=sys.stderr, flush=True)

    observer = Observer(source, args.port, emit, interval=args.interval, all_ports=args.all,
                        on_error=failed, on_pace=paced)
    if not args.json:
        print(t("ns.watching", args.lang, port="*" if args.all else args.port,
                source=source.name, interval=args.interval), file=sys.stderr, flush=True)
    if hasattr(signal, "SIGTERM"):
        signal.signal(signal.SIGTERM, lambda *_: done.set())
    observer.start()
    try:
        while not done.wait(0.2):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        observer.stop()
        source.close()
    if closed:  # keep Python from complaining about the closed pipe at exit
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    return 0
