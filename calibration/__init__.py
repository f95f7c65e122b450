"""Calibration harness for listenkit: conversation simulator, evaluation, benchmark.

This package sits outside ``listenkit`` and the product never imports it. Its tools:

- :mod:`calibration.simulate` builds conversations with exact who-spoke-when references;
- :mod:`calibration.evaluate` runs ``listenkit.analyze_file`` over a manifest and scores it;
- :mod:`calibration.bench` measures speed and memory on one hour of audio.

Helpers: :mod:`calibration.voices` (the voice inventory, the fixed dev / test split, the energy
voice-activity detector used for references), :mod:`calibration.acoustics` (reverberation, noise,
telephone band, level drift), :mod:`calibration.scoring` (the metrics), :mod:`calibration.manifest`.
"""

from __future__ import annotations

import os
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
WORK = REPO / "calibration" / "work"
RESULTS = REPO / "calibration" / "results"


def corpus_dir() -> Path:
    """The shared evaluation corpus: ``$LISTENKIT_SHARED/corpus``, else ``../shared/corpus``."""
    return Path(os.environ.get("LISTENKIT_SHARED", REPO.parent / "shared")) / "corpus"
