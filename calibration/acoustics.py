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


#: Blocks (s), smoothing (blocks) and level (dB under the clip's median) of the fade-in and
#: fade-out that :func:`trim_fades` cuts off a noise clip's ends before it is looped.
FADE_BLOCK_S = 0.05
FADE_SMOOTH_BLOCKS = 3
FADE_DB = 4.0


def trim_fades(x: np.ndarray, *, block_s: float = FADE_BLOCK_S, below_db: float = FADE_DB) -> np.ndarray:
    """A noise clip without the quiet blocks at its two ends (a fade-in, a fade-out): blocks whose
    level, smoothed over :data:`FADE_SMOOTH_BLOCKS` blocks, lies more than ``below_db`` under the
    median block's.

    Several background clips of the corpus start or end with a fade (``bg``: its first 0.2 s up to
    14 dB under its level; ``noise4``: 2.3 s of fades, down to 50 dB under). Looped for a whole conversation, such a fade
    becomes a dip in the noise every loop (every 2.9 s for ``bg``), followed by a swell that no real
    background has: the voice detector hears each swell start as speech. Only the ends are trimmed:
    quiet stretches inside a clip are part of the noise and stay.

    Parameters
    ----------
    x : ndarray, shape (n,)
        16 kHz samples.
    block_s : float
        Block length, s.
    below_db : float
        dB under the median block's level.
    """
    step = max(1, int(round(block_s * SR)))
    n_blocks = len(x) // step
    if n_blocks < 3 * FADE_SMOOTH_BLOCKS:
        return x
    power = np.mean(np.square(x[: n_blocks * step].reshape(n_blocks, step)), axis=1)
    power = np.convolve(power, np.ones(FADE_SMOOTH_BLOCKS) / FADE_SMOOTH_BLOCKS, mode="same")
    level = 10.0 * np.log10(power + 1e-20)
    loud = np.flatnonzero(level >= np.median(level) - below_db)
    first, last = int(loud[0]), int(loud[-1])
    end = len(x) if last == n_blocks - 1 else (last + 1) * step
    return x[first * step : end]


def noise_bed(path: Path, n: int, rng: np.random.Generator, *, xfade_s: float = 0.05) -> np.ndarray:
    """A background noise of ``n`` samples: the recording without its end fades (:func:`trim_fades`),
    looped from a random offset, crossfaded at joins.

    Returns
    -------
    ndarray, shape (n,), zero mean
    """
    src = trim_fades(read_mono_16k(path))
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
