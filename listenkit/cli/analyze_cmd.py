"""``listenkit analyze AUDIO``: analyse a recorded conversation and print how the talking was shared."""

from __future__ import annotations

import argparse

from .. import wording
from .common import check_output_path, print_delivery, progress_bar, resolve_voice, speaker_count, stdout_console


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``analyze`` sub-command."""
    p = sub.add_parser("analyze", help=wording.ANALYZE_HELP, description=wording.ANALYZE_HELP)
    p.add_argument("audio", metavar="AUDIO", help=wording.ANALYZE_AUDIO_HELP)
    p.add_argument("--speakers", metavar="N", type=speaker_count, help=wording.ANALYZE_SPEAKERS_HELP)
    p.add_argument("--json", metavar="PATH", help=wording.ANALYZE_JSON_HELP)
    p.add_argument("--rttm", metavar="PATH", help=wording.ANALYZE_RTTM_HELP)
    p.add_argument("--report", metavar="PATH", help=wording.ANALYZE_REPORT_HELP)
    p.add_argument("--no-save", action="store_true", help=wording.ANALYZE_NO_SAVE_HELP)
    me = p.add_mutually_exclusive_group()
    me.add_argument("--me", metavar="PROFILE", help=wording.ANALYZE_ME_HELP)
    me.add_argument("--no-me", action="store_true", help=wording.ANALYZE_NO_ME_HELP)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Analyse the file, print the summary, write the requested files, save it in the history."""
    from ..delivery import deliver
    from ..pipeline import analyze
    from ..sources import FileSource
    from ..summary import render_summary

    json_path = check_output_path(args.json)
    rttm_path = check_output_path(args.rttm)
    report_path = check_output_path(args.report)
    voice = resolve_voice(args.me, args.no_me)
    source = FileSource(args.audio)
    with progress_bar(source.duration_s, label=wording.ANALYZING.format(name=source.name)) as tick:
        session = analyze(source, num_speakers=args.speakers, progress=tick, voice=voice)
    console = stdout_console()
    render_summary(session, console)
    delivery = deliver(session, json_path=json_path, rttm_path=rttm_path, report_path=report_path,
                       save=not args.no_save)
    print_delivery(delivery, console)
    return 0
