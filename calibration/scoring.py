"""How well a hypothesis (listenkit's talkspurts and events) matches a reference.

All functions are pure and work on :class:`listenkit.timeline.Segment` lists and
:class:`listenkit.session.Event` lists; times in seconds. The reference's events come from the same
rules (:func:`listenkit.conversation.analyze_conversation`) applied to the reference segments.

Metrics (per file; :func:`aggregate` pools them over files):

- **DER** (pyannote.metrics, overlap scored, ``skip_overlap=False``) against the reference talkspurts,
  with a forgiveness collar of +/- 0.25 s around reference boundaries (pyannote ``collar=0.5``, its
  collar being the total width) and without collar; components missed / false alarm / confusion in
  seconds. Pooled DER = sum of errors / sum of reference speech.
- **Speaker mapping**: hypothesis to reference speakers one-to-one, maximising total overlap time
  (:func:`scipy.optimize.linear_sum_assignment`); unmatched speakers map to nobody.
- **Talk-share error**: for every speaker |hypothesis share - reference share| in percentage points
  after the mapping (an unmatched speaker counts against a share of 0); the file's figure is the max.
- **Event F1** per type, one-to-one matching of onsets (Hungarian, nearest first) within a tolerance and
  with the same speakers after the mapping: interruption 1.0 s, same ``by`` and ``of``; backchannel
  0.75 s, same ``by``; silence 1.0 s; handover (floor change that is not an interruption) 1.0 s, same
  ``by`` and ``of``.
- **Response gap**: floor changes are matched like handovers (new holder's turn start within 1.0 s,
  same incoming speaker); the error is the median over matched changes of |gap_hyp - gap_ref|; the
  bias is median(gap_hyp - gap_ref) over the same pairs.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any, Iterable, Sequence

import numpy as np
from scipy.optimize import linear_sum_assignment

from listenkit.session import Event
from listenkit.timeline import Segment

#: event type -> (onset tolerance in seconds, fields that must agree after speaker mapping)
EVENT_RULES: dict[str, tuple[float, tuple[str, ...]]] = {
    "interruption": (1.0, ("by", "of")),
    "backchannel": (0.75, ("by",)),
    "silence": (1.0, ()),
    "handover": (1.0, ("by", "of")),
}
FLOOR_TOLERANCE_S = 1.0
#: pyannote collars: total width in seconds (0.5 = +/- 0.25 s around each reference boundary)
COLLARS = {"der": 0.5, "der_nocollar": 0.0}
UNMATCHED = "<unmatched>"


# --------------------------------------------------------------------------------------------- mapping
def _by_speaker(segments: Iterable[Segment]) -> dict[str, list[tuple[float, float]]]:
    out: dict[str, list[tuple[float, float]]] = defaultdict(list)
    for g in segments:
        out[g.speaker].append((g.start, g.end))
    for v in out.values():
        v.sort()
    return dict(out)


def _intersection(a: list[tuple[float, float]], b: list[tuple[float, float]]) -> float:
    """Total overlap (seconds) of two sorted interval lists (each may overlap itself: merged first)."""

    def merged(x: list[tuple[float, float]]) -> list[tuple[float, float]]:
        out: list[list[float]] = []
        for s, e in x:
            if out and s <= out[-1][1]:
                out[-1][1] = max(out[-1][1], e)
            else:
                out.append([s, e])
        return [(s, e) for s, e in out]

    a, b = merged(a), merged(b)
    i = j = 0
    total = 0.0
    while i < len(a) and j < len(b):
        lo, hi = max(a[i][0], b[j][0]), min(a[i][1], b[j][1])
        if hi > lo:
            total += hi - lo
        if a[i][1] < b[j][1]:
            i += 1
        else:
            j += 1
    return total


def overlap_matrix(
    ref: Sequence[Segment], hyp: Sequence[Segment]
) -> tuple[list[str], list[str], np.ndarray]:
    """Overlap time between every reference and hypothesis speaker.

    Returns
    -------
    ref_labels, hyp_labels : list of str
        Sorted speaker labels.
    matrix : ndarray, shape (n_ref, n_hyp)
        Seconds during which both speak.
    """
    r, h = _by_speaker(ref), _by_speaker(hyp)
    rl, hl = sorted(r), sorted(h)
    m = np.array([[_intersection(r[a], h[b]) for b in hl] for a in rl]).reshape(len(rl), len(hl))
    return rl, hl, m


def optimal_mapping(ref: Sequence[Segment], hyp: Sequence[Segment]) -> dict[str, str]:
    """One-to-one hypothesis -> reference speaker mapping maximising total overlap time.

    Pairs with no overlap at all are not mapped.

    Returns
    -------
    dict
        hypothesis label -> reference label.
    """
    rl, hl, m = overlap_matrix(ref, hyp)
    if m.size == 0:
        return {}
    rows, cols = linear_sum_assignment(m, maximize=True)
    return {hl[c]: rl[r] for r, c in zip(rows, cols) if m[r, c] > 0}


def apply_mapping(label: str | None, mapping: dict[str, str]) -> str | None:
    """A hypothesis label in reference terms (unmatched ones get a prefix that matches nothing)."""
    if label is None:
        return None
    return mapping.get(label, f"{UNMATCHED}{label}")


# ----------------------------------------------------------------------------------------------- shares
def talk_shares(talkspurts: Iterable[Segment]) -> dict[str, float]:
    """Share of each speaker: talk time / sum of talk times (DEFINITIONS.md); empty -> {}."""
    talk: dict[str, float] = defaultdict(float)
    for g in talkspurts:
        talk[g.speaker] += g.duration
    total = sum(talk.values())
    return {k: v / total for k, v in talk.items()} if total > 0 else {}


def share_errors(ref_spurts: Sequence[Segment], hyp_spurts: Sequence[Segment], mapping: dict[str, str]) -> dict[str, Any]:
    """Talk-share errors in percentage points after the mapping.

    Returns
    -------
    dict
        ``max_pp`` (largest error over all speakers), ``mean_pp`` (mean over the speakers counted),
        ``per_speaker`` (reference label, or the unmatched hypothesis label -> signed error hyp - ref, pp).
    """
    r, h = talk_shares(ref_spurts), talk_shares(hyp_spurts)
    err: dict[str, float] = {}
    mapped = {v: k for k, v in mapping.items()}  # ref -> hyp
    for spk, share in r.items():
        err[spk] = 100.0 * (h.get(mapped.get(spk, ""), 0.0) - share)
    for spk, share in h.items():
        if spk not in mapping:
            err[f"{UNMATCHED}{spk}"] = 100.0 * share
    values = [abs(v) for v in err.values()]
    return {
        "max_pp": max(values) if values else 0.0,
        "mean_pp": float(np.mean(values)) if values else 0.0,
        "per_speaker": {k: round(v, 2) for k, v in err.items()},
    }


def speech_recall(ref_spurts: Sequence[Segment], hyp_spurts: Sequence[Segment]) -> dict[str, list[float]]:
    """How much of each reference speaker's talk the hypothesis covers with anyone's speech.

    Returns
    -------
    dict
        reference label -> [covered seconds, talk seconds] (a voice-activity diagnostic: which voices
        the analysis does not hear, whoever it attributes them to).
    """
    hyp_all = sorted((g.start, g.end) for g in hyp_spurts)
    out = {}
    for spk, iv in _by_speaker(ref_spurts).items():
        out[spk] = [round(_intersection(iv, hyp_all), 3), round(sum(e - s for s, e in iv), 3)]
    return out


# ----------------------------------------------------------------------------------------------- events
def match_onsets(ref_t: Sequence[float], hyp_t: Sequence[float], tolerance: float, same: np.ndarray | None = None) -> list[tuple[int, int]]:
    """One-to-one matching of onsets within ``tolerance`` seconds, as many pairs as possible, nearest first.

    Parameters
    ----------
    ref_t, hyp_t : sequence of float
        Onsets, seconds.
    tolerance : float
        Largest allowed |difference|, seconds (inclusive).
    same : ndarray of bool, shape (n_ref, n_hyp), optional
        Whether each pair may match at all (same speakers).

    Returns
    -------
    list of (int, int)
        Matched (reference index, hypothesis index) pairs.
    """
    if not len(ref_t) or not len(hyp_t):
        return []
    d = np.abs(np.subtract.outer(np.asarray(ref_t, float), np.asarray(hyp_t, float)))
    ok = d <= tolerance + 1e-9
    if same is not None:
        ok &= same
    if not ok.any():
        return []
    big = 1e6 * (1.0 + tolerance)
    cost = np.where(ok, d, big)
    rows, cols = linear_sum_assignment(cost)
    return [(int(r), int(c)) for r, c in zip(rows, cols) if ok[r, c]]


def prf(tp: int, fp: int, fn: int) -> dict[str, Any]:
    """Precision, recall, F1 (None when undefined: nothing to find and nothing found)."""
    p = tp / (tp + fp) if tp + fp else None
    r = tp / (tp + fn) if tp + fn else None
    if tp + fp + fn == 0:
        f = None
    else:
        f = 2 * tp / (2 * tp + fp + fn)
    return {"tp": tp, "fp": fp, "fn": fn, "precision": p, "recall": r, "f1": f}


def event_scores(ref_events: Sequence[Event], hyp_events: Sequence[Event], mapping: dict[str, str]) -> dict[str, Any]:
    """F1 per event type (:data:`EVENT_RULES`); interruptions also count agreeing ``successful`` flags."""
    out: dict[str, Any] = {}
    for kind, (tol, keys) in EVENT_RULES.items():
        r = [e for e in ref_events if e.type == kind]
        h = [e for e in hyp_events if e.type == kind]
        same = np.ones((len(r), len(h)), dtype=bool)
        for key in keys:
            rk = [getattr(e, key) for e in r]
            hk = [apply_mapping(getattr(e, key), mapping) for e in h]
            same &= np.array([[a == b for b in hk] for a in rk], dtype=bool).reshape(len(r), len(h))
        pairs = match_onsets([e.start for e in r], [e.start for e in h], tol, same)
        scores = prf(len(pairs), len(h) - len(pairs), len(r) - len(pairs))
        if kind == "interruption":
            scores["same_outcome"] = sum(r[i].successful == h[j].successful for i, j in pairs)
        out[kind] = scores
    return out


def response_gap_scores(ref_gaps: Sequence[Any], hyp_gaps: Sequence[Any], mapping: dict[str, str]) -> dict[str, Any]:
    """Compare floor changes (:class:`listenkit.conversation.ResponseGap`: time, from/to speaker, gap_s).

    Returns
    -------
    dict
        ``floor_changes`` (P/R/F1 of the floor changes, matched within 1.0 s with the same incoming
        speaker), ``median_abs_error_s`` and ``median_bias_s`` over matched pairs (None when none),
        ``median_ref_s`` / ``median_hyp_s`` over all changes, and ``pairs`` (list of [gap_ref, gap_hyp]).
    """
    rt = [g.to_speaker for g in ref_gaps]
    ht = [apply_mapping(g.to_speaker, mapping) for g in hyp_gaps]
    same = np.array([[a == b for b in ht] for a in rt], dtype=bool).reshape(len(rt), len(ht))
    pairs = match_onsets([g.time for g in ref_gaps], [g.time for g in hyp_gaps], FLOOR_TOLERANCE_S, same)
    diffs = [hyp_gaps[j].gap_s - ref_gaps[i].gap_s for i, j in pairs]
    return {
        "floor_changes": prf(len(pairs), len(hyp_gaps) - len(pairs), len(ref_gaps) - len(pairs)),
        "median_abs_error_s": float(np.median(np.abs(diffs))) if diffs else None,
        "median_bias_s": float(np.median(diffs)) if diffs else None,
        "median_ref_s": float(np.median([g.gap_s for g in ref_gaps])) if ref_gaps else None,
        "median_hyp_s": float(np.median([g.gap_s for g in hyp_gaps])) if hyp_gaps else None,
        "pairs": [[round(ref_gaps[i].gap_s, 3), round(hyp_gaps[j].gap_s, 3)] for i, j in pairs],
    }


# -------------------------------------------------------------------------------------------------- DER
def _annotation(segments: Iterable[Segment]):
    from pyannote.core import Annotation
    from pyannote.core import Segment as PSegment

    ann = Annotation()
    for i, g in enumerate(segments):
        if g.end > g.start:
            ann[PSegment(g.start, g.end), i] = g.speaker
    return ann


def der_components(ref: Sequence[Segment], hyp: Sequence[Segment], duration_s: float, collar: float) -> dict[str, float]:
    """pyannote DER components (seconds) over ``[0, duration_s]``.

    Parameters
    ----------
    collar : float
        pyannote collar: total width (seconds) removed around every reference boundary.

    Returns
    -------
    dict
        ``total`` (scored reference speech), ``missed``, ``false_alarm``, ``confusion``, ``der``
        (None when there is no reference speech).
    """
    from pyannote.core import Segment as PSegment
    from pyannote.core import Timeline
    from pyannote.metrics.diarization import DiarizationErrorRate

    metric = DiarizationErrorRate(collar=collar, skip_overlap=False)
    end = max([duration_s] + [g.end for g in ref] + [g.end for g in hyp])
    uem = Timeline([PSegment(0.0, end)])
    c = metric(_annotation(ref), _annotation(hyp), uem=uem, detailed=True)
    total = float(c["total"])
    out = {
        "total": total,
        "missed": float(c["missed detection"]),
        "false_alarm": float(c["false alarm"]),
        "confusion": float(c["confusion"]),
    }
    out["der"] = (out["missed"] + out["false_alarm"] + out["confusion"]) / total if total > 0 else None
    return out


# ----------------------------------------------------------------------------------------------- a file
def score_file(
    ref_conv: Any,
    hyp_segments: Sequence[Segment],
    hyp_events: Sequence[Event],
    hyp_conv: Any,
    duration_s: float,
    n_hyp_speakers: int | None = None,
) -> dict[str, Any]:
    """Every metric for one file.

    Parameters
    ----------
    ref_conv : listenkit.conversation.Conversation
        The rules applied to the reference segments.
    hyp_segments : sequence of Segment
        The hypothesis talkspurts (``session.segments``).
    hyp_events : sequence of Event
        The hypothesis events (``session.events``).
    hyp_conv : listenkit.conversation.Conversation
        The rules applied to ``hyp_segments`` (for floor changes / response gaps).
    duration_s : float
        Length of the recording, seconds.
    n_hyp_speakers : int, optional
        Speaker count the analysis reports; default: distinct labels of ``hyp_segments``.
    """
    ref = ref_conv.talkspurts
    mapping = optimal_mapping(ref, hyp_segments)
    n_ref = len({g.speaker for g in ref})
    n_hyp = n_hyp_speakers if n_hyp_speakers is not None else len({g.speaker for g in hyp_segments})
    return {
        "duration_s": round(duration_s, 3),
        "n_speakers_ref": n_ref,
        "n_speakers_hyp": n_hyp,
        "mapping": mapping,
        **{name: der_components(ref, hyp_segments, duration_s, c) for name, c in COLLARS.items()},
        "share": share_errors(ref, hyp_segments, mapping),
        "speech_recall": speech_recall(ref, hyp_segments),
        "events": event_scores(ref_conv.events, hyp_events, mapping),
        "response_gap": response_gap_scores(ref_conv.response_gaps, hyp_conv.response_gaps, mapping),
    }


def aggregate(files: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Pool per-file scores (files with an ``error`` key are skipped and counted).

    Returns
    -------
    dict
        Pooled DER and components, share error (mean / median / max of the per-file max), speaker
        count accuracy, speech recall of the user (near, dry voice) and of the others where files name
        their ``user_speaker``, pooled event P/R/F1 per type, pooled response-gap error and bias.
    """
    ok = [f for f in files if "error" not in f]
    out: dict[str, Any] = {"n_files": len(files), "n_failed": len(files) - len(ok)}
    if not ok:
        return out
    for name in COLLARS:
        comp = {k: sum(f[name][k] for f in ok) for k in ("total", "missed", "false_alarm", "confusion")}
        t = comp["total"]
        comp.update({f"{k}_rate": comp[k] / t if t else None for k in ("missed", "false_alarm", "confusion")})
        comp["der"] = (comp["missed"] + comp["false_alarm"] + comp["confusion"]) / t if t else None
        ders = [f[name]["der"] for f in ok if f[name]["der"] is not None]
        comp["der_file_mean"] = float(np.mean(ders)) if ders else None
        out[name] = comp
    mx = [f["share"]["max_pp"] for f in ok]
    out["share"] = {"mean_max_pp": float(np.mean(mx)), "median_max_pp": float(np.median(mx)), "max_pp": float(np.max(mx))}
    diff = [f["n_speakers_hyp"] - f["n_speakers_ref"] for f in ok]
    out["speaker_count"] = {
        "accuracy": float(np.mean([d == 0 for d in diff])),
        "mean_abs_error": float(np.mean(np.abs(diff))),
        "over": int(sum(d > 0 for d in diff)),
        "under": int(sum(d < 0 for d in diff)),
    }
    recall = {"user": [0.0, 0.0], "others": [0.0, 0.0]}
    for f in ok:
        for spk, (cov, tot) in f.get("speech_recall", {}).items():
            if f.get("user_speaker") is None:
                continue
            key = "user" if spk == f["user_speaker"] else "others"
            recall[key][0] += cov
            recall[key][1] += tot
    out["speech_recall"] = {k: (c / t if t else None) for k, (c, t) in recall.items()}
    events: dict[str, Any] = {}
    for kind in EVENT_RULES:
        tp, fp, fn = (sum(f["events"][kind][k] for f in ok) for k in ("tp", "fp", "fn"))
        events[kind] = prf(tp, fp, fn)
        if kind == "interruption":
            events[kind]["same_outcome"] = sum(f["events"][kind]["same_outcome"] for f in ok)
    out["events"] = events
    pairs = [p for f in ok for p in f["response_gap"]["pairs"]]
    d = [h - r for r, h in pairs]
    tp, fp, fn = (sum(f["response_gap"]["floor_changes"][k] for f in ok) for k in ("tp", "fp", "fn"))
    out["response_gap"] = {
        "floor_changes": prf(tp, fp, fn),
        "median_abs_error_s": float(np.median(np.abs(d))) if d else None,
        "median_bias_s": float(np.median(d)) if d else None,
    }
    out["loud_background"] = _caveat_check(ok)
    return out


def _caveat_check(files: Sequence[dict[str, Any]]) -> dict[str, Any] | None:
    """How the files with the loud-background caveat (:mod:`listenkit.recording_quality`) fared:
    their count and talk-share error (median, and how many over 5 points) against the others."""
    known = [f for f in files if isinstance(f.get("quality"), dict)]
    if not known:
        return None
    out: dict[str, Any] = {}
    for key, flagged in (("shown", True), ("not_shown", False)):
        errors = [f["share"]["max_pp"] for f in known if bool(f["quality"].get("loud_background")) == flagged]
        out[key] = {"files": len(errors), "share_median_pp": float(np.median(errors)) if errors else None,
                    "share_over_5pp": int(sum(e > 5 for e in errors))}
    return out
