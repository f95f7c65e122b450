"""The balance and trend charts, checked through the figure's artists and data (no pixel baselines).

The sample sessions below are built by hand; test_report.py and test_history.py import them.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import pytest

from listenkit import wording
from listenkit.chart import (
    PALETTE,
    activity_spans,
    draw_balance_chart,
    draw_trend_chart,
    key_numbers,
)
from listenkit.cli import main
from listenkit.errors import OutputError
from listenkit.history import HistoryRow
from listenkit.session import Event, Session, SpeakerSummary
from listenkit.timeline import Segment

# ---------------------------------------------------------------------------------------------------
# Sample sessions
# ---------------------------------------------------------------------------------------------------


def _summaries(segments: list[Segment], labels: dict[str, str]) -> list[SpeakerSummary]:
    talk: dict[str, float] = {}
    for seg in segments:
        talk[seg.speaker] = talk.get(seg.speaker, 0.0) + seg.duration
    total = sum(talk.values())
    return [SpeakerSummary(k, labels.get(k), v, v / total) for k, v in talk.items()]


def two_speaker_session(*, you: bool = True) -> Session:
    """20 s, S1 (you) and S2, every kind of event once; metrics left empty on purpose.

    ::

        time  0    2    4    6    8    10   12   14   16   18   20
        S1    [=========)  [=================)         [=========)
        S2          [========)   [b]
              S2 interrupts at 3.0 (S1 goes on to 4.0: overlap 1.0; S2 keeps talking: successful)
              S1 takes back at 6.2 while S2 ends at 6.5 (0.3 < 0.5: handover)
              S2 "mm-hm" 8.0-8.6 inside S1's talk (backchannel); nobody 12-16 (silence)

    talk: S1 = 4.0 + 5.8 + 4.0 = 13.8 s, S2 = 3.5 + 0.6 = 4.1 s; speech 0-12 and 16-20 = 16 s;
    overlap 3.0-4.0, 6.2-6.5, 8.0-8.6 = 1.9 s.
    """
    segments = [
        Segment(0.0, 4.0, "S1"),
        Segment(3.0, 6.5, "S2"),
        Segment(6.2, 12.0, "S1"),
        Segment(8.0, 8.6, "S2"),
        Segment(16.0, 20.0, "S1"),
    ]
    events = [
        Event("interruption", 3.0, 6.5, "S2", "S1", True),
        Event("handover", 6.2, 12.0, "S1", "S2"),
        Event("backchannel", 8.0, 8.6, "S2", "S1"),
        Event("silence", 12.0, 16.0),
    ]
    return Session(
        source="/recordings/tea & talk.wav",
        duration_s=20.0,
        sample_rate=16000,
        speakers=_summaries(segments, {"S1": "you"} if you else {}),
        segments=segments,
        events=events,
        metrics={},
        feedback=["You gave S2 room to talk.", "Try <pausing> & waiting"],
    )


def four_speaker_session() -> Session:
    """2 min, four speakers in rounds of 6 s each; "you" is S3 (not the first speaker).

    Every 30 s round: S1 0-6, S2 7-13, S3 14-20, S4 21-27 (offset by the round); S4 interrupts S3
    unsuccessfully at 19.0-19.5 in round 0 and S3 gives a backchannel 3.0-3.4 in round 1.
    """
    segments = []
    for r in range(4):
        base = 30.0 * r
        for k, spk in enumerate(["S1", "S2", "S3", "S4"]):
            segments.append(Segment(base + 7 * k, base + 7 * k + 6, spk))
    segments += [Segment(19.0, 19.5, "S4"), Segment(33.0, 33.4, "S3")]
    segments.sort()
    events = [
        Event("interruption", 19.0, 19.5, "S4", "S3", False),
        Event("backchannel", 33.0, 33.4, "S3", "S1"),
    ]
    metrics = {
        "duration_s": 120.0,
        "longest_monologue": {"speaker": "S3", "start": 14.0, "end": 20.0, "duration_s": 6.0},
        "response_gap": {"median_s": 1.0},
    }
    return Session("four.wav", 120.0, 16000, _summaries(segments, {"S3": "you"}), segments, events, metrics, [])


def hour_session() -> Session:
    """1 h, three speakers taking 9.5 s turns with 0.5 s gaps (talk time 1200 s each, share 1/3)."""
    segments = []
    ids = ["S1", "S2", "S3"]
    for i in range(360):
        segments.append(Segment(10.0 * i, 10.0 * i + 9.5, ids[i % 3]))
    events = [Event("backchannel", 10.0 * i + 4.0, 10.0 * i + 4.5, ids[(i + 1) % 3], ids[i % 3]) for i in range(0, 360, 7)]
    segments += [Segment(e.start, e.end, e.by) for e in events]
    segments.sort()
    return Session("hour.flac", 3600.0, 16000, _summaries(segments, {"S2": "you"}), segments, events, {}, [])


def empty_session() -> Session:
    """A recording in which nobody spoke."""
    return Session("quiet.wav", 62.0, 16000)


def six_speaker_session() -> Session:
    """1 min, six speakers of 10 s each, no "you"."""
    segments = [Segment(10.0 * k, 10.0 * k + 9.0, f"S{k + 1}") for k in range(6)]
    return Session("six.wav", 60.0, 16000, _summaries(segments, {}), segments, [], {}, [])


# ---------------------------------------------------------------------------------------------------
# Helpers reading the figure
# ---------------------------------------------------------------------------------------------------


def _lanes(fig) -> dict[str, list[tuple[float, float]]]:
    """Lane id -> drawn (start, end) bars, from the broken_barh collections' gids."""
    out = {}
    for ax in fig.axes:
        for coll in ax.collections:
            gid = coll.get_gid() or ""
            if gid.startswith("lane:"):
                spans = []
                for path in coll.get_paths():
                    xs = path.vertices[:, 0]
                    spans.append((round(float(xs.min()), 3), round(float(xs.max()), 3)))
                out[gid[5:]] = sorted(spans)
    return out


