"""A self-contained HTML report of one conversation.

One file holds everything: the balance chart as inline SVG, the key numbers, each speaker's numbers and
the gentle feedback, styled by inline CSS. It makes no network requests (a Content-Security-Policy
forbids them), needs no scripts, and reflows to a phone's width. Every piece of text is HTML-escaped.
"""

from __future__ import annotations

import html
import re
from pathlib import Path

from . import wording
from .chart import KeyNumbers, draw_balance_chart, figure_bytes, key_numbers, speaker_colours
from .fileio import atomic_write_text
from .recording_quality import loud_background_db
from .session import Session

_CSS = """
:root { color-scheme: light; --ink: #222; --muted: #666; --line: #e3e3e3; --bg: #fafafa; }
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--ink);
  font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
main { max-width: 1100px; margin: 0 auto; padding: 1.2rem 1rem 2rem; }
h1 { font-size: 1.6rem; margin: 0 0 .2rem; line-height: 1.25; }
h2 { font-size: 1.15rem; margin: 0 0 .6rem; }
.meta { color: var(--muted); margin: 0 0 1rem; overflow-wrap: anywhere; }
section { background: #fff; border: 1px solid var(--line); border-radius: 10px; padding: 1rem; margin: 0 0 1rem; }
.chart { overflow-x: auto; padding: .5rem; }
.chart svg { display: block; width: 100%; min-width: 560px; height: auto; }
.grid { display: grid; grid-template-columns: repeat(auto-fit, minmax(18rem, 1fr)); gap: 1rem; }
.grid { margin: 0 0 1rem; }
.grid > section { margin: 0; }
dl { margin: 0; }
dl div { display: flex; justify-content: space-between; gap: 1rem; padding: .3rem 0; border-bottom: 1px solid var(--line); }
dl div:last-child { border-bottom: 0; }
dt { color: var(--muted); }
dd { margin: 0; text-align: right; font-variant-numeric: tabular-nums; }
.table-wrap { overflow-x: auto; }
table { border-collapse: collapse; width: 100%; font-variant-numeric: tabular-nums; }
th, td { padding: .35rem .5rem; text-align: right; border-bottom: 1px solid var(--line); white-space: nowrap; }
th:first-child, td:first-child { text-align: left; }
th { font-weight: 600; color: var(--muted); font-size: .9rem; }
.swatch { display: inline-block; width: .8em; height: .8em; border-radius: 2px; margin-right: .45em; vertical-align: -.05em; }
.feedback { margin: 0; padding-left: 1.2rem; }
.feedback li { margin: .3rem 0; }
.note { background: #fff8e1; border: 1px solid #f0d68a; border-radius: 10px; padding: .7rem 1rem; margin: 0 0 1rem; }
footer { color: var(--muted); font-size: .85rem; text-align: center; margin-top: 1.5rem; }
@media (max-width: 480px) { body { font-size: 15px; } main { padding: .8rem .6rem; } section { padding: .8rem; } }
"""

_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"


def _e(text: object) -> str:
    """HTML-escaped text (quotes too, so it is safe in attributes)."""
    return html.escape(str(text), quote=True)


def chart_svg(session: Session) -> str:
    """The balance chart as an inline ``<svg>`` element that scales to its container's width."""
    svg = figure_bytes(draw_balance_chart(session, compact=True), "svg").decode("utf-8")
    svg = svg[svg.index("<svg"):]  # drop the XML declaration and DOCTYPE
    svg = re.sub(r"<metadata>.*?</metadata>\s*", "", svg, flags=re.S)  # RDF boilerplate
    head_end = svg.index(">")
    head = re.sub(r'\s(width|height)="[^"]*"', "", svg[:head_end])
    label = _e(wording.REPORT_CHART_LABEL)
    return f'{head} role="img" aria-label="{label}"' + svg[head_end:]


