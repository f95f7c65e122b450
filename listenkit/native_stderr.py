"""Silencing what native libraries print straight to file descriptor 2.

libmpg123 (inside libsndfile) prints notes such as "Illegal Audio-MPEG-Header" on damaged MP3 data,
and PortAudio / ALSA print "Expression '...' failed in pa_linux_alsa.c" when devices are probed.
listenkit promises one clear line of its own per problem, so these are dropped while inside the block.
"""

from __future__ import annotations

import contextlib
import os
import sys
from typing import Iterator


@contextlib.contextmanager
def quiet_native_stderr() -> Iterator[None]:
    """Redirect fd 2 to /dev/null inside the block.

    Python's ``sys.stderr`` is flushed first and fd 2 restored afterwards; does nothing when fd 2
    cannot be duplicated (no real stderr).
    """
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError, AttributeError):
        yield
        return
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        try:
            os.dup2(devnull, 2)
        finally:
            os.close(devnull)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
