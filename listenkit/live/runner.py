"""One live session: the source's blocks through the analysis pipeline, with a view, until it ends.

::

    live source --blocks--> [--record WAV] --> Analyzer.feed  (the same pipeline as `listenkit analyze`)
                                                  |  every refresh: OnlineSpeakers.update --> LiveSnapshot --> view
                                                  |  every second or so: rules on the online labels --> nudges
                                                  |  every few seconds: journal (rows) + recording synced to disk
                                                  |  now and then, in a background thread: diarize(last 10 min)
                                                  |      --> OnlineSpeakers.anchor (the past as batch sees it)
    end (duration / Ctrl-C / SIGTERM / end of input / device lost) --> Analyzer.finalize --> Session

Everything but the occasional background diarization runs in the calling thread: the microphone's
PortAudio thread only fills a queue, the view is redrawn by the runner (rich ``Live`` without its own
refresh thread), and the background diarization reads rows the frame store never changes again and
hands its result over in one attribute, taken by the calling thread; so there is no shared state to
lock. SIGINT and SIGTERM only ask the source to stop; the loop then ends at the next block and
the session is finalized as usual. A second signal while finishing interrupts for real (the journal
keeps the session for ``listenkit recover``).

Because the live path feeds the very same :class:`~listenkit.pipeline.Analyzer` and calls its
``finalize``, the final session equals ``listenkit analyze`` of the same audio (``--record`` keeps it).
"""

from __future__ import annotations

import math
import queue
import signal
import threading
import time
from dataclasses import dataclass, field
from types import FrameType
from typing import Any, Callable

import numpy as np

from ..features import FRAME_S, N_MELS, SAMPLE_RATE
from ..params import DEFAULT_PARAMS, DEFAULT_RULES, AnalysisParams, Rules
from ..pipeline import Analyzer, VoiceMatcher
from ..session import Session
from .capture import LiveSource
from .journal import JournalWriter
from .nudges import Nudge, Nudger, NudgeRules
from .online import OnlineSpeakers
from .recorder import WavRecorder
from .snapshot import LiveSnapshot, live_state, snapshot_of
from .view import NullView, View

#: how the session ended
STOP_DURATION = "duration"
STOP_SIGNAL = "signal"
STOP_END_OF_INPUT = "end-of-input"
STOP_DEVICE_LOST = "device-lost"


@dataclass(frozen=True)
class LiveSettings:
    """How a live session runs.

    Attributes
    ----------
    duration_s : float, optional
        Stop after this much audio, seconds.
    num_speakers : int, optional
        Number of speakers when known (1-6), for the final analysis.
    params, rules : AnalysisParams, Rules
    refresh_s : float
        Seconds between two view redraws (and online speaker updates).
    state_s : float
        Least seconds of audio between two runs of the conversation rules on the online labels;
        stretched so that they take at most :attr:`state_budget` of the time (their cost grows with the
        session).
    state_budget : float
        Largest fraction of the session's time spent on the live rules (CPU seconds per second).
    voice_every_s : float
        Seconds between two looks for the enrolled voice among the online speakers.
    anchor_first_s, anchor_every_s, anchor_fraction, anchor_window_s : float
        The batch diarization runs on the last ``anchor_window_s`` seconds heard (all of them in the
        first ten minutes), in a background thread: first after ``anchor_first_s`` seconds, then every
        ``max(anchor_every_s, anchor_fraction * elapsed)`` seconds. Its memory is bounded by the
        window and its cost per second falls as the session goes on (a 10-minute window takes ~2 s of
        CPU: 1.5 % of a core at 10 minutes, 0.2 % after an hour), while the online centroids it leaves
        behind get better. Its result re-anchors the online speakers (see
        :meth:`OnlineSpeakers.anchor`). ``anchor_first_s = 0`` turns it off.
    nudges : bool
        Show nudges.
    nudge_rules : NudgeRules
    nudge_show_s : float
        How long a nudge stays on the panel, seconds.
    """

    duration_s: float | None = None
    num_speakers: int | None = None
    params: AnalysisParams = DEFAULT_PARAMS
    rules: Rules = DEFAULT_RULES
    refresh_s: float = 0.25
    state_s: float = 1.0
    state_budget: float = 0.01
    voice_every_s: float = 30.0
    anchor_first_s: float = 30.0
    anchor_every_s: float = 30.0
    anchor_fraction: float = 0.25
    anchor_window_s: float = 600.0
    nudges: bool = True
    nudge_rules: NudgeRules = field(default_factory=NudgeRules)
    nudge_show_s: float = 30.0


