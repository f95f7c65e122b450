"""Frame-level speaker re-segmentation with per-speaker GMMs, and overlap ("two voices") states.

Pass 1..n: one GMM per speaker, trained on its frames; the Viterbi path with a switch penalty relabels
every speech frame (so short turns and exact boundaries come out of frames, not windows); models are
retrained on the new labels. Last pass: for each pair of speakers a model of both talking at once,
trained on synthetic overlap made from this recording (mel powers of one speaker's frames added to the
other's, then turned into the same cepstral features), enters the Viterbi as an extra state with its
own penalty (``overlap_penalty``), so interruptions and backchannels during speech become visible.
When a learned overlap detector's log-odds are given (:mod:`~listenkit.diarization.overlap_detector`),
``overlap_detector_weight`` times them is added to every "both" state's log-likelihood.
"""

from __future__ import annotations

from itertools import combinations

import numpy as np

from ..params import AnalysisParams
from .frames import FrameFeatures, Windows, normalise_log_mel_chunks
from .models import fit_gmm, score_matrix
from .resegment import viterbi

PAUSE_FRAMES = 20  # a pause of 0.2 s or more makes a speaker change cheaper
MIN_STATE_FRAMES = 10  # a state held for less than 0.1 s inside continuous speech takes its neighbour's label
#: A "both" state held for less than 0.2 s next to one of the single voices takes that voice's label:
#: no "mm-hm" is that short, and such slivers were false backchannels (sim-dev backchannel F1
#: 0.62 -> 0.66, sim-dev2 0.52 -> 0.55; 0.3 s the same, 0.5 s lost real ones).
MIN_OVERLAP_FRAMES = 20
STEP = 3  # Viterbi runs on groups of 3 speech frames (30 ms): boundaries to 30 ms, a third of the time
CHUNK = 40  # frames per synthetic-overlap chunk (deltas need contiguous frames)
MAX_CHUNKS = 150


def _groups(ff: FrameFeatures) -> tuple[np.ndarray, np.ndarray]:
    """Split the speech frames into groups of up to STEP consecutive frames, never across a pause.

    Returns
    -------
    starts : ndarray of int, shape (n_groups,)
        Position (in the speech-frame arrays) where each group starts.
    after_pause : ndarray of bool, shape (n_groups,)
        True for groups that start after a pause of PAUSE_FRAMES or more.
    """
    n = ff.index.size
    gap_before = np.concatenate(([PAUSE_FRAMES], np.diff(ff.index)))
    new_run = gap_before > 1
    run_id = np.cumsum(new_run) - 1
    run_start = np.flatnonzero(new_run)
    offset = np.arange(n) - run_start[run_id]
    starts = np.flatnonzero(offset % STEP == 0)
    return starts, gap_before[starts] >= PAUSE_FRAMES


def _grouped_viterbi(ll: np.ndarray, ff: FrameFeatures, params: AnalysisParams,
                     state_penalty: np.ndarray | None = None) -> np.ndarray:
    """Viterbi on sums of up to STEP consecutive frames' log-likelihoods; path expanded to frames.

    A speaker change costs ``switch_penalty``, times ``pause_switch_factor`` after a pause.
    """
    starts, after_pause = _groups(ff)
    summed = np.add.reduceat(ll.astype(np.float64), starts, axis=0)
    sizes = np.diff(np.append(starts, ll.shape[0]))
    pen = np.where(after_pause, params.switch_penalty * params.pause_switch_factor, params.switch_penalty)
    sp = None if state_penalty is None else np.asarray(state_penalty)[None, :] * sizes[:, None]
    path = viterbi(summed - (0 if sp is None else sp), pen)
    return np.repeat(path, sizes)


def resegment(log_mel: np.ndarray, ff: FrameFeatures, win: Windows, labels: np.ndarray, *,
              params: AnalysisParams, n_frames: int, noise: frozenset[int] = frozenset(),
              overlap_log_odds: np.ndarray | None = None) -> np.ndarray:
    """Per-frame activity (n_frames, k) from window cluster labels 0..k-1.

    ``overlap_log_odds`` (shape (n_speech,), aligned with ``ff.index``) is a learned detector's
    evidence of two voices at once in each frame, in nats; None leaves the "both" states to their
    models alone.

    Clusters in ``noise`` (background noise the voice detector let through, see
    :func:`listenkit.diarization.clustering.noise_clusters`) take part as states of their own, so that
    noise frames fit them rather than a voice, but their frames end up as nobody's speech (their
    columns stay empty) and they get no overlap states.
    """
    k = int(labels.max()) + 1
    pos_label = np.full(ff.index.size, -1)
    for (a, b), c in zip(win.bounds, labels):
        pos_label[a:b] = c
    models = [fit_gmm(ff.full[pos_label == c], params.gmm_components) for c in range(k)]
    ll = score_matrix(models, ff.full)
    path = _grouped_viterbi(ll, ff, params)
    for _ in range(max(0, params.resegment_passes - 1)):
        models = [_refit(ff.full[path == c], models[c], params) for c in range(k)]
        ll = score_matrix(models, ff.full)
        path = _grouped_viterbi(ll, ff, params)
    states: list[tuple[int, ...]] = [(c,) for c in range(k)]
    voices = [c for c in range(k) if c not in noise]
    if params.overlap_detection and len(voices) >= 2:
        pairs = list(combinations(voices, 2))
        pair_models = [_overlap_model(log_mel, ff, path, i, j, params) for i, j in pairs]
        usable = [(p, m) for p, m in zip(pairs, pair_models) if m is not None]
        if usable:
            ll2 = score_matrix([m for _, m in usable], ff.full)
            if overlap_log_odds is not None:
                ll2 += params.overlap_detector_weight * overlap_log_odds[:, None]
            ll = np.hstack([ll, ll2])
            states += [p for p, _ in usable]
            state_pen = np.concatenate([np.zeros(k), np.full(len(usable), params.overlap_penalty)])
            path = _grouped_viterbi(ll, ff, params, state_pen)
    path = _drop_slivers(path, ff.index, MIN_STATE_FRAMES)
    path = _drop_slivers(path, ff.index, MIN_OVERLAP_FRAMES, first_state=k)
    act = np.zeros((n_frames, k), dtype=bool)
    for s, members in enumerate(states):
        idx = ff.index[path == s]
        for c in members:
            if c not in noise:
                act[idx, c] = True
    return act


