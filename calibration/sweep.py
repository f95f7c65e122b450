"""Sweep the diarization parameters over a manifest, fast: the streaming front end runs once per file.

Usage::

    python -m calibration.sweep calibration/work/sim-dev/manifest.jsonl '{"switch_penalty": [12, 20]}'
    python -m calibration.sweep real '{"overlap_penalty": [0, 1, 3]}' --two-person --per-file
    python -m calibration.sweep MANIFEST '{}' --projection other_projection.npz

The voice detector and features depend only on the ``vad_*`` parameters, so the stored per-frame rows
(:meth:`listenkit.pipeline.Analyzer.frames`) are cached in ``calibration/work/cache/`` and every grid
point re-runs only :func:`listenkit.diarization.diarize` and the rules, then the scoring of
:mod:`calibration.scoring`. ``--projection`` clusters with another speaker projection file (as
``calibration.train_projection --out`` writes) instead of the shipped one (a band the file has no
matrix for keeps the shipped one). Values must lie inside the ranges declared in ``listenkit/params.py``.
Prints one line per grid point (pooled DER, miss / false alarm / confusion, share error, speaker
count, event F1). Tune on ``sim-dev`` only; report on ``sim-test``.
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import json
from pathlib import Path
from typing import Any, Sequence

import numpy as np

import listenkit.features
import listenkit.pipeline
import listenkit.vad
from listenkit.conversation import analyze_conversation
from listenkit.diarization import diarize
from listenkit.diarization.projection import SpeakerProjection, load_projection
from listenkit.params import DEFAULT_PARAMS, AnalysisParams, with_overrides
from listenkit.pipeline import Analyzer, build_session
from listenkit.sources import FileSource
from listenkit.timeline import read_rttm, segments_from_frames

from . import REPO
from .evaluate import real_manifest
from .manifest import Entry, read_manifest
from .scoring import aggregate, score_file

CACHE = REPO / "calibration" / "work" / "cache"
#: The code of these modules is part of the cache key: a change to the voice detector's constants or
#: the features makes new rows.
FRONT_END_MODULES = (listenkit.vad, listenkit.features, listenkit.pipeline)


def front_end(path: Path, params: AnalysisParams) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Stored rows, speech decisions and the looser level's decisions of a file (cached by path,
    voice-detector settings and front-end code)."""
    vad = {k: v for k, v in vars(params).items() if k.startswith("vad_")}
    code = [hashlib.sha1(Path(m.__file__).read_bytes()).hexdigest() for m in FRONT_END_MODULES]
    key = hashlib.sha1(json.dumps([str(path.resolve()), path.stat().st_mtime, vad, code], sort_keys=True).encode()).hexdigest()
    cached = CACHE / f"{key}.npz"
    if cached.is_file():
        z = np.load(cached)
        return z["rows"], z["speech"], z["loose"]
    src = FileSource(path)
    analyzer = Analyzer(src.sample_rate, params=params, expected_duration_s=src.duration_s)
    for block in src.blocks():
        analyzer.feed(block)
    analyzer.finish()
    rows, speech = analyzer.frames()
    loose = analyzer.loose_speech()
    CACHE.mkdir(parents=True, exist_ok=True)
    np.savez(cached, rows=rows, speech=speech, loose=loose)
    return rows, speech, loose


def score_entry(entry: Entry, params: AnalysisParams) -> dict[str, Any]:
    """Diarize one file with ``params`` and score it against its reference."""
    rows, speech, loose = front_end(entry.audio, params)
    dia = diarize(rows[:, :40], speech, params=params, loose_speech=loose)
    ids = [f"S{k + 1}" for k in range(dia.n_speakers)]
    segments = segments_from_frames(dia.activity, ids, 0.01)
    duration = speech.size * 0.01
    session = build_session(segments, source=str(entry.audio), duration_s=duration, sample_rate=16000, speaker_ids=ids)
    ref = analyze_conversation(read_rttm(entry.rttm))
    hyp = analyze_conversation(session.segments)
    return score_file(ref, session.segments, session.events, hyp, duration)


def use_projection(path: Path) -> None:
    """Make the analysis in this process cluster with the speaker projection in ``path``.

    A band the file has no matrix for (``train_projection`` without ``--band narrow`` writes only
    the wideband one) keeps the shipped projection: before, such files were clustered unprojected,
    so the telephone-band talks of a ``--projection`` run measured a clustering no user gets.
    """
    if not path.is_file():
        raise SystemExit(f"sweep: no projection file {path}")
    import listenkit.diarization.frames as frames

    shipped = frames.shipped_projection

    def projection(band: str = "wide") -> SpeakerProjection | None:
        found = load_projection(path, band)
        return shipped(band) if found is None else found

    frames.shipped_projection = projection


def summary_line(agg: dict[str, Any]) -> str:
    """One line of the pooled figures."""
    d, ev = agg["der"], agg["events"]
    return (
        f"DER {d['der']:.3f} miss {d['missed_rate']:.3f} fa {d['false_alarm_rate']:.3f} conf {d['confusion_rate']:.3f}"
        f" | share mean {agg['share']['mean_max_pp']:.1f} max {agg['share']['max_pp']:.1f}"
        f" | count {agg['speaker_count']['accuracy']:.2f}"
        f" | F1 int {_f1(ev['interruption'])} bc {_f1(ev['backchannel'])} sil {_f1(ev['silence'])}"
    )


def _f1(scores: dict[str, Any]) -> str:
    """An event F1 to two places, or "-" when there were no events on either side."""
    return "-" if scores["f1"] is None else f"{scores['f1']:.2f}"


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("manifest", help="a manifest.jsonl, or 'real'")
    ap.add_argument("grid", help='JSON object: parameter -> list of values, e.g. {"switch_penalty": [12, 20]}')
    ap.add_argument("--two-person", action="store_true", help="only conversations with two reference speakers")
    ap.add_argument("--per-file", action="store_true", help="also print each file's DER and share error")
    ap.add_argument("--projection", type=Path, help="a speaker projection file to use instead of the shipped one")
    args = ap.parse_args(argv)
    if args.projection is not None:
        use_projection(args.projection)
    entries = real_manifest() if args.manifest == "real" else read_manifest(args.manifest)
    if args.two_person:
        entries = [e for e in entries if e.n_speakers == 2]
    grid: dict[str, list[Any]] = json.loads(args.grid)
    names = list(grid)
    for combo in itertools.product(*(grid[n] for n in names)):
        params = with_overrides(DEFAULT_PARAMS, **dict(zip(names, combo)))
        results = [score_entry(e, params) for e in entries]
        print(dict(zip(names, combo)), summary_line(aggregate(results)), flush=True)
        if args.per_file:
            for e, r in zip(entries, results):
                print(f"   {e.audio.name}: speakers {r['n_speakers_hyp']}/{r['n_speakers_ref']}, "
                      f"DER {r['der']['der']:.3f}, share err {r['share']['max_pp']:.1f} pp")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
