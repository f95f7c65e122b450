"""Feedback: specific numbers, the balance band, kind wording, silence never held against anyone."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from listenkit import wording
from listenkit.conversation import analyze_conversation
from listenkit.feedback import (
    BALANCE_BAND_RELATIVE,
    MAX_MESSAGES,
    MONOLOGUE_NOTABLE_S,
    balance_band,
    balance_state,
    feedback_messages,
)
from listenkit.metrics import compute_metrics, speaker_summaries
from listenkit.session import SpeakerSummary
from listenkit.timeline import Segment

#: words that scold or judge; none may appear in feedback
SCOLDING = (
    "too much", "too many", "too long", "should", "must", "bad", "poor", "fail", "rude", "dominat",
    "wrong", "stop", "don't", "never", "hog", "selfish", "annoying", "problem",
)
#: words that would make silence sound like a fault
NEGATIVE_ABOUT_SILENCE = ("awkward", "uncomfortable", "dead air", "too quiet", "lull", "missing", "only")


def _speakers(*talk: tuple[str, float]) -> list[SpeakerSummary]:
    total = sum(t for _, t in talk)
    return [SpeakerSummary(spk, None, t, t / total if total else 0.0) for spk, t in talk]


def _metrics(per: dict[str, dict] | None = None, **top) -> dict:
    base = {
        "speech_s": 100.0, "per_speaker": per or {}, "interruptions": 0, "backchannels": 0,
        "silences": 0, "longest_silence_s": 0.0, "longest_monologue": None,
    }
    base.update(top)
    return base


def _per(**counts) -> dict:
    d = {"interruptions_made": 0, "interruptions_made_successful": 0, "backchannels_given": 0}
    d.update(counts)
    return d


def _assert_kind(messages: list[str]) -> None:
    for m in messages:
        low = m.lower()
        for word in SCOLDING:
            assert not re.search(rf"\b{re.escape(word)}", low), (word, m)
        if any(w in low for w in ("silence", "quiet", "pause")):
            for word in NEGATIVE_ABOUT_SILENCE:
                assert word not in low, (word, m)


def test_no_speech_gives_one_message():
    assert feedback_messages([], _metrics(speech_s=0.0)) == [wording.FEEDBACK_NO_CONVERSATION]
    silent = [SpeakerSummary("S1", None, 0.0, 0.0)]
    assert feedback_messages(silent, _metrics(speech_s=0.0), you="S1") == [wording.FEEDBACK_NO_CONVERSATION]


def test_balance_band_numbers():
    # two people: 50% +- 0.30 * 50% = 35% .. 65%; three: 33.3% +- 10 points; four: 25% +- 7.5
    assert balance_band(2) == pytest.approx((0.5, 0.35, 0.65))
    assert balance_band(3) == pytest.approx((1 / 3, 7 / 30, 13 / 30))
    assert balance_band(4) == pytest.approx((0.25, 0.175, 0.325))
    assert BALANCE_BAND_RELATIVE == 0.30
    assert balance_state(0.65, 2) == "balanced"  # the band's edge is still balanced
    assert balance_state(0.66, 2) == "above"
    assert balance_state(0.34, 2) == "below"
    assert balance_state(0.30, 3) == "balanced"


def test_you_spoke_more_than_an_even_share():
    # you 62 s, S2 38 s -> 62% > 65%? no: balanced; you 70 s, S2 30 s -> 70% > 65% -> above
    msgs = feedback_messages(_speakers(("S1", 70.0), ("S2", 30.0)), _metrics(), you="S1")
    assert msgs[0].startswith("You spoke 70% of the time, more than an even share of 50%")
    msgs = feedback_messages(_speakers(("S1", 62.0), ("S2", 38.0)), _metrics(), you="S1")
    assert msgs[0].startswith("You spoke 62% of the time, close to an even share of 50%")
    msgs = feedback_messages(_speakers(("S1", 30.0), ("S2", 70.0)), _metrics(), you="S1")
    assert msgs[0].startswith("You spoke 30% of the time, less than an even share of 50%")


def test_balance_about_everybody_by_id():
    msgs = feedback_messages(_speakers(("S1", 55.0), ("S2", 45.0)), _metrics())
    assert msgs[0] == "The talking was well shared: S1 55%, S2 45% (an even share is 50%)."
    msgs = feedback_messages(_speakers(("S1", 20.0), ("S2", 80.0)), _metrics())
    assert msgs[0].startswith("S2 spoke 80% of the time, more than an even share of 50% (S1 20%, S2 80%)")
    assert "you" not in " ".join(msgs).lower().split()


def test_monologue_only_when_notable():
    spk = _speakers(("S1", 70.0), ("S2", 60.0))
    at_limit = {"speaker": "S1", "start": 10.0, "end": 100.0, "duration_s": MONOLOGUE_NOTABLE_S}
    assert not any("longest" in m for m in feedback_messages(spk, _metrics(longest_monologue=at_limit)))
    long = {"speaker": "S1", "start": 190.0, "end": 325.0, "duration_s": 135.0}
    msgs = feedback_messages(spk, _metrics(longest_monologue=long), you="S1")
    assert "Your longest turn ran 2:15 (from 3:10)." in " ".join(msgs)
    msgs = feedback_messages(spk, _metrics(longest_monologue=long))
    assert "The longest turn was S1's: 2:15 from 3:10." in msgs


def test_interruptions_and_backchannels_spoken_to_you():
    per = {"S1": _per(interruptions_made=3, interruptions_made_successful=2, backchannels_given=7), "S2": _per()}
    msgs = feedback_messages(_speakers(("S1", 50.0), ("S2", 50.0)), _metrics(per, interruptions=3, backchannels=7), you="S1")
    text = " ".join(msgs)
    assert "You came in while someone was still talking 3 times (2 of those times you kept going)." in text
    assert "You gave 7 backchannels" in text and "listening" in text
    _assert_kind(msgs)


def test_no_interruptions_from_you_is_appreciated_and_no_backchannels_is_not_mentioned():
    per = {"S1": _per(), "S2": _per(interruptions_made=2)}
    msgs = feedback_messages(_speakers(("S1", 50.0), ("S2", 50.0)), _metrics(per, interruptions=2), you="S1")
    assert wording.FEEDBACK_NO_INTERRUPTIONS_YOU in msgs
    assert not any("backchannel" in m for m in msgs)


def test_interruptions_and_backchannels_about_everybody():
    per = {"S1": _per(interruptions_made=1, backchannels_given=2), "S2": _per(interruptions_made=2, backchannels_given=5)}
    msgs = feedback_messages(_speakers(("S1", 50.0), ("S2", 50.0)), _metrics(per, interruptions=3, backchannels=7))
    assert "Someone came in while another was still talking 3 times: S2 twice, S1 once." in msgs
    assert 'Listening signals ("mm-hm", "yeah"): S2 gave 5, S1 gave 2.' in msgs


def test_silences_are_appreciated():
    msgs = feedback_messages(_speakers(("S1", 50.0), ("S2", 50.0)), _metrics(silences=3, longest_silence_s=6.4))
    assert "There were 3 quiet moments (the longest 6 s). Pauses like these give room to think." in msgs
    one = feedback_messages(_speakers(("S1", 50.0), ("S2", 50.0)), _metrics(silences=1, longest_silence_s=4.0))
    assert "There was one quiet moment (4 s). Pauses like this give room to think." in one
    _assert_kind(msgs + one)


def test_one_voice():
    assert feedback_messages(_speakers(("S1", 123.0)), _metrics(), you="S1")[0] == "Only your voice was heard (2:03 of talk)."
    assert feedback_messages(_speakers(("S1", 123.0)), _metrics())[0] == "Only one voice was heard: S1 spoke for 2:03."


def test_enrolled_voice_that_never_spoke_falls_back_to_everybody():
    spk = _speakers(("S1", 50.0), ("S2", 50.0)) + [SpeakerSummary("S3", "you", 0.0, 0.0)]
    msgs = feedback_messages(spk, _metrics(), you="S3")
    assert msgs[0].startswith("The talking was well shared")
    assert not any(m.startswith("You") for m in msgs)


def test_full_pipeline_example_gives_five_grounded_messages():
    # the example of tests/test_metrics.py (its timeline and hand computation are drawn there)
    example = [
        Segment(0, 100, "S1"), Segment(3, 3.5, "S2"), Segment(99.8, 110, "S2"), Segment(108, 112, "S1"),
        Segment(116, 117, "S2"), Segment(117.5, 118, "S1"), Segment(118.3, 130, "S2"),
    ]
    conv = analyze_conversation(example)
    msgs = feedback_messages(speaker_summaries(conv.talkspurts), compute_metrics(conv, 135.0), you="S1")
    # S1 104.5 of 127.9 s = 82%; monologue 100 s from 0:00 (> 90); 1 interruption, kept going;
    # 1 backchannel; one 4 s silence
    assert msgs == [
        "You spoke 82% of the time, more than an even share of 50%. Leaving a little more room could invite the others in.",
        "Your longest turn ran 1:40 (from 0:00). A brief check-in during long stretches lets others join.",
        "You came in while someone was still talking once and kept going. A short pause before answering gives others room to finish.",
        'You gave 1 backchannel (like "mm-hm" or "yeah"): signs that you were listening.',
        "There was one quiet moment (4 s). Pauses like this give room to think.",
    ]


_segment = st.tuples(st.sampled_from(["S1", "S2", "S3"]), st.integers(0, 30000), st.integers(1, 15000)).map(
    lambda t: Segment(t[1] / 100, (t[1] + t[2]) / 100, t[0])
)


@settings(max_examples=100, deadline=None)
@given(st.lists(_segment, max_size=20), st.sampled_from([None, "S1", "S2"]))
def test_feedback_is_always_short_and_kind(segs, you):
    conv = analyze_conversation(segs)
    msgs = feedback_messages(speaker_summaries(conv.talkspurts), compute_metrics(conv, 500.0), you=you)
    assert 1 <= len(msgs) <= MAX_MESSAGES
    assert all(isinstance(m, str) and m and len(m) < 300 for m in msgs)
    _assert_kind(msgs)