def _line(fig, gid: str):
    for ax in fig.axes:
        for line in ax.get_lines():
            if line.get_gid() == gid:
                return line
    return None


def _texts(fig) -> list[str]:
    out = [t.get_text() for t in fig.texts]
    for ax in fig.axes:
        out += [t.get_text() for t in ax.texts]
        out += [t.get_text() for t in ax.get_yticklabels()]
        legend = ax.get_legend()
        if legend is not None:
            out += [t.get_text() for t in legend.get_texts()]
        out.append(ax.get_title(loc="left"))
    return out


# ---------------------------------------------------------------------------------------------------
# key_numbers
# ---------------------------------------------------------------------------------------------------


def test_key_numbers_from_segments_and_events_match_hand_computation():
    n = key_numbers(two_speaker_session())
    assert n.duration_s == 20.0
    assert n.speech_s == pytest.approx(16.0)
    assert n.overlap_s == pytest.approx(1.9)
    assert (n.interruptions, n.backchannels, n.silences, n.silence_s) == (1, 1, 1, 4.0)
    assert [s.id for s in n.speakers] == ["S1", "S2"]
    you = n.you
    assert you is not None and you.id == "S1" and you.name == "You"
    assert you.talk_time_s == pytest.approx(13.8)
    assert you.share == pytest.approx(13.8 / 17.9)
    assert (you.interruptions_made, you.interruptions_received, you.backchannels_given) == (0, 1, 0)
    s2 = n.speakers[1]
    assert (s2.interruptions_made, s2.interruptions_received, s2.backchannels_given) == (1, 0, 1)
    assert n.longest_monologue_s is None and n.response_gap_median_s is None  # not in metrics


