"""The speaker projection of the clustering windows (linear discriminant analysis)."""

from __future__ import annotations

import numpy as np
import pytest

from listenkit.diarization.frames import FrameFeatures, make_windows
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
    w = shipped_projection(band)
    assert w is not None, f"listenkit/speaker_projection.npz has no {band}-band matrix"
    assert w.shape[0] == 38 and 2 <= w.shape[1] <= 38
    assert np.isfinite(w).all() and np.linalg.matrix_rank(w.astype(np.float64)) == w.shape[1]


def test_the_two_bands_have_different_projections():
    wide, narrow = shipped_projection("wide"), shipped_projection("narrow")
    assert not np.allclose(wide, narrow, atol=1e-3)


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
    np.testing.assert_allclose(projected.vectors, raw.vectors @ shipped_projection(), rtol=1e-4, atol=1e-4)
    narrow = make_windows(ff, 100, band="narrow")
    np.testing.assert_allclose(narrow.vectors, raw.vectors @ shipped_projection("narrow"), rtol=1e-4, atol=1e-4)


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
