"""How loud the background was next to the quietest voice: when to trust the shares a little less.

A far voice in a noisy room sits only a few dB over the background; the voice detector then misses
part of its speech, and that person's share comes out too low. The measure is the median frame
energy of each speaker's speech minus that of the background (the frames in which the voice
detector heard nothing at either level), for the quietest speaker.

Measured on the simulated dev conversations (sim-dev and sim-dev2, 86 conversations, all voices at
10-30 dB SNR; ``calibration/README.md``): in the 19 conversations whose quietest voice lay less than
:data:`LOUD_BACKGROUND_DB` over the background, the talk-share error had a median of 6.3 points
(10 of 19 over 5 points); in the 67 others, 1.8 points (14 over 5, most of them meetings of three or
four people counted as two). Of the speakers less than 10 dB over the background, 13 of 40 lost more
than 15 % of their speech; of the others, 1 of 144. The real recordings of the corpus lie 13-40 dB
over their background, and none gets the note. On the held-out simulated test conversations
(sim-test, 26) the 6 noted ones had a median share error of 2.8 points (2 over 5) against 1.6 for the
others: the measure is crude (a whole-band level; a low rumble or a hiss counts fully), so the note
says "may".
"""

from __future__ import annotations

import numpy as np

from .diarization.faint_noise import energy_db

#: The quietest voice less than this far (dB) over the background: the shares may be off.
LOUD_BACKGROUND_DB = 8.0
#: Frames (10 ms) of background needed to measure its level; with fewer, the quietest 5 % of all
#: frames stand for it.
MIN_BACKGROUND_FRAMES = 100
#: Frames (10 ms) a speaker needs to count (a second of speech).
MIN_SPEAKER_FRAMES = 100
#: At most about this many frames (10 min) are looked at, evenly spread over a longer recording.
MAX_FRAMES = 60000


def quietest_voice_margin_db(log_mel: np.ndarray, activity: np.ndarray, heard: np.ndarray) -> float | None:
    """How far (dB) the quietest speaker's median frame energy lies over the background's.

    Parameters
    ----------
    log_mel : ndarray, shape (n_frames, 40)
        Natural-log mel powers per 10 ms frame.
    activity : ndarray of bool, shape (n_frames, n_speakers)
        Who speaks in each frame.
    heard : ndarray of bool, shape (n_frames,)
        Frames in which the voice detector heard speech at either level: the rest is background.

    Returns
    -------
    float or None
        dB (may be negative); None when no speaker has :data:`MIN_SPEAKER_FRAMES` frames.
    """
    n = min(log_mel.shape[0], activity.shape[0], heard.shape[0])
    if n == 0:
        return None
    step = max(1, n // MAX_FRAMES)  # evenly spread frames: medians need no more
    energy = energy_db(log_mel[:n:step])
    activity = activity[:n:step]
    background = ~(np.asarray(heard[:n:step], dtype=bool) | activity.any(axis=1))
    if int(background.sum()) * step >= MIN_BACKGROUND_FRAMES:
        floor = float(np.median(energy[background]))
    else:
        floor = float(np.percentile(energy, 5))
    levels = [float(np.median(energy[col])) for col in activity.T if int(col.sum()) * step >= MIN_SPEAKER_FRAMES]
    return min(levels) - floor if levels else None


def quality_facts(log_mel: np.ndarray, activity: np.ndarray, heard: np.ndarray) -> dict[str, float | bool | None]:
    """What a session file keeps of it: ``{"quietest_voice_over_background_db": 6.2, "loud_background": True}``."""
    margin = quietest_voice_margin_db(log_mel, activity, heard)
    return {
        "quietest_voice_over_background_db": None if margin is None else round(margin, 1),
        "loud_background": margin is not None and margin < LOUD_BACKGROUND_DB,
    }


def loud_background_db(extra: dict) -> float | None:
    """The quietest voice's margin (dB) when a session's ``quality`` facts say the background was
    loud, else None (also for sessions saved before listenkit measured it)."""
    quality = extra.get("quality")
    if not isinstance(quality, dict) or quality.get("loud_background") is not True:
        return None
    margin = quality.get("quietest_voice_over_background_db")
    return float(margin) if isinstance(margin, (int, float)) else None
