"""The one analysis pipeline, for files and microphones alike.

::

    source --blocks--> resample to 16 kHz --> voice activity (10 ms frames) --+
                                          \\-> log-mel features (10 ms frames) -+-> frame store
    frame store --(end of stream)--> diarization --> segments --> conversation rules --> metrics
                --> feedback --> Session

:class:`Analyzer` holds the streaming state; feed it blocks with :meth:`Analyzer.feed` and call
:meth:`Analyzer.finalize` at the end. :func:`analyze` drives it from any source;
:func:`analyze_file` is ``analyze(FileSource(path))``. Only compact per-frame rows are kept (never the
audio), so memory grows by ~8 kB per second of audio and not with the audio itself.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable, Protocol

import numpy as np

from .conversation import analyze_conversation
from .diarization import diarize
from .feedback import feedback_messages
from .features import FRAME_S, N_MELS, SAMPLE_RATE, FeatureExtractor
from .framestore import GrowingArray
from .metrics import compute_metrics, speaker_summaries
from .params import DEFAULT_PARAMS, DEFAULT_RULES, AnalysisParams, Rules
from .recording_quality import quality_facts
from .resample import Resampler
from .session import Session
from .sources import FileSource, Source
from .timeline import Segment, segments_from_frames
from .vad import VoiceActivityDetector

ProgressCallback = Callable[[float], None]


class VoiceMatcher(Protocol):
    """Finds the enrolled user's voice among the speakers found (see :mod:`listenkit.profile`)."""

    def scores(self, log_mel: np.ndarray, activity: np.ndarray) -> np.ndarray:
        """How much each column of ``activity`` (n_frames, k) sounds like the user (the
        diarization uses it to merge and split clusters); ``-inf`` for too little speech."""

    def match(self, log_mel: np.ndarray, activity: np.ndarray) -> int | None:
        """Column of ``activity`` (n_frames, n_speakers) that is the user, or None when absent.

        ``log_mel`` is (n_frames, 40) natural-log mel powers of the same frames.
        """


class Analyzer:
    """Streaming state of one analysis.

    Parameters
    ----------
    sample_rate : int
        Rate of the blocks that will be fed, Hz.
    name : str
        What is analysed (file path, or "microphone"); becomes ``session.source``.
    params, rules : AnalysisParams, Rules
    num_speakers : int, optional
        Number of speakers when known (1-6).
    initial_noise_floor_db : float, optional
        Noise floor measured beforehand (voice enrollment), dBFS.
    expected_duration_s : float, optional
        Length of the input when known (a file): the frame store is sized once, no regrowing.

    Notes
    -----
    Per-frame rows are stored as float16 (log powers in nats, about -25..+10: float16 keeps them to
    within 0.01 nats), which halves the memory of the second look: ~30 MB per hour.
    """

    def __init__(
        self,
        sample_rate: int,
        *,
        name: str = "audio",
        params: AnalysisParams = DEFAULT_PARAMS,
        rules: Rules = DEFAULT_RULES,
        num_speakers: int | None = None,
        initial_noise_floor_db: float | None = None,
        expected_duration_s: float | None = None,
    ) -> None:
        if num_speakers is not None and not 1 <= num_speakers <= 6:
            raise ValueError("num_speakers must be between 1 and 6")
        self.name = name
        self.input_rate = int(sample_rate)
        self.params = params
        self.rules = rules
        self.num_speakers = num_speakers
        self._resampler = Resampler(self.input_rate, SAMPLE_RATE)
        self._vad = VoiceActivityDetector(params, sample_rate=SAMPLE_RATE, initial_noise_floor_db=initial_noise_floor_db)
        self._features = FeatureExtractor(SAMPLE_RATE)
        capacity = 1 << 14 if expected_duration_s is None else int(expected_duration_s / FRAME_S) + 16
        self._rows = GrowingArray(FeatureExtractor.n_features, np.float16, capacity=capacity)
        self._speech = GrowingArray(2, bool, capacity=capacity)  # the voice detector's two levels
        self._samples_16k = 0
        self._finished = False

    @property
    def elapsed_s(self) -> float:
        """Seconds of audio taken in so far."""
        return self._samples_16k / SAMPLE_RATE

    @property
    def noise_floor_db(self) -> float:
        """The voice detector's current noise floor, dBFS."""
        return self._vad.noise_floor_db

    def feed(self, block: np.ndarray) -> None:
        """Take the next block of mono samples (float, at ``sample_rate``)."""
        if self._finished:
            raise RuntimeError("Analyzer.feed after finish")
        self._push(self._resampler.process(block))

    def _push(self, y: np.ndarray) -> None:
        if y.size == 0:
            return
        self._samples_16k += y.size
        self._speech.append(self._vad.process_levels(y))
        self._rows.append(self._features.process(y))

    def finish(self) -> None:
        """Mark the end of the stream: flush every stage (idempotent)."""
        if self._finished:
            return
        self._push(self._resampler.flush())
        self._speech.append(self._vad.flush_levels())
        self._rows.append(self._features.flush())
        self._finished = True

    def frames(self) -> tuple[np.ndarray, np.ndarray]:
        """The stored rows so far: log-mel+energy (n, 41, float16) and speech decisions (n,), equal length."""
        n = min(len(self._rows), len(self._speech))
        return self._rows.view()[:n], self._speech.view()[:n, 0]

    def loose_speech(self) -> np.ndarray:
        """The voice detector's looser level (bool, shape (n,), aligned with :meth:`frames`): speech
        the diarization labels but does not cluster on (see :class:`listenkit.vad.VoiceActivityDetector`)."""
        n = min(len(self._rows), len(self._speech))
        return self._speech.view()[:n, 1]

    def finalize(self, *, voice: VoiceMatcher | None = None) -> Session:
        """Finish the stream and produce the session (the second look: diarization and rules).

        Parameters
        ----------
        voice : VoiceMatcher, optional
            The enrolled user's voice; the matching speaker is labelled ``"you"``.
        """
        self.finish()
        rows, speech = self.frames()
        loose = self.loose_speech()
        dia = diarize(rows[:, :N_MELS], speech, params=self.params, num_speakers=self.num_speakers,
                      loose_speech=loose, voice=voice)
        ids = [f"S{k + 1}" for k in range(dia.n_speakers)]
        labels: dict[str, str] = {}
        if voice is not None and dia.n_speakers > 0:
            k = voice.match(rows[:, :N_MELS], dia.activity)
            if k is not None:
                labels[ids[k]] = "you"
        segments = segments_from_frames(dia.activity, ids, FRAME_S)
        session = build_session(
            segments,
            source=self.name,
            duration_s=self.elapsed_s,
            sample_rate=self.input_rate,
            rules=self.rules,
            speaker_ids=ids,
            labels=labels or None,
        )
        session.extra["quality"] = quality_facts(rows[:, :N_MELS], dia.activity, speech | loose)
        session.extra["analysis"] = {
            "num_speakers_given": self.num_speakers,
            "top_merges": [{"distance": round(m.distance, 2), "speech_s": [round(f * 0.01, 2) for f in m.frames]}
                           for m in dia.merges],
        }
        return session


