"""Train the overlap detector that ships with listenkit (``listenkit/overlap_detector.npz``).

Usage (the same conversations as the speaker projection, see :mod:`calibration.train_projection`)::

    python -m calibration.train_overlap calibration/work/sim-train/manifest.jsonl \\
        calibration/work/sim-train2/manifest.jsonl --out listenkit/overlap_detector.npz

Each conversation goes through the streaming front end (cached like :mod:`calibration.sweep`); every
fourth frame the voice detector calls speech is one example, labelled 1 when two or more reference
speakers talk in it. A multi-layer perceptron of scikit-learn (one hidden layer of
:data:`HIDDEN` rectified units, Adam, early stopping on a tenth of the examples, fixed seed) learns
the log-odds from :func:`listenkit.diarization.overlap_detector.overlap_features`; the feature
standardisation is folded into the first layer and the network saved in listenkit's own format,
which numpy alone evaluates. Only *dev* conversations are accepted, and not ``sim-dev`` or
``sim-dev2``, where the detector's weight is chosen. Prints the frame-level precision and recall at
log-odds 0 on 50 000 of its own examples (a check that the fit worked, not a test: the figures that
count are ``calibration.sweep``'s on the dev sets and ``calibration.evaluate``'s on sim-test).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Sequence

import numpy as np

from listenkit.diarization import FRAME_S
from listenkit.diarization.overlap_detector import DETECTOR_PATH, OverlapDetector, overlap_features
from listenkit.params import DEFAULT_PARAMS
from listenkit.timeline import read_rttm

from .manifest import Entry, read_manifest
from .sweep import front_end

HIDDEN = 128  # hidden units (64: frame-level average precision on sim-dev 0.61 against 0.64)
MAX_ITER = 80  # passes over the examples at most (early stopping ends sooner)
EVERY = 4  # one example per this many speech frames (neighbours are nearly the same example)
SEED = 0
RESERVED_FOR_CHOICE = ("sim-dev", "sim-dev2")


def examples(entry: Entry) -> tuple[np.ndarray, np.ndarray]:
    """Features of every EVERY-th speech frame of one conversation and whether it is overlapped."""
    rows, speech, _ = front_end(entry.audio, DEFAULT_PARAMS)
    n = speech.size
    voices = np.zeros(n, dtype=np.int16)
    for seg in read_rttm(entry.rttm):
        voices[int(round(seg.start / FRAME_S)) : min(n, int(round(seg.end / FRAME_S)))] += 1
    frames = np.flatnonzero(speech)[::EVERY]
    return overlap_features(rows[:, :40], speech, frames), voices[frames] >= 2


def fit_detector(x: np.ndarray, y: np.ndarray, *, hidden: int = HIDDEN, max_iter: int = MAX_ITER):
    """Fit the network to features ``x`` (n, d) and labels ``y`` (n,).

    Returns
    -------
    detector : OverlapDetector
        The network with the feature standardisation folded into its first layer.
    net, scaler
        scikit-learn's fitted network and standardisation (``detector.log_odds(x)`` equals the logit
        of ``net.predict_proba(scaler.transform(x))[:, 1]``).
    """
    from sklearn.neural_network import MLPClassifier
    from sklearn.preprocessing import StandardScaler

    scaler = StandardScaler().fit(x)
    net = MLPClassifier(hidden_layer_sizes=(hidden,), early_stopping=True, max_iter=max_iter, batch_size=512,
                        random_state=SEED)
    net.fit(scaler.transform(x), y)
    w1, w2 = net.coefs_
    b1, b2 = net.intercepts_
    # standardise-then-multiply folded into one layer: ((x - m) / s) @ w1 = x @ (w1 / s) - (m / s) @ w1
    w1_raw = w1 / scaler.scale_[:, None]
    b1_raw = b1 - (scaler.mean_ / scaler.scale_) @ w1
    detector = OverlapDetector(w1_raw.astype(np.float32), b1_raw.astype(np.float32),
                               w2[:, 0].astype(np.float32), float(b2[0]))
    return detector, net, scaler


def train(entries: list[Entry]) -> tuple[OverlapDetector, dict[str, float]]:
    """Fit the network on the conversations' examples; returns it and frame figures on its own examples."""
    parts = [examples(e) for e in entries]
    x = np.vstack([p[0] for p in parts])
    y = np.concatenate([p[1] for p in parts])
    detector, net, _ = fit_detector(x, y)
    rng = np.random.default_rng(SEED)
    check = rng.choice(len(y), size=min(len(y), 50_000), replace=False)
    hit = detector.log_odds(x[check]) > 0
    truth = y[check]
    figures = {"examples": int(len(y)), "overlapped": round(float(y.mean()), 4),
               "precision_at_0": round(float(truth[hit].mean()) if hit.any() else 0.0, 3),
               "recall_at_0": round(float(hit[truth].mean()) if truth.any() else 0.0, 3),
               "iterations": int(net.n_iter_)}
    return detector, figures


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("manifests", nargs="+", type=Path, help="manifest.jsonl files of simulated dev conversations")
    ap.add_argument("--out", type=Path, default=DETECTOR_PATH)
    args = ap.parse_args(argv)
    entries: list[Entry] = []
    for m in args.manifests:
        if m.resolve().parent.name in RESERVED_FOR_CHOICE:
            ap.error(f"{m}: the detector's weight is chosen on this set; train on others")
        for e in read_manifest(m):
            if e.split != "dev":
                ap.error(f"{m}: {e.audio.name} is not a dev conversation (test voices stay unseen)")
            entries.append(e)
    detector, figures = train(entries)
    detector.save(args.out)
    print(json.dumps({"conversations": len(entries), **figures, "out": str(args.out)}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
