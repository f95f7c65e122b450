"""Voice activity detection: which 10 ms frames hold speech.

The input is first high-passed (:data:`HIGHPASS_HZ`, removing hum, thumps and handling noise). Each
frame then goes through four tests:

1. **webrtcvad** (the WebRTC voice activity detector, ``params.vad_mode``) on the 10 ms frame as int16.
2. **Noise gate.** The frame's energy (dBFS: 0 dB is a full-scale square wave) must exceed the noise
   floor by ``params.vad_gate_db``. The noise floor is a running minimum over the last
   :data:`NOISE_WINDOW_FRAMES` frames of the frame energy averaged over :data:`NOISE_SMOOTH_FRAMES`
   frames (minimum statistics): it follows a falling noise level at once and a rising one within the
   window length, and it never needs a speech-free start. Steady noise (fans, hum, a bike) stays within
   a few dB of its minimum, so it fails the gate even when webrtcvad calls it voiced.
3. **Level gate.** The frame must be within :data:`SPEECH_RANGE_DB` of the loudest (smoothed) frame of
   the last :data:`PEAK_WINDOW_FRAMES` frames: faint breaths, line noise and far-away clatter between
   turns are not speech (on the spokenwoz phone call this cut false alarms from 33 % to 12 %).
4. **Spectral flatness** below :data:`FLATNESS_MAX`: rubs, friction, dishes and other noise-like sounds
   have a flat spectrum, voiced speech a peaky one.

Frames passing 1-3 are *weak*; weak frames less flat than :data:`FLATNESS_CONTINUE` are *medium*;
frames passing all four *strong*. Far, reverberant voices are rarely strong (reverberation and noise
flatten the spectrum of a 10 ms frame: a voice 2 m away in a live room at 11 dB SNR had 17 % of its
frames strong, 42 % medium), so medium frames carry speech on once it is proven. Then smoothing with
hysteresis:

- *onset*: speech starts when ``params.vad_onset_frames`` strong frames fall inside a window of
  ``2 * vad_onset_frames`` frames, or ``MEDIUM_ONSET_FRAMES`` medium or strong frames inside twice
  as many; it starts ``PRE_ROLL_FRAMES`` before the first of them, so soft onsets are not clipped;
- *offset*: speech ends after ``params.vad_offset_frames`` frames in a row that do not continue it
  (strong frames do; medium ones once the run holds ``PROVEN_RUN_FRAMES`` strong frames, the frames
  that started it included; weak ones only within ``NOISY_RUN_FRAMES`` of the last strong or proven
  medium one); the run then ends ``TAIL_FRAMES`` after its last continuing frame (shorter pauses are
  bridged);
- *minimum length*: a run whose continuing frames span less than ``params.vad_min_speech_s`` is
  dropped (a tap, a click).

The hysteresis (:class:`listenkit.speech_runs.SpeechRuns`, where the constants in capitals live)
runs twice on the same frames: once with the noise gate ``params.vad_gate_db``, giving the
detector's decisions, and once with the looser gate ``params.vad_loose_gate_db``. A far voice in
steady noise sits only a few dB over the noise floor and fails the first gate; the looser level
finds it (and some noise). The diarization counts and describes the voices on the first level and
labels the extra frames of the second (:func:`listenkit.diarization.diarize`).

Decisions come out with a small delay (at most about ``max(offset, min speech + onset window +
pre-roll)`` frames, where the onset window is the soft onset's 20 frames: ~0.3 s at the defaults)
because an onset or a short run is only known a few frames later; :meth:`VoiceActivityDetector.flush`
returns the rest, so the total is ``n_samples // frame``.
Everything is per frame and in order, so any chunking of the input gives the same decisions.
"""

from __future__ import annotations

import math

import numpy as np
import webrtcvad
from scipy import fft as sp_fft
from scipy.signal import butter, sosfilt

from .params import DEFAULT_PARAMS, AnalysisParams
from .speech_runs import SpeechRuns

try:  # the C extension of webrtcvad-wheels; calling it directly saves ~0.2 s per hour of audio
    import _webrtcvad
except ImportError:  # pragma: no cover - another build of webrtcvad
    _webrtcvad = None