def test_key_numbers_prefer_metrics_when_present():
    session = two_speaker_session()
    session.metrics = {
        "speech_s": 15.5,
        "overlap_s": 2.0,
        "interruptions": 3,
        "per_speaker": {"S1": {"interruptions_made": 2, "talk_time_s": 13.0, "share": 0.7}},
        "longest_monologue": {"speaker": "S1", "start": 6.2, "end": 12.0, "duration_s": 5.8},
        "response_gap": {"median_s": 0.25, "count": 2},
        "silence_total_s": 4.5,
    }
    n = key_numbers(session)
    assert (n.speech_s, n.overlap_s, n.interruptions, n.silence_s) == (15.5, 2.0, 3, 4.5)
    assert n.you.interruptions_made == 2 and n.you.talk_time_s == 13.0 and n.you.share == 0.7
    assert n.speakers[1].interruptions_made == 1  # S2 has no per_speaker entry: from events
    assert n.longest_monologue_s == 5.8 and n.longest_monologue_by == "You"
    assert n.response_gap_median_s == 0.25


@pytest.mark.parametrize("bad", [None, "x", [1, 2], {"per_speaker": "nope", "interruptions": "many"}])
def test_key_numbers_survive_malformed_metrics(bad):
    session = two_speaker_session()
    session.metrics = bad
    assert key_numbers(session).interruptions == 1


def test_you_listed_first_and_shares_sum_to_one():
    n = key_numbers(four_speaker_session())
    assert [s.id for s in n.speakers] == ["S3", "S1", "S2", "S4"]
    assert sum(s.share for s in n.speakers) == pytest.approx(1.0)
    assert n.speech_s <= n.duration_s and n.overlap_s <= n.speech_s


def test_activity_spans_touching_segments_do_not_overlap():
    session = Session("t.wav", 5.0, 16000, segments=[Segment(0, 1, "A"), Segment(1, 2, "B"), Segment(1.5, 3, "A")])
    speech, overlap = activity_spans(session)
    assert speech == [(0, 3)]
    assert overlap == [(1.5, 2)]


# ---------------------------------------------------------------------------------------------------
# Balance chart
# ---------------------------------------------------------------------------------------------------


def test_balance_chart_lanes_marks_and_labels():
    session = two_speaker_session()
    fig = draw_balance_chart(session)
    lanes = _lanes(fig)
    assert list(lanes) == ["S1", "S2", "overlap"]
    assert lanes["S1"] == [(0.0, 4.0), (6.2, 12.0), (16.0, 20.0)]
    assert lanes["S2"] == [(3.0, 6.5), (8.0, 8.6)]
    assert lanes["overlap"] == [(3.0, 4.0), (6.2, 6.5), (8.0, 8.6)]

    timeline = fig.axes[0]
    labels = [t.get_text() for t in timeline.get_yticklabels()]
    assert labels == ["You", "S2", wording.CHART_OVERLAP_LANE]
    lane_y = dict(zip(labels, timeline.get_yticks()))
    won = _line(fig, "interruptions:won")
    assert list(won.get_xdata()) == [3.0]
    assert won.get_ydata()[0] > lane_y["S2"] and won.get_ydata()[0] < lane_y["You"]  # on S2's lane, top edge
    assert _line(fig, "interruptions:lost") is None
    bc = _line(fig, "backchannels")
    assert list(bc.get_xdata()) == [pytest.approx(8.3)] and list(bc.get_ydata()) == [lane_y["S2"]]
    silences = [p for p in timeline.patches if p.get_gid() == "silence"]
    assert len(silences) == 1
    patch = silences[0]
    xs = patch.get_patch_transform().transform(patch.get_path().vertices)[:, 0]
    assert (xs.min(), xs.max()) == (12.0, 16.0)

    texts = _texts(fig)
    assert wording.CHART_TITLE in texts
    assert any("tea & talk.wav" in t for t in texts)
    assert "77%  (0:14)" in texts and "23%  (0:04)" in texts
    assert wording.CHART_LEGEND_INTERRUPTION_WON in texts and wording.CHART_LEGEND_BACKCHANNEL in texts
    assert wording.CHART_LEGEND_INTERRUPTION_LOST not in texts  # legend only explains what is drawn
    assert "1  (you made 0)" in texts


