"""A learned detector of two voices at once, as evidence for the re-segmentation's "both" states.

The "both" states of :mod:`~listenkit.diarization.resegment_speakers` model overlap from this
recording's own voices (their mel powers added). Alone they find a third of the overlapped frames:
when a near voice talks over a far one, the mixture fits the near voice's model nearly as well.
This detector looks at the sound itself instead, with some context: the spectrum (normalised over
the recording's speech) at seven points from 0.2 s before to 0.2 s after the frame, the level
relative to the recording's speech from 0.5 s before to 0.5 s after, and how fast the level moves.
A small neural network (one hidden layer of rectified units) turns these into the log-odds that two
or more people talk in the frame; the re-segmentation adds ``overlap_detector_weight`` times these
log-odds to the "both" states' log-likelihoods.

The network ships with listenkit (``overlap_detector.npz``: about 38 000 numbers, no audio). It is
trained by ``python -m calibration.train_overlap`` on simulated conversations of the *dev* voices,
the same ones that trained the speaker projection; its weight was chosen on ``sim-dev`` and
``sim-dev2`` (``calibration/README.md``).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
from scipy.ndimage import uniform_filter1d

#: The detector shipped with listenkit.
DETECTOR_PATH = Path(__file__).resolve().parent.parent / "overlap_detector.npz"

#: Offsets (10 ms frames) at which the smoothed, normalised spectrum is looked at.
SPECTRUM_OFFSETS = (-20, -10, -4, 0, 4, 10, 20)
#: Offsets (10 ms frames) at which the smoothed level is looked at.
LEVEL_OFFSETS = tuple(range(-50, 51, 10))
SPECTRUM_SMOOTH = 5  # frames averaged for the spectrum and the level
LEVEL_CHANGE_SMOOTH = 11  # frames averaged for the frame-to-frame level change
#: Frames of context a block needs on each side so that blocks give the same values as the whole.
MARGIN = 64
BLOCK = 1 << 12  # frames per block (memory: a block's features are ~5 MB; 1 << 15 raised the peak
# of the one-hour benchmark from ~290 to 470 MB, and was no faster)


@dataclass(frozen=True)
class OverlapDetector:
    """The network: ``log_odds = relu(x @ w1 + b1) @ w2 + b2`` on the raw features ``x``.

    Attributes
    ----------
    w1 : ndarray, shape (n_features, n_hidden)
        First layer (the feature standardisation is folded into it).
    b1 : ndarray, shape (n_hidden,)
    w2 : ndarray, shape (n_hidden,)
    b2 : float
    """

    w1: np.ndarray
    b1: np.ndarray
    w2: np.ndarray
    b2: float

    def log_odds(self, features: np.ndarray) -> np.ndarray:
        """Log-odds (natural log) that two or more voices sound in each frame, shape (n,)."""
        hidden = np.maximum(features @ self.w1 + self.b1, 0.0)
        return hidden @ self.w2 + self.b2

    def save(self, path: Path) -> None:
        """Write the network as ``.npz``."""
        np.savez(path, w1=self.w1.astype(np.float32), b1=self.b1.astype(np.float32),
                 w2=self.w2.astype(np.float32), b2=np.float32(self.b2))


@lru_cache(maxsize=1)
def shipped_detector() -> OverlapDetector | None:
    """The detector that ships with listenkit; None when the file is absent."""
    if not DETECTOR_PATH.is_file():
        return None
    with np.load(DETECTOR_PATH) as z:
        return OverlapDetector(z["w1"].astype(np.float32), z["b1"].astype(np.float32),
                               z["w2"].astype(np.float32), float(z["b2"]))


def n_features(n_bands: int = 40) -> int:
    """Length of one frame's feature vector."""
    return n_bands * len(SPECTRUM_OFFSETS) + len(LEVEL_OFFSETS) + 1


