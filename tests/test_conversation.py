"""The rules of DEFINITIONS.md, case by case, drawn as timelines with the hand computation beside them.

Timelines: one character = 0.5 s unless a case says otherwise; █ = speaking, ░ = not.
Default rules: PAUSE_BRIDGE 0.2, BC_MAX 1.0, BC_GAP 1.0, HANDOVER_MAX 0.5, SILENCE_MIN 3.0.
"""

from __future__ import annotations

import math

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from listenkit.conversation import (
    Conversation,
    ResponseGap,
    Turn,
    analyze_conversation,
    to_talkspurts,
)
from listenkit.params import Rules
from listenkit.timeline import Segment


def S(speaker: str, start: float, end: float) -> Segment:
    return Segment(start, end, speaker)


def ev(conv: Conversation, kind: str | None = None) -> list[tuple]:
    """Events as plain tuples (type, start, end, by, of, successful), times rounded to 1 us."""
    return [
        (e.type, round(e.start, 6), round(e.end, 6), e.by, e.of, e.successful)
        for e in conv.events
        if kind is None or e.type == kind
    ]


def turns(conv: Conversation) -> list[tuple]:
    return [(t.speaker, round(t.start, 6), round(t.end, 6), t.n_talkspurts) for t in conv.turns]


def gaps(conv: Conversation) -> list[tuple]:
    return [(g.from_speaker, g.to_speaker, round(g.gap_s, 6)) for g in conv.response_gaps]


# --------------------------------------------------------------------------------------------------
# talkspurts
# --------------------------------------------------------------------------------------------------


def test_pause_shorter_than_bridge_is_bridged():
    # A: ██░██        [0,1) [1.1,2): pause 0.1 < 0.2 -> one talkspurt [0,2)
    assert to_talkspurts([S("A", 0, 1), S("A", 1.1, 2)]) == [S("A", 0, 2)]


def test_pause_of_exactly_bridge_is_not_bridged():
    # A: ██░░██       [0,1) [1.2,2): pause exactly 0.2, not "less than" -> two talkspurts
    assert to_talkspurts([S("A", 0, 1), S("A", 1.2, 2)]) == [S("A", 0, 1), S("A", 1.2, 2)]
    # 0.3 - 0.1 is 0.19999999999999998 in floats, but exactly 0.2 on paper: not bridged
    assert len(to_talkspurts([S("A", 0, 0.1), S("A", 0.3, 1)])) == 2


def test_overlapping_and_touching_same_speaker_segments_merge():
    # A: ████            [0,2)
    # A:   ████          [1,3)   overlap -> [0,3)
    # A:       ██        [3,4)   touching -> [0,4), even with pause_bridge 0
    segs = [S("A", 1, 3), S("A", 0, 2), S("A", 3, 4)]
    assert to_talkspurts(segs, pause_bridge=0.0) == [S("A", 0, 4)]
    # a segment inside another does not shorten it
    assert to_talkspurts([S("A", 0, 5), S("A", 1, 2)]) == [S("A", 0, 5)]


def test_bridging_is_per_speaker_and_output_sorted():
    # A: ██░░░░██     B: ░░██░░░░   B's speech in A's pause does not join A's talkspurts
    out = to_talkspurts([S("A", 3, 4), S("B", 1.05, 2), S("A", 0, 1), S("A", 1.1, 1.5)])
    assert out == [S("A", 0, 1.5), S("B", 1.05, 2), S("A", 3, 4)]


def test_zero_length_negative_and_nonfinite_segments_are_dropped():
    segs = [S("A", 1, 1), S("A", 2, 1.5), S("B", math.nan, 3), S("B", 0, math.inf), S("C", 4, 5)]
    assert to_talkspurts(segs) == [S("C", 4, 5)]


def test_negative_pause_bridge_is_refused():
    with pytest.raises(ValueError, match="pause_bridge"):
        to_talkspurts([S("A", 0, 1)], pause_bridge=-0.1)


# --------------------------------------------------------------------------------------------------
# backchannel, handover, interruption (overlap rules)
# --------------------------------------------------------------------------------------------------


