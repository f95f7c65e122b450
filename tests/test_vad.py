"""Voice activity detection: golden decisions, streaming invariance, noise it must not call speech."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf
from hypothesis import example, given, settings
from hypothesis import strategies as st

from listenkit.params import DEFAULT_PARAMS, AnalysisParams, with_overrides
from listenkit.speech_runs import SpeechRuns
from listenkit.timeline import read_rttm
from listenkit.vad import VoiceActivityDetector

SR = 16000
FRAME = 160


def vowel(seconds: float, f0: float = 140.0, amp: float = 0.3) -> np.ndarray:
    """A vowel-like sound: harmonics of ``f0`` (4 Hz vibrato) falling 6 dB/octave, three formant bumps."""
    t = np.arange(int(seconds * SR)) / SR
    phase = 2 * np.pi * np.cumsum(f0 * (1 + 0.02 * np.sin(2 * np.pi * 4 * t))) / SR
    x = np.zeros_like(t)
    for k in range(1, 30):
        f = k * f0
        if f > 7000:
            break
        g = 1 / (1 + ((f - 700) / 400) ** 2) + 0.5 / (1 + ((f - 1200) / 300) ** 2) + 0.3 / (1 + ((f - 2500) / 400) ** 2)
        x += g / k * np.sin(k * phase)
    return amp * x / np.abs(x).max()


def room(n: int, db: float = -60.0, seed: int = 1) -> np.ndarray:
    """Quiet white noise (a room), ``db`` dBFS RMS."""
    return np.random.default_rng(seed).standard_normal(n) * 10 ** (db / 20)


def silence(seconds: float) -> np.ndarray:
    return np.zeros(int(seconds * SR))


def with_room(x: np.ndarray) -> np.ndarray:
    return (x + room(len(x))).astype(np.float32)


def decide(x: np.ndarray, params: AnalysisParams = AnalysisParams(), cuts: list[int] | None = None,
           *, both_levels: bool = False) -> np.ndarray:
    """All decisions for ``x`` fed in blocks cut at ``cuts`` (one block when None), then flushed:
    ``process``/``flush`` (n_frames,), or with ``both_levels`` ``process_levels``/``flush_levels``
    (n_frames, 2)."""
    vad = VoiceActivityDetector(params)
    process, flush = (vad.process_levels, vad.flush_levels) if both_levels else (vad.process, vad.flush)
    edges = [0, *sorted(cuts or []), len(x)]
    parts = [process(x[a:b]) for a, b in zip(edges[:-1], edges[1:])]
    parts.append(flush())
    return np.concatenate(parts)


def as_text(decisions: np.ndarray) -> str:
    return "".join("S" if d else "_" for d in decisions)


# ------------------------------------------------------------------ golden decision strings
# Frame t covers [10t, 10t + 10) ms. Hand check of "one vowel": the vowel fills frames 50..99; speech
# starts PRE_ROLL_FRAMES = 3 early (frame 47) and ends TAIL_FRAMES = 5 after the last voiced frame
# (frame 100, the high-pass filter rings one frame on), so frames 47..105 = 59 frames are speech.

GOLDEN = {
    "one vowel": (
        lambda: with_room(np.concatenate([silence(0.5), vowel(0.5), silence(0.5)])),
        "_" * 47 + "S" * 59 + "_" * 44,
    ),
    "50 ms vowel is too short": (
        lambda: with_room(np.concatenate([silence(0.5), vowel(0.05), silence(0.5)])),
        "_" * 105,
    ),
    "white-noise burst is not speech": (
        lambda: with_room(
            np.concatenate([silence(0.5), 0.1 * np.random.default_rng(3).standard_normal(8000), silence(0.5)])
        ),
        "_" * 150,
    ),
    "100 ms pause is bridged": (
        lambda: with_room(np.concatenate([silence(0.5), vowel(0.4), silence(0.1), vowel(0.4, f0=200), silence(0.5)])),
        "_" * 47 + "S" * 99 + "_" * 44,
    ),
    "300 ms pause splits": (
        lambda: with_room(np.concatenate([silence(0.5), vowel(0.4), silence(0.3), vowel(0.4, f0=200), silence(0.5)])),
        "_" * 47 + "S" * 49 + "_" * 21 + "S" * 49 + "_" * 44,
    ),
    "digital silence": (lambda: np.zeros(SR, dtype=np.float32), "_" * 100),
}


@pytest.mark.parametrize("name", list(GOLDEN))
def test_golden_decisions(name):
    make, expected = GOLDEN[name]
    assert as_text(decide(make())) == expected


@pytest.mark.parametrize("name", list(GOLDEN))
def test_golden_decisions_in_small_blocks(name):
    make, expected = GOLDEN[name]
    x = make()
    assert as_text(decide(x, cuts=list(range(37, len(x), 37)))) == expected


# ------------------------------------------------------------------ streaming invariance


@settings(max_examples=25, deadline=None)
@given(cuts=st.lists(st.integers(0, 3 * SR), max_size=12), extra=st.integers(0, FRAME - 1))
def test_chunked_equals_whole(cuts, extra):
    x = with_room(np.concatenate([silence(0.3), vowel(0.6), silence(0.2), vowel(0.3, f0=220), silence(0.4)]))
    x = np.concatenate([x, np.full(extra, 0.01, dtype=np.float32)])  # a trailing partial frame
    whole = decide(x)
    assert len(whole) == len(x) // FRAME
    np.testing.assert_array_equal(decide(x, cuts=[c for c in cuts if c <= len(x)]), whole)


def test_delay_is_bounded_and_flush_completes():
    x = with_room(np.concatenate([silence(1.0), vowel(3.0), silence(1.0)]))
    vad = VoiceActivityDetector()
    got = 0
    for start in range(0, len(x), 480):
        got += len(vad.process(x[start : start + 480]))
        assert vad.frames_done == got
        assert vad.frames_seen - vad.frames_done <= 30  # 0.3 s at the defaults
    got += len(vad.flush())
    assert got == len(x) // FRAME == vad.frames_done
    with pytest.raises(RuntimeError):
        vad.process(x[:160])


def test_noise_floor_follows_the_room_level():
    vad = VoiceActivityDetector(initial_noise_floor_db=-40.0)
    assert vad.noise_floor_db == -40.0
    vad.process(room(5 * SR, db=-50.0).astype(np.float32))
    # white noise after the 150 Hz high-pass: ~0.1 dB less; the running minimum sits ~1 dB low
    assert -52.5 < vad.noise_floor_db < -49.5


def test_steady_loud_noise_is_not_speech():
    hum = 0.2 * np.sin(2 * np.pi * 300 * np.arange(3 * SR) / SR) + room(3 * SR, db=-40.0)
    assert not decide(hum.astype(np.float32)).any()


def test_params_are_used():
    x = with_room(np.concatenate([silence(0.5), vowel(0.2), silence(0.5)]))
    assert decide(x).any()
    assert not decide(x, with_overrides(AnalysisParams(), vad_min_speech_s=0.3)).any()


def levels(x: np.ndarray, params: AnalysisParams = AnalysisParams(), cuts: list[int] | None = None) -> np.ndarray:
    """Both levels' decisions (n_frames, 2) for ``x`` fed in blocks cut at ``cuts``, then flushed."""
    return decide(x, params, cuts, both_levels=True)


