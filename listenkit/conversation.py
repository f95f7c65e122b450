"""From who-spoke-when segments to the conversation of DEFINITIONS.md: talkspurts, events, turns.

Everything here follows ``/work/shared/docs/DEFINITIONS.md`` (the contract) with the five constants of
:class:`listenkit.params.Rules`. Times are seconds (floats).

Choices where the text leaves room (each is tested in ``tests/test_conversation.py``):

* **Boundaries.** Comparisons use a tolerance of ``EPS`` = 1 ns, so that a value that is *exactly* a
  constant on paper (a pause of 0.2, a talkspurt of 1.0, an overlap of 0.5, a silence of 3.0) is
  treated as exactly that constant even when float subtraction gives 0.19999999999999998.
  "Less than" is strict (a pause of exactly PAUSE_BRIDGE is not bridged, a talkspurt of exactly
  BC_MAX is no backchannel, an overlap of exactly HANDOVER_MAX is an interruption); "at least" /
  "at most" include the constant (a silence of exactly SILENCE_MIN counts; BC_GAP exactly is close enough).
* **Talkspurts.** Segments of zero or negative length, or with a non-finite time, are dropped.
  Same-speaker segments that overlap or touch are merged even when ``pause_bridge`` is 0.
* **Which talkspurt *a* is "the" one.** Only *non-backchannel* talkspurts of other speakers are
  candidates for *a*: a "mm-hm" holds no floor, so nobody can hand over from it or interrupt it
  (a speaker resuming over a "mm-hm" given in their own pause is neither). Among several candidates the
  one that ends last is taken; ties go to the one that started first, then to the speaker who spoke first.
* **Starts in silence** means that no other speaker's talkspurt *a* has ``a.start < s.start < a.end``.
  For the silent backchannel, "the last other speaker before it" is the speaker of the other
  talkspurt that ended last at or before ``s.start`` (a tie between two speakers means there is no
  single such speaker: no backchannel); "A starts again at most BC_GAP after s" means A's next
  talkspurt starts no later than ``s.end + BC_GAP`` (it may start while s is still going); "nobody else
  speaks in between" means no speaker other than A and B speaks between A's stop and A's restart.
* **Identical starts.** Two talkspurts that start at the same instant: neither starts *inside* the
  other, so neither is a backchannel, handover or interruption of the other. For the floor, they are
  taken in order of length (longer first): the floor goes to (or stays with) the one that lasts longer.
* **Floor and turns.** Talkspurts are taken in order of start. A backchannel never takes or holds the
  floor and belongs to no turn. A non-backchannel talkspurt of the floor holder extends the holder's
  turn. One of another speaker takes the floor unless it is an unsuccessful interruption (B gave up:
  by the text, the floor is taken "by handover or by successful interruption") or it starts together
  with a talkspurt of the holder that lasts at least as long; such talkspurts belong to no turn.
  A turn runs from its first talkspurt's start to its last talkspurt's end; turns may overlap (a
  successful interruption starts a turn before the interrupted one ends).
* **Handover events.** Every change of floor that is not a successful interruption is a ``"handover"``
  event (``by`` = the incoming speaker, ``of`` = the outgoing holder): the overlapped handovers that
  the definition names (overlap shorter than HANDOVER_MAX) *and* plain floor changes after a gap.
  Reason: both are the smooth kind of turn exchange a listener makes, and counting only the overlapped
  ones would make the count depend on whether B came in 0.1 s early or 0.1 s late. The event spans the
  transition: from the earlier to the later of (end of A's last talkspurt, start of B's turn), so an
  overlapped handover spans the overlap and a gap handover the gap. A talkspurt of the current holder
  that the rule would call a handover changes no floor and gives no event.
* **Interruption and backchannel events** span the talkspurt *s*. Interruptions are reported by the
  rule for every talkspurt that meets it, whether or not the floor changes.
* **Response gaps.** At each change of floor from A to B: ``turn start of B - end of A's last
  talkspurt that started before it`` (any of A's talkspurts). Negative values are overlaps;
  interruptions that take the floor give large negative gaps.
"""