def test_backchannel_inside_the_other_talk():
    # A: ████████████     a = [0,6)
    # B: ░░░░░░█░░░░░     s = [3,3.5): dur 0.5 < 1, a.end 6 >= 3.5 -> backchannel by B of A
    conv = analyze_conversation([S("A", 0, 6), S("B", 3, 3.5)])
    assert ev(conv) == [("backchannel", 3, 3.5, "B", "A", None)]
    assert turns(conv) == [("A", 0, 6, 1)]  # a backchannel never takes the floor
    assert conv.response_gaps == []


def test_backchannel_ending_with_the_other_counts():
    # A: ████████████     a = [0,6)
    # B: ░░░░░░░░░░░█     s = [5.5,6): dur 0.5, a.end 6 >= s.end 6 (equal) -> backchannel
    conv = analyze_conversation([S("A", 0, 6), S("B", 5.5, 6)])
    assert ev(conv) == [("backchannel", 5.5, 6, "B", "A", None)]


def test_talkspurt_of_exactly_bc_max_is_no_backchannel():
    # A: ████████████     a = [0,6)
    # B: ░░░░░░██░░░░     s = [3,4): dur exactly 1.0, not < 1 -> no backchannel;
    #                     a.end - s.start = 3 >= 0.5 -> interruption; s.end 4 <= 6 -> unsuccessful
    conv = analyze_conversation([S("A", 0, 6), S("B", 3, 4)])
    assert ev(conv) == [("interruption", 3, 4, "B", "A", False)]
    assert turns(conv) == [("A", 0, 6, 1)]  # B gave up: the floor stays with A


def test_short_talkspurt_going_past_the_end_is_a_handover():
    # A: ████████████░░     a = [0,6)
    # B: ░░░░░░░░░░░███     s = [5.8,6.5): dur 0.7 < 1 but a.end 6 < 6.5 -> no backchannel;
    #                       a.end - s.start = 0.2 < 0.5 -> handover; B takes the floor
    conv = analyze_conversation([S("A", 0, 6), S("B", 5.8, 6.5)])
    assert ev(conv) == [("handover", 5.8, 6, "B", "A", None)]
    assert turns(conv) == [("A", 0, 6, 1), ("B", 5.8, 6.5, 1)]
    assert gaps(conv) == [("A", "B", -0.2)]  # 5.8 - 6


def test_overlap_just_under_handover_max_is_a_handover():
    # A: ████████████░░░░░░     a = [0,6)
    # B: ░░░░░░░░░░░███████     s = [5.6,9): a.end - s.start = 0.4 < 0.5 -> handover
    conv = analyze_conversation([S("A", 0, 6), S("B", 5.6, 9)])
    assert ev(conv) == [("handover", 5.6, 6, "B", "A", None)]
    assert gaps(conv) == [("A", "B", -0.4)]


def test_overlap_of_exactly_handover_max_is_an_interruption():
    # A: ████████████░░░░░░     a = [0,6)
    # B: ░░░░░░░░░░░███████     s = [5.5,9): a.end - s.start = 0.5, not < 0.5 -> interruption;
    #                           s.end 9 > a.end 6 -> successful (B took the floor)
    conv = analyze_conversation([S("A", 0, 6), S("B", 5.5, 9)])
    assert ev(conv) == [("interruption", 5.5, 9, "B", "A", True)]
    assert turns(conv) == [("A", 0, 6, 1), ("B", 5.5, 9, 1)]
    assert gaps(conv) == [("A", "B", -0.5)]
    assert ev(conv, "handover") == []  # a successful interruption is not also a handover


def test_unsuccessful_interruption_ending_with_the_other():
    # A: ████████████████████     a = [0,10)
    # B: ░░░░░░░░████████████     s = [4,10): s.end 10 is not > a.end 10 -> unsuccessful
    conv = analyze_conversation([S("A", 0, 10), S("B", 4, 10), S("B", 10.5, 12)])
    assert ev(conv, "interruption") == [("interruption", 4, 10, "B", "A", False)]
    # B's [10.5,12) starts in silence: B takes the floor by a gap handover, gap 10.5 - 10 = 0.5
    assert turns(conv) == [("A", 0, 10, 1), ("B", 10.5, 12, 1)]
    assert ev(conv, "handover") == [("handover", 10, 10.5, "B", "A", None)]
    assert gaps(conv) == [("A", "B", 0.5)]


