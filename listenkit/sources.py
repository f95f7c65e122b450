"""Audio sources: where the blocks of samples that feed the analysis come from.

A :class:`Source` yields 1-D float32 mono blocks in [-1, 1] at its ``sample_rate``. The same pipeline
consumes a :class:`FileSource` (a recording, read as fast as the decoder allows) or an
:class:`ArraySource` (samples already in memory: tests, or audio recorded live). Both check their input
before any work is done and raise :class:`~listenkit.errors.AudioInputError` with a one-line message
that names the file and the problem.

What libsndfile does with damaged files (measured with soundfile 0.13 / libsndfile 1.2, and asserted
in ``tests/test_sources.py``):

- a truncated WAV opens without complaint, with its length silently cut to the bytes present;
  :func:`_wav_missing_bytes` compares the ``data`` chunk size the header declares with the bytes there;
- a truncated FLAC reports its full length, then fails part way through decoding;
- a truncated OGG/Vorbis either fails to open or opens with 0 frames and a note that the stream ended
  without its end-of-stream flag;
- a truncated MP3 reports the length from its Xing header and then decodes fewer frames.

So a file is called truncated when the header and the data disagree, when decoding fails part way,
or when fewer frames decode than the file declares (for MP3, by more than one MPEG-2 frame).
"""

from __future__ import annotations

import contextlib
import os
import stat
import struct
from pathlib import Path
from typing import Any, Iterator, Protocol, runtime_checkable

import numpy as np
import soundfile as sf

from . import wording
from .errors import AudioInputError
from .native_stderr import quiet_native_stderr

#: Lowest sample rate accepted, Hz.
MIN_SAMPLE_RATE = 1000
#: Frames an MP3 may decode short of its declared length before it counts as truncated (one MPEG-2
#: frame; complete files written by libsndfile/LAME decode exactly their declared length).
MP3_SLACK_FRAMES = 576
#: Leading bytes of containers libsndfile can read; a file that starts with one of these but cannot
#: be opened is reported as damaged rather than as "not audio".
_AUDIO_MAGIC = (b"RIFF", b"RF64", b"fLaC", b"OggS", b"ID3", b"FORM", b"caff")


@runtime_checkable
class Source(Protocol):
    """Anything that yields mono audio blocks.

    Attributes
    ----------
    name : str
        File path, or ``"microphone"``, for messages and the session file.
    sample_rate : int
        Sample rate of the yielded blocks, Hz.
    """

    name: str
    sample_rate: int

    def blocks(self) -> Iterator[np.ndarray]:
        """Yield 1-D float32 blocks of samples in [-1, 1] at ``sample_rate`` (block lengths may vary)."""
        ...


def _fail(name: str, text: str) -> AudioInputError:
    """The exception for input ``name`` with the problem ``text`` (from :mod:`listenkit.wording`)."""
    return AudioInputError(f"{name}: {text}")


def _decoder_reason(exc: BaseException) -> str:
    """libsndfile's reason without its "Error opening 'path': " prefix, or a fallback text."""
    text = str(exc).strip()
    if text.startswith("Error opening"):
        text = text.split(": ", 1)[1] if ": " in text else ""
    if text.startswith("Error :"):
        text = text[len("Error :") :]
    text = text.strip().rstrip(".")
    return text or wording.AUDIO_DETAIL_NO_REASON


def _looks_like_audio(head: bytes) -> bool:
    """True when ``head`` starts like a container libsndfile reads (or an MPEG audio frame)."""
    if head.startswith(_AUDIO_MAGIC):
        return True
    return len(head) >= 2 and head[0] == 0xFF and (head[1] & 0xE0) == 0xE0


def _wav_missing_bytes(path: Path, file_size: int) -> tuple[int, int] | None:
    """Compare a RIFF/WAVE ``data`` chunk's declared size with the bytes actually in the file.

    Returns
    -------
    (declared, present) : tuple of int, or None
        Byte counts of the ``data`` chunk when the header declares more than the file holds; None when
        the file is complete, is not RIFF/WAVE, or declares an unknown length (0 or 0xFFFFFFFF, as
        written by recorders that were stopped before finishing the header).
    """
    with open(path, "rb") as fh:
        head = fh.read(12)
        if len(head) < 12 or head[:4] != b"RIFF" or head[8:12] != b"WAVE":
            return None
        pos = 12
        while pos + 8 <= file_size:
            fh.seek(pos)
            chunk = fh.read(8)
            if len(chunk) < 8:
                return None
            cid, size = chunk[:4], struct.unpack("<I", chunk[4:])[0]
            if cid == b"data":
                present = file_size - (pos + 8)
                if size in (0, 0xFFFFFFFF) or size <= present:
                    return None
                return size, present
            pos += 8 + size + (size & 1)
    return None


