"""Train the speaker projection that ships with listenkit (``listenkit/speaker_projection.npz``).

Usage::

    python -m calibration.simulate --split dev --n 40 --seed 11 --out calibration/work/sim-train
    python -m calibration.simulate --split dev --n 60 --seed 12 --out calibration/work/sim-train2
    python -m calibration.train_projection calibration/work/sim-train/manifest.jsonl \\
        calibration/work/sim-train2/manifest.jsonl --out listenkit/speaker_projection.npz

Each conversation is run through the streaming front end (cached like :mod:`calibration.sweep`), cut
into the clustering windows *without* projection, and each window is labelled with the reference
speaker who talks alone through at least 80 % of it (other windows are left out). Linear discriminant
analysis (:func:`listenkit.diarization.projection.fit_projection`) of those windows, recording by
recording, gives the projection. Only *dev* conversations are accepted: the test voices must stay
unseen, so that the figures reported on ``sim-test`` are honest; and ``sim-dev`` is kept out too,
because it is where the projection's settings are chosen (``python -m calibration.sweep``).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Sequence

import numpy as np

from listenkit.diarization import FRAME_S
from listenkit.diarization.frames import make_windows, speech_features
from listenkit.diarization.projection import PROJECTION_PATH, fit_projection
from listenkit.params import DEFAULT_PARAMS
from listenkit.timeline import read_rttm

from .evaluate import git_commit
from .manifest import Entry, read_manifest
from .sweep import front_end

#: Directions kept and within-speaker regularisation (chosen on sim-dev, see calibration/README.md).
DIMS = 12
REGULARISATION = 0.3
#: A window counts for a speaker who talks alone through at least this fraction of its frames.
SOLO_FRACTION = 0.8


def labelled_windows(entry: Entry) -> tuple[np.ndarray, np.ndarray]:
    """Unprojected window vectors of one conversation and the reference speaker of each (-1: none)."""
    rows, speech, _ = front_end(entry.audio, DEFAULT_PARAMS)
    ff = speech_features(rows[:, :40], speech)
    win = make_windows(ff, int(round(DEFAULT_PARAMS.window_s / FRAME_S)), project=False)
    ref = read_rttm(entry.rttm)
    speakers = sorted({s.speaker for s in ref})
    n = speech.size
    talk = np.zeros((len(speakers), n), dtype=bool)
    for s in ref:
        talk[speakers.index(s.speaker), int(round(s.start / FRAME_S)) : min(n, int(round(s.end / FRAME_S)))] = True
    solo = talk & (talk.sum(axis=0) == 1)
    labels = np.full(len(win), -1)
    for w, (a, b) in enumerate(win.bounds):
        counts = solo[:, ff.index[a:b]].sum(axis=1)
        best = int(np.argmax(counts))
        if counts[best] >= SOLO_FRACTION * (b - a):
            labels[w] = best
    return win.vectors, labels


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("manifests", nargs="+", type=Path, help="manifests of simulated dev conversations")
    ap.add_argument("--dims", type=int, default=DIMS)
    ap.add_argument("--regularisation", type=float, default=REGULARISATION)
    ap.add_argument("--out", type=Path, default=PROJECTION_PATH)
    args = ap.parse_args(argv)
    try:
        entries = [e for m in args.manifests for e in read_manifest(m)]
    except (OSError, ValueError) as exc:
        ap.error(str(exc))
    wrong = sorted({e.split for e in entries} - {"dev"})
    if wrong or any(m.resolve().parent.name == "sim-dev" for m in args.manifests):
        ap.error("only dev-split conversations other than sim-dev may train the projection")
    vectors, labels = zip(*(labelled_windows(e) for e in entries))
    projection = fit_projection(list(vectors), list(labels), dims=args.dims, regularisation=args.regularisation)
    record = {
        "manifests": [str(m) for m in args.manifests],
        "conversations": len(entries),
        "labelled_windows": int(sum((lab >= 0).sum() for lab in labels)),
        "dims": args.dims,
        "regularisation": args.regularisation,
        "commit": git_commit() or "unknown",
    }
    np.savez(args.out, projection=projection.astype(np.float32), record=json.dumps(record))
    print(f"{args.out}: {projection.shape[0]} x {projection.shape[1]} from {record['labelled_windows']} windows "
          f"of {record['conversations']} conversations")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