from __future__ import annotations

import math
from bisect import bisect_left, bisect_right
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Iterable

from .params import DEFAULT_RULES, Rules
from .session import Event
from .timeline import Segment

#: tolerance of every time comparison, seconds (see the module docstring)
EPS = 1e-9

EVENT_TYPES = ("backchannel", "handover", "interruption", "silence")


@dataclass(frozen=True)
class Turn:
    """One speaker's hold of the floor.

    Attributes
    ----------
    speaker : str
        Who held the floor.
    start, end : float
        First talkspurt's start and last talkspurt's end, seconds.
    n_talkspurts : int
        Number of the holder's (non-backchannel) talkspurts in the turn.
    """

    speaker: str
    start: float
    end: float
    n_talkspurts: int

    @property
    def duration(self) -> float:
        """Length in seconds."""
        return self.end - self.start


@dataclass(frozen=True)
class ResponseGap:
    """A floor transfer offset: start of the new turn minus end of the old holder's last talkspurt.

    Attributes
    ----------
    time : float
        Start of the new turn, seconds.
    from_speaker, to_speaker : str
        Old and new floor holder.
    gap_s : float
        The offset in seconds; negative when B started before A stopped.
    """

    time: float
    from_speaker: str
    to_speaker: str
    gap_s: float


@dataclass
class Conversation:
    """Everything the rules find in one list of segments.

    Attributes
    ----------
    talkspurts : list of Segment
        The talkspurts, sorted by start then speaker.
    events : list of Event
        Backchannels, handovers, interruptions and silences, sorted by start.
    turns : list of Turn
        Holds of the floor, in order of start.
    response_gaps : list of ResponseGap
        One per change of floor, in time order.
    """

    talkspurts: list[Segment] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)
    turns: list[Turn] = field(default_factory=list)
    response_gaps: list[ResponseGap] = field(default_factory=list)

    def speakers(self) -> list[str]:
        """Speaker ids in order of first speech."""
        seen: dict[str, None] = {}
        for seg in self.talkspurts:
            seen.setdefault(seg.speaker, None)
        return list(seen)


def to_talkspurts(segments: Iterable[Segment], pause_bridge: float = 0.2) -> list[Segment]:
    """Merge, per speaker, segments less than ``pause_bridge`` apart into talkspurts.

    Parameters
    ----------
    segments : iterable of Segment
        Who-spoke-when segments, in any order; may overlap, also within one speaker.
    pause_bridge : float
        PAUSE_BRIDGE, seconds (>= 0). A pause shorter than this is bridged; one of exactly this length is not.

    Returns
    -------
    list of Segment
        Talkspurts sorted by start then speaker; one speaker's talkspurts never overlap or touch.

    Raises
    ------
    ValueError
        When ``pause_bridge`` is negative or not finite.
    """
    if not (math.isfinite(pause_bridge) and pause_bridge >= 0):
        raise ValueError(f"pause_bridge must be a finite number >= 0, got {pause_bridge!r}")
    per_speaker: dict[str, list[Segment]] = defaultdict(list)
    for seg in segments:
        if not (math.isfinite(seg.start) and math.isfinite(seg.end)) or seg.end - seg.start <= EPS:
            continue
        per_speaker[seg.speaker].append(seg)
    out: list[Segment] = []
    for speaker, segs in per_speaker.items():
        segs.sort(key=lambda s: (s.start, s.end))
        cur_start, cur_end = segs[0].start, segs[0].end
        for seg in segs[1:]:
            gap = seg.start - cur_end
            if gap <= EPS or gap < pause_bridge - EPS:
                cur_end = max(cur_end, seg.end)
            else:
                out.append(Segment(cur_start, cur_end, speaker))
                cur_start, cur_end = seg.start, seg.end
        out.append(Segment(cur_start, cur_end, speaker))
    out.sort(key=lambda s: (s.start, s.speaker, s.end))
    return out


