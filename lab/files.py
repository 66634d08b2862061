"""Files that must never be half-written: each write goes to a temporary file in the same
folder, then ``os.replace`` (or a hard link, for a name that must not be overwritten), so a
crash or a full disk never leaves a damaged file under a real name."""

from __future__ import annotations

import contextlib
import itertools
import os
import tempfile
from pathlib import Path

from tcp_observatory.lab.errors import LabError
from tcp_observatory.lab.i18n import t


# -- writing -----------------------------------------------------------------------------------
def reason_of(exc: OSError) -> str:
    return exc.strerror or str(exc)


def ensure_folder(folder: str | os.PathLike[str], lang: str = "fr") -> Path:
    path = Path(folder)
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise LabError(t("bundle.cannot_write", lang, folder=path, reason=reason_of(exc))) from None
    if not path.is_dir():
        reason = t("bundle.not_dir", lang)
        raise LabError(t("bundle.cannot_write", lang, folder=path, reason=reason))
    return path


def _temp_file(folder: Path, data: bytes, name: str) -> Path:
    """Write ``data`` to a new hidden temporary file in ``folder`` and flush it to disk."""
    fd, tmp = tempfile.mkstemp(prefix=f".{name}.", suffix=".tmp", dir=folder)
    try:
        if hasattr(os, "fchmod"):  # mkstemp makes it private; a submission is meant to be read
            os.fchmod(fd, 0o644)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    return Path(tmp)


def write_atomic(path: str | os.PathLike[str], data: bytes, lang: str = "fr") -> None:
    """Replace ``path`` with ``data`` all at once (a temporary file, then ``os.replace``)."""
    path = Path(path)
    tmp: Path | None = None
    try:
        tmp = _temp_file(path.parent, data, path.name)
        os.replace(tmp, path)
    except OSError as exc:
        if tmp is not None:
            with contextlib.suppress(OSError):
                tmp.unlink()
        raise LabError(t("bundle.cannot_write", lang, folder=path, reason=reason_of(exc))) from None


def write_new(folder: Path, stem: str, ext: str, data: bytes, lang: str) -> Path:
    """Write a file under a name not yet taken: ``stem.ext``, else ``stem-2.ext``, ..."""
    tmp: Path | None = None
    try:
        tmp = _temp_file(folder, data, stem + ext)
        for i in itertools.count(1):
            target = folder / f"{stem}{'' if i == 1 else f'-{i}'}{ext}"
            try:
                os.link(tmp, target)  # fails if the name exists: never overwrites
            except FileExistsError:
                continue
            except OSError:
                # No hard links on this file system: check, then rename.
                if target.exists():
                    continue
                os.replace(tmp, target)
            return target
    except OSError as exc:
        raise LabError(t("bundle.cannot_write", lang, folder=folder,
                         reason=reason_of(exc))) from None
    finally:
        if tmp is not None:
            with contextlib.suppress(OSError):
                tmp.unlink()
    raise AssertionError("unreachable")
