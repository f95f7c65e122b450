"""The live path equals file analysis; duration, recording, journal and signals behave.

The central check (issue 4): audio fed through the live path - a source handing out real-time-sized
blocks, the online view running - is finalized into exactly the session ``analyze`` makes of the same
audio, and the ``--record`` WAV re-analyses to the same session.
"""

from __future__ import annotations

import os
import signal
import stat
import threading
import time

import numpy as np
import pytest
import soundfile as sf
from scipy.signal import lfilter

from listenkit.live.capture import PacedSource
from listenkit.live.journal import JournalWriter, leftover_journals, read_journal
from listenkit.live.recorder import WavRecorder
from listenkit.live.runner import (
    STOP_DEVICE_LOST,
    STOP_DURATION,
    STOP_END_OF_INPUT,
    STOP_SIGNAL,
    LiveRunner,
    LiveSettings,
    StopOnSignals,
)
from listenkit.live.snapshot import LiveSnapshot
from listenkit.pipeline import analyze, analyze_file
from listenkit.sources import ArraySource

SR = 16000


# ------------------------------------------------------------------------------------------------
# synthetic voices (harmonic, syllable-modulated; two clearly different vocal tracts)
# ------------------------------------------------------------------------------------------------
LOW = (105.0, (550.0, 1100.0, 2450.0))
HIGH = (215.0, (850.0, 2000.0, 3100.0))


def voice(seconds: float, who: tuple, rng: np.random.Generator, *, sr: int = SR, level: float = 0.1) -> np.ndarray:
    """A voice-like sound: a pulse train at pitch ``who[0]`` through three formant resonators."""
    f0, formants = who
    n = int(round(seconds * sr))
    t = np.arange(n) / sr
    phase = np.cumsum(2 * np.pi * f0 * (1 + 0.05 * np.sin(2 * np.pi * 0.7 * t + rng.uniform(0, 6))) / sr)
    src = (np.mod(phase, 2 * np.pi) < 0.6).astype(float) - 0.1 + 0.02 * rng.standard_normal(n)
    y = np.zeros(n)
    for f, bw in zip(formants, (90.0, 120.0, 160.0)):
        r = np.exp(-np.pi * bw / sr)
        y += lfilter([1 - r], [1, -2 * r * np.cos(2 * np.pi * f / sr), r * r], src)
    y *= 0.55 + 0.45 * np.sin(2 * np.pi * 3.5 * t + rng.uniform(0, 6)) ** 2
    return (level * y / (np.sqrt(np.mean(y**2)) + 1e-12)).astype(np.float32)


def conversation(turns: list[tuple[tuple, float, float]], total_s: float, seed: int = 3, sr: int = SR) -> np.ndarray:
    """Voices placed at (start, end) seconds over a quiet room (-60 dBFS noise)."""
    rng = np.random.default_rng(seed)
    x = (1e-3 * rng.standard_normal(int(total_s * sr))).astype(np.float32)
    for who, a, b in turns:
        v = voice(b - a, who, rng, sr=sr)
        i = int(a * sr)
        x[i : i + v.size] += v[: x.size - i]
    return x


def two_voice_turns(total_s: float = 24.0) -> list[tuple[tuple, float, float]]:
    """Alternating turns of the low and the high voice, 1.8-3.2 s long, 0.5 s apart."""
    turns, t, k = [], 0.6, 0
    while t < total_s - 3.0:
        d = 1.8 + (k % 3) * 0.7
        turns.append((LOW if k % 2 == 0 else HIGH, t, t + d))
        t += d + 0.5
        k += 1
    return turns


def two_voices(total_s: float = 24.0, sr: int = SR) -> np.ndarray:
    return conversation(two_voice_turns(total_s), total_s, sr=sr)


def comparable(session) -> dict:
    """The parts of a session that must not depend on how the audio arrived."""
    d = session.to_dict()
    d.pop("live", None)
    d["audio"] = {k: v for k, v in d["audio"].items() if k != "source"}
    return d


# ------------------------------------------------------------------------------------------------
# the live path equals file analysis
# ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("speed", [0.0, 40.0])
def test_live_path_equals_file_analysis(speed):
    x = two_voices()
    expected = analyze(ArraySource(x, SR))
    source = PacedSource(ArraySource(x, SR, block_size=8192), speed=speed, block_s=0.02)
    result = LiveRunner(source, LiveSettings(refresh_s=0.0)).run()
    assert result.stopped_by == STOP_END_OF_INPUT
    assert comparable(result.session) == comparable(expected)
    assert result.session.duration_s == pytest.approx(x.size / SR)


def test_live_path_at_44k1_equals_file_analysis(tmp_path):
    """A device that cannot do 16 kHz is opened at its own rate; the pipeline resamples the same way."""
    x = two_voices(16.0, sr=44100)
    path = tmp_path / "talk.wav"
    sf.write(path, x, 44100, subtype="FLOAT")
    expected = analyze_file(path)
    from listenkit.sources import FileSource

    result = LiveRunner(PacedSource(FileSource(path), speed=0, block_s=0.02), LiveSettings(refresh_s=0.0)).run()
    assert comparable(result.session) == comparable(expected)
    assert result.session.sample_rate == 44100


