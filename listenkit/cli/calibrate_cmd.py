"""``listenkit calibrate``: enroll the user's voice (microphone or file), show or delete the profile."""

from __future__ import annotations

import argparse

from .. import wording

#: Takes the user may try before calibrate gives up.
MAX_TAKES = 5
_METER_LO_DB = -60.0


def _device(text: str) -> int | str:
    """An input device given as a number or as (part of) its name."""
    try:
        return int(text)
    except ValueError:
        return text


def _seconds(text: str) -> float:
    from ..enroll import RECORD_RANGE_S

    lo, hi = RECORD_RANGE_S
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not lo <= value <= hi:
        raise argparse.ArgumentTypeError(wording.CALIBRATE_BAD_SECONDS.format(value=text, lo=lo, hi=hi))
    return value


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``calibrate`` sub-command."""
    from ..enroll import DEFAULT_RECORD_S

    p = sub.add_parser("calibrate", help=wording.CALIBRATE_HELP, description=wording.CALIBRATE_DESCRIPTION)
    what = p.add_mutually_exclusive_group()
    what.add_argument("--from-file", metavar="WAV", help=wording.CALIBRATE_FROM_FILE_HELP)
    what.add_argument("--show", action="store_true", help=wording.CALIBRATE_SHOW_HELP)
    what.add_argument("--delete", action="store_true", help=wording.CALIBRATE_DELETE_HELP)
    p.add_argument("--profile", metavar="PATH", help=wording.CALIBRATE_PROFILE_HELP)
    p.add_argument("--seconds", metavar="S", type=_seconds, default=DEFAULT_RECORD_S,
                   help=wording.CALIBRATE_SECONDS_HELP.format(default=DEFAULT_RECORD_S))
    p.add_argument("--device", metavar="DEV", type=_device, help=wording.CALIBRATE_DEVICE_HELP)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Dispatch to show / delete / enroll from a file / enroll from the microphone."""
    from .common import stdout_console

    console = stdout_console()
    if args.show:
        return _show(args.profile, console)
    if args.delete:
        return _delete(args.profile, console)
    if args.from_file is not None:
        return _from_file(args.from_file, args.profile, console)
    return _from_microphone(args, console)


def _describe(profile) -> str:
    text = wording.CALIBRATE_SHOW.format(
        path=profile.path, created=profile.created, speech_s=profile.speech_s, level_db=profile.speech_level_db,
        noise_db=profile.noise_floor_db, version=profile.to_dict()["version"])
    if profile.mean_cepstra is None:
        text += "\n" + wording.CALIBRATE_SHOW_OLD_FORMAT
    return text


def _show(path: str | None, console) -> int:
    from ..profile import VoiceProfile, stored_profile

    profile = VoiceProfile.load(path) if path is not None else stored_profile()
    if profile is None:
        console.print(wording.CALIBRATE_NONE_STORED)
        return 0
    console.print(_describe(profile))
    return 0


def _delete(path: str | None, console) -> int:
    from ..profile import delete_profile

    gone = delete_profile(path)
    console.print(wording.CALIBRATE_DELETED.format(path=gone) if gone else wording.CALIBRATE_NOTHING_TO_DELETE)
    return 0


def _saved(profile, path: str | None, console) -> int:
    from .common import check_output_path

    check_output_path(path)
    where = profile.save(path)
    message = wording.CALIBRATE_SAVED if path is None else wording.CALIBRATE_SAVED_ELSEWHERE
    console.print(message.format(path=where, speech_s=profile.speech_s, noise_db=profile.noise_floor_db))
    return 0


def _from_file(audio: str, path: str | None, console) -> int:
    from ..enroll import enroll_file
    from .common import check_output_path

    check_output_path(path)
    profile, _take = enroll_file(audio)
    return _saved(profile, path, console)


def _from_microphone(args: argparse.Namespace, console) -> int:
    from ..enroll import TakeRejected, check_take, enroll_take, measure_take, passage, record_take
    from ..sources import ArraySource
    from .common import check_output_path

    check_output_path(args.profile)
    console.print(wording.CALIBRATE_INTRO.format(seconds=args.seconds))
    console.print(wording.CALIBRATE_PASSAGE_TITLE)
    console.print(passage(), style="bold")
    for attempt in range(1, MAX_TAKES + 1):
        if not _ask(wording.CALIBRATE_PRESS_ENTER if attempt == 1 else wording.CALIBRATE_TRY_AGAIN):
            console.print(wording.CALIBRATE_GAVE_UP)
            return 1
        with _LevelMeter(args.seconds) as meter:
            samples, rate = record_take(args.seconds, device=args.device, on_level=meter.update)
        take = measure_take(ArraySource(samples, rate, name=wording.CALIBRATE_MICROPHONE))
        problems = check_take(take)
        if not problems:
            return _saved(enroll_take(take), args.profile, console)
        console.print(wording.CALIBRATE_TAKE_PROBLEMS)
        for problem in problems:
            console.print(f"  - {problem.message}")
    raise TakeRejected(wording.CALIBRATE_MICROPHONE, problems)


def _ask(prompt: str) -> bool:
    """Wait for Enter; False when the user typed q or input ended."""
    try:
        answer = input(prompt)
    except EOFError:
        return False
    return answer.strip().lower() not in ("q", "quit")


class _LevelMeter:
    """A one-line level meter on stderr while recording (rich draws nothing when stderr is not a terminal)."""

    def __init__(self, total_s: float) -> None:
        self.total_s = total_s
        self._live = None
        self._text = None

    def __enter__(self) -> _LevelMeter:
        from rich.console import Console
        from rich.live import Live
        from rich.text import Text

        self._text = Text(wording.CALIBRATE_RECORDING.format(elapsed=0.0, total=self.total_s))
        self._live = Live(self._text, console=Console(stderr=True), refresh_per_second=12, transient=True)
        self._live.__enter__()
        return self

    def update(self, level_db: float, peak: float, elapsed_s: float) -> None:
        """Redraw the meter for the latest block (``level_db`` dBFS, ``peak`` 1.0 = full scale)."""
        from rich.text import Text

        from ..enroll import CLIP_LEVEL, MIN_SPEECH_LEVEL_DB

        width = 30
        filled = int(round(width * min(1.0, max(0.0, (level_db - _METER_LO_DB) / -_METER_LO_DB))))
        colour = "red" if peak >= CLIP_LEVEL else ("yellow" if level_db < MIN_SPEECH_LEVEL_DB else "green")
        text = Text(wording.CALIBRATE_RECORDING.format(elapsed=elapsed_s, total=self.total_s) + " ")
        text.append("█" * filled, style=colour)
        text.append("·" * (width - filled), style="dim")
        if peak >= CLIP_LEVEL:
            text.append(" " + wording.CALIBRATE_METER_TOO_LOUD, style="red")
        if self._live is not None:
            self._live.update(text)

    def __exit__(self, *exc) -> None:
        if self._live is not None:
            self._live.__exit__(*exc)

