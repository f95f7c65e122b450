"""The summary printed after an analysis: a table per speaker, a balance bar, key numbers, feedback.

On a terminal (``console.is_terminal``) the summary uses rich: colours, a table, bars. Anywhere else
(a pipe, a file, a log) it is plain text from :func:`summary_text`: no escape codes, no box drawing.
All wording comes from :mod:`listenkit.wording` ("Terminal summary" section).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from . import wording
from .recording_quality import loud_background_db
from .session import Session, SpeakerSummary

if TYPE_CHECKING:  # pragma: no cover
    from rich.console import Console

#: colours given to speakers in order (rich colour names)
SPEAKER_COLOURS = ("cyan", "magenta", "green", "yellow", "blue", "red")

#: width of the one-line balance bar and of each speaker's bar, characters
BALANCE_BAR_WIDTH = 40
SPEAKER_BAR_WIDTH = 20


def _speakers(session: Session) -> list[SpeakerSummary]:
    """The session's speakers; derived from its segments when the list is missing."""
    if session.speakers:
        return list(session.speakers)
    from .metrics import speaker_summaries

    return speaker_summaries(session.segments)


def _metrics(session: Session) -> dict[str, Any]:
    """The session's metrics; recomputed from its segments (default rules) when missing."""
    if isinstance(session.metrics.get("per_speaker"), dict):
        return session.metrics
    from .conversation import analyze_conversation
    from .metrics import compute_metrics

    return compute_metrics(analyze_conversation(session.segments), session.duration_s)


def _has_speech(speakers: list[SpeakerSummary]) -> bool:
    return any(s.talk_time_s > 0 for s in speakers)


def bar_widths(shares: list[float], width: int) -> list[int]:
    """Split ``width`` characters in proportion to ``shares`` (largest remainder; sums to ``width``).

    Parameters
    ----------
    shares : list of float
        Non-negative weights; all zero gives all-zero widths.
    width : int
        Total number of characters.
    """
    total = sum(shares)
    if total <= 0 or width <= 0:
        return [0] * len(shares)
    exact = [s / total * width for s in shares]
    out = [int(x) for x in exact]
    by_remainder = sorted(range(len(shares)), key=lambda i: (-(exact[i] - out[i]), i))
    for i in by_remainder[: width - sum(out)]:
        out[i] += 1
    return out


