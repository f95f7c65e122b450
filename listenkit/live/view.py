"""The live view: a calm panel on a terminal, one elapsed-time line with ``--quiet``, plain lines otherwise.

Every view takes :class:`~listenkit.live.snapshot.LiveSnapshot` objects (pulled by the runner a few
times a second) and draws them; none of them computes anything. :func:`render_live` builds the
panel as a rich renderable, so tests draw it on a recording console without a terminal.

- :class:`PanelView` (a terminal): elapsed time, a balance bar per speaker, who is talking,
  interruptions and backchannels so far, the longest monologue, and a nudge when there is one.
- :class:`ElapsedView` (``--quiet`` on a terminal): only the elapsed time; the report comes at the end.
- :class:`LinesView` (no terminal: a script, CI): a plain status line every ``every_s`` seconds and each
  nudge on its own line; no escape codes.
- :class:`NullView`: nothing (``--quiet`` without a terminal, the benchmark's control run).
"""

from __future__ import annotations

from typing import IO, TYPE_CHECKING, Any, Protocol

from .. import wording
from ..summary import SPEAKER_COLOURS, bar_widths
from .nudges import Nudge
from .snapshot import LiveSnapshot

if TYPE_CHECKING:  # pragma: no cover
    from rich.console import Console

#: characters of a speaker's balance bar
BAR_WIDTH = 24
#: width of the live panel, characters (fixed, so it does not jump as its contents change)
PANEL_WIDTH = 72


class View(Protocol):
    """What the runner needs from a view."""

    def start(self) -> None: ...

    def update(self, snapshot: LiveSnapshot) -> None: ...

    def nudge(self, nudge: Nudge) -> None: ...

    def stop(self) -> None: ...


def render_live(snapshot: LiveSnapshot) -> Any:
    """The live panel for ``snapshot`` (a rich renderable)."""
    from rich.panel import Panel
    from rich.table import Table
    from rich.text import Text

    grid = Table.grid(padding=(0, 1))
    grid.add_column()  # name
    grid.add_column()  # bar
    grid.add_column(justify="right")  # share
    grid.add_column(justify="right")  # talk time
    grid.add_column()  # talking marker
    if not snapshot.speakers:
        body: list[Any] = [Text(wording.LIVE_WAITING, style="dim")]
    else:
        for i, spk in enumerate(snapshot.speakers):
            colour = SPEAKER_COLOURS[i % len(SPEAKER_COLOURS)]
            filled = bar_widths([spk.share, 1.0 - spk.share], BAR_WIDTH)[0]
            bar = Text("█" * filled, style=colour) + Text("░" * (BAR_WIDTH - filled), style="dim")
            marker = Text(wording.LIVE_TALKING, style=f"bold {colour}") if spk.name == snapshot.talking else Text("")
            grid.add_row(
                Text(spk.name, style=f"bold {colour}"),
                bar,
                wording.format_percent(spk.share),
                wording.format_clock(spk.talk_s),
                marker,
            )
        body = [grid]
    body.append(Text(wording.live_counts(snapshot.interruptions, snapshot.backchannels, snapshot.longest_monologue)))
    if snapshot.overflows:
        body.append(Text(wording.live_overflows(snapshot.overflows), style="yellow"))
    if snapshot.nudge:
        body.append(Text(""))
        body.append(Text(snapshot.nudge, style="italic"))
    body.append(Text(wording.LIVE_HOW_TO_STOP, style="dim"))
    from rich.console import Group

    title = wording.live_title(snapshot.elapsed_s)
    return Panel(Group(*body), title=title, title_align="left", width=PANEL_WIDTH, padding=(0, 1))


class PanelView:
    """The full live panel, redrawn in place (rich ``Live``; the runner decides when to redraw).

    Parameters
    ----------
    console : rich.console.Console
        A terminal console (tests pass a recording one).
    """

    def __init__(self, console: "Console") -> None:
        from rich.live import Live

        self.console = console
        self._live = Live(console=console, auto_refresh=False, transient=True, redirect_stdout=False,
                          redirect_stderr=False)

    def start(self) -> None:
        self._live.start()

    def update(self, snapshot: LiveSnapshot) -> None:
        self._live.update(render_live(snapshot), refresh=True)

    def nudge(self, nudge: Nudge) -> None:
        """Nudges are drawn from the snapshot; nothing else to do."""

    def stop(self) -> None:
        self._live.stop()


class ElapsedView:
    """``--quiet`` on a terminal: one line with the elapsed time, nothing else."""

    def __init__(self, console: "Console") -> None:
        from rich.live import Live

        self.console = console
        self._live = Live(console=console, auto_refresh=False, transient=True, redirect_stdout=False,
                          redirect_stderr=False)
        self._shown = -1

    def start(self) -> None:
        self._live.start()

    def update(self, snapshot: LiveSnapshot) -> None:
        second = int(snapshot.elapsed_s)
        if second != self._shown:  # redraw once a second: the only thing that changes
            from rich.text import Text

            self._shown = second
            self._live.update(Text(wording.live_quiet_line(snapshot.elapsed_s), style="dim"), refresh=True)

    def nudge(self, nudge: Nudge) -> None:
        """Quiet means quiet: no nudges."""

    def stop(self) -> None:
        self._live.stop()


class LinesView:
    """Plain periodic status lines (no terminal).

    Parameters
    ----------
    out : file
        Where to write (standard output by default in the CLI).
    every_s : float
        Seconds of session between two status lines.
    """

    def __init__(self, out: IO[str], *, every_s: float = 30.0) -> None:
        self.out = out
        self.every_s = float(every_s)
        self._next = self.every_s

    def start(self) -> None:
        self._write(wording.LIVE_STARTED_LINE)

    def update(self, snapshot: LiveSnapshot) -> None:
        if snapshot.elapsed_s >= self._next:
            self._next = (int(snapshot.elapsed_s / self.every_s) + 1) * self.every_s
            self._write(wording.live_status_line(snapshot))

    def nudge(self, nudge: Nudge) -> None:
        self._write(wording.live_nudge_line(nudge.at_s, nudge.text))

    def stop(self) -> None:
        pass

    def _write(self, line: str) -> None:
        try:
            self.out.write(line + "\n")
            self.out.flush()
        except (BrokenPipeError, ValueError):  # reader gone / closed stream: the session goes on
            pass


class NullView:
    """Shows nothing."""

    def start(self) -> None:
        pass

    def update(self, snapshot: LiveSnapshot) -> None:
        pass

    def nudge(self, nudge: Nudge) -> None:
        pass

    def stop(self) -> None:
        pass


def choose_view(console: "Console", *, quiet: bool, out: IO[str] | None = None, every_s: float = 30.0) -> View:
    """The view for this output: the panel (or the elapsed line with ``quiet``) on a terminal,
    plain lines (or nothing with ``quiet``) otherwise."""
    if console.is_terminal:
        return ElapsedView(console) if quiet else PanelView(console)
    if quiet:
        return NullView()
    return LinesView(out if out is not None else console.file, every_s=every_s)
