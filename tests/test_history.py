"""The session history, through real SQLite files: round trips, migration, damage, two writers, CLI."""

from __future__ import annotations

import json
import multiprocessing
import os
import sqlite3
from datetime import datetime, timezone
from pathlib import Path

import pytest

from listenkit import history, wording
from listenkit.cli import main
from listenkit.errors import HistoryError, SessionFileError
from listenkit.history import (
    SCHEMA_VERSION,
    forget,
    forget_all,
    get_session,
    list_sessions,
    load_session_ref,
    save_session,
    trend_rows,
)
from listenkit.userdata import data_dir, history_path
from test_chart import empty_session, four_speaker_session, hour_session, two_speaker_session

MARKER = "a-very-private-remark-7f3a"


def _with_marker():
    session = two_speaker_session()
    session.feedback = [f"{MARKER} said in the feedback"]
    return session


def _file_bytes(db: Path) -> bytes:
    """The database and any write-ahead log, as stored on disk."""
    return b"".join(p.read_bytes() for p in db.parent.glob(db.name + "*"))


# ---------------------------------------------------------------------------------------------------
# Round trips and listing
# ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("make", [two_speaker_session, four_speaker_session, hour_session, empty_session])
def test_save_and_get_round_trip(make):
    session = make()
    session.extra = {"device": "laptop mic"}
    sid = save_session(session)
    again = get_session(sid)
    assert again.to_dict() == session.to_dict()


def test_default_location_is_private_data_dir():
    save_session(two_speaker_session())
    db = history_path()
    assert db.parent == data_dir() == Path(os.environ["LISTENKIT_DATA_DIR"])
    assert db.stat().st_mode & 0o777 == 0o600
    assert db.parent.stat().st_mode & 0o777 == 0o700
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        # segments are stored as rows, and no audio column exists anywhere
        assert conn.execute("SELECT COUNT(*) FROM segments").fetchone()[0] == 5
        columns = [r[1] for t in ("sessions", "speakers", "segments", "events") for r in conn.execute(f"PRAGMA table_info({t})")]
        assert not any("audio" in c or "samples" in c or "wav" in c for c in columns)


def test_rows_carry_the_table_numbers_newest_first(tmp_path):
    db = tmp_path / "h.sqlite3"
    a = save_session(two_speaker_session(), db_path=db, saved_at=datetime(2026, 1, 2, tzinfo=timezone.utc))
    b = save_session(four_speaker_session(), db_path=db, saved_at=datetime(2026, 3, 4, tzinfo=timezone.utc))
    c = save_session(two_speaker_session(you=False), db_path=db, saved_at=datetime(2026, 2, 3, tzinfo=timezone.utc))
    rows = list_sessions(db_path=db)
    assert [r.id for r in rows] == [b, c, a]
    first = rows[-1]
    assert first.saved_at == datetime(2026, 1, 2, tzinfo=timezone.utc)
    assert (first.duration_s, first.n_speakers, first.interruptions, first.backchannels) == (20.0, 2, 1, 1)
    assert first.your_share == pytest.approx(13.8 / 17.9)
    assert (first.your_interruptions, first.your_backchannels) == (0, 0)
    assert rows[1].your_share is None and rows[1].your_interruptions is None
    assert [r.id for r in trend_rows(db_path=db)] == [a, c, b]
    assert [r.id for r in list_sessions(db_path=db, limit=2)] == [b, c]


def test_reading_without_a_history_creates_nothing(tmp_path):
    db = tmp_path / "sub" / "h.sqlite3"
    assert list_sessions(db_path=db) == []
    assert forget_all(db_path=db) == 0
    with pytest.raises(HistoryError, match="no saved session with id 1"):
        get_session(1, db_path=db)
    assert not db.parent.exists()


# ---------------------------------------------------------------------------------------------------
# Forgetting
# ---------------------------------------------------------------------------------------------------


def test_forget_one_really_removes_it_and_ids_are_not_reused(tmp_path):
    db = tmp_path / "h.sqlite3"
    keep = save_session(two_speaker_session(), db_path=db)
    gone = save_session(_with_marker(), db_path=db)
    assert MARKER.encode() in _file_bytes(db)
    forget(gone, db_path=db)
    assert [r.id for r in list_sessions(db_path=db)] == [keep]
    assert MARKER.encode() not in _file_bytes(db)  # overwritten, not just unlinked
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT COUNT(*) FROM segments WHERE session_id = ?", (gone,)).fetchone()[0] == 0
    assert save_session(two_speaker_session(), db_path=db) == gone + 1
    with pytest.raises(HistoryError, match=f"no saved session with id {gone}"):
        forget(gone, db_path=db)


def test_forget_all(tmp_path):
    db = tmp_path / "h.sqlite3"
    for _ in range(3):
        save_session(_with_marker(), db_path=db)
    assert forget_all(db_path=db) == 3
    assert list_sessions(db_path=db) == []
    assert MARKER.encode() not in _file_bytes(db)


# ---------------------------------------------------------------------------------------------------
# Schema versions and migration
# ---------------------------------------------------------------------------------------------------


