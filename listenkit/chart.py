"""The balance chart of one conversation, and the trend chart of the session history.

:func:`key_numbers` gathers what the chart, the HTML report and the history show from a session: it
takes ``session.metrics`` where present and otherwise computes the same numbers from the speakers,
segments and events that every session file carries (DEFINITIONS.md). :func:`draw_balance_chart` and
:func:`draw_trend_chart` draw with matplotlib, imported only when drawing, on its non-interactive Agg
canvas (no window, no global pyplot state).
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Sequence

from . import wording
from .errors import OutputError
from .fileio import atomic_write_bytes
from .session import Session

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

#: Okabe–Ito colours (colour-blind safe), yellow left out: too pale on white
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00")
INK = "#222222"
MUTED = "#6b6b6b"
SILENCE_COLOUR = "#d9d9d9"
OVERLAP_COLOUR = "#444444"
CHART_FORMATS = (".png", ".svg", ".pdf")
PNG_DPI = 120


# ---------------------------------------------------------------------------------------------------
# The numbers
# ---------------------------------------------------------------------------------------------------


@dataclass
class SpeakerNumbers:
    """What one speaker did; times in seconds, ``share`` in 0..1."""

    id: str
    name: str
    is_you: bool
    talk_time_s: float
    share: float
    interruptions_made: int = 0
    interruptions_received: int = 0
    backchannels_given: int = 0


@dataclass
class KeyNumbers:
    """The numbers of one session shown by the chart, the report and the history; seconds.

    ``longest_monologue_s`` / ``longest_monologue_by`` and ``response_gap_median_s`` are None when the
    session's metrics do not carry them (they need the floor rules, which only the metrics compute).
    """

    duration_s: float
    speech_s: float
    overlap_s: float
    speakers: list[SpeakerNumbers] = field(default_factory=list)
    interruptions: int = 0
    backchannels: int = 0
    silences: int = 0
    silence_s: float = 0.0
    longest_monologue_s: float | None = None
    longest_monologue_by: str | None = None
    response_gap_median_s: float | None = None

    @property
    def you(self) -> SpeakerNumbers | None:
        """The user's numbers when their voice is known."""
        return next((s for s in self.speakers if s.is_you), None)


