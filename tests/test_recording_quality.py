"""The loud-background caveat: hand-made levels, the session file, the summary and the report."""

from __future__ import annotations

import numpy as np
import pytest

from listenkit.recording_quality import (
    LOUD_BACKGROUND_DB,
    loud_background_db,
    quality_facts,
    quietest_voice_margin_db,
)
from listenkit.report import render_report_html
from listenkit.session import Session, SpeakerSummary
from listenkit.summary import summary_text
from listenkit.timeline import Segment

DB = np.log(10.0) / 10.0  # nats of power per dB


def _rows(levels_db: list[float]) -> np.ndarray:
    """Log-mel rows, every band at the same power, frame energy = the given dB (+ 10 log10 40)."""
    return np.repeat(np.asarray(levels_db, dtype=np.float32)[:, None] * DB, 40, axis=1)


def _scene(background: int, a_db: float, b_db: float, *, b_frames: int = 300):
    """Background frames at 0 dB, then 300 frames of speaker A and ``b_frames`` of speaker B at their levels."""
    rows = _rows([0.0] * background + [a_db] * 300 + [b_db] * b_frames)
    activity = np.zeros((rows.shape[0], 2), dtype=bool)
    activity[background : background + 300, 0] = True
    activity[background + 300 :, 1] = True
    heard = activity.any(axis=1)
    return rows, activity, heard


def test_margin_is_the_quietest_voice_over_the_background():
    rows, activity, heard = _scene(500, 20.0, 5.0)
    assert quietest_voice_margin_db(rows, activity, heard) == pytest.approx(5.0, abs=1e-3)
    assert quality_facts(rows, activity, heard) == {"quietest_voice_over_background_db": 5.0, "loud_background": True}
    rows, activity, heard = _scene(500, 20.0, LOUD_BACKGROUND_DB + 4.0)
    assert quality_facts(rows, activity, heard)["loud_background"] is False


def test_a_long_recording_is_measured_on_spread_frames():
    # 25 min of background and a second (100 frames) of a quiet voice: every 2nd frame is looked at,
    # the voice still counts and the margin is the same
    rows, activity, heard = _scene(150000, 20.0, 5.0, b_frames=100)
    assert quietest_voice_margin_db(rows, activity, heard) == pytest.approx(5.0, abs=1e-3)


def test_frames_heard_by_the_detector_are_not_background():
    # 400 frames at 12 dB that the detector heard but nobody was given: not background
    rows, activity, heard = _scene(500, 20.0, 15.0)
    rows = np.vstack([rows, _rows([12.0] * 400)])
    activity = np.vstack([activity, np.zeros((400, 2), dtype=bool)])
    heard = np.concatenate([heard, np.ones(400, dtype=bool)])
    assert quietest_voice_margin_db(rows, activity, heard) == pytest.approx(15.0, abs=1e-3)


def test_without_enough_background_the_quietest_frames_stand_for_it():
    # 50 background frames (under a second): the 5th percentile of all 650 frames (0 dB) is used
    rows, activity, heard = _scene(50, 20.0, 6.0)
    assert quietest_voice_margin_db(rows, activity, heard) == pytest.approx(6.0, abs=1e-3)


def test_a_speaker_with_under_a_second_does_not_count():
    rows, activity, heard = _scene(500, 20.0, 2.0, b_frames=99)
    assert quietest_voice_margin_db(rows, activity, heard) == pytest.approx(20.0, abs=1e-3)
    empty = np.zeros((rows.shape[0], 0), dtype=bool)
    assert quietest_voice_margin_db(rows, empty, heard) is None
    assert quality_facts(rows, empty, heard)["loud_background"] is False


def test_old_and_damaged_quality_facts_show_no_note():
    assert loud_background_db({}) is None
    assert loud_background_db({"quality": "loud"}) is None
    assert loud_background_db({"quality": {"loud_background": False, "quietest_voice_over_background_db": 3.0}}) is None
    assert loud_background_db({"quality": {"loud_background": True, "quietest_voice_over_background_db": 3.0}}) == 3.0


def _session(quality: dict | None) -> Session:
    speakers = [SpeakerSummary("S1", None, 6.0, 0.6), SpeakerSummary("S2", None, 4.0, 0.4)]
    segments = [Segment(0.0, 6.0, "S1"), Segment(6.5, 10.5, "S2")]
    extra = {} if quality is None else {"quality": quality}
    return Session("talk.wav", 12.0, 16000, speakers, segments, extra=extra)


def test_summary_and_report_say_it_only_when_the_background_was_loud():
    loud = _session({"quietest_voice_over_background_db": 4.2, "loud_background": True})
    quiet = _session({"quietest_voice_over_background_db": 15.0, "loud_background": False})
    assert "only about 4 dB louder than the background" in summary_text(loud)
    assert "background" not in summary_text(quiet)
    assert "background" not in summary_text(_session(None))  # a session saved before the measure
    assert 'class="note"' in render_report_html(loud)
    assert 'class="note"' not in render_report_html(quiet)
    # the facts travel in the session file
    assert Session.from_dict(loud.to_dict()).extra["quality"]["loud_background"] is True