def _write_v0(db: Path, rows: list[tuple[int, str, str]]) -> None:
    """The early layout (user_version 0): one JSON text per session."""
    with sqlite3.connect(db) as conn:
        conn.execute("CREATE TABLE sessions (id INTEGER PRIMARY KEY, saved_at TEXT, session_json TEXT)")
        conn.executemany("INSERT INTO sessions VALUES (?, ?, ?)", rows)
    conn.close()


def test_v0_file_is_migrated_keeping_ids_and_dates(tmp_path):
    db = tmp_path / "old.sqlite3"
    two, four = two_speaker_session(), four_speaker_session()
    _write_v0(db, [(3, "2025-05-01T10:00:00Z", two.to_json()), (7, "2025-06-01T09:30:00+00:00", four.to_json())])
    rows = list_sessions(db_path=db)
    assert [(r.id, r.saved_at) for r in rows] == [
        (7, datetime(2025, 6, 1, 9, 30, tzinfo=timezone.utc)),
        (3, datetime(2025, 5, 1, 10, 0, tzinfo=timezone.utc)),
    ]
    assert get_session(3, db_path=db).to_dict() == two.to_dict()
    assert get_session(7, db_path=db).to_dict() == four.to_dict()
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert "sessions_v0" not in tables and {"sessions", "segments", "events", "speakers"} <= tables
    assert save_session(two, db_path=db) == 8


def test_failed_migration_leaves_the_old_file_as_it_was(tmp_path):
    db = tmp_path / "old.sqlite3"
    _write_v0(db, [(1, "2025-05-01T10:00:00Z", two_speaker_session().to_json()), (2, "2025-05-02T10:00:00Z", "{broken")])
    with sqlite3.connect(db) as conn:
        before = conn.execute("SELECT * FROM sessions ORDER BY id").fetchall()
    conn.close()
    before_bytes = db.read_bytes()
    with pytest.raises(HistoryError, match="damaged"):
        list_sessions(db_path=db)
    assert db.read_bytes() == before_bytes
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == 0
        assert conn.execute("SELECT * FROM sessions ORDER BY id").fetchall() == before


def test_newer_schema_is_refused_clearly(tmp_path):
    db = tmp_path / "h.sqlite3"
    save_session(two_speaker_session(), db_path=db)
    with sqlite3.connect(db) as conn:
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.close()
    before = _file_bytes(db)
    for call in (lambda: list_sessions(db_path=db), lambda: save_session(two_speaker_session(), db_path=db)):
        with pytest.raises(HistoryError, match=f"newer listenkit.*v{SCHEMA_VERSION + 1}"):
            call()
    assert _file_bytes(db) == before


# ---------------------------------------------------------------------------------------------------
# Damaged and foreign files: clear error, never overwritten
# ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "content, needle",
    [
        (os.urandom(4096), "not SQLite"),
        (b"name,date\nalice,2024\n", "not SQLite"),
        (b"SQLite format 3\x00" + bytes(range(256)) * 16, "damaged"),
    ],
    ids=["random", "text", "bad-pages"],
)
def test_corrupt_file_raises_and_is_left_untouched(tmp_path, content, needle):
    db = tmp_path / "h.sqlite3"
    db.write_bytes(content)
    for call in (
        lambda: list_sessions(db_path=db),
        lambda: save_session(two_speaker_session(), db_path=db),
        lambda: forget_all(db_path=db),
    ):
        with pytest.raises(HistoryError) as err:
            call()
        message = str(err.value)
        assert str(db) in message and needle in message and "\n" not in message
    assert db.read_bytes() == content
    assert sorted(p.name for p in tmp_path.iterdir()) == ["h.sqlite3"]


