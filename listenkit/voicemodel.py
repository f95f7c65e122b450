"""Speaker verification for the voice profile: features, background model, adaptation, scoring.

The method is the classic GMM-UBM of speaker verification (Reynolds, Quatieri & Dunn, 2000) with
T-norm score normalisation (Auckenthaler et al., 2000):

- a **background model** ships with listenkit (``voice_ubm.npz``, made by ``calibration/eval_enroll.py
  --build-ubm``): per band, a Gaussian mixture of many voices heard as a laptop hears them (noise,
  rooms, telephone band) and a **cohort** of other voices adapted from it. It was made from the dev
  voices of LibriSpeech train-clean-100 (CC BY 4.0, Panayotov et al. 2015);
- **enrollment** moves the background model's means towards the user's frames (MAP adaptation,
  relevance factor :data:`RELEVANCE`);
- **scoring** a voice: the mean log-likelihood ratio of its frames, profile against background, is
  compared with the same ratio for every cohort voice: ``(llr - mean(cohort)) / std(cohort)``. The
  cohort says how well *any* voice would fit in this recording's conditions, which removes most of
  what noise, the room and the particular profile do to the raw ratio.

Features (:func:`voice_frames`) are MFCC c1..c24 with deltas (a few more cepstra than the
diarization's 19 measured better on dev conversations), normalised per *voice*: the mean and spread of
one voice's own frames are removed, on the enrollment take and on each speaker of a conversation
alike (a fixed microphone or room filter is a constant offset in the cepstrum). Telephone-band
recordings (:func:`listenkit.features.bandwidth`) are scored with features of the telephone band only, from a second
background model, so a profile made on a laptop still fits its owner on a phone call.
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from . import wording
from .diarization.models import DiagGMM
from .errors import ProfileError
from .features import deltas, mfcc
from .fileio import atomic_write_bytes

#: The background models shipped with listenkit.
UBM_PATH = Path(__file__).with_name("voice_ubm.npz")
#: Mel bands (0-based, of 40) of each feature band; "narrow" is inside the telephone band (~350-3100 Hz).
BANDS = {"wide": slice(0, 40), "narrow": slice(5, 28)}
#: Cepstral coefficients per frame (c1..c24; the telephone band's 23 mel bands give c1..c22).
N_CEPS = 24
#: MAP relevance factor: frames a component needs before the user's data outweighs the background.
RELEVANCE = 16.0
#: Components scored per frame (the best of the background model; adapted models share them).
TOP_COMPONENTS = 5
#: Frames per block when the cepstra of a whole recording are made (bounds the temporaries).
_CEPSTRA_BLOCK = 1 << 15
#: At most this many frames of one voice are scored (evenly spread), to bound the time.
MAX_SCORED_FRAMES = 6000


def band_cepstra(log_mel: np.ndarray, band: str = "wide") -> tuple[np.ndarray, np.ndarray]:
    """MFCC c1..c24 (c1..c22 narrow) of every frame and their deltas, before any normalisation.

    Computed once per recording and band, they serve every :func:`voice_frames` call on it.

    Returns
    -------
    ceps, deltas : ndarray of float32, shape (n_frames, 24) wide or (n_frames, 22) narrow
        The deltas run over consecutive frames (as the diarization's do), whatever the mask later.
    """
    n = log_mel.shape[0]
    n_bands = len(range(log_mel.shape[1])[BANDS[band]])
    ceps = np.empty((n, min(N_CEPS + 1, n_bands) - 1), np.float32)
    # in blocks: a whole hour at once would hold ~200 MB of temporaries (float32 copies, the DCT,
    # the padded deltas); each block's deltas see the two frames either side, so nothing changes
    for a in range(0, n, _CEPSTRA_BLOCK):
        ceps[a : a + _CEPSTRA_BLOCK] = mfcc(log_mel[a : a + _CEPSTRA_BLOCK, BANDS[band]], N_CEPS + 1)[:, 1:]
    d = np.empty_like(ceps)
    for a in range(0, n, _CEPSTRA_BLOCK):
        b = min(n, a + _CEPSTRA_BLOCK)
        lo, hi = max(0, a - 2), min(n, b + 2)
        d[a:b] = deltas(ceps[lo:hi])[a - lo : a - lo + b - a]
    return ceps, d


def voice_frames(log_mel: np.ndarray, mask: np.ndarray, band: str = "wide",
                 cepstra: tuple[np.ndarray, np.ndarray] | None = None, max_frames: int | None = None) -> np.ndarray:
    """One voice's frames as the profile models them: normalised over that voice's own frames.

    Parameters
    ----------
    log_mel : ndarray, shape (n_frames, 40)
        Natural-log mel powers per 10 ms frame.
    mask : ndarray of bool, shape (n_frames,)
        The frames of this voice.
    band : {"wide", "narrow"}
        ``"wide"``: MFCCs of all 40 mel bands (60-7600 Hz); ``"narrow"``: MFCCs of the 23 mel bands
        inside the telephone band, which are the same whether the recording is wideband or not.
    cepstra : tuple of ndarray, optional
        :func:`band_cepstra` of ``log_mel`` and ``band``, when several voices of one recording are
        looked at (computed here otherwise).
    max_frames : int, optional
        Return at most this many of the frames, evenly spread (as :func:`verification_score` would
        keep them); the normalisation still uses them all.

    Returns
    -------
    ndarray of float32, shape (mask.sum(), 48) wide or (mask.sum(), 44) narrow
        MFCC c1..c24 (c1..c22 narrow), normalised to zero mean and unit variance over the masked
        frames, with their deltas (computed over consecutive frames, as the diarization does).
    """
    ceps, d = cepstra if cepstra is not None else band_cepstra(log_mel, band)
    index = np.flatnonzero(mask[: ceps.shape[0]])
    if index.size == 0:
        return np.zeros((0, 2 * ceps.shape[1]), np.float32)
    own = ceps[index]
    mean = own.mean(axis=0)
    std = own.std(axis=0) + 1e-3
    if max_frames is not None and index.size > max_frames:
        keep = _spread(index.size, max_frames)
        own, index = own[keep], index[keep]
    # deltas are linear and blind to a constant: those of the normalised cepstra are deltas / std
    return np.hstack([(own - mean) / std, d[index] / std]).astype(np.float32)


def _spread(n: int, m: int) -> np.ndarray:
    """``m`` positions evenly spread over ``range(n)`` (first and last included)."""
    return np.linspace(0, n - 1, m).astype(int)


@dataclass
class Background:
    """The background of one band.

    Attributes
    ----------
    ubm : DiagGMM
        The universal background model (k components over d features).
    cohort : ndarray, shape (n_voices, k, d)
        Means of other voices MAP-adapted from ``ubm`` (weights and variances are the UBM's).
    """

    ubm: DiagGMM
    cohort: np.ndarray


def background_id(backgrounds: dict[str, Background]) -> str:
    """A short fingerprint of the background models (a profile only fits those it was adapted from)."""
    h = hashlib.sha256()
    for band in sorted(backgrounds):
        g = backgrounds[band].ubm
        for a in (g.weights, g.means, g.variances):
            h.update(np.ascontiguousarray(a, dtype="<f4").tobytes())
    return h.hexdigest()[:16]


def save_backgrounds(backgrounds: dict[str, Background], path: str | Path, *, source: str) -> Path:
    """Write the background models (UBMs in float32, cohort means in float16) as ``.npz``."""
    arrays: dict[str, np.ndarray] = {"source": np.array(source)}
    for band, b in backgrounds.items():
        for key in ("weights", "means", "variances"):
            arrays[f"{band}_{key}"] = getattr(b.ubm, key).astype(np.float32)
        arrays[f"{band}_cohort"] = b.cohort.astype(np.float16)
    buf = io.BytesIO()
    np.savez_compressed(buf, **arrays)
    return atomic_write_bytes(path, buf.getvalue(), mode=0o644)


@lru_cache(maxsize=2)
def load_backgrounds(path: Path = UBM_PATH) -> dict[str, Background]:
    """The background of every band, read once.

    Raises
    ------
    ProfileError
        When the file is missing or unreadable: listenkit is not installed completely.
    """
    try:
        with np.load(path) as z:
            out = {}
            for band in BANDS:
                ubm = DiagGMM(*(np.asarray(z[f"{band}_{k}"], dtype=np.float64) for k in ("weights", "means", "variances")))
                out[band] = Background(ubm, np.asarray(z[f"{band}_cohort"], dtype=np.float32))
            return out
    except (OSError, KeyError, ValueError) as exc:
        raise ProfileError(f"{path}: {wording.PROFILE_NO_UBM.format(detail=exc)}") from None


def map_adapt(ubm: DiagGMM, x: np.ndarray, relevance: float = RELEVANCE) -> np.ndarray:
    """Means of ``ubm`` moved towards frames ``x`` (n, d) by MAP adaptation, shape (k, d)."""
    c = ubm.component_loglik(x)
    c -= c.max(axis=1, keepdims=True)
    post = np.exp(c)
    post /= post.sum(axis=1, keepdims=True)
    nk = post.sum(axis=0).astype(np.float64)
    ex = (post.T @ np.asarray(x, dtype=np.float32)).astype(np.float64) / np.maximum(nk[:, None], 1e-9)
    alpha = (nk / (nk + relevance))[:, None]
    return alpha * ex + (1.0 - alpha) * ubm.means


def _llr(ubm: DiagGMM, means: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Mean log-likelihood ratio of frames ``x`` under models with the given means against ``ubm``.

    Only the :data:`TOP_COMPONENTS` best background components of each frame are evaluated (the
    usual fast scoring of adapted models, which share their components with the background). The
    models share the background's weights and variances too, so each component's log-density splits
    into a part of the frame alone, computed once, and the means' part ``x . (mu / var) -
    0.5 mu . (mu / var)``: one matrix product per model.

    Parameters
    ----------
    means : ndarray, shape (m, k, d)
        Means of ``m`` adapted models.

    Returns
    -------
    ndarray, shape (m,)
        Nats per frame.
    """
    x = np.asarray(x, dtype=np.float32)
    comp = ubm.component_loglik(x)
    top = np.argpartition(-comp, TOP_COMPONENTS - 1, axis=1)[:, :TOP_COMPONENTS]  # (n, T)
    base = np.logaddexp.reduce(np.take_along_axis(comp, top, axis=1), axis=1)
    prec = (1.0 / ubm.variances).astype(np.float32)  # (k, d)
    const = (np.log(ubm.weights) - 0.5 * (x.shape[1] * np.log(2 * np.pi) + np.log(ubm.variances).sum(axis=1)))
    # the frame's own part of each selected component: log w - 0.5 (log det + x . x / var)
    own = np.take_along_axis(const.astype(np.float32)[None, :] - 0.5 * ((x * x) @ prec.T), top, axis=1)  # (n, T)
    out = np.empty(means.shape[0])
    for i, m in enumerate(np.asarray(means, dtype=np.float32)):
        mp = m * prec  # (k, d)
        quad = 0.5 * (m * mp).sum(axis=1)  # (k,)
        ll = own + np.take_along_axis(x @ mp.T, top, axis=1) - quad[top]  # (n, T)
        peak = ll.max(axis=1, keepdims=True)  # log-sum-exp over the selected components
        out[i] = float(np.mean(peak[:, 0] + np.log(np.exp(ll - peak).sum(axis=1)) - base))
    return out


def verification_score(background: Background, means: np.ndarray, x: np.ndarray) -> float:
    """T-normalised score of frames ``x`` (n, d) against a profile's adapted ``means`` (k, d).

    Returns
    -------
    float
        ``(llr(profile) - mean(llr(cohort))) / std(llr(cohort))``: standard deviations above how
        well a typical other voice explains these frames.
    """
    if x.shape[0] > MAX_SCORED_FRAMES:
        x = x[_spread(x.shape[0], MAX_SCORED_FRAMES)]
    x = np.asarray(x, dtype=np.float32)
    llr = _llr(background.ubm, np.concatenate([means[None], background.cohort]), x)
    cohort = llr[1:]
    return float((llr[0] - cohort.mean()) / max(cohort.std(), 1e-6))
