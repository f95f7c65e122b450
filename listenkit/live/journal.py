"""The crash-safe journal of a live session: what is needed to finalize it, written as it goes.

While ``listenkit live`` runs, the :class:`~listenkit.pipeline.Analyzer`'s compact per-frame rows
(40 log-mel powers + log energy in the analyzer's float16, and the voice detector's decisions, for every
10 ms frame: the exact input of :meth:`Analyzer.finalize`, about 30 MB per hour) are appended to a journal file in the user's data folder and synced to disk
every few seconds. Never audio. A crash or a power cut loses only the rows since the last sync; the
next ``listenkit live`` (or ``listenkit recover``) finalizes what the journal holds. A session that
ends normally removes its journal.

File format (``*.journal`` in ``<data dir>/live/``, mode 0600)::

    b"LKJOURNAL\\n"                          magic
    one line of JSON + b"\\n"                header: version, started_at, source, sample_rate, ...
    records, each:
        b"ROWS"  uint32 n  uint64 samples  uint8 width
                                              little-endian; samples = 16 kHz samples taken in so far;
                                              width = bytes per number of the rows (2 or 4)
        n * 41 float16 (or float32)           the rows, in the analyzer's own precision
        n * uint8                             the speech decisions: bit 0 the detector's, bit 1 its
                                              looser level's (a journal without bit 1 reads as
                                              both levels equal)
        uint32 crc32                          of everything in the record after the magic

Reading stops at the first record that is cut short or fails its checksum (the crash happened while
writing it); everything before it is used. A running session holds an exclusive ``flock`` on its
journal, so another process never takes a live journal for a leftover one.
"""

from __future__ import annotations

import fcntl
import json
import os
import struct
import time
import zlib
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np

from .. import wording
from ..errors import OutputError, SessionFileError
from ..features import SAMPLE_RATE, FeatureExtractor
from ..userdata import PRIVATE_FILE_MODE, data_dir, ensure_private_dir

MAGIC = b"LKJOURNAL\n"
RECORD_MAGIC = b"ROWS"
VERSION = 1
SUFFIX = ".journal"
#: sub-folder of the data folder that holds journals and recovered sessions
FOLDER = "live"
#: seconds between two syncs of the journal to disk
SYNC_EVERY_S = 3.0

_N_FEATURES = FeatureExtractor.n_features
_HEAD = struct.Struct("<IQB")  # rows in the record, 16 kHz samples so far, bytes per row number
_DTYPES = {2: "<f2", 4: "<f4"}
_CRC = struct.Struct("<I")


def journal_folder(*, create: bool = True) -> Path:
    """``<data dir>/live``, where journals live (created 0700 when ``create``)."""
    folder = data_dir(create=create) / FOLDER
    if create:
        ensure_private_dir(folder)
    return folder


