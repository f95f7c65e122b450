"""The whole pipeline: chunking invariance, file == array source, silence, short audio, rules applied."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from listenkit.pipeline import Analyzer, analyze, analyze_file, build_session
from listenkit.sources import ArraySource
from listenkit.timeline import Segment

from synth import dialogue


@pytest.fixture(scope="module")
def talk():
    """A 35 s synthetic dialogue of two voices, 16 kHz."""
    rng = np.random.default_rng(5)
    turns, t = [], 0.5
    for i in range(10):
        d = [3.0, 2.5, 4.0][i % 3]
        turns.append(("low" if i % 2 == 0 else "high", t, t + d))
        t += d + 0.4
    return dialogue(turns, total=t + 1.0, rng=rng), turns


def test_block_size_does_not_change_the_session(talk):
    x, _ = talk
    a = analyze(ArraySource(x, 16000, block_size=16000)).to_dict()
    b = analyze(ArraySource(x, 16000, block_size=317)).to_dict()
    assert a == b


def test_file_source_equals_array_source(talk, tmp_path):
    x, _ = talk
    path = tmp_path / "talk.wav"
    sf.write(path, x, 16000, subtype="FLOAT")
    from_file = analyze_file(path).to_dict()
    from_array = analyze(ArraySource(x, 16000, name=str(path))).to_dict()
    assert from_file == from_array


def test_shares_match_the_script(talk):
    x, turns = talk
    session = analyze(ArraySource(x, 16000))
    assert len(session.speakers) == 2
    low = sum(b - a for w, a, b in turns if w == "low")
    high = sum(b - a for w, a, b in turns if w == "high")
    # S1 is the first voice heard: the low one
    assert session.speakers[0].share == pytest.approx(low / (low + high), abs=0.03)
    assert sum(s.share for s in session.speakers) == pytest.approx(1.0)
    assert session.metrics["silences"] == 0  # gaps of 0.4 s are no silences


def test_resampled_input_gives_the_same_speakers(talk):
    from scipy.signal import resample_poly

    x, _ = talk
    x44 = resample_poly(x, 441, 160).astype(np.float32)
    s16 = analyze(ArraySource(x, 16000))
    s44 = analyze(ArraySource(x44, 44100))
    assert s44.sample_rate == 44100
    assert [round(s.share, 2) for s in s44.speakers] == pytest.approx([round(s.share, 2) for s in s16.speakers], abs=0.02)


def test_silence_is_no_conversation():
    session = analyze(ArraySource(np.zeros(16000 * 5, dtype=np.float32), 16000))
    assert session.speakers == [] and session.segments == [] and session.events == []
    assert session.duration_s == pytest.approx(5.0)
    assert len(session.feedback) == 1  # "no conversation was found"


def test_very_short_audio_is_not_an_error():
    for n in (10, 1000):  # (an empty array is refused by ArraySource, like an empty file)
        session = analyze(ArraySource(np.zeros(n, dtype=np.float32), 16000))
        assert session.segments == []


def test_analyzer_feed_after_finish_is_refused(talk):
    a = Analyzer(16000)
    a.feed(talk[0][:16000])
    a.finalize()
    with pytest.raises(RuntimeError):
        a.feed(talk[0][:100])


def test_build_session_applies_the_rules():
    # A: ████████████░░░░░░   [0, 6)
    # B:       █░░░░░░░░░░░   [3, 3.5)  backchannel by B of A (0.5 s < 1 s, A talks through it)
    # B:               ████   [6.2, 9)  handover from A to B after a 0.2 s gap
    segs = [Segment(0, 6, "S1"), Segment(3, 3.5, "S2"), Segment(6.2, 9, "S2")]
    s = build_session(segs, source="x.wav", duration_s=10, sample_rate=16000, speaker_ids=["S1", "S2"])
    assert [e.type for e in s.events if e.type != "handover"] == ["backchannel"]
    bc = next(e for e in s.events if e.type == "backchannel")
    assert (bc.by, bc.of) == ("S2", "S1")
    # talk time: S1 6 s, S2 0.5 + 2.8 = 3.3 s -> share 6 / 9.3
    assert s.speakers[0].share == pytest.approx(6 / 9.3)


def test_voice_matcher_labels_you(talk):
    class Second:
        def scores(self, log_mel, activity):
            return np.zeros(activity.shape[1])  # sounds like nobody: the clusters stay as found

        def match(self, log_mel, activity):
            assert log_mel.shape[1] == 40 and activity.shape[0] == log_mel.shape[0]
            return 1

    session = analyze(ArraySource(talk[0], 16000), voice=Second())
    assert [s.label for s in session.speakers] == [None, "you"]
    assert session.to_dict()["speakers"][1]["label"] == "you"


def test_num_speakers_out_of_range_is_refused():
    with pytest.raises(ValueError):
        Analyzer(16000, num_speakers=7)
