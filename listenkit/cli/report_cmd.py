"""``listenkit report SESSION -o report.html``: write the HTML report of a session file or a saved session."""

from __future__ import annotations

import argparse

from .. import wording
from .common import check_output_path


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``report`` sub-command."""
    p = sub.add_parser("report", help=wording.REPORT_CMD_HELP, description=wording.REPORT_CMD_HELP)
    p.add_argument("session", metavar="SESSION", help=wording.SESSION_REF_HELP)
    p.add_argument("-o", "--output", metavar="PATH", required=True, help=wording.REPORT_OUT_HELP)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Load the session and write its report."""
    from ..history import load_session_ref
    from ..report import write_report

    out = check_output_path(args.output)
    session = load_session_ref(args.session)
    write_report(session, out)
    print(wording.REPORT_WRITTEN.format(path=out))
    return 0