class _Index:
    """Per-speaker sorted talkspurts with their starts and ends, for bisection."""

    def __init__(self, spurts: list[Segment]) -> None:
        self.items: dict[str, list[int]] = defaultdict(list)
        for i, seg in enumerate(spurts):  # spurts are sorted by start
            self.items[seg.speaker].append(i)
        self.starts = {k: [spurts[i].start for i in v] for k, v in self.items.items()}
        self.ends = {k: [spurts[i].end for i in v] for k, v in self.items.items()}

    def last_starting_before(self, speaker: str, t: float) -> int | None:
        """Position (in the speaker's list) of their last talkspurt with start < t, or None."""
        j = bisect_left(self.starts[speaker], t - EPS) - 1
        return j if j >= 0 else None

    def last_ending_by(self, speaker: str, t: float) -> int | None:
        """Position of the speaker's last talkspurt with end <= t, or None."""
        j = bisect_right(self.ends[speaker], t + EPS) - 1
        return j if j >= 0 else None


@dataclass
class _Label:
    """What the rules say about one talkspurt."""

    backchannel_of: str | None = None
    kind: str | None = None  # "handover" | "interruption" | None (starts in silence or only inside a "mm-hm")
    of: str | None = None
    successful: bool | None = None


def _silent_backchannel_of(i: int, spurts: list[Segment], index: _Index, rules: Rules) -> str | None:
    """The speaker A whose pause talkspurt ``i`` (starting in silence) is a backchannel in, else None."""
    s = spurts[i]
    b = s.speaker
    best: tuple[float, str, int] | None = None
    tie = False
    for x in index.items:
        if x == b:
            continue
        j = index.last_ending_by(x, s.start)
        if j is None:
            continue
        end = index.ends[x][j]
        if best is None or end > best[0] + EPS:
            best, tie = (end, x, j), False
        elif abs(end - best[0]) <= EPS:
            tie = True
    if best is None or tie:
        return None
    prev_end, a, j = best
    if s.start - prev_end > rules.bc_gap + EPS:
        return None
    if j + 1 >= len(index.items[a]):
        return None
    next_start = index.starts[a][j + 1]
    if next_start - s.end > rules.bc_gap + EPS:
        return None
    for y in index.items:
        if y in (a, b):
            continue
        k = index.last_starting_before(y, next_start)
        if k is not None and index.ends[y][k] > prev_end + EPS:
            return None
    return a


def _classify(
    order: list[int], spurts: list[Segment], index: _Index, rank: dict[str, int], rules: Rules
) -> list[_Label]:
    """Apply the overlap and backchannel rules to every talkspurt, in order of start."""
    labels = [_Label() for _ in spurts]
    for i in order:
        s = spurts[i]
        container: int | None = None
        in_silence = True
        for x in index.items:
            if x == s.speaker:
                continue
            j = index.last_starting_before(x, s.start)
            if j is None:
                continue
            k = index.items[x][j]
            a = spurts[k]
            if a.end <= s.start + EPS:
                continue
            in_silence = False
            if labels[k].backchannel_of is not None:
                continue
            if container is None:
                container = k
            else:
                c = spurts[container]
                if (a.end, -a.start, -rank[a.speaker]) > (c.end, -c.start, -rank[c.speaker]):
                    container = k
        lab = labels[i]
        if container is not None:
            a = spurts[container]
            if s.duration < rules.bc_max - EPS and a.end >= s.end - EPS:
                lab.backchannel_of = a.speaker
            elif a.end - s.start < rules.handover_max - EPS:
                lab.kind, lab.of = "handover", a.speaker
            else:
                lab.kind, lab.of, lab.successful = "interruption", a.speaker, s.end > a.end + EPS
        elif in_silence and s.duration < rules.bc_max - EPS:
            lab.backchannel_of = _silent_backchannel_of(i, spurts, index, rules)
    return labels


