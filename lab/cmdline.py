"""Small helpers for the command lines: argument types and an argparse that errs in one line."""

from __future__ import annotations

import argparse
import contextlib
import ipaddress
import sys
from typing import NoReturn


class ClearParser(argparse.ArgumentParser):
    """Bad arguments end in one sentence and exit status 2, without the usage dump."""

    def error(self, message: str) -> NoReturn:
        print(f"{self.prog}: {message} (see --help).", file=sys.stderr, flush=True)
        raise SystemExit(2)


def port_number(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a port number (1-65535, or 0 for any free port)") from None
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(
            f"{value} is not a port number (1-65535, or 0 for any free port)")
    return value


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} must be at least 1")
    return value


def non_negative_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"{value} must be 0 or more")
    return value


def interval(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not 0.01 <= value <= 60:  # also refuses nan and inf
        raise argparse.ArgumentTypeError(f"{value} s is out of range (0.01 to 60 s)")
    return value


def timeout_seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not 0 < value <= 3600:  # also refuses nan and inf
        raise argparse.ArgumentTypeError(f"{text} s is out of range (more than 0, at most 3600)")
    return value


def utf8_stdio() -> None:
    """Windows consoles default to a legacy code page: force UTF-8 so « » and ↔ print."""
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(AttributeError, ValueError):
            stream.reconfigure(encoding="utf-8", errors="replace")  # type: ignore[union-attr]


def is_loopback(host: str) -> bool:
    """True for addresses that only this machine can reach."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