def test_corpus_conversation_live_equals_file_within_3_points(corpus):
    path = corpus / "conversations" / "talkbank-jpn-tyo.flac"
    expected = analyze_file(path)
    from listenkit.sources import FileSource

    result = LiveRunner(PacedSource(FileSource(path), speed=0, block_s=0.1), LiveSettings(refresh_s=0.0)).run()
    live = {s.id: s.share for s in result.session.speakers}
    assert set(live) == {s.id for s in expected.speakers}
    for s in expected.speakers:
        assert abs(live[s.id] - s.share) <= 0.03
    assert comparable(result.session) == comparable(expected)  # in fact identical


def test_view_sees_speakers_while_running():
    x = two_voices(20.0)
    seen: list[LiveSnapshot] = []

    class Recorder:
        def start(self):
            pass

        def update(self, snap):
            seen.append(snap)

        def nudge(self, n):
            pass

        def stop(self):
            pass

    LiveRunner(PacedSource(ArraySource(x, SR), speed=0, block_s=0.1), LiveSettings(refresh_s=0.0), view=Recorder()).run()
    assert len(seen) > 100  # one per block
    assert seen[0].speakers == []
    assert any(s.talking for s in seen)
    last = seen[-1]
    assert last.elapsed_s == pytest.approx(20.0, abs=0.11)
    assert len(last.speakers) == 2  # the two synthetic voices are told apart online
    assert sum(s.share for s in last.speakers) == pytest.approx(1.0)
    assert min(s.share for s in last.speakers) > 0.3


class KeepSnapshots:
    """A view that only keeps every snapshot it is shown."""

    def __init__(self) -> None:
        self.seen: list[LiveSnapshot] = []

    def start(self) -> None:
        pass

    stop = start

    def nudge(self, nudge) -> None:
        pass

    def update(self, snap: LiveSnapshot) -> None:
        self.seen.append(snap)


def test_background_diarization_reanchors_the_live_view():
    x = two_voices(40.0)
    keep = KeepSnapshots()
    seen = keep.seen

    settings = LiveSettings(refresh_s=0.0, anchor_first_s=10.0, anchor_every_s=10.0)
    runner = LiveRunner(PacedSource(ArraySource(x, SR), speed=20.0, block_s=0.1), settings, view=keep)
    result = runner.run()
    assert result.session.extra["live"]["live_reanchors"] >= 2  # at 10 s, 20 s, 30 s of audio
    assert runner.online.anchored_frames >= 1000
    assert len(seen[-1].speakers) == 2
    assert comparable(result.session) == comparable(analyze(ArraySource(x, SR)))  # the final look is unchanged


class LowVoiceProfile:
    """A stand-in for an enrolled voice: "you" are the low voice (it knows when the low voice spoke)."""

    def __init__(self, total_s: float) -> None:
        self.low = np.zeros(int(total_s * 100), bool)
        for who, a, b in two_voice_turns(total_s):
            if who is LOW:
                self.low[int(a * 100) : int(b * 100)] = True
        self.calls = 0
        self.threads: set[str] = set()  # where the diarization asked for scores

    def scores(self, log_mel: np.ndarray, activity: np.ndarray) -> np.ndarray:
        """10 x the share of each column's frames that are the low voice's, minus 3."""
        self.threads.add(threading.current_thread().name)
        n = min(activity.shape[0], self.low.size)
        on = activity[:n]
        share = (on & self.low[:n, None]).sum(axis=0) / np.maximum(on.sum(axis=0), 1)
        return 10.0 * share - 3.0

    def match(self, log_mel: np.ndarray, activity: np.ndarray) -> int | None:
        self.calls += 1  # sessions here are shorter than the 3 minutes looked at: frames start at 0
        n = min(activity.shape[0], self.low.size)
        overlap = (activity[:n] & self.low[:n, None]).sum(axis=0)
        return int(np.argmax(overlap)) if overlap.max() > 0 else None


def test_the_enrolled_voice_is_you_live_and_in_the_report():
    x = two_voices(30.0)
    profile = LowVoiceProfile(30.0)
    keep = KeepSnapshots()
    seen = keep.seen

    settings = LiveSettings(refresh_s=0.0, voice_every_s=5.0, anchor_first_s=8.0, anchor_every_s=8.0)
    result = LiveRunner(PacedSource(ArraySource(x, SR), speed=30.0), settings, view=keep, voice=profile).run()
    assert profile.calls >= 4
    assert "listenkit-anchor" in profile.threads  # the live view's batch runs use the profile too
    late = [s for s in seen if s.elapsed_s > 12.0]
    assert all(any(sp.name == "you" for sp in s.speakers) for s in late)
    talk = {who: sum(b - a for w, a, b in two_voice_turns(30.0) if w is who) for who in (LOW, HIGH)}
    you = next(sp for sp in seen[-1].speakers if sp.name == "you")
    assert abs(you.talk_s - talk[LOW]) < abs(you.talk_s - talk[HIGH])  # "you" is on the low voice
    labels = {s.id: s.label for s in result.session.speakers}
    assert sorted(labels.values(), key=str) == [None, "you"]
    you_id = next(i for i, lab in labels.items() if lab == "you")
    low_time = sum(max(0.0, min(seg.end, b) - max(seg.start, a)) for seg in result.session.segments
                   if seg.speaker == you_id for w, a, b in two_voice_turns(30.0) if w is LOW)
    assert low_time > 0.8 * sum(seg.duration for seg in result.session.segments if seg.speaker == you_id)