#: Sample rates webrtcvad accepts, Hz.
VAD_RATES = (8000, 16000, 32000, 48000)
#: Frames per second (10 ms frames).
FRAMES_PER_S = 100
#: Running-minimum window of the noise floor, frames (3 s).
NOISE_WINDOW_FRAMES = 300
#: Frames averaged (in power) before the running minimum, to lessen its downward bias.
NOISE_SMOOTH_FRAMES = 5
#: Window of the recent peak level, frames (5 s).
PEAK_WINDOW_FRAMES = 500
#: Frames quieter than the recent peak level by more than this (dB) are not speech.
SPEECH_RANGE_DB = 35.0
#: Corner of the 4th-order Butterworth high-pass applied first (removes hum, thumps, handling noise), Hz.
HIGHPASS_HZ = 150.0
#: Band over which the spectral flatness is measured, Hz.
FLATNESS_BAND_HZ = (100.0, 4000.0)
#: Frames flatter than this (noise-like: rubs, friction, dishes, fans) are not speech; 0 = a pure
#: tone, about 0.56 = white noise. Voiced speech sits near 0.01, fricatives up to about 0.3.
FLATNESS_MAX = 0.15
#: Weak frames less flat than this are *medium*: they continue a proven run however long ago its last
#: strong frame was, and enough of them start speech (far, reverberant voices reach this more often
#: than :data:`FLATNESS_MAX`). 0.25 with the medium onset and proven-run rules of
#: :mod:`listenkit.speech_runs` cut missed speech on sim-dev from
#: 13.1 % to 9.4 % of reference speech (false alarm 3.9 -> 4.1 %), and no transient of
#: ``tests/test_vad.py`` gained a frame; 0.3 or a soft onset of 6-8 frames let friction through.
FLATNESS_CONTINUE = 0.25
#: Lowest frame energy reported, dBFS (digital silence).
ENERGY_MIN_DB = -100.0


def frame_power(frames: np.ndarray) -> np.ndarray:
    """Mean-square power of each frame (0 dBFS = 1.0, a full-scale square wave).

    Parameters
    ----------
    frames : ndarray, shape (n_frames, frame_len)
        Samples in [-1, 1].

    Returns
    -------
    ndarray of float64, shape (n_frames,)
    """
    return np.einsum("ij,ij->i", frames, frames).astype(np.float64) / frames.shape[1]


def _band_bins(frame_len: int, sample_rate: int, band: tuple[float, float]) -> slice:
    """The rFFT bins (FFT length = twice the next power of two >= frame_len) inside ``band``, as a slice."""
    n_fft = 2 * (1 << (frame_len - 1).bit_length())
    freqs = np.fft.rfftfreq(n_fft, 1.0 / sample_rate)
    inside = np.flatnonzero((freqs >= band[0]) & (freqs <= band[1]))
    return slice(int(inside[0]), int(inside[-1]) + 1)


#: Frames per block of :func:`spectral_flatness` (its temporaries then stay in the processor's cache).
FLATNESS_BLOCK_FRAMES = 256


