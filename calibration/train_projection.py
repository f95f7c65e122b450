"""Train the speaker projection that ships with listenkit (``listenkit/speaker_projection.npz``).

Usage::

    python -m calibration.simulate --split dev --n 40 --seed 11 --out calibration/work/sim-train
    python -m calibration.simulate --split dev --n 60 --seed 12 --out calibration/work/sim-train2
    python -m calibration.train_projection calibration/work/sim-train/manifest.jsonl \\
        calibration/work/sim-train2/manifest.jsonl
    python -m calibration.simulate --split dev --n 100 --seed 15 --telephone --jobs 2 \\
        --out calibration/work/sim-train-tel
    python -m calibration.train_projection --band narrow calibration/work/sim-train/manifest.jsonl \\
        calibration/work/sim-train2/manifest.jsonl calibration/work/sim-train-tel/manifest.jsonl

Each conversation is run through the streaming front end (cached like :mod:`calibration.sweep`), cut
into the clustering windows *without* projection, and each window is labelled with the reference
speaker who talks alone through at least 80 % of it (other windows are left out). Linear discriminant
analysis (:func:`listenkit.diarization.projection.fit_projection`) of those windows, recording by
recording, gives the projection. ``--band wide`` (the default) learns the wideband matrix from every
conversation given; ``--band narrow`` learns the telephone-band matrix from the conversations that
:func:`listenkit.features.bandwidth` calls narrow. Each writes its own matrix into the ``--out`` file
and keeps the other. Only *dev* conversations are accepted: the test voices must stay unseen, so
that the figures reported on ``sim-test`` are honest; and ``sim-dev`` and ``sim-dev2`` are kept out
too, because they are where the projection's settings are chosen (``python -m calibration.sweep``).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Sequence

import numpy as np

from listenkit.diarization import FRAME_S
from listenkit.diarization.frames import make_windows, speech_features
from listenkit.diarization.projection import BAND_KEYS, PROJECTION_PATH, fit_projection
from listenkit.features import bandwidth
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
#: Manifest folders that may not train the projection: its settings are chosen on them.
RESERVED_FOR_CHOICE = ("sim-dev", "sim-dev2")


def recording_band(entry: Entry) -> str:
    """``"narrow"`` (telephone band) or ``"wide"``, as the analysis would call the recording."""
    rows, speech, _ = front_end(entry.audio, DEFAULT_PARAMS)
    return bandwidth(rows[:, :40], speech)


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
    ap.add_argument("--band", choices=sorted(BAND_KEYS), default="wide",
                    help="wide: learn from every conversation given; narrow: from the telephone-band ones")
    ap.add_argument("--out", type=Path, default=PROJECTION_PATH)
    args = ap.parse_args(argv)
    try:
        entries = [e for m in args.manifests for e in read_manifest(m)]
    except (OSError, ValueError) as exc:
        ap.error(str(exc))
    wrong = sorted({e.split for e in entries} - {"dev"})
    if wrong or any(m.resolve().parent.name in RESERVED_FOR_CHOICE for m in args.manifests):
        ap.error("only dev-split conversations other than sim-dev and sim-dev2 may train the projection")
    if args.band == "narrow":
        entries = [e for e in entries if recording_band(e) == "narrow"]
    if not entries:
        ap.error(f"no {args.band}-band conversation to learn from")
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
    write_band(args.out, args.band, projection, record)
    print(f"{args.out} ({args.band} band): {projection.shape[0]} x {projection.shape[1]} from "
          f"{record['labelled_windows']} windows of {record['conversations']} conversations")
    return 0


def write_band(path: Path, band: str, projection: np.ndarray, record: dict) -> None:
    """Write one band's matrix and its record into ``path``, keeping the other band's.

    The wideband matrix is stored as ``projection`` with its record as ``record``, the telephone-band
    one as ``projection_narrow`` and ``record_narrow`` (:data:`listenkit.diarization.projection.BAND_KEYS`).
    """
    arrays: dict[str, np.ndarray] = {}
    if path.is_file():
        with np.load(path) as z:
            arrays = {k: z[k] for k in z.files}
    key = BAND_KEYS[band]
    arrays[key] = projection.astype(np.float32)
    arrays["record" + key[len("projection"):]] = np.asarray(json.dumps(record))
    np.savez(path, **arrays)


if __name__ == "__main__":
    raise SystemExit(main())