def test_you_lane_uses_first_colour_and_speakers_get_distinct_colours():
    fig = draw_balance_chart(four_speaker_session())
    lanes = [c for c in fig.axes[0].collections if (c.get_gid() or "").startswith("lane:S")]
    assert [c.get_gid() for c in lanes] == ["lane:S3", "lane:S1", "lane:S2", "lane:S4"]
    colours = [tuple(np.round(c.get_facecolor()[0], 3)) for c in lanes]
    assert len(set(colours)) == 4
    from matplotlib.colors import to_rgba

    assert colours[0] == tuple(np.round(to_rgba(PALETTE[0]), 3))
    lost = _line(fig, "interruptions:lost")
    assert list(lost.get_xdata()) == [19.0]
    texts = _texts(fig)
    assert [t.get_text() for t in fig.axes[0].get_yticklabels()][0] == "You"
    assert "0:06  (You)" in texts  # longest turn from the metrics
    assert "1.0 s" in texts


def test_hour_session_draws_every_talkspurt_with_clock_ticks():
    session = hour_session()
    fig = draw_balance_chart(session)
    lanes = _lanes(fig)
    assert sum(len(v) for k, v in lanes.items() if k != "overlap") == len(session.segments)
    ax = fig.axes[0]
    assert ax.get_xlim() == (0.0, 3600.0)
    ticks = ax.xaxis.get_major_locator().tick_values(0, 3600)
    ticks = [t for t in ticks if 0 <= t <= 3600]
    assert 4 <= len(ticks) <= 11
    fmt = ax.xaxis.get_major_formatter()
    assert fmt(3600, 0) == "1:00:00" and fmt(600, 0) == "10:00"
    assert len(_line(fig, "backchannels").get_xdata()) == 52


def test_short_session_ticks_are_seconds():
    fig = draw_balance_chart(two_speaker_session())
    ticks = fig.axes[0].xaxis.get_major_locator().tick_values(0, 20)
    assert np.diff(ticks)[0] in (2.0, 5.0)


def test_one_speaker_has_no_overlap_lane_and_six_speakers_have_six_lanes():
    one = Session("solo.wav", 10.0, 16000, [SpeakerSummary("S1", "you", 8.0, 1.0)], [Segment(1, 9, "S1")])
    assert list(_lanes(draw_balance_chart(one))) == ["S1"]
    six = draw_balance_chart(six_speaker_session())
    assert list(_lanes(six)) == [f"S{k}" for k in range(1, 7)] + ["overlap"]
    assert "You" not in [t.get_text() for t in six.axes[0].get_yticklabels()]


def test_empty_session_says_no_conversation():
    fig = draw_balance_chart(empty_session())
    texts = _texts(fig)
    assert wording.CHART_EMPTY_TITLE in texts
    assert any("quiet.wav" in t for t in texts)
    assert _lanes(fig) == {}


def test_drawing_into_a_given_figure_reuses_it():
    first = draw_balance_chart(two_speaker_session())
    again = draw_balance_chart(four_speaker_session(), fig=first)
    assert again is first
    assert list(_lanes(again))[0] == "S3"


def test_writes_png_and_svg_atomically_private(tmp_path):
    session = two_speaker_session()
    png = draw_balance_chart(session, tmp_path / "b.png") and tmp_path / "b.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert png.stat().st_mode & 0o777 == 0o600
    svg = tmp_path / "b.svg"
    draw_balance_chart(session, svg)
    assert b"<svg" in svg.read_bytes()[:500]
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no temporary left


def test_svg_is_reproducible(tmp_path):
    draw_balance_chart(two_speaker_session(), tmp_path / "a.svg")
    draw_balance_chart(two_speaker_session(), tmp_path / "b.svg")
    assert (tmp_path / "a.svg").read_bytes() == (tmp_path / "b.svg").read_bytes()


