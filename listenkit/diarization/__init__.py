"""Who spoke when, from stored per-frame features: clustering, speaker count, re-segmentation.

:func:`diarize` is the whole second look at a recording. It needs only the compact per-frame rows the
streaming stages kept (log-mel powers and voice activity), never the audio, so memory stays small.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..features import bandwidth
from ..params import DEFAULT_PARAMS, AnalysisParams
from .clustering import absorb_small, count_speakers, cut_tree, merge_jumps, two_voice_distance, ward_tree
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
    merge_jumps : dict
        Relative jump of the clustering tree's merge height at each candidate count (for calibration).
    """

    activity: np.ndarray
    merge_jumps: dict[int, float] = field(default_factory=dict)

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
    if len(win) < 3 or num_speakers == 1:
        return _single_speaker(n_frames, ff)
    tree = ward_tree(win)
    jumps = merge_jumps(tree, params.max_speakers)
    k = num_speakers or count_speakers(jumps, single_speaker_jump=params.single_speaker_jump,
                                        two_speaker_prior=params.two_speaker_prior)
    if num_speakers is None and k > 1:
        narrow = bandwidth(log_mel, speech) == "narrow"
        threshold = params.single_voice_distance_narrowband if narrow else params.single_voice_distance
        if two_voice_distance(ff, win, tree) < threshold:
            k = 1
    labels = cut_tree(tree, min(k, len(win)))
    if num_speakers is None:
        labels = absorb_small(win, labels, min_frames=int(params.min_speaker_s / FRAME_S))
    if labels.max() == 0:
        return Diarization(_single_speaker(n_frames, ff).activity, jumps)
    activity = resegment(log_mel, ff, win, labels, params=params, n_frames=n_frames)
    return Diarization(_order_by_first_speech(activity), jumps)


def _single_speaker(n_frames: int, ff: FrameFeatures) -> Diarization:
    act = np.zeros((n_frames, 1), dtype=bool)
    act[ff.index, 0] = True
    return Diarization(act)


def _order_by_first_speech(activity: np.ndarray) -> np.ndarray:
    keep = activity.any(axis=0)
    activity = activity[:, keep]
    if activity.shape[1] == 0:
        return activity
    first = [int(np.argmax(activity[:, k])) for k in range(activity.shape[1])]
    return activity[:, np.argsort(first, kind="stable")]
