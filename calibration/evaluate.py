"""Run listenkit over a manifest of recordings with references, and score it.

Usage::

    python -m calibration.evaluate calibration/work/sim-dev/manifest.jsonl --out calibration/results/sim-dev
    python -m calibration.evaluate real --out calibration/results/real          # the corpus conversations
    python -m calibration.evaluate real --speakers-given --out calibration/results/real-given

For every file: ``listenkit.analyze_file(path, num_speakers=None or the true count)``, then the metrics
of :mod:`calibration.scoring` against the reference RTTM, whose events come from the same rules
(:func:`listenkit.conversation.analyze_conversation`). Writes ``results.json`` (per file and overall),
``results.md`` (tables) and the hypothesis RTTMs (``hyp/<name>.rttm``) into the output folder.
Exit status: 0 when the harness ran (even if the analysis failed on some files, which is reported),
2 on a harness error (bad manifest, missing reference, unwritable output).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
import traceback
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any, Sequence

from listenkit.timeline import format_rttm, read_rttm

from . import REPO, RESULTS, corpus_dir
from .manifest import Entry, read_manifest
from .report import results_markdown
from .scoring import aggregate, score_file, talk_shares

REAL_DESCRIPTIONS = {
    "ami-en2002a-30s": "AMI meeting, 30 s of very dense overlap",
    "ami-excerpt": "AMI meeting excerpt, far-field mix, 30 s",
    "spokenwoz-mul1011": "two-person phone dialogue (mono mix of the two channels)",
    "talkbank-jpn-tyo": "clinical interview in Japanese",
    "falcon-3-speakers": "three speakers one after another, no overlap",
}


def real_manifest(corpus: Path | None = None) -> list[Entry]:
    """The built-in manifest: every ``corpus/conversations/<stem>.flac`` that has ``<stem>.rttm``."""
    conv = (corpus or corpus_dir()) / "conversations"
    entries = []
    for rttm in sorted(conv.glob("*.rttm")):
        audio = rttm.with_suffix(".flac")
        if not audio.is_file():
            continue
        n = len({g.speaker for g in read_rttm(rttm)})
        desc = next((d for k, d in REAL_DESCRIPTIONS.items() if rttm.stem.startswith(k)), "real recording")
        entries.append(Entry(audio, rttm, n, "real", desc))
    return entries


def evaluate_entry(
    entry: Entry, speakers_given: bool, hyp_dir: Path | None = None, *, rescore: bool = False
) -> dict[str, Any]:
    """Analyse one recording and score it; analysis failures are returned as ``{"error": ...}``.

    With ``rescore``, the analysis is not run: the hypothesis is read back from ``hyp_dir/<name>.rttm``
    (written by an earlier run) and its events are the rules applied to it.
    """
    from listenkit.conversation import analyze_conversation

    base: dict[str, Any] = {
        "name": entry.name,
        "audio": str(entry.audio),
        "description": entry.description,
        "user_speaker": entry.extra.get("user_speaker"),
    }
    ref_conv = analyze_conversation(read_rttm(entry.rttm))
    if rescore:
        if hyp_dir is None or not (hyp_dir / f"{entry.name}.rttm").is_file():
            raise ValueError(f"--rescore: no earlier hypothesis {hyp_dir}/{entry.name}.rttm")
        import soundfile as sf

        segments = read_rttm(hyp_dir / f"{entry.name}.rttm")
        hyp_conv = analyze_conversation(segments)
        duration = sf.info(str(entry.audio)).duration
        scores = score_file(ref_conv, hyp_conv.talkspurts, hyp_conv.events, hyp_conv, duration)
        return {**base, **scores, "wall_s": None, "rtf": None, "rescored": True}
    import listenkit

    t0 = time.perf_counter()
    try:
        session = listenkit.analyze_file(entry.audio, num_speakers=entry.n_speakers if speakers_given else None)
    except Exception as exc:  # the analysis failed: report it, keep going
        return {**base, "error": f"{type(exc).__name__}: {exc}", "traceback": traceback.format_exc(limit=4)}
    wall = time.perf_counter() - t0
    hyp_conv = analyze_conversation(session.segments)
    scores = score_file(ref_conv, session.segments, session.events, hyp_conv, session.duration_s, len(session.speakers))
    # does the session follow its own rules? (events and shares recomputed from its segments)
    rule_events = [e.to_dict() for e in hyp_conv.events]
    own_events = [e.to_dict() for e in session.events]
    shares = {s.id: float(s.share) for s in session.speakers}
    recomputed = talk_shares(session.segments)
    share_gap = max([abs(shares.get(k, 0.0) - v) for k, v in recomputed.items()] or [0.0])
    if hyp_dir is not None:
        (hyp_dir / f"{entry.name}.rttm").write_text(format_rttm(session.segments, entry.name), encoding="utf-8")
    return {
        **base,
        **scores,
        "wall_s": round(wall, 2),
        "rtf": round(wall / session.duration_s, 4) if session.duration_s else None,
        "quality": session.extra.get("quality"),
        "consistency": {
            "events_follow_rules": rule_events == own_events,
            "share_vs_segments_max_pp": round(100 * share_gap, 3),
        },
    }


def _task(args: tuple[Entry, bool, Path | None, bool]) -> dict[str, Any]:
    entry, given, hyp_dir, rescore = args
    return evaluate_entry(entry, given, hyp_dir, rescore=rescore)


def git_commit() -> str | None:
    """The checked-out commit (with ``+dirty`` when listenkit/ has uncommitted changes), if known."""
    try:
        out = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"], capture_output=True, text=True, timeout=10)
        dirty = subprocess.run(
            ["git", "-C", str(REPO), "status", "--porcelain", "--", "listenkit"], capture_output=True, text=True, timeout=10
        )
        commit = out.stdout.strip()
        return (commit + ("+dirty" if dirty.stdout.strip() else "")) or None
    except (OSError, subprocess.SubprocessError):
        return None


def run(
    entries: Sequence[Entry], *, speakers_given: bool, out: Path, jobs: int = 1, name: str = "", rescore: bool = False
) -> dict[str, Any]:
    """Evaluate every entry and write ``results.json``, ``results.md`` and ``hyp/*.rttm`` into ``out``.

    With ``rescore``, score the hypotheses already in ``out/hyp`` instead of running the analysis.
    """
    hyp_dir = out / "hyp"
    hyp_dir.mkdir(parents=True, exist_ok=True)
    tasks = [(e, speakers_given, hyp_dir, rescore) for e in entries]
    t0 = time.perf_counter()
    files: list[dict[str, Any]] = []
    if jobs > 1:
        with ProcessPoolExecutor(max_workers=min(jobs, 2)) as pool:
            for res in pool.map(_task, tasks):
                files.append(res)
                _progress(res, len(files), len(tasks))
    else:
        for t in tasks:
            files.append(_task(t))
            _progress(files[-1], len(files), len(tasks))
    results = {
        "manifest": name,
        "speakers_given": speakers_given,
        "commit": git_commit(),
        "rescored": rescore,
        "elapsed_s": round(time.perf_counter() - t0, 1),
        "overall": aggregate(files),
        "files": files,
    }
    two = [f for f in files if f.get("n_speakers_ref") == 2]
    if two and len(two) < len(files):  # the analyze issue's floor is stated for two-person conversations
        results["two_person"] = aggregate(two)
    (out / "results.json").write_text(json.dumps(results, indent=1, default=float) + "\n", encoding="utf-8")
    (out / "results.md").write_text(results_markdown(results), encoding="utf-8")
    return results


def _progress(res: dict[str, Any], i: int, n: int) -> None:
    if "error" in res:
        print(f"[{i}/{n}] {res['name']}: ANALYSIS FAILED {res['error']}", file=sys.stderr)
    else:
        der = res["der"]["der"]
        print(
            f"[{i}/{n}] {res['name']}: DER {100 * der:.1f}% " if der is not None else f"[{i}/{n}] {res['name']}: ",
            f"share err {res['share']['max_pp']:.1f} pp, speakers {res['n_speakers_hyp']}/{res['n_speakers_ref']}, "
            f"{res['wall_s']:.1f} s" if res.get("wall_s") is not None else "rescored",
            sep="",
            file=sys.stderr,
        )


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: see the module docstring."""
    ap = argparse.ArgumentParser(prog="python -m calibration.evaluate", description=__doc__.split("\n")[0])
    ap.add_argument("manifest", help="a manifest.jsonl, or 'real' for the corpus conversations")
    ap.add_argument("--speakers-given", action="store_true", help="tell the analysis the true speaker count")
    ap.add_argument("--out", type=Path, help="output folder (default calibration/results/<name>)")
    ap.add_argument("--jobs", type=int, default=1, choices=[1, 2], help="processes (at most 2; default 1)")
    ap.add_argument("--limit", type=int, help="only the first N files")
    ap.add_argument("--rescore", action="store_true", help="score the hypotheses already in OUT/hyp (no analysis)")
    args = ap.parse_args(argv)
    try:
        if args.manifest == "real":
            entries, name = real_manifest(), "real"
        else:
            entries, name = read_manifest(args.manifest), Path(args.manifest).parent.name
        if args.limit:
            entries = entries[: args.limit]
        missing = [str(p) for e in entries for p in (e.audio, e.rttm) if not p.is_file()]
        if missing:
            raise ValueError(f"missing files: {', '.join(missing[:3])}{' ...' if len(missing) > 3 else ''}")
        if not entries:
            raise ValueError("the manifest lists no recordings")
        out = args.out or RESULTS / (name + ("-given" if args.speakers_given else ""))
        results = run(
            entries, speakers_given=args.speakers_given, out=out, jobs=args.jobs, name=name, rescore=args.rescore
        )
    except (OSError, ValueError) as exc:
        print(f"evaluate: {exc}", file=sys.stderr)
        return 2
    o = results["overall"]
    if "der" in o:
        print(
            f"{name}: {o['n_files']} files ({o['n_failed']} failed), DER {100 * o['der']['der']:.1f}% "
            f"(no collar {100 * o['der_nocollar']['der']:.1f}%), share error mean {o['share']['mean_max_pp']:.1f} pp, "
            f"speaker count right {100 * o['speaker_count']['accuracy']:.0f}% -> {out / 'results.md'}"
        )
    else:
        print(f"{name}: every analysis failed -> {out / 'results.md'}")
    t = results.get("two_person")
    if t and "der" in t:
        print(f"  two-person conversations: {t['n_files']} files, DER {100 * t['der']['der']:.1f}%, share error mean "
              f"{t['share']['mean_max_pp']:.1f} pp (worst {t['share']['max_pp']:.1f}), speaker count right "
              f"{100 * t['speaker_count']['accuracy']:.0f}%")
    return 0


if __name__ == "__main__":
    sys.exit(main())
