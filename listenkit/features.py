"""Short-time spectral features for telling voices apart: log-mel energies and MFCCs every 10 ms.

Frame ``t`` is the 10 ms hop covering samples ``[160 t, 160 t + 160)`` at 16 kHz; its analysis window
is 25 ms (400 samples) centred on that hop. The extractor streams: feed blocks of any length, get the
rows of every frame whose window is complete; :meth:`FeatureExtractor.flush` pads the end with zeros.
Chunked processing equals whole processing exactly.

Why these features: MFCC mean and spread over ~1 s windows separated speakers best in the prototype
(see ``../shared/docs/DIARIZATION-NOTES.md``); log-mel powers are kept (not only MFCCs) because the
overlap model is built by adding two speakers' mel powers, which MFCCs alone cannot do.
"""

from __future__ import annotations

import numpy as np
from scipy.fft import dct, rfft

SAMPLE_RATE = 16000
HOP = 160  # samples per 10 ms frame at 16 kHz
WIN = 400  # 25 ms analysis window
NFFT = 512
N_MELS = 40
N_MFCC = 20
FRAME_S = HOP / SAMPLE_RATE
_PAD = (WIN - HOP) // 2  # 120 samples before the hop, 120 after
_FLOOR = 1e-10


def mel_filterbank(
    n_mels: int = N_MELS, n_fft: int = NFFT, sample_rate: int = SAMPLE_RATE, fmin: float = 60.0, fmax: float = 7600.0
) -> np.ndarray:
    """Triangular mel filters (HTK mel scale).

    Returns
    -------
    ndarray, shape (n_fft // 2 + 1, n_mels), float32
        Multiply a power spectrum by it to get mel-band powers.
    """

    def hz_to_mel(f: np.ndarray | float) -> np.ndarray:
        return 2595.0 * np.log10(1.0 + np.asarray(f) / 700.0)

    def mel_to_hz(m: np.ndarray) -> np.ndarray:
        return 700.0 * (10.0 ** (m / 2595.0) - 1.0)

    edges_hz = mel_to_hz(np.linspace(hz_to_mel(fmin), hz_to_mel(fmax), n_mels + 2))
    bins = np.fft.rfftfreq(n_fft, 1.0 / sample_rate)
    fb = np.zeros((bins.size, n_mels), dtype=np.float64)
    for m in range(n_mels):
        lo, mid, hi = edges_hz[m], edges_hz[m + 1], edges_hz[m + 2]
        up = (bins - lo) / (mid - lo)
        down = (hi - bins) / (hi - mid)
        fb[:, m] = np.maximum(0.0, np.minimum(up, down))
    return fb.astype(np.float32)


