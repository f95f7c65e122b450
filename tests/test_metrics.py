"""Metrics with hand-computed numbers, the empty case, JSON-readiness and additivity."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from listenkit.conversation import analyze_conversation
from listenkit.metrics import compute_metrics, speaker_summaries, talk_times
from listenkit.session import Session
from listenkit.timeline import Segment


def S(speaker: str, start: float, end: float) -> Segment:
    return Segment(start, end, speaker)


# 1 char = 10 s (roughly)
# S1: ██████████░█░░░░░    [0,100)   [108,112)   [117.5,118) silent bc of S2
# S2: ░█░░░░░░░███░░███    [3,3.5) bc of S1; [99.8,110) handover (overlap 0.2); [116,117); [118.3,130)
#   [108,112): inside S2's [99.8,110): 110 - 108 = 2 >= 0.5, 112 > 110 -> successful interruption by S1
#   [112,116): nobody speaks, 4 s -> silence; S2 [116,117) takes the floor by a gap handover (gap 4)
#   [117.5,118): S2 stopped 0.5 before, restarts 0.3 after -> backchannel by S1 of S2
EXAMPLE = [
    S("S1", 0, 100), S("S2", 3, 3.5), S("S2", 99.8, 110), S("S1", 108, 112),
    S("S2", 116, 117), S("S1", 117.5, 118), S("S2", 118.3, 130),
]


@pytest.fixture
def example_metrics() -> dict:
    return compute_metrics(analyze_conversation(EXAMPLE), 135.0)


def test_hand_computed_totals(example_metrics):
    m = example_metrics
    assert m["duration_s"] == 135.0
    # union: [0,112) 112 + [116,117) 1 + [117.5,118) 0.5 + [118.3,130) 11.7 = 125.2
    assert m["speech_s"] == pytest.approx(125.2)
    # two at once: [3,3.5) 0.5 + [99.8,100) 0.2 + [108,110) 2 = 2.7
    assert m["overlap_s"] == pytest.approx(2.7)
    # S1 100 + 4 + 0.5 = 104.5; S2 0.5 + 10.2 + 1 + 11.7 = 23.4; total 127.9
    assert m["talk_time_total_s"] == pytest.approx(127.9)
    assert m["n_speakers"] == 2
    assert (m["interruptions"], m["interruptions_successful"], m["backchannels"], m["handovers"]) == (1, 1, 2, 2)
    assert (m["silences"], m["silence_total_s"], m["longest_silence_s"]) == (1, 4.0, 4.0)
    # turns: S1 [0,100), S2 [99.8,110), S1 [108,112), S2 [116,130)
    assert m["turns"] == 4
    assert m["longest_monologue"] == {"speaker": "S1", "start": 0.0, "end": 100.0, "duration_s": 100.0}
    # gaps: 99.8 - 100 = -0.2; 108 - 110 = -2; 116 - 112 = 4 -> sorted [-2, -0.2, 4]
    # median -0.2; mean 1.8 / 3 = 0.6; p90 (linear): -0.2 + 0.8 * 4.2 = 3.16
    assert m["response_gap"] == {"count": 3, "median_s": -0.2, "mean_s": 0.6, "p90_s": 3.16}


def test_hand_computed_per_speaker(example_metrics):
    s1, s2 = example_metrics["per_speaker"]["S1"], example_metrics["per_speaker"]["S2"]
    assert list(example_metrics["per_speaker"]) == ["S1", "S2"]  # order of first speech
    assert s1["talk_time_s"] == 104.5 and s2["talk_time_s"] == 23.4
    assert s1["share"] == pytest.approx(104.5 / 127.9, abs=1e-4)  # 0.8170
    assert s2["share"] == pytest.approx(23.4 / 127.9, abs=1e-4)  # 0.1830
    assert s1 == {
        "talk_time_s": 104.5, "share": 0.817, "talkspurts": 3, "turns": 2, "longest_turn_s": 100.0,
        "interruptions_made": 1, "interruptions_made_successful": 1, "interruptions_received": 0,
        "backchannels_given": 1, "backchannels_received": 1, "handovers_taken": 0,
    }
    assert s2 == {
        "talk_time_s": 23.4, "share": 0.183, "talkspurts": 4, "turns": 2, "longest_turn_s": 14.0,
        "interruptions_made": 0, "interruptions_made_successful": 0, "interruptions_received": 1,
        "backchannels_given": 1, "backchannels_received": 1, "handovers_taken": 2,
    }


def test_metrics_are_json_ready_and_survive_a_session_round_trip(example_metrics):
    text = json.dumps(example_metrics)
    assert json.loads(text) == example_metrics
    conv = analyze_conversation(EXAMPLE)
    sess = Session("x.wav", 135.0, 16000, speaker_summaries(conv.talkspurts), conv.talkspurts, conv.events, example_metrics)
    back = Session.from_dict(json.loads(sess.to_json()))
    assert back.metrics == example_metrics


def test_empty_conversation():
    m = compute_metrics(analyze_conversation([]), 12.5)
    assert m["duration_s"] == 12.5
    assert m["speech_s"] == 0 and m["overlap_s"] == 0 and m["n_speakers"] == 0
    assert m["per_speaker"] == {}
    assert m["turns"] == 0 and m["longest_monologue"] is None
    assert m["response_gap"] == {"count": 0, "median_s": None, "mean_s": None, "p90_s": None}
    assert m["silence_total_s"] == 0 and m["longest_silence_s"] == 0
    json.dumps(m)


def test_overlap_counts_for_each_speaker():
    # A: ████████░░     [0,4)
    # B: ░░░░██████     [2,5)   talk: A 4, B 3 (the overlap [2,4) counts for both); shares 4/7, 3/7
    summaries = speaker_summaries(analyze_conversation([S("A", 0, 4), S("B", 2, 5)]).talkspurts)
    assert [(s.id, s.talk_time_s) for s in summaries] == [("A", 4.0), ("B", 3.0)]
    assert summaries[0].share == pytest.approx(4 / 7)
    assert summaries[1].share == pytest.approx(3 / 7)


def test_speaker_summaries_order_labels_and_silent_speakers():
    spurts = [S("S2", 0, 3), S("S1", 3, 4)]
    out = speaker_summaries(spurts, ["S1", "S3", "S2"], {"S1": "you"})
    assert [(s.id, s.label, s.talk_time_s) for s in out] == [("S1", "you", 1.0), ("S3", None, 0.0), ("S2", None, 3.0)]
    assert out[1].share == 0.0
    # a speaker who spoke but was not listed is kept, after the listed ones
    assert [s.id for s in speaker_summaries(spurts, ["S1"])] == ["S1", "S2"]
    # default order: first speech
    assert [s.id for s in speaker_summaries(spurts)] == ["S2", "S1"]
    # nobody spoke: all shares 0
    assert [s.share for s in speaker_summaries([], ["S1", "S2"])] == [0.0, 0.0]


_segment = st.tuples(st.sampled_from(["A", "B", "C", "D"]), st.integers(0, 3000), st.integers(1, 800)).map(
    lambda t: Segment(t[1] / 100, (t[1] + t[2]) / 100, t[0])
)


@settings(max_examples=100, deadline=None)
@given(st.lists(_segment, min_size=1, max_size=25))
def test_shares_sum_to_one_and_counts_add_up(segs):
    conv = analyze_conversation(segs)
    summaries = speaker_summaries(conv.talkspurts)
    assert sum(s.share for s in summaries) == pytest.approx(1.0)
    m = compute_metrics(conv, 100.0)
    per = m["per_speaker"].values()
    assert sum(d["interruptions_made"] for d in per) == m["interruptions"] == sum(d["interruptions_received"] for d in per)
    assert sum(d["backchannels_given"] for d in per) == m["backchannels"] == sum(d["backchannels_received"] for d in per)
    assert sum(d["handovers_taken"] for d in per) == m["handovers"]
    assert sum(d["turns"] for d in per) == m["turns"]
    assert sum(d["talk_time_s"] for d in per) == pytest.approx(m["talk_time_total_s"], abs=1e-2)
    # talk time is between speech time and speech time + overlap counted once per extra voice
    assert m["overlap_s"] <= m["speech_s"] + 1e-9
    assert m["speech_s"] - 1e-6 <= sum(talk_times(conv.talkspurts).values())
