"""Voice enrollment: record (or read) a take of the user reading a passage, check it, make a profile.

::

    microphone (record_take) or file --> Source --> measure_take --> Take --> check_take --> problems
                                                                      \\--> enroll_take --> VoiceProfile

:func:`measure_take` runs the analysis front end (:class:`~listenkit.resample.Resampler`, then
:class:`~listenkit.vad.VoiceActivityDetector` and :class:`~listenkit.features.FeatureExtractor`, with
the same parameters as :class:`~listenkit.pipeline.Analyzer`), so the profile is built from the very
features a later analysis sees. It also measures what the checks need: the share of clipped samples
(at the input rate, before resampling), the active speech level and the room's noise floor (the voice
detector's own estimate, so it can seed ``Analyzer(initial_noise_floor_db=...)``).

:func:`record_take` records from the microphone with ``sounddevice``, imported only there: PortAudio
may be missing on the machine, and everything else here works without it.
"""

from __future__ import annotations

import math
import queue
from dataclasses import dataclass
from typing import Callable

import numpy as np

from . import wording
from .errors import DeviceError, ProfileError
from .features import HOP, N_MELS, SAMPLE_RATE, FeatureExtractor
from .framestore import GrowingArray
from .params import DEFAULT_PARAMS, AnalysisParams
from .resample import Resampler
from .sources import Source
from .vad import NOISE_WINDOW_FRAMES, VoiceActivityDetector, frame_power

#: Seconds of speech a take needs (the passage takes 20-30 s to read, of which ~75 % is speech).
MIN_SPEECH_S = 15.0
#: Active speech level (dBFS) below which a take is too quiet.
MIN_SPEECH_LEVEL_DB = -42.0
#: The speech must stand this far above the room's noise floor, dB.
MIN_SNR_DB = 15.0
#: A sample at or beyond this magnitude counts as clipped (full scale is 1.0).
CLIP_LEVEL = 0.99
#: Largest share of clipped samples among the speech samples allowed in a take.
MAX_CLIPPED_FRACTION = 0.001
#: A take whose loudest 10 ms frame is below this level (dBFS) holds nothing: a muted microphone.
SILENT_PEAK_DB = -60.0
#: Recording length the calibrate command asks for, seconds.
DEFAULT_RECORD_S = 25.0
#: Shortest and longest recording the calibrate command accepts, seconds.
RECORD_RANGE_S = (10.0, 120.0)
#: Samples fed to the voice detector at a time (100 ms), so its noise floor can be read often.
_VAD_STEP = 1600
_LEVEL_FLOOR_DB = -100.0


def _db(power: float) -> float:
    """Power (mean square; 1.0 = full-scale square wave) in dBFS, floored at -100 dB."""
    return max(_LEVEL_FLOOR_DB, 10.0 * math.log10(power)) if power > 0 else _LEVEL_FLOOR_DB


@dataclass
class Take:
    """What the front end measured on one enrollment recording.

    Attributes
    ----------
    name : str
        File path, or ``"microphone"``.
    log_mel : ndarray of float32, shape (n_frames, 40)
        Log-mel powers per 10 ms frame (as :class:`~listenkit.features.FeatureExtractor`).
    speech : ndarray of bool, shape (n_frames,)
        Voice activity per frame.
    duration_s : float
        Length of the recording, seconds.
    speech_level_db : float
        Mean power of the speech frames, dBFS (-100 when there is no speech).
    noise_floor_db : float
        The voice detector's noise floor, median over the take (after its first 3 s when longer), dBFS.
    peak_db : float
        Level of the loudest 10 ms frame, dBFS.
    clipped_fraction : float
        Share of samples at or beyond :data:`CLIP_LEVEL`, counted against the speech samples.
    """

    name: str
    log_mel: np.ndarray
    speech: np.ndarray
    duration_s: float
    speech_level_db: float
    noise_floor_db: float
    peak_db: float
    clipped_fraction: float

    @property
    def speech_s(self) -> float:
        """Seconds of detected speech."""
        return float(np.count_nonzero(self.speech)) * HOP / SAMPLE_RATE

    @property
    def snr_db(self) -> float:
        """Speech level above the noise floor, dB."""
        return self.speech_level_db - self.noise_floor_db


@dataclass(frozen=True)
class TakeProblem:
    """One reason a take cannot be used.

    Attributes
    ----------
    code : str
        ``"silent"``, ``"too_short"``, ``"clipped"``, ``"too_quiet"`` or ``"noisy"``.
    message : str
        What was measured and what to change, for the user (one sentence).
    """

    code: str
    message: str


class TakeRejected(ProfileError):
    """A take failed the checks; ``problems`` says why (the message names the file and the first problem)."""

    def __init__(self, name: str, problems: list[TakeProblem]) -> None:
        self.problems = problems
        text = " ".join(p.message for p in problems)
        super().__init__(wording.ENROLL_REJECTED.format(name=name, problems=text))