def _float(value: Any) -> float | None:
    """``value`` as a finite float, else None."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def _count(value: Any) -> int | None:
    """A count from a metrics entry: a number, a list (its length) or a dict with ``count``/``total``."""
    if isinstance(value, list):
        return len(value)
    if isinstance(value, dict):
        value = value.get("count", value.get("total"))
    number = _float(value)
    return None if number is None else int(round(number))


def activity_spans(session: Session) -> tuple[list[tuple[float, float]], list[tuple[float, float]]]:
    """Stretches with at least one speaker, and with two or more at once.

    Returns
    -------
    speech, overlap : list of (start, end) in seconds
        Sorted, disjoint stretches.
    """
    points: list[tuple[float, int]] = []
    for seg in session.segments:
        if seg.end > seg.start:
            points += [(seg.start, 1), (seg.end, -1)]
    points.sort()  # at equal times ends (-1) come first: touching segments do not overlap
    speech: list[tuple[float, float]] = []
    overlap: list[tuple[float, float]] = []
    active = 0
    speech_start = overlap_start = 0.0
    for time, step in points:
        before, active = active, active + step
        if before == 0 and active > 0:
            speech_start = time
        elif before > 0 and active == 0 and time > speech_start:
            speech.append((speech_start, time))
        if before < 2 <= active:
            overlap_start = time
        elif before >= 2 > active and time > overlap_start:
            overlap.append((overlap_start, time))
    return _join(speech), _join(overlap)


def _join(spans: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """Sorted spans with touching neighbours merged (one speaker ending as another starts)."""
    out: list[tuple[float, float]] = []
    for start, end in spans:
        if out and start <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], end))
        else:
            out.append((start, end))
    return out


def _speaker_ids(session: Session) -> list[str]:
    """Speaker ids in listing order: the user first, then session order, then any only in segments."""
    ids = [s.id for s in session.speakers]
    for seg in session.segments:
        if seg.speaker not in ids:
            ids.append(seg.speaker)
    yours = [s.id for s in session.speakers if s.label == "you"]
    return yours + [i for i in ids if i not in yours]


def key_numbers(session: Session) -> KeyNumbers:
    """The session's numbers, from its metrics when present, else from segments and events.

    Parameters
    ----------
    session : Session
        Any session; its ``metrics`` may be empty or partial.

    Returns
    -------
    KeyNumbers
    """
    m = session.metrics if isinstance(session.metrics, dict) else {}
    speech, overlap = activity_spans(session)
    duration = _float(m.get("duration_s")) or session.duration_s
    if speech:
        duration = max(duration, speech[-1][1])
    per_speaker = m.get("per_speaker") if isinstance(m.get("per_speaker"), dict) else {}
    events = session.events
    talk: dict[str, float] = {}
    for seg in session.segments:
        talk[seg.speaker] = talk.get(seg.speaker, 0.0) + seg.duration
    total_talk = sum(talk.values())
    listed = {s.id: s for s in session.speakers}
    speakers = []
    for sid in _speaker_ids(session):
        ps = per_speaker.get(sid) if isinstance(per_speaker.get(sid), dict) else {}
        summary = listed.get(sid)
        talk_s = _float(ps.get("talk_time_s"))
        if talk_s is None:
            talk_s = summary.talk_time_s if summary else talk.get(sid, 0.0)
        share = _float(ps.get("share"))
        if share is None:
            share = summary.share if summary else (talk.get(sid, 0.0) / total_talk if total_talk else 0.0)

        def pick(key: str, etype: str, role: str) -> int:
            got = _count(ps.get(key))
            if got is not None:
                return got
            return sum(1 for e in events if e.type == etype and getattr(e, role) == sid)

        label = summary.label if summary else None
        speakers.append(
            SpeakerNumbers(
                id=sid,
                name=wording.speaker_display_name(label, sid),
                is_you=label == "you",
                talk_time_s=talk_s,
                share=share,
                interruptions_made=pick("interruptions_made", "interruption", "by"),
                interruptions_received=pick("interruptions_received", "interruption", "of"),
                backchannels_given=pick("backchannels_given", "backchannel", "by"),
            )
        )
    silences = [e for e in events if e.type == "silence"]
    numbers = KeyNumbers(
        duration_s=duration,
        speech_s=_float(m.get("speech_s")) if _float(m.get("speech_s")) is not None else sum(e - s for s, e in speech),
        overlap_s=_float(m.get("overlap_s")) if _float(m.get("overlap_s")) is not None else sum(e - s for s, e in overlap),
        speakers=speakers,
        interruptions=_first_count(m.get("interruptions"), sum(1 for e in events if e.type == "interruption")),
        backchannels=_first_count(m.get("backchannels"), sum(1 for e in events if e.type == "backchannel")),
        silences=_first_count(m.get("silences"), len(silences)),
        silence_s=sum(e.end - e.start for e in silences),
    )
    if _float(m.get("silence_total_s")) is not None:
        numbers.silence_s = float(m["silence_total_s"])
    mono = m.get("longest_monologue")
    if isinstance(mono, dict) and _float(mono.get("duration_s")) is not None:
        numbers.longest_monologue_s = float(mono["duration_s"])
        if mono.get("speaker") is not None:
            numbers.longest_monologue_by = wording.speaker_display_name(
                listed[mono["speaker"]].label if mono["speaker"] in listed else None, str(mono["speaker"])
            )
    gap = m.get("response_gap")
    if isinstance(gap, dict):
        numbers.response_gap_median_s = _float(gap.get("median_s"))
    return numbers


def _first_count(metric: Any, fallback: int) -> int:
    got = _count(metric)
    return fallback if got is None else got


# ---------------------------------------------------------------------------------------------------
# Drawing helpers
# ---------------------------------------------------------------------------------------------------


def _new_figure(fig: "Figure | None", size: tuple[float, float]) -> "Figure":
    """A fresh Agg-backed figure of ``size`` inches, or ``fig`` cleared and resized."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    if fig is None:
        fig = Figure(figsize=size, facecolor="white")
        FigureCanvasAgg(fig)
    else:
        fig.clear()
        fig.set_size_inches(*size)
    return fig


