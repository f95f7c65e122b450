"""The crash-safe journal: round trip, damage, locking, and recovery into a session."""

from __future__ import annotations

import os
import stat
import struct

import numpy as np
import pytest
import soundfile as sf

from listenkit.errors import SessionFileError
from listenkit.history import list_sessions
from listenkit.live.journal import (
    MAGIC,
    JournalWriter,
    is_in_use,
    journal_folder,
    leftover_journals,
    read_journal,
)
from listenkit.live.recorder import WavRecorder, repair_wav_header
from listenkit.live.recover import finalize_journal, recover_all, recover_journal
from listenkit.pipeline import Analyzer
from listenkit.session import load_session

from test_live_runner import SR, two_voices


def fake_rows(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, 41)).astype(np.float32), rng.random(n) > 0.5


def test_round_trip_in_several_records(tmp_path):
    rows, speech = fake_rows(1000)
    j = JournalWriter({"source": "microphone", "sample_rate": 48000}, folder=tmp_path, sync_every_s=0.0)
    assert stat.S_IMODE(os.stat(j.path).st_mode) == 0o600
    for end in (10, 10, 400, 999, 1000):  # a repeat writes nothing new
        j.maybe_sync(rows[:end], speech[:end], end * 160)
    j.close(remove=False)
    got = read_journal(j.path)
    np.testing.assert_array_equal(got.rows, rows)
    np.testing.assert_array_equal(got.speech, speech)
    assert got.samples_16k == 160000 and got.elapsed_s == pytest.approx(10.0)
    assert got.header["source"] == "microphone" and got.header["sample_rate"] == 48000
    assert not got.damaged_tail


def test_sync_waits_for_its_interval(tmp_path):
    rows, speech = fake_rows(100)
    j = JournalWriter({"source": "m", "sample_rate": SR}, folder=tmp_path, sync_every_s=3.0)
    t = j._last_sync
    assert not j.maybe_sync(rows, speech, 16000, now=t + 2.9)
    assert j.rows_written == 0
    assert j.maybe_sync(rows, speech, 16000, now=t + 3.0)
    assert j.rows_written == 100
    j.close(remove=True)
    assert not j.path.exists()


@pytest.mark.parametrize("cut", [1, 7, 100, 4 + 13 + 41 * 4 * 50 + 50 + 3])
def test_a_record_cut_short_by_a_crash_is_left_out(tmp_path, cut):
    rows, speech = fake_rows(100)
    j = JournalWriter({"source": "m", "sample_rate": SR}, folder=tmp_path)
    j.append(rows[:50], speech[:50], 50 * 160)
    j.append(rows, speech, 100 * 160)
    j.close(remove=False)
    data = j.path.read_bytes()
    j.path.write_bytes(data[: len(data) - cut])
    got = read_journal(j.path)
    assert got.damaged_tail
    np.testing.assert_array_equal(got.rows, rows[:50])
    assert got.samples_16k == 50 * 160


def test_a_corrupted_record_fails_its_checksum(tmp_path):
    rows, speech = fake_rows(60)
    j = JournalWriter({"source": "m", "sample_rate": SR}, folder=tmp_path)
    j.append(rows[:30], speech[:30], 4800)
    j.append(rows, speech, 9600)
    j.close(remove=False)
    data = bytearray(j.path.read_bytes())
    data[-50] ^= 0xFF  # inside the second record's speech bytes
    j.path.write_bytes(bytes(data))
    got = read_journal(j.path)
    assert got.damaged_tail and got.rows.shape == (30, 41)


def test_not_a_journal(tmp_path):
    bad = tmp_path / "x.journal"
    bad.write_bytes(b"hello")
    with pytest.raises(SessionFileError, match="not a listenkit session journal"):
        read_journal(bad)
    bad.write_bytes(MAGIC + b'{"version": 99}\n')
    with pytest.raises(SessionFileError, match="not a listenkit session journal"):
        read_journal(bad)
    with pytest.raises(SessionFileError, match="no such journal"):
        read_journal(tmp_path / "missing.journal")


def test_a_running_session_holds_its_journal(tmp_path):
    j = JournalWriter({"source": "m", "sample_rate": SR}, folder=tmp_path)
    assert is_in_use(j.path)
    assert leftover_journals(tmp_path) == []  # never taken for a crash's leftover
    j.close(remove=False)
    assert not is_in_use(j.path)
    assert leftover_journals(tmp_path) == [j.path]


