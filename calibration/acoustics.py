"""What a laptop microphone does to a conversation: room reverberation, background noise, transients,
telephone band, slow level drift. All functions take 16 kHz float arrays and a seeded generator.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from scipy.signal import butter, oaconvolve, resample_poly, sosfiltfilt

from .voices import SR, read_mono_16k


def load_rir(path: Path) -> np.ndarray:
    """A room impulse response, starting 1 ms before its direct-path peak, with unit energy.

    Starting at the peak keeps the reverberant voice aligned with the dry one (the reference times
    stay exact up to 1 ms); unit energy keeps its overall level.

    Returns
    -------
    ndarray, shape (n_taps,)
    """
    h = read_mono_16k(path)
    peak = int(np.argmax(np.abs(h)))
    h = h[max(0, peak - SR // 1000) :]
    return h / np.sqrt(np.sum(h**2) + 1e-20)


def reverberate(x: np.ndarray, rir: np.ndarray) -> np.ndarray:
    """Convolve with a room impulse response from :func:`load_rir`; same length as ``x``.

    The output is shifted back by the 1 ms pre-peak lead so the direct path stays in place.
    """
    lead = min(SR // 1000, len(rir) - 1)
    y = oaconvolve(x, rir)[lead : lead + len(x)]
    return y


def noise_bed(path: Path, n: int, rng: np.random.Generator, *, xfade_s: float = 0.05) -> np.ndarray:
    """A background noise of ``n`` samples: the recording looped from a random offset, crossfaded at joins.

    Returns
    -------
    ndarray, shape (n,), zero mean
    """
    src = read_mono_16k(path)
    src = src - src.mean()
    nf = int(xfade_s * SR)
    if len(src) <= 2 * nf:
        src = np.tile(src, int(np.ceil((2 * nf + 1) / max(1, len(src)))) + 1)
    start = int(rng.integers(0, max(1, len(src) - 2 * nf)))
    fade = np.linspace(0.0, 1.0, nf)
    pieces = [src[start:].copy()]
    total = len(pieces[0])
    while total < n:
        nxt = src.copy()
        nxt[:nf] = pieces[-1][-nf:] * (1.0 - fade) + nxt[:nf] * fade
        pieces[-1] = pieces[-1][:-nf]
        pieces.append(nxt)
        total += len(src) - nf
    return np.concatenate(pieces)[:n]


def add_transients(
    y: np.ndarray, paths: list[Path], rng: np.random.Generator, *, rate_per_s: float, peak: float
) -> list[tuple[float, str]]:
    """Add short non-speech sounds (taps, rubs) at random times, in place.

    Parameters
    ----------
    y : ndarray, shape (n,)
        The signal, modified in place.
    paths : list of Path
        Transient recordings to draw from.
    rate_per_s : float
        Mean number of transients per second (Poisson).
    peak : float
        Reference peak amplitude; each transient's peak is 0.3..1.0 of it.

    Returns
    -------
    list of (float, str)
        Onset in seconds and file name of every transient added.
    """
    count = int(rng.poisson(rate_per_s * len(y) / SR)) if paths else 0
    added = []
    for _ in range(count):
        path = paths[int(rng.integers(len(paths)))]
        t = read_mono_16k(path)
        t = t / (np.max(np.abs(t)) + 1e-12) * peak * rng.uniform(0.3, 1.0)
        at = int(rng.integers(0, max(1, len(y) - len(t))))
        seg = t[: len(y) - at]
        y[at : at + len(seg)] += seg
        added.append((round(at / SR, 2), path.name))
    return sorted(added)


def telephone(y: np.ndarray) -> np.ndarray:
    """Telephone band: 300-3400 Hz band-pass, then 8 kHz sampling.

    Returns
    -------
    ndarray, shape (ceil(n / 2),)
        The 8 kHz signal.
    """
    sos = butter(6, [300.0, 3400.0], btype="bandpass", fs=SR, output="sos")
    return resample_poly(sosfiltfilt(sos, y), 1, 2)


def drift_gain(n: int, rng: np.random.Generator, *, depth_db: float) -> np.ndarray:
    """A slow gain curve: two sinusoids with periods of 20-90 s, peak-to-peak about ``2 depth_db``.

    Returns
    -------
    ndarray, shape (n,)
        Linear gain per sample.
    """
    t = np.arange(n) / SR
    db = np.zeros(n)
    for _ in range(2):
        period = rng.uniform(20.0, 90.0)
        db += 0.5 * depth_db * np.sin(2 * np.pi * t / period + rng.uniform(0, 2 * np.pi))
    return 10.0 ** (db / 20.0)


def rms_db(x: np.ndarray) -> float:
    """RMS level in dBFS."""
    return float(10.0 * np.log10(np.mean(np.square(x)) + 1e-20))