def _tick_step(span_s: float) -> float:
    """A round tick step in seconds giving at most about ten ticks over ``span_s``."""
    for step in (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1200, 1800, 3600, 7200):
        if span_s / step <= 10:
            return float(step)
    return float(3600 * math.ceil(span_s / 36000))


def save_figure(fig: "Figure", path: str | Path) -> Path:
    """Write ``fig`` as PNG, SVG or PDF (by the file suffix), atomically and mode 0600.

    Raises
    ------
    OutputError
        For an unsupported suffix or a folder that cannot be written.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in CHART_FORMATS:
        raise OutputError(f"{path}: {wording.CHART_BAD_FORMAT.format(formats=', '.join(CHART_FORMATS))}")
    return atomic_write_bytes(path, figure_bytes(fig, suffix[1:]))


def figure_bytes(fig: "Figure", fmt: str) -> bytes:
    """The figure encoded as ``fmt`` (``"png"``, ``"svg"`` or ``"pdf"``), reproducibly (no dates)."""
    import matplotlib

    buf = io.BytesIO()
    metadata = {"png": {"Software": None}, "svg": {"Date": None}, "pdf": {"CreationDate": None}}.get(fmt)
    with matplotlib.rc_context({"svg.hashsalt": "listenkit", "svg.fonttype": "path"}):
        fig.savefig(buf, format=fmt, dpi=PNG_DPI, metadata=metadata, facecolor=fig.get_facecolor())
    return buf.getvalue()


def _clock_formatter():
    from matplotlib.ticker import FuncFormatter

    return FuncFormatter(lambda x, _pos: wording.format_clock(x))


# ---------------------------------------------------------------------------------------------------
# Balance chart
# ---------------------------------------------------------------------------------------------------


def draw_balance_chart(
    session: Session, path: str | Path | None = None, *, fig: "Figure | None" = None, compact: bool = False
) -> "Figure":
    """Draw how the talking was shared in one conversation.

    A timeline with one lane per speaker (the user on top, named "You" when known) plus an overlap
    lane; interruptions (filled triangle: took the floor, open: gave way) and backchannels (dots)
    marked on the lane of who made them; silences shaded. Below, each speaker's share of the talk
    as bars beside an even-share line, and the key numbers. A session without speech draws a figure
    that says no conversation was found.

    Parameters
    ----------
    session : Session
        The conversation; ``metrics`` may be empty.
    path : str or Path, optional
        Also write the figure here; ``.png``, ``.svg`` or ``.pdf`` (atomically, mode 0600).
    fig : matplotlib.figure.Figure, optional
        Draw into this figure (it is cleared) instead of a new one.
    compact : bool
        Leave out the title and the key-numbers panel (for pages that show them as text, like the report).

    Returns
    -------
    matplotlib.figure.Figure

    Raises
    ------
    OutputError
        When ``path`` has an unsupported suffix or cannot be written.
    """
    if path is not None and Path(path).suffix.lower() not in CHART_FORMATS:
        raise OutputError(f"{path}: {wording.CHART_BAD_FORMAT.format(formats=', '.join(CHART_FORMATS))}")
    numbers = key_numbers(session)
    if not session.segments:
        fig = _draw_empty(session, numbers, fig)
    else:
        fig = _draw_balance(session, numbers, fig, compact)
    if path is not None:
        save_figure(fig, path)
    return fig


def _draw_empty(session: Session, numbers: KeyNumbers, fig: "Figure | None") -> "Figure":
    fig = _new_figure(fig, (12.0, 3.2))
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_axis_off()
    ax.text(0.5, 0.62, wording.CHART_EMPTY_TITLE, ha="center", va="center", fontsize=22, color=INK, weight="bold")
    detail = wording.CHART_EMPTY_DETAIL.format(source=Path(session.source).name, length=wording.length_text(numbers.duration_s))
    ax.text(0.5, 0.38, detail, ha="center", va="center", fontsize=14, color=MUTED)
    ax.set_gid("empty")
    return fig


NUMBER_LINE_IN = 0.34  # height of one key-number line, inches


def _draw_balance(session: Session, numbers: KeyNumbers, fig: "Figure | None", compact: bool) -> "Figure":
    from matplotlib.gridspec import GridSpec

    n = len(numbers.speakers)
    lanes = n + (0.7 if n >= 2 else 0.0)  # the overlap lane is drawn for two or more speakers
    timeline_h = 0.62 * lanes + 1.0  # lanes, axis and legend
    if compact:  # no title and no numbers panel: the page around the chart shows them
        lower_h = 0.5 * n + 0.9
        top_h = 0.45
    else:
        n_lines = len(wording.key_number_lines(numbers))
        lower_h = max(NUMBER_LINE_IN * (n_lines + 0.6), 0.5 * n + 0.9)
        top_h = 1.25
    width = 10.0 if compact else 12.0
    fig = _new_figure(fig, (width, top_h + timeline_h + lower_h + 0.45))
    total_h = fig.get_figheight()
    grid = GridSpec(
        2, 2, figure=fig, height_ratios=(timeline_h, lower_h), width_ratios=(1.15, 1.0),
        left=0.12, right=0.97, top=1 - top_h / total_h, bottom=0.35 / total_h, hspace=0.95 / timeline_h, wspace=0.22,
    )
    _draw_timeline(fig.add_subplot(grid[0, :]), session, numbers)
    if compact:
        _draw_shares(fig.add_subplot(grid[1, :]), numbers)
    else:
        _draw_title(fig, session, numbers)
        _draw_shares(fig.add_subplot(grid[1, 0]), numbers)
        _draw_numbers(fig.add_subplot(grid[1, 1]), numbers, line_frac=NUMBER_LINE_IN / lower_h)
    return fig


def _draw_title(fig: "Figure", session: Session, numbers: KeyNumbers) -> None:
    top = 1 - 0.3 / fig.get_figheight()
    fig.text(0.02, top, wording.CHART_TITLE, fontsize=18, weight="bold", color=INK, va="top")
    subtitle = wording.chart_subtitle(Path(session.source).name, numbers.duration_s, len(numbers.speakers))
    fig.text(0.02, top - 0.42 / fig.get_figheight(), subtitle, fontsize=12, color=MUTED, va="top")


def speaker_colours(numbers: KeyNumbers) -> dict[str, str]:
    """Colour of each speaker id: the user always gets the first palette colour (blue)."""
    return {s.id: PALETTE[i % len(PALETTE)] for i, s in enumerate(numbers.speakers)}


def _draw_timeline(ax: "Axes", session: Session, numbers: KeyNumbers) -> None:
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    colours = speaker_colours(numbers)
    n = len(numbers.speakers)
    lane_y = {s.id: n - i for i, s in enumerate(numbers.speakers)}  # first speaker on top; overlap lane at 0
    half = 0.32
    end = max(numbers.duration_s, max(seg.end for seg in session.segments))
    min_w = end / 1500.0  # a minimum drawn width keeps very short talkspurts visible in long sessions
    for sp in numbers.speakers:
        spans = [(seg.start, seg.duration) for seg in session.segments if seg.speaker == sp.id]
        bars = ax.broken_barh(
            [(s, max(w, min_w)) for s, w in spans], (lane_y[sp.id] - half, 2 * half),
            facecolors=colours[sp.id], edgecolor="none", label=sp.name,
        )
        bars.set_gid(f"lane:{sp.id}")
    if n >= 2:
        _, overlap = activity_spans(session)
        ov = ax.broken_barh(
            [(s, max(e - s, min_w)) for s, e in overlap], (-0.17, 0.34), facecolors=OVERLAP_COLOUR, edgecolor="none"
        )
        ov.set_gid("lane:overlap")
    silences = [e for e in session.events if e.type == "silence"]
    for e in silences:
        ax.axvspan(e.start, max(e.end, e.start + end / 600.0), color=SILENCE_COLOUR, alpha=0.7, lw=0, zorder=0, gid="silence")
    won = [(e.start, lane_y[e.by]) for e in session.events if e.type == "interruption" and e.by in lane_y and e.successful]
    lost = [(e.start, lane_y[e.by]) for e in session.events if e.type == "interruption" and e.by in lane_y and not e.successful]
    bcs = [((e.start + e.end) / 2, lane_y[e.by]) for e in session.events if e.type == "backchannel" and e.by in lane_y]
    size = 10 if end < 900 else 7
    # markers sit on the lane of who made them: triangles on the top edge of the bar, dots on it
    if won:
        ax.plot(*zip(*[(x, y + half) for x, y in won]), ls="none", marker="v", ms=size, color=INK, mec="white", mew=0.8, zorder=4, gid="interruptions:won")
    if lost:
        ax.plot(*zip(*[(x, y + half) for x, y in lost]), ls="none", marker="v", ms=size, mfc="white", mec=INK, mew=1.4, zorder=4, gid="interruptions:lost")
    if bcs:
        ax.plot(*zip(*bcs), ls="none", marker="o", ms=size * 0.55, mfc="white", mec=INK, mew=1.3, zorder=4, gid="backchannels")

    ticks = [(lane_y[sp.id], sp.name, colours[sp.id]) for sp in numbers.speakers]
    if n >= 2:
        ticks.append((0, wording.CHART_OVERLAP_LANE, MUTED))
    ax.set_ylim(-0.55 if n >= 2 else 0.45, n + 0.85)
    ax.set_yticks([t[0] for t in ticks])
    ax.set_yticklabels([t[1] for t in ticks], fontsize=12)
    for label, (_, _, colour) in zip(ax.get_yticklabels(), ticks):
        label.set_color(colour)
        label.set_fontweight("bold" if colour != MUTED else "normal")
    ax.set_xlim(0, end)
    ax.xaxis.set_major_locator(_locator(end))
    ax.xaxis.set_major_formatter(_clock_formatter())
    ax.tick_params(axis="x", labelsize=11, colors=MUTED)
    ax.tick_params(axis="y", length=0)
    ax.grid(axis="x", color="#eeeeee", lw=0.8, zorder=-1)
    ax.set_axisbelow(True)
    for side in ("top", "right", "left"):
        ax.spines[side].set_visible(False)
    ax.spines["bottom"].set_color("#bbbbbb")
    # the legend explains only the marks this chart shows
    legend = [
        (won, Line2D([], [], ls="none", marker="v", ms=10, color=INK, label=wording.CHART_LEGEND_INTERRUPTION_WON)),
        (lost, Line2D([], [], ls="none", marker="v", ms=10, mfc="white", mec=INK, mew=1.4, label=wording.CHART_LEGEND_INTERRUPTION_LOST)),
        (bcs, Line2D([], [], ls="none", marker="o", ms=5.5, mfc="white", mec=INK, mew=1.3, label=wording.CHART_LEGEND_BACKCHANNEL)),
        (silences, Patch(color=SILENCE_COLOUR, label=wording.CHART_LEGEND_SILENCE)),
    ]
    handles = [handle for shown, handle in legend if shown]
    if handles:
        ax.legend(
            handles=handles, loc="lower left", bbox_to_anchor=(0.0, 1.0), ncol=4, frameon=False, fontsize=11,
            handletextpad=0.4, columnspacing=1.6, borderaxespad=0.2,
        )


def _locator(span_s: float):
    from matplotlib.ticker import MultipleLocator

    return MultipleLocator(_tick_step(span_s))


def _draw_shares(ax: "Axes", numbers: KeyNumbers) -> None:
    colours = speaker_colours(numbers)
    n = len(numbers.speakers)
    ys = list(range(n - 1, -1, -1))
    shares = [s.share for s in numbers.speakers]
    bars = ax.barh(ys, shares, height=0.62, color=[colours[s.id] for s in numbers.speakers], gid="shares")
    bars.set_label(wording.CHART_SHARE_TITLE)
    for y, sp in zip(ys, numbers.speakers):
        ax.text(
            sp.share + 0.015, y, wording.share_label(sp.share, sp.talk_time_s), va="center", ha="left",
            fontsize=11.5, color=INK, zorder=5,
            bbox={"boxstyle": "square,pad=0.15", "facecolor": "white", "edgecolor": "none"},
        )
    if n >= 2:
        ax.axvline(1.0 / n, color=MUTED, ls=(0, (4, 3)), lw=1.2, zorder=3, gid="even-share")
        ax.text(
            1.0 / n, n - 0.45, wording.CHART_EVEN_SHARE, ha="center", va="bottom", fontsize=10, color=MUTED, zorder=5,
            bbox={"boxstyle": "square,pad=0.1", "facecolor": "white", "edgecolor": "none"},
        )
    ax.set_xlim(0, 1.25)  # room for the label of a 100% bar
    ax.set_ylim(-0.6, n - 0.1 + 0.45)
    ax.set_yticks(ys)
    ax.set_yticklabels([s.name for s in numbers.speakers], fontsize=12)
    for label, sp in zip(ax.get_yticklabels(), numbers.speakers):
        label.set_color(colours[sp.id])
        label.set_fontweight("bold")
    ax.set_xticks([0, 0.25, 0.5, 0.75, 1.0])
    ax.set_xticklabels(["0%", "25%", "50%", "75%", "100%"], fontsize=10, color=MUTED)
    ax.tick_params(axis="y", length=0)
    ax.tick_params(axis="x", colors=MUTED)
    for side in ("top", "right", "left"):
        ax.spines[side].set_visible(False)
    ax.spines["bottom"].set_color("#bbbbbb")
    ax.spines["bottom"].set_bounds(0, 1)
    ax.set_title(wording.CHART_SHARE_TITLE, loc="left", fontsize=13, weight="bold", color=INK, pad=14)


def _draw_numbers(ax: "Axes", numbers: KeyNumbers, *, line_frac: float) -> None:
    ax.set_axis_off()
    ax.set_title(wording.CHART_NUMBERS_TITLE, loc="left", fontsize=13, weight="bold", color=INK, pad=14)
    lines = wording.key_number_lines(numbers)
    step = min(line_frac, 1.0 / max(len(lines), 1))
    for i, (label, value) in enumerate(lines):
        y = 1.0 - (i + 0.5) * step
        ax.text(0.0, y, label, ha="left", va="center", fontsize=11.5, color=MUTED, transform=ax.transAxes)
        ax.text(0.5, y, value, ha="left", va="center", fontsize=11.5, color=INK, transform=ax.transAxes, gid="number")


# ---------------------------------------------------------------------------------------------------
# Trend chart (history)
# ---------------------------------------------------------------------------------------------------


def draw_trend_chart(rows: Sequence[Any], path: str | Path | None = None, *, fig: "Figure | None" = None) -> "Figure":
    """Draw your share of talk and the interruptions across past sessions.

    Parameters
    ----------
    rows : sequence of history rows
        Oldest first; each has ``id``, ``saved_at`` (datetime), ``n_speakers``, ``your_share`` (0..1
        or None when your voice was not known), ``interruptions`` and ``your_interruptions`` (None
        when unknown) - as :func:`listenkit.history.trend_rows` returns.
    path : str or Path, optional
        Also write the figure here (``.png``, ``.svg`` or ``.pdf``).
    fig : matplotlib.figure.Figure, optional
        Draw into this figure (it is cleared).

    Returns
    -------
    matplotlib.figure.Figure
    """
    if path is not None and Path(path).suffix.lower() not in CHART_FORMATS:
        raise OutputError(f"{path}: {wording.CHART_BAD_FORMAT.format(formats=', '.join(CHART_FORMATS))}")
    rows = list(rows)
    fig = _new_figure(fig, (11.0, 6.4))
    if not rows:
        ax = fig.add_axes((0, 0, 1, 1))
        ax.set_axis_off()
        ax.text(0.5, 0.5, wording.TREND_EMPTY, ha="center", va="center", fontsize=20, color=INK, gid="empty")
    else:
        _draw_trend(fig, rows)
    if path is not None:
        save_figure(fig, path)
    return fig


def _draw_trend(fig: "Figure", rows: list[Any]) -> None:
    import numpy as np

    x = np.arange(len(rows))
    fig.text(0.02, 0.97, wording.TREND_TITLE, fontsize=17, weight="bold", color=INK, va="top")
    fig.text(0.02, 0.915, wording.trend_subtitle(len(rows)), fontsize=12, color=MUTED, va="top")
    top = fig.add_axes((0.09, 0.53, 0.88, 0.3))
    bottom = fig.add_axes((0.09, 0.13, 0.88, 0.3), sharex=top)
    share = np.array([np.nan if r.your_share is None else 100 * r.your_share for r in rows])
    even = np.array([100.0 / r.n_speakers if r.n_speakers else np.nan for r in rows])
    top.plot(x, even, ls="none", marker="_", ms=18, mew=2, color=MUTED, label=wording.CHART_EVEN_SHARE, gid="even")
    if np.isfinite(share).any():
        top.plot(x, share, marker="o", ms=7, lw=2.2, color=PALETTE[0], label=wording.TREND_YOUR_SHARE, gid="your-share")
    else:
        top.text(0.5, 0.5, wording.TREND_NO_YOU, ha="center", va="center", fontsize=12, color=MUTED, transform=top.transAxes)
    top.set_ylim(0, 100)
    top.set_ylabel(wording.TREND_SHARE_YLABEL, fontsize=11, color=INK)
    top.legend(loc="upper left", frameon=False, fontsize=10.5, ncol=2)
    yours = np.array([r.your_interruptions if r.your_interruptions is not None else 0 for r in rows], dtype=float)
    others = np.array([r.interruptions for r in rows], dtype=float) - yours
    width = 0.6 if len(rows) < 40 else 0.85
    bottom.bar(x, yours, width=width, color=PALETTE[0], label=wording.TREND_BY_YOU, gid="by-you")
    bottom.bar(x, others, width=width, bottom=yours, color="#bdbdbd", label=wording.TREND_BY_OTHERS, gid="by-others")
    bottom.set_ylabel(wording.TREND_INTERRUPTIONS_YLABEL, fontsize=11, color=INK)
    bottom.legend(loc="upper left", frameon=False, fontsize=10.5, ncol=2)
    bottom.set_ylim(0, max(1.0, float((yours + others).max())) * 1.3)
    bottom.yaxis.get_major_locator().set_params(integer=True)
    every = max(1, math.ceil(len(rows) / 12))
    bottom.set_xticks(x[::every])
    bottom.set_xticklabels([wording.trend_tick(r.id, r.saved_at) for r in rows][::every], fontsize=9.5, color=MUTED)
    top.tick_params(labelbottom=False)
    top.set_xlim(-0.6, len(rows) - 0.4)
    for ax in (top, bottom):
        ax.grid(axis="y", color="#eeeeee", lw=0.8)
        ax.set_axisbelow(True)
        for side in ("top", "right"):
            ax.spines[side].set_visible(False)
        ax.tick_params(colors=MUTED)