def test_the_containing_talkspurt_is_the_one_that_ends_last():
    # A: ████████████░░░░░░     a1 = [0,6)
    # C: ░░████████████████     c  = [1,9): interruption of A, successful (9 > 6)
    # B: ░░░░░░░░░░██░░░░░░     s  = [5,5.6): inside a1 (ends 6) and c (ends 9) -> c ends last;
    #                           dur 0.6 < 1 and c.end 9 >= 5.6 -> backchannel by B of C
    conv = analyze_conversation([S("A", 0, 6), S("C", 1, 9), S("B", 5, 5.6)])
    assert ev(conv) == [
        ("interruption", 1, 9, "C", "A", True),
        ("backchannel", 5, 5.6, "B", "C", None),
    ]


def test_end_tie_between_containers_goes_to_the_earlier_start():
    # A: ████████████     a = [0,6)
    # C: ░░░░████████     c = [2,6): unsuccessful interruption of A (6 is not > 6)
    # B: ░░░░░░░░█░░░     s = [4,4.5): a and c both end at 6 -> the earlier start, A -> backchannel of A
    conv = analyze_conversation([S("A", 0, 6), S("C", 2, 6), S("B", 4, 4.5)])
    assert ("backchannel", 4, 4.5, "B", "A", None) in ev(conv)


def test_resuming_over_a_backchannel_is_neither_handover_nor_interruption():
    # A: ██████████░░░░████████████     [0,5)  [5.8,12)
    # B: ░░░░░░░░░░░███░░░░░░░░░░░░     [5.5,6.0): silent backchannel in A's pause
    #   A restarts at 5.8 inside B's "mm-hm": a backchannel is no candidate talkspurt a, so no event
    conv = analyze_conversation([S("A", 0, 5), S("B", 5.5, 6.0), S("A", 5.8, 12)])
    assert ev(conv) == [("backchannel", 5.5, 6.0, "B", "A", None)]
    assert turns(conv) == [("A", 0, 12, 2)]


# --------------------------------------------------------------------------------------------------
# backchannel in silence
# --------------------------------------------------------------------------------------------------


def test_backchannel_in_the_others_pause():
    # A: ████████░░░░░░░███████████     [0,4) [5.5,10)
    # B: ░░░░░░░░░██░░░░░░░░░░░░░░░     s = [4.5,5): dur 0.5; last other speaker A stopped 0.5 before,
    #                                   restarts 0.5 after, nobody else -> backchannel by B of A
    conv = analyze_conversation([S("A", 0, 4), S("B", 4.5, 5), S("A", 5.5, 10)])
    assert ev(conv) == [("backchannel", 4.5, 5, "B", "A", None)]
    assert turns(conv) == [("A", 0, 10, 2)]
    assert conv.response_gaps == []


def test_silent_backchannel_with_gaps_of_exactly_bc_gap():
    # A: ████████░░█░░███████     [0,4) [6.5,10)   (1 char = 0.5 s)
    # B: ░░░░░░░░░░█░░░░░░░░░     s = [5,5.5): A stopped 5 - 4 = 1.0 before (at most 1.0: yes),
    #                             restarts 6.5 - 5.5 = 1.0 after (yes) -> backchannel
    conv = analyze_conversation([S("A", 0, 4), S("B", 5, 5.5), S("A", 6.5, 10)])
    assert ev(conv) == [("backchannel", 5, 5.5, "B", "A", None)]
    # float trap: 5.3 - 4.3 is 0.9999999999999998... and 1.0000000000000009 both count as exactly 1.0
    conv = analyze_conversation([S("A", 0.1, 4.3), S("B", 5.3, 5.6), S("A", 6.6, 10)])
    assert ev(conv, "backchannel") == [("backchannel", 5.3, 5.6, "B", "A", None)]


