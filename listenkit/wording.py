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

# output files and arguments
OUTPUT_IS_DIR = "is a folder; give a file name for the output"
OUTPUT_NO_FOLDER = "cannot write here: folder {folder} does not exist"
BAD_SPEAKER_COUNT = "the number of speakers must be a whole number from 1 to 6, not {value!r}"

# analyze command
ANALYZE_HELP = "Analyse a recorded conversation: who talked how much, interruptions, backchannels, silences."
ANALYZE_AUDIO_HELP = "the recording (WAV, FLAC, OGG/Vorbis or MP3; any sample rate; mono or more channels)"
ANALYZE_SPEAKERS_HELP = "how many people speak, if you know (1-6); found automatically otherwise"
ANALYZE_JSON_HELP = "also write the session file (listenkit.session/1 JSON) here"
ANALYZE_RTTM_HELP = "also write who-spoke-when as RTTM here"
ANALYZING = "Listening to {name}"
ANALYZE_REPORT_HELP = "also write a self-contained HTML report (chart, numbers, suggestions) here"
ANALYZE_NO_SAVE_HELP = "do not keep this session in your local history"
ANALYZE_ME_HELP = "your voice profile file (default: the one saved by 'listenkit calibrate', if any)"
ANALYZE_NO_ME_HELP = "ignore your voice profile: nobody is labelled 'you'"
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

