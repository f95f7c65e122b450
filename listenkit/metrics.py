"""Numbers about a conversation: talk time and share per speaker, event counts, silences, turns, gaps.

Every figure follows from the talkspurts and events of :mod:`listenkit.conversation` by the rules of
DEFINITIONS.md, and is built from additive components (sums of durations, counts), so a snapshot of a
conversation still going and the final report are the same computation. Results are plain Python
(dict, list, float, int, str, None): ready for ``json.dumps``. Times are seconds, rounded to 1 ms;
shares are fractions 0..1 rounded to 4 decimals.
"""

from __future__ import annotations

from typing import Any, Iterable, Sequence

import numpy as np

from .conversation import Conversation
from .session import SpeakerSummary
from .timeline import Segment

_NDIGITS_S = 3
_NDIGITS_SHARE = 4


def _r(seconds: float) -> float:
    return round(float(seconds), _NDIGITS_S)


def talk_times(talkspurts: Iterable[Segment]) -> dict[str, float]:
    """Total talkspurt length per speaker, seconds, in order of first speech."""
    out: dict[str, float] = {}
    for seg in sorted(talkspurts, key=lambda s: (s.start, s.speaker)):
        out[seg.speaker] = out.get(seg.speaker, 0.0) + seg.duration
    return out


def speaker_summaries(
    talkspurts: Iterable[Segment],
    speaker_ids: Sequence[str] | None = None,
    labels: dict[str, str] | None = None,
) -> list[SpeakerSummary]:
    """Talk time and share of every speaker.

    Parameters
    ----------
    talkspurts : iterable of Segment
        The talkspurts (``Conversation.talkspurts``).
    speaker_ids : sequence of str, optional
        The speakers to list, in this order, even those who never spoke (talk time 0, share 0).
        A speaker who spoke but is not listed is added after them (talk is never lost).
        Default: the speakers who spoke, in order of first speech.
    labels : dict, optional
        id -> label (``"you"`` for the enrolled voice); others get None.

    Returns
    -------
    list of SpeakerSummary
        Shares sum to 1 when anyone spoke; all shares are 0 when nobody did.
    """
    times = talk_times(talkspurts)
    ids = list(dict.fromkeys(speaker_ids)) if speaker_ids is not None else []
    ids += [spk for spk in times if spk not in ids]
    total = sum(times.values())
    labels = labels or {}
    return [
        SpeakerSummary(
            id=spk,
            label=labels.get(spk),
            talk_time_s=times.get(spk, 0.0),
            share=times.get(spk, 0.0) / total if total > 0 else 0.0,
        )
        for spk in ids
    ]


def _coverage(talkspurts: Sequence[Segment]) -> tuple[float, float]:
    """(time at least one speaker talks, time at least two talk), seconds, by a sweep over edges."""
    edges = sorted([(s.start, 1) for s in talkspurts] + [(s.end, -1) for s in talkspurts])
    speech = overlap = 0.0
    active = 0
    last = 0.0
    for t, step in edges:
        if active >= 1:
            speech += t - last
        if active >= 2:
            overlap += t - last
        active += step
        last = t
    return speech, overlap


def _gap_stats(gaps: Sequence[float]) -> dict[str, Any]:
    if not gaps:
        return {"count": 0, "median_s": None, "mean_s": None, "p90_s": None}
    arr = np.asarray(gaps, dtype=float)
    return {
        "count": int(arr.size),
        "median_s": _r(np.median(arr)),
        "mean_s": _r(arr.mean()),
        "p90_s": _r(np.percentile(arr, 90)),
    }


