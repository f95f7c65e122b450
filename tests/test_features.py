"""Feature extraction: frame count, chunked == whole, where the energy of a tone lands."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from listenkit.features import HOP, N_MELS, FeatureExtractor, deltas, mel_filterbank, mfcc


def _run(x: np.ndarray, sizes: list[int]) -> np.ndarray:
    fe = FeatureExtractor()
    out, i = [], 0
    for n in sizes:
        out.append(fe.process(x[i : i + n]))
        i += n
    out.append(fe.process(x[i:]))
    out.append(fe.flush())
    return np.concatenate(out)


def test_one_row_per_complete_10ms_frame(rng):
    for n in (0, 159, 160, 161, 16000, 16079):
        x = (0.1 * rng.standard_normal(n)).astype(np.float32)
        assert _run(x, []).shape == (n // HOP, N_MELS + 1)


@settings(max_examples=25, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=3000), max_size=8))
def test_chunked_equals_whole(sizes):
    x = (0.1 * np.random.default_rng(3).standard_normal(12000)).astype(np.float32)
    whole = _run(x, [])
    chunked = _run(x, sizes)
    np.testing.assert_allclose(chunked, whole, rtol=0, atol=1e-4)


def test_tone_energy_lands_in_its_mel_band():
    t = np.arange(16000) / 16000
    x = (0.5 * np.sin(2 * np.pi * 1000 * t)).astype(np.float32)
    rows = _run(x, [])[10:-10]
    fb = mel_filterbank()
    expected_band = int(np.argmax(fb[int(round(1000 / (16000 / 512)))]))
    assert int(np.median(np.argmax(rows[:, :N_MELS], axis=1))) == expected_band
    assert np.all(np.isfinite(rows))


def test_louder_signal_has_higher_log_energy(rng):
    x = (0.01 * rng.standard_normal(8000)).astype(np.float32)
    quiet = _run(x, [])[:, -1].mean()
    loud = _run(10 * x, [])[:, -1].mean()
    assert loud - quiet == pytest.approx(2 * np.log(10), abs=0.05)  # energy is amplitude squared


def test_mfcc_and_deltas_shapes_and_values():
    log_mel = np.tile(np.linspace(0, 1, N_MELS, dtype=np.float32), (5, 1))
    c = mfcc(log_mel, 20)
    assert c.shape == (5, 20)
    # a constant row: c0 = sum / sqrt(N) (orthonormal DCT-II)
    assert c[0, 0] == pytest.approx(log_mel[0].sum() / np.sqrt(N_MELS), rel=1e-5)
    ramp = np.arange(10, dtype=np.float32)[:, None]
    d = deltas(ramp)
    np.testing.assert_allclose(d[2:-2, 0], 1.0)  # slope of a ramp is 1 per frame


def test_wrong_rate_is_refused():
    with pytest.raises(ValueError):
        FeatureExtractor(sample_rate=8000)
