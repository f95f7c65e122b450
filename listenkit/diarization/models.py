"""Speaker models: diagonal Gaussian mixtures over cepstral frames (scikit-learn's EM).

Models are trained on at most ``max_frames`` frames drawn evenly from a speaker's speech, which keeps
training time flat however long the recording is; scoring is vectorised over all frames.
"""

from __future__ import annotations

import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.mixture import GaussianMixture

SEED = 0


def fit_gmm(x: np.ndarray, n_components: int, *, max_frames: int = 12000, max_iter: int = 15) -> GaussianMixture:
    """Fit a diagonal GMM to frames ``x`` (shape (n, d)), subsampled evenly to ``max_frames``.

    The component count is reduced for small amounts of data (about 40 frames per component at least).
    """
    x = np.asarray(x, dtype=np.float64)
    if x.shape[0] > max_frames:
        x = x[np.linspace(0, x.shape[0] - 1, max_frames).astype(int)]
    k = int(max(1, min(n_components, x.shape[0] // 40)))
    gmm = GaussianMixture(
        n_components=k, covariance_type="diag", max_iter=max_iter, reg_covar=1e-2, random_state=SEED, init_params="k-means++"
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        gmm.fit(x)
    return gmm


def score(gmm: GaussianMixture, x: np.ndarray) -> np.ndarray:
    """Log-likelihood of each frame (nats), shape (n,)."""
    if x.shape[0] == 0:
        return np.zeros(0)
    return gmm.score_samples(np.asarray(x, dtype=np.float64))


def score_matrix(models: list[GaussianMixture], x: np.ndarray) -> np.ndarray:
    """Log-likelihood of each frame under each model, shape (n, len(models))."""
    out = np.empty((x.shape[0], len(models)))
    for k, m in enumerate(models):
        out[:, k] = score(m, x)
    return out