# ------------------------------------------------------------------------------------------------
def analysed(x: np.ndarray) -> Analyzer:
    a = Analyzer(SR, name="microphone")
    for i in range(0, x.size, 1600):
        a.feed(x[i : i + 1600])
    a.finish()
    return a


def test_recovered_session_equals_the_one_finalize_would_have_made(tmp_path):
    x = two_voices(12.0)
    a = analysed(x)
    rows, speech = a.frames()
    assert (a.loose_speech() & ~speech).any()  # the looser level adds frames here: they must be kept
    j = JournalWriter({"source": "microphone", "sample_rate": SR}, folder=tmp_path)
    j.flush_all(rows, speech, int(a.elapsed_s * SR), a.loose_speech())
    j.close(remove=False)
    contents = read_journal(j.path)
    np.testing.assert_array_equal(contents.speech, speech)
    np.testing.assert_array_equal(contents.loose, a.loose_speech())
    session = finalize_journal(contents)
    expected = a.finalize()
    got = session.to_dict()
    assert got.pop("live")["recovered_from"] == j.path.name
    assert got == expected.to_dict()


def test_a_journal_without_the_looser_level_reads_it_as_the_speech(tmp_path):
    rows = np.zeros((6, 41), np.float16)
    speech = np.array([0, 1, 1, 0, 1, 0], bool)
    j = JournalWriter({"source": "microphone", "sample_rate": SR}, folder=tmp_path)
    j.flush_all(rows, speech, 960)
    j.close(remove=False)
    contents = read_journal(j.path)
    np.testing.assert_array_equal(contents.speech, speech)
    np.testing.assert_array_equal(contents.loose, speech)


def test_recover_writes_json_saves_history_and_removes_the_journal(tmp_path):
    x = two_voices(10.0)
    a = analysed(x)
    rows, speech = a.frames()
    folder = journal_folder()
    wav = tmp_path / "rec.wav"
    rec = WavRecorder(wav, SR)
    rec.write(x)
    rec.sync()  # crash: never closed, header says "length unknown"
    j = JournalWriter({"source": "microphone", "sample_rate": SR, "record": str(wav)}, folder=folder)
    j.maybe_sync(rows[:600], speech[:600], 600 * 160, now=j._last_sync + 10)  # synced 6 s, then a crash
    j._fh.close()  # the process died: its lock goes with it
    recovered, problems = recover_all()
    assert problems == []
    assert len(recovered) == 1
    item = recovered[0]
    assert not j.path.exists()
    json_path = j.path.with_suffix(".json")
    assert item.delivery.written == [json_path]
    assert stat.S_IMODE(os.stat(json_path).st_mode) == 0o600
    saved = load_session(json_path)
    assert saved.duration_s == pytest.approx(6.0)
    assert saved.extra["live"]["recording"] == str(wav)
    assert [r.id for r in list_sessions()] == [item.delivery.history_id]
    assert struct.unpack("<I", wav.read_bytes()[40:44])[0] == x.size * 2  # header repaired
    assert sf.info(wav).frames == x.size
    rec.close()


def test_recover_leaves_a_damaged_file_in_place(tmp_path):
    folder = journal_folder()
    bad = folder / "20250101-000000-1.journal"
    bad.write_bytes(b"LKJOURNAL\nnot json\n")
    recovered, problems = recover_all(save=False)
    assert recovered == [] and len(problems) == 1
    assert "not a listenkit session journal" in problems[0]
    assert bad.exists()


def test_recover_without_saving(tmp_path):
    rows, speech = fake_rows(300)
    speech[:] = False  # nobody spoke
    j = JournalWriter({"source": "microphone", "sample_rate": SR}, folder=tmp_path)
    j.flush_all(rows, speech, 300 * 160)
    j.close(remove=False)
    item = recover_journal(j.path, save=False)
    assert item.delivery.history_id is None
    assert item.session.segments == [] and item.session.duration_s == pytest.approx(3.0)
    assert list_sessions() == []


def test_repair_of_a_missing_file_is_harmless(tmp_path):
    assert repair_wav_header(tmp_path / "nothing.wav") is False