class FeatureExtractor:
    """Streaming log-mel + log-energy features at 10 ms hops.

    Parameters
    ----------
    sample_rate : int
        Must be 16000 (the pipeline resamples before this stage).

    Notes
    -----
    Each output row is ``[log-mel power of 40 bands (natural log), log frame energy]``, float32,
    shape (n_frames, 41). Use :func:`mfcc` to turn rows into MFCCs.
    """

    n_features = N_MELS + 1

    def __init__(self, sample_rate: int = SAMPLE_RATE) -> None:
        if sample_rate != SAMPLE_RATE:
            raise ValueError(f"FeatureExtractor needs {SAMPLE_RATE} Hz audio, got {sample_rate}")
        self._buf = np.zeros(_PAD, dtype=np.float32)  # left zero padding: window centred on hop 0
        self._prev = 0.0  # last raw sample, for pre-emphasis across blocks
        self._samples_in = 0
        self.frames_done = 0
        self._window = np.hamming(WIN).astype(np.float32)
        self._fb = mel_filterbank()

    def process(self, samples: np.ndarray) -> np.ndarray:
        """Add samples (1-D float, 16 kHz); return rows for every frame now complete."""
        x = np.asarray(samples, dtype=np.float32).reshape(-1)
        if x.size == 0:
            return np.zeros((0, self.n_features), dtype=np.float32)
        emph = np.empty_like(x)
        emph[0] = x[0] - 0.97 * self._prev
        emph[1:] = x[1:] - 0.97 * x[:-1]
        self._prev = float(x[-1])
        self._samples_in += x.size
        self._buf = np.concatenate((self._buf, emph))
        return self._emit(final=False)

    def flush(self) -> np.ndarray:
        """Rows for the remaining frames (``total == n_samples // 160``), end padded with zeros."""
        total = self._samples_in // HOP
        missing = total - self.frames_done
        if missing <= 0:
            return np.zeros((0, self.n_features), dtype=np.float32)
        need = (missing - 1) * HOP + WIN
        if self._buf.size < need:
            self._buf = np.concatenate((self._buf, np.zeros(need - self._buf.size, dtype=np.float32)))
        return self._emit(final=True, limit=missing)

    def _emit(self, *, final: bool, limit: int | None = None) -> np.ndarray:
        n = 0 if self._buf.size < WIN else 1 + (self._buf.size - WIN) // HOP
        # never emit a frame whose hop is beyond the samples actually received
        n = min(n, self._samples_in // HOP - self.frames_done)
        if limit is not None:
            n = min(n, limit)
        if n <= 0:
            return np.zeros((0, self.n_features), dtype=np.float32)
        frames = np.lib.stride_tricks.sliding_window_view(self._buf[: (n - 1) * HOP + WIN], WIN)[::HOP]
        out = log_mel_frames(frames, self._window, self._fb)
        self._buf = self._buf[n * HOP :].copy()
        self.frames_done += n
        return out


def log_mel_frames(frames: np.ndarray, window: np.ndarray, fb: np.ndarray) -> np.ndarray:
    """Log-mel powers and log energy of windowed frames.

    Parameters
    ----------
    frames : ndarray, shape (n, 400)
        Pre-emphasised samples of each analysis window.
    window : ndarray, shape (400,)
    fb : ndarray, shape (257, 40)

    Returns
    -------
    ndarray, shape (n, 41), float32
    """
    out = np.empty((frames.shape[0], fb.shape[1] + 1), dtype=np.float32)
    step = 8192  # bound temporary memory
    for i in range(0, frames.shape[0], step):
        f = frames[i : i + step] * window
        spec = rfft(f, NFFT, axis=1)  # scipy keeps float32 in float32 (numpy would use float64)
        power = (spec.real**2 + spec.imag**2).astype(np.float32)
        np.log(np.maximum(power @ fb, _FLOOR), out=out[i : i + step, :-1])
        out[i : i + step, -1] = np.log(np.maximum(np.einsum("ij,ij->i", f, f), _FLOOR))
    return out


def mfcc(log_mel: np.ndarray, n_mfcc: int = N_MFCC) -> np.ndarray:
    """MFCCs (orthonormal DCT-II of log-mel powers), shape (n, n_mfcc), coefficient 0 first."""
    return dct(np.asarray(log_mel, dtype=np.float32), type=2, norm="ortho", axis=1)[:, :n_mfcc].astype(np.float32)


def deltas(x: np.ndarray, width: int = 2) -> np.ndarray:
    """Regression deltas over +-``width`` frames along axis 0 (edges repeated), same shape as ``x``."""
    if x.shape[0] == 0:
        return x.copy()
    pad = np.pad(x, ((width, width), (0, 0)), mode="edge")
    num = np.zeros_like(x, dtype=np.float32)
    n = x.shape[0]
    for k in range(1, width + 1):
        num += k * (pad[width + k : width + k + n] - pad[width - k : width - k + n])
    return num / (2 * sum(k * k for k in range(1, width + 1)))


#: A recording whose high bands are this far (nats of power) below its mid bands is telephone band.
#: Simulated telephone-band files measure -9.7 to -8.7, wideband ones -5.1 to +2.9; the real phone
#: call of the corpus (spokenwoz-mul1011) -7.0, hence a threshold nearer the wideband side.
NARROWBAND_NATS = -6.0
_TOP_BANDS = slice(33, 40)  # mel bands with centres 4.5-7.1 kHz
_MID_BANDS = slice(8, 26)  # centres 0.6-2.6 kHz


def bandwidth(log_mel: np.ndarray, speech: np.ndarray) -> str:
    """``"narrow"`` for telephone-band audio (nothing above ~4 kHz in the speech), else ``"wide"``.

    The test: the median over speech frames of the mean log-mel power of the bands above 4.5 kHz
    minus that of the bands at 0.6-2.6 kHz is below :data:`NARROWBAND_NATS`.

    Parameters
    ----------
    log_mel : ndarray, shape (n_frames, 40)
        Natural-log mel powers per 10 ms frame (any float precision).
    speech : ndarray of bool, shape (n_frames,)
        Voice activity per frame.
    """
    speech = np.asarray(speech, dtype=bool)[: log_mel.shape[0]]
    if not speech.any():
        return "wide"
    index = np.flatnonzero(speech)
    # band means in float32, whatever the rows' precision (a float16 median was off by 0.01 nats)
    top = log_mel[index, _TOP_BANDS].mean(axis=1, dtype=np.float32)
    mid = log_mel[index, _MID_BANDS].mean(axis=1, dtype=np.float32)
    gap = float(np.median(top - mid))
    return "narrow" if gap < NARROWBAND_NATS else "wide"