@pytest.mark.parametrize("name", ["chart.gif", "chart", "chart.html"])
def test_unsupported_suffix_is_refused_before_drawing(tmp_path, name):
    with pytest.raises(OutputError, match="unsupported chart format"):
        draw_balance_chart(two_speaker_session(), tmp_path / name)
    assert not (tmp_path / name).exists()


def test_missing_folder_is_an_output_error(tmp_path):
    with pytest.raises(OutputError, match="does not exist"):
        draw_balance_chart(two_speaker_session(), tmp_path / "nope" / "c.png")


# ---------------------------------------------------------------------------------------------------
# Trend chart
# ---------------------------------------------------------------------------------------------------


def _rows(shares):
    start = datetime(2026, 10, 1, 12, tzinfo=timezone.utc)
    return [
        HistoryRow(i + 1, start + timedelta(days=i), "t.wav", 600.0, 2, share, 4, None if share is None else 1, 9, None)
        for i, share in enumerate(shares)
    ]


def test_trend_chart_plots_your_share_and_interruptions():
    fig = draw_trend_chart(_rows([0.6, 0.55, 0.5]))
    line = _line(fig, "your-share")
    assert list(line.get_ydata()) == pytest.approx([60, 55, 50])
    by_you = [p for ax in fig.axes for p in ax.patches if p.get_gid() == "by-you"]
    by_others = [p for ax in fig.axes for p in ax.patches if p.get_gid() == "by-others"]
    assert [p.get_height() for p in by_you] == [1, 1, 1]
    assert [p.get_height() for p in by_others] == [3, 3, 3]
    assert list(_line(fig, "even").get_ydata()) == [50, 50, 50]
    labels = [t.get_text() for t in fig.axes[1].get_xticklabels()]
    assert labels[0].startswith("#1")


def test_trend_chart_without_your_voice_and_without_rows():
    texts = _texts(draw_trend_chart(_rows([None, None])))
    assert wording.TREND_NO_YOU in texts
    assert wording.TREND_EMPTY in _texts(draw_trend_chart([]))


def test_trend_chart_writes_file(tmp_path):
    draw_trend_chart(_rows([0.4, 0.5]), tmp_path / "trend.png")
    assert (tmp_path / "trend.png").read_bytes()[:4] == b"\x89PNG"


# ---------------------------------------------------------------------------------------------------
# CLI
# ---------------------------------------------------------------------------------------------------


def test_cli_chart_from_session_file(tmp_path, capsys):
    src = tmp_path / "s.json"
    two_speaker_session().write_json(src)
    out = tmp_path / "balance.svg"
    assert main(["chart", str(src), "-o", str(out)]) == 0
    assert out.exists() and b"<svg" in out.read_bytes()[:500]
    assert str(out) in capsys.readouterr().out


@pytest.mark.parametrize(
    "content, needle",
    [(None, "no such session file"), ("{not json", "not valid JSON"), (json.dumps({"schema": "x"}), "not a listenkit session")],
)
def test_cli_chart_bad_session_is_one_line_exit_2(tmp_path, capsys, content, needle):
    src = tmp_path / "s.json"
    if content is not None:
        src.write_text(content)
    assert main(["chart", str(src), "-o", str(tmp_path / "c.png")]) == 2
    err = capsys.readouterr().err
    assert needle in err and err.count("\n") == 1
    assert not (tmp_path / "c.png").exists()


def test_cli_chart_bad_output_checked_first(tmp_path, capsys):
    src = tmp_path / "s.json"
    two_speaker_session().write_json(src)
    assert main(["chart", str(src), "-o", str(tmp_path / "c.bmp")]) == 2
    assert main(["chart", str(src), "-o", str(tmp_path / "no" / "c.png")]) == 2
    assert capsys.readouterr().err.count("listenkit: error:") == 2


def test_cli_chart_from_history_id(tmp_path):
    from listenkit.history import save_session

    sid = save_session(four_speaker_session())
    out = tmp_path / "c.png"
    assert main(["chart", str(sid), "-o", str(out)]) == 0
    assert out.read_bytes()[:4] == b"\x89PNG"
    assert Path(out).stat().st_size > 10_000
