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
AUDIO_BAD_SHAPE = "audio samples must be 1-D, or 2-D as (samples, channels); got shape {shape}"
# details that fill the {detail} / {reason} slots above
AUDIO_DETAIL_NOT_REGULAR = "not a regular file"
AUDIO_DETAIL_NO_REASON = "the decoder gave no reason"
AUDIO_DETAIL_UNRECOGNISED = "no audio stream was found in its data"
AUDIO_DETAIL_HEADER = "its header cannot be decoded: {reason}"
AUDIO_DETAIL_WAV_SHORT = "the header promises {declared_s:.1f} s of audio but the file holds {present_s:.1f} s"
AUDIO_DETAIL_OGG_NO_END = "the Ogg stream stops without its end mark"
AUDIO_DETAIL_STOPPED = "decoding stopped after {read_s:.1f} s of {declared_s:.1f} s"
AUDIO_DETAIL_READ_FAILED = "decoding failed after {read_s:.1f} s: {reason}"

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

YOU_NAME = "You"


def speaker_display_name(label: str | None, speaker_id: str) -> str:
    """How a chart or report names a speaker: "You" for the enrolled voice, else the label or the id."""
    if label == "you":
        return YOU_NAME
    return label or speaker_id


def clock_text(seconds: float) -> str:
    """A time as a clock: ``"0:42"``, ``"3:03"``, ``"1:02:03"`` (seconds rounded)."""
    total = int(round(max(0.0, float(seconds))))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def length_text(seconds: float) -> str:
    """A length in words: ``"42 s"``, ``"3 min 03 s"``, ``"1 h 02 min"``."""
    total = int(round(max(0.0, float(seconds))))
    if total < 60:
        return f"{total} s"
    if total < 3600:
        return f"{total // 60} min {total % 60:02d} s"
    return f"{total // 3600} h {total % 3600 // 60:02d} min"


def percent_text(share: float | None) -> str:
    """A 0..1 share as ``"41%"``; ``"-"`` when unknown."""
    return "-" if share is None else f"{100 * share:.0f}%"


def speaker_count_text(n: int) -> str:
    """``"1 speaker"``, ``"3 speakers"``."""
    return f"{n} speaker" if n == 1 else f"{n} speakers"


CHART_TITLE = "How the talking was shared"
CHART_OVERLAP_LANE = "overlap"
CHART_LEGEND_INTERRUPTION_WON = "interruption (took the floor)"
CHART_LEGEND_INTERRUPTION_LOST = "interruption (gave way)"
CHART_LEGEND_BACKCHANNEL = "backchannel (mm-hm)"
CHART_LEGEND_SILENCE = "silence (3 s or more)"
CHART_SHARE_TITLE = "Share of the talk"
CHART_EVEN_SHARE = "even share"
CHART_NUMBERS_TITLE = "Key numbers"
CHART_EMPTY_TITLE = "No conversation was found"
CHART_EMPTY_DETAIL = "listenkit heard no speech in {source} ({length})."
CHART_BAD_FORMAT = "unsupported chart format; name the file with one of {formats}"
CHART_WRITTEN = "Chart written to {path}"


def chart_subtitle(source: str, duration_s: float, n_speakers: int) -> str:
    """The line under the chart title: file, length, speakers."""
    return f"{source}  ·  {length_text(duration_s)}  ·  {speaker_count_text(n_speakers)}"


def share_label(share: float, talk_time_s: float) -> str:
    """The label beside a share bar: ``"41%  (1:01)"``."""
    return f"{percent_text(share)}  ({clock_text(talk_time_s)})"


def key_number_lines(numbers) -> list[tuple[str, str]]:
    """The key numbers of a session as (label, value) lines, for the chart and the report.

    ``numbers`` is a :class:`listenkit.chart.KeyNumbers`.
    """
    you = numbers.you
    lines = [("Length", clock_text(numbers.duration_s))]
    speech = clock_text(numbers.speech_s)
    if numbers.duration_s > 0:
        speech += f"  ({100 * numbers.speech_s / numbers.duration_s:.0f}% of the time)"
    lines.append(("Speech", speech))
    lines.append(("Talking at once", clock_text(numbers.overlap_s)))
    inter = str(numbers.interruptions)
    if you is not None:
        inter += f"  (you made {you.interruptions_made})"
    lines.append(("Interruptions", inter))
    bc = str(numbers.backchannels)
    if you is not None:
        bc += f"  (you gave {you.backchannels_given})"
    lines.append(("Backchannels", bc))
    silences = str(numbers.silences)
    if numbers.silences:
        silences += f"  ({length_text(numbers.silence_s)} in all)"
    lines.append(("Silences", silences))
    if numbers.longest_monologue_s is not None:
        mono = clock_text(numbers.longest_monologue_s)
        if numbers.longest_monologue_by:
            mono += f"  ({numbers.longest_monologue_by})"
        lines.append(("Longest turn", mono))
    if numbers.response_gap_median_s is not None:
        lines.append(("Typical response gap", f"{numbers.response_gap_median_s:.1f} s"))
    return lines


