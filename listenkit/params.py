"""Every tunable number of the analysis, declared in one place with its range.

``calibration/tune.py`` sweeps the ranges declared here (``field(metadata={"range": ...})``) and
records in ``calibration/README.md`` why each default was chosen. The five conversation constants of
DEFINITIONS.md live in :class:`Rules` with the contract's values as defaults.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from typing import Any


def _p(default: Any, lo: Any, hi: Any, doc: str) -> Any:
    """A tunable parameter: default, inclusive range, one-line meaning."""
    return field(default=default, metadata={"range": (lo, hi), "doc": doc})


@dataclass(frozen=True)
class Rules:
    """The conversation constants of DEFINITIONS.md, in seconds (defaults are the contract's)."""

    pause_bridge: float = _p(0.2, 0.0, 1.0, "a speaker's pause shorter than this does not end a talkspurt")
    bc_max: float = _p(1.0, 0.2, 3.0, "a talkspurt shorter than this can be a backchannel")
    bc_gap: float = _p(1.0, 0.0, 3.0, "how close around a silent backchannel the other speaker must be")
    handover_max: float = _p(0.5, 0.0, 2.0, "an overlap this short at the end of the other's talk is a handover")
    silence_min: float = _p(3.0, 0.5, 30.0, "nobody speaking this long is a silence")


@dataclass(frozen=True)
class AnalysisParams:
    """Tunable parameters of the signal analysis (voice activity, features, diarization)."""

    # voice activity
    vad_mode: int = _p(2, 0, 3, "webrtcvad aggressiveness (0 = keeps most speech, 3 = drops most non-speech)")
    vad_gate_db: float = _p(6.0, 0.0, 15.0, "energy gate above the adaptive noise floor, dB")
    vad_loose_gate_db: float = _p(1.5, 0.0, 15.0, "the gate of the looser second level (its extra frames are "
                                  "labelled, not clustered), dB; >= vad_gate_db: no second level")
    vad_onset_frames: int = _p(3, 1, 10, "speech frames (10 ms) in a window needed to start speech")
    vad_offset_frames: int = _p(15, 3, 60, "non-speech frames (10 ms) needed to end speech")
    vad_min_speech_s: float = _p(0.12, 0.0, 0.5, "speech runs shorter than this are dropped, s")
    # diarization
    max_speakers: int = _p(6, 1, 6, "largest speaker count considered when it is not given")
    window_s: float = _p(1.2, 0.5, 3.0, "length of the windows described for clustering, s")
    speaker_distance: float = _p(5.0, 1.0, 15.0, "distance of two clusters' centroids in the speaker projection above which they are two people")
    third_speaker_distance: float = _p(6.0, 1.0, 15.0, "the same for a third person (two is the common case: more needs clearer evidence)")
    third_speaker_held_out: float = _p(6.0, 0.0, 99.0, "... or, between the two distances, a held-out distance of the two sides this large, nats/frame")
    single_voice_distance: float = _p(3.5, 0.0, 20.0, "held-out distance of the 2-cluster cut below which the recording is one voice, nats/frame")
    single_voice_distance_narrowband: float = _p(1.5, 0.0, 20.0, "the same for telephone-band recordings (fewer bands: voices lie closer), nats/frame")
    min_speaker_s: float = _p(6.0, 0.0, 30.0, "a cluster with less speech than this is not counted as a person and is merged into its nearest, s")
    min_speaker_fraction: float = _p(0.2, 0.0, 0.5, "... or less than this fraction of the clustered speech (short recordings)")
    noise_cluster_db: float = _p(12.0, 0.0, 40.0, "a cluster this far (dB) under the loudest and noise-like is background noise, not a person")
    noise_cluster_flatness: float = _p(0.55, 0.0, 1.0, "spectral flatness (mel bands) from which such a quiet cluster counts as noise ...")
    noise_cluster_change_db: float = _p(2.5, 0.0, 6.0, "... or whose spectrum changes from frame to frame by no more than this (babble, traffic: not flat), dB; 0 = off")
    noise_cluster_far_db: float = _p(20.0, 0.0, 99.0, "a cluster this far (dB) under the loudest is background noise whatever its spectrum (voices lay at most 17.7 dB under on dev); 99 = off")
    faint_noise_db: float = _p(10.0, 0.0, 99.0, "a stretch of one speaker this far (dB) under their median and noise-like is nobody's speech")
    faint_noise_flatness: float = _p(0.45, 0.0, 1.0, "spectral flatness (mel bands) from which such a faint stretch counts as noise")
    very_faint_db: float = _p(16.0, 0.0, 99.0, "a stretch of one speaker this far (dB) under their median is nobody's speech, whatever its spectrum")
    faint_steady_db: float = _p(5.0, 0.0, 99.0, "a stretch of one speaker this far (dB) under their median ...")
    faint_steadiness_db: float = _p(3.5, 0.0, 10.0, "... whose frame energy spreads (s.d.) no more than this is nobody's speech (steady noise), dB; 0 = off")
    faint_far_steadiness_db: float = _p(5.0, 0.0, 10.0, "the same spread limit for a stretch faint_noise_db under (fainter: looser), dB; 0 = off")
    known_voice_merge: float = _p(4.0, 0.0, 20.0, "with a voice profile: a cluster scoring above this (profile score, s.d.) is merged with the best-scoring one when the two are one voice")
    known_voice_split_clear: float = _p(4.5, 0.0, 20.0, "with a voice profile: a split's user side must score above this (it is the best of several parts: other voices' best parts reached 4.4 on dev)")
    known_voice_split_high: float = _p(3.25, 0.0, 20.0, "with a voice profile: sub-clusters of the best-scoring cluster above this are the user's ...")
    known_voice_split_low: float = _p(1.5, -5.0, 20.0, "... and below this someone else's: the cluster is split when it has both")
    known_voice_pieces: int = _p(8, 2, 12, "sub-clusters the best-scoring cluster is cut into to look for another voice in it")
    switch_penalty: float = _p(30.0, 0.0, 40.0, "log-likelihood cost of a speaker change in re-segmentation, nats")
    overlap_penalty: float = _p(-0.75, -5.0, 15.0, "log-likelihood cost of the 'two voices at once' state, nats (negative: a bonus)")
    overlap_detector_weight: float = _p(0.5, 0.0, 3.0, "weight of the learned overlap detector's log-odds in the 'two voices at once' state (0 = not used)")
    gmm_components: int = _p(16, 2, 64, "Gaussian components per speaker model")
    pause_switch_factor: float = _p(0.5, 0.0, 1.0, "switch penalty multiplier across a pause of 0.2 s or more")
    resegment_passes: int = _p(2, 0, 4, "re-segmentation passes with single-speaker states")
    overlap_detection: bool = _p(True, False, True, "add 'two voices at once' states in a last pass")


DEFAULT_RULES = Rules()
DEFAULT_PARAMS = AnalysisParams()


def parameter_ranges(cls: type) -> dict[str, tuple[Any, Any]]:
    """The declared ``(low, high)`` range of each tunable field of ``cls``."""
    return {f.name: f.metadata["range"] for f in fields(cls) if "range" in f.metadata}


def with_overrides(obj: Any, **overrides: Any) -> Any:
    """A copy of a params dataclass with some fields replaced, checked against declared ranges.

    Raises
    ------
    ValueError
        For an unknown name or a value outside the declared range.
    """
    ranges = parameter_ranges(type(obj))
    for name, value in overrides.items():
        if name not in ranges:
            raise ValueError(f"unknown parameter {name!r}")
        lo, hi = ranges[name]
        if not lo <= value <= hi:
            raise ValueError(f"{name}={value!r} is outside its range [{lo}, {hi}]")
    return replace(obj, **overrides)