def passage() -> str:
    """The paragraph the user reads aloud during calibration (about 25 s at a calm pace)."""
    return wording.ENROLL_PASSAGE


def measure_take(source: Source, *, params: AnalysisParams = DEFAULT_PARAMS) -> Take:
    """Run the analysis front end over a source and measure what the take checks need.

    Parameters
    ----------
    source : Source
        The take (a :class:`~listenkit.sources.FileSource`, or an
        :class:`~listenkit.sources.ArraySource` of recorded samples).
    params : AnalysisParams
        Voice-activity parameters (the analysis defaults, so enrollment and analysis agree).

    Returns
    -------
    Take

    Raises
    ------
    AudioInputError
        When the source cannot be read.
    """
    resampler = Resampler(int(source.sample_rate), SAMPLE_RATE)
    vad = VoiceActivityDetector(params, sample_rate=SAMPLE_RATE)
    extractor = FeatureExtractor(SAMPLE_RATE)
    rows = GrowingArray(FeatureExtractor.n_features, np.float32, capacity=1 << 12)
    speech = GrowingArray(1, bool, capacity=1 << 12)
    power = GrowingArray(1, np.float64, capacity=1 << 12)
    floors: list[float] = []
    pending = np.zeros(0, dtype=np.float32)  # 16 kHz samples not yet given to the voice detector
    n_in = n_clipped = 0

    def push(y: np.ndarray, *, final: bool = False) -> None:
        # the voice detector and the levels take whole steps of _VAD_STEP samples (whole 10 ms frames at
        # the end), so the result does not depend on how the source cuts its blocks
        nonlocal pending
        rows.append(extractor.process(y))
        buf = np.concatenate((pending, y))
        step = HOP if final else _VAD_STEP
        n = buf.size // step * step
        for i in range(0, n, _VAD_STEP):
            part = buf[i : min(n, i + _VAD_STEP)]
            speech.append(vad.process(part).reshape(-1, 1))
            power.append(frame_power(part.reshape(-1, HOP)).reshape(-1, 1))
            if vad.frames_seen > NOISE_WINDOW_FRAMES or not floors:
                floors.append(vad.noise_floor_db)
        pending = buf[n:]

    for block in source.blocks():
        n_in += block.size
        n_clipped += int(np.count_nonzero(np.abs(block) >= CLIP_LEVEL))
        push(resampler.process(block))
    push(resampler.flush(), final=True)
    speech.append(vad.flush().reshape(-1, 1))
    rows.append(extractor.flush())
    n = min(len(rows), len(speech), len(power))
    log_mel = rows.view()[:n, :N_MELS].copy()
    is_speech = speech.view()[:n, 0].copy()
    p = power.view()[:n, 0]
    speech_power = float(p[is_speech].mean()) if is_speech.any() else 0.0
    valid = [f for f in floors if math.isfinite(f)]
    speech_samples = max(1.0, float(np.count_nonzero(is_speech)) * HOP * source.sample_rate / SAMPLE_RATE)
    return Take(
        name=source.name,
        log_mel=log_mel,
        speech=is_speech,
        duration_s=n_in / float(source.sample_rate),
        speech_level_db=_db(speech_power),
        noise_floor_db=float(np.median(valid)) if valid else _LEVEL_FLOOR_DB,
        peak_db=_db(float(p.max())) if p.size else _LEVEL_FLOOR_DB,
        clipped_fraction=min(1.0, n_clipped / speech_samples) if n_clipped else 0.0,
    )


def check_take(take: Take) -> list[TakeProblem]:
    """Everything wrong with a take, in the order the user should fix it; empty when it is usable.

    A silent take (loudest frame below :data:`SILENT_PEAK_DB`, or no speech at all in a very quiet
    recording) is reported alone. Otherwise each of these is reported when it applies: less than
    :data:`MIN_SPEECH_S` of speech; more than :data:`MAX_CLIPPED_FRACTION` of the speech samples
    clipped; speech quieter than :data:`MIN_SPEECH_LEVEL_DB`; speech less than :data:`MIN_SNR_DB`
    above the noise floor.
    """
    if take.peak_db < SILENT_PEAK_DB or (take.speech_s == 0.0 and take.peak_db < MIN_SPEECH_LEVEL_DB):
        return [TakeProblem("silent", wording.ENROLL_SILENT.format(peak_db=take.peak_db))]
    problems = []
    if take.speech_s < MIN_SPEECH_S:
        problems.append(TakeProblem("too_short", wording.ENROLL_TOO_SHORT.format(
            speech_s=take.speech_s, need_s=MIN_SPEECH_S)))
    if take.clipped_fraction > MAX_CLIPPED_FRACTION:
        problems.append(TakeProblem("clipped", wording.ENROLL_CLIPPED.format(percent=100.0 * take.clipped_fraction)))
    if take.speech_s > 0 and take.speech_level_db < MIN_SPEECH_LEVEL_DB:
        problems.append(TakeProblem("too_quiet", wording.ENROLL_TOO_QUIET.format(
            level_db=take.speech_level_db, need_db=MIN_SPEECH_LEVEL_DB)))
    if take.speech_s > 0 and take.snr_db < MIN_SNR_DB:
        problems.append(TakeProblem("noisy", wording.ENROLL_NOISY.format(snr_db=take.snr_db, need_db=MIN_SNR_DB)))
    return problems


