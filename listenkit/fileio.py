"""Writing user files safely: atomically (never half-written) and readable by the user only."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from .errors import OutputError

PRIVATE_FILE_MODE = 0o600


def atomic_write_bytes(path: str | Path, data: bytes, *, mode: int = PRIVATE_FILE_MODE) -> Path:
    """Write ``data`` to ``path`` through a temporary file in the same folder and an atomic rename.

    Either the whole new file is there afterwards or the old state is untouched; the file gets
    permission ``mode`` (user read/write only by default: these files describe private talk).

    Raises
    ------
    OutputError
        When the folder does not exist or cannot be written.
    """
    path = Path(path)
    folder = path.parent if str(path.parent) else Path(".")
    if path.is_dir():
        raise OutputError(f"{path}: is a folder, not a file name")
    if not folder.is_dir():
        raise OutputError(f"{path}: folder {folder} does not exist")
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=folder)
    except OSError as exc:
        raise OutputError(f"{path}: cannot write ({exc.strerror or exc})") from None
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except OSError as exc:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise OutputError(f"{path}: cannot write ({exc.strerror or exc})") from None
    return path


def atomic_write_text(path: str | Path, text: str, *, mode: int = PRIVATE_FILE_MODE) -> Path:
    """:func:`atomic_write_bytes` for UTF-8 text."""
    return atomic_write_bytes(path, text.encode("utf-8"), mode=mode)