def _numbers_html(numbers: KeyNumbers) -> str:
    rows = "".join(f"<div><dt>{_e(k)}</dt><dd>{_e(v)}</dd></div>" for k, v in wording.key_number_lines(numbers))
    return f"<section><h2>{_e(wording.REPORT_NUMBERS)}</h2><dl>{rows}</dl></section>"


def _speakers_html(numbers: KeyNumbers) -> str:
    if not numbers.speakers:
        return ""
    colours = speaker_colours(numbers)
    head = "".join(f"<th scope=\"col\">{_e(c)}</th>" for c in wording.REPORT_SPEAKER_COLUMNS)
    body = []
    for sp in numbers.speakers:
        cells = [
            wording.format_clock(sp.talk_time_s),
            wording.percent_text(sp.share),
            sp.interruptions_made,
            sp.interruptions_received,
            sp.backchannels_given,
        ]
        name = f'<span class="swatch" style="background:{colours[sp.id]}"></span>{_e(sp.name)}'
        body.append(f"<tr><th scope=\"row\">{name}</th>" + "".join(f"<td>{_e(c)}</td>" for c in cells) + "</tr>")
    return (
        f"<section><h2>{_e(wording.REPORT_SPEAKERS)}</h2><div class=\"table-wrap\"><table>"
        f"<thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table></div></section>"
    )


def _feedback_html(feedback: list[str]) -> str:
    if feedback:
        items = "".join(f"<li>{_e(line)}</li>" for line in feedback)
        inner = f'<ul class="feedback">{items}</ul>'
    else:
        inner = f"<p>{_e(wording.REPORT_NO_FEEDBACK)}</p>"
    return f"<section><h2>{_e(wording.REPORT_FEEDBACK)}</h2>{inner}</section>"


def _caveat_html(session: Session) -> str:
    """The loud-background note (:mod:`listenkit.recording_quality`), or nothing."""
    margin = loud_background_db(session.extra)
    return "" if margin is None else f'<p class="note">{_e(wording.loud_background_note(margin))}</p>'


def render_report_html(session: Session) -> str:
    """The report of one conversation as a complete HTML document.

    Parameters
    ----------
    session : Session
        The conversation; ``metrics`` may be empty (numbers are then computed from segments and events).

    Returns
    -------
    str
        A self-contained HTML5 document (inline SVG chart and CSS, no scripts, no external requests).
    """
    from . import __version__

    numbers = key_numbers(session)
    source = Path(session.source).name
    subtitle = wording.chart_subtitle(source, numbers.duration_s, len(numbers.speakers))
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f'<meta http-equiv="Content-Security-Policy" content="{_CSP}">',
        '<meta name="referrer" content="no-referrer">',
        f"<title>{_e(wording.REPORT_TITLE)} - {_e(source)}</title>",
        f"<style>{_CSS}</style>",
        "</head>",
        "<body><main>",
        f'<header><h1>{_e(wording.CHART_TITLE)}</h1><p class="meta">{_e(subtitle)}</p></header>',
        f'<section class="chart">{chart_svg(session)}</section>',
        "" if session.segments else f'<section class="empty"><h2>{_e(wording.CHART_EMPTY_TITLE)}</h2></section>',
        _caveat_html(session),  # right under the chart whose shares it qualifies
        '<div class="grid">',
        _numbers_html(numbers),
        _feedback_html(session.feedback),
        "</div>",
        _speakers_html(numbers),
        f"<footer>{_e(wording.REPORT_FOOTER.format(version=__version__))}</footer>",
        "</main></body>",
        "</html>",
    ]
    return "\n".join(p for p in parts if p) + "\n"


def write_report(session: Session, path: str | Path) -> Path:
    """Write :func:`render_report_html` to ``path``, atomically and readable by the user only (0600).

    Raises
    ------
    OutputError
        When the file cannot be written (missing folder, a folder of that name, no permission).
    """
    return atomic_write_text(path, render_report_html(session))