def _num(value: Any, default: float = 0.0) -> float:
    """A number from a (possibly hand-edited) session file, ``default`` when it is not one."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    return default


def _key_numbers(session: Session, metrics: dict[str, Any]) -> list[tuple[str, str]]:
    mono = metrics.get("longest_monologue")
    if isinstance(mono, dict) and isinstance(mono.get("speaker"), str):
        mono_text = wording.summary_monologue(
            session.label_of(mono["speaker"]), _num(mono.get("duration_s")), _num(mono.get("start"))
        )
    else:
        mono_text = wording.SUMMARY_NONE
    gap_stats = metrics.get("response_gap")
    gap = gap_stats.get("median_s") if isinstance(gap_stats, dict) else None
    return [
        (wording.SUMMARY_KEY_LENGTH, wording.format_clock(session.duration_s)),
        (
            wording.SUMMARY_KEY_SILENCES,
            wording.summary_silences(int(_num(metrics.get("silences"))), _num(metrics.get("silence_total_s"))),
        ),
        (wording.SUMMARY_KEY_MONOLOGUE, mono_text),
        (wording.SUMMARY_KEY_HANDOVERS, str(int(_num(metrics.get("handovers"))))),
        (wording.SUMMARY_KEY_GAP, wording.summary_gap(gap if isinstance(gap, (int, float)) else None)),
    ]


def _counts(metrics: dict[str, Any], speaker_id: str) -> tuple[int, int, int]:
    d = metrics["per_speaker"].get(speaker_id)
    d = d if isinstance(d, dict) else {}
    return (
        int(_num(d.get("interruptions_made"))),
        int(_num(d.get("interruptions_received"))),
        int(_num(d.get("backchannels_given"))),
    )


def summary_text(session: Session) -> str:
    """The summary as plain text (no escape codes, no box drawing), ending with a newline."""
    title = wording.SUMMARY_TITLE.format(source=session.source, length=wording.format_clock(session.duration_s))
    speakers = _speakers(session)
    if not _has_speech(speakers):
        return (
            wording.SUMMARY_NO_CONVERSATION.format(
                source=session.source, length=wording.format_clock(session.duration_s)
            )
            + "\n"
        )
    metrics = _metrics(session)
    lines = [title, "", wording.SUMMARY_SPEAKERS]
    for spk in speakers:
        made, received, given = _counts(metrics, spk.id)
        name = wording.speaker_name(spk.id, spk.label)
        lines.append("  " + wording.summary_speaker_line(name, spk.talk_time_s, spk.share, made, received, given))
    parts = ", ".join(
        f"{wording.speaker_name(s.id, s.label)} {wording.format_percent(s.share)}" for s in speakers
    )
    lines += ["", f"{wording.SUMMARY_BALANCE}: {parts}", ""]
    lines += [f"{key}: {value}" for key, value in _key_numbers(session, metrics)]
    margin = loud_background_db(session.extra)
    if margin is not None:
        lines += ["", wording.loud_background_note(margin)]
    if session.feedback:
        lines += ["", wording.SUMMARY_FEEDBACK]
        lines += [f"  - {message}" for message in session.feedback]
    return "\n".join(lines) + "\n"


def _render_rich(session: Session, console: "Console") -> None:
    from rich.table import Table
    from rich.text import Text

    speakers = _speakers(session)
    metrics = _metrics(session)
    colours = {s.id: SPEAKER_COLOURS[i % len(SPEAKER_COLOURS)] for i, s in enumerate(speakers)}
    title = wording.SUMMARY_TITLE.format(source=session.source, length=wording.format_clock(session.duration_s))
    console.rule(Text(title, style="bold"))

    table = Table(show_edge=False, header_style="bold")
    table.add_column(wording.SUMMARY_COL_SPEAKER)
    table.add_column(wording.SUMMARY_COL_TALK, justify="right")
    table.add_column(wording.SUMMARY_COL_SHARE, justify="right")
    table.add_column(wording.SUMMARY_COL_BAR)
    table.add_column(wording.SUMMARY_COL_INTERRUPTIONS, justify="right")
    table.add_column(wording.SUMMARY_COL_BACKCHANNELS, justify="right")
    for spk in speakers:
        made, received, given = _counts(metrics, spk.id)
        filled = bar_widths([spk.share, 1.0 - spk.share], SPEAKER_BAR_WIDTH)[0]
        bar = Text("█" * filled, style=colours[spk.id]) + Text("░" * (SPEAKER_BAR_WIDTH - filled), style="dim")
        table.add_row(
            Text(wording.speaker_name(spk.id, spk.label), style=f"bold {colours[spk.id]}"),
            wording.format_clock(spk.talk_time_s),
            wording.format_percent(spk.share),
            bar,
            f"{made} / {received}",
            str(given),
        )
    console.print(table)

    line = Text(f"{wording.SUMMARY_BALANCE} ", style="bold")
    for spk, w in zip(speakers, bar_widths([s.share for s in speakers], BALANCE_BAR_WIDTH)):
        line.append("█" * w, style=colours[spk.id])
    for spk in speakers:
        line.append(f"  {wording.speaker_name(spk.id, spk.label)} {wording.format_percent(spk.share)}", style=colours[spk.id])
    console.print(line)

    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold")
    grid.add_column()
    for key, value in _key_numbers(session, metrics):
        grid.add_row(key, value)
    console.print()
    console.print(grid)
    margin = loud_background_db(session.extra)
    if margin is not None:
        console.print()
        console.print(Text(wording.loud_background_note(margin), style="yellow"))

    if session.feedback:
        console.print()
        console.print(Text(wording.SUMMARY_FEEDBACK, style="bold"))
        for message in session.feedback:
            console.print(Text("  • ") + Text(message))


def render_summary(session: Session, console: "Console | None" = None) -> None:
    """Print the summary of a session.

    Parameters
    ----------
    session : Session
        The analysed conversation (its metrics and speakers are recomputed from the segments when missing).
    console : rich.console.Console, optional
        Where to print; default a new console on standard output. A terminal gets the rich layout,
        anything else the plain text of :func:`summary_text`.
    """
    from rich.console import Console

    console = console or Console()
    if console.is_terminal and _has_speech(_speakers(session)):
        _render_rich(session, console)
    else:
        console.print(summary_text(session), end="", markup=False, highlight=False, emoji=False, soft_wrap=True)