@dataclass
class LiveResult:
    """The end of a live session.

    Attributes
    ----------
    session : Session
        The finalized session (equal to file analysis of the same audio).
    stopped_by : str
        ``"duration"``, ``"signal"``, ``"end-of-input"`` or ``"device-lost"``.
    overflows, dropped_blocks : int
        Audio trouble counted while capturing.
    nudges : list of Nudge
    """

    session: Session
    stopped_by: str
    overflows: int = 0
    dropped_blocks: int = 0
    nudges: list[Nudge] = field(default_factory=list)


class _AnchorWorker:
    """One background thread that runs the batch diarization on a stretch of rows when asked.

    A single long-lived thread (rather than one per run) keeps the memory its runs use in one malloc
    arena, so it is reused from run to run instead of piling up. :meth:`submit` hands over one job
    when idle; :meth:`take` returns a finished result once; both are called from the runner's thread.
    """

    def __init__(self, params: AnalysisParams, num_speakers: int | None, voice: VoiceMatcher | None = None) -> None:
        self.params = params
        self.num_speakers = num_speakers
        self.voice = voice  # the enrolled voice helps the batch runs tell the voices apart early
        self._jobs: queue.Queue = queue.Queue(maxsize=1)
        self._result: tuple[int, np.ndarray] | None = None
        self._busy = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def busy(self) -> bool:
        return self._busy.is_set()

    def submit(self, start: int, log_mel: np.ndarray, speech: np.ndarray) -> None:
        if self.busy:
            return
        if self._thread is None:
            self._thread = threading.Thread(target=self._work, name="listenkit-anchor", daemon=True)
            self._thread.start()
        self._busy.set()
        self._jobs.put((start, log_mel, speech))

    def take(self) -> tuple[int, np.ndarray] | None:
        result, self._result = self._result, None
        return result

    def close(self) -> None:
        """Let the thread end after its current job (nobody will take the result)."""
        if self._thread is not None:
            try:
                self._jobs.put_nowait(None)
            except queue.Full:
                pass

    def _work(self) -> None:
        from ..diarization import diarize

        while True:
            job = self._jobs.get()
            if job is None:
                return
            start, log_mel, speech = job
            try:
                activity = diarize(log_mel, speech, params=self.params, num_speakers=self.num_speakers,
                                   voice=self.voice).activity
                self._result = (start, activity)
            except Exception:  # noqa: BLE001 - a failed refresh of the live view must never end the session
                pass
            finally:
                del job, log_mel, speech
                _give_back_free_memory()
                self._busy.clear()


def _give_back_free_memory() -> None:
    """Return the free pages a batch run left in malloc's arenas to the system (glibc; else nothing).

    Each run allocates and frees tens of MB of temporaries; glibc keeps freed memory in the arena for
    reuse, which over a long session reads as a growing resident size. ``malloc_trim(0)`` gives it back.
    """
    global _MALLOC_TRIM
    if _MALLOC_TRIM is None:
        try:
            import ctypes

            _MALLOC_TRIM = ctypes.CDLL("libc.so.6").malloc_trim
        except (OSError, AttributeError):
            _MALLOC_TRIM = False
    if _MALLOC_TRIM:
        _MALLOC_TRIM(0)


_MALLOC_TRIM = None


class StopOnSignals:
    """While inside the ``with`` block, SIGINT and SIGTERM ask ``source`` to stop instead of killing.

    A second signal raises :class:`KeyboardInterrupt` (the person really wants out). Outside the main
    thread (where Python cannot install handlers) it does nothing.
    """

    def __init__(self, stop: Callable[[], None]) -> None:
        self._stop = stop
        self.received: str | None = None
        self._saved: dict[int, Any] = {}

    def _handler(self, signum: int, frame: FrameType | None) -> None:
        if self.received is not None:
            raise KeyboardInterrupt
        self.received = signal.Signals(signum).name
        self._stop()

    def __enter__(self) -> "StopOnSignals":
        if threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGINT, signal.SIGTERM):
                self._saved[sig] = signal.signal(sig, self._handler)
        return self

    def __exit__(self, *exc: object) -> None:
        for sig, old in self._saved.items():
            signal.signal(sig, old)
        self._saved.clear()


