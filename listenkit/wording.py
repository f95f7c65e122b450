"""Every sentence listenkit shows a person, in one place.

Keep the tone kind and specific: describe what happened with numbers, suggest gently, never scold.
Silence is never counted against anyone. Sections below belong to the parts of listenkit that use them;
add new text to the matching section. Functions return finished strings; callers do no wording.
"""

from __future__ import annotations

# ---------------------------------------------------------------------------------------------------
# CLI and errors
# ---------------------------------------------------------------------------------------------------

PROG_DESCRIPTION = (
    "listenkit hears a conversation on your own machine and shows how the talking was shared: "
    "talk time, interruptions, backchannels, silences - with a few gentle suggestions. "
    "No audio leaves your computer, and none is kept unless you ask."
)
INTERRUPTED = "Stopped by you (Ctrl-C); nothing was written."
UNEXPECTED_ERROR = "listenkit hit an unexpected problem: {detail}. Please report it; your files were not changed."


def error_line(message: str) -> str:
    """The single stderr line for a user-facing error."""
    return f"listenkit: error: {message}"


# audio input problems (the file name is put in front by the caller)
AUDIO_MISSING = "no such file"
AUDIO_IS_DIR = "is a folder, not an audio file"
AUDIO_EMPTY = "the file is empty (0 bytes)"
AUDIO_NO_FRAMES = "the file holds no audio samples"
AUDIO_UNREADABLE = "cannot be read ({detail})"
AUDIO_NOT_AUDIO = "not an audio file listenkit can read (WAV, FLAC, OGG/Vorbis, MP3 are supported): {detail}"
AUDIO_TRUNCATED = "the audio data ends early or is damaged ({detail})"
AUDIO_NAN = "the audio holds invalid samples (NaN or infinity) near {seconds:.1f} s"
AUDIO_BAD_RATE = "unsupported sample rate {rate} Hz (need 1000 Hz or more)"

# ---------------------------------------------------------------------------------------------------
# Terminal summary (listenkit.summary)
# ---------------------------------------------------------------------------------------------------

# ---------------------------------------------------------------------------------------------------
# Feedback (listenkit.feedback)
# ---------------------------------------------------------------------------------------------------

# ---------------------------------------------------------------------------------------------------
# Live mode (listenkit.live)
# ---------------------------------------------------------------------------------------------------

# ---------------------------------------------------------------------------------------------------
# Voice enrollment (listenkit.enroll)
# ---------------------------------------------------------------------------------------------------

# ---------------------------------------------------------------------------------------------------
# Charts, reports and history (listenkit.chart, listenkit.report, listenkit.history)
# ---------------------------------------------------------------------------------------------------
