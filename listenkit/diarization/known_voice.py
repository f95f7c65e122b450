"""Use the enrolled user's voice while grouping the windows into speakers.

Without a profile the clustering has only the recording to go by, and two mistakes cost the user
most: the user's speech split over two clusters, and the user merged with another voice in one
cluster (no cluster is then clearly the user, or "you" includes someone else's speech). A voice
profile knows one of the voices beforehand, so it can mend both before the frame-level
re-segmentation (:func:`use_known_voice`):

- **merge**: a cluster that sounds like the profile and, by its held-out distance, is the same
  voice as the cluster that sounds most like it, is the user's too;
- **split**: the cluster that sounds most like the profile is cut into a few sub-clusters along its
  own Ward tree; when some of them sound clearly like the user and others clearly not, the latter
  become a speaker of their own.

Scores are the profile's own (:meth:`listenkit.profile.VoiceProfile.scores`: standard deviations
above how well other voices fit), on the strict speech frames of each group of windows. The
thresholds were chosen on dev conversations only (``calibration/eval_enroll.py``).
"""

from __future__ import annotations

from typing import Protocol

import numpy as np

from .clustering import cut_tree, held_out_distance, ward_tree
from .frames import FrameFeatures, Windows

__all__ = ["VoiceScorer", "use_known_voice"]


class VoiceScorer(Protocol):
    """Scores groups of frames against one known voice (:class:`listenkit.profile.VoiceProfile`)."""

    def scores(self, log_mel: np.ndarray, activity: np.ndarray) -> np.ndarray:
        """Score of each column of ``activity`` (n_frames, k); ``-inf`` when it has too little speech."""


def _frames_of(ff: FrameFeatures, win: Windows, members: np.ndarray) -> np.ndarray:
    """Frame numbers of the speech frames in the windows ``members``."""
    if members.size == 0:
        return np.zeros(0, dtype=int)
    return ff.index[np.concatenate([np.arange(a, b) for a, b in win.bounds[members]])]


def _score_groups(voice: VoiceScorer, log_mel: np.ndarray, ff: FrameFeatures, win: Windows,
                  groups: list[np.ndarray]) -> np.ndarray:
    """The voice's score of each group of windows (arrays of window indices)."""
    act = np.zeros((log_mel.shape[0], len(groups)), dtype=bool)
    for j, members in enumerate(groups):
        act[_frames_of(ff, win, members), j] = True
    return np.asarray(voice.scores(log_mel, act), dtype=float)


def use_known_voice(log_mel: np.ndarray, ff: FrameFeatures, win: Windows, labels: np.ndarray,
                    noise: frozenset[int], voice: VoiceScorer, *, merge_above: float, split_clear: float,
                    split_high: float, split_low: float, pieces: int, min_frames: int,
                    two_voices: float) -> tuple[np.ndarray, frozenset[int]]:
    """Window labels mended with a known voice: its clusters merged, a mixed cluster split.

    Parameters
    ----------
    log_mel : ndarray, shape (n_frames, 40)
        Natural-log mel powers per 10 ms frame.
    ff, win, labels
        The speech frames, the windows and each window's cluster (0..k-1).
    noise : frozenset of int
        Clusters of background noise: neither merged nor split.
    voice : VoiceScorer
        The known voice.
    merge_above : float
        A cluster scoring above this is merged with the best-scoring one (the user's speech split in
        two), provided the two are one voice by their held-out distance (below ``two_voices``): a
        second voice like the user's scores above it too (4.3-5.1 in three test conversations,
        6.1-9.8 apart from the user's cluster, where every merge had been wrong).
    split_clear : float
        The user's side of a split must score above this. It is set higher than ``merge_above``:
        that side is the best-sounding part of a cluster, and the best of several parts of other
        voices scores higher than any one of them would (on the dev conversations without the user,
        such parts reached 4.4; the user's own parts scored 5.1 or more in 40 of 42).
    split_high, split_low : float
        Sub-clusters scoring above ``split_high`` are the user's, below ``split_low`` someone else's;
        those between go with the nearer of the two (centroid in the window-vector space).
    pieces : int
        Sub-clusters the best-scoring cluster is cut into.
    min_frames : int
        Speech frames (10 ms) each side of a split needs.
    two_voices : float
        Held-out distance (nats/frame) from which two groups are two voices (the one-voice check's
        threshold): the sides of a split (without it, a voice like the user's was split in two in
        conversations the user was not in) and the clusters of a merge.

    Returns
    -------
    labels : ndarray of int, shape (n_windows,)
        Voices 0..m-1, then the noise clusters.
    noise : frozenset of int
        The noise clusters' new labels.
    """
    k = int(labels.max()) + 1
    voices = [c for c in range(k) if c not in noise]
    scores = _score_groups(voice, log_mel, ff, win, [np.flatnonzero(labels == c) for c in voices])
    labels = labels.copy()
    best = voices[int(np.argmax(scores))] if np.isfinite(scores).any() else voices[0]
    for c, s in zip(voices, scores):
        if c != best and s > merge_above and held_out_distance(
                ff, win, np.flatnonzero(labels == best), np.flatnonzero(labels == c)) < two_voices:
            labels[labels == c] = best
    labels = _split(log_mel, ff, win, labels, best, voice, high=split_high, low=split_low, pieces=pieces,
                    min_frames=min_frames, clear=split_clear, two_voices=two_voices)
    return _renumber(labels, noise)


