"""Who spoke when, from stored per-frame features: clustering, speaker count, re-segmentation.

:func:`diarize` is the whole second look at a recording. It needs only the compact per-frame rows the
streaming stages kept (log-mel powers and voice activity), never the audio, so memory stays small.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..params import DEFAULT_PARAMS, AnalysisParams
from .clustering import initial_clusters, merge_clusters, purify
from .frames import FrameFeatures, make_windows, speech_features
from .resegment_speakers import resegment

__all__ = ["Diarization", "diarize"]

FRAME_S = 0.01


@dataclass
class Diarization:
    """Result of :func:`diarize`.

    Attributes
    ----------
    activity : ndarray of bool, shape (n_frames, n_speakers)
        Who speaks in each 10 ms frame; columns ordered by first speech.
    merge_distances : list of float
        Cross-likelihood distance of each cluster merge (nats/frame), for calibration.
    """

    activity: np.ndarray
    merge_distances: list[float] = field(default_factory=list)

    @property
    def n_speakers(self) -> int:
        return int(self.activity.shape[1])


def diarize(log_mel: np.ndarray, speech: np.ndarray, *, params: AnalysisParams = DEFAULT_PARAMS,
            num_speakers: int | None = None) -> Diarization:
    """Find who spoke when.

    Parameters
    ----------
    log_mel : ndarray, shape (n_frames, 40)
        Log-mel powers per 10 ms frame (:class:`listenkit.features.FeatureExtractor` rows without the
        energy column).
    speech : ndarray of bool, shape (n_frames,)
        Voice activity per frame.
    params : AnalysisParams
    num_speakers : int, optional
        The number of speakers when the user knows it (1-6); found automatically otherwise.
    """
    n_frames = int(speech.shape[0])
    ff = speech_features(log_mel, speech)
    if ff.index.size == 0:
        return Diarization(np.zeros((n_frames, 0), dtype=bool))
    win = make_windows(ff, int(round(params.window_s / FRAME_S)))
    if len(win) < 2 or num_speakers == 1:
        return _single_speaker(n_frames, ff)
    labels = initial_clusters(win, params.init_clusters)
    labels = purify(ff, win, labels)
    labels = _absorb_small(win, labels, min_frames=int(params.min_speaker_s / FRAME_S))
    labels, history = merge_clusters(
        ff, win, labels, threshold=params.merge_threshold, num_speakers=num_speakers,
        max_speakers=params.max_speakers,
    )
    if labels.max() == 0:
        return Diarization(_single_speaker(n_frames, ff).activity, history)
    activity = resegment(log_mel, ff, win, labels, params=params, n_frames=n_frames)
    return Diarization(_order_by_first_speech(activity), history)


def _single_speaker(n_frames: int, ff: FrameFeatures) -> Diarization:
    act = np.zeros((n_frames, 1), dtype=bool)
    act[ff.index, 0] = True
    return Diarization(act)


def _absorb_small(win, labels: np.ndarray, *, min_frames: int) -> np.ndarray:
    """Dissolve clusters with less speech than ``min_frames`` into the nearest cluster (window vectors)."""
    lengths = win.bounds[:, 1] - win.bounds[:, 0]
    while True:
        ids = np.unique(labels)
        if ids.size <= 1:
            return labels
        totals = np.array([lengths[labels == c].sum() for c in ids])
        small = int(np.argmin(totals))
        if totals[small] >= min_frames:
            return labels
        c = ids[small]
        centroids = {o: win.vectors[labels == o].mean(axis=0) for o in ids if o != c}
        members = np.flatnonzero(labels == c)
        for m in members:
            labels[m] = min(centroids, key=lambda o: float(np.sum((win.vectors[m] - centroids[o]) ** 2)))
        _, labels = np.unique(labels, return_inverse=True)


def _order_by_first_speech(activity: np.ndarray) -> np.ndarray:
    keep = activity.any(axis=0)
    activity = activity[:, keep]
    if activity.shape[1] == 0:
        return activity
    first = [int(np.argmax(activity[:, k])) for k in range(activity.shape[1])]
    return activity[:, np.argsort(first, kind="stable")]