TREND_TITLE = "Your share of the talk, and interruptions, over time"
TREND_YOUR_SHARE = "your share"
TREND_SHARE_YLABEL = "your share of talk (%)"
TREND_INTERRUPTIONS_YLABEL = "interruptions"
TREND_BY_YOU = "made by you"
TREND_BY_OTHERS = "made by others"
TREND_EMPTY = "No saved sessions yet"
TREND_NO_YOU = "Your voice was not known in these sessions, so your share cannot be shown."
TREND_WRITTEN = "Trend chart written to {path}"


def trend_subtitle(n_sessions: int) -> str:
    """The line under the trend chart title."""
    return f"{n_sessions} saved session{'s' if n_sessions != 1 else ''}, oldest first"


def trend_tick(session_id: int, saved_at) -> str:
    """A trend chart x label: the history id and the date (``saved_at`` a datetime)."""
    return f"#{session_id}\n{saved_at.astimezone():%d %b}"


REPORT_TITLE = "Conversation report"
REPORT_CHART_LABEL = "Chart: a timeline of who spoke when, and each speaker's share of the talk"
REPORT_NUMBERS = "Key numbers"
REPORT_SPEAKERS = "Speakers"
REPORT_SPEAKER_COLUMNS = ("Speaker", "Talk time", "Share", "Interrupted others", "Was interrupted", "Backchannels")
REPORT_FEEDBACK = "Suggestions"
REPORT_NO_FEEDBACK = "No suggestions this time."
REPORT_FOOTER = "Made by listenkit {version} on this computer. This file holds no audio and loads nothing from the internet."
REPORT_WRITTEN = "Report written to {path}"

HISTORY_COLUMNS = ("id", "date", "length", "speakers", "your share", "interruptions", "backchannels")
HISTORY_EMPTY = "No saved sessions yet. 'listenkit analyze' saves each session unless you pass --no-save."
HISTORY_FOOTER = "{n} saved session(s) in {path}"
HISTORY_NOT_SQLITE = (
    "not a listenkit history database (the file is not SQLite); it was left untouched - "
    "move it aside and listenkit will start a new history"
)
HISTORY_DAMAGED = (
    "the history database is damaged ({detail}); it was left untouched - "
    "move it aside and listenkit will start a new history"
)
HISTORY_FOREIGN = (
    "this SQLite file is not a listenkit history database; it was left untouched - "
    "move it aside or set LISTENKIT_DATA_DIR to another folder"
)
HISTORY_NEWER = (
    "the history database was written by a newer listenkit (schema v{found}; this version reads up to v{known}); "
    "please update listenkit"
)
HISTORY_BUSY = "the history database is busy (another listenkit is writing to it); try again in a moment"
HISTORY_CANNOT_OPEN = "cannot open the history database ({detail})"
HISTORY_NO_SUCH_ID = "no saved session with id {id} (see 'listenkit history')"
HISTORY_FORGOT = "Forgot session {id}."
HISTORY_FORGOT_ALL = "Forgot all saved sessions ({n})."
HISTORY_FORGET_NEEDS_ONE = "say which session to forget: an ID, or --all (not both)"
SESSION_REF_NOT_FOUND = "no such session file, and not a history id (ids are whole numbers; see 'listenkit history')"


def history_date(saved_at) -> str:
    """A history table date in local time: ``"2026-11-22 14:05"``."""
    return f"{saved_at.astimezone():%Y-%m-%d %H:%M}"


CHART_CMD_HELP = "draw the balance chart of a session (a session file or a history id)"
REPORT_CMD_HELP = "write a self-contained HTML report of a session (a session file or a history id)"
HISTORY_CMD_HELP = "list the sessions saved on this computer"
SHOW_CMD_HELP = "print a saved session"
FORGET_CMD_HELP = "delete saved sessions from the history"
SESSION_REF_HELP = "a session file (.json) written by 'listenkit analyze --json', or the id of a saved session"
CHART_OUT_HELP = "where to write the chart (.png, .svg or .pdf)"
REPORT_OUT_HELP = "where to write the report (.html)"
TREND_CHART_HELP = "also draw the trend of your share and interruptions (.png, .svg or .pdf)"
HISTORY_LIMIT_HELP = "list only the N most recent sessions"
SHOW_ID_HELP = "the id of a saved session (see 'listenkit history')"
FORGET_ID_HELP = "the id of the session to delete"
FORGET_ALL_HELP = "delete every saved session"
