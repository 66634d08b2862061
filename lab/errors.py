"""Errors a user can cause, each carrying one sentence that says what to do."""

from __future__ import annotations

import errno
import sys

from tcp_observatory.lab.i18n import current_language, t


class LabError(Exception):
    """An error to show as one sentence, with a non-zero exit, never as a traceback."""

    exit_code = 1


def bind_error(exc: OSError, host: str, port: int) -> LabError:
    """Translate an OSError from bind()/listen() into a sentence a student can act on."""
    lang = current_language()
    where = f"{host}:{port}"
    code = exc.errno
    win = getattr(exc, "winerror", None)
    if code == errno.EADDRINUSE or win == 10048:
        return LabError(t("err.port_in_use", lang, port=port, host=host))
    if code in (errno.EACCES, errno.EPERM):
        return LabError(t("err.permission", lang, where=where))
    if code in (errno.EADDRNOTAVAIL, getattr(errno, "WSAEADDRNOTAVAIL", -1)) or win == 10049:
        return LabError(t("err.no_address", lang, where=where))
    return LabError(t("err.listen", lang, where=where, reason=exc.strerror or exc))


def is_refused(exc: OSError) -> bool:
    """A connection refused: ECONNREFUSED, or Windows' WSAECONNREFUSED (10061)."""
    return exc.errno in (errno.ECONNREFUSED, 10061) or getattr(exc, "winerror", None) == 10061


def connect_error(exc: OSError, host: str, port: int, *, windows: bool | None = None) -> LabError:
    """``windows`` (default: this system) says why a refusal may come: there a full accept
    queue refuses a connection, where Linux and macOS leave it in SYN_SENT."""
    lang = current_language()
    code = exc.errno
    if is_refused(exc):
        windows = sys.platform == "win32" if windows is None else windows
        return LabError(t("err.refused_full" if windows else "err.refused", lang, host=host,
                          port=port))
    if isinstance(exc, TimeoutError) or code == errno.ETIMEDOUT:
        return LabError(t("err.connect_timeout", lang, host=host, port=port))
    return LabError(t("err.connect", lang, host=host, port=port, reason=exc.strerror or exc))