def _check_samples(name: str, block: np.ndarray, start_frame: int, sample_rate: int) -> None:
    """Raise when ``block`` (samples from frame ``start_frame`` on) holds NaN or infinity."""
    finite = np.isfinite(block)
    if not finite.all():
        bad = int(np.flatnonzero(~finite.reshape(len(block), -1).all(axis=1))[0])
        seconds = (start_frame + bad) / sample_rate
        raise _fail(name, wording.AUDIO_NAN.format(seconds=seconds))


def _to_mono(block: np.ndarray) -> np.ndarray:
    """Mean over channels of a (frames, channels) block, clipped to [-1, 1], as contiguous float32."""
    mono = block[:, 0] if block.shape[1] == 1 else block.mean(axis=1, dtype=np.float32)
    return np.clip(mono, -1.0, 1.0, dtype=np.float32)


class FileSource:
    """An audio file read block by block with soundfile (libsndfile): WAV, FLAC, OGG/Vorbis, MP3.

    The file is checked when the object is made, so a missing, empty, non-audio or visibly damaged
    file is reported before any analysis starts. Damage that only shows while decoding (a FLAC or MP3
    that stops early) is reported by :meth:`blocks` when it is met.

    Parameters
    ----------
    path : str or Path
        The audio file.
    block_frames : int, keyword-only
        Frames (samples per channel) decoded per block, at the file's own rate. The default, 2**18
        (16 s at 16 kHz, 6 s at 44.1 kHz, a few MB per block), spends ~0.5 s less per hour of audio
        on the per-block work of the streaming stages than 2**16 did; the results do not depend on it.

    Raises
    ------
    AudioInputError
        Missing file, a folder, an empty file, not audio, unreadable, a sample rate below 1000 Hz, no
        samples, or a header that promises more audio than the file holds.
    """

    def __init__(self, path: str | Path, *, block_frames: int = 1 << 18) -> None:
        if block_frames < 1:
            raise ValueError(f"block_frames must be at least 1, got {block_frames}")
        self.path = Path(path)
        self.name = str(path)
        self.block_frames = int(block_frames)
        self._head = b""
        size = self._check_file()
        info = self._open_info()
        self.sample_rate: int = int(info.samplerate)
        self._frames = int(info.frames)
        self._channels = int(info.channels)
        self._format = str(info.format)
        self._format_info = f"{info.format_info}, {info.subtype_info}"
        if self.sample_rate < MIN_SAMPLE_RATE:
            raise _fail(self.name, wording.AUDIO_BAD_RATE.format(rate=self.sample_rate))
        if self._frames == 0:
            if "ended unexpectedly" in info.extra_info:
                detail = wording.AUDIO_DETAIL_OGG_NO_END
                raise _fail(self.name, wording.AUDIO_TRUNCATED.format(detail=detail))
            raise _fail(self.name, wording.AUDIO_NO_FRAMES)
        if self._format == "WAV":
            missing = _wav_missing_bytes(self.path, size)
            if missing is not None:
                declared_s = self.duration_s * missing[0] / max(missing[1], 1)
                detail = wording.AUDIO_DETAIL_WAV_SHORT.format(declared_s=declared_s, present_s=self.duration_s)
                raise _fail(self.name, wording.AUDIO_TRUNCATED.format(detail=detail))

    def _check_file(self) -> int:
        """Check that the path is a readable, non-empty regular file; return its size in bytes."""
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            raise _fail(self.name, wording.AUDIO_MISSING) from None
        except OSError as exc:
            raise _fail(self.name, wording.AUDIO_UNREADABLE.format(detail=exc.strerror or exc)) from None
        if stat.S_ISDIR(st.st_mode):
            raise _fail(self.name, wording.AUDIO_IS_DIR)
        if not stat.S_ISREG(st.st_mode):
            raise _fail(self.name, wording.AUDIO_UNREADABLE.format(detail=wording.AUDIO_DETAIL_NOT_REGULAR))
        if st.st_size == 0:
            raise _fail(self.name, wording.AUDIO_EMPTY)
        try:
            with open(self.path, "rb") as fh:
                self._head = fh.read(16)
        except OSError as exc:
            raise _fail(self.name, wording.AUDIO_UNREADABLE.format(detail=exc.strerror or exc)) from None
        return int(st.st_size)

    def _open_info(self) -> Any:
        """soundfile's description of the file, or the matching user error."""
        try:
            with quiet_native_stderr():
                return sf.info(str(self.path))
        except (sf.SoundFileError, RuntimeError, TypeError, ValueError) as exc:
            reason = _decoder_reason(exc)
            if _looks_like_audio(self._head):
                detail = wording.AUDIO_DETAIL_HEADER.format(reason=reason)
                raise _fail(self.name, wording.AUDIO_TRUNCATED.format(detail=detail)) from None
            if "Format not recognised" in reason or "does not exist" in reason:
                reason = wording.AUDIO_DETAIL_UNRECOGNISED
            raise _fail(self.name, wording.AUDIO_NOT_AUDIO.format(detail=reason)) from None

    @property
    def frames(self) -> int:
        """Frames (samples per channel) the file declares."""
        return self._frames

    @property
    def channels(self) -> int:
        """Channels in the file (blocks are mixed down to mono)."""
        return self._channels

    @property
    def duration_s(self) -> float:
        """Declared length in seconds."""
        return self._frames / self.sample_rate

    @property
    def format_info(self) -> str:
        """Container and encoding in words, for example ``"WAV (Microsoft), Signed 16 bit PCM"``."""
        return self._format_info

    def blocks(self) -> Iterator[np.ndarray]:
        """Decode the file block by block.

        Yields
        ------
        ndarray of float32, shape (n,)
            Mono (mean of the channels) samples in [-1, 1] at :attr:`sample_rate`, ``n <= block_frames``.

        Raises
        ------
        AudioInputError
            NaN or infinite samples (with their time), or a file that stops decoding early.
        """
        quiet = quiet_native_stderr if self._format == "MP3" else contextlib.nullcontext
        done = 0
        with quiet():
            handle = sf.SoundFile(str(self.path))
        with handle:
            while True:
                try:
                    with quiet():
                        block = handle.read(self.block_frames, dtype="float32", always_2d=True)
                except (sf.SoundFileError, RuntimeError) as exc:
                    detail = wording.AUDIO_DETAIL_READ_FAILED.format(
                        read_s=done / self.sample_rate, reason=_decoder_reason(exc)
                    )
                    raise _fail(self.name, wording.AUDIO_TRUNCATED.format(detail=detail)) from None
                if len(block) == 0:
                    break
                _check_samples(self.name, block, done, self.sample_rate)
                done += len(block)
                yield _to_mono(block)
        slack = MP3_SLACK_FRAMES if self._format == "MP3" else 0
        if done < self._frames - slack:
            detail = wording.AUDIO_DETAIL_STOPPED.format(read_s=done / self.sample_rate, declared_s=self.duration_s)
            raise _fail(self.name, wording.AUDIO_TRUNCATED.format(detail=detail))