@pytest.mark.parametrize(
    "segs, why",
    [
        ([S("A", 0, 4), S("B", 5.01, 5.5), S("A", 6, 10)], "A stopped 1.01 s before: more than BC_GAP"),
        ([S("A", 0, 4), S("B", 4.5, 5), S("A", 6.01, 10)], "A restarts 1.01 s after: more than BC_GAP"),
        ([S("A", 0, 4), S("B", 4.5, 5)], "A never starts again"),
        ([S("A", 0, 4), S("B", 4.2, 5.2), S("A", 5.5, 10)], "dur exactly 1.0 is not < BC_MAX"),
    ],
)
def test_silent_backchannel_conditions_fail(segs, why):
    conv = analyze_conversation(segs)
    assert ev(conv, "backchannel") == [], why
    # B's talkspurt is then a real turn: A -> B by a gap handover
    assert ("B" in [t[0] for t in turns(conv)]), why


def test_third_speaker_in_the_pause_spoils_the_silent_backchannel():
    # A: ████████░░░░░░░░░░██████     [0,4)           [5.5,10)
    # B: ░░░░░░░░░██░░░░░░░░░░░░░     s = [4.5,5)
    # C: ░░░░░░░░░░░░██░░░░░░░░░░     [5.1,5.3): somebody else speaks between A's stop and restart
    #   B: not a backchannel (C in between). C: the last other speaker before C is B (ended 5.0),
    #   and B never starts again -> not a backchannel either. Floor: A -> B -> C -> A.
    conv = analyze_conversation([S("A", 0, 4), S("B", 4.5, 5), S("C", 5.1, 5.3), S("A", 5.5, 10)])
    assert ev(conv, "backchannel") == []
    assert [t[0] for t in turns(conv)] == ["A", "B", "C", "A"]
    assert gaps(conv) == [("A", "B", 0.5), ("B", "C", 0.1), ("C", "A", 0.2)]


def test_last_other_speaker_must_be_the_one_who_resumes():
    # A: ██████░░░░░░░░░░░░░░████     [0,3)              [8,10)   (A restarts 3.5 s after s: too late anyway)
    # C: ░░░░░░████████░░░░░░░░░░     [3.2,7): C took the floor from A (gap handover)
    # B: ░░░░░░░░░░░░░░░██░░░░░░░     s = [7.5,8): last other speaker before s is C, who never
    #                                 restarts -> not a backchannel of anyone
    conv = analyze_conversation([S("A", 0, 3), S("C", 3.2, 7), S("B", 7.5, 8), S("A", 8.2, 10)])
    assert ev(conv, "backchannel") == []


# --------------------------------------------------------------------------------------------------
# silence
# --------------------------------------------------------------------------------------------------


def test_silence_of_exactly_silence_min():
    # A: ████░░░░░░░░░░     [0,2)
    # B: ░░░░░░░░░░██░░     [5,6): nobody speaks in [2,5), 3.0 s >= 3.0 -> silence
    conv = analyze_conversation([S("A", 0, 2), S("B", 5, 6)])
    assert ev(conv, "silence") == [("silence", 2, 5, None, None, None)]
    # 4.1 - 1.1 is 2.9999999999999996 in floats: still exactly 3.0 on paper
    conv = analyze_conversation([S("A", 0.3, 1.1), S("B", 4.1, 5)])
    assert ev(conv, "silence") == [("silence", 1.1, 4.1, None, None, None)]


def test_shorter_pause_is_no_silence_and_edges_are_not_silences():
    # ░░░░░░A:████░░░░░B:██░░░░░░   speech from 10 s to 15.99 s in a longer recording:
    # the 2.99 s gap is too short; time before the first and after the last speech is not "inside"
    conv = analyze_conversation([S("A", 10, 13), S("B", 15.99, 17)])
    assert ev(conv, "silence") == []


