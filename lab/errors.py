"""Errors a user can cause, each carrying one sentence that says what to do."""

from __future__ import annotations

import errno
import sys


class LabError(Exception):
    """An error to show as one sentence, with a non-zero exit, never as a traceback."""

    exit_code = 1


def bind_error(exc: OSError, host: str, port: int) -> LabError:
    """Translate an OSError from bind()/listen() into a sentence a student can act on."""
    where = f"{host}:{port}"
    code = exc.errno
    win = getattr(exc, "winerror", None)
    if code == errno.EADDRINUSE or win == 10048:
        return LabError(
            f"Port {port} is already in use on {host}: another server (maybe another copy of "
            f"this lab) is listening there; stop it or choose another port with --port."
        )
    if code in (errno.EACCES, errno.EPERM):
        return LabError(
            f"Permission denied to listen on {where}: ports below 1024 need administrator "
            f"rights; choose a port above 1024 with --port."
        )
    if code in (errno.EADDRNOTAVAIL, getattr(errno, "WSAEADDRNOTAVAIL", -1)) or win == 10049:
        return LabError(
            f"Cannot listen on {where}: this machine has no such address; use 127.0.0.1 "
            f"or one of its own addresses with --host."
        )
    return LabError(f"Cannot listen on {where}: {exc.strerror or exc}.")


def connect_error(exc: OSError, host: str, port: int) -> LabError:
    code = exc.errno
    if code == errno.ECONNREFUSED or getattr(exc, "winerror", None) == 10061:
        return LabError(
            f"Nobody is listening on {host}:{port}: start the server first "
            f"(python -m lab.server --port {port})."
        )
    if isinstance(exc, TimeoutError) or code == errno.ETIMEDOUT:
        return LabError(f"Connecting to {host}:{port} timed out: is the server's queue full?")
    return LabError(f"Cannot connect to {host}:{port}: {exc.strerror or exc}.")


def die(message: str, code: int = 1) -> None:
    """Print one sentence on stderr and exit."""
    print(message, file=sys.stderr, flush=True)
    raise SystemExit(code)
