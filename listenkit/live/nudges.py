"""Gentle nudges during a live session: rare, and only when a pattern clearly holds.

Studies of live feedback on conversations find that a dense dashboard distracts and that a sparse,
specific cue helps; so a nudge appears at most once every :attr:`NudgeRules.min_interval_s` (four
minutes by default), never in the first minute, and only for one of three patterns, each backed by
the numbers it quotes:

- **a long hold of the floor**: one turn has run for ``monologue_s`` (90 s) and is still going;
- **interruptions**: the same person came in while someone was talking ``interruptions`` (2) times
  within ``interruption_window_s`` (5 minutes), counting only interruptions since their last nudge;
- **a quiet participant**: someone who took part (``min_talk_s`` of talk) has not spoken for
  ``quiet_s`` (3 minutes) while the others talked for at least half of that time. Shared silence is
  never counted against anyone.

When the enrolled voice ("you") is known, nudges speak to you: about your own long turns and
interruptions, and about others who have gone quiet. The wording lives in :mod:`listenkit.wording`.
:class:`Nudger` is pure bookkeeping on a :class:`~listenkit.live.snapshot.LiveState`: no clock, no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .. import wording
from .snapshot import LiveState


@dataclass(frozen=True)
class NudgeRules:
    """When nudges appear (seconds unless stated)."""

    min_interval_s: float = 240.0
    warmup_s: float = 60.0
    monologue_s: float = 90.0
    interruptions: int = 2
    interruption_window_s: float = 300.0
    quiet_s: float = 180.0
    quiet_others_fraction: float = 0.5
    min_talk_s: float = 15.0
    ongoing_s: float = 2.0


@dataclass(frozen=True)
class Nudge:
    """A nudge shown at ``at_s`` seconds into the session."""

    at_s: float
    kind: str
    text: str


@dataclass
class Nudger:
    """Decides when a nudge is due.

    Parameters
    ----------
    rules : NudgeRules
    """

    rules: NudgeRules = field(default_factory=NudgeRules)
    given: list[Nudge] = field(default_factory=list)
    _seen: set = field(default_factory=set)
    _interruptions_since: dict = field(default_factory=dict)

    def check(self, state: LiveState) -> Nudge | None:
        """The nudge due now, if any (it is recorded in :attr:`given`)."""
        r = self.rules
        now = state.elapsed_s
        if now < r.warmup_s or (self.given and now - self.given[-1].at_s < r.min_interval_s):
            return None
        for finder in (self._monologue, self._interruptions, self._quiet):
            found = finder(state)
            if found is not None:
                kind, key, text = found
                self._seen.add(key)
                nudge = Nudge(now, kind, text)
                self.given.append(nudge)
                return nudge
        return None

    def _monologue(self, state: LiveState) -> tuple[str, tuple, str] | None:
        turns = state.conversation.turns
        if not turns:
            return None
        turn = turns[-1]
        key = ("monologue", turn.speaker, turn.start)
        ongoing = state.elapsed_s - turn.end <= self.rules.ongoing_s
        if key in self._seen or not ongoing or turn.duration < self.rules.monologue_s:
            return None
        if state.you is not None and turn.speaker != state.you:
            text = wording.nudge_monologue_other(state.names[turn.speaker], turn.duration)
        else:
            text = wording.nudge_monologue(state.names[turn.speaker], turn.duration, you=turn.speaker == state.you)
        return "monologue", key, text

    def _interruptions(self, state: LiveState) -> tuple[str, tuple, str] | None:
        r = self.rules
        by: dict[str, list[float]] = {}
        for ev in state.conversation.events:
            if ev.type != "interruption" or ev.by is None:
                continue
            if ev.start < state.elapsed_s - r.interruption_window_s:
                continue
            if ev.start <= self._interruptions_since.get(ev.by, -1.0):
                continue
            by.setdefault(ev.by, []).append(ev.start)
        for spk, starts in by.items():
            if state.you is not None and spk != state.you:
                continue  # only the user's own habits are theirs to change
            if len(starts) >= r.interruptions:
                self._interruptions_since[spk] = max(starts)
                text = wording.nudge_interruptions(state.names[spk], len(starts), r.interruption_window_s, you=spk == state.you)
                return "interruptions", ("interruptions", spk, max(starts)), text
        return None

    def _quiet(self, state: LiveState) -> tuple[str, tuple, str] | None:
        r = self.rules
        spurts = state.conversation.talkspurts
        talk: dict[str, float] = {}
        last_end: dict[str, float] = {}
        for s in spurts:
            talk[s.speaker] = talk.get(s.speaker, 0.0) + s.duration
            last_end[s.speaker] = max(last_end.get(s.speaker, 0.0), s.end)
        if len(talk) < 2:
            return None
        for spk, end in last_end.items():
            if spk == state.you or talk[spk] < r.min_talk_s:
                continue
            quiet = state.elapsed_s - end
            key = ("quiet", spk, end)
            if quiet < r.quiet_s or key in self._seen:
                continue
            others = _covered(s for s in spurts if s.speaker != spk and s.end > end)
            if _overlap_with(others, end, state.elapsed_s) < r.quiet_others_fraction * quiet:
                continue  # a shared silence, not someone left out
            return "quiet", key, wording.nudge_quiet(state.names[spk], quiet, you_known=state.you is not None)
        return None


def _covered(segments) -> list[tuple[float, float]]:
    """Union of segments as sorted disjoint (start, end) intervals."""
    out: list[list[float]] = []
    for s in sorted(segments, key=lambda x: x.start):
        if out and s.start <= out[-1][1]:
            out[-1][1] = max(out[-1][1], s.end)
        else:
            out.append([s.start, s.end])
    return [(a, b) for a, b in out]


def _overlap_with(intervals: list[tuple[float, float]], start: float, end: float) -> float:
    """Seconds of ``intervals`` inside ``[start, end]``."""
    return sum(max(0.0, min(b, end) - max(a, start)) for a, b in intervals)
