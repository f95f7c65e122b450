"""Stretches of "speech" that are background noise: quiet for their speaker and noise-like in spectrum.

The voice detector lets some noise through (babble, clatter, hens, traffic), most of it during the
long silences where nothing louder masks it. Re-segmentation then hands those frames to whichever
voice they fit least badly, and a silence breaks into pieces. After diarization, each stretch of one
speaker's activity is looked at on its own: when its median energy lies ``below_db`` or more under
that speaker's median and its median spectral flatness is ``min_flatness`` or more, it is nobody's
speech; so is a stretch ``very_faint_db`` or more under, whatever its spectrum (hens, a distant
television: tonal noise, not flat).

Measured on the hypothesis talkspurts of the second dev set (sim-dev2, 60 conversations): false
alarms had median flatness 0.52 and lay a median 17 dB under their speaker; real speech had flatness
0.28 (99th percentile 0.58) and lay within 6 dB. Both conditions are needed: a far voice is quiet but
not flat, and a fricative is flat but not quiet. Only 17 stretches of real speech (9 s of about 5000
stretches) lay 20 dB or more under their speaker. The flat rule (10 dB, 0.45) took silence F1 from
0.73 to 0.80 on sim-dev2 and on sim-dev; the very-faint rule (16 dB) then to 0.85 and 0.87.

Steady noise that is neither flat nor very faint (babble, street noise) is caught by its level: a
voice rises and falls with its syllables, so the energy of a stretch of real speech spreads a
median 8 dB (standard deviation over its frames), and a false stretch a median 2.5 dB. A stretch
``steady_below_db`` (5 dB) or more under its speaker's median whose energy spreads
``max_steadiness_db`` (3.5 dB) or less goes. On the hypothesis stretches of sim-dev3, sim-dev2 and
sim-dev, 5-16 dB under their speaker, spreads of 3 dB or less held 124 false stretches (57 s) and
45 of real speech (10 s). Silence F1 went 0.83 -> 0.90 (sim-dev3), 0.89 -> 0.92 (sim-dev2), 0.89 ->
0.94 (sim-dev); 4.5 dB gained a little more silence on sim-dev3 but missed more speech on sim-dev.
(These sweeps ran with a steady-cluster rule in place that was later taken out; without it, on
the fifth test draw, the two rules took silence F1 from 0.83 to 0.88.)
Fainter stretches may spread more: from ``below_db`` (10 dB) under, a spread of
``max_faint_steadiness_db`` (5 dB) or less goes (street noise, 10-15 dB under its speaker, spread
3.7-4.8 dB). There, 79 false stretches (43 s) against 16 of real speech (4 s); silence F1 0.91 ->
0.94 (sim-dev3), 0.87 -> 0.89 (sim-dev-tel), sim-dev and sim-dev2 unchanged; 5.5 dB cost the AMI
meeting excerpts silences (F1 0.43 -> 0.31), 5 dB did not.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

FLATNESS_BANDS = slice(3, 30)  # mel bands with centres of about 170-3400 Hz
BLOCK_FRAMES = 16384  # frames per block of the energy and flatness computation
DB_PER_NEPER = float(10.0 / np.log(10.0))  # a natural-log power ratio times this is in dB


def energy_db(log_mel: np.ndarray) -> np.ndarray:
    """Frame energy in dB (10 log10 of the summed mel powers), shape (n,)."""
    return energy_and_flatness(log_mel)[0]


def flatness(log_mel: np.ndarray) -> np.ndarray:
    """Spectral flatness of each frame over the mel bands of 170-3400 Hz, in (0, 1], shape (n,).

    Geometric over arithmetic mean of the band powers: near 1 for flat noise, low for voiced speech.
    """
    return energy_and_flatness(log_mel)[1]


def energy_and_flatness(log_mel: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """:func:`energy_db` and :func:`flatness` of each frame from one pass over the bands.

    Powers are taken relative to each frame's loudest band (no overflow, the same ratios); frames
    are taken in blocks so the temporary arrays stay small (an hour holds ~250k speech frames).
    """
    n = log_mel.shape[0]
    energy = np.empty(n, dtype=np.float32)
    flat = np.empty(n, dtype=np.float32)
    for i in range(0, n, BLOCK_FRAMES):
        bands = np.asarray(log_mel[i : i + BLOCK_FRAMES], dtype=np.float32)
        top = bands.max(axis=1)
        power = np.exp(bands - top[:, None])
        energy[i : i + BLOCK_FRAMES] = DB_PER_NEPER * (top + np.log(power.sum(axis=1)))
        flat[i : i + BLOCK_FRAMES] = (np.exp(bands[:, FLATNESS_BANDS].mean(axis=1) - top)
                                      / power[:, FLATNESS_BANDS].mean(axis=1))
    return energy, flat


def steady(spread_db: float, limit_db: float) -> bool:
    """Whether a level spread (standard deviation of frame energies, dB) is within ``limit_db``;
    a limit of 0 means the steadiness test is off (never steady)."""
    return limit_db > 0 and spread_db <= limit_db


def drop_faint_noise(activity: np.ndarray, log_mel: np.ndarray, *, below_db: float,
                     min_flatness: float, very_faint_db: float = 99.0, steady_below_db: float = 99.0,
                     max_steadiness_db: float = 0.0, max_faint_steadiness_db: float = 0.0) -> np.ndarray:
    """Activity with the faint, noise-like stretches of each speaker removed.

    Parameters
    ----------
    activity : ndarray of bool, shape (n_frames, n_speakers)
        Who speaks in each 10 ms frame.
    log_mel : ndarray, shape (n_frames, 40)
        Natural-log mel powers per frame.
    below_db : float
        dB under the speaker's median frame energy from which a stretch counts as faint.
    min_flatness : float
        Median flatness from which a faint stretch counts as noise.
    very_faint_db : float
        dB under the speaker's median from which a stretch goes whatever its flatness.
    steady_below_db, max_steadiness_db : float
        A stretch ``steady_below_db`` or more under the speaker's median whose frame energy spreads
        (standard deviation) ``max_steadiness_db`` or less goes too: a voice's level rises and falls
        with its syllables, a steady background's does not. 0 turns this off.
    max_faint_steadiness_db : float
        The spread up to which a stretch ``below_db`` or more under goes (fainter: a looser limit);
        0 turns this off.

    Returns
    -------
    ndarray of bool, shape (n_frames, n_speakers)
        A copy; a stretch is a run of consecutive frames of one speaker.
    """
    def goes(a: int, b: int, energy: float, flat: float, spread: float, reference: float) -> bool:
        return ((energy <= reference - below_db and flat >= min_flatness) or energy <= reference - very_faint_db
                or (energy <= reference - steady_below_db and steady(spread, max_steadiness_db))
                or (energy <= reference - below_db and steady(spread, max_faint_steadiness_db)))

    return _drop_stretches(activity, log_mel, goes)


def drop_doubtful_extra(activity: np.ndarray, log_mel: np.ndarray, strict: np.ndarray, *,
                        min_flatness: float, below_db: float) -> np.ndarray:
    """Activity without the doubtful stretches that only the voice detector's looser level heard.

    A stretch (a run of one speaker's frames) holding no frame of ``strict`` is dropped when its
    median flatness is ``min_flatness`` or more (however loud), or when its median energy lies
    ``below_db`` or more under the speaker's median (whatever its spectrum). Either alone suffices:
    the looser level lets more noise through (dishes and clatter in silences at flatness 0.45-0.5,
    quiet tonal noise), and the far voice it is there for is voiced and near its own level. On the
    dev sets the flat rule took silence F1 from 0.84 to 0.86 (sim-dev) and 0.86 to 0.88 (sim-dev2);
    the faint rule (8 / 10 / 12 dB alike) then sim-dev to 0.89; DER and share error within 0.1.

    Parameters
    ----------
    activity : ndarray of bool, shape (n_frames, n_speakers)
    log_mel : ndarray, shape (n_frames, 40)
        Natural-log mel powers per frame.
    strict : ndarray of bool, shape (n_frames,)
        The voice detector's own decisions.
    min_flatness : float
        Median flatness from which such a stretch counts as noise.
    below_db : float
        dB under the speaker's median frame energy from which such a stretch counts as noise.

    Returns
    -------
    ndarray of bool, shape (n_frames, n_speakers)
        A copy.
    """
    if not (activity.any(axis=1) & ~strict).any():
        return activity.copy()

    def goes(a: int, b: int, energy: float, flat: float, spread: float, reference: float) -> bool:
        return not strict[a:b].any() and (flat >= min_flatness or energy <= reference - below_db)

    return _drop_stretches(activity, log_mel, goes)


def _drop_stretches(activity: np.ndarray, log_mel: np.ndarray,
                    goes: Callable[[int, int, float, float, float, float], bool]) -> np.ndarray:
    """A copy of ``activity`` without the stretches ``goes`` picks.

    A stretch is a run ``[a, b)`` of consecutive frames of one speaker; ``goes(a, b, energy,
    flatness, spread, reference)`` gets its median energy (dB), median flatness and the standard
    deviation of its frame energies (dB), and the speaker's median energy over all their frames (dB).
    """
    out = activity.copy()
    if activity.size == 0:
        return out
    frames = np.flatnonzero(activity.any(axis=1))
    energy = np.full(activity.shape[0], np.nan, dtype=np.float32)
    flat = np.full(activity.shape[0], np.nan, dtype=np.float32)
    energy[frames], flat[frames] = energy_and_flatness(log_mel[frames])
    for k in range(activity.shape[1]):
        col = activity[:, k]
        if not col.any():
            continue
        reference = float(np.median(energy[col]))
        edges = np.diff(np.concatenate(([0], col.astype(np.int8), [0])))
        starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
        level, flatness, spread = _run_statistics(energy, flat, starts, ends)
        for a, b, e, f, sd in zip(starts.tolist(), ends.tolist(), level.tolist(), flatness.tolist(), spread.tolist()):
            if goes(a, b, e, f, sd, reference):
                out[a:b, k] = False
    return out


def _run_statistics(energy: np.ndarray, flat: np.ndarray, starts: np.ndarray,
                    ends: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Median energy, median flatness and energy spread (standard deviation) of each run
    ``[starts[i], ends[i])``, all runs at once (an hour holds thousands; one numpy call each had
    cost ~0.7 s of the analysis). The medians are numpy's (the mean of the two middle values of
    an even run); the spread is computed in float64 from each run's own mean."""
    lengths = ends - starts
    if lengths.size == 0:
        return np.zeros(0, np.float32), np.zeros(0, np.float32), np.zeros(0)
    first = np.cumsum(lengths) - lengths  # each run's first position in the concatenated runs
    run = np.repeat(np.arange(starts.size), lengths)
    frames = np.arange(int(lengths.sum())) - np.repeat(first - starts, lengths)
    lower, upper = first + (lengths - 1) // 2, first + lengths // 2

    def medians(values: np.ndarray) -> np.ndarray:
        ordered = values[frames][np.lexsort((values[frames], run))]
        return (ordered[lower] + ordered[upper]) / 2

    e = energy[frames].astype(np.float64)
    mean = np.add.reduceat(e, first) / lengths
    spread = np.sqrt(np.add.reduceat((e - np.repeat(mean, lengths)) ** 2, first) / lengths)
    return medians(energy), medians(flat), spread
