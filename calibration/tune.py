"""Pick the analysis defaults on a development set, by coordinate descent over the declared ranges.

Usage::

    python -m calibration.tune calibration/work/sim-dev/manifest.jsonl --out calibration/results/tune
    python -m calibration.tune calibration/work/sim-dev/manifest.jsonl --params speaker_distance,min_speaker_s

Every parameter tuned here is declared in ``listenkit/params.py`` with its range
(:func:`listenkit.params.parameter_ranges`); the candidates of a parameter are its default and
``--steps`` values spread evenly over its range. Starting from the current defaults, each parameter in
turn is set to the candidate with the lowest objective, the others held; ``--rounds`` passes.

The objective, on the development set only::

    J = pooled DER (collar 0.25 s, %) + mean talk-share error (pp) + 10 x (1 - speaker count accuracy)

(one point of DER, one point of share error and a tenth of the files counted wrong weigh about the
same). The voice-detector parameters change the front end, which is cached per setting
(:func:`calibration.sweep.front_end`), so they are left out unless named with ``--params``.

Output: ``tune.json`` (every evaluation) and ``tune.md`` (the path taken and the choice) under
``--out``. The tool does not edit ``params.py``: the defaults are changed by hand, with the evidence
recorded in ``calibration/README.md``. Never tune on ``sim-test``: report on it, once, with
``python -m calibration.evaluate``.
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import fields
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from listenkit.params import DEFAULT_PARAMS, AnalysisParams, parameter_ranges, with_overrides

from .manifest import Entry, read_manifest
from .scoring import aggregate
from .sweep import score_entry, summary_line

#: Parameters tuned by default: the diarization's (the front end's are slow to sweep, see above).
DEFAULT_TUNED = (
    "speaker_distance", "min_speaker_s", "min_speaker_fraction", "single_voice_distance", "switch_penalty",
    "overlap_penalty", "overlap_detector_weight", "pause_switch_factor", "gmm_components", "resegment_passes",
    "window_s",
)
#: Weight of speaker-count accuracy in the objective (points per unit of accuracy).
COUNT_WEIGHT = 10.0


def objective(agg: dict[str, Any]) -> float:
    """J = DER % + mean share error pp + COUNT_WEIGHT x (1 - count accuracy); lower is better."""
    return 100.0 * agg["der"]["der"] + agg["share"]["mean_max_pp"] + COUNT_WEIGHT * (1.0 - agg["speaker_count"]["accuracy"])


def candidates(name: str, steps: int, params: AnalysisParams = DEFAULT_PARAMS) -> list[Any]:
    """The default of ``name`` and ``steps`` values spread over its declared range, sorted."""
    lo, hi = parameter_ranges(AnalysisParams)[name]
    default = getattr(params, name)
    if isinstance(default, bool):
        return [False, True]
    values = set(np.linspace(lo, hi, steps).tolist()) | {default}
    if isinstance(default, int):
        values = {int(round(v)) for v in values}
    else:
        values = {round(float(v), 3) for v in values}
    return sorted(values)


def evaluate(entries: list[Entry], params: AnalysisParams) -> dict[str, Any]:
    """Score every entry with ``params``; the pooled figures and the objective."""
    agg = aggregate([score_entry(e, params) for e in entries])
    return {"objective": objective(agg), "summary": summary_line(agg), "aggregate": agg}


def tune(entries: list[Entry], names: Sequence[str], *, steps: int, rounds: int, log=print) -> dict[str, Any]:
    """Coordinate descent from the current defaults; returns the path, the choice and its figures."""
    current: dict[str, Any] = {}
    start = evaluate(entries, DEFAULT_PARAMS)
    best = start["objective"]
    log(f"defaults: J {best:.2f} | {start['summary']}")
    history = [{"round": 0, "param": None, "value": None, "objective": best, "summary": start["summary"]}]
    for rnd in range(1, rounds + 1):
        changed = False
        for name in names:
            for value in candidates(name, steps):
                trial = {**current, name: value}
                if value == getattr(DEFAULT_PARAMS, name) and name not in current:
                    continue  # the point already scored
                result = evaluate(entries, with_overrides(DEFAULT_PARAMS, **trial))
                history.append({"round": rnd, "param": name, "value": value, "objective": result["objective"],
                                "summary": result["summary"]})
                log(f"round {rnd} {name}={value}: J {result['objective']:.2f} | {result['summary']}")
                if result["objective"] < best - 1e-9:
                    best, current, changed = result["objective"], trial, True
        if not changed:
            break
    final = evaluate(entries, with_overrides(DEFAULT_PARAMS, **current))
    return {"start": start, "chosen": current, "final": final, "history": history}


def write_report(out: Path, manifest: Path, names: Sequence[str], result: dict[str, Any]) -> None:
    """``tune.json`` and ``tune.md`` under ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    (out / "tune.json").write_text(json.dumps({"manifest": str(manifest), "tuned": list(names), **result},
                                              indent=1, default=str), encoding="utf-8")
    lines = [f"# Tuning on {manifest}", "",
             "J = DER % + mean share error pp + 10 x (1 - count accuracy); lower is better.", "",
             f"- defaults: J {result['start']['objective']:.2f} | {result['start']['summary']}",
             f"- chosen: J {result['final']['objective']:.2f} | {result['final']['summary']}", "",
             "| parameter | default | chosen |", "|---|---|---|"]
    for name in names:
        lines.append(f"| {name} | {getattr(DEFAULT_PARAMS, name)} | {result['chosen'].get(name, '(default)')} |")
    lines += ["", "## Every evaluation", "", "| round | parameter | value | J | figures |", "|---|---|---|---|---|"]
    for h in result["history"]:
        lines.append(f"| {h['round']} | {h['param'] or '-'} | {h['value'] if h['value'] is not None else '-'} "
                     f"| {h['objective']:.2f} | {h['summary']} |")
    (out / "tune.md").write_text("\n".join(lines) + "\n", encoding="utf-8")


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("manifest", type=Path, help="a development manifest (never sim-test)")
    ap.add_argument("--params", help="comma-separated parameter names (default: the diarization's)")
    ap.add_argument("--steps", type=int, default=5, help="values spread over each range, besides the default")
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--out", type=Path, default=Path("calibration/results/tune"))
    args = ap.parse_args(argv)
    try:
        entries = read_manifest(args.manifest)
    except (OSError, ValueError) as exc:
        ap.error(str(exc))
    if any(e.split == "test" for e in entries):
        ap.error("that manifest holds test conversations: tune on a dev manifest, report on test")
    known = {f.name for f in fields(AnalysisParams)}
    names = args.params.split(",") if args.params else list(DEFAULT_TUNED)
    unknown = [n for n in names if n not in known]
    if unknown:
        ap.error(f"unknown parameter(s): {', '.join(unknown)}")
    t0 = time.monotonic()
    result = tune(entries, names, steps=args.steps, rounds=args.rounds)
    write_report(args.out, args.manifest, names, result)
    print(f"chosen {result['chosen'] or '(the defaults)'}: J {result['final']['objective']:.2f} "
          f"| {result['final']['summary']} ({time.monotonic() - t0:.0f} s; {args.out}/tune.md)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
