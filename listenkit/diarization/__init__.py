"""Who spoke when, from stored per-frame features: clustering, speaker count, re-segmentation, and
a last check that drops faint, noise-like stretches (:mod:`.faint_noise`).

The voice detector gives two levels of speech (:class:`listenkit.vad.VoiceActivityDetector`): the
voices are counted and described on its own decisions only, so a looser detector cannot move the
count; the re-segmentation then labels the frames of the looser level too (far voices in noise).
Its "two voices at once" states take a learned detector's evidence into account
(:mod:`.overlap_detector`).

:func:`diarize` is the whole second look at a recording. It needs only the compact per-frame rows the
streaming stages kept (log-mel powers and voice activity), never the audio, so memory stays small.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..features import bandwidth
from ..params import DEFAULT_PARAMS, AnalysisParams
from .clustering import Merge, count_and_cut, cut_tree, noise_clusters, top_merges, two_voice_distance, ward_tree
from .frames import FrameFeatures, Windows, make_windows, speech_features
from .faint_noise import drop_doubtful_extra, drop_faint_noise
from .known_voice import VoiceScorer, use_known_voice
from .overlap_detector import overlap_log_odds
from .resegment_speakers import resegment

__all__ = ["Diarization", "diarize"]

FRAME_S = 0.01


@dataclass
class Diarization:
    """Result of :func:`diarize`.

    Attributes
    ----------
    activity : ndarray of bool, shape (n_frames, n_speakers)
        Who speaks in each 10 ms frame; columns ordered by first speech.
    merges : list of Merge
        The clustering tree's top merges, highest first: the evidence behind the speaker count.
    """

    activity: np.ndarray
    merges: list[Merge] = field(default_factory=list)

    @property
    def n_speakers(self) -> int:
        return int(self.activity.shape[1])


def diarize(log_mel: np.ndarray, speech: np.ndarray, *, params: AnalysisParams = DEFAULT_PARAMS,
            num_speakers: int | None = None, loose_speech: np.ndarray | None = None,
            voice: VoiceScorer | None = None) -> Diarization:
    """Find who spoke when.

    Parameters
    ----------
    log_mel : ndarray, shape (n_frames, 40)
        Log-mel powers per 10 ms frame (:class:`listenkit.features.FeatureExtractor` rows without the
        energy column).
    speech : ndarray of bool, shape (n_frames,)
        Voice activity per frame.
    params : AnalysisParams
    num_speakers : int, optional
        The number of speakers when the user knows it (1-6); found automatically otherwise.
    loose_speech : ndarray of bool, shape (n_frames,), optional
        The voice detector's looser level (:meth:`listenkit.vad.VoiceActivityDetector.process_levels`).
        Voices are counted and described on ``speech`` alone; the re-segmentation then labels the
        frames of either. The extra frames are mostly a far voice in noise, partly noise: the faint
        check looks at the stretches of ``speech`` first, then at the whole activity.
    voice : VoiceScorer, optional
        The enrolled user's voice profile. When the count is found automatically, the clusters that
        sound like it are merged and a cluster mixing it with another voice is split
        (:func:`~listenkit.diarization.known_voice.use_known_voice`).
    """
    n_frames = int(speech.shape[0])
    ff = speech_features(log_mel, speech)
    if ff.index.size == 0:
        return Diarization(np.zeros((n_frames, 0), dtype=bool))
    # the frames the re-segmentation labels: those of either level (None: no more than ``speech``)
    either = None if loose_speech is None else np.asarray(loose_speech, dtype=bool)[:n_frames] | speech
    if either is not None and int(either.sum()) == ff.index.size:
        either = None
    strict = None if either is None else speech
    labelled = ff.index if either is None else np.flatnonzero(either)
    # telephone band has a projection of its own, learned from telephone-band voices (the wideband
    # one, learned mostly from wideband voices, had raised the real phone call's DER from 6.6 to 8.6 %)
    narrow = bandwidth(log_mel, speech) == "narrow"
    win = make_windows(ff, int(round(params.window_s / FRAME_S)), band="narrow" if narrow else "wide")
    if len(win) < 3 or num_speakers == 1 or (num_speakers is None and params.max_speakers == 1):
        return _single_speaker(n_frames, labelled, log_mel, params, strict=strict)
    tree = ward_tree(win)
    merges = top_merges(win, tree, params.max_speakers)
    if num_speakers is not None:
        labels = cut_tree(tree, min(num_speakers, len(win)))
    else:
        labels = _count_voices(ff, win, tree, params, narrow)
        if labels is None:
            if voice is None:
                return _single_speaker(n_frames, labelled, log_mel, params, merges, strict=strict)
            labels = np.zeros(len(win), dtype=int)
    noise: frozenset[int] = frozenset()
    if labels.max() > 0 and num_speakers is None:
        # a count the user gave is kept as given; otherwise a quiet, noise-like cluster is nobody
        # (the loudest cluster never is, so at least one voice remains)
        noise = noise_clusters(log_mel, ff, win, labels, below_db=params.noise_cluster_db,
                               min_flatness=params.noise_cluster_flatness,
                               max_change_db=params.noise_cluster_change_db,
                               far_db=params.noise_cluster_far_db)
    if noise:
        # when the first cut split noise from all the voices together, the voices are told apart
        # only now (the 8 kHz copy of examples/conversation.flac lost its second voice before)
        labels, noise = _recount_without_noise(ff, win, labels, noise, params, narrow)
    if voice is not None and num_speakers is None:
        labels, noise = use_known_voice(
            log_mel, ff, win, labels, noise, voice, merge_above=params.known_voice_merge,
            split_clear=params.known_voice_split_clear,
            split_high=params.known_voice_split_high, split_low=params.known_voice_split_low,
            pieces=params.known_voice_pieces, min_frames=_min_speaker_frames(win, params),
            two_voices=params.single_voice_distance_narrowband if narrow else params.single_voice_distance)
    if labels.max() == 0:
        return _single_speaker(n_frames, labelled, log_mel, params, merges, strict=strict)
    if either is not None:
        # the strict frames' features are let go before those of both levels are made (memory)
        index = ff.index
        del ff
        ff = speech_features(log_mel, either)
        win = _windows_in(win, index, ff.index)
    odds = None
    if params.overlap_detection and params.overlap_detector_weight > 0:
        odds = overlap_log_odds(log_mel, speech, ff.index)
    activity = resegment(log_mel, ff, win, labels, params=params, n_frames=n_frames, noise=noise,
                         overlap_log_odds=odds)
    return Diarization(_order_by_first_speech(_without_faint_noise(activity, log_mel, params, strict)), merges)


def _windows_in(win: Windows, index: np.ndarray, labelled: np.ndarray) -> Windows:
    """The windows with their bounds moved from positions in ``index`` to positions in ``labelled``
    (frame numbers, increasing; ``labelled`` holds every frame of ``index``): a window then spans
    the frames of either level between its first and last frame."""
    first = index[win.bounds[:, 0]]
    last = index[win.bounds[:, 1] - 1]
    bounds = np.stack([np.searchsorted(labelled, first), np.searchsorted(labelled, last, side="right")], axis=1)
    return Windows(bounds, win.vectors)


def _count_voices(ff: FrameFeatures, win: Windows, tree: np.ndarray, params: AnalysisParams,
                  narrow: bool) -> np.ndarray | None:
    """Window labels for the speaker count the tree shows, or None when it holds one voice."""
    threshold = params.single_voice_distance_narrowband if narrow else params.single_voice_distance
    if two_voice_distance(ff, win, tree) < threshold:
        return None
    return count_and_cut(win, tree, min_distance=params.speaker_distance, min_frames=_min_speaker_frames(win, params),
                         max_speakers=params.max_speakers, third_distance=params.third_speaker_distance,
                         ff=ff, third_held_out=params.third_speaker_held_out)


def _min_speaker_frames(win: Windows, params: AnalysisParams) -> int:
    """Speech frames a cluster needs to count as a person (``min_speaker_s``, or a fraction of the
    clustered speech in a short recording)."""
    clustered = int((win.bounds[:, 1] - win.bounds[:, 0]).sum())
    return int(min(params.min_speaker_s / FRAME_S, params.min_speaker_fraction * clustered))


def _recount_without_noise(ff: FrameFeatures, win: Windows, labels: np.ndarray, noise: frozenset[int],
                           params: AnalysisParams, narrow: bool) -> tuple[np.ndarray, frozenset[int]]:
    """Count the voices again among the windows that are not noise.

    A split spent on noise is not spent on voices: when the first cut separated the noise from all
    the voices together, the voices are told apart only here. Returns the new labels (voices 0..k-1,
    every noise window k) and the noise label set ``{k}``.
    """
    keep = ~np.isin(labels, sorted(noise))
    voices = Windows(win.bounds[keep], win.vectors[keep])
    sub = _count_voices(ff, voices, ward_tree(voices), params, narrow) if len(voices) >= 3 else None
    sub = np.zeros(len(voices), dtype=int) if sub is None else sub
    k = int(sub.max()) + 1
    out = np.full(len(win), k, dtype=int)
    out[keep] = sub
    return out, frozenset({k})


def _single_speaker(n_frames: int, frames: np.ndarray, log_mel: np.ndarray, params: AnalysisParams,
                    merges: list[Merge] | None = None, *, strict: np.ndarray | None = None) -> Diarization:
    """Every frame of ``frames`` (frame numbers) as one speaker's, without faint noise."""
    act = np.zeros((n_frames, 1), dtype=bool)
    act[frames, 0] = True
    return Diarization(_order_by_first_speech(_without_faint_noise(act, log_mel, params, strict)), merges or [])


