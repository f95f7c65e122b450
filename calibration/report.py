"""Markdown tables of evaluation results (the ``results.md`` that :mod:`calibration.evaluate` writes)."""

from __future__ import annotations

from typing import Any

from .scoring import EVENT_RULES


def _pct(x: float | None, digits: int = 1) -> str:
    return "–" if x is None else f"{100 * x:.{digits}f}"


def _num(x: float | None, digits: int = 2) -> str:
    return "–" if x is None else f"{x:.{digits}f}"


def _f1(scores: dict[str, Any]) -> str:
    """``F1 (tp/ref)``, or – when there was nothing to find and nothing was found."""
    if scores["f1"] is None:
        return "–"
    return f"{scores['f1']:.2f} ({scores['tp']}/{scores['tp'] + scores['fn']})"


def overall_markdown(results: dict[str, Any]) -> str:
    """The overall figures as a two-column table."""
    o = results["overall"]
    given = "given" if results.get("speakers_given") else "estimated"
    lines = [
        f"**{results.get('manifest', '')}**: {o['n_files']} files, {o['n_failed']} failed; speaker count {given}; "
        f"commit {results.get('commit') or '?'}",
        "",
        "| measure | value |",
        "|---|---|",
    ]
    if "der" not in o:
        return "\n".join(lines + ["| (no file analysed) | |"]) + "\n"
    d, d0 = o["der"], o["der_nocollar"]
    lines += [
        f"| DER, collar ±0.25 s (pooled / mean of files) | {_pct(d['der'])} % / {_pct(d['der_file_mean'])} % |",
        f"| – missed / false alarm / confusion | {_pct(d['missed_rate'])} / {_pct(d['false_alarm_rate'])} / {_pct(d['confusion_rate'])} % |",
        f"| DER, no collar | {_pct(d0['der'])} % |",
        f"| – missed / false alarm / confusion | {_pct(d0['missed_rate'])} / {_pct(d0['false_alarm_rate'])} / {_pct(d0['confusion_rate'])} % |",
        f"| talk-share error, max over speakers (mean / median / worst file) | {_num(o['share']['mean_max_pp'], 1)} / "
        f"{_num(o['share']['median_max_pp'], 1)} / {_num(o['share']['max_pp'], 1)} pp |",
        f"| speaker count right | {_pct(o['speaker_count']['accuracy'], 0)} % (over {o['speaker_count']['over']}, "
        f"under {o['speaker_count']['under']}, mean abs error {_num(o['speaker_count']['mean_abs_error'])}) |",
    ]
    rec = o.get("speech_recall", {})
    if rec.get("user") is not None:
        lines.append(
            f"| speech heard (covered by any hypothesis speech): user (near) / others (far) | "
            f"{_pct(rec['user'])} / {_pct(rec['others'])} % |"
        )
    for kind, (tol, keys) in EVENT_RULES.items():
        e = o["events"][kind]
        same = f"; same outcome {e['same_outcome']}/{e['tp']}" if kind == "interruption" else ""
        lines.append(
            f"| {kind} F1 (onset ±{tol} s{', same ' + '/'.join(keys) if keys else ''}) | {_f1(e)}; "
            f"P {_num(e['precision'])} R {_num(e['recall'])}{same} |"
        )
    g = o["response_gap"]
    lines += [
        f"| floor changes F1 (±1.0 s, same incoming speaker) | {_f1(g['floor_changes'])} |",
        f"| response gap: median abs error / median bias (hyp − ref) | {_num(g['median_abs_error_s'])} / {_num(g['median_bias_s'])} s |",
    ]
    c = o.get("loud_background")
    if c:
        shown, rest = c["shown"], c["not_shown"]
        lines.append(
            f"| loud-background note shown: files; share error median, files over 5 pp (others) | {shown['files']}; "
            f"{_num(shown['share_median_pp'], 1)} pp, {shown['share_over_5pp']} ({rest['files']}; "
            f"{_num(rest['share_median_pp'], 1)} pp, {rest['share_over_5pp']}) |"
        )
    return "\n".join(lines) + "\n"


def files_markdown(results: dict[str, Any]) -> str:
    """One row per file."""
    head = (
        "| file | s | spk est/true | DER ±0.25 | DER 0 | miss | FA | conf | share err pp | BC F1 | INT F1 | SIL F1 "
        "| HO F1 | gap err s | RTF |\n|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"
    )
    rows = [head]
    for f in results["files"]:
        if "error" in f:
            rows.append(f"| {f['name']} | failed: {f['error'][:80]} |" + " |" * 13)
            continue
        d, d0, t = f["der"], f["der_nocollar"], f["der_nocollar"]["total"] or 1.0
        ev = f["events"]
        rows.append(
            f"| {f['name']} | {f['duration_s']:.0f} | {f['n_speakers_hyp']}/{f['n_speakers_ref']} | {_pct(d['der'])} | "
            f"{_pct(d0['der'])} | {_pct(d0['missed'] / t)} | {_pct(d0['false_alarm'] / t)} | {_pct(d0['confusion'] / t)} | "
            f"{f['share']['max_pp']:.1f} | {_f1(ev['backchannel'])} | {_f1(ev['interruption'])} | {_f1(ev['silence'])} | "
            f"{_f1(ev['handover'])} | {_num(f['response_gap']['median_abs_error_s'])} | {_num(f['rtf'], 3)} |"
        )
    return "\n".join(rows) + "\n"


def results_markdown(results: dict[str, Any]) -> str:
    """The whole ``results.md``: overall table, then per-file table with a legend."""
    legend = (
        "DER in % of reference speech (pyannote.metrics, overlap scored); miss / FA / conf are the no-collar "
        "components in % of reference speech; share err = max over speakers of |hyp − ref| talk share after optimal "
        "speaker mapping; event F1 shown as F1 (matched/reference); gap err = median |gap_hyp − gap_ref| over "
        "matched floor changes; RTF = analysis wall time / audio duration."
    )
    two = ""
    if results.get("two_person"):
        sub = {**results, "overall": results["two_person"], "manifest": f"{results.get('manifest', '')}, two-person only"}
        two = "\n## Two-person conversations only\n\n" + overall_markdown(sub)
    return (
        f"# Evaluation: {results.get('manifest', '')}\n\n"
        + overall_markdown(results)
        + two
        + "\n## Per file\n\n"
        + legend
        + "\n\n"
        + files_markdown(results)
    )
