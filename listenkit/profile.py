"""The user's voice profile: stored on disk, it finds the user among the speakers of a recording.

A profile is the background voice model of :mod:`listenkit.voicemodel` with its means adapted to the
user's enrollment take, for each feature band (wideband, telephone band), and the take's mean
cepstrum in each band. :meth:`VoiceProfile.match` gives every speaker found in a recording a match
score and labels the best one "you" when its score exceeds :data:`ABSENT_THRESHOLD`; below it the
user is not in the recording. The match score (:meth:`VoiceProfile.match_scores`) is the
T-normalised likelihood score (:func:`listenkit.voicemodel.verification_score`), which looks at the
voice with each speaker's own average spectrum taken out, less :data:`MEAN_CEPSTRUM_WEIGHT` times how
far that average (the speaker's mean cepstrum) lies from the take's: the two say different things
about a voice, and together they told the user from look-alike voices better than either alone.
The weight and the threshold were chosen on dev conversations only (``calibration/README.md``).

What is stored (JSON, versioned, mode 0600, in :func:`listenkit.userdata.data_dir`): the adapted
means, the take's mean cepstra, a fingerprint of the background model the means were adapted from,
the room's noise floor and a few figures about the take. No audio, and nothing from which audio
could be rebuilt.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np

from . import wording
from .errors import ProfileError
from .features import bandwidth
from .fileio import atomic_write_text
from .userdata import data_dir
from .voicemodel import (
    BANDS,
    MAX_SCORED_FRAMES,
    N_CEPS,
    RELEVANCE,
    background_id,
    band_cepstra,
    load_backgrounds,
    map_adapt,
    verification_score,
    voice_frames,
)

#: ``format`` key of a profile file.
PROFILE_FORMAT = "listenkit.voice-profile"
#: Current version of the file format (and of the features it describes). Version 2 added the take's
#: mean cepstra; a version-1 profile is still read and matched by the likelihood score alone.
PROFILE_VERSION = 2
#: Name of the stored profile inside the data folder.
PROFILE_FILE_NAME = "voice-profile.json"
#: A found speaker needs this much speech (frames of 10 ms, overlap excluded) to be scored.
MIN_SPEAKER_FRAMES = 300
#: Match score above which the best speaker is the user; chosen on dev data.
ABSENT_THRESHOLD = 2.5
#: Match-score points per unit of root-mean-square distance between a speaker's mean cepstrum and the take's.
MEAN_CEPSTRUM_WEIGHT = 1.0
#: What a version-1 profile (no mean cepstra) takes off its likelihood score: its match score is
#: then above :data:`ABSENT_THRESHOLD` when the score is above 3.5, that version's threshold.
V1_SCORE_OFFSET = 1.0
#: Largest profile file read, bytes (a real one is about 100 kB).
MAX_FILE_BYTES = 4_000_000
#: What a version-1 profile describes (its ``features`` entry).
FEATURE_DESCRIPTION_V1 = f"mfcc c1-c{N_CEPS} + deltas per band (wide, telephone), per-voice mean and variance normalised"
#: What a profile of the current version describes.
FEATURE_DESCRIPTION = f"{FEATURE_DESCRIPTION_V1}; the take's mean mfcc per band"


@dataclass
class VoiceProfile:
    """A model of the user's voice: the background models with their means adapted to the user.

    Attributes
    ----------
    means : dict of str to ndarray, shape (64, 48) wide, (64, 44) narrow
        Adapted component means per band (``"wide"``, ``"narrow"``); weights and variances are the
        background model's.
    mean_cepstra : dict of str to ndarray, shape (24,) wide, (22,) narrow; or None
        The take's mean MFCC c1..c24 (c1..c22 narrow) over its speech frames, per band
        (:func:`listenkit.voicemodel.band_cepstra`, before any normalisation); None for a profile of
        format version 1.
    ubm : str
        Fingerprint (:func:`listenkit.voicemodel.background_id`) of the background models the means
        were adapted from.
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
        The match scores of the last :meth:`match` (one per speaker), for diagnostics.
    """

    means: dict[str, np.ndarray]
    ubm: str
    noise_floor_db: float
    speech_s: float
    speech_level_db: float
    created: str = field(default_factory=lambda: datetime.now(timezone.utc).isoformat(timespec="seconds"))
    mean_cepstra: dict[str, np.ndarray] | None = None
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
        backgrounds = load_backgrounds()
        means = {band: map_adapt(backgrounds[band].ubm, voice_frames(log_mel, speech, band)) for band in BANDS}
        index = np.flatnonzero(speech[: log_mel.shape[0]])
        mean_cepstra = {band: band_cepstra(log_mel, band)[0][index].mean(axis=0, dtype=np.float64) for band in BANDS}
        return cls(means=means, ubm=background_id(backgrounds), noise_floor_db=float(noise_floor_db),
                   speech_s=n * 0.01, speech_level_db=float(speech_level_db), mean_cepstra=mean_cepstra)

    def _check_background(self) -> None:
        """Raise :class:`ProfileError` when the profile was adapted from another background model."""
        if background_id(load_backgrounds()) != self.ubm:
            name = self.path if self.path is not None else "voice profile"
            raise ProfileError(f"{name}: {wording.PROFILE_OTHER_UBM}")

    # --------------------------------------------------------------------------------- matching
    def scores(self, log_mel: np.ndarray, activity: np.ndarray) -> np.ndarray:
        """How much more each found speaker sounds like the profile than other voices do.

        Parameters
        ----------
        log_mel : ndarray, shape (n_frames, 40)
            Natural-log mel powers per 10 ms frame.
        activity : ndarray of bool, shape (n_frames, n_speakers)
            Who speaks in each frame.

        Returns
        -------
        ndarray, shape (n_speakers,)
            :func:`listenkit.voicemodel.verification_score` of each speaker's frames outside overlaps
            (telephone-band recordings in the telephone band); ``-inf`` for a speaker with less than
            :data:`MIN_SPEAKER_FRAMES` such frames.

        Raises
        ------
        ProfileError
            When the profile was made with another background model (another listenkit version).
        """
        return self._evidence(log_mel, activity, with_distances=False)[0]

    def match_scores(self, log_mel: np.ndarray, activity: np.ndarray) -> np.ndarray:
        """What :meth:`match` decides on: each found speaker's :meth:`scores` less
        :data:`MEAN_CEPSTRUM_WEIGHT` times the root-mean-square distance between the speaker's mean
        cepstrum and the take's (for a version-1 profile, which has no mean cepstra: less
        :data:`V1_SCORE_OFFSET`).

        Parameters, errors: as :meth:`scores`.

        Returns
        -------
        ndarray, shape (n_speakers,)
            ``-inf`` for a speaker with too little speech to be scored.
        """
        scores, distances = self._evidence(log_mel, activity, with_distances=self.mean_cepstra is not None)
        if distances is None:
            return scores - V1_SCORE_OFFSET
        return scores - MEAN_CEPSTRUM_WEIGHT * distances

    def _evidence(self, log_mel: np.ndarray, activity: np.ndarray, *,
                  with_distances: bool) -> tuple[np.ndarray, np.ndarray | None]:
        """Each speaker's likelihood score and (``with_distances``) mean-cepstrum distance to the take.

        Both are taken over the frames where the speaker talks alone: ``-inf`` (score) and ``inf``
        (distance) for a speaker with fewer than :data:`MIN_SPEAKER_FRAMES` of them. The distance
        is the root-mean-square difference of MFCC c1..c24 (c1..c22 in the telephone band), which a
        change of recording level does not move.
        """
        self._check_background()
        activity = np.asarray(activity, dtype=bool)
        n = min(log_mel.shape[0], activity.shape[0])
        log_mel, activity = log_mel[:n], activity[:n]
        alone = activity & (activity.sum(axis=1, keepdims=True) == 1)
        band = bandwidth(log_mel, activity.any(axis=1))
        background = load_backgrounds()[band]
        take = self.mean_cepstra[band] if with_distances and self.mean_cepstra is not None else None
        scores = np.full(activity.shape[1], -np.inf)
        distances = None if take is None else np.full(activity.shape[1], np.inf)
        cepstra = band_cepstra(log_mel, band)
        for k in range(activity.shape[1]):
            if np.count_nonzero(alone[:, k]) >= MIN_SPEAKER_FRAMES:
                x = voice_frames(log_mel, alone[:, k], band, cepstra, max_frames=MAX_SCORED_FRAMES)
                scores[k] = verification_score(background, self.means[band], x)
                if distances is not None:
                    own = cepstra[0][alone[:, k]].mean(axis=0, dtype=np.float64)
                    distances[k] = float(np.sqrt(np.mean(np.square(own - take))))
        return scores, distances

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
            The speaker with the best :meth:`match_scores` when that exceeds :data:`ABSENT_THRESHOLD`.
        """
        if activity.ndim != 2 or activity.shape[1] == 0:
            self.last_scores = np.zeros(0)
            return None
        s = self.match_scores(log_mel, activity)
        self.last_scores = s
        best = int(np.argmax(s))
        return best if s[best] > ABSENT_THRESHOLD else None

    # --------------------------------------------------------------------------------- file format
    def to_dict(self) -> dict[str, Any]:
        """The profile as the JSON object written to disk."""

        def rounded(a: np.ndarray) -> list:
            return np.round(np.asarray(a, dtype=np.float64), 6).tolist()

        model: dict[str, Any] = {"ubm": self.ubm, "relevance": RELEVANCE,
                                 "means": {band: rounded(m) for band, m in self.means.items()}}
        if self.mean_cepstra is not None:
            model["mean_cepstra"] = {band: rounded(c) for band, c in self.mean_cepstra.items()}
        return {
            "format": PROFILE_FORMAT,
            "version": PROFILE_VERSION if self.mean_cepstra is not None else 1,
            "created": self.created,
            "features": FEATURE_DESCRIPTION if self.mean_cepstra is not None else FEATURE_DESCRIPTION_V1,
            "speech_s": round(float(self.speech_s), 2),
            "speech_level_db": round(float(self.speech_level_db), 2),
            "noise_floor_db": round(float(self.noise_floor_db), 2),
            "model": model,
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
            means = {band: np.asarray(model["means"][band], dtype=np.float64) for band in BANDS}
            mean_cepstra = None
            if version >= 2:
                mean_cepstra = {band: np.asarray(model["mean_cepstra"][band], dtype=np.float64) for band in BANDS}
            ubm = model["ubm"]
            if not isinstance(ubm, str):
                raise TypeError("ubm")
            figures = {key: float(data[key]) for key in ("speech_s", "speech_level_db", "noise_floor_db")}
            created = str(data["created"])
        except (KeyError, TypeError, ValueError) as exc:
            detail = f"missing or invalid {exc}" if isinstance(exc, KeyError) else "invalid numbers"
            raise ProfileError(f"{name}: {wording.PROFILE_DAMAGED.format(detail=detail)}") from None
        problem = _means_problem(means)
        if problem is None and mean_cepstra is not None:
            problem = _mean_cepstra_problem(mean_cepstra)
        if problem is None and not all(math.isfinite(v) for v in figures.values()):
            problem = "invalid numbers"
        if problem is not None:
            raise ProfileError(f"{name}: {wording.PROFILE_DAMAGED.format(detail=problem)}")
        return cls(means=means, ubm=ubm, created=created, mean_cepstra=mean_cepstra, **figures)

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


def _means_problem(means: dict[str, np.ndarray]) -> str | None:
    """What is wrong with stored means, or None when they are usable."""
    for band, m in means.items():
        if m.shape != load_backgrounds()[band].ubm.means.shape:
            return "the model has the wrong shape"
        if not np.isfinite(m).all():
            return "invalid numbers"
    return None


def _mean_cepstra_problem(mean_cepstra: dict[str, np.ndarray]) -> str | None:
    """What is wrong with stored mean cepstra, or None when they are usable."""
    for band, c in mean_cepstra.items():
        # one number per cepstral coefficient of the band (the means' features are cepstra and deltas)
        if c.shape != (load_backgrounds()[band].ubm.means.shape[1] // 2,):
            return "the mean cepstra have the wrong shape"
        if not np.isfinite(c).all():
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