class LiveRunner:
    """Runs one live session (see the module docstring).

    Parameters
    ----------
    source : LiveSource
    settings : LiveSettings
    view : View, optional
    journal : JournalWriter, optional
        Receives the analyzer's rows every few seconds.
    recorder : WavRecorder, optional
        Receives every block (``--record``).
    voice : VoiceMatcher, optional
        The enrolled voice: labels "you" live (now and then) and in the final session, and takes
        part in every batch diarization (the live view's anchors too: two groups of the user's own
        voice that both sound like the profile are one speaker from the first anchor on).
    on_finishing : callable, optional
        Called with the session length (seconds) when listening has ended and the final analysis
        starts (it can take a while after a long session).
    clock : callable
        Monotonic wall clock, seconds.
    """

    def __init__(
        self,
        source: LiveSource,
        settings: LiveSettings = LiveSettings(),
        *,
        view: View | None = None,
        journal: JournalWriter | None = None,
        recorder: WavRecorder | None = None,
        voice: VoiceMatcher | None = None,
        on_finishing: Callable[[float], None] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.source = source
        self.settings = settings
        self.view = view or NullView()
        self.journal = journal
        self.recorder = recorder
        self.voice = voice
        self.on_finishing = on_finishing
        self.clock = clock
        self.analyzer = Analyzer(
            source.sample_rate, name=source.name, params=settings.params, rules=settings.rules,
            num_speakers=settings.num_speakers,
        )
        max_speakers = settings.num_speakers or settings.params.max_speakers
        self.online = OnlineSpeakers(max_speakers=max_speakers)
        self.nudger = Nudger(settings.nudge_rules)
        self.snapshot = LiveSnapshot()
        self.fed_samples = 0  # at the source's rate
        self._state = None
        self._you: int | None = None
        self._nudge_until = -1.0
        self._next_state_s = 0.0  # session time of the next run of the live rules
        self._next_voice_s = settings.voice_every_s
        self._generation = 0
        self._next_anchor_s = settings.anchor_first_s if settings.anchor_first_s > 0 else math.inf
        self._anchors = _AnchorWorker(settings.params, settings.num_speakers, voice)
        self.anchors_done = 0

    # ------------------------------------------------------------------ the loop
    def run(self) -> LiveResult:
        """Capture until the session ends, then finalize it."""
        s = self.settings
        limit = None if s.duration_s is None else int(math.ceil(s.duration_s * self.source.sample_rate))
        stopped_by = STOP_END_OF_INPUT
        next_refresh = self.clock()
        with StopOnSignals(self.source.stop) as signals:
            self.view.start()
            blocks = self.source.blocks()
            try:
                for block in blocks:
                    if limit is not None and self.fed_samples + block.shape[0] >= limit:
                        block = block[: max(0, limit - self.fed_samples)]
                        self._take(block)
                        stopped_by = STOP_DURATION
                        self.source.stop()
                        break
                    self._take(block)
                    now = self.clock()
                    if now >= next_refresh:
                        self._refresh(now)
                        next_refresh = now + s.refresh_s
                    if self.journal is not None:
                        rows, speech = self.analyzer.frames()
                        if self.journal.maybe_sync(rows, speech, self._samples_16k(), now=now,
                                                   loose=self.analyzer.loose_speech()) and self.recorder:
                            self.recorder.sync()
            finally:
                close = getattr(blocks, "close", None)
                if close is not None:
                    close()  # a generator source releases its device now, not when collected
                self.view.stop()
            if signals.received is not None and stopped_by != STOP_DURATION:
                stopped_by = STOP_SIGNAL
            if self.source.lost:
                stopped_by = STOP_DEVICE_LOST
            # the second look; a second signal from here on interrupts (the journal keeps the session)
            if self.on_finishing is not None:
                self.on_finishing(self.analyzer.elapsed_s)
            self.analyzer.finish()
            if self.recorder is not None:
                self.recorder.sync()
            if self.journal is not None:
                rows, speech = self.analyzer.frames()
                self.journal.flush_all(rows, speech, self._samples_16k(), self.analyzer.loose_speech())
            self._anchors.close()
            session = self.analyzer.finalize(voice=self.voice)
        session.extra["live"] = self._live_facts(stopped_by)
        return LiveResult(session, stopped_by, self.source.overflows, self.source.dropped_blocks, list(self.nudger.given))

    def _take(self, block: np.ndarray) -> None:
        if block.size == 0:
            return
        if self.recorder is not None:
            self.recorder.write(block)
        self.analyzer.feed(block)
        self.fed_samples += block.shape[0]

    def _samples_16k(self) -> int:
        return int(round(self.analyzer.elapsed_s * SAMPLE_RATE))

    # ------------------------------------------------------------------ live view
    def _refresh(self, now: float) -> None:
        """Update the online speakers and redraw; rerun the live rules when due."""
        s = self.settings
        rows, speech = self.analyzer.frames()
        self.online.update(rows, speech)
        elapsed = self.analyzer.elapsed_s
        self._anchor(rows, speech, elapsed)
        if self.online.generation != self._generation:  # speaker numbers may have moved
            self._generation = self.online.generation
            self._state = None
            if self._you is not None:
                self._next_voice_s = elapsed
        if self.voice is not None and elapsed >= self._next_voice_s:
            self._look_for_you(rows)
            self._next_voice_s = elapsed + s.voice_every_s
        if self._state is None or elapsed >= self._next_state_s:
            t0 = time.process_time()
            self._state = live_state(self.online, elapsed_s=elapsed, rules=s.rules, you=self._you)
            cost = time.process_time() - t0
            self._next_state_s = elapsed + max(s.state_s, cost / max(s.state_budget, 1e-6))
            if s.nudges:
                nudge = self.nudger.check(self._state)
                if nudge is not None:
                    self.view.nudge(nudge)
                    self._nudge_until = elapsed + s.nudge_show_s
        nudge_text = self.nudger.given[-1].text if self.nudger.given and elapsed < self._nudge_until else None
        self.snapshot = snapshot_of(
            self._state, elapsed_s=elapsed, talking=self.online.current_speaker(),
            overflows=self.source.overflows, nudge=nudge_text,
        )
        self.view.update(self.snapshot)

    def _anchor(self, rows: np.ndarray, speech: np.ndarray, elapsed: float) -> None:
        """Take a finished background diarization; start the next one when due."""
        result = self._anchors.take()
        if result is not None and self.online.anchor(result[1], start=result[0]):
            self.anchors_done += 1
        if self._anchors.busy or elapsed < self._next_anchor_s:
            return
        s = self.settings
        self._next_anchor_s = elapsed + max(s.anchor_every_s, s.anchor_fraction * elapsed)
        n = min(len(rows), len(speech))
        start = max(0, n - int(s.anchor_window_s / FRAME_S))
        # views of rows already stored: the frame store never changes them, even when it grows
        self._anchors.submit(start, rows[start:n, :N_MELS], speech[start:n])

    def _look_for_you(self, rows: np.ndarray) -> None:
        """Ask the voice profile which online speaker is the user (on the last few minutes)."""
        act = self.online.activity()
        n = act.shape[0]
        if act.shape[1] == 0:
            return
        start = max(0, n - 18000)  # three minutes of frames
        k = self.voice.match(rows[start:n, :N_MELS], act[start:n])  # type: ignore[union-attr]
        self._you = None if k is None else int(k)

    def _live_facts(self, stopped_by: str) -> dict[str, Any]:
        src = self.source
        facts: dict[str, Any] = {
            "stopped_by": stopped_by,
            "capture_rate": int(src.sample_rate),
            "overflows": int(src.overflows),
            "dropped_blocks": int(src.dropped_blocks),
            "live_reanchors": self.anchors_done,
            "nudges": [{"at_s": round(n.at_s, 1), "kind": n.kind, "text": n.text} for n in self.nudger.given],
        }
        device = getattr(src, "device_name", None)
        if device:
            facts["device"] = device
        if self.recorder is not None:
            facts["recording"] = str(self.recorder.path)
        return facts