def _silences(spurts: list[Segment], silence_min: float) -> list[Event]:
    """Stretches of at least ``silence_min`` s with nobody speaking, between first and last speech."""
    out: list[Event] = []
    if not spurts:
        return out
    covered_to = spurts[0].end
    for seg in spurts[1:]:  # sorted by start
        if seg.start - covered_to >= silence_min - EPS:
            out.append(Event("silence", covered_to, seg.start))
        covered_to = max(covered_to, seg.end)
    return out


def analyze_conversation(segments: Iterable[Segment], rules: Rules = DEFAULT_RULES) -> Conversation:
    """Apply every rule of DEFINITIONS.md to who-spoke-when segments.

    Parameters
    ----------
    segments : iterable of Segment
        Raw segments (any order); :func:`to_talkspurts` is applied first with ``rules.pause_bridge``.
    rules : Rules
        The five constants, seconds.

    Returns
    -------
    Conversation
        Talkspurts, events (sorted by start), turns and response gaps. Empty input gives an empty one.
    """
    spurts = to_talkspurts(segments, rules.pause_bridge)
    if not spurts:
        return Conversation()
    index = _Index(spurts)
    firsts = {spk: spurts[idx[0]] for spk, idx in index.items.items()}
    rank = {
        spk: r
        for r, spk in enumerate(sorted(firsts, key=lambda k: (firsts[k].start, -firsts[k].end, k)))
    }
    order = sorted(range(len(spurts)), key=lambda i: (spurts[i].start, -spurts[i].end, rank[spurts[i].speaker]))
    labels = _classify(order, spurts, index, rank, rules)

    events: list[Event] = []
    for i, lab in enumerate(labels):
        s = spurts[i]
        if lab.backchannel_of is not None:
            events.append(Event("backchannel", s.start, s.end, by=s.speaker, of=lab.backchannel_of))
        elif lab.kind == "interruption":
            events.append(Event("interruption", s.start, s.end, by=s.speaker, of=lab.of, successful=lab.successful))

    turns: list[Turn] = []
    gaps: list[ResponseGap] = []
    holder: str | None = None
    for i in order:
        s, lab = spurts[i], labels[i]
        if lab.backchannel_of is not None:
            continue
        if holder == s.speaker:
            t = turns[-1]
            turns[-1] = Turn(t.speaker, t.start, max(t.end, s.end), t.n_talkspurts + 1)
            continue
        if holder is not None:
            if lab.kind == "interruption" and not lab.successful:
                continue
            j = index.last_starting_before(holder, s.start + 2 * EPS)  # the holder's talkspurt at or before s
            if j is not None:
                h = spurts[index.items[holder][j]]
                if abs(h.start - s.start) <= EPS and h.end >= s.end - EPS and labels[index.items[holder][j]].backchannel_of is None:
                    continue  # started together with a holder's talkspurt that lasts at least as long
            j = index.last_starting_before(holder, s.start)
            last_end = index.ends[holder][j] if j is not None else turns[-1].end
            gaps.append(ResponseGap(s.start, holder, s.speaker, s.start - last_end))
            if not (lab.kind == "interruption" and lab.successful):
                events.append(
                    Event("handover", min(last_end, s.start), max(last_end, s.start), by=s.speaker, of=holder)
                )
        holder = s.speaker
        turns.append(Turn(s.speaker, s.start, s.end, 1))

    events.extend(_silences(spurts, rules.silence_min))
    type_order = {t: n for n, t in enumerate(EVENT_TYPES)}
    events.sort(key=lambda e: (e.start, e.end, type_order.get(e.type, 99), e.by or ""))
    return Conversation(talkspurts=spurts, events=events, turns=turns, response_gaps=gaps)
