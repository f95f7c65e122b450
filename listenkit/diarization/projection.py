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
small matrices and no audio: one for wideband recordings (646 x 12, with the background model of
its supervectors, below) and one for telephone-band ones (38 x 12), learned from telephone-band conversations (a voice heard through 300-3400 Hz
differs from others along other directions). The test voices and the reserved voices never see it.

**Supervectors.** A window's cepstral mean and spread mix what the voice is with which sounds the
window happens to hold. The wideband projection also reads each window's *supervector*
(:func:`listenkit.diarization.frames.window_supervectors`): a small background model of speech
sounds (16 Gaussians over the normalised cepstra and their deltas, learned from the same dev
conversations) sorts the window's frames by sound, and the window's mean cepstra and deltas within
each sound, shrunk towards the background model's where the window holds few frames of it, say how
this voice makes that sound and moves through it. Learned from one half of the dev voices and
measured on conversations of the other half (voices it never saw), windows of one voice were told
from windows of two voices with an AUC of 0.969-0.970 against 0.926-0.943 for the mean and spread
alone; the deltas took it further (``calibration/README.md``, seventeenth session).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
from scipy.linalg import eigh

from .models import DiagGMM

#: The projection shipped with listenkit.
PROJECTION_PATH = Path(__file__).resolve().parent.parent / "speaker_projection.npz"
#: The key of each band's matrix in :data:`PROJECTION_PATH` (bands as :func:`listenkit.features.bandwidth` names them).
#: A band's background model, when it has one, is stored as ``ubm_weights``, ``ubm_means``,
#: ``ubm_variances`` and ``ubm_relevance`` with the same suffix (``""`` or ``"_narrow"``).
BAND_KEYS = {"wide": "projection", "narrow": "projection_narrow"}


@dataclass(frozen=True)
class SpeakerProjection:
    """The speaker projection of one band.

    Attributes
    ----------
    matrix : ndarray, shape (n_inputs, dims)
        Maps a window's z-scored vector to the speaker directions. Its first 38 inputs are the
        cepstral mean and spread; with a background model, the window's supervector follows.
    ubm : DiagGMM or None
        The background model of speech sounds the supervectors are made with (None: mean and spread
        only).
    relevance : float
        Frames of a sound a window needs before its own mean counts as much as the background
        model's (the supervectors' shrinkage).
    """

    matrix: np.ndarray
    ubm: DiagGMM | None = None
    relevance: float = 0.0


def band_suffix(band: str) -> str:
    """The suffix of a band's keys in :data:`PROJECTION_PATH` (``""`` for wide, ``"_narrow"``)."""
    return BAND_KEYS[band][len("projection"):]


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
def shipped_projection(band: str = "wide") -> SpeakerProjection | None:
    """The projection that ships with listenkit for one band (``"wide"`` or ``"narrow"``); None when
    the file or that band's matrix is absent."""
    return load_projection(PROJECTION_PATH, band)


def load_projection(path: Path, band: str = "wide") -> SpeakerProjection | None:
    """One band's projection (and background model, when it has one) from a file written by
    ``calibration/train_projection.py``; None when the file or that band's matrix is absent."""
    if not Path(path).is_file():
        return None
    suffix = band_suffix(band)
    with np.load(path) as z:
        key = BAND_KEYS[band]
        if key not in z.files:
            return None
        matrix = np.asarray(z[key], dtype=np.float32)
        if f"ubm_means{suffix}" not in z.files:
            return SpeakerProjection(matrix)
        ubm = DiagGMM(np.asarray(z[f"ubm_weights{suffix}"], dtype=np.float64),
                      np.asarray(z[f"ubm_means{suffix}"], dtype=np.float64),
                      np.asarray(z[f"ubm_variances{suffix}"], dtype=np.float64))
        return SpeakerProjection(matrix, ubm, float(z[f"ubm_relevance{suffix}"]))
