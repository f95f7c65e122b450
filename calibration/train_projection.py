"""Train the speaker projection that ships with listenkit (``listenkit/speaker_projection.npz``).

Usage::

    python -m calibration.simulate --split dev --n 40 --seed 11 --out calibration/work/sim-train
    python -m calibration.simulate --split dev --n 60 --seed 12 --out calibration/work/sim-train2
    python -m calibration.simulate --split dev --n 100 --seed 32 --jobs 2 --out calibration/work/sim-train-plain
    python -m calibration.simulate --split dev --n 100 --seed 31 --speed-variants --jobs 2 \\
        --out calibration/work/sim-train-sp
    python -m calibration.train_projection calibration/work/sim-train/manifest.jsonl \\
        calibration/work/sim-train2/manifest.jsonl calibration/work/sim-train-plain/manifest.jsonl \\
        calibration/work/sim-train-sp/manifest.jsonl
    python -m calibration.simulate --split dev --n 100 --seed 15 --telephone --jobs 2 \\
        --out calibration/work/sim-train-tel
    python -m calibration.train_projection --band narrow calibration/work/sim-train/manifest.jsonl \\
        calibration/work/sim-train2/manifest.jsonl calibration/work/sim-train-tel/manifest.jsonl

Each conversation is run through the streaming front end (cached like :mod:`calibration.sweep`), cut
into the clustering windows *without* projection, and each window is labelled with the reference
speaker who talks alone through at least 80 % of it (other windows are left out). With
``--components K`` (wideband default 16; 0 for none) a background model of K Gaussians is first
learned from every tenth speech frame of the conversations, and each window is described by its
supervector too (:func:`listenkit.diarization.frames.window_supervectors`, shrinkage
``--relevance``); the background model is over the cepstra and their deltas (38 features), or
over the cepstra alone with ``--no-deltas`` (19, as shipped before the seventeenth session). Linear
discriminant analysis (:func:`listenkit.diarization.projection.fit_projection`) of those windows, recording by recording, gives the projection. ``--band wide`` (the default) learns
the wideband matrix from every conversation given; ``--band narrow`` learns the telephone-band matrix from the conversations that
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
from listenkit.diarization.frames import N_CEPS, FrameFeatures, speech_features, window_bounds, window_descriptions
from listenkit.diarization.models import DiagGMM, fit_gmm
from listenkit.diarization.projection import BAND_KEYS, PROJECTION_PATH, band_suffix, fit_projection
from listenkit.features import bandwidth
from listenkit.params import DEFAULT_PARAMS
from listenkit.timeline import read_rttm

from .evaluate import git_commit
from .manifest import Entry, read_manifest
from .sweep import front_end

#: Directions kept and within-speaker regularisation (chosen on sim-dev, see calibration/README.md;
#: with supervectors, 1.0, chosen on voices the projection never saw: calibration/README.md).
DIMS = 12
REGULARISATION = 0.3
SUPERVECTOR_REGULARISATION = 1.0
#: The supervectors' background model: Gaussians, shrinkage (frames), and the frames it learns from
#: (every tenth speech frame of each conversation, at most this many in all), EM iterations.
COMPONENTS = 16
RELEVANCE = 4.0
UBM_FRAMES = 200_000
UBM_ITERATIONS = 15
#: A window counts for a speaker who talks alone through at least this fraction of its frames.
SOLO_FRACTION = 0.8
#: Manifest folders that may not train the projection: its settings are chosen on them.
RESERVED_FOR_CHOICE = ("sim-dev", "sim-dev2")


def recording_band(entry: Entry) -> str:
    """``"narrow"`` (telephone band) or ``"wide"``, as the analysis would call the recording."""
    rows, speech, _ = front_end(entry.audio, DEFAULT_PARAMS)
    return bandwidth(rows[:, :40], speech)


def entry_features(entry: Entry) -> FrameFeatures:
    """The normalised speech frames of one conversation, as the analysis makes them."""
    rows, speech, _ = front_end(entry.audio, DEFAULT_PARAMS)
    return speech_features(rows[:, :40], speech)


def fit_background(features: list[FrameFeatures], components: int, *, with_deltas: bool = True) -> DiagGMM:
    """The supervectors' background model, from every tenth speech frame of the conversations: over
    the cepstra and their deltas (``ff.full``), or the cepstra alone without ``with_deltas``."""
    frames = np.vstack([(ff.full if with_deltas else ff.ceps)[::10] for ff in features])
    return fit_gmm(frames, components, max_frames=UBM_FRAMES, iterations=UBM_ITERATIONS)


def labelled_windows(entry: Entry, ff: FrameFeatures, ubm: DiagGMM | None = None,
                     relevance: float = RELEVANCE) -> tuple[np.ndarray, np.ndarray]:
    """Unprojected window vectors of one conversation (with supervectors when ``ubm`` is given) and
    the reference speaker of each (-1: none)."""
    bounds = window_bounds(ff, int(round(DEFAULT_PARAMS.window_s / FRAME_S)))
    vectors = window_descriptions(ff, bounds, ubm, relevance)
    ref = read_rttm(entry.rttm)
    speakers = sorted({s.speaker for s in ref})
    n = int(ff.index[-1]) + 1 if ff.index.size else 0
    talk = np.zeros((len(speakers), n), dtype=bool)
    for s in ref:
        talk[speakers.index(s.speaker), int(round(s.start / FRAME_S)) : min(n, int(round(s.end / FRAME_S)))] = True
    solo = talk & (talk.sum(axis=0) == 1)
    labels = np.full(len(bounds), -1)
    for w, (a, b) in enumerate(bounds):
        counts = solo[:, ff.index[a:b]].sum(axis=1)
        best = int(np.argmax(counts))
        if counts[best] >= SOLO_FRACTION * (b - a):
            labels[w] = best
    return vectors, labels


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("manifests", nargs="+", type=Path, help="manifests of simulated dev conversations")
    ap.add_argument("--dims", type=int, default=DIMS)
    ap.add_argument("--regularisation", type=float, default=None,
                    help=f"default {SUPERVECTOR_REGULARISATION} with supervectors, {REGULARISATION} without")
    ap.add_argument("--components", type=int, default=None,
                    help=f"Gaussians of the supervectors' background model (default {COMPONENTS} for wide band, "
                         "0 for narrow; 0 = no supervectors)")
    ap.add_argument("--relevance", type=float, default=RELEVANCE, help="the supervectors' shrinkage, frames")
    ap.add_argument("--no-deltas", dest="deltas", action="store_false",
                    help="the supervectors' background model over the cepstra alone (default: with their deltas)")
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
    components = args.components if args.components is not None else (COMPONENTS if args.band == "wide" else 0)
    regularisation = args.regularisation
    if regularisation is None:
        regularisation = SUPERVECTOR_REGULARISATION if components else REGULARISATION
    features = [entry_features(e) for e in entries]
    ubm = fit_background(features, components, with_deltas=args.deltas) if components else None
    vectors, labels = zip(*(labelled_windows(e, ff, ubm, args.relevance) for e, ff in zip(entries, features)))
    projection = fit_projection(list(vectors), list(labels), dims=args.dims, regularisation=regularisation)
    record = {
        "manifests": [str(m) for m in args.manifests],
        "conversations": len(entries),
        "labelled_windows": int(sum((lab >= 0).sum() for lab in labels)),
        "dims": args.dims,
        "regularisation": regularisation,
        "components": components,
        "relevance": args.relevance if components else None,
        "supervector_features": (2 if args.deltas else 1) * N_CEPS if components else None,
        "commit": git_commit() or "unknown",
    }
    write_band(args.out, args.band, projection, record, ubm=ubm, relevance=args.relevance)
    print(f"{args.out} ({args.band} band): {projection.shape[0]} x {projection.shape[1]} from "
          f"{record['labelled_windows']} windows of {record['conversations']} conversations")
    return 0


def write_band(path: Path, band: str, projection: np.ndarray, record: dict, *, ubm: DiagGMM | None = None,
               relevance: float = RELEVANCE) -> None:
    """Write one band's matrix, background model (or none) and record into ``path``, keeping the other band's.

    The wideband matrix is stored as ``projection`` with its record as ``record``, the telephone-band
    one as ``projection_narrow`` and ``record_narrow`` (:data:`listenkit.diarization.projection.BAND_KEYS`);
    a background model as ``ubm_weights``, ``ubm_means``, ``ubm_variances`` and ``ubm_relevance``
    with the band's suffix.
    """
    arrays: dict[str, np.ndarray] = {}
    if path.is_file():
        with np.load(path) as z:
            arrays = {k: z[k] for k in z.files}
    suffix = band_suffix(band)
    for part in ("weights", "means", "variances", "relevance"):
        arrays.pop(f"ubm_{part}{suffix}", None)
    arrays[BAND_KEYS[band]] = projection.astype(np.float32)
    arrays["record" + suffix] = np.asarray(json.dumps(record))
    if ubm is not None:
        arrays[f"ubm_weights{suffix}"] = ubm.weights.astype(np.float64)
        arrays[f"ubm_means{suffix}"] = ubm.means.astype(np.float64)
        arrays[f"ubm_variances{suffix}"] = ubm.variances.astype(np.float64)
        arrays[f"ubm_relevance{suffix}"] = np.asarray(float(relevance))
    np.savez(path, **arrays)


if __name__ == "__main__":
    raise SystemExit(main())
