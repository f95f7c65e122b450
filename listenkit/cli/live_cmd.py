"""``listenkit live``, ``listenkit devices`` and ``listenkit recover``: listening along as it happens.

A thin layer: argument checks, then :mod:`listenkit.live` does the work. Device and file problems are
:class:`~listenkit.errors.ListenkitError` subclasses, which the CLI turns into one line and exit 2.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .. import wording
from ..errors import OutputError
from .common import check_output_path, print_delivery, resolve_voice, speaker_count, stdout_console

#: exit code when the microphone went away mid-session (the session so far was saved)
EXIT_DEVICE_LOST = 1
EXIT_INTERRUPTED = 130


def _positive_seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(wording.LIVE_BAD_SECONDS.format(value=text)) from None
    if not value > 0 or value != value or value == float("inf"):
        raise argparse.ArgumentTypeError(wording.LIVE_BAD_SECONDS.format(value=text))
    return value


def _speed(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(wording.LIVE_BAD_SPEED.format(value=text)) from None
    if not 0 <= value < float("inf"):
        raise argparse.ArgumentTypeError(wording.LIVE_BAD_SPEED.format(value=text))
    return value


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``live``, ``devices`` and ``recover`` sub-commands."""
    p = sub.add_parser("live", help=wording.LIVE_HELP, description=wording.LIVE_DESCRIPTION)
    where = p.add_mutually_exclusive_group()
    where.add_argument("--device", metavar="NAME|INDEX", help=wording.LIVE_DEVICE_HELP)
    where.add_argument("--input-file", metavar="AUDIO", help=wording.LIVE_INPUT_FILE_HELP)
    p.add_argument("--duration", metavar="SECONDS", type=_positive_seconds, help=wording.LIVE_DURATION_HELP)
    p.add_argument("--speakers", metavar="N", type=speaker_count, help=wording.ANALYZE_SPEAKERS_HELP)
    p.add_argument("--record", metavar="WAV", help=wording.LIVE_RECORD_HELP)
    p.add_argument("--json", metavar="PATH", help=wording.ANALYZE_JSON_HELP)
    p.add_argument("--rttm", metavar="PATH", help=wording.ANALYZE_RTTM_HELP)
    p.add_argument("--report", metavar="PATH", help=wording.LIVE_REPORT_HELP)
    p.add_argument("--quiet", action="store_true", help=wording.LIVE_QUIET_HELP)
    p.add_argument("--no-nudges", action="store_true", help=wording.LIVE_NO_NUDGES_HELP)
    p.add_argument("--no-save", action="store_true", help=wording.LIVE_NO_SAVE_HELP)
    me = p.add_mutually_exclusive_group()
    me.add_argument("--me", metavar="PROFILE", help=wording.LIVE_ME_HELP)
    me.add_argument("--no-me", action="store_true", help=wording.LIVE_NO_ME_HELP)
    # for tests, demos and the benchmark: pace of --input-file (1 = real time, 0 = as fast as possible)
    p.add_argument("--speed", type=_speed, default=1.0, help=argparse.SUPPRESS)
    # seconds between two plain status lines when there is no terminal
    p.add_argument("--status-every", type=_positive_seconds, default=30.0, help=argparse.SUPPRESS)
    p.set_defaults(func=run_live)

    p = sub.add_parser("devices", help=wording.DEVICES_HELP, description=wording.DEVICES_HELP)
    p.set_defaults(func=run_devices)

    p = sub.add_parser("recover", help=wording.RECOVER_HELP, description=wording.RECOVER_DESCRIPTION)
    p.add_argument("--no-save", action="store_true", help=wording.LIVE_NO_SAVE_HELP)
    p.set_defaults(func=run_recover)


def _print_recovered(recovered, problems, console) -> None:
    from ..summary import render_summary

    for item in recovered:
        console.print(wording.recovered_line(item.session.duration_s, item.session.extra.get("live", {}).get("started_at")),
                      markup=False, highlight=False)
        render_summary(item.session, console)
        print_delivery(item.delivery, console)
    for problem in problems:
        print(wording.error_line(wording.LIVE_RECOVER_FAILED.format(detail=problem)), file=sys.stderr)


