"""A linear projection of the clustering window vectors that keeps voice and drops phonetic content.

A window's cepstral mean and spread over ~1 s say who speaks, but also *what* is said: one voice's
windows vary with the sounds in them, and the clustering tree sometimes split a talkative person
in two (by what they said) before separating them from a quieter second voice. Linear discriminant
analysis fixes this: from windows of many voices with known speakers it finds the directions along
which different voices differ most relative to how much one voice's windows vary, and the windows
are clustered in those directions only.

The projection ships with listenkit (``speaker_projection.npz``). It is made by
``python -m calibration.train_projection`` from simulated conversations of the *dev* voices only
(``calibration/README.md`` gives the command and the figures that chose its settings); it holds two
small matrices (38 x 12 numbers each) and no audio: one for wideband recordings and one for
telephone-band ones, learned from telephone-band conversations (a voice heard through 300-3400 Hz
differs from others along other directions). The test voices and the reserved voices never see it.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np
from scipy.linalg import eigh

#: The projection shipped with listenkit.
PROJECTION_PATH = Path(__file__).resolve().parent.parent / "speaker_projection.npz"
#: The key of each band's matrix in :data:`PROJECTION_PATH` (bands as :func:`listenkit.features.bandwidth` names them).
BAND_KEYS = {"wide": "projection", "narrow": "projection_narrow"}


def fit_projection(vectors: list[np.ndarray], labels: list[np.ndarray], *, dims: int,
                   regularisation: float) -> np.ndarray:
    """Linear discriminant analysis of window vectors grouped by recording and speaker.

    Parameters
    ----------
    vectors : list of ndarray, each shape (n_windows, n_dims)
        Window vectors (:func:`listenkit.diarization.frames.make_windows` with ``project=False``) of one
        recording each.
    labels : list of ndarray of int, each shape (n_windows,)
        Speaker of each window within its recording; -1 leaves a window out (overlap, unclear).
    dims : int
        Directions kept.
    regularisation : float
        Added to the within-speaker covariance, as a fraction of its mean variance (0 = plain LDA;
        larger values lean towards the directions in which voices differ, whatever their spread).

    Returns
    -------
    ndarray, shape (n_dims, dims)
        Columns: discriminant directions, most discriminating first, scaled so that one voice's
        windows have unit (regularised) variance along each.
    """
    n_dims = vectors[0].shape[1]
    within = np.zeros((n_dims, n_dims))
    between = np.zeros((n_dims, n_dims))
    n_windows = 0
    for v, lab in zip(vectors, labels):
        v = np.asarray(v, dtype=np.float64)
        groups = [v[lab == s] for s in np.unique(lab) if s >= 0 and np.count_nonzero(lab == s) >= 3]
        if len(groups) < 2:
            continue  # a recording contributes only where it shows two voices side by side
        means = [g.mean(axis=0) for g in groups]
        sizes = np.array([len(g) for g in groups], dtype=np.float64)
        grand = np.average(means, axis=0, weights=sizes)
        for g, m, n in zip(groups, means, sizes):
            within += (g - m).T @ (g - m)
            between += n * np.outer(m - grand, m - grand)
        n_windows += int(sizes.sum())
    if n_windows == 0:
        raise ValueError("no recording with two labelled voices to learn from")
    within /= n_windows
    between /= n_windows
    within += regularisation * np.trace(within) / n_dims * np.eye(n_dims)
    values, vecs = eigh(between, within)  # vecs.T @ within @ vecs = I
    order = np.argsort(values)[::-1][:dims]
    return vecs[:, order]


@lru_cache(maxsize=2)
def shipped_projection(band: str = "wide") -> np.ndarray | None:
    """The projection that ships with listenkit for one band (``"wide"`` or ``"narrow"``), shape
    (38, dims); None when the file or that band's matrix is absent."""
    if not PROJECTION_PATH.is_file():
        return None
    with np.load(PROJECTION_PATH) as z:
        key = BAND_KEYS[band]
        return np.asarray(z[key], dtype=np.float32) if key in z.files else None
