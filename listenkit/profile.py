"""The user's voice profile: a model of their voice, stored on disk, that finds them in a recording.

The method is the classic GMM-UBM of speaker verification (Reynolds, Quatieri & Dunn, 2000):

- a **background model** (UBM) ships with listenkit (``voice_ubm.npz``): a Gaussian mixture of
  :data:`UBM_COMPONENTS` components over the features below, trained by ``calibration/eval_enroll.py
  --build-ubm`` on many other voices heard as a laptop hears them (noise, rooms, telephone band).
  It was made from the dev voices of LibriSpeech train-clean-100 (CC BY 4.0, Panayotov et al. 2015);
- **enrollment** moves the UBM's means towards the user's frames (MAP adaptation, relevance factor
  :data:`RELEVANCE`): components the take says much about move a lot, the rest stay generic;
- **matching** scores each speaker found in a recording by the average log-likelihood ratio of the
  profile against the UBM over that speaker's frames (nats per frame). A voice like the user's
  scores well above 0, other voices near or below 0 whatever the recording's level or channel, so
  one threshold (:data:`ABSENT_THRESHOLD`, tuned on dev conversations only) says "not in this
  recording". The best-scoring speaker above it is labelled "you".

Features (:func:`voice_frames`): MFCC c1..c19 with deltas, as the diarization computes them
(:func:`listenkit.diarization.frames.speech_features`), normalised per *voice*: the mean and spread of
one voice's own frames are removed, on the enrollment take and on each speaker found in a
conversation alike. That removes most of what the microphone, the room and the distance add to every
frame of a voice (a fixed filter is a constant offset in the cepstrum), the same way on both sides.

What is stored (JSON, versioned, mode 0600, in :func:`listenkit.userdata.data_dir`): the adapted
means of the mixture, which background model they were adapted from, the room's noise
floor and a few figures about the take. No audio, and nothing from which audio could be rebuilt.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass, field
from datetime import datetime, timezone
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from . import wording
from .diarization.frames import N_CEPS, speech_features
from .diarization.models import DiagGMM, score
from .errors import ProfileError
from .fileio import atomic_write_bytes, atomic_write_text
from .userdata import data_dir

#: ``format`` key of a profile file.
PROFILE_FORMAT = "listenkit.voice-profile"
#: Current version of the file format (and of the features it describes).
PROFILE_VERSION = 1
#: Name of the stored profile inside the data folder.
PROFILE_FILE_NAME = "voice-profile.json"
#: The background model shipped with listenkit.
UBM_PATH = Path(__file__).with_name("voice_ubm.npz")
#: Gaussian components of the background model (and so of every profile).
UBM_COMPONENTS = 128
#: MAP relevance factor: frames a component needs before the user's data outweighs the background.
RELEVANCE = 24.0
#: A found speaker needs this much speech (frames of 10 ms, overlap excluded) to be scored.
MIN_SPEAKER_FRAMES = 300
#: Score (log-likelihood ratio, nats per frame) above which the best speaker is the user; tuned on dev data.
ABSENT_THRESHOLD = 0.05
#: Largest profile file read, bytes (a real one is about 60 kB).
MAX_FILE_BYTES = 4_000_000
FEATURE_DESCRIPTION = f"mfcc c1-c{N_CEPS} + deltas, per-voice mean and variance normalised"


def voice_frames(log_mel: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """One voice's frames as the profile models them: normalised over that voice's own frames.

    Parameters
    ----------
    log_mel : ndarray, shape (n_frames, 40)
        Natural-log mel powers per 10 ms frame.
    mask : ndarray of bool, shape (n_frames,)
        The frames of this voice.

    Returns
    -------
    ndarray of float32, shape (mask.sum(), 38)
        MFCC c1..c19 normalised to zero mean and unit variance over the masked frames, with deltas.
    """
    return speech_features(log_mel, mask).full


# ------------------------------------------------------------------------------------ background model
def ubm_id(ubm: DiagGMM) -> str:
    """A short fingerprint of a background model (a profile only fits the UBM it was adapted from)."""
    h = hashlib.sha256()
    for a in (ubm.weights, ubm.means, ubm.variances):
        h.update(np.ascontiguousarray(a, dtype="<f4").tobytes())
    return h.hexdigest()[:16]


def save_ubm(ubm: DiagGMM, path: str | Path, *, source: str) -> Path:
    """Write a background model (float32 arrays and a note on what it was trained on) as ``.npz``."""
    import io

    buf = io.BytesIO()
    np.savez_compressed(buf, weights=ubm.weights.astype(np.float32), means=ubm.means.astype(np.float32),
                        variances=ubm.variances.astype(np.float32), source=np.array(source))
    return atomic_write_bytes(path, buf.getvalue(), mode=0o644)


@lru_cache(maxsize=2)
def load_ubm(path: Path = UBM_PATH) -> DiagGMM:
    """The background model (read once).

    Raises
    ------
    ProfileError
        When the file is missing or unreadable: listenkit is not installed completely.
    """
    try:
        with np.load(path) as z:
            arrays = [np.asarray(z[k], dtype=np.float64) for k in ("weights", "means", "variances")]
    except (OSError, KeyError, ValueError) as exc:
        raise ProfileError(f"{path}: {wording.PROFILE_NO_UBM.format(detail=exc)}") from None
    return DiagGMM(*arrays)


def map_adapt(ubm: DiagGMM, x: np.ndarray, relevance: float = RELEVANCE) -> DiagGMM:
    """Means of ``ubm`` moved towards frames ``x`` (n, d) by MAP adaptation; weights and variances kept."""
    c = ubm.component_loglik(x)
    c -= c.max(axis=1, keepdims=True)
    post = np.exp(c)
    post /= post.sum(axis=1, keepdims=True)
    nk = post.sum(axis=0).astype(np.float64)
    ex = (post.T @ np.asarray(x, dtype=np.float32)).astype(np.float64) / np.maximum(nk[:, None], 1e-9)
    alpha = (nk / (nk + relevance))[:, None]
    return DiagGMM(ubm.weights.copy(), alpha * ex + (1.0 - alpha) * ubm.means, ubm.variances.copy())


@dataclass
class VoiceProfile:
    """A model of the user's voice: the background model with its means adapted to the user.

    Attributes
    ----------
    means : ndarray, shape (128, 38)
        Adapted component means of the normalised features (weights and variances are the UBM's).
    ubm : str
        Fingerprint (:func:`ubm_id`) of the background model the means were adapted from.
    noise_floor_db : float
        The enrollment room's noise floor, dBFS (for ``Analyzer(initial_noise_floor_db=...)``).
    speech_s : float
        Seconds of speech the profile was made from.
    speech_level_db : float
        Active speech level of the take, dBFS.
    created : str
        When the profile was made (UTC, ISO 8601).
    path : Path or None
        The file it was loaded from or saved to.
    last_scores : ndarray or None
        The scores of the last :meth:`match` (one per speaker), for diagnostics.
    """

    means: np.ndarray
    ubm: str
    noise_floor_db: float
    speech_s: float
    speech_level_db: float
    created: str = field(default_factory=lambda: datetime.now(timezone.utc).isoformat(timespec="seconds"))
    path: Path | None = None
    last_scores: np.ndarray | None = field(default=None, repr=False, compare=False)

    # --------------------------------------------------------------------------------- building
    @classmethod
    def from_frames(cls, log_mel: np.ndarray, speech: np.ndarray, *, noise_floor_db: float,
                    speech_level_db: float) -> VoiceProfile:
        """Model the voice in an enrollment take.

        Parameters
        ----------
        log_mel : ndarray, shape (n_frames, 40)
            Log-mel rows of the take.
        speech : ndarray of bool, shape (n_frames,)
            Voice activity of the take.
        noise_floor_db, speech_level_db : float
            Measured on the take, dBFS.

        Raises
        ------
        ValueError
            When the take has less than :data:`MIN_SPEAKER_FRAMES` speech frames (the take checks of
            :mod:`listenkit.enroll` ask for far more).
        """
        speech = np.asarray(speech, dtype=bool)
        n = int(np.count_nonzero(speech))
        if n < MIN_SPEAKER_FRAMES:
            raise ValueError(f"a voice profile needs at least {MIN_SPEAKER_FRAMES} speech frames, got {n}")
        ubm = load_ubm()
        adapted = map_adapt(ubm, voice_frames(log_mel, speech))
        return cls(means=adapted.means, ubm=ubm_id(ubm), noise_floor_db=float(noise_floor_db),
                   speech_s=n * 0.01, speech_level_db=float(speech_level_db))

    def model(self) -> DiagGMM:
        """The profile as a mixture, scorable with :func:`listenkit.diarization.models.score`.

        Raises
        ------
        ProfileError
            When the profile was adapted from another background model than this listenkit's.
        """
        ubm = load_ubm()
        if ubm_id(ubm) != self.ubm:
            name = self.path if self.path is not None else "voice profile"
            raise ProfileError(f"{name}: {wording.PROFILE_OTHER_UBM}")
        return DiagGMM(ubm.weights, self.means, ubm.variances)

    # --------------------------------------------------------------------------------- matching
    def scores(self, log_mel: np.ndarray, activity: np.ndarray) -> np.ndarray:
        """How much more like the profile than like voices in general each found speaker sounds.

        Parameters
        ----------
        log_mel : ndarray, shape (n_frames, 40)
            Natural-log mel powers per 10 ms frame.
        activity : ndarray of bool, shape (n_frames, n_speakers)
            Who speaks in each frame.

        Returns
        -------
        ndarray, shape (n_speakers,)
            Mean log-likelihood ratio, profile against background, over the speaker's frames outside
            overlaps (nats per frame); ``-inf`` for a speaker with less than
            :data:`MIN_SPEAKER_FRAMES` such frames.
        """
        activity = np.asarray(activity, dtype=bool)
        n = min(log_mel.shape[0], activity.shape[0])
        log_mel, activity = log_mel[:n], activity[:n]
        alone = activity & (activity.sum(axis=1, keepdims=True) == 1)
        profile, ubm = self.model(), load_ubm()
        out = np.full(activity.shape[1], -np.inf)
        for k in range(activity.shape[1]):
            if np.count_nonzero(alone[:, k]) < MIN_SPEAKER_FRAMES:
                continue
            x = voice_frames(log_mel, alone[:, k])
            out[k] = float(np.mean(score(profile, x) - score(ubm, x)))
        return out

    def match(self, log_mel: np.ndarray, activity: np.ndarray) -> int | None:
        """The column of ``activity`` that is the user, or None when the user is not in the recording.

        Parameters
        ----------
        log_mel : ndarray, shape (n_frames, 40)
            Natural-log mel powers per 10 ms frame.
        activity : ndarray of bool, shape (n_frames, n_speakers)
            Who speaks in each frame (the diarization's output).

        Returns
        -------
        int or None
            The best-scoring speaker when its score exceeds :data:`ABSENT_THRESHOLD`.
        """
        if activity.ndim != 2 or activity.shape[1] == 0:
            self.last_scores = np.zeros(0)
            return None
        s = self.scores(log_mel, activity)
        self.last_scores = s
        best = int(np.argmax(s))
        return best if s[best] > ABSENT_THRESHOLD else None

    # --------------------------------------------------------------------------------- file format
    def to_dict(self) -> dict[str, Any]:
        """The profile as the JSON object written to disk."""

        def rounded(a: np.ndarray) -> list:
            return np.round(np.asarray(a, dtype=np.float64), 6).tolist()

        return {
            "format": PROFILE_FORMAT,
            "version": PROFILE_VERSION,
            "created": self.created,
            "features": FEATURE_DESCRIPTION,
            "speech_s": round(float(self.speech_s), 2),
            "speech_level_db": round(float(self.speech_level_db), 2),
            "noise_floor_db": round(float(self.noise_floor_db), 2),
            "model": {"ubm": self.ubm, "relevance": RELEVANCE, "means": rounded(self.means)},
        }

    @classmethod
    def from_dict(cls, data: Any, *, name: str = "voice profile") -> VoiceProfile:
        """Check and read a profile object (as written by :meth:`to_dict`).

        Raises
        ------
        ProfileError
            Not a listenkit voice profile, a newer format version, or damaged contents.
        """
        if not isinstance(data, dict) or data.get("format") != PROFILE_FORMAT:
            raise ProfileError(f"{name}: {wording.PROFILE_NOT_PROFILE}")
        version = data.get("version")
        if not isinstance(version, int) or isinstance(version, bool) or version < 1:
            raise ProfileError(f"{name}: {wording.PROFILE_DAMAGED.format(detail='no valid version number')}")
        if version > PROFILE_VERSION:
            raise ProfileError(f"{name}: {wording.PROFILE_NEWER.format(version=version)}")
        try:
            model = data["model"]
            means = np.asarray(model["means"], dtype=np.float64)
            ubm = model["ubm"]
            if not isinstance(ubm, str):
                raise TypeError("ubm")
            figures = {key: float(data[key]) for key in ("speech_s", "speech_level_db", "noise_floor_db")}
            created = str(data["created"])
        except (KeyError, TypeError, ValueError) as exc:
            detail = f"missing or invalid {exc}" if isinstance(exc, KeyError) else "invalid numbers"
            raise ProfileError(f"{name}: {wording.PROFILE_DAMAGED.format(detail=detail)}") from None
        problem = _means_problem(means)
        if problem is None and not all(math.isfinite(v) for v in figures.values()):
            problem = "invalid numbers"
        if problem is not None:
            raise ProfileError(f"{name}: {wording.PROFILE_DAMAGED.format(detail=problem)}")
        return cls(means=means, ubm=ubm, created=created, **figures)

    def save(self, path: str | Path | None = None) -> Path:
        """Write the profile (atomically, mode 0600); the stored profile's place when ``path`` is None.

        Raises
        ------
        OutputError
            When the file cannot be written.
        """
        target = Path(path) if path is not None else default_path()
        atomic_write_text(target, json.dumps(self.to_dict(), separators=(",", ":")) + "\n")
        self.path = target
        return target

    @classmethod
    def load(cls, path: str | Path) -> VoiceProfile:
        """Read a profile file.

        Raises
        ------
        ProfileError
            Missing, unreadable, not a profile, a newer version, or damaged.
        """
        p = Path(path)
        name = str(path)
        try:
            if p.is_dir():
                raise ProfileError(f"{name}: {wording.PROFILE_UNREADABLE.format(detail='it is a folder')}")
            if p.stat().st_size > MAX_FILE_BYTES:
                raise ProfileError(f"{name}: {wording.PROFILE_NOT_PROFILE}")
            raw = p.read_bytes()
        except FileNotFoundError:
            raise ProfileError(f"{name}: {wording.PROFILE_MISSING}") from None
        except OSError as exc:
            raise ProfileError(f"{name}: {wording.PROFILE_UNREADABLE.format(detail=exc.strerror or exc)}") from None
        try:
            data = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            looks_like_ours = PROFILE_FORMAT.encode() in raw[:200]
            if looks_like_ours:
                raise ProfileError(f"{name}: {wording.PROFILE_DAMAGED.format(detail='unreadable JSON')}") from None
            raise ProfileError(f"{name}: {wording.PROFILE_NOT_PROFILE}") from None
        profile = cls.from_dict(data, name=name)
        profile.path = p
        return profile


def _means_problem(means: np.ndarray) -> str | None:
    """What is wrong with stored means, or None when they are usable."""
    if means.shape != (UBM_COMPONENTS, 2 * N_CEPS):
        return "the model has the wrong shape"
    if not np.isfinite(means).all():
        return "invalid numbers"
    return None


# ------------------------------------------------------------------------------------------ stored profile
def default_path() -> Path:
    """Where the user's profile is stored: ``voice-profile.json`` in :func:`listenkit.userdata.data_dir`."""
    return data_dir() / PROFILE_FILE_NAME


def stored_profile() -> VoiceProfile | None:
    """The stored profile, or None when there is none.

    Raises
    ------
    ProfileError
        When the stored file is damaged (the message says how to go on without it).
    """
    path = default_path()
    if not path.exists():
        return None
    try:
        return VoiceProfile.load(path)
    except ProfileError as exc:
        raise ProfileError(f"{exc}{wording.PROFILE_STORED_HINT}") from None


def delete_profile(path: str | Path | None = None) -> Path | None:
    """Remove a profile file (the stored one when ``path`` is None); returns its path, or None when absent.

    Raises
    ------
    ProfileError
        When the file exists but cannot be removed, or is not a voice profile (never deleted then).
    """
    p = Path(path) if path is not None else default_path()
    if not p.exists():
        return None
    if p.is_dir():
        raise ProfileError(f"{p}: {wording.PROFILE_UNREADABLE.format(detail='it is a folder')}")
    if path is not None:
        try:
            VoiceProfile.load(p)
        except ProfileError as exc:
            if wording.PROFILE_NOT_PROFILE in str(exc):
                raise
    try:
        p.unlink()
    except OSError as exc:
        raise ProfileError(f"{p}: {wording.PROFILE_UNREADABLE.format(detail=exc.strerror or exc)}") from None
    return p


def resolve_profile(me: str | Path | None, no_me: bool) -> VoiceProfile | None:
    """The profile an analysis should use, from the ``--me PROFILE`` / ``--no-me`` options.

    Parameters
    ----------
    me : str or Path or None
        A profile file chosen by the user (``--me``); None for the stored profile.
    no_me : bool
        ``--no-me``: use no profile at all (wins over ``me``).

    Returns
    -------
    VoiceProfile or None
        None with ``no_me``, or when no profile is stored and none was named.

    Raises
    ------
    ProfileError
        The named (or the stored) profile is missing, damaged or of a newer version.
    """
    if no_me:
        return None
    if me is not None:
        return VoiceProfile.load(me)
    return stored_profile()