def run_live(args: argparse.Namespace) -> int:
    """Listen until the session ends; print the summary; write and save what was asked."""
    from ..live.capture import MicrophoneSource, PacedSource, device_argument
    from ..delivery import deliver
    from ..live.journal import JournalWriter
    from ..live.recorder import WavRecorder
    from ..live.recover import recover_all
    from ..live.runner import STOP_DEVICE_LOST, LiveRunner, LiveSettings
    from ..live.view import choose_view
    from ..sources import FileSource
    from ..summary import render_summary

    json_path = check_output_path(args.json)
    rttm_path = check_output_path(args.rttm)
    report_path = check_output_path(args.report)
    record_path = check_output_path(args.record)
    if record_path is not None and args.input_file and Path(args.input_file).resolve() == record_path.resolve():
        raise OutputError(f"{record_path}: {wording.LIVE_RECORD_IS_INPUT}")
    voice = resolve_voice(args.me, args.no_me)
    console = stdout_console()

    _print_recovered(*recover_all(voice=voice), console)  # each as its own run asked (--no-save is in its journal)

    if args.input_file:
        source = PacedSource(FileSource(args.input_file), speed=args.speed)
    else:
        source = MicrophoneSource(device_argument(args.device) if args.device else None)
    settings = LiveSettings(duration_s=args.duration, num_speakers=args.speakers, nudges=not args.no_nudges)
    header = {"source": source.name, "sample_rate": source.sample_rate, "num_speakers": args.speakers,
              "record": str(record_path.resolve()) if record_path else None, "save": not args.no_save}
    journal = JournalWriter(header)
    recorder = None
    try:
        recorder = WavRecorder(record_path, source.sample_rate) if record_path else None
        view = choose_view(console, quiet=args.quiet, every_s=args.status_every)
        def finishing(length_s: float) -> None:
            console.print(wording.live_finishing(length_s), markup=False, highlight=False)

        runner = LiveRunner(source, settings, view=view, journal=journal, recorder=recorder, voice=voice,
                            on_finishing=finishing)
        try:
            result = runner.run()
        except KeyboardInterrupt:
            print(wording.LIVE_INTERRUPTED_KEPT, file=sys.stderr)
            return EXIT_INTERRUPTED
        finally:
            if recorder is not None:
                recorder.close()
            journal.close(remove=False)
        delivery = deliver(result.session, json_path=json_path, rttm_path=rttm_path, report_path=report_path,
                           save=not args.no_save)
    except BaseException:
        journal.close(remove=False)  # keep it: `listenkit recover` finishes the session
        if recorder is not None:
            recorder.close()
        raise
    journal.close(remove=True)
    render_summary(result.session, console)
    if recorder is not None:
        console.print(wording.LIVE_RECORDED.format(path=recorder.path, length=wording.format_clock(
            recorder.frames_written / max(recorder.sample_rate, 1))), markup=False, highlight=False)
    print_delivery(delivery, console)
    if result.overflows or result.dropped_blocks:
        print(wording.warning_line(wording.live_overflow_report(result.overflows, result.dropped_blocks)), file=sys.stderr)
    if result.stopped_by == STOP_DEVICE_LOST:
        print(wording.warning_line(wording.live_device_lost(result.session.duration_s)), file=sys.stderr)
        return EXIT_DEVICE_LOST
    return 0


def run_devices(args: argparse.Namespace) -> int:
    """List the input devices PortAudio sees."""
    from ..live.capture import list_input_devices

    devices = list_input_devices()
    console = stdout_console()
    if not devices:
        console.print(wording.DEVICES_NONE, markup=False, highlight=False)
        return 0
    for d in devices:
        console.print(wording.device_line(d.index, d.name, d.host_api, d.channels, d.default_rate, d.is_default),
                      markup=False, highlight=False)
    return 0


def run_recover(args: argparse.Namespace) -> int:
    """Finish every session a crash left in a journal."""
    from ..live.recover import recover_all

    console = stdout_console()
    recovered, problems = recover_all(save=not args.no_save, voice=resolve_voice(None, False))
    if not recovered and not problems:
        console.print(wording.RECOVER_NOTHING, markup=False, highlight=False)
    _print_recovered(recovered, problems, console)
    return 2 if problems else 0