def quiet_vowel_in_noise(snr_db: float) -> np.ndarray:
    """3 s of white noise at -40 dBFS, a 1 s vowel at ``snr_db`` over it, 2 s of the noise."""
    x = room(6 * SR, db=-40.0, seed=2)
    v = vowel(1.0, amp=1.0)
    x[3 * SR : 4 * SR] += v / np.sqrt(np.mean(v**2)) * 10 ** ((-40.0 + snr_db) / 20)
    return x.astype(np.float32)


def test_the_looser_level_finds_more_of_a_quiet_voice():
    both = levels(quiet_vowel_in_noise(6.0))
    strict, loose = both[:, 0], both[:, 1]
    assert (loose >= strict).all()  # the looser level holds every frame of the detector's
    # the vowel fills frames 300..399: the detector's gate (6 dB over the floor) passes part of it,
    # the looser gate (1.5 dB) all of it, with the pre-roll and tail around it
    assert 40 < strict[300:400].sum() < 95
    assert loose[300:400].all() and loose.sum() <= 100 + 3 + 6
    assert not loose[:290].any() and not loose[410:].any()  # the noise alone is not speech at either level
    # far under the gates, neither level hears it
    assert not levels(quiet_vowel_in_noise(0.0)).any()


def test_one_level_when_the_loose_gate_is_not_lower():
    x = quiet_vowel_in_noise(6.0)
    both = levels(x, with_overrides(AnalysisParams(), vad_loose_gate_db=6.0))
    np.testing.assert_array_equal(both[:, 0], both[:, 1])
    np.testing.assert_array_equal(both[:, 0], levels(x)[:, 0])  # the detector's own level is the same