def _without_faint_noise(activity: np.ndarray, log_mel: np.ndarray, params: AnalysisParams,
                         strict: np.ndarray | None = None) -> np.ndarray:
    """Activity without faint noise (:func:`drop_faint_noise`).

    With ``strict`` (the detector's own level, when the looser level added frames), the stretches of
    strict frames are judged first, as if the looser level were not there, then the stretches of
    what is left: a noisy stretch of strict frames must not escape because loose frames of real
    speech joined it (the real interview talkbank-jpn-tyo kept 0.8 s of noise that way); last,
    stretches only the looser level heard go when they are flat or faint (:func:`drop_doubtful_extra`).
    """
    def drop(act: np.ndarray) -> np.ndarray:
        return drop_faint_noise(act, log_mel, below_db=params.faint_noise_db,
                                min_flatness=params.faint_noise_flatness, very_faint_db=params.very_faint_db,
                                steady_below_db=params.faint_steady_db, max_steadiness_db=params.faint_steadiness_db,
                                max_faint_steadiness_db=params.faint_far_steadiness_db)

    if strict is None:
        return drop(activity)
    within = activity & strict[:, None]
    activity = drop(activity & ~(within & ~drop(within)))
    return drop_doubtful_extra(activity, log_mel, strict, min_flatness=params.faint_noise_flatness,
                               below_db=params.faint_noise_db)


def _order_by_first_speech(activity: np.ndarray) -> np.ndarray:
    keep = activity.any(axis=0)
    activity = activity[:, keep]
    if activity.shape[1] == 0:
        return activity
    first = [int(np.argmax(activity[:, k])) for k in range(activity.shape[1])]
    return activity[:, np.argsort(first, kind="stable")]