def enroll_take(take: Take, *, check: bool = True):
    """Make a voice profile from a measured take.

    Parameters
    ----------
    take : Take
    check : bool, keyword-only
        Refuse a take that fails :func:`check_take` (calibration harnesses may turn this off).

    Returns
    -------
    listenkit.profile.VoiceProfile

    Raises
    ------
    TakeRejected
        When ``check`` and the take has problems.
    """
    from .profile import VoiceProfile

    if check:
        problems = check_take(take)
        if problems:
            raise TakeRejected(take.name, problems)
    return VoiceProfile.from_frames(
        take.log_mel, take.speech, noise_floor_db=take.noise_floor_db, speech_level_db=take.speech_level_db
    )


def enroll_file(path: str, *, params: AnalysisParams = DEFAULT_PARAMS):
    """Check a recording of the user's voice and make a profile from it (nothing is saved).

    Returns
    -------
    profile : listenkit.profile.VoiceProfile
    take : Take

    Raises
    ------
    AudioInputError
        The file cannot be read as audio.
    TakeRejected
        The recording is silent, too short, clipped, too quiet or too noisy.
    """
    from .sources import FileSource

    take = measure_take(FileSource(path), params=params)
    return enroll_take(take), take


# ------------------------------------------------------------------------------------- microphone
LevelCallback = Callable[[float, float, float], None]


def _sounddevice():
    """Import ``sounddevice``, turning a missing PortAudio library into a :class:`DeviceError`."""
    try:
        import sounddevice
    except OSError:  # raised by sounddevice when the PortAudio shared library is not found
        raise DeviceError(wording.ENROLL_NO_PORTAUDIO) from None
    except ImportError:
        raise DeviceError(wording.ENROLL_NO_SOUNDDEVICE) from None
    return sounddevice


def record_take(
    seconds: float = DEFAULT_RECORD_S,
    *,
    device: int | str | None = None,
    on_level: LevelCallback | None = None,
    block_s: float = 0.1,
) -> tuple[np.ndarray, int]:
    """Record mono audio from a microphone.

    The PortAudio callback only copies each block into a queue and counts overflows; this function
    collects the blocks and calls ``on_level`` for each.

    Parameters
    ----------
    seconds : float
        How long to record, seconds.
    device : int or str, optional
        Input device number or (part of its) name; the system default when None.
    on_level : callable, optional
        ``on_level(level_db, peak, elapsed_s)`` after each block: the block's RMS level in dBFS, its
        peak magnitude (1.0 = full scale) and the seconds recorded so far. Draws the level meter.
    block_s : float
        Block length, seconds.

    Returns
    -------
    samples : ndarray of float32, shape (n,)
    sample_rate : int
        The device's rate, Hz.

    Raises
    ------
    DeviceError
        PortAudio missing, no such input device, or the device delivers no audio.
    """
    sd = _sounddevice()
    try:
        info = sd.query_devices(device, "input")
    except (ValueError, sd.PortAudioError) as exc:
        raise DeviceError(wording.ENROLL_NO_DEVICE.format(device=device if device is not None else "default",
                                                          detail=exc)) from None
    rate = int(info["default_samplerate"])
    blocksize = max(1, int(rate * block_s))
    total = int(rate * seconds)
    q: queue.Queue[np.ndarray] = queue.Queue()
    overflows = [0]

    def callback(indata, frames, time, status) -> None:  # noqa: ARG001 (PortAudio's signature)
        if status.input_overflow:
            overflows[0] += 1
        q.put(indata[:, 0].copy())

    parts: list[np.ndarray] = []
    got = 0
    try:
        with sd.InputStream(samplerate=rate, blocksize=blocksize, device=device, channels=1, dtype="float32",
                            callback=callback):
            while got < total:
                try:
                    block = q.get(timeout=2.0)
                except queue.Empty:
                    raise DeviceError(wording.ENROLL_NO_AUDIO.format(device=info["name"])) from None
                parts.append(block)
                got += block.size
                if on_level is not None:
                    ms = float(np.mean(np.square(block, dtype=np.float64))) if block.size else 0.0
                    on_level(_db(ms), float(np.max(np.abs(block))) if block.size else 0.0, got / rate)
    except sd.PortAudioError as exc:
        raise DeviceError(wording.ENROLL_NO_DEVICE.format(device=info["name"], detail=exc)) from None
    samples = np.concatenate(parts)[:total] if parts else np.zeros(0, np.float32)
    return samples, rate