def _speech_statistics(log_mel: np.ndarray, speech: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    """Mean and standard deviation of each band, and the median level, over the speech frames."""
    index = np.flatnonzero(speech)
    if index.size < 2:
        index = np.arange(log_mel.shape[0])
    total = np.zeros(log_mel.shape[1])
    squares = np.zeros(log_mel.shape[1])
    levels = []
    for a in range(0, index.size, BLOCK):
        rows = log_mel[index[a:a + BLOCK]].astype(np.float64)
        total += rows.sum(axis=0)
        squares += np.square(rows).sum(axis=0)
        levels.append(_level(rows))
    mean = total / index.size
    std = np.sqrt(np.maximum(squares / index.size - mean**2, 0.0)) + 1e-3
    return mean, std, float(np.median(np.concatenate(levels)))


def _level(rows: np.ndarray) -> np.ndarray:
    """Total power of each frame in natural-log units, from log-mel rows.

    The measure of :func:`listenkit.diarization.faint_noise.energy_db` in other units, without the
    flatness that function computes alongside.
    """
    top = rows.max(axis=1)
    return top + np.log(np.exp(rows - top[:, None]).sum(axis=1))


def overlap_features(log_mel: np.ndarray, speech: np.ndarray, frames: np.ndarray, *,
                     block: int = BLOCK) -> np.ndarray:
    """The detector's features of the given frames.

    Parameters
    ----------
    log_mel : ndarray, shape (n_frames, n_bands)
        Natural-log mel-band powers per 10 ms frame.
    speech : ndarray of bool, shape (n_frames,)
        Voice activity: the normalisation is over these frames.
    frames : ndarray of int, shape (n,)
        Increasing frame indices whose features are wanted.
    block : int
        Frames of the recording handled at once (memory); the result does not depend on it.

    Returns
    -------
    ndarray of float32, shape (n, :func:`n_features`)
    """
    return np.vstack(list(_feature_blocks(log_mel, speech, np.asarray(frames), block)) or
                     [np.zeros((0, n_features(log_mel.shape[1])), np.float32)])


def _feature_blocks(log_mel: np.ndarray, speech: np.ndarray, frames: np.ndarray, block: int):
    """Yield the features of ``frames`` block by block of the recording."""
    n = log_mel.shape[0]
    if n == 0 or frames.size == 0:
        return
    mean, std, median_level = _speech_statistics(log_mel, speech)
    for a in range(0, n, block):
        wanted = frames[np.searchsorted(frames, a):np.searchsorted(frames, a + block)]
        if wanted.size == 0:
            continue
        # the block with MARGIN frames of context each side; the recording's edges are repeated
        span = np.clip(np.arange(a - MARGIN, min(n, a + block) + MARGIN), 0, n - 1)
        rows = log_mel[span].astype(np.float32)
        spectrum = uniform_filter1d((rows - mean.astype(np.float32)) / std.astype(np.float32),
                                    SPECTRUM_SMOOTH, axis=0, mode="nearest")
        level = _level(rows.astype(np.float64)) - median_level
        smooth_level = uniform_filter1d(level, SPECTRUM_SMOOTH, mode="nearest")
        change = uniform_filter1d(np.abs(np.diff(level, prepend=level[0])), LEVEL_CHANGE_SMOOTH, mode="nearest")
        at = wanted - (a - MARGIN)
        cols = [spectrum[at + o] for o in SPECTRUM_OFFSETS]
        cols += [smooth_level[at + o, None] for o in LEVEL_OFFSETS]
        cols.append(change[at, None])
        yield np.hstack(cols).astype(np.float32)


def overlap_log_odds(log_mel: np.ndarray, speech: np.ndarray, frames: np.ndarray,
                     detector: OverlapDetector | None = None, *, block: int = BLOCK) -> np.ndarray | None:
    """Log-odds that two or more voices sound in each of ``frames``; None without a detector.

    Parameters are those of :func:`overlap_features`; ``detector`` defaults to the shipped one.
    """
    detector = detector or shipped_detector()
    if detector is None:
        return None
    frames = np.asarray(frames)
    out = np.empty(frames.size, dtype=np.float32)
    done = 0
    for feats in _feature_blocks(log_mel, speech, frames, block):
        out[done:done + feats.shape[0]] = detector.log_odds(feats)
        done += feats.shape[0]
    return out
