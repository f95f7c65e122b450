"""What the live view shows at one moment, computed by the same rules as the final report.

The online speaker labels (:class:`~listenkit.live.online.OnlineSpeakers`) become segments, and the
segments go through exactly the functions :func:`listenkit.pipeline.build_session` uses
(:func:`~listenkit.conversation.analyze_conversation`, :func:`~listenkit.metrics.compute_metrics`,
:func:`~listenkit.metrics.speaker_summaries`), so a live figure and a final one differ only by who
was heard speaking, never by how it is counted.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .. import wording
from ..conversation import Conversation, analyze_conversation
from ..features import FRAME_S
from ..metrics import compute_metrics, speaker_summaries
from ..params import DEFAULT_RULES, Rules
from ..timeline import Segment
from .online import OnlineSpeakers


@dataclass(frozen=True)
class LiveSpeaker:
    """One speaker on the live view.

    Attributes
    ----------
    id : str
        ``"S1"``, ``"S2"``, ... (the live numbering; the final report numbers speakers afresh).
    name : str
        How the view calls them (``"you"`` for the enrolled voice).
    talk_s : float
        Talk time so far, seconds.
    share : float
        Share of all talk so far, 0..1.
    """

    id: str
    name: str
    talk_s: float
    share: float


@dataclass(frozen=True)
class LiveSnapshot:
    """Everything the view draws.

    Attributes
    ----------
    elapsed_s : float
        Length of the session so far, seconds.
    speakers : list of LiveSpeaker
    talking : str or None
        Name of the speaker talking now, None in a pause.
    interruptions, backchannels : int
        Counts so far.
    longest_monologue : (str, float) or None
        Who held the floor longest so far and for how long (seconds).
    overflows : int
        Input overflows so far.
    nudge : str or None
        A nudge to show now.
    """

    elapsed_s: float = 0.0
    speakers: list[LiveSpeaker] = field(default_factory=list)
    talking: str | None = None
    interruptions: int = 0
    backchannels: int = 0
    longest_monologue: tuple[str, float] | None = None
    overflows: int = 0
    nudge: str | None = None


@dataclass
class LiveState:
    """The conversation so far as the live path sees it (for the view and the nudges)."""

    conversation: Conversation
    metrics: dict[str, Any]
    names: dict[str, str]
    you: str | None
    elapsed_s: float


def speaker_id(index: int) -> str:
    """Live id of online speaker ``index`` (0-based): ``"S1"``, ``"S2"``, ..."""
    return f"S{index + 1}"


def segments_from_labels(labels: np.ndarray) -> list[Segment]:
    """Segments from per-frame speaker indices (negative = nobody), one pass over the frames.

    Equal to :func:`listenkit.timeline.segments_from_frames` of the matching one-hot activity, but
    its temporaries are a few bytes per frame whatever the number of speakers (this runs every second
    or so on the whole session, so its scratch memory is what the allocator keeps).

    Parameters
    ----------
    labels : ndarray of int, shape (n_frames,)
        Speaker index of each 10 ms frame.
    """
    lab = np.asarray(labels)
    if lab.size == 0:
        return []
    change = np.flatnonzero(lab[1:] != lab[:-1]) + 1
    starts = np.concatenate(([0], change))
    ends = np.concatenate((change, [lab.size]))
    who = lab[starts]
    keep = who >= 0
    out = [
        Segment(round(float(a) * FRAME_S, 3), round(float(b) * FRAME_S, 3), speaker_id(int(k)))
        for a, b, k in zip(starts[keep], ends[keep], who[keep])
    ]
    out.sort(key=lambda seg: (seg.start, seg.speaker))
    return out


def live_state(online: OnlineSpeakers, *, elapsed_s: float, rules: Rules = DEFAULT_RULES, you: int | None = None) -> LiveState:
    """Run the conversation rules on the online labels so far.

    Parameters
    ----------
    online : OnlineSpeakers
    elapsed_s : float
        Length of the session so far, seconds.
    you : int, optional
        Online speaker index of the enrolled voice.
    """
    segments = segments_from_labels(online.labels())
    ids = [speaker_id(k) for k in range(max(online.n_speakers, 1 if segments else 0))]
    conv = analyze_conversation(segments, rules)
    metrics = compute_metrics(conv, elapsed_s)
    you_id = speaker_id(you) if you is not None and you < len(ids) else None
    names = {i: wording.speaker_name(i, "you" if i == you_id else None) for i in ids}
    return LiveState(conv, metrics, names, you_id, elapsed_s)


def snapshot_of(state: LiveState, *, elapsed_s: float, talking: int | None, overflows: int, nudge: str | None) -> LiveSnapshot:
    """The view's snapshot from a :class:`LiveState` (possibly a little older than ``elapsed_s``)."""
    summaries = speaker_summaries(state.conversation.talkspurts, list(state.names), None)
    talking_id = speaker_id(talking) if talking is not None else None
    speakers = [  # a speaker the refinement emptied is not shown (unless talking right now)
        LiveSpeaker(s.id, state.names.get(s.id, s.id), s.talk_time_s, s.share)
        for s in summaries
        if s.talk_time_s > 0 or s.id == talking_id
    ]
    mono = state.metrics.get("longest_monologue")
    longest = (state.names.get(mono["speaker"], mono["speaker"]), float(mono["duration_s"])) if mono else None
    return LiveSnapshot(
        elapsed_s=elapsed_s,
        speakers=speakers,
        talking=wording.speaker_name(talking_id, "you" if talking_id == state.you else None) if talking_id else None,
        interruptions=int(state.metrics.get("interruptions", 0)),
        backchannels=int(state.metrics.get("backchannels", 0)),
        longest_monologue=longest,
        overflows=overflows,
        nudge=nudge,
    )
