"""Group windows into speakers and decide how many speakers there are.

Method (chosen by measurement on simulated dev conversations, see ``calibration/README.md``):

* **Ward linkage** on each window's cepstral mean and spread (z-scored). With the true speaker count
  given, cutting this tree gave the lowest speaker confusion of the variants tried (4.8% against 5.2%
  after GMM purification, 6.0% for average-linkage cosine and 6.8% for means only), so the tree is cut
  directly and the frame-level re-segmentation does the refining.
* **Speaker count from the largest relative jump** in the tree's merge heights: merging two clusters of
  one voice costs about as much as the merge before it, merging two voices costs clearly more. The
  count K maximises ``height(K -> K-1) / height(K+1 -> K)`` over K = 2..max; when even the largest jump
  is below ``single_speaker_jump`` the recording is taken to hold one voice. A held-out GMM
  cross-likelihood stopping rule was tried first and rejected: its distances grow with cluster size,
  and it merged different speakers before splits of one voice (speaker confusion 19% with the count
  given, against 4.8% here).
* **One voice or more:** the jumps cannot tell (one read-speech voice gave jumps of 1.17-1.43, two
  voices 1.21-2.59), so the two-cluster cut is checked on held-out frames: a GMM per half, trained on
  every other window, scores the other windows; ``d = (LL_own - LL_other)`` summed over both halves,
  in nats per frame. One voice split in two gave d = 2.1-4.5 (one outlier 11.4), two voices 4.1-24
  on the dev conversations, so below ``single_voice_distance`` the recording is one voice.
"""

from __future__ import annotations

import numpy as np
from scipy.cluster.hierarchy import fcluster, linkage

from .frames import FrameFeatures, Windows
from .models import fit_gmm

MODEL_FRAMES = 4000  # frames per half-model of the one-voice check


def ward_tree(win: Windows) -> np.ndarray:
    """Ward linkage matrix of the window vectors (scipy format, shape (n_windows - 1, 4))."""
    return linkage(win.vectors.astype(np.float64), method="ward")


def merge_jumps(tree: np.ndarray, max_speakers: int) -> dict[int, float]:
    """Relative jump of the merge height at each candidate count K = 2..max_speakers.

    ``jumps[K] = height of the merge K -> K-1 / height of the merge K+1 -> K``.
    """
    h = tree[:, 2]
    jumps: dict[int, float] = {}
    for k in range(2, max_speakers + 1):
        if k >= h.size + 1:  # needs the merges K -> K-1 and K+1 -> K
            break
        jumps[k] = float(h[-(k - 1)] / max(h[-k], 1e-9))
    return jumps


def count_speakers(jumps: dict[int, float], *, single_speaker_jump: float, two_speaker_prior: float = 1.0) -> int:
    """The speaker count with the largest merge jump, or 1 when no jump reaches ``single_speaker_jump``.

    ``two_speaker_prior`` multiplies the jump at K = 2 before the comparison: most conversations
    listenkit hears are between two people, so more needs clearly stronger evidence.
    """
    if not jumps:
        return 1
    weighted = {c: j * (two_speaker_prior if c == 2 else 1.0) for c, j in jumps.items()}
    k = max(weighted, key=lambda c: (weighted[c], -c))
    return k if jumps[k] >= single_speaker_jump else 1


def two_voice_distance(ff: FrameFeatures, win: Windows, tree: np.ndarray) -> float:
    """Held-out cross-likelihood distance between the two halves of the tree's 2-cluster cut, nats/frame."""
    labels = cut_tree(tree, 2)
    halves = [np.flatnonzero(labels == c) for c in (0, 1)]
    if min(h.size for h in halves) < 2:
        return 0.0

    def frames(members: np.ndarray) -> np.ndarray:
        return np.vstack([ff.full[a:b] for a, b in win.bounds[members]])

    models = [fit_gmm(frames(h[0::2]), 8, max_frames=MODEL_FRAMES) for h in halves]
    held = [frames(h[1::2]) for h in halves]
    own = [float(models[i].score_samples(held[i]).mean()) for i in (0, 1)]
    cross = [float(models[1 - i].score_samples(held[i]).mean()) for i in (0, 1)]
    return (own[0] - cross[0]) + (own[1] - cross[1])


def cut_tree(tree: np.ndarray, n_clusters: int) -> np.ndarray:
    """Window labels 0..k-1 from cutting the tree into ``n_clusters`` clusters."""
    labels = fcluster(tree, t=n_clusters, criterion="maxclust") - 1
    _, inv = np.unique(labels, return_inverse=True)
    return inv.astype(int)


def absorb_small(win: Windows, labels: np.ndarray, *, min_frames: int) -> np.ndarray:
    """Dissolve clusters with less speech than ``min_frames`` into the nearest cluster (by centroid).

    Such clusters are mostly noises the voice detector let through (a clatter, a cough), not people.
    """
    labels = labels.copy()
    lengths = win.bounds[:, 1] - win.bounds[:, 0]
    while True:
        ids = np.unique(labels)
        if ids.size <= 1:
            return labels
        totals = np.array([lengths[labels == c].sum() for c in ids])
        small = int(np.argmin(totals))
        if totals[small] >= min_frames:
            return labels
        gone = ids[small]
        others = [c for c in ids if c != gone]
        centroids = np.stack([win.vectors[labels == c].mean(axis=0) for c in others])
        members = np.flatnonzero(labels == gone)
        d = ((win.vectors[members, None, :] - centroids[None, :, :]) ** 2).sum(axis=2)
        labels[members] = np.asarray(others)[np.argmin(d, axis=1)]
        _, labels = np.unique(labels, return_inverse=True)