def test_silence_is_measured_on_everybody_speech():
    # A: ██████░░░░░░░░░░░░░░     [0,3)
    # B: ░░████████░░░░░░░░██     [1,5)          [8.5,9.5)
    #   nobody speaks in [5,8.5): 3.5 s -> one silence (A's own 5.5 s pause is not one)
    conv = analyze_conversation([S("A", 0, 3), S("B", 1, 5), S("B", 8.5, 9.5)])
    assert ev(conv, "silence") == [("silence", 5, 8.5, None, None, None)]


# --------------------------------------------------------------------------------------------------
# turns, handovers, response gaps
# --------------------------------------------------------------------------------------------------


def test_turns_and_response_gaps_in_a_plain_exchange():
    # A: ██████████░░░░░░░░████████░███░     [0,5)            [8.1,12) [12.5,14)
    # B: ░░░░░░░░░░██████░░░░░░░░░░░░░░░     [5.3,8)
    #   turns: A [0,5) 1 talkspurt; B [5.3,8); A [8.1,14) 2 talkspurts
    #   gaps: 5.3 - 5 = 0.3; 8.1 - 8 = 0.1. Handover events span the gaps.
    conv = analyze_conversation([S("A", 0, 5), S("B", 5.3, 8), S("A", 8.1, 12), S("A", 12.5, 14)])
    assert turns(conv) == [("A", 0, 5, 1), ("B", 5.3, 8, 1), ("A", 8.1, 14, 2)]
    assert gaps(conv) == [("A", "B", 0.3), ("B", "A", 0.1)]
    assert ev(conv) == [("handover", 5, 5.3, "B", "A", None), ("handover", 8, 8.1, "A", "B", None)]
    assert conv.turns[0] == Turn("A", 0, 5, 1)
    assert conv.response_gaps[0] == ResponseGap(5.3, "A", "B", pytest.approx(0.3))


def test_successful_interruption_takes_the_floor_and_counts_its_gap():
    # A: ████████████████████░░░░░░     a = [0,10)
    # B: ░░░░░░░░████████████████░░     s = [4,12): interruption, successful -> B's turn from 4
    # A: ░░░░░░░░░░░░░░░░░░░░░░░░██     [12.2,13): gap handover B -> A, gap 0.2
    conv = analyze_conversation([S("A", 0, 10), S("B", 4, 12), S("A", 12.2, 13)])
    assert turns(conv) == [("A", 0, 10, 1), ("B", 4, 12, 1), ("A", 12.2, 13, 1)]
    assert gaps(conv) == [("A", "B", -6), ("B", "A", 0.2)]  # 4 - 10; 12.2 - 12
    assert [e[0] for e in ev(conv)] == ["interruption", "handover"]


def test_three_speakers_with_listening_signals():
    # 1 char = 1 s
    # A: █████░░░░░░░░░░░░░░     [0,5)
    # B: ░░░░░░███████░░░░░░     [5.5,12)
    # C: ░░█░░░░░░█░░░████░░     [2,2.4) bc of A; [9,9.3) bc of B; [12.3,16)
    # A: ░░░░░░░░░░░░░░░░░██     [16,17.5): A answers C; gap 0.0
    segs = [
        S("A", 0, 5), S("C", 2, 2.4), S("B", 5.5, 12), S("C", 9, 9.3), S("C", 12.3, 16), S("A", 16, 17.5)
    ]
    conv = analyze_conversation(segs)
    assert ev(conv) == [
        ("backchannel", 2, 2.4, "C", "A", None),
        ("handover", 5, 5.5, "B", "A", None),
        ("backchannel", 9, 9.3, "C", "B", None),
        ("handover", 12, 12.3, "C", "B", None),
        ("handover", 16, 16, "A", "C", None),
    ]
    assert [t[0] for t in turns(conv)] == ["A", "B", "C", "A"]
    assert gaps(conv) == [("A", "B", 0.5), ("B", "C", 0.3), ("C", "A", 0.0)]


def test_six_speakers_round_robin():
    segs = [S(f"S{k + 1}", 2.0 * k, 2.0 * k + 1.8) for k in range(6)]
    conv = analyze_conversation(segs)
    assert [t[0] for t in turns(conv)] == [f"S{k + 1}" for k in range(6)]
    assert [round(g.gap_s, 6) for g in conv.response_gaps] == [0.2] * 5
    assert len(ev(conv, "handover")) == 5


