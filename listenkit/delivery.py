"""Handing a finished session over: the files asked for, then the history.

Shared by ``listenkit analyze``, ``listenkit live`` and ``listenkit recover``. The files (``--json``,
``--rttm``, ``--report``) are written first, the history last: when a file cannot be written the
error stops the delivery *before* the session is saved, so the journal (kept by the caller) can be
recovered later without saving the session twice. When the history cannot be written, the session is saved as a JSON file in
the live folder instead, so it is never lost.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from .errors import HistoryError
from .session import Session


@dataclass
class Delivery:
    """What became of a session.

    Attributes
    ----------
    written : list of Path
        Files written (JSON, RTTM, report), in that order.
    history_id : int or None
        Its id in the history, when saved there.
    history_error : str or None
        Why saving to the history failed.
    fallback_json : Path or None
        Where the session was saved instead when the history failed and no ``--json`` was given.
    """

    written: list[Path] = field(default_factory=list)
    history_id: int | None = None
    history_error: str | None = None
    fallback_json: Path | None = None


def deliver(
    session: Session,
    *,
    json_path: Path | None = None,
    rttm_path: Path | None = None,
    report_path: Path | None = None,
    save: bool = True,
    fallback_folder: Path | None = None,
) -> Delivery:
    """Write the requested files, then save the session in the history (unless ``save`` is False).

    Raises
    ------
    OutputError
        When one of the files cannot be written (nothing is saved to the history then).
    """
    out = Delivery()
    if json_path is not None:
        out.written.append(session.write_json(json_path))
    if rttm_path is not None:
        out.written.append(session.write_rttm(rttm_path))
    if report_path is not None:
        from .report import write_report

        out.written.append(write_report(session, report_path))
    if not save:
        return out
    from .history import save_session

    try:
        out.history_id = save_session(session)
    except HistoryError as exc:
        out.history_error = str(exc)
        if json_path is None:
            from .live.journal import journal_folder

            folder = fallback_folder if fallback_folder is not None else journal_folder()
            path = folder / f"session-{datetime.now().strftime('%Y%m%d-%H%M%S')}.json"
            out.fallback_json = session.write_json(path)
    return out
