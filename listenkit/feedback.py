"""Gentle feedback: the metrics of one conversation in, a few short, kind, specific sentences out.

Pure: no I/O, no randomness; every sentence comes from :mod:`listenkit.wording` ("Feedback" section)
and is grounded in a number of the metrics. At most one sentence per topic, in this order: balance of
talk, longest monologue (only when notable), interruptions, backchannels (appreciative), silences
(appreciative: silence is never counted against anyone). Nothing is said about a topic with nothing
to say (no "0 backchannels" reproach).
"""

from __future__ import annotations

from typing import Any

from . import wording
from .session import SpeakerSummary

#: half-width of the balanced band around an even share 1/n, as a fraction of that share:
#: 0.30 gives 50% +- 15 points for two people, 33% +- 10 for three, 25% +- 7.5 for four
BALANCE_BAND_RELATIVE = 0.30

#: a turn longer than this (seconds) is worth mentioning as a long monologue
MONOLOGUE_NOTABLE_S = 90.0

#: the most sentences feedback gives
MAX_MESSAGES = 5


def balance_band(n_speakers: int) -> tuple[float, float, float]:
    """The even share and the balanced band for ``n_speakers`` people.

    Returns
    -------
    (fair, low, high) : tuple of float
        Even share 1/n and the band ``fair * (1 -+ BALANCE_BAND_RELATIVE)``, fractions 0..1.
    """
    fair = 1.0 / max(1, n_speakers)
    return fair, fair * (1 - BALANCE_BAND_RELATIVE), fair * (1 + BALANCE_BAND_RELATIVE)


def balance_state(share: float, n_speakers: int) -> str:
    """``"above"``, ``"below"`` or ``"balanced"``: a share against the band of :func:`balance_band`."""
    _, low, high = balance_band(n_speakers)
    if share > high + 1e-9:
        return "above"
    if share < low - 1e-9:
        return "below"
    return "balanced"


def _name(spk: SpeakerSummary) -> str:
    return spk.id


def _balance(talkers: list[SpeakerSummary], you: str | None) -> str:
    n = len(talkers)
    if n == 1:
        only = talkers[0]
        return wording.feedback_one_voice(_name(only), only.talk_time_s, you=only.id == you)
    fair, _, _ = balance_band(n)
    mine = next((s for s in talkers if s.id == you), None)
    if mine is not None:
        return wording.feedback_balance_you(mine.share, fair, balance_state(mine.share, n))
    parts = [(_name(s), s.share) for s in talkers]
    top = max(talkers, key=lambda s: s.share)
    if balance_state(top.share, n) == "above":
        return wording.feedback_balance_uneven(_name(top), top.share, fair, parts)
    if all(balance_state(s.share, n) == "balanced" for s in talkers):
        return wording.feedback_balance_even(parts, fair)
    return ""  # nobody clearly above, yet someone below the band (many speakers): nothing kind and specific to add


def feedback_messages(speakers: list[SpeakerSummary], metrics: dict[str, Any], *, you: str | None = None) -> list[str]:
    """A few kind, specific sentences about one conversation.

    Parameters
    ----------
    speakers : list of SpeakerSummary
        From :func:`listenkit.metrics.speaker_summaries` (talk time, seconds; share 0..1).
    metrics : dict
        From :func:`listenkit.metrics.compute_metrics`.
    you : str, optional
        Id of the enrolled speaker: sentences about them speak to the user ("You spoke ...").

    Returns
    -------
    list of str
        At most :data:`MAX_MESSAGES` sentences; exactly one ("no conversation was found") when nobody spoke.
    """
    talkers = [s for s in speakers if s.talk_time_s > 0]
    if not talkers or not metrics.get("speech_s"):
        return [wording.FEEDBACK_NO_CONVERSATION]
    if you is not None and you not in {s.id for s in talkers}:
        you = None  # the enrolled voice did not speak: talk about everybody
    per: dict[str, dict[str, Any]] = metrics.get("per_speaker") or {}
    out: list[str] = [_balance(talkers, you)]

    mono = metrics.get("longest_monologue")
    if mono and mono.get("duration_s", 0.0) > MONOLOGUE_NOTABLE_S:
        out.append(
            wording.feedback_monologue(mono["speaker"], mono["duration_s"], mono["start"], you=mono["speaker"] == you)
        )

    if len(talkers) > 1:
        if you is not None:
            made = int(per.get(you, {}).get("interruptions_made", 0))
            successful = int(per.get(you, {}).get("interruptions_made_successful", 0))
            out.append(
                wording.feedback_interruptions_you(made, successful) if made else wording.FEEDBACK_NO_INTERRUPTIONS_YOU
            )
        elif metrics.get("interruptions"):
            parts = [(spk, int(d.get("interruptions_made", 0))) for spk, d in per.items()]
            parts = sorted([p for p in parts if p[1] > 0], key=lambda p: -p[1])
            out.append(wording.feedback_interruptions_all(int(metrics["interruptions"]), parts))

    if you is not None:
        given = int(per.get(you, {}).get("backchannels_given", 0))
        if given:
            out.append(wording.feedback_backchannels_you(given))
    else:
        parts = [(spk, int(d.get("backchannels_given", 0))) for spk, d in per.items()]
        parts = sorted([p for p in parts if p[1] > 0], key=lambda p: -p[1])
        if parts:
            out.append(wording.feedback_backchannels_all(parts))

    if metrics.get("silences"):
        out.append(wording.feedback_silences(int(metrics["silences"]), float(metrics.get("longest_silence_s", 0.0))))
    return [m for m in out if m][:MAX_MESSAGES]