@settings(max_examples=15, deadline=None)
@given(cuts=st.lists(st.integers(0, 6 * SR), max_size=12))
def test_both_levels_chunked_equal_whole(cuts):
    x = quiet_vowel_in_noise(6.0)
    np.testing.assert_array_equal(levels(x, cuts=cuts), levels(x))


def test_bad_arguments():
    with pytest.raises(ValueError):
        VoiceActivityDetector(sample_rate=44100)
    with pytest.raises(ValueError):
        VoiceActivityDetector().process(np.zeros((160, 2), dtype=np.float32))


# ------------------------------------------------------------------ real sounds (corpus)


def _load(path) -> np.ndarray:
    x, rate = sf.read(path, dtype="float32", always_2d=True)
    assert rate == SR
    return x.mean(axis=1)


def _scaled(x: np.ndarray, *, rms_db: float | None = None, peak_db: float | None = None) -> np.ndarray:
    if rms_db is not None:
        return x * 10 ** ((rms_db - 10 * np.log10(np.mean(x.astype(np.float64) ** 2))) / 20)
    return x * 10 ** (peak_db / 20) / np.abs(x).max()


def _voiced_frames(x: np.ndarray) -> np.ndarray:
    """Frames within 25 dB of the loudest frame: the clearly spoken part of a clean utterance."""
    n = len(x) // FRAME
    e = 10 * np.log10(np.mean(x[: n * FRAME].reshape(n, FRAME).astype(np.float64) ** 2, axis=1) + 1e-12)
    return e > e.max() - 25


