"""``listenkit chart SESSION -o balance.png``: draw the balance chart of a session file or a saved session."""

from __future__ import annotations

import argparse
from pathlib import Path

from .. import wording
from ..errors import OutputError
from .common import check_output_path


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``chart`` sub-command."""
    p = sub.add_parser("chart", help=wording.CHART_CMD_HELP, description=wording.CHART_CMD_HELP)
    p.add_argument("session", metavar="SESSION", help=wording.SESSION_REF_HELP)
    p.add_argument("-o", "--output", metavar="PATH", required=True, help=wording.CHART_OUT_HELP)
    p.set_defaults(func=run)


def check_chart_path(path: str) -> Path:
    """The output path, checked before any work: writable folder and a chart suffix.

    Raises
    ------
    OutputError
    """
    from ..chart import CHART_FORMATS

    out = check_output_path(path)
    assert out is not None
    if out.suffix.lower() not in CHART_FORMATS:
        raise OutputError(f"{out}: {wording.CHART_BAD_FORMAT.format(formats=', '.join(CHART_FORMATS))}")
    return out


def run(args: argparse.Namespace) -> int:
    """Load the session, draw it, write the file."""
    from ..chart import draw_balance_chart
    from ..history import load_session_ref

    out = check_chart_path(args.output)
    session = load_session_ref(args.session)
    draw_balance_chart(session, out)
    print(wording.CHART_WRITTEN.format(path=out))
    return 0