class JournalWriter:
    """Appends an analyzer's rows to a new journal file and syncs them every few seconds.

    Parameters
    ----------
    header : dict
        JSON-serialisable facts about the session (source, sample_rate, num_speakers, record, ...).
    folder : Path, optional
        Where to create the journal; :func:`journal_folder` by default.
    sync_every_s : float
        Seconds between syncs (see :meth:`maybe_sync`).

    Raises
    ------
    OutputError
        When the journal cannot be created.
    """

    def __init__(self, header: dict[str, Any], *, folder: Path | None = None, sync_every_s: float = SYNC_EVERY_S) -> None:
        folder = folder if folder is not None else journal_folder()
        stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
        self.path = folder / f"{stamp}-{os.getpid()}{SUFFIX}"
        self.sync_every_s = float(sync_every_s)
        self.rows_written = 0
        self._last_sync = time.monotonic()
        full_header = {"version": VERSION, "started_at": datetime.now().astimezone().isoformat(timespec="seconds"), **header}
        try:
            fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE_MODE)
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            self._fh = os.fdopen(fd, "wb")
            self._fh.write(MAGIC + json.dumps(full_header).encode("utf-8") + b"\n")
            self._sync()
            _sync_folder(folder)
        except OSError as exc:
            raise OutputError(f"{self.path}: {wording.LIVE_JOURNAL_FAILED.format(detail=exc.strerror or exc)}") from None

    @property
    def closed(self) -> bool:
        return self._fh.closed

    def append(self, rows: np.ndarray, speech: np.ndarray, samples_16k: int,
               loose: np.ndarray | None = None) -> None:
        """Write rows ``rows_written ..`` of ``rows`` / ``speech`` (all rows so far; only new ones are written).

        Parameters
        ----------
        rows : ndarray, shape (n, 41)
        speech : ndarray of bool, shape (n,)
        samples_16k : int
            16 kHz samples the analyzer has taken in (the session length so far).
        loose : ndarray of bool, shape (n,), optional
            The voice detector's looser level (:meth:`Analyzer.loose_speech`).
        """
        width = 2 if rows.dtype == np.float16 else 4  # stored exactly as the analyzer holds them
        new_rows = np.ascontiguousarray(rows[self.rows_written :], dtype=_DTYPES[width])
        span = slice(self.rows_written, self.rows_written + new_rows.shape[0])
        new_speech = np.asarray(speech[span], dtype=np.uint8)
        if loose is not None:
            new_speech = new_speech | (np.asarray(loose[span], dtype=np.uint8) << 1)
        new_speech = np.ascontiguousarray(new_speech, dtype=np.uint8)
        n = new_rows.shape[0]
        if new_speech.shape[0] != n:
            raise ValueError("rows and speech differ in length")
        # written piece by piece from the arrays' own memory: no copies the size of the record
        parts = (_HEAD.pack(n, int(samples_16k), width), _bytes_view(new_rows), _bytes_view(new_speech))
        crc = 0
        for part in parts:
            crc = zlib.crc32(part, crc)
        try:
            self._fh.write(RECORD_MAGIC)
            for part in parts:
                self._fh.write(part)
            self._fh.write(_CRC.pack(crc))
        except OSError as exc:
            raise OutputError(f"{self.path}: {wording.LIVE_JOURNAL_FAILED.format(detail=exc.strerror or exc)}") from None
        self.rows_written += n

    def maybe_sync(self, rows: np.ndarray, speech: np.ndarray, samples_16k: int, *, now: float | None = None,
                   loose: np.ndarray | None = None) -> bool:
        """Append the new rows and sync, when :attr:`sync_every_s` has passed since the last sync.

        Returns True when it synced.
        """
        now = time.monotonic() if now is None else now
        if now - self._last_sync < self.sync_every_s:
            return False
        self.append(rows, speech, samples_16k, loose)
        self._sync()
        self._last_sync = now
        return True

    def flush_all(self, rows: np.ndarray, speech: np.ndarray, samples_16k: int,
                  loose: np.ndarray | None = None) -> None:
        """Append every row not yet written and sync (at the end of a session, before finalizing)."""
        self.append(rows, speech, samples_16k, loose)
        self._sync()

    def _sync(self) -> None:
        self._fh.flush()
        os.fsync(self._fh.fileno())

    def close(self, *, remove: bool) -> None:
        """Close the journal; ``remove`` deletes it (the session was delivered)."""
        if not self._fh.closed:
            try:
                self._fh.close()
            except OSError:
                pass
        if remove:
            try:
                self.path.unlink()
            except FileNotFoundError:
                pass


def _bytes_view(a: np.ndarray) -> memoryview | bytes:
    """The bytes of a contiguous array without copying them (``b""`` for an empty one)."""
    return memoryview(a.reshape(-1).view(np.uint8)) if a.size else b""


