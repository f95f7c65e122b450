"""Nudges: only when a pattern holds, rarely, kindly; silence never counts against anyone.

Conversations are drawn as timelines (seconds); the expected nudge is worked out beside each.
"""

from __future__ import annotations

import pytest

from listenkit import wording
from listenkit.conversation import analyze_conversation
from listenkit.live.nudges import Nudger, NudgeRules
from listenkit.live.snapshot import LiveState
from listenkit.metrics import compute_metrics
from listenkit.timeline import Segment


def state(segments: list[tuple[float, float, str]], now: float, *, you: str | None = None) -> LiveState:
    conv = analyze_conversation([Segment(a, b, s) for a, b, s in segments])
    ids = sorted({s for _, _, s in segments})
    names = {i: ("you" if i == you else i) for i in ids}
    return LiveState(conv, compute_metrics(conv, now), names, you, now)


def test_a_long_hold_of_the_floor_that_is_still_going():
    # S1 0-10, S2 10.3-100 (one turn of 89.7 s, then 95.7 s at t=106 while still talking)
    segs = [(0, 10, "S1"), (10.3, 106, "S2")]
    n = Nudger()
    assert n.check(state([(0, 10, "S1"), (10.3, 100, "S2")], 100.0)) is None  # 89.7 s: not yet
    nudge = n.check(state(segs, 106.0))
    assert nudge is not None and nudge.kind == "monologue"
    assert nudge.text == wording.nudge_monologue("S2", 95.7, you=False)
    assert "1:36" in nudge.text  # 95.7 s, as the view prints it
    assert n.check(state([(0, 10, "S1"), (10.3, 400, "S2")], 400.0)) is None  # the same turn: said once


def test_a_finished_long_turn_is_no_longer_news():
    # S2 talked 10-110 but stopped 20 s ago
    assert Nudger().check(state([(0, 5, "S1"), (10, 110, "S2"), (112, 130, "S1")], 130.0)) is None


def test_when_you_are_known_it_speaks_to_you():
    segs = [(0, 5, "S2"), (5.4, 100, "S1")]
    nudge = Nudger().check(state(segs, 100.0, you="S1"))
    assert nudge.text == wording.nudge_monologue("you", 94.6, you=True)
    assert nudge.text.startswith("You have been talking")
    other = Nudger().check(state(segs, 100.0, you="S2"))
    assert other.text == wording.nudge_monologue_other("S1", 94.6)


def test_nothing_in_the_first_minute():
    segs = [(0, 59, "S1")]
    assert Nudger(NudgeRules(monologue_s=30)).check(state(segs, 59.0)) is None


def _interrupting(n_times: int, *, start: float = 70.0, by: str = "S2") -> list[tuple[float, float, str]]:
    """S1 talks in 20 s stretches; ``by`` comes in 5 s before each end and keeps going 3 s after.

    Each is an interruption: S2 starts inside S1's talkspurt, is longer than BC_MAX, and the overlap
    (5 s) exceeds HANDOVER_MAX; successful, since S2 ends after S1.
    """
    other = "S1" if by == "S2" else "S2"
    segs, t = [], start
    for _ in range(n_times):
        segs.append((t, t + 20, other))
        segs.append((t + 15, t + 23, by))
        t += 30
    return segs


def test_two_interruptions_within_five_minutes():
    n = Nudger()
    one = _interrupting(1)
    assert n.check(state(one, 100.0)) is None
    two = _interrupting(2)  # interruptions at 85 s and 115 s
    nudge = n.check(state(two, 140.0))
    assert nudge is not None and nudge.kind == "interruptions"
    assert nudge.text == wording.nudge_interruptions("S2", 2, 300.0, you=False)
    assert "twice in the last 5 minutes" in nudge.text


def test_interruptions_far_apart_do_not_add_up():
    segs = _interrupting(1, start=70.0) + _interrupting(1, start=500.0)  # 85 s and 515 s: 430 s apart
    assert Nudger().check(state(segs, 540.0)) is None


def test_only_your_own_interruptions_are_yours_to_change():
    segs = _interrupting(3)
    assert Nudger().check(state(segs, 170.0, you="S1")) is None  # S2 interrupts you: not a nudge for you
    assert Nudger().check(state(segs, 170.0, you="S2")).text.startswith("You came in")


def test_interruptions_counted_again_only_after_the_last_nudge():
    n = Nudger(NudgeRules(min_interval_s=0))
    assert n.check(state(_interrupting(2), 140.0)).kind == "interruptions"
    assert n.check(state(_interrupting(3), 170.0)) is None  # one new since the nudge
    assert n.check(state(_interrupting(4), 200.0)).kind == "interruptions"  # two new


def test_a_participant_left_out_while_others_talk():
    # S2 spoke 0-20; from 20 s on only S1 (and S3) talk, with short pauses; at 205 s S2 has been quiet 185 s
    segs = [(0, 20, "S2")]
    t = 20.5
    while t < 205:
        segs.append((t, t + 9, "S1"))
        segs.append((t + 9.3, t + 14, "S3"))
        t += 15
    nudge = Nudger().check(state(segs, 205.0))
    assert nudge is not None and nudge.kind == "quiet"
    assert nudge.text == wording.nudge_quiet("S2", 185.0, you_known=False)


def test_shared_silence_is_never_counted_against_anyone():
    # S1 and S2 talked, then everyone was silent for 4 minutes: nobody is "left out"
    segs = [(0, 30, "S1"), (30.5, 60, "S2"), (60.4, 70, "S1")]
    assert Nudger().check(state(segs, 320.0)) is None


def test_you_are_never_nudged_for_listening():
    segs = [(0, 20, "S2")] + [(t, t + 14, "S1") for t in range(21, 220, 15)]
    no_monologues = NudgeRules(monologue_s=1e9)
    assert Nudger(no_monologues).check(state(segs, 230.0, you="S2")) is None  # you: listening is fine
    assert Nudger(no_monologues).check(state(segs, 230.0)).kind == "quiet"  # anyone else: a nudge


def test_at_most_one_nudge_every_few_minutes():
    n = Nudger()
    segs = [(0, 10, "S1"), (10.3, 106, "S2")]
    assert n.check(state(segs, 106.0)) is not None
    # a new long turn soon after: held back until 4 minutes have passed since the last nudge
    segs2 = segs + [(106.5, 300, "S1")]
    assert n.check(state(segs2, 300.0)) is None
    segs3 = segs + [(106.5, 350, "S1")]
    late = n.check(state(segs3, 350.0))
    assert late is not None and late.at_s == 350.0
    assert [g.kind for g in n.given] == ["monologue", "monologue"]


@pytest.mark.parametrize("text", [
    wording.nudge_monologue("S1", 100, you=False),
    wording.nudge_monologue("you", 100, you=True),
    wording.nudge_monologue_other("S2", 100),
    wording.nudge_interruptions("S2", 3, 300, you=False),
    wording.nudge_interruptions("you", 2, 300, you=True),
    wording.nudge_quiet("S2", 200, you_known=True),
])
def test_nudge_wording_is_kind(text):
    lowered = text.lower()
    for harsh in ("stop", "too much", "rude", "bad", "must", "never", "should"):
        assert harsh not in lowered
    assert text.endswith(".")
