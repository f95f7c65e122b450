"""Frame-level speaker re-segmentation with per-speaker GMMs, and overlap ("two voices") states.

Pass 1..n: one GMM per speaker, trained on its frames; the Viterbi path with a switch penalty relabels
every speech frame (so short turns and exact boundaries come out of frames, not windows); models are
retrained on the new labels. Last pass: for each pair of speakers a model of both talking at once,
trained on synthetic overlap made from this recording (mel powers of one speaker's frames added to the
other's, then turned into the same cepstral features), enters the Viterbi as an extra state with its
own penalty (``overlap_penalty``), so interruptions and backchannels during speech become visible.
"""

from __future__ import annotations

from itertools import combinations

import numpy as np

from ..params import AnalysisParams
from .frames import FrameFeatures, Windows, normalise_log_mel
from .models import fit_gmm, score_matrix
from .resegment import viterbi

PAUSE_FRAMES = 20  # a pause of 0.2 s or more makes a speaker change cheaper
STEP = 3  # Viterbi runs on groups of 3 speech frames (30 ms): boundaries to 30 ms, a third of the time
CHUNK = 40  # frames per synthetic-overlap chunk (deltas need contiguous frames)
MAX_CHUNKS = 150


def _switch_costs(ff: FrameFeatures, params: AnalysisParams) -> np.ndarray:
    """Cost of a speaker change before each group of STEP speech frames (cheaper after a pause)."""
    n = ff.index.size
    groups = (n + STEP - 1) // STEP
    pen = np.full(groups, params.switch_penalty)
    if n > 1:
        gap_before = np.concatenate(([0], np.diff(ff.index)))
        # the largest pause inside or right before each group decides
        padded = np.zeros(groups * STEP, dtype=int)
        padded[:n] = gap_before
        widest = padded.reshape(groups, STEP).max(axis=1)
        pen[widest >= PAUSE_FRAMES] *= params.pause_switch_factor
    return pen


def _grouped_viterbi(ll: np.ndarray, pen: np.ndarray, state_penalty: np.ndarray | None = None) -> np.ndarray:
    """Viterbi on sums of STEP consecutive frames' log-likelihoods; path expanded back to frames."""
    n = ll.shape[0]
    groups = (n + STEP - 1) // STEP
    padded = np.zeros((groups * STEP, ll.shape[1]), dtype=np.float64)
    padded[:n] = ll
    summed = padded.reshape(groups, STEP, -1).sum(axis=1)
    sp = None if state_penalty is None else np.asarray(state_penalty) * STEP
    return np.repeat(viterbi(summed, pen, state_penalty=sp), STEP)[:n]


def resegment(log_mel: np.ndarray, ff: FrameFeatures, win: Windows, labels: np.ndarray, *,
              params: AnalysisParams, n_frames: int) -> np.ndarray:
    """Per-frame activity (n_frames, k) from window cluster labels 0..k-1."""
    k = int(labels.max()) + 1
    pos_label = np.full(ff.index.size, -1)
    for (a, b), c in zip(win.bounds, labels):
        pos_label[a:b] = c
    pen = _switch_costs(ff, params)
    models = [fit_gmm(ff.full[pos_label == c], params.gmm_components) for c in range(k)]
    ll = score_matrix(models, ff.full)
    path = _grouped_viterbi(ll, pen)
    for _ in range(max(0, params.resegment_passes - 1)):
        models = [_refit(ff.full[path == c], models[c], params) for c in range(k)]
        ll = score_matrix(models, ff.full)
        path = _grouped_viterbi(ll, pen)
    states: list[tuple[int, ...]] = [(c,) for c in range(k)]
    if params.overlap_detection and k >= 2:
        pairs = list(combinations(range(k), 2))
        pair_models = [_overlap_model(log_mel, ff, path, i, j, params) for i, j in pairs]
        usable = [(p, m) for p, m in zip(pairs, pair_models) if m is not None]
        if usable:
            ll2 = score_matrix([m for _, m in usable], ff.full)
            ll = np.hstack([ll, ll2])
            states += [p for p, _ in usable]
            state_pen = np.concatenate([np.zeros(k), np.full(len(usable), params.overlap_penalty)])
            path = _grouped_viterbi(ll, pen, state_pen)
    act = np.zeros((n_frames, k), dtype=bool)
    for s, members in enumerate(states):
        idx = ff.index[path == s]
        for c in members:
            act[idx, c] = True
    return act


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
    feats = []
    for t in range(n):
        a = chunks_i[t % len(chunks_i)]
        b = chunks_j[rng.integers(len(chunks_j))]
        mix = np.logaddexp(log_mel[a : a + CHUNK], log_mel[b : b + CHUNK])
        feats.append(normalise_log_mel(mix, ff)[2:-2])  # drop edge frames whose deltas are clipped
    return fit_gmm(np.vstack(feats), params.gmm_components)


def _chunk_starts(runs: list[tuple[int, int]], rng: np.random.Generator) -> list[int]:
    starts = [s + o for s, e in runs for o in range(0, e - s - CHUNK + 1, CHUNK)]
    rng.shuffle(starts)
    return starts[: 4 * MAX_CHUNKS]