def _sync_folder(folder: Path) -> None:
    """fsync a folder so a new file's name survives a power cut (best effort)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


@dataclass
class JournalContents:
    """What a journal holds.

    Attributes
    ----------
    path : Path
    header : dict
    rows : ndarray of float16 (or float32), shape (n, 41)
        As the analyzer held them.
    speech : ndarray of bool, shape (n,)
    loose : ndarray of bool, shape (n,)
        The voice detector's looser level (every ``speech`` frame included).
    samples_16k : int
        Length of the session at the last complete record, 16 kHz samples.
    damaged_tail : bool
        True when bytes after the last good record were left out (cut short by a crash).
    """

    path: Path
    header: dict[str, Any]
    rows: np.ndarray
    speech: np.ndarray
    loose: np.ndarray
    samples_16k: int
    damaged_tail: bool

    @property
    def elapsed_s(self) -> float:
        """Length of the session the journal covers, seconds."""
        return self.samples_16k / SAMPLE_RATE


def read_journal(path: str | Path) -> JournalContents:
    """Read a journal, up to its last complete record.

    Raises
    ------
    SessionFileError
        Missing, unreadable, or not a listenkit journal (bad magic or header).
    """
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise SessionFileError(f"{path}: {wording.LIVE_JOURNAL_MISSING}") from None
    except OSError as exc:
        raise SessionFileError(f"{path}: {wording.LIVE_JOURNAL_UNREADABLE.format(detail=exc.strerror or exc)}") from None
    if not data.startswith(MAGIC) or b"\n" not in data[len(MAGIC) :]:
        raise SessionFileError(f"{path}: {wording.LIVE_JOURNAL_NOT_JOURNAL}")
    end = data.index(b"\n", len(MAGIC))
    try:
        header = json.loads(data[len(MAGIC) : end].decode("utf-8"))
        if not isinstance(header, dict) or header.get("version") != VERSION:
            raise ValueError("version")
    except (ValueError, UnicodeDecodeError):
        raise SessionFileError(f"{path}: {wording.LIVE_JOURNAL_NOT_JOURNAL}") from None
    pos = end + 1
    rows_parts: list[np.ndarray] = []
    speech_parts: list[np.ndarray] = []
    samples = 0
    damaged = False
    while pos < len(data):
        head_end = pos + len(RECORD_MAGIC) + _HEAD.size
        if data[pos : pos + len(RECORD_MAGIC)] != RECORD_MAGIC or head_end > len(data):
            damaged = True
            break
        n, rec_samples, width = _HEAD.unpack(data[pos + len(RECORD_MAGIC) : head_end])
        if width not in _DTYPES:
            damaged = True
            break
        body_end = head_end + n * (_N_FEATURES * width + 1)
        if body_end + _CRC.size > len(data):
            damaged = True
            break
        body = data[pos + len(RECORD_MAGIC) : body_end]
        if _CRC.unpack(data[body_end : body_end + _CRC.size])[0] != zlib.crc32(body):
            damaged = True
            break
        rows_parts.append(
            np.frombuffer(data, dtype=_DTYPES[width], count=n * _N_FEATURES, offset=head_end).reshape(n, _N_FEATURES)
        )
        speech_parts.append(np.frombuffer(data, dtype=np.uint8, count=n, offset=head_end + n * _N_FEATURES * width))
        samples = int(rec_samples)
        pos = body_end + _CRC.size
    if rows_parts:
        rows = np.concatenate(rows_parts)
        rows = rows.astype(rows_parts[0].dtype.newbyteorder("="), copy=False)
    else:
        rows = np.zeros((0, _N_FEATURES), np.float16)
    levels = np.concatenate(speech_parts) if speech_parts else np.zeros(0, np.uint8)
    speech = (levels & 1) != 0
    loose = ((levels & 2) != 0) | speech
    return JournalContents(path, header, rows, speech, loose, samples, damaged)


def is_in_use(path: str | Path) -> bool:
    """True when a running listenkit session holds the journal's lock."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    except OSError:
        return False
    finally:
        os.close(fd)  # closing releases a lock taken here
    return False


def leftover_journals(folder: Path | None = None) -> list[Path]:
    """Journals no running session holds (left by a crash), oldest first."""
    folder = folder if folder is not None else journal_folder(create=False)
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.glob(f"*{SUFFIX}") if p.is_file() and not is_in_use(p))