def test_truncated_database_is_reported_as_damaged(tmp_path):
    db = tmp_path / "h.sqlite3"
    for _ in range(5):
        save_session(hour_session(), db_path=db)
    data = db.read_bytes()
    assert len(data) > 8192
    cut = data[: len(data) // 3]
    db.write_bytes(cut)
    with pytest.raises(HistoryError, match="damaged"):
        for row in list_sessions(db_path=db):
            get_session(row.id, db_path=db)
    assert db.read_bytes() == cut


def test_foreign_sqlite_database_is_refused(tmp_path):
    db = tmp_path / "h.sqlite3"
    with sqlite3.connect(db) as conn:
        conn.execute("CREATE TABLE recipes (name TEXT)")
    conn.close()
    before = db.read_bytes()
    with pytest.raises(HistoryError, match="not a listenkit history"):
        save_session(two_speaker_session(), db_path=db)
    assert db.read_bytes() == before


def test_folder_in_place_of_the_database(tmp_path):
    (tmp_path / "h.sqlite3").mkdir()
    with pytest.raises(HistoryError, match="folder"):
        save_session(two_speaker_session(), db_path=tmp_path / "h.sqlite3")


# ---------------------------------------------------------------------------------------------------
# Two processes writing at once
# ---------------------------------------------------------------------------------------------------


def _writer(db: str, start, n: int, tag: str, errors) -> None:
    start.wait(10)
    try:
        for i in range(n):
            session = two_speaker_session()
            session.extra = {"writer": tag, "i": i}
            save_session(session, db_path=db)
    except Exception as exc:  # reported to the parent, which fails the test
        errors.put(f"{tag}: {type(exc).__name__}: {exc}")


def test_two_processes_writing_at_once(tmp_path):
    db = tmp_path / "h.sqlite3"  # not created yet: both race to create and migrate it too
    ctx = multiprocessing.get_context("fork")
    start, errors = ctx.Event(), ctx.Queue()
    procs = [ctx.Process(target=_writer, args=(str(db), start, 15, tag, errors)) for tag in ("a", "b")]
    for p in procs:
        p.start()
    start.set()
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    assert errors.empty(), errors.get()
    rows = list_sessions(db_path=db)
    assert len(rows) == 30 and len({r.id for r in rows}) == 30
    writers = [get_session(r.id, db_path=db).extra for r in rows]
    for tag in ("a", "b"):
        assert sorted(w["i"] for w in writers if w["writer"] == tag) == list(range(15))
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert conn.execute("SELECT COUNT(*) FROM segments").fetchone()[0] == 30 * 5


def test_a_long_write_lock_becomes_a_clear_busy_error(tmp_path, monkeypatch):
    db = tmp_path / "h.sqlite3"
    save_session(two_speaker_session(), db_path=db)
    monkeypatch.setattr(history, "BUSY_TIMEOUT_S", 0.2)
    holder = sqlite3.connect(db, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(HistoryError, match="busy"):
            save_session(two_speaker_session(), db_path=db)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert len(list_sessions(db_path=db)) == 1


# ---------------------------------------------------------------------------------------------------
# Session references and the CLI
# ---------------------------------------------------------------------------------------------------


def test_load_session_ref(tmp_path):
    path = tmp_path / "s.json"
    two_speaker_session().write_json(path)
    assert load_session_ref(str(path)).source == two_speaker_session().source
    sid = save_session(four_speaker_session())
    assert load_session_ref(str(sid)).source == "four.wav"
    with pytest.raises(SessionFileError, match="no such session file"):
        load_session_ref(str(tmp_path / "missing.json"))
    with pytest.raises(HistoryError):
        load_session_ref("999")


def test_cli_history_empty_then_listed_with_trend_chart(tmp_path, capsys):
    assert main(["history"]) == 0
    assert wording.HISTORY_EMPTY in capsys.readouterr().out
    a = save_session(two_speaker_session(), saved_at=datetime(2026, 1, 2, 12, tzinfo=timezone.utc))
    b = save_session(two_speaker_session(you=False), saved_at=datetime(2026, 1, 3, 12, tzinfo=timezone.utc))
    trend = tmp_path / "trend.png"
    assert main(["history", "--chart", str(trend)]) == 0
    out = capsys.readouterr().out
    lines = [line for line in out.splitlines() if line.strip()]
    header = next(line for line in lines if "your share" in line)
    assert all(col in header for col in wording.HISTORY_COLUMNS)
    row_a = next(line for line in lines if line.split()[0] == str(a))
    row_b = next(line for line in lines if line.split()[0] == str(b))
    assert "0:20" in row_a and "77%" in row_a and "1 (you 0)" in row_a
    assert " - " in row_b + " " and "you" not in row_b
    assert lines.index(row_b) < lines.index(row_a)  # newest first
    assert trend.read_bytes()[:4] == b"\x89PNG"


def test_cli_show_forget(capsys):
    sid = save_session(two_speaker_session())
    other = save_session(four_speaker_session())
    assert main(["show", str(sid)]) == 0
    out = capsys.readouterr().out
    assert "tea & talk.wav" in out and "Try <pausing> & waiting" in out
    assert main(["forget", str(sid)]) == 0
    assert wording.HISTORY_FORGOT.format(id=sid) in capsys.readouterr().out
    assert main(["show", str(sid)]) == 2
    assert main(["forget", str(sid)]) == 2
    err = capsys.readouterr().err
    assert err.count("listenkit: error: no saved session") == 2
    assert main(["forget", "--all"]) == 0
    assert wording.HISTORY_FORGOT_ALL.format(n=1) in capsys.readouterr().out
    assert list_sessions() == [] and other


def test_cli_forget_needs_exactly_one_target(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["forget"])
    assert exit_.value.code == 2
    with pytest.raises(SystemExit):
        main(["forget", "3", "--all"])
    with pytest.raises(SystemExit):
        main(["forget", "abc"])
    assert "not a session id" in capsys.readouterr().err


def test_cli_corrupt_history_is_one_line(capsys):
    db = history_path()
    db.write_bytes(b"garbage" * 100)
    assert main(["history"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "not SQLite" in err and str(db) in err
    assert db.read_bytes() == b"garbage" * 100


def test_session_json_in_history_matches_contract_schema():
    sid = save_session(two_speaker_session())
    d = json.loads(get_session(sid).to_json())
    assert d["schema"] == "listenkit.session/1"
    assert {"audio", "speakers", "segments", "events", "metrics", "feedback"} <= set(d)
