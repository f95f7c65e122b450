"""The speaker projection of the clustering windows (linear discriminant analysis)."""

from __future__ import annotations

import numpy as np
import pytest

import listenkit.diarization.frames as frames
from listenkit.diarization.frames import FrameFeatures, make_windows, window_supervectors
from listenkit.diarization.models import DiagGMM
from listenkit.diarization.projection import fit_projection, shipped_projection


def _recording(rng: np.random.Generator, offset: float) -> tuple[np.ndarray, np.ndarray]:
    """Two voices 2 apart along axis 0 (spread 0.1); both spread 10 along axis 1 (what is said)."""
    n = 200
    labels = np.repeat([0, 1], n // 2)
    v = np.zeros((n, 3))
    v[:, 0] = offset + 2.0 * labels + 0.1 * rng.standard_normal(n)
    v[:, 1] = 10.0 * rng.standard_normal(n)
    v[:, 2] = rng.standard_normal(n)
    return v, labels


def test_the_first_direction_is_the_one_that_tells_voices_apart():
    rng = np.random.default_rng(1)
    recs = [_recording(rng, offset) for offset in (0.0, 5.0, -3.0)]
    w = fit_projection([r[0] for r in recs], [r[1] for r in recs], dims=2, regularisation=0.0)
    first = w[:, 0] / np.linalg.norm(w[:, 0])
    assert abs(first[0]) > 0.99  # axis 0, although axis 1 has 100 times its variance
    # unit within-voice spread along it: 1 / 0.1
    assert np.linalg.norm(w[:, 0]) == pytest.approx(10.0, rel=0.1)


def test_recording_offsets_do_not_count_as_voice_differences():
    # the offsets between recordings are large along axis 2 only: a projection fitted recording by
    # recording must not pick axis 2
    rng = np.random.default_rng(2)
    recs = []
    for offset in (0.0, 30.0, -30.0):
        v, lab = _recording(rng, 0.0)
        v[:, 2] += offset
        recs.append((v, lab))
    w = fit_projection([r[0] for r in recs], [r[1] for r in recs], dims=1, regularisation=0.0)
    assert abs(w[0, 0]) / np.linalg.norm(w[:, 0]) > 0.99


def test_windows_without_two_voices_are_refused():
    v = np.random.default_rng(3).standard_normal((50, 3))
    with pytest.raises(ValueError, match="two labelled voices"):
        fit_projection([v], [np.zeros(50, int)], dims=2, regularisation=0.1)
    with pytest.raises(ValueError):
        fit_projection([v], [np.full(50, -1)], dims=2, regularisation=0.1)


@pytest.mark.parametrize("band", ["wide", "narrow"])
def test_the_shipped_projection_is_there_and_sane(band):
    p = shipped_projection(band)
    assert p is not None, f"listenkit/speaker_projection.npz has no {band}-band matrix"
    w = p.matrix
    inputs = 38 if p.ubm is None else 38 + p.ubm.means.size
    assert w.shape[0] == inputs and 2 <= w.shape[1] <= 38
    assert np.isfinite(w).all() and np.linalg.matrix_rank(w.astype(np.float64)) == w.shape[1]
    if p.ubm is not None:
        assert p.ubm.means.shape[1] == 38 and p.relevance > 0  # cepstra and their deltas
        assert np.all(p.ubm.variances > 0) and p.ubm.weights.sum() == pytest.approx(1.0, abs=1e-3)


def test_the_wideband_projection_reads_supervectors_and_the_narrow_one_does_not():
    # chosen by measurement: supervectors told unseen wideband voices apart far better (README);
    # telephone band keeps the mean and spread alone
    assert shipped_projection("wide").ubm is not None
    assert shipped_projection("narrow").ubm is None


def test_make_windows_projects_the_z_scored_vectors():
    rng = np.random.default_rng(4)
    n = 600
    ceps = rng.standard_normal((n, 19)).astype(np.float32)
    ff = FrameFeatures(np.arange(n), ceps, np.hstack([ceps, ceps]), np.zeros(19), np.ones(19))
    raw = make_windows(ff, 100, project=False)
    projected = make_windows(ff, 100)
    np.testing.assert_array_equal(raw.bounds, projected.bounds)
    assert raw.vectors.shape == (6, 38)
    np.testing.assert_allclose(raw.vectors.mean(axis=0), 0.0, atol=1e-5)  # z-scored across windows
    wide = shipped_projection("wide")
    sv = window_supervectors(ff, raw.bounds, wide.ubm, wide.relevance)
    sv = (sv - sv.mean(axis=0)) / (sv.std(axis=0) + 1e-6)
    np.testing.assert_allclose(projected.vectors, np.hstack([raw.vectors, sv]) @ wide.matrix, rtol=1e-3, atol=1e-3)
    narrow = make_windows(ff, 100, band="narrow")
    np.testing.assert_allclose(narrow.vectors, raw.vectors @ shipped_projection("narrow").matrix, rtol=1e-4, atol=1e-4)


def test_supervectors_by_hand():
    # two sounds far apart (means -10 and +10 on every cepstrum, unit variance, weights 0.25 / 0.75):
    # each frame belongs wholly to the nearer one. Window 0: 3 frames of sound 0 at -9; window 1:
    # 1 frame of sound 0 at -12 and 5 of sound 1 at +10.5
    d = 19
    ubm = DiagGMM(np.array([0.25, 0.75]), np.stack([np.full(d, -10.0), np.full(d, 10.0)]), np.ones((2, d)))
    ceps = np.vstack([np.full((3, d), -9.0), np.full((1, d), -12.0), np.full((5, d), 10.5)]).astype(np.float32)
    ff = FrameFeatures(np.arange(9), ceps, np.hstack([ceps, ceps]), np.zeros(d), np.ones(d))
    sv = window_supervectors(ff, np.array([[0, 3], [3, 9]]), ubm, relevance=2.0)
    assert sv.shape == (2, 2 * d)
    # adapted mean = (sum x + r mu) / (n + r); entry = sqrt(w) (adapted - mu) / sigma
    expected = np.array([
        [np.sqrt(0.25) * ((3 * -9.0 + 2 * -10.0) / 5 + 10.0), 0.0],   # sound 1 unseen: stays at its mean
        [np.sqrt(0.25) * ((-12.0 + 2 * -10.0) / 3 + 10.0), np.sqrt(0.75) * ((5 * 10.5 + 2 * 10.0) / 7 - 10.0)],
    ])
    np.testing.assert_allclose(sv[:, :d], np.repeat(expected[:, :1], d, axis=1), atol=1e-6)
    np.testing.assert_allclose(sv[:, d:], np.repeat(expected[:, 1:], d, axis=1), atol=1e-6)


def test_a_background_model_over_38_features_reads_the_deltas_too():
    # the same two far-apart sounds over 38 features; the deltas (second half of ``full``) are
    # +1 in window 0 and -2 in window 1, so only a model that reads them sees the difference
    d = 19
    ubm = DiagGMM(np.array([0.5, 0.5]), np.stack([np.full(2 * d, -10.0), np.full(2 * d, 10.0)]), np.ones((2, 2 * d)))
    ceps = np.full((8, d), -10.0, dtype=np.float32)
    dl = np.vstack([np.full((4, d), -9.0), np.full((4, d), -12.0)]).astype(np.float32)
    ff = FrameFeatures(np.arange(8), ceps, np.hstack([ceps, dl]), np.zeros(d), np.ones(d))
    sv = window_supervectors(ff, np.array([[0, 4], [4, 8]]), ubm, relevance=4.0)
    assert sv.shape == (2, 2 * 2 * d)  # components x (cepstra + deltas)
    first = sv[:, : 2 * d]  # the sound every frame belongs to
    np.testing.assert_allclose(first[:, :d], 0.0, atol=1e-6)  # the cepstra sit at its mean
    # adapted delta mean (4 x + 4 mu) / 8, minus mu = (x - mu) / 2, times sqrt(0.5)
    np.testing.assert_allclose(first[0, d:], np.sqrt(0.5) * 0.5, atol=1e-6)
    np.testing.assert_allclose(first[1, d:], np.sqrt(0.5) * -1.0, atol=1e-6)
    np.testing.assert_allclose(sv[:, 2 * d:], 0.0, atol=1e-6)  # the other sound is unseen


def test_a_background_model_of_another_size_is_refused():
    ff = FrameFeatures(np.arange(4), np.zeros((4, 19), np.float32), np.zeros((4, 38), np.float32), np.zeros(19), np.ones(19))
    ubm = DiagGMM(np.array([1.0]), np.zeros((1, 20)), np.ones((1, 20)))
    with pytest.raises(ValueError, match="20 features"):
        window_supervectors(ff, np.array([[0, 4]]), ubm, relevance=4.0)


def test_supervectors_do_not_depend_on_the_block_size(monkeypatch):
    rng = np.random.default_rng(6)
    n = 2000
    ceps = rng.standard_normal((n, 19)).astype(np.float32)
    ff = FrameFeatures(np.arange(n), ceps, np.hstack([ceps, ceps]), np.zeros(19), np.ones(19))
    bounds = np.array([[0, 130], [130, 250], [300, 420], [420, 555], [700, 830], [1900, 2000]])
    ubm = DiagGMM(np.full(4, 0.25), rng.standard_normal((4, 19)), np.full((4, 19), 1.5))
    whole = window_supervectors(ff, bounds, ubm, 4.0)
    monkeypatch.setattr(frames, "SUPERVECTOR_BLOCK_FRAMES", 200)  # several blocks, one window per block at least
    np.testing.assert_allclose(window_supervectors(ff, bounds, ubm, 4.0), whole, rtol=1e-5, atol=1e-6)


def test_window_vectors_are_each_windows_mean_and_spread():
    # runs of 250, 10 and 250 speech frames with pauses between them: the 10-frame run is too short
    # for a window and is left out, so the windows do not cover every frame; the last one ends at the end
    rng = np.random.default_rng(5)
    index = np.concatenate([np.arange(0, 250), np.arange(300, 310), np.arange(400, 650)])
    ceps = (3.0 * rng.standard_normal((index.size, 19)) + 1.0).astype(np.float32)
    ff = FrameFeatures(index, ceps, np.hstack([ceps, ceps]), np.zeros(19), np.ones(19))
    win = make_windows(ff, 100, project=False)
    assert win.bounds.tolist() == [[0, 125], [125, 250], [260, 385], [385, 510]]
    c = ceps.astype(np.float64)
    v = np.array([np.concatenate([c[a:b].mean(axis=0), c[a:b].std(axis=0)]) for a, b in win.bounds])
    v = (v - v.mean(axis=0)) / (v.std(axis=0) + 1e-6)
    np.testing.assert_allclose(win.vectors, v, rtol=1e-4, atol=1e-4)
