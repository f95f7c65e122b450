"""Where listenkit keeps the user's own data (session history, voice profiles).

The folder is the platform's user data directory (``platformdirs``: ``~/.local/share/listenkit`` on
Linux), or the folder named by the environment variable ``LISTENKIT_DATA_DIR`` when it is set (tests and
people who want their data elsewhere use it). The folder is created readable by the user only (0700);
files in it are created 0600.
"""

from __future__ import annotations

import os
from pathlib import Path

from .errors import OutputError

#: environment variable that overrides the data folder
DATA_DIR_ENV = "LISTENKIT_DATA_DIR"
PRIVATE_DIR_MODE = 0o700
PRIVATE_FILE_MODE = 0o600
HISTORY_FILE_NAME = "history.sqlite3"


def data_dir(*, create: bool = True) -> Path:
    """The user's listenkit data folder.

    Parameters
    ----------
    create : bool
        Create the folder (and missing parents) with mode 0700 when it does not exist.

    Returns
    -------
    Path
        ``$LISTENKIT_DATA_DIR`` when set and not empty, else the platform's user data dir for listenkit.

    Raises
    ------
    OutputError
        When the folder cannot be created, or the path exists and is not a folder.
    """
    override = os.environ.get(DATA_DIR_ENV, "").strip()
    if override:
        folder = Path(override).expanduser()
    else:
        import platformdirs

        folder = Path(platformdirs.user_data_dir("listenkit", appauthor=False))
    if create:
        ensure_private_dir(folder)
    return folder


def ensure_private_dir(folder: Path) -> Path:
    """Create ``folder`` (with parents) if missing; a folder listenkit creates gets mode 0700.

    An existing folder keeps its permissions: it may be one the user chose on purpose.

    Raises
    ------
    OutputError
        When it cannot be created or is not a folder.
    """
    if folder.is_dir():
        return folder
    if folder.exists():
        raise OutputError(f"{folder}: is not a folder (listenkit keeps its data there)")
    try:
        folder.mkdir(mode=PRIVATE_DIR_MODE, parents=True, exist_ok=True)
        os.chmod(folder, PRIVATE_DIR_MODE)  # mkdir's mode is reduced by the umask
    except OSError as exc:
        raise OutputError(f"{folder}: cannot create the data folder ({exc.strerror or exc})") from None
    return folder


def history_path() -> Path:
    """Path of the session history database inside :func:`data_dir` (the folder is created)."""
    return data_dir() / HISTORY_FILE_NAME
