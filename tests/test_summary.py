"""The summary on an injected rich console (terminal and not) and as plain text."""

from __future__ import annotations

import io
import re

import pytest
from rich.console import Console

from listenkit.conversation import analyze_conversation
from listenkit.feedback import feedback_messages
from listenkit.metrics import compute_metrics, speaker_summaries
from listenkit.session import Session
from listenkit.summary import BALANCE_BAR_WIDTH, bar_widths, render_summary, summary_text
from listenkit.timeline import Segment

# see tests/test_metrics.py for this timeline and its hand computation:
# S1 talks 104.5 s (82%), S2 23.4 s (18%); 1 interruption by S1 of S2, backchannels 1 each,
# 1 silence of 4 s, longest monologue S1 [0,100), 2 handovers, median response gap -0.2 s
EXAMPLE = [
    Segment(0, 100, "S1"), Segment(3, 3.5, "S2"), Segment(99.8, 110, "S2"), Segment(108, 112, "S1"),
    Segment(116, 117, "S2"), Segment(117.5, 118, "S1"), Segment(118.3, 130, "S2"),
]

BOX_AND_BLOCKS = re.compile("[\u2500-\u259f]")


def _session(segments=EXAMPLE, duration=135.0, you="S1") -> Session:
    conv = analyze_conversation(segments)
    speakers = speaker_summaries(conv.talkspurts, ["S1", "S2"], {you: "you"} if you else None)
    metrics = compute_metrics(conv, duration)
    feedback = feedback_messages(speakers, metrics, you=you)
    return Session("talk.wav", duration, 16000, speakers, conv.talkspurts, conv.events, metrics, feedback)


def _console(terminal: bool) -> tuple[Console, io.StringIO]:
    buf = io.StringIO()
    return Console(file=buf, record=True, force_terminal=terminal, width=100, color_system="standard"), buf


def test_plain_text_has_the_numbers():
    text = summary_text(_session())
    assert text.startswith("Conversation summary: talk.wav (2:15)\n")
    assert "  you: talk 1:45, 82%; interruptions made 1, received 0; backchannels given 1\n" in text
    assert "  S2: talk 0:23, 18%; interruptions made 0, received 1; backchannels given 1\n" in text
    assert "Balance: you 82%, S2 18%\n" in text
    assert "Length: 2:15\n" in text
    assert "Silences: 1 (4 s in all)\n" in text
    assert "Longest monologue: you, 1:40 from 0:00\n" in text
    assert "Handovers: 2\n" in text
    assert "Median response gap: -0.20 s\n" in text
    assert "  - You spoke 82% of the time" in text
    assert not BOX_AND_BLOCKS.search(text) and "\x1b" not in text


def test_not_a_terminal_prints_exactly_the_plain_text():
    console, buf = _console(terminal=False)
    session = _session()
    render_summary(session, console)
    out = buf.getvalue()
    assert out == summary_text(session)  # no wrapping at width 100, no escape codes, no box drawing
    assert "\x1b" not in out and not BOX_AND_BLOCKS.search(out)


def test_terminal_gets_a_table_bars_key_numbers_and_feedback():
    console, buf = _console(terminal=True)
    render_summary(_session(), console)
    assert "\x1b[" in buf.getvalue()  # colours on a terminal
    text = console.export_text()
    lines = text.splitlines()
    row_you = next(line for line in lines if line.lstrip().startswith("you "))
    assert "1:45" in row_you and "82%" in row_you and "1 / 0" in row_you
    # the speaker's bar: 82% of 20 characters -> 16 filled
    assert "█" * 16 + "░" * 4 in row_you
    balance = next(line for line in lines if line.startswith("Balance "))
    assert balance.count("█") == BALANCE_BAR_WIDTH and "you 82%" in balance and "S2 18%" in balance
    assert re.search(r"Longest monologue\s+you, 1:40 from 0:00", text)
    assert re.search(r"Median response gap\s+-0.20 s", text)
    assert re.search(r"Handovers\s+2", text)
    assert "Suggestions" in text and "• You spoke 82% of the time" in text


def test_no_speech_says_no_conversation_on_both_consoles():
    session = Session("quiet.wav", 12.0, 16000, speaker_summaries([], ["S1"]), [], [], {}, [])
    assert summary_text(session) == "No conversation was found in quiet.wav (0:12): nobody was heard speaking.\n"
    for terminal in (True, False):
        console, _ = _console(terminal)
        render_summary(session, console)
        assert "No conversation was found in quiet.wav" in console.export_text()


def test_missing_metrics_are_recomputed_from_the_segments():
    full = _session(you=None)
    bare = Session("talk.wav", 135.0, 16000, [], full.segments, [], {}, [])
    text = summary_text(bare)
    assert "S1: talk 1:45, 82%; interruptions made 1, received 0" in text
    assert "Longest monologue: S1, 1:40 from 0:00" in text
    assert "Suggestions" not in text  # no feedback stored, none invented


@pytest.mark.parametrize(
    "shares, width, expected",
    [
        ([0.5, 0.5], 10, [5, 5]),
        ([1 / 3, 1 / 3, 1 / 3], 10, [4, 3, 3]),  # 3.33 each; the one left over goes to the first
        ([0.817, 0.183], 40, [33, 7]),  # 32.68 -> 33, 7.32 -> 7
        ([0.0, 0.0], 10, [0, 0]),
        ([1.0], 0, [0]),
    ],
)
def test_bar_widths(shares, width, expected):
    assert bar_widths(shares, width) == expected


def test_hand_edited_metrics_do_not_crash_the_summary():
    session = _session()
    session.metrics = {
        "per_speaker": {"S1": "garbage", "S2": {"interruptions_made": "x"}},
        "longest_monologue": {"speaker": 3},
        "response_gap": [1, 2],
        "silences": None,
        "handovers": "many",
    }
    text = summary_text(session)
    assert "Longest monologue: none" in text and "Handovers: 0" in text
    assert "Median response gap: not measured" in text
