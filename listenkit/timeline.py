"""Who-spoke-when segments, and reading / writing them as RTTM.

Times in this module are seconds (floats); the analysis works on integer 10 ms frame indices inside
and converts at its edge (:func:`segments_from_frames`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np

from .errors import SessionFileError


@dataclass(frozen=True, order=True)
class Segment:
    """One stretch of speech by one speaker.

    Attributes
    ----------
    start, end : float
        Onset and offset in seconds from the start of the recording, ``start < end``.
    speaker : str
        Speaker id, for example ``"S1"``.
    """

    start: float
    end: float
    speaker: str

    @property
    def duration(self) -> float:
        """Length in seconds."""
        return self.end - self.start


def segments_from_frames(labels: np.ndarray, speaker_ids: Sequence[str], frame_s: float) -> list[Segment]:
    """Turn a per-frame speaker-activity matrix into segments.

    Parameters
    ----------
    labels : ndarray of bool, shape (n_frames, n_speakers)
        ``labels[t, k]`` is True when speaker ``k`` speaks in frame ``t`` (overlap: several True).
    speaker_ids : sequence of str, length n_speakers
        The id of each column.
    frame_s : float
        Frame hop in seconds (frame ``t`` covers ``[t * frame_s, (t + 1) * frame_s)``).

    Returns
    -------
    list of Segment
        Sorted by start time, then speaker.
    """
    out: list[Segment] = []
    labels = np.asarray(labels, dtype=bool)
    if labels.ndim != 2 or labels.shape[0] == 0:
        return out
    for k, spk in enumerate(speaker_ids):
        col = labels[:, k].astype(np.int8)
        edges = np.diff(np.concatenate(([0], col, [0])))
        starts = np.flatnonzero(edges == 1)
        ends = np.flatnonzero(edges == -1)
        for s, e in zip(starts, ends):
            out.append(Segment(round(float(s) * frame_s, 3), round(float(e) * frame_s, 3), spk))
    out.sort(key=lambda seg: (seg.start, seg.speaker))
    return out


def format_rttm(segments: Iterable[Segment], uri: str) -> str:
    """Segments as RTTM text (``SPEAKER uri 1 onset duration <NA> <NA> speaker <NA> <NA>`` lines)."""
    uri = uri.replace(" ", "_") or "audio"
    lines = [
        f"SPEAKER {uri} 1 {seg.start:.3f} {seg.duration:.3f} <NA> <NA> {seg.speaker} <NA> <NA>"
        for seg in segments
    ]
    return "".join(line + "\n" for line in lines)


def parse_rttm(text: str, *, source: str = "RTTM") -> dict[str, list[Segment]]:
    """Parse RTTM text into segments per uri.

    Parameters
    ----------
    text : str
        RTTM content; only ``SPEAKER`` lines are read.
    source : str
        Name used in error messages.

    Returns
    -------
    dict
        uri -> segments sorted by start.

    Raises
    ------
    SessionFileError
        When a ``SPEAKER`` line is malformed.
    """
    out: dict[str, list[Segment]] = {}
    for lineno, line in enumerate(text.splitlines(), 1):
        parts = line.split()
        if not parts or parts[0] != "SPEAKER":
            continue
        try:
            uri, onset, dur, spk = parts[1], float(parts[3]), float(parts[4]), parts[7]
        except (IndexError, ValueError):
            raise SessionFileError(f"{source}: line {lineno} is not a valid RTTM SPEAKER line") from None
        if not (math.isfinite(onset) and math.isfinite(dur)) or dur <= 0:
            continue
        out.setdefault(uri, []).append(Segment(onset, onset + dur, spk))
    for segs in out.values():
        segs.sort(key=lambda seg: (seg.start, seg.speaker))
    return out


def read_rttm(path: str | Path) -> list[Segment]:
    """All segments of an RTTM file (every uri together), sorted by start."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise SessionFileError(f"{path}: cannot read RTTM ({exc.strerror or exc})") from None
    segs = [s for group in parse_rttm(text, source=str(path)).values() for s in group]
    segs.sort(key=lambda seg: (seg.start, seg.speaker))
    return segs
