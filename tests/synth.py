"""Synthetic test signals: voice-like sounds with a chosen pitch and vocal-tract colour.

Not speech, but close enough for the voice detector (harmonic, syllable-rate modulation) and clearly
different between two "voices" (pitch and formants), so diarization tests need no corpus.
"""

from __future__ import annotations

import numpy as np
from scipy.signal import lfilter

SR = 16000

VOICE_LOW = {"f0": 105.0, "formants": (550.0, 1100.0, 2450.0)}
VOICE_HIGH = {"f0": 215.0, "formants": (850.0, 2000.0, 3100.0)}


def _resonator(x: np.ndarray, freq: float, bw: float, sr: int) -> np.ndarray:
    r = np.exp(-np.pi * bw / sr)
    theta = 2 * np.pi * freq / sr
    return lfilter([1 - r], [1, -2 * r * np.cos(theta), r * r], x)


def voice(seconds: float, *, f0: float, formants: tuple[float, float, float], rng: np.random.Generator,
          level: float = 0.1, sr: int = SR) -> np.ndarray:
    """A voiced, syllable-modulated signal of ``seconds`` with pitch ``f0`` (Hz) and three formants."""
    n = int(round(seconds * sr))
    t = np.arange(n) / sr
    vib = 1 + 0.06 * np.sin(2 * np.pi * 0.7 * t + rng.uniform(0, 6)) + 0.02 * rng.standard_normal(n).cumsum() / np.sqrt(n)
    phase = np.cumsum(2 * np.pi * f0 * vib / sr)
    src = (np.mod(phase, 2 * np.pi) < 0.6).astype(float) - 0.1  # pulse train
    src += 0.02 * rng.standard_normal(n)
    y = np.zeros(n)
    drift = 1 + 0.08 * np.sin(2 * np.pi * 1.3 * t + rng.uniform(0, 6))
    for f, bw in zip(formants, (90.0, 120.0, 160.0)):
        y += _resonator(src, f * float(drift.mean()), bw, sr)
    syll = 0.55 + 0.45 * np.sin(2 * np.pi * 3.5 * t + rng.uniform(0, 6)) ** 2
    y *= syll
    y /= np.sqrt(np.mean(y**2)) + 1e-12
    return (level * y).astype(np.float32)


def dialogue(turns: list[tuple[str, float, float]], *, total: float, rng: np.random.Generator,
             noise_db: float = -60.0, sr: int = SR) -> np.ndarray:
    """Place voices on a timeline: ``turns`` = [(voice "low"/"high", start s, end s), ...]."""
    x = np.zeros(int(round(total * sr)), dtype=np.float32)
    for who, start, end in turns:
        v = voice(end - start, rng=rng, **(VOICE_LOW if who == "low" else VOICE_HIGH))
        a = int(round(start * sr))
        x[a : a + v.size] += v[: x.size - a]
    x += (10 ** (noise_db / 20) * rng.standard_normal(x.size)).astype(np.float32)
    return x