def test_identical_starts_the_longer_talkspurt_holds_the_floor():
    # A: ██████████░░     [0,5)
    # B: ██████░░░░░░     [0,3): same start -> neither is inside the other: no event;
    #                     the longer (A) holds the floor
    conv = analyze_conversation([S("B", 0, 3), S("A", 0, 5)])
    assert ev(conv) == []
    assert turns(conv) == [("A", 0, 5, 1)]
    # the other way round, then A comes back after B: gap handover B -> A, gap 6 - 5 = 1
    conv = analyze_conversation([S("A", 0, 3), S("B", 0, 5), S("A", 6, 8)])
    assert turns(conv) == [("B", 0, 5, 1), ("A", 6, 8, 1)]
    assert gaps(conv) == [("B", "A", 1)]


def test_identical_start_with_the_holder_inside_a_turn():
    # A: ████████░░░░░░░░░░░░     [0,4)         A holds the floor
    # A: ░░░░░░░░░██████░░░░░     [4.5,7.5)     A continues,
    # B: ░░░░░░░░░████████████    [4.5,10)      and B starts at the same instant, lasting longer:
    #                                           B gets the floor (the longer one), gap 4.5 - 4 = 0.5
    conv = analyze_conversation([S("A", 0, 4), S("A", 4.5, 7.5), S("B", 4.5, 10)])
    assert ev(conv, "interruption") == []
    assert turns(conv) == [("A", 0, 4, 1), ("B", 4.5, 10, 1)]
    assert gaps(conv) == [("A", "B", 0.5)]


def test_empty_one_speaker_and_only_zero_length():
    assert analyze_conversation([]) == Conversation()
    assert analyze_conversation([S("A", 1, 1)]) == Conversation()
    # one speaker with a long pause: one turn, a silence, nothing else
    conv = analyze_conversation([S("A", 0, 2), S("A", 6, 7)])
    assert turns(conv) == [("A", 0, 7, 2)]
    assert ev(conv) == [("silence", 2, 6, None, None, None)]
    assert conv.speakers() == ["A"]


def test_rules_are_parameters():
    # with BC_MAX 2.0 the 1.5 s talkspurt inside A's talk becomes a backchannel
    segs = [S("A", 0, 6), S("B", 3, 4.5)]
    assert ev(analyze_conversation(segs), "interruption")
    assert ev(analyze_conversation(segs, Rules(bc_max=2.0)), "backchannel") == [("backchannel", 3, 4.5, "B", "A", None)]
    # with PAUSE_BRIDGE 0.5 a 0.3 s pause is bridged
    assert len(analyze_conversation([S("A", 0, 1), S("A", 1.3, 2)], Rules(pause_bridge=0.5)).talkspurts) == 1


def test_events_are_sorted_by_start_and_serialise():
    segs = [S("A", 0, 10), S("B", 3, 3.5), S("B", 9.8, 20), S("A", 24, 30), S("B", 26, 26.4)]
    conv = analyze_conversation(segs)
    starts = [e.start for e in conv.events]
    assert starts == sorted(starts)
    assert {e.type for e in conv.events} == {"backchannel", "handover", "silence"}
    for e in conv.events:
        d = e.to_dict()
        assert d["type"] in ("backchannel", "handover", "interruption", "silence")
        if e.type == "silence":
            assert "by" not in d and "of" not in d


# --------------------------------------------------------------------------------------------------
# properties
# --------------------------------------------------------------------------------------------------

# times on a 0.01 s grid, so that boundary cases (exactly 0.2, 0.5, 1.0, 3.0) really occur
_segment = st.tuples(
    st.sampled_from(["A", "B", "C"]), st.integers(0, 3000), st.integers(1, 800)
).map(lambda t: Segment(t[1] / 100, (t[1] + t[2]) / 100, t[0]))
_segments = st.lists(_segment, min_size=0, max_size=25)