def _drop_slivers(path: np.ndarray, index: np.ndarray, min_frames: int, *, first_state: int = 0) -> np.ndarray:
    """Relabel stretches shorter than ``min_frames`` that touch another label without a pause.

    Such slivers are frames at the edge of a turn (a breath, the detector's tail) that fit the other
    voice's model by chance; a real turn is longer. Isolated short stretches (pauses on both sides)
    are kept: a short "mm-hm" between pauses is real. With ``first_state`` > 0, only stretches of
    states ``first_state`` and up (the "both" states) are looked at, and they take the label of a
    neighbouring state below ``first_state`` (a single voice).
    """
    path = path.copy()
    n = path.size
    if n == 0:
        return path
    change = np.flatnonzero((np.diff(path) != 0) | (np.diff(index) > 1)) + 1
    starts = np.concatenate(([0], change))
    ends = np.concatenate((change, [n]))
    for a, b in zip(starts, ends):
        if b - a >= min_frames or path[a] < first_state:
            continue
        left = a > 0 and index[a] - index[a - 1] == 1 and path[a - 1] != path[a]
        right = b < n and index[b] - index[b - 1] == 1 and path[b] != path[a]
        if first_state:
            left = left and path[a - 1] < first_state
            right = right and path[b] < first_state
        if left:
            path[a:b] = path[a - 1]
        elif right:
            path[a:b] = path[b]
    return path


def _refit(x: np.ndarray, old, params: AnalysisParams):
    return fit_gmm(x, params.gmm_components) if x.shape[0] >= 100 else old


def _runs(mask: np.ndarray, min_len: int) -> list[tuple[int, int]]:
    m = np.concatenate(([0], mask.astype(np.int8), [0]))
    d = np.diff(m)
    return [(s, e) for s, e in zip(np.flatnonzero(d == 1), np.flatnonzero(d == -1)) if e - s >= min_len]


def _overlap_model(log_mel: np.ndarray, ff: FrameFeatures, path: np.ndarray, i: int, j: int, params: AnalysisParams):
    """GMM of synthetic overlap of speakers i and j, or None when either has too little clean speech."""
    mask_i = np.zeros(log_mel.shape[0], dtype=bool)
    mask_j = np.zeros(log_mel.shape[0], dtype=bool)
    mask_i[ff.index[path == i]] = True
    mask_j[ff.index[path == j]] = True
    runs_i = _runs(mask_i, CHUNK)
    runs_j = _runs(mask_j, CHUNK)
    if not runs_i or not runs_j:
        return None
    rng = np.random.default_rng(1234 + 31 * i + j)
    chunks_i = _chunk_starts(runs_i, rng)
    chunks_j = _chunk_starts(runs_j, rng)
    n = min(MAX_CHUNKS, max(len(chunks_i), len(chunks_j)))
    starts_i = np.array([chunks_i[t % len(chunks_i)] for t in range(n)])
    starts_j = np.array([chunks_j[rng.integers(len(chunks_j))] for _ in range(n)])
    offsets = np.arange(CHUNK)
    # all chunks at once: (n, CHUNK, 40) mel powers of i plus those of j
    mix = np.logaddexp(log_mel[starts_i[:, None] + offsets].astype(np.float32),
                       log_mel[starts_j[:, None] + offsets].astype(np.float32))
    feats = normalise_log_mel_chunks(mix, ff)[:, 2:-2]  # drop edge frames whose deltas are clipped
    return fit_gmm(feats.reshape(-1, feats.shape[-1]), params.gmm_components)


def _chunk_starts(runs: list[tuple[int, int]], rng: np.random.Generator) -> list[int]:
    starts = [s + o for s, e in runs for o in range(0, e - s - CHUNK + 1, CHUNK)]
    rng.shuffle(starts)
    return starts[: 4 * MAX_CHUNKS]
