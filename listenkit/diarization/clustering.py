"""Group windows into speakers and decide how many speakers there are.

Method (chosen by measurement on simulated dev conversations, see ``calibration/README.md``):

* **Ward linkage** on each window's cepstral mean and spread, z-scored and mapped by the speaker
  projection (:mod:`listenkit.diarization.projection`, linear discriminant analysis learned from dev
  conversations). Without the projection, with the true count given, cutting this tree gave the
  lowest speaker confusion of the variants tried (4.8% against 5.2% after GMM purification, 6.0% for
  average-linkage cosine and 6.8% for means only); the projection took it to 0.2% on the two-person
  dev conversations. The tree is cut directly and the frame-level re-segmentation does the refining.
* **Speaker count from centroid distances** (:func:`count_and_cut`): in the projection one voice's
  windows spread about 1 along each direction, and the two sides of a merge of two voices lie 4-7.5
  apart on the dev conversations, against 2-3 for a voice split in two. Going down the tree, merges
  whose sides lie more than ``speaker_distance`` apart add people (a third person needs
  ``third_speaker_distance``: two is the common case, unless the frames of the two sides, tested
  held out, lie ``third_speaker_held_out`` apart); sides with too little speech are passed over.
  It replaced the largest relative jump of the merge heights (count right 81% -> 88% of sim-dev,
  the three- and four-person conversations being under-counted by the jumps). A held-out
  GMM cross-likelihood stopping rule was tried first and rejected: its distances grow with cluster
  size, and it merged different speakers before splits of one voice (speaker confusion 19% with the
  count given).
* **One voice or more:** the two-cluster cut is checked on held-out frames: a GMM per half, trained on
  every other window, scores the other windows; ``d = (LL_own - LL_other)`` summed over both halves,
  in nats per frame. One voice split in two gave d = 1.4-3.1 (dev voices, dry and in rooms), two
  voices 7.4-27 on the two-person dev conversations, so below ``single_voice_distance`` (3.5) the
  recording is one voice. Telephone band leaves fewer bands to tell voices by: one voice gave
  0.3-2.8, two voices 1.7-2.0 in three of ~20 telephone-band dev conversations and 4+ in the rest,
  the real two-person phone call 3.4. A phone call on a speaker almost always holds two people, so
  ``single_voice_distance_narrowband`` is 1.5: three of those six one-voice recordings come out as two
  voices, every two-voice one as two.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.cluster.hierarchy import fcluster, linkage, to_tree

from .faint_noise import DB_PER_NEPER, FLATNESS_BANDS, energy_and_flatness
from .frames import FrameFeatures, Windows
from .models import fit_gmm

MODEL_FRAMES = 4000  # frames per half-model of the one-voice check
NOISE_CHECK_FRAMES = 20000  # frames per cluster looked at by the noise check (at most about twice this)
CHANGE_WINDOWS = 400  # windows per cluster whose spectral change is measured (evenly spread)
CHANGE_MIN_FRAMES = 60  # frames (10 ms) a window must span for its spectral change to count


def ward_tree(win: Windows) -> np.ndarray:
    """Ward linkage matrix of the window vectors (scipy format, shape (n_windows - 1, 4))."""
    return linkage(win.vectors.astype(np.float64), method="ward")


@dataclass
class Merge:
    """One merge of the clustering tree, seen from the top.

    Attributes
    ----------
    index : int
        Row of the linkage matrix.
    distance : float
        Distance between the centroids of the two merged clusters in the window-vector space (the
        speaker projection: about 1 is the spread of one voice's windows).
    frames : tuple of int
        Speech frames (10 ms) on each side.
    """

    index: int
    distance: float
    frames: tuple[int, int]


def top_merges(win: Windows, tree: np.ndarray, n: int) -> list[Merge]:
    """The last ``n`` merges of the tree (the first ones a top-down cut undoes), highest first."""
    n_leaves = len(win)
    lengths = (win.bounds[:, 1] - win.bounds[:, 0]).astype(np.int64)
    vectors = win.vectors.astype(np.float64)
    # running sums per cluster id (leaves 0..n-1, merge i creates n + i)
    sums = np.zeros((n_leaves + tree.shape[0], vectors.shape[1]))
    counts = np.zeros(n_leaves + tree.shape[0])
    frames = np.zeros(n_leaves + tree.shape[0], dtype=np.int64)
    sums[:n_leaves], counts[:n_leaves], frames[:n_leaves] = vectors, 1.0, lengths
    for i, (a, b) in enumerate(tree[:, :2].astype(int)):
        sums[n_leaves + i] = sums[a] + sums[b]
        counts[n_leaves + i] = counts[a] + counts[b]
        frames[n_leaves + i] = frames[a] + frames[b]
    out = []
    for i in range(tree.shape[0] - 1, max(tree.shape[0] - 1 - n, -1), -1):
        a, b = int(tree[i, 0]), int(tree[i, 1])
        d = float(np.linalg.norm(sums[a] / counts[a] - sums[b] / counts[b]))
        out.append(Merge(i, d, (int(frames[a]), int(frames[b]))))
    return out


def count_and_cut(win: Windows, tree: np.ndarray, *, min_distance: float, min_frames: int,
                  max_speakers: int, third_distance: float | None = None, ff: FrameFeatures | None = None,
                  third_held_out: float | None = None) -> np.ndarray:
    """Window labels for the speaker count the tree's top merges show (at least two clusters).

    Going down from the top, the first merge is always undone (whether the recording holds one voice
    is :func:`two_voice_distance`'s question). Each next merge is undone, adding a speaker, when its
    two sides lie more than ``min_distance`` apart. A merge with less than ``min_frames`` of speech
    on one side is undone without counting (a few seconds are too few to tell a person from a cough
    or a laugh, and the centroids of small clusters lie far apart by chance); such small clusters are
    then dissolved into their nearest neighbours (:func:`absorb_small`), never below two clusters
    (a short recording's second voice may have little speech). The first merge of two big enough
    sides that lie closer ends the count. The step from two people to three needs ``third_distance``
    (default ``min_distance``): most conversations are between two people, and a talkative voice
    split in two is the commonest mistake. With ``ff`` and ``third_held_out``, a third person whose
    sides lie between ``min_distance`` and ``third_distance`` apart is counted when the held-out
    distance of the two sides (:func:`held_out_distance`) is ``third_held_out`` or more: the
    frames, not only the window centroids, say they are two voices.

    Returns
    -------
    ndarray of int, shape (n_windows,)
        Labels 0..k-1.
    """
    merges = top_merges(win, tree, 4 * max_speakers)
    undone, speakers = 1, 2
    for m in merges[1:]:
        if speakers >= max_speakers:
            break
        if min(m.frames) < min_frames:
            undone += 1
        elif m.distance > (third_distance if speakers == 2 and third_distance is not None else min_distance):
            undone += 1
            speakers += 1
        elif (speakers == 2 and ff is not None and third_held_out is not None and m.distance > min_distance
              and held_out_distance(ff, win, *_sides(tree, m.index)) >= third_held_out):
            undone += 1
            speakers += 1
        else:
            break
    labels = cut_tree(tree, min(undone + 1, len(win)))
    return absorb_small(win, labels, min_frames=min_frames, keep=2, at_most=speakers)


def noise_clusters(log_mel: np.ndarray, ff: FrameFeatures, win: Windows, labels: np.ndarray, *,
                   below_db: float, min_flatness: float, max_change_db: float = 0.0,
                   far_db: float = float("inf")) -> frozenset[int]:
    """Clusters that are background noise rather than a voice: much quieter than the loudest cluster
    and noise-like in spectrum, or very much quieter.

    A cluster is noise when the median energy of its frames lies ``below_db`` or more under the
    loudest cluster's median, *and* the median spectral flatness of its frames across the mel bands
    of 170-3400 Hz (geometric over arithmetic mean of the band powers: near 1 for flat noise, low for
    voiced speech) is ``min_flatness`` or more. On the dev conversations the clusters made of the
    detector's false alarms in street and babble noise lay 13-22 dB under the loudest voice with
    flatness 0.61-0.76; voices, far and reverberant ones included, had flatness up to 0.54.
    Both conditions are needed: a person far from the microphone is quiet, but not flat.

    Babble and some street noise are not flat: their spectrum has the shape of speech. But it hardly
    changes from one frame to the next, where a voice's moves with every sound it makes. So a cluster
    ``below_db`` or more under the loudest is noise too when its spectrum changes by ``max_change_db``
    or less (:func:`spectral_change_db`). On the dev and training conversations (about 900 clusters
    of voices, 32 of no one's speech) voices changed by 2.9 dB or more when 8 dB or more under the
    loudest (2.8 dB at any level). Of the 15 noise clusters that were not flat, 7 changed by only
    1.5-2.2 dB; the other 8 by 3.1 dB or more, as voices do, and are still taken for people. (A steady
    *level* as the sign of babble was tried and taken out: a fresh test draw held a near voice 13 dB
    under the other with as steady a level as babble, but its spectrum changed by 3.3 dB; see
    calibration/README.md.)

    A cluster ``far_db`` or more under the loudest is noise whatever its spectrum. Of 1128 clusters of
    voices on the dev, training and real conversations none lay more than 17.7 dB under the loudest;
    of 37 clusters of no one's speech, 16 lay 20 dB or more under it, some of babble-like noise whose
    spectrum moves as a voice's does. Such a cluster, left as a "person", can take the place of the
    second voice while the two real voices stay together in one cluster.

    Parameters
    ----------
    log_mel : ndarray, shape (n_frames, 40)
        Natural-log mel powers per 10 ms frame.
    ff, win, labels
        The speech frames, the windows and each window's cluster.
    below_db : float
        dB under the loudest cluster's median energy.
    min_flatness : float
        In (0, 1].
    max_change_db : float
        Spectral change (dB) at or below which such a quiet cluster is noise; 0 turns the check off.
    far_db : float
        dB under the loudest cluster's median energy from which a cluster is noise on its level
        alone (the default, infinity, turns this off).
    """
    medians = {}
    for c in np.unique(labels):
        members = np.flatnonzero(labels == c)
        frames = ff.index[np.concatenate([np.arange(a, b) for a, b in win.bounds[members]])]
        frames = frames[:: max(1, frames.size // NOISE_CHECK_FRAMES)]  # evenly spread: medians need no more
        energy, flat = energy_and_flatness(log_mel[frames])
        medians[int(c)] = (float(np.median(energy)), float(np.median(flat)), members)
    loudest_cluster = max(medians, key=lambda c: medians[c][0])
    loudest = medians[loudest_cluster][0]

    def is_noise(energy_db: float, flatness: float, members: np.ndarray) -> bool:
        if energy_db <= loudest - far_db:
            return True
        if energy_db > loudest - below_db:
            return False
        if flatness >= min_flatness:
            return True
        return max_change_db > 0 and spectral_change_db(log_mel, ff, win, members) <= max_change_db

    # the loudest cluster is never noise, whatever the limits: at least one voice remains
    return frozenset(c for c, (e, f, members) in medians.items() if c != loudest_cluster and is_noise(e, f, members))


def spectral_change_db(log_mel: np.ndarray, ff: FrameFeatures, win: Windows, members: np.ndarray) -> float:
    """How much a group of windows' spectrum changes from frame to frame, dB.

    For each window (the stretch of frames from its first speech frame to its last, pauses inside
    included; at least :data:`CHANGE_MIN_FRAMES`), the mean absolute difference of the mel-band
    levels of 170-3400 Hz between frames two apart (20 ms), median over the window's frames; then the
    median over the windows (at most :data:`CHANGE_WINDOWS`, evenly spread). Speech changes by
    3-5 dB (each sound has its own spectrum); babble and traffic, whose sounds overlap and blur, by
    about 2. ``inf`` when no window is long enough.

    Parameters
    ----------
    log_mel : ndarray, shape (n_frames, 40)
        Natural-log mel powers per 10 ms frame.
    ff, win
        The speech frames and the windows.
    members : ndarray of int
        Window indices of the group.
    """
    members = np.asarray(members)[:: max(1, len(members) // CHANGE_WINDOWS)]
    per_window = []
    for a, b in win.bounds[members]:
        first, last = int(ff.index[a]), int(ff.index[b - 1])
        if last + 1 - first < CHANGE_MIN_FRAMES:
            continue
        db = np.asarray(log_mel[first : last + 1, FLATNESS_BANDS], dtype=np.float32) * DB_PER_NEPER
        per_window.append(float(np.median(np.abs(db[2:] - db[:-2]).mean(axis=1))))
    return float(np.median(per_window)) if per_window else float("inf")


def two_voice_distance(ff: FrameFeatures, win: Windows, tree: np.ndarray) -> float:
    """Held-out cross-likelihood distance between the two halves of the tree's 2-cluster cut, nats/frame."""
    labels = cut_tree(tree, 2)
    return held_out_distance(ff, win, np.flatnonzero(labels == 0), np.flatnonzero(labels == 1))


def held_out_distance(ff: FrameFeatures, win: Windows, a: np.ndarray, b: np.ndarray) -> float:
    """Held-out cross-likelihood distance between two groups of windows, nats/frame.

    A GMM per group, trained on every other window, scores the group's other windows and the other
    group's held-out windows: ``(LL_own - LL_other)`` summed over both groups. One voice split in two
    gave 1.4-3.1 on the dev conversations, two voices 7.4-27. 0 when a group has fewer than two windows.

    Parameters
    ----------
    ff : FrameFeatures
    win : Windows
    a, b : ndarray of int
        Window indices of each group.
    """
    halves = [np.asarray(a), np.asarray(b)]
    if min(h.size for h in halves) < 2:
        return 0.0

    def frames(members: np.ndarray) -> np.ndarray:
        return np.vstack([ff.full[x:y] for x, y in win.bounds[members]])

    models = [fit_gmm(frames(h[0::2]), 8, max_frames=MODEL_FRAMES) for h in halves]
    held = [frames(h[1::2]) for h in halves]
    own = [float(models[i].score_samples(held[i]).mean()) for i in (0, 1)]
    cross = [float(models[1 - i].score_samples(held[i]).mean()) for i in (0, 1)]
    return (own[0] - cross[0]) + (own[1] - cross[1])


def _sides(tree: np.ndarray, row: int) -> tuple[np.ndarray, np.ndarray]:
    """Window indices under each of the two clusters joined at linkage row ``row``."""
    node = to_tree(tree, rd=True)[1][tree.shape[0] + 1 + row]
    return np.sort(node.get_left().pre_order()), np.sort(node.get_right().pre_order())


def cut_tree(tree: np.ndarray, n_clusters: int) -> np.ndarray:
    """Window labels 0..k-1 from cutting the tree into ``n_clusters`` clusters."""
    labels = fcluster(tree, t=n_clusters, criterion="maxclust") - 1
    _, inv = np.unique(labels, return_inverse=True)
    return inv.astype(int)


def absorb_small(win: Windows, labels: np.ndarray, *, min_frames: int, keep: int = 1,
                 at_most: int | None = None) -> np.ndarray:
    """Dissolve clusters with less speech than ``min_frames`` into the nearest cluster (by centroid).

    Such clusters are mostly noises the voice detector let through (a clatter, a cough), not people.
    The smallest cluster is dissolved first, one at a time, never below ``keep`` clusters; with
    ``at_most``, clusters are also dissolved, smallest first, until no more than ``at_most`` remain
    (when small pieces, each window taking its nearest centroid, grow into more big clusters than
    the count found).
    """
    labels = labels.copy()
    lengths = win.bounds[:, 1] - win.bounds[:, 0]
    while True:
        ids = np.unique(labels)
        if ids.size <= keep:
            return labels
        totals = np.array([lengths[labels == c].sum() for c in ids])
        small = int(np.argmin(totals))
        if totals[small] >= min_frames and (at_most is None or ids.size <= at_most):
            return labels
        gone = ids[small]
        others = [c for c in ids if c != gone]
        centroids = np.stack([win.vectors[labels == c].mean(axis=0) for c in others])
        members = np.flatnonzero(labels == gone)
        d = ((win.vectors[members, None, :] - centroids[None, :, :]) ** 2).sum(axis=2)
        labels[members] = np.asarray(others)[np.argmin(d, axis=1)]
        _, labels = np.unique(labels, return_inverse=True)
