"""Small helpers for the command lines: argument types and an argparse that errs in one line."""

from __future__ import annotations

import argparse
import ipaddress
import sys
from typing import NoReturn

from tcp_observatory.lab.i18n import current_language, t
from tcp_observatory.lab.net.modes import DEFAULT_MAX_CLIENTS


def _bad(key: str, **values: object) -> argparse.ArgumentTypeError:
    return argparse.ArgumentTypeError(t(key, current_language(), **values))


class ClearParser(argparse.ArgumentParser):
    """Bad arguments end in one sentence and exit status 2, without the usage dump."""

    def error(self, message: str) -> NoReturn:
        print(t("arg.error", current_language(), prog=self.prog, message=message),
              file=sys.stderr, flush=True)
        raise SystemExit(2)


def port_number(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise _bad("arg.port", value=repr(text)) from None
    if not 0 <= value <= 65535:
        raise _bad("arg.port", value=value)
    return value


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise _bad("arg.whole", value=repr(text)) from None
    if value < 1:
        raise _bad("arg.at_least_1", value=value)
    return value


def non_negative_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise _bad("arg.whole", value=repr(text)) from None
    if value < 0:
        raise _bad("arg.at_least_0", value=value)
    return value


def interval(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise _bad("arg.seconds", value=repr(text)) from None
    if not 0.01 <= value <= 60:  # also refuses nan and inf
        raise _bad("arg.interval_range", value=value)
    return value


def timeout_seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise _bad("arg.seconds", value=repr(text)) from None
    if not 0 < value <= 3600:  # also refuses nan and inf
        raise _bad("arg.timeout_range", value=text)
    return value


def is_loopback(host: str) -> bool:
    """True for addresses that only this machine can reach."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def add_server_options(p: argparse.ArgumentParser) -> None:
    """The server's options, the same for the app and for ``python -m lab.server``."""
    p.add_argument("--max-clients", type=positive_int, default=DEFAULT_MAX_CLIENTS,
                   help="threaded mode: most clients served at once")
    p.add_argument("--backlog", type=positive_int, default=None,
                   help="length of the accept queue (1 single, 5 threaded, as the handout)")
    p.add_argument("--idle-timeout", type=timeout_seconds, default=None, metavar="SECONDS",
                   help="close a client silent for this long (off by default)")