class ArraySource:
    """Samples already in memory, served as blocks (tests, or audio recorded live).

    Parameters
    ----------
    samples : array_like, shape (n,) or (n, channels)
        Float samples in [-1, 1] (values outside are clipped), or integer PCM (scaled by its full
        range). Channels are mixed down by their mean.
    sample_rate : int
        Hz, at least 1000.
    name : str, keyword-only
        Name used in messages.
    block_size : int, keyword-only
        Samples per yielded block (the last block may be shorter).

    Raises
    ------
    AudioInputError
        Bad shape, no samples, a sample rate below 1000 Hz, or NaN / infinite samples.
    """

    def __init__(self, samples: np.ndarray, sample_rate: int, *, name: str = "array", block_size: int = 4096) -> None:
        if block_size < 1:
            raise ValueError(f"block_size must be at least 1, got {block_size}")
        self.name = name
        self.block_size = int(block_size)
        arr = np.asarray(samples)
        if arr.ndim not in (1, 2):
            raise _fail(name, wording.AUDIO_BAD_SHAPE.format(shape=arr.shape))
        if int(sample_rate) != sample_rate or sample_rate < MIN_SAMPLE_RATE:
            raise _fail(name, wording.AUDIO_BAD_RATE.format(rate=sample_rate))
        self.sample_rate = int(sample_rate)
        if arr.shape[0] == 0 or arr.size == 0:
            raise _fail(name, wording.AUDIO_NO_FRAMES)
        if np.issubdtype(arr.dtype, np.integer):
            scale = float(np.iinfo(arr.dtype).max) + 1.0
            arr = arr.astype(np.float32) / np.float32(scale)
        else:
            arr = arr.astype(np.float32, copy=False)
        arr2 = arr.reshape(len(arr), -1)
        _check_samples(name, arr2, 0, self.sample_rate)
        self._mono = _to_mono(arr2)

    @property
    def frames(self) -> int:
        """Number of samples (per channel)."""
        return len(self._mono)

    @property
    def duration_s(self) -> float:
        """Length in seconds."""
        return len(self._mono) / self.sample_rate

    def blocks(self) -> Iterator[np.ndarray]:
        """Yield the mono samples in float32 blocks of ``block_size`` (shape (n,), the last may be shorter)."""
        for start in range(0, len(self._mono), self.block_size):
            yield self._mono[start : start + self.block_size].copy()