def compute_metrics(conv: Conversation, duration_s: float) -> dict[str, Any]:
    """All the numbers of one conversation, as a JSON-ready dict.

    Parameters
    ----------
    conv : Conversation
        The result of :func:`listenkit.conversation.analyze_conversation`.
    duration_s : float
        Length of the recording, seconds.

    Returns
    -------
    dict
        ``duration_s``
            Length of the recording, s.
        ``speech_s``
            Time in which at least one person speaks, s.
        ``overlap_s``
            Time in which two or more people speak at once, s.
        ``talk_time_total_s``
            Sum of all speakers' talk times, s (overlap counted for each speaker; the share denominator).
        ``n_speakers``
            Number of speakers who spoke.
        ``per_speaker``
            id -> dict, in order of first speech, with ``talk_time_s`` (s), ``share`` (0..1, sums to 1),
            ``talkspurts`` (count), ``turns`` (floor holds), ``longest_turn_s`` (s, 0 without a turn),
            ``interruptions_made``, ``interruptions_made_successful``, ``interruptions_received``,
            ``backchannels_given``, ``backchannels_received``, ``handovers_taken`` (floor taken by handover).
        ``interruptions``, ``interruptions_successful``, ``backchannels``, ``handovers``, ``silences``
            Event counts.
        ``silence_total_s``, ``longest_silence_s``
            Total and longest silence, s (0 without silences).
        ``turns``
            Number of turns.
        ``longest_monologue``
            The longest turn as ``{"speaker", "start", "end", "duration_s"}`` (s), or None without turns.
        ``response_gap``
            Floor transfer offsets: ``{"count", "median_s", "mean_s", "p90_s"}`` (s; None when count is 0).
    """
    spurts = conv.talkspurts
    times = talk_times(spurts)
    total = sum(times.values())
    speech, overlap = _coverage(spurts)

    per: dict[str, dict[str, Any]] = {}
    for spk, t in times.items():
        per[spk] = {
            "talk_time_s": _r(t),
            "share": round(t / total, _NDIGITS_SHARE) if total > 0 else 0.0,
            "talkspurts": 0,
            "turns": 0,
            "longest_turn_s": 0.0,
            "interruptions_made": 0,
            "interruptions_made_successful": 0,
            "interruptions_received": 0,
            "backchannels_given": 0,
            "backchannels_received": 0,
            "handovers_taken": 0,
        }

    def bump(spk: str | None, key: str) -> None:
        if spk is not None and spk in per:
            per[spk][key] += 1

    for seg in spurts:
        bump(seg.speaker, "talkspurts")
    for turn in conv.turns:
        bump(turn.speaker, "turns")
        if turn.speaker in per:
            per[turn.speaker]["longest_turn_s"] = max(per[turn.speaker]["longest_turn_s"], _r(turn.duration))

    counts = {t: 0 for t in ("interruption", "backchannel", "handover", "silence")}
    n_successful = 0
    silence_durations: list[float] = []
    for ev in conv.events:
        counts[ev.type] = counts.get(ev.type, 0) + 1
        if ev.type == "interruption":
            bump(ev.by, "interruptions_made")
            bump(ev.of, "interruptions_received")
            if ev.successful:
                n_successful += 1
                bump(ev.by, "interruptions_made_successful")
        elif ev.type == "backchannel":
            bump(ev.by, "backchannels_given")
            bump(ev.of, "backchannels_received")
        elif ev.type == "handover":
            bump(ev.by, "handovers_taken")
        elif ev.type == "silence":
            silence_durations.append(ev.end - ev.start)

    longest = max(conv.turns, key=lambda t: (t.duration, -t.start), default=None)
    return {
        "duration_s": _r(duration_s),
        "speech_s": _r(speech),
        "overlap_s": _r(overlap),
        "talk_time_total_s": _r(total),
        "n_speakers": len(times),
        "per_speaker": per,
        "interruptions": counts["interruption"],
        "interruptions_successful": n_successful,
        "backchannels": counts["backchannel"],
        "handovers": counts["handover"],
        "silences": counts["silence"],
        "silence_total_s": _r(sum(silence_durations)),
        "longest_silence_s": _r(max(silence_durations, default=0.0)),
        "turns": len(conv.turns),
        "longest_monologue": None
        if longest is None
        else {
            "speaker": longest.speaker,
            "start": _r(longest.start),
            "end": _r(longest.end),
            "duration_s": _r(longest.duration),
        },
        "response_gap": _gap_stats([g.gap_s for g in conv.response_gaps]),
    }