def format_clock(seconds: float) -> str:
    """A duration or time of day in a recording as ``m:ss`` (``h:mm:ss`` from one hour on)."""
    total = max(0, int(seconds + 0.5))
    h, rest = divmod(total, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


def format_percent(share: float) -> str:
    """A share 0..1 as a whole percentage, ``"41%"``."""
    return f"{round(share * 100):d}%"


def speaker_name(speaker_id: str, label: str | None) -> str:
    """How a speaker is called on screen: the label (``"you"``) when set, else the id."""
    return label or speaker_id


SUMMARY_TITLE = "Conversation summary: {source} ({length})"
SUMMARY_NO_CONVERSATION = "No conversation was found in {source} ({length}): nobody was heard speaking."
SUMMARY_COL_SPEAKER = "Speaker"
SUMMARY_COL_TALK = "Talk time"
SUMMARY_COL_SHARE = "Share"
SUMMARY_COL_BAR = "Balance"
SUMMARY_COL_INTERRUPTIONS = "Interruptions\nmade / received"
SUMMARY_COL_BACKCHANNELS = "Backchannels\ngiven"
SUMMARY_BALANCE = "Balance"
SUMMARY_SPEAKERS = "Speakers"
SUMMARY_FEEDBACK = "Suggestions"
SUMMARY_KEY_LENGTH = "Length"
SUMMARY_KEY_SILENCES = "Silences"
SUMMARY_KEY_MONOLOGUE = "Longest monologue"
SUMMARY_KEY_HANDOVERS = "Handovers"
SUMMARY_KEY_GAP = "Median response gap"
SUMMARY_NONE = "none"
SUMMARY_NOT_MEASURED = "not measured (no change of speaker)"


def summary_speaker_line(name: str, talk_s: float, share: float, made: int, received: int, backchannels: int) -> str:
    """One speaker in the plain-text summary."""
    return (
        f"{name}: talk {format_clock(talk_s)}, {format_percent(share)}; "
        f"interruptions made {made}, received {received}; backchannels given {backchannels}"
    )


def summary_silences(count: int, total_s: float) -> str:
    """The silences key number: ``"2 (9 s in all)"`` or ``"none"``."""
    if count == 0:
        return SUMMARY_NONE
    return f"{count} ({total_s:.0f} s in all)"


def summary_monologue(name: str, duration_s: float, start_s: float) -> str:
    """The longest monologue key number: who, how long, from when."""
    return f"{name}, {format_clock(duration_s)} from {format_clock(start_s)}"


def loud_background_note(margin_db: float) -> str:
    """The caveat shown when the quietest voice was near the background's level (dB over it)."""
    how = ("hardly louder than the background noise" if margin_db < 1.0
           else f"only about {margin_db:.0f} dB louder than the background noise")
    return (f"Note: the quietest voice was {how}. Some of its speech may have been missed, so the shares "
            "may be off by a few points. A quieter place, or the microphone between the speakers, helps.")


def summary_gap(median_s: float | None) -> str:
    """The median response gap key number, seconds."""
    if median_s is None:
        return SUMMARY_NOT_MEASURED
    return f"{median_s:.2f} s"


# ---------------------------------------------------------------------------------------------------
# Feedback (listenkit.feedback)
# ---------------------------------------------------------------------------------------------------

FEEDBACK_NO_CONVERSATION = "No conversation was found: nobody was heard speaking."


def _times(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


def _count_times(n: int) -> str:
    """``"once"``, ``"twice"``, ``"3 times"``."""
    return {1: "once", 2: "twice"}.get(n, f"{n} times")


def feedback_one_voice(name: str, talk_s: float, *, you: bool) -> str:
    """Only one person spoke."""
    if you:
        return f"Only your voice was heard ({format_clock(talk_s)} of talk)."
    return f"Only one voice was heard: {name} spoke for {format_clock(talk_s)}."


def feedback_balance_you(share: float, fair: float, state: str) -> str:
    """The enrolled speaker's share against an even share; ``state`` is "balanced", "above" or "below"."""
    p, f = format_percent(share), format_percent(fair)
    if state == "above":
        return (
            f"You spoke {p} of the time, more than an even share of {f}. "
            "Leaving a little more room could invite the others in."
        )
    if state == "below":
        return (
            f"You spoke {p} of the time, less than an even share of {f}. "
            "Your voice is welcome too - the others may enjoy hearing more from you."
        )
    return f"You spoke {p} of the time, close to an even share of {f}: nicely balanced."


def feedback_balance_even(parts: list[tuple[str, float]], fair: float) -> str:
    """Every speaker was within the balance band of an even share."""
    listed = ", ".join(f"{name} {format_percent(share)}" for name, share in parts)
    return f"The talking was well shared: {listed} (an even share is {format_percent(fair)})."


def feedback_balance_uneven(name: str, share: float, fair: float, parts: list[tuple[str, float]]) -> str:
    """One speaker talked clearly more than an even share (the others are listed for context)."""
    listed = ", ".join(f"{n} {format_percent(s)}" for n, s in parts)
    return (
        f"{name} spoke {format_percent(share)} of the time, more than an even share of "
        f"{format_percent(fair)} ({listed}). Inviting the quieter voices in could make it more of an exchange."
    )


def feedback_monologue(name: str, duration_s: float, start_s: float, *, you: bool) -> str:
    """A notably long turn."""
    if you:
        return (
            f"Your longest turn ran {format_clock(duration_s)} (from {format_clock(start_s)}). "
            "A brief check-in during long stretches lets others join."
        )
    return f"The longest turn was {name}'s: {format_clock(duration_s)} from {format_clock(start_s)}."


def feedback_interruptions_you(made: int, successful: int) -> str:
    """The enrolled speaker came in while someone was still talking (``made`` > 0)."""
    if made == 1:
        kept = " and kept going" if successful else ""
    else:
        kept = f" ({successful} of those times you kept going)" if successful else ""
    return (
        f"You came in while someone was still talking {_count_times(made)}{kept}. "
        "A short pause before answering gives others room to finish."
    )


FEEDBACK_NO_INTERRUPTIONS_YOU = "You let others finish their thoughts: no interruptions from you."


def feedback_interruptions_all(total: int, parts: list[tuple[str, int]]) -> str:
    """Interruptions in the conversation, by speaker (``total`` > 0)."""
    listed = ", ".join(f"{name} {_count_times(n)}" for name, n in parts)
    return f"Someone came in while another was still talking {_count_times(total)}: {listed}."


def feedback_backchannels_you(given: int) -> str:
    """Backchannels the enrolled speaker gave (``given`` > 0): appreciative."""
    return (
        f"You gave {_times(given, 'backchannel', 'backchannels')} (like \"mm-hm\" or \"yeah\"): "
        "signs that you were listening."
    )


def feedback_backchannels_all(parts: list[tuple[str, int]]) -> str:
    """Backchannels given per speaker (only speakers who gave some): appreciative."""
    listed = ", ".join(f"{name} gave {n}" for name, n in parts)
    return f"Listening signals (\"mm-hm\", \"yeah\"): {listed}."


def feedback_silences(count: int, longest_s: float) -> str:
    """Silences (``count`` > 0): appreciative, never counted against anyone."""
    if count == 1:
        return f"There was one quiet moment ({longest_s:.0f} s). Pauses like this give room to think."
    return (
        f"There were {count} quiet moments (the longest {longest_s:.0f} s). "
        "Pauses like these give room to think."
    )


# ---------------------------------------------------------------------------------------------------
# Live mode (listenkit.live)
# ---------------------------------------------------------------------------------------------------

# command help
LIVE_HELP = "Listen along during a conversation: who is talking, how the talk is shared, gentle nudges."
LIVE_DESCRIPTION = (
    "Listen to a conversation through the microphone as it happens. A calm view shows how the talking "
    "is shared; when you stop (Ctrl-C, or --duration) the conversation is analysed exactly like "
    "'listenkit analyze' and the summary is printed. No audio is kept unless you ask with --record; "
    "a journal of the analysis (never audio) protects the session against crashes until it is saved."
)
LIVE_DEVICE_HELP = "microphone to use: its number or part of its name (see 'listenkit devices'); default: the system's"
LIVE_INPUT_FILE_HELP = "play a recording through live mode in real time instead of using the microphone (a demo, or a test)"
LIVE_DURATION_HELP = "stop by itself after this many seconds"
LIVE_RECORD_HELP = "also keep what the microphone heard as a WAV file (so the session can be analysed again)"
LIVE_REPORT_HELP = "also write the HTML report here"
LIVE_QUIET_HELP = "show only the elapsed time while listening; the report comes at the end"
LIVE_NO_NUDGES_HELP = "no nudges during the conversation"
LIVE_NO_SAVE_HELP = "do not save the session in your history"
LIVE_ME_HELP = "your voice profile (from 'listenkit calibrate'), to show you as \"you\"; default: your saved profile"
LIVE_NO_ME_HELP = "do not look for your voice"
DEVICES_HELP = "List the microphones (input devices) listenkit can use."
RECOVER_HELP = "Finish a live session that was cut short (crash, power cut) from its journal."
RECOVER_DESCRIPTION = (
    "Finish every live session that a crash or a power cut left unfinished: its journal is analysed, "
    "the summary printed, the session saved next to the journal (JSON) and in your history, and the "
    "journal removed. 'listenkit live' does this by itself when it starts."
)
LIVE_BAD_SECONDS = "need a positive number of seconds, not {value!r}"
LIVE_BAD_SPEED = "need a pace of 0 (as fast as possible) or more, not {value!r}"

# device and file problems (one line each; the CLI puts "listenkit: error: " in front)
LIVE_NO_PORTAUDIO = (
    "live listening needs the PortAudio library, which is not installed; on Debian or Ubuntu run "
    "'sudo apt-get install libportaudio2' (analysing recorded files works without it)"
)
LIVE_NO_SOUNDDEVICE = "live listening needs the Python package sounddevice; install it with 'pip install sounddevice'"
LIVE_CANNOT_LIST = "cannot list the audio devices ({detail})"
LIVE_NO_INPUT_DEVICE = (
    "no microphone was found: connect one (or check that it is enabled), then see 'listenkit devices'"
)
LIVE_DEVICE_NOT_FOUND = "no usable microphone matches {device!r} ({detail}); 'listenkit devices' lists them"
LIVE_DEVICE_NOT_INPUT = "{device!r} cannot record (it has no input channels); 'listenkit devices' lists microphones"
LIVE_DEVICE_SETTINGS = "the microphone {device!r} refuses every recording setting tried ({detail})"
LIVE_CANNOT_OPEN = "cannot start recording from {device!r} ({detail}); is another program using it?"
LIVE_RECORD_FAILED = "cannot write the recording ({detail})"
LIVE_RECORD_IS_INPUT = "the recording would overwrite the input file; choose another name"
LIVE_JOURNAL_FAILED = "cannot write the session journal ({detail})"
LIVE_JOURNAL_MISSING = "no such journal"
LIVE_JOURNAL_UNREADABLE = "cannot read the journal ({detail})"
LIVE_JOURNAL_NOT_JOURNAL = "not a listenkit session journal (left where it is)"
LIVE_RECOVER_FAILED = "an unfinished session could not be recovered: {detail}"
LIVE_INTERRUPTED_KEPT = (
    "Stopped before the session was finished. Nothing is lost: 'listenkit recover' (or the next "
    "'listenkit live') will finish it from its journal."
)


def warning_line(message: str) -> str:
    """A stderr line for a problem that did not stop listenkit."""
    return f"listenkit: note: {message}"


# the live view
LIVE_WAITING = "Listening... nobody has spoken yet."
LIVE_TALKING = "◀ talking"
LIVE_HOW_TO_STOP = "Ctrl-C ends the session and shows the summary."
LIVE_STARTED_LINE = "listenkit: listening (Ctrl-C ends the session and prints the summary)"


def live_title(elapsed_s: float) -> str:
    """Title of the live panel."""
    return f"listenkit · listening · {format_clock(elapsed_s)}"


def live_quiet_line(elapsed_s: float) -> str:
    """The only line ``--quiet`` shows while listening."""
    return f"listenkit · listening · {format_clock(elapsed_s)}  (Ctrl-C to stop)"


def live_counts(interruptions: int, backchannels: int, longest: tuple[str, float] | None) -> str:
    """The line of counts under the balance bars."""
    mono = f"{longest[0]} {format_clock(longest[1])}" if longest else SUMMARY_NONE
    return f"Interruptions {interruptions}  ·  Backchannels {backchannels}  ·  Longest monologue {mono}"


def live_overflows(count: int) -> str:
    """Shown on the panel when the microphone dropped audio."""
    return f"The microphone dropped audio {_count_times(count)} (the computer was busy); the results may be a little off."


def live_status_line(snapshot) -> str:
    """A plain status line (no terminal): ``snapshot`` is a :class:`listenkit.live.snapshot.LiveSnapshot`."""
    head = f"[{format_clock(snapshot.elapsed_s)}]"
    if not snapshot.speakers:
        return f"{head} listening; nobody has spoken yet"
    parts = ", ".join(f"{s.name} {format_percent(s.share)} ({format_clock(s.talk_s)})" for s in snapshot.speakers)
    line = f"{head} {parts}; interruptions {snapshot.interruptions}, backchannels {snapshot.backchannels}"
    if snapshot.talking:
        line += f"; {snapshot.talking} is talking"
    return line


def live_nudge_line(at_s: float, text: str) -> str:
    """A nudge as a plain line."""
    return f"[{format_clock(at_s)}] {text}"


# nudges: kind, specific, with the numbers behind them; never about silence
def nudge_monologue(name: str, duration_s: float, *, you: bool) -> str:
    """Someone (the user when ``you``) has held the floor for ``duration_s`` and is still going."""
    if you:
        return (
            f"You have been talking for {format_clock(duration_s)}. "
            "A short pause or a question could invite the others in."
        )
    return (
        f"{name} has held the floor for {format_clock(duration_s)}. "
        "When it fits, a short check-in could bring the others in."
    )


def nudge_monologue_other(name: str, duration_s: float) -> str:
    """Another person (not the user) has been talking for ``duration_s``."""
    return (
        f"{name} has been talking for {format_clock(duration_s)}. "
        "If you have something to add, a natural pause is a good moment."
    )


def nudge_interruptions(name: str, count: int, window_s: float, *, you: bool) -> str:
    """Someone came in while another was talking ``count`` times within ``window_s``."""
    minutes = round(window_s / 60)
    if you:
        return (
            f"You came in while someone was still talking {_count_times(count)} in the last {minutes} minutes. "
            "Letting them finish helps them feel heard."
        )
    return (
        f"{name} came in while someone was still talking {_count_times(count)} in the last {minutes} minutes. "
        "A moment's pause before answering helps everyone finish their thought."
    )


def nudge_quiet(name: str, quiet_s: float, *, you_known: bool) -> str:
    """A participant has not spoken for ``quiet_s`` while the others talked."""
    ask = "You could ask what they think." if you_known else "A question could bring them back in."
    return f"{name} has not spoken for {format_clock(quiet_s)} while the conversation went on. {ask}"


# after the session
def live_finishing(length_s: float) -> str:
    """Printed when listening ends, while the conversation is analysed."""
    return f"Listened for {format_clock(length_s)}. Working out who spoke when..."


LIVE_WROTE = "Written: {path}"
LIVE_SAVED = "Saved in your history as session {id} ('listenkit show {id}')."
LIVE_RECORDED = "Recording kept: {path} ({length})"
LIVE_HISTORY_FAILED = "the session could not be saved in your history: {detail}"
LIVE_SAVED_INSTEAD = "the session was saved as {path} instead"
RECOVER_NOTHING = "There is no unfinished session to recover."


def recovered_line(duration_s: float, started_at: str | None) -> str:
    """Heading printed before the summary of a recovered session."""
    when = f" started {started_at}" if started_at else ""
    return f"Recovered an unfinished live session{when} ({format_clock(duration_s)} of conversation):"


def live_overflow_report(overflows: int, dropped_blocks: int) -> str:
    """After the session: audio the microphone or listenkit had to drop (never fatal)."""
    parts = []
    if overflows:
        parts.append(f"the microphone reported dropped audio {_count_times(overflows)}")
    if dropped_blocks:
        parts.append(f"listenkit fell behind and skipped {dropped_blocks} short blocks of audio")
    return "; ".join(parts) + " (the computer was busy); the figures may be slightly off."


def live_device_lost(duration_s: float) -> str:
    """The microphone went away mid-session."""
    return (
        f"the microphone stopped sending sound after {format_clock(duration_s)} (unplugged?); "
        "the session so far was analysed and saved."
    )


DEVICES_NONE = "No microphone (input device) was found."


def device_line(index: int, name: str, host_api: str, channels: int, rate: float, is_default: bool) -> str:
    """One input device in ``listenkit devices``."""
    mark = "*" if is_default else " "
    default = "  (default)" if is_default else ""
    return f"{mark} {index:>3}  {name}  [{host_api}, {channels} ch, {rate:.0f} Hz]{default}"


# ---------------------------------------------------------------------------------------------------
# Voice enrollment (listenkit.enroll)
# ---------------------------------------------------------------------------------------------------

ENROLL_PASSAGE = (
    "Listening well is more than waiting for my turn to talk. When someone tells me about their day, "
    "I try to let them finish their thought before I answer, and I notice when I am about to jump in. "
    "A short pause is not a problem to fix: it gives both of us a moment to think. I can show that I am "
    "following with a small word, a nod, or a question about what they just said. Over a whole "
    "conversation, these small habits add up, and the other person feels heard."
)
# take checks: one sentence each, saying what was measured and what to change
ENROLL_SILENT = (
    "Nothing was heard (the loudest moment was {peak_db:.0f} dBFS): check that the microphone is "
    "connected and not muted, and that listenkit may use it."
)
ENROLL_TOO_SHORT = (
    "Only {speech_s:.1f} s of speech was heard; at least {need_s:.0f} s is needed: read the whole "
    "passage at a calm, even pace."
)
ENROLL_CLIPPED = (
    "The sound was too loud and got cut off ({percent:.2f} % of the speech clipped): sit a little "
    "farther from the microphone or lower its input volume."
)
ENROLL_TOO_QUIET = (
    "Your voice was very quiet ({level_db:.0f} dBFS; at least {need_db:.0f} dBFS is needed): sit "
    "closer to the microphone, speak up a little, or raise its input volume."
)
ENROLL_NOISY = (
    "The room is noisy: your voice was only {snr_db:.0f} dB above the background (at least "
    "{need_db:.0f} dB is needed): move somewhere quieter, or turn off fans or music."
)
ENROLL_REJECTED = "{name}: this recording cannot be used for your voice profile. {problems}"
ENROLL_NO_PORTAUDIO = (
    "recording needs the PortAudio library, which is not installed: install it (on Debian or Ubuntu: "
    "sudo apt-get install libportaudio2), or enroll from a recording with --from-file"
)
ENROLL_NO_SOUNDDEVICE = (
    "recording needs the Python package sounddevice (pip install sounddevice), or enroll from a "
    "recording with --from-file"
)
ENROLL_NO_DEVICE = "cannot record from input device {device!s} ({detail})"
ENROLL_NO_AUDIO = "the input device {device!s} delivered no sound for 2 s; check that it is not in use or muted"
# voice profile files (listenkit.profile); the file name is put in front by the caller
PROFILE_MISSING = "no such voice profile file"
PROFILE_UNREADABLE = "cannot read the voice profile ({detail})"
PROFILE_NOT_PROFILE = "not a listenkit voice profile"
PROFILE_DAMAGED = "the voice profile is damaged ({detail}); make a new one with 'listenkit calibrate'"
PROFILE_NEWER = (
    "this voice profile was made by a newer listenkit (format version {version}); update listenkit "
    "or make a new profile with 'listenkit calibrate'"
)
PROFILE_STORED_HINT = " (or use --no-me to analyse without it)"
PROFILE_OTHER_UBM = (
    "this voice profile was made by another version of listenkit; make a new one with 'listenkit calibrate'"
)
PROFILE_NO_UBM = "listenkit's background voice model cannot be read ({detail}); reinstall listenkit"
# calibrate command
CALIBRATE_HELP = "Teach listenkit your voice, so it can tell you about your own listening."
CALIBRATE_DESCRIPTION = (
    "Record yourself reading a short passage (or use a recording of your voice) to make a voice "
    "profile. 'listenkit analyze' and 'listenkit live' then label your voice \"you\". The profile holds "
    "only numbers that describe your voice, no audio, and stays on this computer."
)
CALIBRATE_FROM_FILE_HELP = "make the profile from a recording of your voice (20-30 s of you alone) instead of the microphone"
CALIBRATE_SHOW_HELP = "say what voice profile is stored"
CALIBRATE_DELETE_HELP = "delete the stored voice profile"
CALIBRATE_PROFILE_HELP = "use this profile file instead of the one in your data folder"
CALIBRATE_SECONDS_HELP = "how long to record, seconds (default {default:.0f})"
CALIBRATE_DEVICE_HELP = "microphone to record from: its number or part of its name (default: the system's)"
CALIBRATE_BAD_SECONDS = "the recording length must be a number of seconds from {lo:.0f} to {hi:.0f}, not {value!r}"
CALIBRATE_MICROPHONE = "microphone recording"
CALIBRATE_INTRO = (
    "listenkit will record you for {seconds:.0f} s. Sit where you usually sit for a conversation, "
    "in a quiet room, and read the passage below aloud in your normal voice."
)
CALIBRATE_PASSAGE_TITLE = "The passage:"
CALIBRATE_PRESS_ENTER = "Press Enter to start recording (or type q and Enter to stop): "
CALIBRATE_TRY_AGAIN = "Press Enter to record again (or type q and Enter to stop): "
CALIBRATE_RECORDING = "Recording {elapsed:4.1f} / {total:.0f} s"
CALIBRATE_METER_TOO_LOUD = "too loud"
CALIBRATE_TAKE_PROBLEMS = "This take cannot be used:"
CALIBRATE_GAVE_UP = "No voice profile was made; nothing was changed."
CALIBRATE_SAVED = (
    "Saved your voice profile to {path} ({speech_s:.0f} s of speech; room noise floor {noise_db:.0f} dBFS). "
    "'listenkit analyze' will now label your voice \"you\"."
)
#: the same, for a profile saved somewhere else than the stored one (``--profile PATH``)
CALIBRATE_SAVED_ELSEWHERE = (
    "Saved your voice profile to {path} ({speech_s:.0f} s of speech; room noise floor {noise_db:.0f} dBFS). "
    "Use it with 'listenkit analyze --me {path}' or 'listenkit live --me {path}'."
)
CALIBRATE_SHOW = (
    "Voice profile: {path}\n"
    "  made {created} from {speech_s:.0f} s of speech at {level_db:.0f} dBFS\n"
    "  room noise floor {noise_db:.0f} dBFS; format version {version}\n"
    "  It holds only numbers that describe your voice, no audio."
)
#: added to CALIBRATE_SHOW for a profile of format version 1 (made before the take's mean cepstra were kept)
CALIBRATE_SHOW_OLD_FORMAT = (
    "  It was made by an earlier listenkit: making it again ('listenkit calibrate') tells your voice "
    "from voices like it more surely."
)
CALIBRATE_NONE_STORED = "No voice profile is stored. Make one with 'listenkit calibrate'."
CALIBRATE_DELETED = "Deleted the voice profile {path}."
CALIBRATE_NOTHING_TO_DELETE = "There is no voice profile to delete."

# ---------------------------------------------------------------------------------------------------
# Charts, reports and history (listenkit.chart, listenkit.report, listenkit.history)
# ---------------------------------------------------------------------------------------------------

YOU_NAME = "You"


def speaker_display_name(label: str | None, speaker_id: str) -> str:
    """How a chart or report names a speaker: "You" for the enrolled voice, else the label or the id."""
    if label == "you":
        return YOU_NAME
    return label or speaker_id


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
    return f"{percent_text(share)}  ({format_clock(talk_time_s)})"


def key_number_lines(numbers) -> list[tuple[str, str]]:
    """The key numbers of a session as (label, value) lines, for the chart and the report.

    ``numbers`` is a :class:`listenkit.chart.KeyNumbers`.
    """
    you = numbers.you
    lines = [("Length", format_clock(numbers.duration_s))]
    speech = format_clock(numbers.speech_s)
    if numbers.duration_s > 0:
        speech += f"  ({100 * numbers.speech_s / numbers.duration_s:.0f}% of the time)"
    lines.append(("Speech", speech))
    lines.append(("Talking at once", format_clock(numbers.overlap_s)))
    inter = str(numbers.interruptions)
    if you is not None and numbers.interruptions:
        inter += f"  (you made {you.interruptions_made})"
    lines.append(("Interruptions", inter))
    bc = str(numbers.backchannels)
    if you is not None and numbers.backchannels:
        bc += f"  (you gave {you.backchannels_given})"
    lines.append(("Backchannels", bc))
    silences = str(numbers.silences)
    if numbers.silences:
        silences += f"  ({length_text(numbers.silence_s)} in all)"
    lines.append(("Silences", silences))
    if numbers.longest_monologue_s is not None:
        mono = format_clock(numbers.longest_monologue_s)
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


HISTORY_BAD_ID = "{value!r} is not a session id (ids are whole numbers; see 'listenkit history')"
HISTORY_BAD_LIMIT = "{value!r} is not a number of sessions (a whole number, 1 or more)"


def history_count(total: int, yours: int | None) -> str:
    """A history table count: ``"7"``, or ``"7 (you 2)"`` when your voice was known."""
    return str(total) if yours is None else f"{total} (you {yours})"


def history_date(saved_at) -> str:
    """A history table date in local time: ``"2026-11-22 14:05"``."""
    return f"{saved_at.astimezone():%Y-%m-%d %H:%M}"


CHART_CMD_HELP = "Draw the balance chart of a session (a session file or a history id)."
REPORT_CMD_HELP = "Write a self-contained HTML report of a session (a session file or a history id)."
HISTORY_CMD_HELP = "List the sessions saved on this computer."
SHOW_CMD_HELP = "Print a saved session."
FORGET_CMD_HELP = "Delete saved sessions from the history, for good."
SESSION_REF_HELP = "a session file (.json) written by 'listenkit analyze --json', or the id of a saved session"
CHART_OUT_HELP = "where to write the chart (.png, .svg or .pdf)"
REPORT_OUT_HELP = "where to write the report (.html)"
TREND_CHART_HELP = "also draw the trend of your share and interruptions (.png, .svg or .pdf)"
HISTORY_LIMIT_HELP = "list only the N most recent sessions"
SHOW_ID_HELP = "the id of a saved session (see 'listenkit history')"
FORGET_ID_HELP = "the id of the session to delete"
FORGET_ALL_HELP = "delete every saved session"