# ------------------------------------------------------------------------------------------------
# duration, recording, journal
# ------------------------------------------------------------------------------------------------
def test_duration_stops_at_exactly_that_much_audio():
    x = two_voices(10.0)
    source = PacedSource(ArraySource(x, SR), speed=0, block_s=0.1)
    result = LiveRunner(source, LiveSettings(duration_s=3.33, refresh_s=0.0)).run()
    assert result.stopped_by == STOP_DURATION
    assert result.session.duration_s == pytest.approx(3.33, abs=1e-3)  # 53280 samples, not a block more
    assert comparable(result.session) == comparable(analyze(ArraySource(x[:53280], SR)))


def test_record_writes_what_was_analysed(tmp_path):
    x = two_voices(12.0)
    wav = tmp_path / "rec.wav"
    with WavRecorder(wav, SR) as rec:
        result = LiveRunner(PacedSource(ArraySource(x, SR), speed=0), LiveSettings(refresh_s=0.0), recorder=rec).run()
    assert stat.S_IMODE(os.stat(wav).st_mode) == 0o600
    assert sf.info(wav).frames == x.size
    assert result.session.extra["live"]["recording"] == str(wav)
    again = analyze_file(wav)
    shares = {s.id: s.share for s in result.session.speakers}
    for s in again.speakers:  # 16-bit rounding of the recording may move a frame or two
        assert abs(shares.get(s.id, 0.0) - s.share) <= 0.03


def test_journal_holds_the_rows_finalize_used(tmp_path):
    x = two_voices(8.0)
    journal = JournalWriter({"source": "test", "sample_rate": SR}, folder=tmp_path, sync_every_s=0.0)
    runner = LiveRunner(PacedSource(ArraySource(x, SR), speed=0), LiveSettings(refresh_s=0.0), journal=journal)
    runner.run()
    journal.close(remove=False)
    got = read_journal(journal.path)
    rows, speech = runner.analyzer.frames()
    assert not got.damaged_tail
    assert got.rows.dtype == rows.dtype  # kept in the analyzer's own precision: finalize sees the same
    np.testing.assert_array_equal(got.rows, rows)
    np.testing.assert_array_equal(got.speech, speech)
    assert got.elapsed_s == pytest.approx(8.0)
    assert leftover_journals(tmp_path) == [journal.path]


# ------------------------------------------------------------------------------------------------
# stopping: signals, device lost
# ------------------------------------------------------------------------------------------------
def test_sigint_stops_cleanly_and_keeps_what_was_heard():
    x = two_voices(30.0)
    source = PacedSource(ArraySource(x, SR), speed=10.0, block_s=0.05)  # 3 s of wall time in all
    # pytest started in the background of a shell inherits SIGINT ignored: install Python's own handler
    before = signal.signal(signal.SIGINT, signal.default_int_handler)
    timer = threading.Timer(0.8, os.kill, (os.getpid(), signal.SIGINT))
    timer.start()
    try:
        result = LiveRunner(source, LiveSettings(refresh_s=0.0)).run()
        restored = signal.getsignal(signal.SIGINT)
    finally:
        timer.cancel()
        signal.signal(signal.SIGINT, before)
    assert result.stopped_by == STOP_SIGNAL
    assert 3.0 < result.session.duration_s < 25.0  # about 8 s of audio had been heard
    assert restored is signal.default_int_handler  # the runner put back the handler it found


def test_second_signal_interrupts_for_real():
    stops = []
    with StopOnSignals(lambda: stops.append(1)) as guard:
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(0.01)
        assert guard.received == "SIGTERM" and stops == [1]
        with pytest.raises(KeyboardInterrupt):
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(0.5)


class _VanishingMic:
    """A live source whose device disappears after ``n`` blocks."""

    name = "microphone"
    sample_rate = SR

    def __init__(self, x: np.ndarray, n: int) -> None:
        self.x, self.n = x, n
        self.overflows, self.dropped_blocks, self.lost = 2, 0, False

    def stop(self) -> None:
        pass

    def blocks(self):
        for i in range(self.n):
            yield self.x[i * 1600 : (i + 1) * 1600]
        self.lost = True


def test_device_lost_keeps_the_session_so_far():
    x = two_voices(10.0)
    result = LiveRunner(_VanishingMic(x, 50), LiveSettings(refresh_s=0.0)).run()
    assert result.stopped_by == STOP_DEVICE_LOST
    assert result.session.duration_s == pytest.approx(5.0)
    assert result.overflows == 2
    assert result.session.extra["live"]["overflows"] == 2
    assert comparable(result.session) == comparable(analyze(ArraySource(x[:80000], SR)))
