"""``listenkit history``, ``listenkit show ID`` and ``listenkit forget ID | --all``: the saved sessions."""

from __future__ import annotations

import argparse

from .. import wording
from .common import stdout_console


def _session_id(text: str) -> int:
    if not text.strip().isdigit():
        raise argparse.ArgumentTypeError(wording.HISTORY_BAD_ID.format(value=text))
    return int(text)


def _limit(text: str) -> int:
    if not text.strip().isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(wording.HISTORY_BAD_LIMIT.format(value=text))
    return int(text)


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``history``, ``show`` and ``forget`` sub-commands."""
    p = sub.add_parser("history", help=wording.HISTORY_CMD_HELP, description=wording.HISTORY_CMD_HELP)
    p.add_argument("--chart", metavar="PATH", help=wording.TREND_CHART_HELP)
    p.add_argument("--limit", metavar="N", type=_limit, help=wording.HISTORY_LIMIT_HELP)
    p.set_defaults(func=run_history)

    p = sub.add_parser("show", help=wording.SHOW_CMD_HELP, description=wording.SHOW_CMD_HELP)
    p.add_argument("session", metavar="ID", help=wording.SHOW_ID_HELP)
    p.set_defaults(func=run_show)

    p = sub.add_parser("forget", help=wording.FORGET_CMD_HELP, description=wording.FORGET_CMD_HELP)
    which = p.add_mutually_exclusive_group(required=True)
    which.add_argument("session", metavar="ID", nargs="?", type=_session_id, help=wording.FORGET_ID_HELP)
    which.add_argument("--all", action="store_true", help=wording.FORGET_ALL_HELP)
    p.set_defaults(func=run_forget)


def run_history(args: argparse.Namespace) -> int:
    """Print the table of saved sessions; optionally draw the trend chart."""
    from rich import box
    from rich.table import Table

    from ..chart import draw_trend_chart
    from ..history import list_sessions, trend_rows
    from ..userdata import history_path
    from .chart_cmd import check_chart_path

    chart_path = check_chart_path(args.chart) if args.chart else None
    rows = list_sessions(limit=args.limit)
    console = stdout_console()
    if not console.is_terminal:
        console.width = 120  # a file or pipe gets whole rows, not rows cut to 80 columns
    if not rows:
        console.print(wording.HISTORY_EMPTY, markup=False, highlight=False)
    else:
        table = Table(box=box.SIMPLE_HEAD, highlight=False, padding=(0, 1), pad_edge=False)
        for i, name in enumerate(wording.HISTORY_COLUMNS):
            table.add_column(name, justify="left" if i == 1 else "right", no_wrap=True)
        for r in rows:
            table.add_row(
                str(r.id),
                wording.history_date(r.saved_at),
                wording.format_clock(r.duration_s),
                str(r.n_speakers),
                wording.percent_text(r.your_share),
                wording.history_count(r.interruptions, r.your_interruptions),
                wording.history_count(r.backchannels, r.your_backchannels),
            )
        console.print(table)
        console.print(wording.HISTORY_FOOTER.format(n=len(rows), path=history_path()), markup=False, highlight=False)
    if chart_path is not None:
        draw_trend_chart(trend_rows(), chart_path)
        print(wording.TREND_WRITTEN.format(path=chart_path))
    return 0


def run_show(args: argparse.Namespace) -> int:
    """Print a saved session (or a session file) as the analyze summary does."""
    from ..history import load_session_ref
    from ..summary import render_summary

    render_summary(load_session_ref(args.session), stdout_console())
    return 0


def run_forget(args: argparse.Namespace) -> int:
    """Delete one saved session, or all of them."""
    from ..history import forget, forget_all

    if args.all:
        print(wording.HISTORY_FORGOT_ALL.format(n=forget_all()))
    else:
        forget(args.session)
        print(wording.HISTORY_FORGOT.format(id=args.session))
    return 0