def build_session(
    segments: list[Segment],
    *,
    source: str,
    duration_s: float,
    sample_rate: int,
    rules: Rules = DEFAULT_RULES,
    speaker_ids: list[str] | None = None,
    labels: dict[str, str] | None = None,
) -> Session:
    """A full session from who-spoke-when segments: rules, metrics and feedback.

    Parameters
    ----------
    segments : list of Segment
        Speech segments (seconds); merged into talkspurts here.
    labels : dict, optional
        Speaker id -> label (``{"S2": "you"}``).
    """
    conv = analyze_conversation(segments, rules)
    speakers = speaker_summaries(conv.talkspurts, speaker_ids, labels)
    metrics = compute_metrics(conv, duration_s)
    you = next((s.id for s in speakers if s.label == "you"), None)
    feedback = feedback_messages(speakers, metrics, you=you)
    return Session(
        source=source,
        duration_s=duration_s,
        sample_rate=sample_rate,
        speakers=speakers,
        segments=list(conv.talkspurts),
        events=list(conv.events),
        metrics=metrics,
        feedback=feedback,
    )


def analyze(
    source: Source,
    *,
    params: AnalysisParams = DEFAULT_PARAMS,
    rules: Rules = DEFAULT_RULES,
    num_speakers: int | None = None,
    progress: ProgressCallback | None = None,
    voice: VoiceMatcher | None = None,
) -> Session:
    """Analyse everything a source yields.

    Parameters
    ----------
    source : Source
        Yields mono float blocks at ``source.sample_rate``.
    progress : callable, optional
        Called with the seconds of audio processed so far after each block.
    voice : VoiceMatcher, optional
        The enrolled user's voice, to label "you".
    """
    analyzer = Analyzer(source.sample_rate, name=source.name, params=params, rules=rules, num_speakers=num_speakers,
                        expected_duration_s=getattr(source, "duration_s", None))
    for block in source.blocks():
        analyzer.feed(block)
        if progress is not None:
            progress(analyzer.elapsed_s)
    return analyzer.finalize(voice=voice)


def analyze_file(
    path: str | Path,
    *,
    params: AnalysisParams | None = None,
    rules: Rules | None = None,
    num_speakers: int | None = None,
    progress: ProgressCallback | None = None,
    voice: VoiceMatcher | None = None,
) -> Session:
    """Analyse an audio file (WAV, FLAC, OGG/Vorbis, MP3; any rate, any channels).

    Raises
    ------
    listenkit.errors.AudioInputError
        When the file cannot be read as audio.
    """
    return analyze(
        FileSource(path),
        params=params or DEFAULT_PARAMS,
        rules=rules or DEFAULT_RULES,
        num_speakers=num_speakers,
        progress=progress,
        voice=voice,
    )