def spectral_flatness(frames: np.ndarray, window: np.ndarray, bins: slice) -> np.ndarray:
    """Spectral flatness (geometric / arithmetic mean of the power spectrum) of each frame.

    Parameters
    ----------
    frames : ndarray, shape (n_frames, frame_len)
    window : ndarray, shape (frame_len,)
        Analysis window (Hann).
    bins : slice
        rFFT bins to use (see :func:`_band_bins`).

    Returns
    -------
    ndarray of float64, shape (n_frames,)
        In [0, 1]: near 0 for tonal / harmonic sound, about 0.56 for a white-noise periodogram.
    """
    n_fft = 2 * (1 << (frames.shape[1] - 1).bit_length())
    n_bins = len(range(n_fft // 2 + 1)[bins])
    window = window.astype(np.float32)
    out = np.empty(frames.shape[0])
    # scipy's FFT keeps float32 in float32 (numpy's would use float64); the powers and their logs
    # stay in float32 and only the sums are float64: within 1e-7 of an all-float64 computation, with
    # the same speech decisions on the 86 dev conversations, and 300 000 frames (in calls of 3000)
    # take 0.35 s instead of 0.95 s (measured)
    for i in range(0, frames.shape[0], FLATNESS_BLOCK_FRAMES):
        block = frames[i : i + FLATNESS_BLOCK_FRAMES]
        # the windowed frames are written straight into the zero-padded buffer (scipy would pad a copy)
        padded = np.zeros((block.shape[0], n_fft), dtype=np.float32)
        np.multiply(block, window, out=padded[:, : block.shape[1]], casting="unsafe")
        spec = sp_fft.rfft(padded, axis=1)[:, bins]
        power = spec.real**2
        power += spec.imag**2
        power += np.float32(1e-20)
        geometric = np.exp(np.log(power).sum(axis=1, dtype=np.float64) / n_bins)
        out[i : i + FLATNESS_BLOCK_FRAMES] = geometric / (power.sum(axis=1, dtype=np.float64) / n_bins)
    return out


def _trailing(values: np.ndarray, n_new: int, window: int, op: np.ufunc) -> np.ndarray:
    """Running extreme (``op`` = np.minimum or np.maximum) over the ``window`` values ending at each of
    the last ``n_new`` entries of ``values``.

    Uses the van Herk / Gil-Werman scheme (prefix and suffix extremes inside blocks of ``window``), so
    the cost is linear in ``len(values)`` whatever the window. Near the start of ``values`` the window
    holds fewer values (the extreme of everything so far). Exact: the result does not depend on how a
    stream is cut into calls, given ``window - 1`` values of history in front.
    """
    length = len(values)
    first = length - n_new
    out = np.empty(n_new)
    # outputs whose window starts before values[0]: the running extreme of everything so far
    n_part = max(0, min(window - 1 - first, n_new))
    if n_part:
        out[:n_part] = op.accumulate(values[: first + n_part])[first:]
    if n_part < n_new:
        lo = first + n_part - window + 1  # first index any full window needs
        v = values[lo:]
        nb = -(-len(v) // window)
        pad = np.inf if op is np.minimum else -np.inf
        blocks = np.full(nb * window, pad)
        blocks[: len(v)] = v
        blocks = blocks.reshape(nb, window)
        prefix = op.accumulate(blocks, axis=1).ravel()
        suffix = op.accumulate(blocks[:, ::-1], axis=1)[:, ::-1].ravel()
        j = np.arange(window - 1, len(v))  # window v[j - window + 1 .. j]
        out[n_part:] = op(suffix[j - window + 1], prefix[j])
    return out


class VoiceActivityDetector:
    """Streaming speech / non-speech decisions per 10 ms frame, at one or two levels.

    Parameters
    ----------
    params : AnalysisParams
        Uses ``vad_mode``, ``vad_gate_db``, ``vad_loose_gate_db``, ``vad_onset_frames``,
        ``vad_offset_frames`` and ``vad_min_speech_s``.
    sample_rate : int, keyword-only
        Rate of the input, Hz: 8000, 16000, 32000 or 48000 (a frame is ``sample_rate // 100`` samples).
    initial_noise_floor_db : float or None, keyword-only
        A noise floor already known (dBFS), used until :data:`NOISE_WINDOW_FRAMES` frames have been
        seen; None to start from the first frames.

    Notes
    -----
    Call :meth:`process` with consecutive blocks, then :meth:`flush` once. The concatenated outputs
    hold one decision per complete frame of the input; frame ``t`` covers samples
    ``[t * frame_len, (t + 1) * frame_len)`` and a trailing partial frame is dropped.

    :meth:`process_levels` and :meth:`flush_levels` give two decisions per frame: the detector's
    (gate ``vad_gate_db``), and a looser one whose noise gate is ``vad_loose_gate_db`` (the same
    rules otherwise). The looser one finds more of a far voice in noise, and more noise too: the
    diarization counts and describes voices on the first and labels the extra frames of the second.
    When ``vad_loose_gate_db`` is not below ``vad_gate_db`` the two are the same.
    """

    def __init__(
        self,
        params: AnalysisParams = DEFAULT_PARAMS,
        *,
        sample_rate: int = 16000,
        initial_noise_floor_db: float | None = None,
    ) -> None:
        if sample_rate not in VAD_RATES:
            raise ValueError(f"sample_rate must be one of {VAD_RATES}, got {sample_rate}")
        self.params = params
        self.sample_rate = int(sample_rate)
        self.frame_len = self.sample_rate // FRAMES_PER_S
        self._vad = webrtcvad.Vad(int(params.vad_mode))
        self._gate_db = float(params.vad_gate_db)
        self._loose_gate_db = min(float(params.vad_loose_gate_db), self._gate_db)
        self._hp_sos = butter(4, HIGHPASS_HZ, "highpass", fs=self.sample_rate, output="sos").astype(np.float32)
        self._hp_state = np.zeros((self._hp_sos.shape[0], 2), dtype=np.float32)
        self._flat_bins = _band_bins(self.frame_len, self.sample_rate, FLATNESS_BAND_HZ)
        self._window_fn = np.hanning(self.frame_len)
        self._pending = np.zeros(0, dtype=np.float32)  # high-passed samples of the incomplete frame
        # noise floor: last energies (dB) and last smoothed powers, bounded
        self._power_hist = np.zeros(0, dtype=np.float64)
        init = [] if initial_noise_floor_db is None else [float(initial_noise_floor_db)] * NOISE_WINDOW_FRAMES
        self._smooth_hist = np.array(init, dtype=np.float64)
        self._floor_db = float(initial_noise_floor_db) if initial_noise_floor_db is not None else math.nan
        min_frames = int(round(params.vad_min_speech_s * FRAMES_PER_S))
        hysteresis = (int(params.vad_onset_frames), int(params.vad_offset_frames), min_frames)
        self._runs = SpeechRuns(*hysteresis)
        # the looser level, when there is one (a second state machine on the same frames)
        self._loose_runs = SpeechRuns(*hysteresis) if self._loose_gate_db < self._gate_db else None
        self._emitted = 0  # decisions returned
        self._flushed = False

    # ------------------------------------------------------------------ public
    @property
    def noise_floor_db(self) -> float:
        """Current noise floor estimate, dBFS (NaN before the first frame when none was given)."""
        return self._floor_db

    @property
    def frames_done(self) -> int:
        """Decisions returned so far (they cover frames ``[0, frames_done)``)."""
        return self._emitted

    @property
    def frames_seen(self) -> int:
        """Complete frames analysed so far (``frames_seen - frames_done`` is the current delay)."""
        return self._runs.seen

    def process(self, samples: np.ndarray) -> np.ndarray:
        """Analyse the next block and return the decisions that are final.

        Parameters
        ----------
        samples : ndarray, shape (n,)
            The next samples at ``sample_rate``, float in [-1, 1].

        Returns
        -------
        ndarray of bool, shape (k,)
            Decisions for frames ``frames_done`` (before the call) onwards; True = speech.
        """
        return self.process_levels(samples)[:, 0]

    def flush(self) -> np.ndarray:
        """End the stream: the decisions still held back (bool, shape (k,)); a partial frame is dropped."""
        return self.flush_levels()[:, 0]

    def process_levels(self, samples: np.ndarray) -> np.ndarray:
        """Like :meth:`process`, with both levels: bool, shape (k, 2), column 0 the detector's
        decisions, column 1 the looser level's (see the class notes)."""
        if self._flushed:
            raise RuntimeError("flush() was called; make a new VoiceActivityDetector for a new stream")
        x = np.asarray(samples, dtype=np.float32)
        if x.ndim != 1:
            raise ValueError(f"VoiceActivityDetector takes 1-D blocks, got shape {x.shape}")
        if len(x):
            x, self._hp_state = sosfilt(self._hp_sos, x, zi=self._hp_state)
            x = x.astype(np.float32)
        if len(self._pending):
            x = np.concatenate((self._pending, x))
        n = len(x) // self.frame_len
        self._pending = x[n * self.frame_len :].copy()
        if n:
            frames = x[: n * self.frame_len].reshape(n, self.frame_len)
            evidence = self._frame_passes(frames)
            self._runs.step_all(*evidence[0], self._emitted)
            if self._loose_runs is not None:
                self._loose_runs.step_all(*evidence[1], self._emitted)
        until = self._runs.decided_until(self._emitted)
        if self._loose_runs is not None:
            until = min(until, self._loose_runs.decided_until(self._emitted))
        return self._emit(until)

    def flush_levels(self) -> np.ndarray:
        """Like :meth:`flush`, with both levels (bool, shape (k, 2), as :meth:`process_levels`)."""
        if self._flushed:
            return np.zeros((0, 2), dtype=bool)
        self._flushed = True
        for runs in (self._runs, self._loose_runs):
            if runs is not None:
                runs.close()
        return self._emit(self._runs.seen)

    # ------------------------------------------------------------------ per-frame evidence
    def _frame_passes(self, frames: np.ndarray) -> tuple[tuple[np.ndarray, ...], tuple[np.ndarray, ...]]:
        """Per-frame evidence at both levels; updates the levels.

        Returns
        -------
        strict, loose : tuple of (weak, strong, medium), each ndarray of bool, shape (n,)
            ``weak``: webrtcvad AND both energy gates; ``strong``: ``weak`` AND spectral flatness
            below :data:`FLATNESS_MAX`; ``medium``: ``weak`` AND flatness below :data:`FLATNESS_CONTINUE`.
            ``loose`` uses the noise gate ``vad_loose_gate_db`` (it is ``strict`` when that is not lower).
        """
        power = frame_power(frames)
        energy = np.maximum(10.0 * np.log10(power + 1e-12), ENERGY_MIN_DB)
        floor, peak = self._update_levels(power)
        in_range = energy > peak - SPEECH_RANGE_DB
        gate = (energy > floor + self._gate_db) & in_range
        loose_gate = (energy > floor + self._loose_gate_db) & in_range if self._loose_runs is not None else gate
        pcm = np.clip(np.round(frames * 32768.0), -32768, 32767).astype("<i2").tobytes()
        step = 2 * self.frame_len
        rate, length = self.sample_rate, self.frame_len
        if _webrtcvad is not None:  # the C call behind Vad.is_speech, without its Python wrapper
            process, handle = _webrtcvad.process, self._vad._vad
            calls = (process(handle, rate, pcm[i * step : (i + 1) * step], length) for i in range(len(frames)))
        else:
            is_speech = self._vad.is_speech
            calls = (is_speech(pcm[i * step : (i + 1) * step], rate) for i in range(len(frames)))
        voiced = np.fromiter(calls, dtype=bool, count=len(frames))
        loose_weak = voiced & loose_gate  # includes every strict weak frame (loose gate <= gate)
        flat = np.ones(len(frames))
        if loose_weak.any():
            flat[loose_weak] = spectral_flatness(frames[loose_weak], self._window_fn, self._flat_bins)

        def level(weak: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
            return weak, weak & (flat < FLATNESS_MAX), weak & (flat < FLATNESS_CONTINUE)

        strict = level(voiced & gate)
        return strict, (level(loose_weak) if self._loose_runs is not None else strict)

    def _update_levels(self, power: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Noise floor and recent peak level (dBFS) at each new frame, its own frame included.

        Parameters
        ----------
        power : ndarray of float64, shape (n,)
            Mean-square power of the new frames.

        Returns
        -------
        floor, peak : ndarray of float64, shape (n,)
            Minimum over the last :data:`NOISE_WINDOW_FRAMES` and maximum over the last
            :data:`PEAK_WINDOW_FRAMES` of the smoothed energy. Only bounded histories are kept.
        """
        k = NOISE_SMOOTH_FRAMES
        p_all = np.concatenate((self._power_hist, power))
        h = len(self._power_hist)
        # mean power of the k frames ending at each new frame (fewer at the very start of the stream),
        # summed in the same order whatever the chunking
        n = len(power)
        total = np.zeros(n)
        count = np.zeros(n)
        idx = np.arange(h, h + n)
        for lag in range(k):
            src = idx - lag
            ok = src >= 0
            total[ok] += p_all[src[ok]]
            count[ok] += 1
        mean_power = total / count
        smooth = np.maximum(10.0 * np.log10(mean_power + 1e-12), ENERGY_MIN_DB)
        s_all = np.concatenate((self._smooth_hist, smooth))
        floor = _trailing(s_all, len(power), NOISE_WINDOW_FRAMES, np.minimum)
        peak = _trailing(s_all, len(power), PEAK_WINDOW_FRAMES, np.maximum)
        self._power_hist = p_all[max(len(p_all) - (k - 1), 0) :]
        self._smooth_hist = s_all[max(len(s_all) - (max(NOISE_WINDOW_FRAMES, PEAK_WINDOW_FRAMES) - 1), 0) :]
        self._floor_db = float(floor[-1])
        return floor, peak

    def _emit(self, until: int) -> np.ndarray:
        """Decisions for frames ``[frames_done, until)`` at both levels, shape (k, 2)."""
        lo = self._emitted
        strict = self._runs.decisions(lo, until)
        loose = strict if self._loose_runs is None else self._loose_runs.decisions(lo, until) | strict
        self._emitted = until
        return np.stack([strict, loose], axis=1)
