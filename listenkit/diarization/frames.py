"""Per-frame speaker features and the ~1 s windows that clustering describes.

Input is what the streaming stages stored: log-mel rows (see :mod:`listenkit.features`) and the voice
activity decision of each 10 ms frame. Everything here is a pure function of those arrays.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..features import deltas, mfcc
from .models import EXP_FLOOR, DiagGMM
from .projection import shipped_projection

N_CEPS = 19  # c1..c19: c0 (overall level) is left out, it says more about distance to the mic than the voice


@dataclass
class FrameFeatures:
    """Normalised cepstral features of the speech frames.

    Attributes
    ----------
    index : ndarray of int, shape (n_speech,)
        Frame index (10 ms hops) of each speech frame, increasing.
    ceps : ndarray, shape (n_speech, 19)
        Mean- and variance-normalised MFCC c1..c19 (a view of the first half of ``full``).
    full : ndarray, shape (n_speech, 38)
        ``ceps`` with their deltas: what the speaker models see.
    mean, std : ndarray, shape (19,)
        The normalisation applied (to normalise synthetic overlap frames the same way).
    """

    index: np.ndarray
    ceps: np.ndarray
    full: np.ndarray
    mean: np.ndarray
    std: np.ndarray


def speech_features(log_mel: np.ndarray, speech: np.ndarray) -> FrameFeatures:
    """Cepstral features of the speech frames, normalised over the speech of this recording.

    Parameters
    ----------
    log_mel : ndarray, shape (n_frames, 40)
        Natural-log mel-band powers per 10 ms frame.
    speech : ndarray of bool, shape (n_frames,)
        Voice activity per frame.
    """
    index = np.flatnonzero(speech)
    if index.size == 0:
        empty = np.zeros((0, N_CEPS), np.float32)
        return FrameFeatures(index, empty, np.zeros((0, 2 * N_CEPS), np.float32), np.zeros(N_CEPS), np.ones(N_CEPS))
    # only the speech frames are transformed (memory: an hour has ~250k of them, 360k frames in all);
    # deltas run over the speech frames in order, across pauses. The cepstra are written straight
    # into the first half of ``full`` (``ceps`` is a view of it): no copies of an hour's frames
    full = np.empty((index.size, 2 * N_CEPS), dtype=np.float32)
    ceps = full[:, :N_CEPS]
    ceps[...] = mfcc(log_mel[index].astype(np.float32), N_CEPS + 1)[:, 1:]
    mean = ceps.mean(axis=0)
    std = ceps.std(axis=0) + 1e-3
    ceps -= mean
    ceps /= std
    full[:, N_CEPS:] = deltas(ceps)
    return FrameFeatures(index, ceps, full, mean, std)


def normalise_log_mel_chunks(log_mel: np.ndarray, ff: FrameFeatures) -> np.ndarray:
    """Features (38 per frame) of contiguous chunks of log-mel rows, normalised like ``ff``.

    Parameters
    ----------
    log_mel : ndarray, shape (n_chunks, chunk_len, 40)

    Returns
    -------
    ndarray, shape (n_chunks, chunk_len, 38)
        Deltas are taken within each chunk (edges repeated).
    """
    n, length, bands = log_mel.shape
    c = (mfcc(np.asarray(log_mel, dtype=np.float32).reshape(-1, bands), N_CEPS + 1)[:, 1:] - ff.mean) / ff.std
    c = c.reshape(n, length, -1).astype(np.float32)
    width = 2
    pad = np.pad(c, ((0, 0), (width, width), (0, 0)), mode="edge")
    d = np.zeros_like(c)
    for k in range(1, width + 1):
        d += k * (pad[:, width + k : width + k + length] - pad[:, width - k : width - k + length])
    d /= 2 * sum(k * k for k in range(1, width + 1))
    return np.concatenate([c, d], axis=2)


@dataclass
class Windows:
    """Speech cut into short windows, each described by the mean and spread of its cepstra.

    Attributes
    ----------
    bounds : ndarray of int, shape (n_windows, 2)
        ``[first, last + 1)`` positions in the speech-frame arrays of :class:`FrameFeatures`.
    vectors : ndarray, shape (n_windows, n_dims)
        Per window mean and standard deviation of c1..c19, z-scored across windows (38 numbers), then
        (with the window's supervector, when the band's projection reads one) projected to the
        speaker directions (12) unless asked not to.
    """

    bounds: np.ndarray
    vectors: np.ndarray

    def __len__(self) -> int:
        return int(self.bounds.shape[0])


def make_windows(ff: FrameFeatures, window_frames: int, *, break_frames: int = 30, min_frames: int = 30,
                 project: bool = True, band: str = "wide") -> Windows:
    """Cut the speech frames into windows of about ``window_frames`` frames (:func:`window_bounds`)
    and describe each.

    Without ``project``, each window is described by its cepstral mean and spread, z-scored across
    windows (:func:`window_statistics`; 38 numbers). With ``project`` (the default) the shipped speaker
    projection of the recording's ``band`` (``"wide"``, or ``"narrow"`` for telephone band;
    :mod:`listenkit.diarization.projection`) maps them, and the window's z-scored supervector when
    that projection reads one (:func:`window_supervectors`), to the directions that tell voices apart.
    """
    b = window_bounds(ff, window_frames, break_frames=break_frames, min_frames=min_frames)
    if b.shape[0] == 0:
        return Windows(b, np.zeros((0, 2 * N_CEPS), np.float32))
    projection = shipped_projection(band) if project else None
    if projection is None:
        return Windows(b, window_statistics(ff, b).astype(np.float32))
    v = window_descriptions(ff, b, projection.ubm, projection.relevance)
    return Windows(b, (v @ projection.matrix).astype(np.float32))


def window_descriptions(ff: FrameFeatures, bounds: np.ndarray, ubm: DiagGMM | None = None,
                        relevance: float = 0.0) -> np.ndarray:
    """What a speaker projection reads of each window: the z-scored mean and spread
    (:func:`window_statistics`) and, with a background model ``ubm``, the z-scored supervector
    (:func:`window_supervectors`) beside them; shape (n_windows, 38 or 38 + n_components * n_features)."""
    v = window_statistics(ff, bounds)
    if ubm is None or bounds.shape[0] == 0:
        return v
    return np.hstack([v, _z_scored(window_supervectors(ff, bounds, ubm, relevance))])


def window_bounds(ff: FrameFeatures, window_frames: int, *, break_frames: int = 30,
                  min_frames: int = 30) -> np.ndarray:
    """Windows of about ``window_frames`` speech frames, as ``[first, last + 1)`` positions in the
    speech-frame arrays of ``ff``, shape (n_windows, 2).

    A pause of ``break_frames`` or more always ends a window (a new speaker often starts after a
    pause); a stretch of speech is split into equal windows close to ``window_frames`` long. Windows
    shorter than ``min_frames`` are left out (too little to describe a voice); the re-segmentation
    labels their frames later.
    """
    n = ff.index.size
    if n == 0:
        return np.zeros((0, 2), int)
    breaks = np.flatnonzero(np.diff(ff.index) >= break_frames) + 1
    starts = np.concatenate(([0], breaks))
    ends = np.concatenate((breaks, [n]))
    bounds = []
    for s, e in zip(starts, ends):
        length = e - s
        if length < min_frames:
            continue
        pieces = max(1, int(round(length / window_frames)))
        cuts = np.linspace(s, e, pieces + 1).round().astype(int)
        bounds.extend(zip(cuts[:-1], cuts[1:]))
    return np.asarray(bounds, dtype=int).reshape(-1, 2)


def window_statistics(ff: FrameFeatures, bounds: np.ndarray) -> np.ndarray:
    """Mean and standard deviation of c1..c19 over each window, z-scored across the windows,
    shape (n_windows, 38), float64."""
    if bounds.shape[0] == 0:
        return np.zeros((0, 2 * N_CEPS))
    # from per-window sums in float64 (no per-window Python work on frames, and no array of running
    # sums: those took ~200 MB of temporaries for an hour)
    cnt = (bounds[:, 1] - bounds[:, 0])[:, None]
    mu = _window_sums(ff.ceps, bounds) / cnt
    var = np.maximum(_window_sums(np.square(ff.ceps), bounds) / cnt - mu * mu, 1e-6)
    return _z_scored(np.hstack([mu, np.sqrt(var)]))


#: Speech frames whose background-model posteriors are computed at once (bounds temporary memory).
SUPERVECTOR_BLOCK_FRAMES = 32768


def window_supervectors(ff: FrameFeatures, bounds: np.ndarray, ubm: DiagGMM, relevance: float) -> np.ndarray:
    """Each window's supervector: how the voice makes each sound of a background model.

    The background model is over the frames' normalised cepstra c1..c19 (``ff.ceps``, 19 features)
    or over the cepstra with their deltas (``ff.full``, 38): its dimension says which. With the
    deltas, the supervector also says how the voice moves into and out of each sound; on voices the
    projection never saw, windows of one voice were told from windows of two with a pair AUC of
    0.965-0.973 against 0.948-0.960 with the cepstra alone (``calibration/README.md``).

    Every frame is shared among the background model's components (speech sounds) by its posterior
    probabilities ``g``. For window ``w`` and component ``c``, with ``n = sum g`` and ``f = sum g x``
    over the window's frames, the adapted mean ``m = (f + r mu_c) / (n + r)`` moves from the
    component's mean ``mu_c`` towards the window's own as the window holds more frames of that sound
    (``r``: ``relevance``, frames). The supervector stacks ``sqrt(weight_c) (m - mu_c) / sigma_c``
    over the components (the classic GMM-supervector of speaker recognition).

    Parameters
    ----------
    ff : FrameFeatures
    bounds : ndarray of int, shape (n_windows, 2)
        Windows as positions in ``ff`` (increasing, not overlapping).
    ubm : DiagGMM
        Background model over the normalised cepstra c1..c19 (``ff.ceps``) or over them and their
        deltas (``ff.full``).
    relevance : float
        Frames, > 0.

    Returns
    -------
    ndarray, shape (n_windows, n_components * n_features), float64
    """
    k, d = ubm.means.shape
    if d not in (N_CEPS, 2 * N_CEPS):
        raise ValueError(f"a background model over {d} features: supervectors read {N_CEPS} or {2 * N_CEPS}")
    frames = ff.ceps if d == N_CEPS else ff.full
    zeroth = np.zeros((bounds.shape[0], k))
    first = np.zeros((bounds.shape[0], k, d))
    # windows in blocks of frames, each block's posteriors in one matrix product; a window's sums
    # are one small product of its frames' posteriors and cepstra
    w = 0
    while w < bounds.shape[0]:
        lo = int(bounds[w, 0])
        last = int(np.searchsorted(bounds[:, 1], lo + SUPERVECTOR_BLOCK_FRAMES, side="right"))
        last = max(last, w + 1)
        hi = int(bounds[last - 1, 1])
        x = frames[lo:hi]
        post = ubm.component_loglik(x)
        post -= post.max(axis=1, keepdims=True)
        post = np.exp(np.maximum(post, EXP_FLOOR))
        post /= post.sum(axis=1, keepdims=True)
        for j in range(w, last):
            a, b = int(bounds[j, 0]) - lo, int(bounds[j, 1]) - lo
            zeroth[j] = post[a:b].sum(axis=0)
            first[j] = post[a:b].T @ x[a:b]
        w = last
    mean = ubm.means[None]
    adapted = (first + relevance * mean) / (zeroth[:, :, None] + relevance)
    sv = (adapted - mean) / np.sqrt(ubm.variances)[None] * np.sqrt(ubm.weights)[None, :, None]
    return sv.reshape(bounds.shape[0], k * d)


def _z_scored(v: np.ndarray) -> np.ndarray:
    """Columns z-scored across rows (a constant column becomes 0)."""
    return (v - v.mean(axis=0)) / (v.std(axis=0) + 1e-6)


def _window_sums(x: np.ndarray, bounds: np.ndarray) -> np.ndarray:
    """Sums (float64) of the rows of ``x`` over each window ``[a, b)`` of ``bounds`` (increasing, not
    overlapping, none empty), shape (n_windows, x.shape[1])."""
    # reduceat sums from each index to the next: windows and the gaps between them alternate, and
    # a window ending at the last row needs no index after it
    edges = bounds.ravel()
    if edges[-1] == x.shape[0]:
        edges = edges[:-1]
    return np.add.reduceat(x, edges, axis=0, dtype=np.float64)[::2]
