"""Streaming resampler: chunked equals whole, right length, clean anti-aliasing."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from listenkit.resample import Resampler

RATES = [8000, 11025, 16000, 22050, 44100, 48000, 96000]


def run(rs: Resampler, x: np.ndarray, cuts: list[int] | None = None) -> np.ndarray:
    """Feed ``x`` cut at the sorted positions ``cuts`` (one block when None), then flush."""
    edges = [0, *sorted(cuts or []), len(x)]
    parts = [rs.process(x[a:b]) for a, b in zip(edges[:-1], edges[1:])]
    parts.append(rs.flush())
    return np.concatenate(parts)


def level_db(y: np.ndarray) -> float:
    mid = y[len(y) // 4 : 3 * len(y) // 4].astype(np.float64)
    return float(10 * np.log10(np.mean(mid**2) + 1e-30))


def sine(freq: float, rate: int, seconds: float = 0.5, amp: float = 0.5) -> np.ndarray:
    t = np.arange(int(rate * seconds)) / rate
    return (amp * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def test_equal_rates_pass_through_unchanged(rng):
    x = rng.standard_normal(1000).astype(np.float32)
    rs = Resampler(16000, 16000)
    assert rs.identity
    np.testing.assert_array_equal(run(rs, x, [10, 500]), x)


@settings(max_examples=40, deadline=None)
@given(
    in_rate=st.sampled_from(RATES),
    n=st.integers(0, 6000),
    cuts=st.lists(st.integers(0, 6000), max_size=8),
    seed=st.integers(0, 2**16),
)
def test_chunked_equals_whole(in_rate, n, cuts, seed):
    x = np.random.default_rng(seed).uniform(-1, 1, n).astype(np.float32)
    whole = run(Resampler(in_rate), x)
    chunked = run(Resampler(in_rate), x, [c for c in cuts if c <= n])
    assert len(whole) == len(chunked)
    np.testing.assert_allclose(chunked, whole, atol=1e-6)
    # total length: n * 16000 / in_rate, rounded
    assert abs(len(whole) - n * 16000 / in_rate) <= 0.5 + 1e-9


def test_flush_starts_a_new_stream(rng):
    x = rng.standard_normal(4410).astype(np.float32)
    rs = Resampler(44100)
    first = run(rs, x)
    second = run(rs, x)
    np.testing.assert_array_equal(first, second)


@pytest.mark.parametrize("in_rate", [8000, 11025, 22050, 44100, 48000, 96000])
def test_tone_keeps_frequency_and_level(in_rate):
    y = run(Resampler(in_rate), sine(1000.0, in_rate))
    spec = np.abs(np.fft.rfft(y * np.hanning(len(y)), 1 << 16))
    assert abs(np.fft.rfftfreq(1 << 16, 1 / 16000)[np.argmax(spec)] - 1000.0) < 1.0
    assert abs(level_db(y) - level_db(sine(1000.0, in_rate))) < 0.05


def test_anti_aliasing_48k_to_16k():
    keep = run(Resampler(48000), sine(6000.0, 48000))
    assert abs(level_db(keep) - level_db(sine(6000.0, 48000))) < 0.1  # in the pass band
    # 10 kHz would fold to 6 kHz; it must be removed, not aliased
    gone = run(Resampler(48000), sine(10000.0, 48000))
    assert level_db(gone) - level_db(sine(10000.0, 48000)) < -40.0


def test_bad_arguments():
    with pytest.raises(ValueError):
        Resampler(0)
    with pytest.raises(ValueError):
        Resampler(44100).process(np.zeros((10, 2), dtype=np.float32))
