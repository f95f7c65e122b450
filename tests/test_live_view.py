"""The live view drawn on injected consoles: the panel, the quiet line, plain lines without a terminal."""

from __future__ import annotations

import io

from rich.console import Console

from listenkit import wording
from listenkit.live.nudges import Nudge
from listenkit.live.snapshot import LiveSnapshot, LiveSpeaker
from listenkit.live.view import (
    ElapsedView,
    LinesView,
    NullView,
    PanelView,
    choose_view,
    render_live,
)

SNAP = LiveSnapshot(
    elapsed_s=192.0,
    speakers=[LiveSpeaker("S1", "you", 110.0, 0.58), LiveSpeaker("S2", "S2", 80.0, 0.42)],
    talking="you",
    interruptions=1,
    backchannels=4,
    longest_monologue=("S2", 45.0),
)


def draw(renderable, width: int = 80) -> str:
    console = Console(file=io.StringIO(), width=width, color_system=None, record=True, force_terminal=False)
    console.print(renderable)
    return console.export_text()


def test_panel_shows_time_bars_talker_and_counts():
    text = draw(render_live(SNAP))
    assert "3:12" in text  # elapsed
    lines = text.splitlines()
    you = next(line for line in lines if " you " in line)
    s2 = next(line for line in lines if " S2 " in line)
    assert "58%" in you and "1:50" in you and wording.LIVE_TALKING in you
    assert "42%" in s2 and "1:20" in s2 and wording.LIVE_TALKING not in s2
    assert you.count("█") == 14 and s2.count("█") == 10  # 58% and 42% of 24 characters
    assert wording.live_counts(1, 4, ("S2", 45.0)) in text
    assert "Longest monologue S2 0:45" in text


def test_panel_before_anyone_speaks_and_with_trouble_and_a_nudge():
    text = draw(render_live(LiveSnapshot(elapsed_s=3.0)))
    assert wording.LIVE_WAITING in text and "0:03" in text
    text = draw(render_live(LiveSnapshot(elapsed_s=400.0, overflows=2, nudge="A kind word.", speakers=SNAP.speakers)))
    inner = " ".join(line.strip("│ ") for line in text.splitlines())  # the panel's text, unwrapped
    assert wording.live_overflows(2) in inner
    assert "A kind word." in inner
    assert {len(line) for line in text.splitlines()} == {72}  # a calm panel: its width never jumps


def test_panel_view_redraws_in_place_on_a_terminal():
    out = io.StringIO()
    console = Console(file=out, width=80, force_terminal=True, color_system=None)
    view = PanelView(console)
    view.start()
    view.update(SNAP)
    view.update(LiveSnapshot(elapsed_s=193.0, speakers=SNAP.speakers))
    view.stop()
    written = out.getvalue()
    assert "3:12" in written and "3:13" in written
    assert "\x1b[" in written  # cursor movement: drawn in place


def test_quiet_view_shows_only_the_time():
    out = io.StringIO()
    console = Console(file=out, width=80, force_terminal=True, color_system=None)
    view = ElapsedView(console)
    view.start()
    view.update(SNAP)
    view.nudge(Nudge(192.0, "monologue", "A nudge."))
    view.stop()
    written = out.getvalue()
    assert wording.live_quiet_line(192.0) in written
    assert "58%" not in written and "A nudge." not in written


def test_plain_lines_without_a_terminal():
    out = io.StringIO()
    view = LinesView(out, every_s=30.0)
    view.start()
    for t in (5.0, 29.9, 30.0, 31.0, 59.0, 75.0):
        view.update(LiveSnapshot(elapsed_s=t, speakers=SNAP.speakers, talking="S2", interruptions=1, backchannels=2))
    view.nudge(Nudge(80.0, "quiet", "S2 has not spoken for 3:05."))
    lines = out.getvalue().splitlines()
    assert lines[0] == wording.LIVE_STARTED_LINE
    assert lines[1] == "[0:30] you 58% (1:50), S2 42% (1:20); interruptions 1, backchannels 2; S2 is talking"
    assert lines[2].startswith("[1:15] ")  # one line per 30 s of session, not per update
    assert lines[3] == "[1:20] S2 has not spoken for 3:05."
    assert len(lines) == 4
    assert "\x1b" not in out.getvalue()


def test_choosing_the_view():
    term = Console(file=io.StringIO(), force_terminal=True)
    pipe = Console(file=io.StringIO(), force_terminal=False)
    assert isinstance(choose_view(term, quiet=False), PanelView)
    assert isinstance(choose_view(term, quiet=True), ElapsedView)
    assert isinstance(choose_view(pipe, quiet=False), LinesView)
    assert isinstance(choose_view(pipe, quiet=True), NullView)