def _split(log_mel: np.ndarray, ff: FrameFeatures, win: Windows, labels: np.ndarray, cluster: int,
           voice: VoiceScorer, *, high: float, low: float, pieces: int, min_frames: int,
           clear: float, two_voices: float) -> np.ndarray:
    """``labels`` with the windows of ``cluster`` that do not sound like the voice given a new label,
    when some of its sub-clusters do and others clearly do not, the part that does, taken together,
    scores above ``clear``, and the two parts are two voices by their held-out distance
    (:func:`~listenkit.diarization.clustering.held_out_distance` of ``two_voices`` or more)."""
    members = np.flatnonzero(labels == cluster)
    if members.size < 2 * pieces:
        return labels
    sub_win = Windows(win.bounds[members], win.vectors[members])
    sub = cut_tree(ward_tree(sub_win), pieces)
    groups = [members[sub == j] for j in range(int(sub.max()) + 1)]
    s = _score_groups(voice, log_mel, ff, win, groups)
    yes = [g for g, v in zip(groups, s) if v > high]
    no = [g for g, v in zip(groups, s) if v < low and np.isfinite(v)]
    if not yes or not no:
        return labels
    rest = [g for g, v in zip(groups, s) if not (v > high or (v < low and np.isfinite(v)))]
    yes_m, no_m = np.concatenate(yes), np.concatenate(no)
    if rest:
        centroids = np.stack([win.vectors[yes_m].mean(axis=0), win.vectors[no_m].mean(axis=0)])
        r = np.concatenate(rest)
        d = ((win.vectors[r, None, :] - centroids[None]) ** 2).sum(axis=2)
        yes_m = np.concatenate([yes_m, r[d[:, 0] <= d[:, 1]]])
        no_m = np.concatenate([no_m, r[d[:, 0] > d[:, 1]]])
    lengths = win.bounds[:, 1] - win.bounds[:, 0]
    if lengths[yes_m].sum() < min_frames or lengths[no_m].sum() < min_frames:
        return labels
    if _score_groups(voice, log_mel, ff, win, [yes_m])[0] <= clear:
        return labels
    if held_out_distance(ff, win, np.sort(yes_m), np.sort(no_m)) < two_voices:
        return labels  # one voice, some of it more like the user than the rest: not a second person
    out = labels.copy()
    out[no_m] = int(labels.max()) + 1
    return out


def _renumber(labels: np.ndarray, noise: frozenset[int]) -> tuple[np.ndarray, frozenset[int]]:
    """Labels 0..m-1 for the voices (in order of their old labels), then the noise clusters."""
    present = [int(c) for c in np.unique(labels)]
    order = [c for c in present if c not in noise] + [c for c in present if c in noise]
    new = {c: i for i, c in enumerate(order)}
    out = np.array([new[int(c)] for c in labels], dtype=int)
    return out, frozenset(new[c] for c in present if c in noise)