def test_transients_are_not_speech(corpus):
    # taps, rubs and friction at a realistic loudness (peak -12 dBFS), alone and in a pause of speech
    utterance = _scaled(_load(sorted((corpus / "speakers/librispeech-test-other/1688").glob("*.flac"))[0]), rms_db=-26)
    flagged = total = 0
    for path in sorted((corpus / "noise/transients").glob("*.flac")):
        t = _scaled(_load(path), peak_db=-12)
        alone = decide(with_room(np.concatenate([silence(1.0), t, silence(1.0)])))
        assert alone.sum() <= 0.1 * len(t) / FRAME, path.name
        mixed = decide(with_room(np.concatenate([utterance, silence(1.0), t, silence(1.0), utterance])))
        pause = mixed[len(utterance) // FRAME + 20 : (len(utterance) + 2 * SR + len(t)) // FRAME - 20]
        flagged += pause.sum()
        total += len(pause)
    assert flagged <= 0.05 * total


@pytest.mark.parametrize("noise", ["doing_the_dishes.flac", "exercise_bike.flac", "noise1.flac"])
def test_background_noise_alone_is_mostly_not_speech(corpus, noise):
    x = _scaled(_load(corpus / "noise/background" / noise), rms_db=-40)
    assert decide(x).mean() < 0.2


@pytest.mark.parametrize("noise", [None, "doing_the_dishes.flac", "exercise_bike.flac", "noise1.flac"])
def test_speech_is_found_clean_and_in_noise(corpus, noise):
    found = []
    for path in sorted((corpus / "speakers/librispeech-test-other").glob("*/*.flac"))[::10]:
        s = _scaled(_load(path), rms_db=-26)
        x = np.concatenate([silence(1.0), s, silence(1.0)])
        if noise is None:
            x = with_room(x)
        else:  # 20 dB below the speech
            x = (x + _scaled(np.resize(_load(corpus / "noise/background" / noise), len(x)), rms_db=-46)).astype(np.float32)
        h = decide(x)
        voiced = np.concatenate([np.zeros(100, bool), _voiced_frames(s), np.zeros(100, bool)])[: len(h)]
        found.append(h[voiced].mean())
        around = np.concatenate([h[:80], h[-80:]])  # the second before and after it
        assert around.mean() < (0.01 if noise is None else 0.25)
    assert np.mean(found) > 0.9 if noise is None else np.mean(found) > 0.85
    assert min(found) > 0.7


@pytest.mark.parametrize(("name", "max_miss", "max_fa"), [("falcon-3-speakers", 0.07, 0.05), ("spokenwoz-mul1011", 0.05, 0.15)])
def test_conversation_against_reference(corpus, name, max_miss, max_fa):
    x = _load(corpus / "conversations" / f"{name}.flac")
    h = decide(x)
    ref = np.zeros(len(h), dtype=bool)
    for seg in read_rttm(corpus / "conversations" / f"{name}.rttm"):
        ref[int(round(seg.start * 100)) : int(round(seg.end * 100))] = True
    miss = (ref & ~h).sum() / ref.sum()
    false_alarm = (h & ~ref).sum() / (~ref).sum()
    assert miss < max_miss and false_alarm < max_fa, (miss, false_alarm)


# ------------------------------------------------------------------ the state machine on hand-made evidence
# Codes per 10 ms frame: "S" strong (also medium and weak), "M" medium (and weak), "W" weak only,
# "_" nothing. Defaults: onset 3 strong of 6 (or 10 medium of 20), offset 15, pre-roll 3, tail 5,
# a run is proven after 10 strong frames, weak frames continue 10 frames after the last strong one.


def _run_codes(codes: str) -> str:
    p = DEFAULT_PARAMS
    runs = SpeechRuns(p.vad_onset_frames, p.vad_offset_frames, int(round(p.vad_min_speech_s * 100)))
    runs.step_all(*(np.array([c in chars for c in codes]) for chars in ("SMW", "S", "SM")), emitted=0)
    runs.close()
    return as_text(runs.decisions(0, len(codes)))


def test_medium_frames_carry_a_proven_run():
    # onset at frame 22 (first strong 20, speech from 17); 12 strong frames prove the run; the medium
    # frames 32..71 continue it; it ends 5 frames after 71
    codes = "_" * 20 + "S" * 12 + "M" * 40 + "_" * 40
    assert _run_codes(codes) == "_" * 17 + "S" * 60 + "_" * 35


def test_medium_frames_do_not_carry_an_unproven_run():
    # 4 strong frames only: the medium frames continue it as weak ones, up to 10 frames after the
    # last strong frame (23 -> 33); it ends at 33 + 1 + 5 = 39
    codes = "_" * 20 + "S" * 4 + "M" * 25 + "_" * 40
    assert _run_codes(codes) == "_" * 17 + "S" * 22 + "_" * 50


def test_enough_medium_frames_start_speech():
    # every other frame medium from 20: the tenth (38) is 18 frames after the first, inside the window
    # of 20, so speech starts 3 frames before 20; the run goes on to 42 and ends 5 frames later
    codes = "_" * 20 + "M_" * 12 + "_" * 40
    assert _run_codes(codes) == "_" * 17 + "S" * 31 + "_" * 36


def test_sparse_medium_frames_do_not_start_speech():
    codes = "_" * 20 + "M__" * 9 + "_" * 40  # at most 7 in any 20 frames
    assert _run_codes(codes) == "_" * len(codes)


@settings(max_examples=150, deadline=None)
@given(pieces=st.lists(st.tuples(st.sampled_from("SMW_"), st.integers(1, 40)), min_size=1, max_size=30),
       cuts=st.lists(st.integers(0, 1200), max_size=6), emitted=st.integers(0, 30))
@example(pieces=[("S", 20), ("_", 15), ("S", 20), ("_", 50)], cuts=[], emitted=0)  # ends on the 15th blank frame
def test_stepping_only_frames_with_evidence_equals_stepping_every_frame(pieces, cuts, emitted):
    # step_all skips the frames without evidence; the reference steps every frame, in any chunking
    codes = "".join(c * n for c, n in pieces)
    p = DEFAULT_PARAMS
    args = (p.vad_onset_frames, p.vad_offset_frames, int(round(p.vad_min_speech_s * 100)))
    evidence = [np.array([c in chars for c in codes]) for chars in ("SMW", "S", "SM")]
    fast, slow = SpeechRuns(*args), SpeechRuns(*args)
    bounds = [0, *sorted(min(c, len(codes)) for c in cuts), len(codes)]
    for a, b in zip(bounds[:-1], bounds[1:]):
        fast.step_all(*(e[a:b] for e in evidence), emitted)
        for t in range(a, b):
            slow.step(t, *(bool(e[t]) for e in evidence), emitted)
        slow.seen = b
        assert fast.decided_until(emitted) == slow.decided_until(emitted)
    for runs in (fast, slow):
        runs.close()
    assert as_text(fast.decisions(0, len(codes))) == as_text(slow.decisions(0, len(codes)))