def _canon(conv: Conversation, rename=lambda s: s, shift: float = 0.0) -> tuple:
    """A comparable form: events, turns, gaps as sorted tuples, names mapped, times shifted back."""
    def t(x: float) -> float:
        return round(x - shift, 6)

    events = sorted(
        (e.type, t(e.start), t(e.end), rename(e.by) if e.by else None, rename(e.of) if e.of else None, e.successful)
        for e in conv.events
    )
    trn = sorted((rename(x.speaker), t(x.start), t(x.end), x.n_talkspurts) for x in conv.turns)
    gp = sorted((t(g.time), rename(g.from_speaker), rename(g.to_speaker), round(g.gap_s, 6)) for g in conv.response_gaps)
    spurts = sorted((rename(s.speaker), t(s.start), t(s.end)) for s in conv.talkspurts)
    return events, trn, gp, spurts


@settings(max_examples=150, deadline=None)
@given(_segments, st.integers(-500, 5000))
def test_events_are_invariant_to_shifting_time(segs, shift_cs):
    shift = shift_cs / 100
    moved = [Segment(s.start + shift, s.end + shift, s.speaker) for s in segs]
    assert _canon(analyze_conversation(moved), shift=shift) == _canon(analyze_conversation(segs))


def _no_identical_talkspurts(conv: Conversation) -> bool:
    spans = [(round(s.start, 6), round(s.end, 6)) for s in conv.talkspurts]
    return len(spans) == len(set(spans))


@settings(max_examples=150, deadline=None)
@given(_segments, st.permutations(["A", "B", "C"]))
def test_relabelling_speakers_permutes_the_results(segs, perm):
    mapping = dict(zip(["A", "B", "C"], perm))
    conv = analyze_conversation(segs)
    # identical talkspurts of two speakers are the one case broken by speaker id (documented)
    assume(_no_identical_talkspurts(conv))
    renamed = analyze_conversation([Segment(s.start, s.end, mapping[s.speaker]) for s in segs])
    assert _canon(renamed) == _canon(conv, rename=mapping.get)


@settings(max_examples=150, deadline=None)
@given(_segments, st.data())
def test_splitting_a_segment_with_a_short_gap_changes_nothing(segs, data):
    spurts = to_talkspurts(segs)
    assume(spurts)
    k = data.draw(st.integers(0, len(spurts) - 1))
    s = spurts[k]
    assume(s.duration > 0.05)
    cut = data.draw(st.integers(1, int(round(s.duration * 100)) - 1)) / 100 + s.start
    gap = data.draw(st.integers(0, 19)) / 100  # < PAUSE_BRIDGE 0.2
    assume(cut + gap < s.end - 1e-6)
    pieces = [x for x in spurts if x != s] + [Segment(s.start, cut, s.speaker), Segment(cut + gap, s.end, s.speaker)]
    assert _canon(analyze_conversation(pieces)) == _canon(analyze_conversation(spurts))


@settings(max_examples=100, deadline=None)
@given(_segments)
def test_structural_invariants(segs):
    conv = analyze_conversation(segs)
    # talkspurts of one speaker never overlap or come closer than PAUSE_BRIDGE
    by_spk: dict[str, list[Segment]] = {}
    for s in conv.talkspurts:
        by_spk.setdefault(s.speaker, []).append(s)
    for lst in by_spk.values():
        for x, y in zip(lst, lst[1:]):
            assert y.start - x.end >= 0.2 - 1e-9
    # one response gap per change of floor; turns alternate speakers
    assert len(conv.response_gaps) == max(0, len(conv.turns) - 1)
    for t1, t2 in zip(conv.turns, conv.turns[1:]):
        assert t1.speaker != t2.speaker
    # every floor change is either a handover event or a successful interruption
    n_handover = len([e for e in conv.events if e.type == "handover"])
    n_success = len([e for e in conv.events if e.type == "interruption" and e.successful])
    assert n_handover <= len(conv.response_gaps) <= n_handover + n_success
    for e in conv.events:
        if e.type in ("backchannel", "interruption", "handover"):
            assert e.by != e.of and e.by is not None and e.of is not None
