"""``--record``: the captured audio streamed to a WAV file as it arrives.

The file is created readable by the user only (0600) before anything is written, filled block by
block (16-bit PCM, mono, at the capture rate: exactly what the analysis was fed), synced to disk
whenever the journal is, and closed on every way out of a session (the ``with`` statement of the
runner). libsndfile writes the final sizes into the header on close; a file cut short by a crash has a
header that says "length unknown", which libsndfile (and so ``listenkit analyze``) reads up to the
last block written, and :func:`repair_wav_header` rewrites properly.
"""

from __future__ import annotations

import os
from pathlib import Path
from types import TracebackType

import numpy as np
import soundfile as sf

from .. import wording
from ..errors import OutputError
from ..fileio import PRIVATE_FILE_MODE

#: sample format of recordings
SUBTYPE = "PCM_16"


class WavRecorder:
    """A WAV file being written while a session runs.

    Parameters
    ----------
    path : str or Path
        Where to write (replaced when it exists).
    sample_rate : int
        Capture rate, Hz.

    Raises
    ------
    OutputError
        When the file cannot be created.
    """

    def __init__(self, path: str | Path, sample_rate: int) -> None:
        self.path = Path(path)
        self.sample_rate = int(sample_rate)
        self.frames_written = 0
        try:
            fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, PRIVATE_FILE_MODE)
            os.fchmod(fd, PRIVATE_FILE_MODE)  # an existing file keeps its old mode otherwise
            os.close(fd)
            self._file: sf.SoundFile | None = sf.SoundFile(
                str(self.path), "w", samplerate=self.sample_rate, channels=1, subtype=SUBTYPE, format="WAV"
            )
        except (OSError, sf.SoundFileError, RuntimeError) as exc:
            raise OutputError(f"{self.path}: {wording.LIVE_RECORD_FAILED.format(detail=_why(exc))}") from None

    @property
    def closed(self) -> bool:
        return self._file is None

    def write(self, block: np.ndarray) -> None:
        """Append mono samples (float in [-1, 1], shape (n,))."""
        if self._file is None or block.size == 0:
            return
        try:
            self._file.write(np.asarray(block, dtype=np.float32))
        except (OSError, sf.SoundFileError, RuntimeError) as exc:
            self.close()
            raise OutputError(f"{self.path}: {wording.LIVE_RECORD_FAILED.format(detail=_why(exc))}") from None
        self.frames_written += int(block.shape[0])

    def sync(self) -> None:
        """Push what was written to the disk (libsndfile's sync: fsync)."""
        if self._file is not None:
            self._file.flush()

    def close(self) -> None:
        """Finish the header and close (idempotent; never raises for an already broken file)."""
        f, self._file = self._file, None
        if f is not None:
            try:
                f.close()
            except (OSError, sf.SoundFileError, RuntimeError):
                pass

    def __enter__(self) -> "WavRecorder":
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.close()


def _why(exc: BaseException) -> str:
    return getattr(exc, "strerror", None) or str(exc).strip() or type(exc).__name__


def repair_wav_header(path: str | Path) -> bool:
    """Rewrite the header of a WAV left by a crash so that it states its real length.

    Returns
    -------
    bool
        True when the file was opened and closed in place by libsndfile (header rewritten); False when
        it is missing or unreadable (then it is left as it is).
    """
    try:
        with sf.SoundFile(str(path), "r+"):
            pass
    except (OSError, sf.SoundFileError, RuntimeError):
        return False
    return True
