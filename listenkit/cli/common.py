"""Helpers shared by the sub-commands: checking output paths early, terminal consoles, progress."""

from __future__ import annotations

import argparse
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator

from .. import wording
from ..errors import OutputError


def check_output_path(path: str | Path | None) -> Path | None:
    """Fail before any work when an output file could not be written later.

    Raises
    ------
    OutputError
        The folder does not exist, or the path is a folder.
    """
    if path is None:
        return None
    p = Path(path)
    if p.is_dir():
        raise OutputError(f"{p}: {wording.OUTPUT_IS_DIR}")
    folder = p.parent if str(p.parent) else Path(".")
    if not folder.is_dir():
        raise OutputError(f"{p}: {wording.OUTPUT_NO_FOLDER.format(folder=folder)}")
    return p


def stdout_console():
    """A rich console on stdout (colour and layout only when stdout is a terminal)."""
    from rich.console import Console

    return Console(highlight=False)


@contextmanager
def progress_bar(total_s: float, *, label: str, min_total_s: float = 60.0) -> Iterator[Callable[[float], None]]:
    """A progress bar on stderr for long inputs on a terminal; a no-op callback otherwise.

    Yields a callback taking the seconds of audio processed so far.
    """
    if total_s < min_total_s or not sys.stderr.isatty():
        yield lambda _done: None
        return
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.percentage:>3.0f}%"),
        TimeRemainingColumn(),
        console=Console(stderr=True),
        transient=True,
    ) as prog:
        task = prog.add_task(label, total=total_s)
        yield lambda done: prog.update(task, completed=min(done, total_s))


def resolve_voice(me: str | None, no_me: bool):
    """The enrolled voice to label "you": ``--me PROFILE``, else the stored profile; None with ``--no-me``.

    Raises
    ------
    ProfileError
        The profile given or stored is missing, damaged or of another version.
    """
    from ..profile import resolve_profile

    return resolve_profile(me, no_me)


def print_delivery(delivery, console) -> None:
    """Tell what became of a session: files written, history id, and any fallback (on stderr)."""
    for path in delivery.written:
        console.print(wording.LIVE_WROTE.format(path=path), markup=False, highlight=False)
    if delivery.history_id is not None:
        console.print(wording.LIVE_SAVED.format(id=delivery.history_id), markup=False, highlight=False)
    if delivery.history_error:
        print(wording.warning_line(wording.LIVE_HISTORY_FAILED.format(detail=delivery.history_error)), file=sys.stderr)
    if delivery.fallback_json is not None:
        print(wording.warning_line(wording.LIVE_SAVED_INSTEAD.format(path=delivery.fallback_json)), file=sys.stderr)


def speaker_count(text: str) -> int:
    """argparse type for ``--speakers``: a whole number from 1 to 6."""
    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(wording.BAD_SPEAKER_COUNT.format(value=text)) from None
    if not 1 <= n <= 6:
        raise argparse.ArgumentTypeError(wording.BAD_SPEAKER_COUNT.format(value=text))
    return n
