"""The session history: a small SQLite database in the user's data folder.

Every analysed session can be saved here (speakers, segments, events, metrics, feedback - never
audio) so that ``listenkit history`` can list past conversations and draw how they change over time.

Safety
------
- The file is created readable by the user only (0600) in a 0700 folder (:mod:`listenkit.userdata`).
- Writes are transactions in WAL mode with a busy timeout, so two listenkit processes can save at once.
- The schema has a version (``PRAGMA user_version``); older files are migrated in one transaction,
  a file from a newer listenkit is refused with a clear message.
- A file that is not SQLite, not a listenkit history, or damaged raises :class:`HistoryError` and is
  never rewritten or replaced.
- Forgetting overwrites the deleted rows (``secure_delete``) and empties the write-ahead log.
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterator

from . import wording
from .errors import HistoryError, SessionFileError
from .session import Event, Session, SpeakerSummary, load_session
from .timeline import Segment
from .userdata import PRIVATE_FILE_MODE, ensure_private_dir, history_path

#: the schema version this listenkit writes (``PRAGMA user_version``)
SCHEMA_VERSION = 1
#: how long a writer waits for another one to finish, seconds
BUSY_TIMEOUT_S = 15.0
SQLITE_MAGIC = b"SQLite format 3\x00"

_SCHEMA_V1 = """
CREATE TABLE sessions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    saved_at TEXT NOT NULL,
    source TEXT NOT NULL,
    duration_s REAL NOT NULL,
    sample_rate INTEGER NOT NULL,
    n_speakers INTEGER NOT NULL,
    your_share REAL,
    interruptions INTEGER NOT NULL,
    your_interruptions INTEGER,
    backchannels INTEGER NOT NULL,
    your_backchannels INTEGER,
    metrics_json TEXT NOT NULL,
    feedback_json TEXT NOT NULL,
    extra_json TEXT NOT NULL
);
CREATE TABLE speakers (
    session_id INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    speaker TEXT NOT NULL,
    label TEXT,
    talk_time_s REAL NOT NULL,
    share REAL NOT NULL,
    PRIMARY KEY (session_id, position)
);
CREATE TABLE segments (
    session_id INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    start_s REAL NOT NULL,
    end_s REAL NOT NULL,
    speaker TEXT NOT NULL,
    PRIMARY KEY (session_id, position)
);
CREATE TABLE events (
    session_id INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    type TEXT NOT NULL,
    start_s REAL NOT NULL,
    end_s REAL NOT NULL,
    by_speaker TEXT,
    of_speaker TEXT,
    successful INTEGER,
    PRIMARY KEY (session_id, position)
);
CREATE INDEX sessions_by_date ON sessions(saved_at);
"""
_V1_TABLES = {"sessions", "speakers", "segments", "events"}


@dataclass(frozen=True)
class HistoryRow:
    """One saved session as the history table lists it.

    Attributes
    ----------
    id : int
        History id (never reused after ``forget``).
    saved_at : datetime
        When it was saved (timezone-aware, UTC).
    source : str
        The audio file (or ``"microphone"``) it came from.
    duration_s : float
        Length, seconds.
    n_speakers : int
        Number of speakers.
    your_share : float or None
        Your share of the talk, 0..1; None when your voice was not known.
    interruptions, backchannels : int
        Counts over everyone.
    your_interruptions, your_backchannels : int or None
        Made / given by you; None when your voice was not known.
    """

    id: int
    saved_at: datetime
    source: str
    duration_s: float
    n_speakers: int
    your_share: float | None
    interruptions: int
    your_interruptions: int | None
    backchannels: int
    your_backchannels: int | None


# ---------------------------------------------------------------------------------------------------
# Opening, checking and migrating the database file
# ---------------------------------------------------------------------------------------------------


def _resolve(db_path: str | Path | None) -> Path:
    return Path(db_path) if db_path is not None else history_path()


def _check_file(path: Path) -> bool:
    """True when ``path`` exists; raises when it exists but is not an SQLite file (left untouched)."""
    if path.is_dir():
        raise HistoryError(f"{path}: {wording.HISTORY_CANNOT_OPEN.format(detail='it is a folder')}")
    try:
        with open(path, "rb") as fh:
            head = fh.read(len(SQLITE_MAGIC))
    except FileNotFoundError:
        return False
    except OSError as exc:
        raise HistoryError(f"{path}: {wording.HISTORY_CANNOT_OPEN.format(detail=exc.strerror or exc)}") from None
    if head and head != SQLITE_MAGIC:
        raise HistoryError(f"{path}: {wording.HISTORY_NOT_SQLITE}")
    return True


def _create_private_file(path: Path) -> None:
    """Create an empty database file with mode 0600 (SQLite gives its -wal/-shm files the same mode)."""
    ensure_private_dir(path.parent)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE_MODE)
    except FileExistsError:
        return  # another process created it first
    except OSError as exc:
        raise HistoryError(f"{path}: {wording.HISTORY_CANNOT_OPEN.format(detail=exc.strerror or exc)}") from None
    os.close(fd)
    os.chmod(path, PRIVATE_FILE_MODE)


def _sqlite_error(path: Path, exc: sqlite3.Error) -> HistoryError:
    """The user-facing error for an SQLite failure on ``path``."""
    text = str(exc)
    if "locked" in text or "busy" in text:
        return HistoryError(f"{path}: {wording.HISTORY_BUSY}")
    if isinstance(exc, sqlite3.DatabaseError) and not isinstance(exc, sqlite3.OperationalError):
        return HistoryError(f"{path}: {wording.HISTORY_DAMAGED.format(detail=text)}")
    if "malformed" in text or "not a database" in text:
        return HistoryError(f"{path}: {wording.HISTORY_DAMAGED.format(detail=text)}")
    return HistoryError(f"{path}: {wording.HISTORY_CANNOT_OPEN.format(detail=text)}")


def _user_tables(conn: sqlite3.Connection) -> set[str]:
    rows = conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
    return {name for (name,) in rows}


def _columns(conn: sqlite3.Connection, table: str) -> set[str]:
    return {row[1] for row in conn.execute(f"PRAGMA table_info({table})")}


def _set_wal(conn: sqlite3.Connection) -> None:
    """Switch to WAL; retried briefly because the switch needs a moment of exclusive access."""
    deadline = time.monotonic() + BUSY_TIMEOUT_S
    while True:
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def _is_v0_layout(conn: sqlite3.Connection) -> bool:
    tables = _user_tables(conn)
    return not tables or (tables == {"sessions"} and {"id", "saved_at", "session_json"} <= _columns(conn, "sessions"))


def _check_schema(conn: sqlite3.Connection, path: Path) -> None:
    """Refuse, without writing, a database from a newer listenkit or one that is not a listenkit history.

    The version and the tables are read in one read transaction: read one statement at a time, another
    process could commit its migration in between, and a half-old, half-new view looks foreign.
    """
    conn.execute("BEGIN DEFERRED")
    try:
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        foreign = (version == 0 and not _is_v0_layout(conn)) or (
            0 < version <= SCHEMA_VERSION and not _V1_TABLES <= _user_tables(conn)
        )
    finally:
        conn.execute("COMMIT")
    if version > SCHEMA_VERSION:
        raise HistoryError(f"{path}: {wording.HISTORY_NEWER.format(found=version, known=SCHEMA_VERSION)}")
    if foreign:
        raise HistoryError(f"{path}: {wording.HISTORY_FOREIGN}")


def _migrate(conn: sqlite3.Connection, path: Path) -> None:
    """Bring the schema to :data:`SCHEMA_VERSION` inside one write transaction."""
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    if version > SCHEMA_VERSION:
        raise HistoryError(f"{path}: {wording.HISTORY_NEWER.format(found=version, known=SCHEMA_VERSION)}")
    if version == SCHEMA_VERSION:
        return
    conn.execute("BEGIN IMMEDIATE")
    try:
        version = conn.execute("PRAGMA user_version").fetchone()[0]  # another process may have migrated
        if version == 0:
            _migrate_0_to_1(conn, path)
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise


def _create_v1(conn: sqlite3.Connection) -> None:
    """Create the version 1 tables (statement by statement: ``executescript`` would commit)."""
    for statement in _SCHEMA_V1.split(";"):
        if statement.strip():
            conn.execute(statement)


def _migrate_0_to_1(conn: sqlite3.Connection, path: Path) -> None:
    """Version 0 is a new empty file, or the early layout ``sessions(id, saved_at, session_json)``.

    The early layout kept each session as one JSON text; version 1 stores its parts in tables.
    Ids and dates are kept. A damaged row stops the migration and leaves the file as it was.
    """
    if not _is_v0_layout(conn):
        raise HistoryError(f"{path}: {wording.HISTORY_FOREIGN}")
    if not _user_tables(conn):
        _create_v1(conn)
        return
    conn.execute("ALTER TABLE sessions RENAME TO sessions_v0")
    _create_v1(conn)
    for old_id, saved_at, text in conn.execute("SELECT id, saved_at, session_json FROM sessions_v0 ORDER BY id").fetchall():
        try:
            session = Session.from_dict(json.loads(text), source=f"{path} (session {old_id})")
        except (json.JSONDecodeError, TypeError, SessionFileError) as exc:
            raise HistoryError(f"{path}: {wording.HISTORY_DAMAGED.format(detail=exc)}") from None
        _insert(conn, session, _parse_time(saved_at), session_id=int(old_id))
    conn.execute("DROP TABLE sessions_v0")


@contextmanager
def _open(db_path: str | Path | None, *, create: bool) -> Iterator[sqlite3.Connection | None]:
    """A checked, migrated connection; None when the file does not exist and ``create`` is False.

    Raises
    ------
    HistoryError
        Not SQLite, not a listenkit history, damaged, from a newer listenkit, or busy for too long.
    """
    path = _resolve(db_path)
    if not _check_file(path):
        if not create:
            yield None
            return
        _create_private_file(path)
        _check_file(path)
    conn = None
    try:
        conn = sqlite3.connect(path, timeout=BUSY_TIMEOUT_S, isolation_level=None)
        conn.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
        conn.execute("PRAGMA foreign_keys = ON")
        conn.execute("PRAGMA secure_delete = ON")
        _check_schema(conn, path)  # before anything that writes: a file we refuse stays as it was
        _migrate(conn, path)  # a failed migration rolls back to the very same bytes
        _set_wal(conn)
        yield conn
    except sqlite3.Error as exc:
        raise _sqlite_error(path, exc) from None
    finally:
        if conn is not None:
            conn.close()


@contextmanager
def _write(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """One write transaction (taken at once, so writers queue instead of deadlocking)."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


# ---------------------------------------------------------------------------------------------------
# Rows <-> sessions
# ---------------------------------------------------------------------------------------------------


def _now() -> datetime:
    return datetime.now(timezone.utc).replace(microsecond=0)


def _parse_time(text: str) -> datetime:
    stamp = datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    return stamp if stamp.tzinfo else stamp.replace(tzinfo=timezone.utc)


def _insert(conn: sqlite3.Connection, session: Session, saved_at: datetime, *, session_id: int | None = None) -> int:
    from .chart import key_numbers  # the same numbers the chart and report show

    numbers = key_numbers(session)
    you = numbers.you
    cur = conn.execute(
        "INSERT INTO sessions (id, saved_at, source, duration_s, sample_rate, n_speakers, your_share,"
        " interruptions, your_interruptions, backchannels, your_backchannels, metrics_json, feedback_json,"
        " extra_json) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            session_id,
            saved_at.astimezone(timezone.utc).isoformat(timespec="seconds"),
            session.source,
            float(session.duration_s),
            int(session.sample_rate),
            len(numbers.speakers),
            you.share if you else None,
            numbers.interruptions,
            you.interruptions_made if you else None,
            numbers.backchannels,
            you.backchannels_given if you else None,
            json.dumps(session.metrics, default=str),
            json.dumps(list(session.feedback)),
            json.dumps(session.extra, default=str),
        ),
    )
    new_id = int(cur.lastrowid)
    conn.executemany(
        "INSERT INTO speakers VALUES (?, ?, ?, ?, ?, ?)",
        [(new_id, i, s.id, s.label, float(s.talk_time_s), float(s.share)) for i, s in enumerate(session.speakers)],
    )
    conn.executemany(
        "INSERT INTO segments VALUES (?, ?, ?, ?, ?)",
        [(new_id, i, float(s.start), float(s.end), s.speaker) for i, s in enumerate(session.segments)],
    )
    conn.executemany(
        "INSERT INTO events VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [
            (new_id, i, e.type, float(e.start), float(e.end), e.by, e.of, None if e.successful is None else int(e.successful))
            for i, e in enumerate(session.events)
        ],
    )
    return new_id


_ROW_COLUMNS = (
    "id, saved_at, source, duration_s, n_speakers, your_share, interruptions, your_interruptions,"
    " backchannels, your_backchannels"
)


def _row(values: tuple[Any, ...]) -> HistoryRow:
    sid, saved_at, source, duration, n_spk, share, inter, your_inter, bcs, your_bcs = values
    return HistoryRow(int(sid), _parse_time(saved_at), source, duration, n_spk, share, inter, your_inter, bcs, your_bcs)


# ---------------------------------------------------------------------------------------------------
# Public API
# ---------------------------------------------------------------------------------------------------


def save_session(session: Session, *, db_path: str | Path | None = None, saved_at: datetime | None = None) -> int:
    """Save a session in the history (creating the database when needed).

    Parameters
    ----------
    session : Session
        Its speakers, segments, events, metrics, feedback and extra keys are stored; no audio.
    db_path : str or Path, optional
        The database file; default ``history.sqlite3`` in the user's data folder.
    saved_at : datetime, optional
        The date to record (default: now).

    Returns
    -------
    int
        The new session's history id.

    Raises
    ------
    HistoryError
        The database cannot be opened or written (see module notes).
    """
    when = saved_at or _now()
    if when.tzinfo is None:
        when = when.astimezone()
    with _open(db_path, create=True) as conn:
        assert conn is not None
        with _write(conn):
            return _insert(conn, session, when)


def list_sessions(*, db_path: str | Path | None = None, limit: int | None = None) -> list[HistoryRow]:
    """The saved sessions, newest first (at most ``limit``); empty when there is no history yet."""
    with _open(db_path, create=False) as conn:
        if conn is None:
            return []
        sql = f"SELECT {_ROW_COLUMNS} FROM sessions ORDER BY saved_at DESC, id DESC"
        if limit is not None:
            sql += f" LIMIT {max(0, int(limit))}"
        return [_row(values) for values in conn.execute(sql)]


def trend_rows(*, db_path: str | Path | None = None) -> list[HistoryRow]:
    """The saved sessions oldest first, for :func:`listenkit.chart.draw_trend_chart`."""
    return list(reversed(list_sessions(db_path=db_path)))


def get_session(session_id: int, *, db_path: str | Path | None = None) -> Session:
    """Rebuild a saved session.

    Raises
    ------
    HistoryError
        No session with that id, or the database cannot be read.
    """
    with _open(db_path, create=False) as conn:
        head = None
        if conn is not None:
            head = conn.execute(
                "SELECT source, duration_s, sample_rate, metrics_json, feedback_json, extra_json FROM sessions"
                " WHERE id = ?",
                (int(session_id),),
            ).fetchone()
        if head is None:
            raise HistoryError(wording.HISTORY_NO_SUCH_ID.format(id=session_id))
        source, duration, rate, metrics, feedback, extra = head
        q = "SELECT {} FROM {} WHERE session_id = ? ORDER BY position"
        speakers = [SpeakerSummary(*r) for r in conn.execute(q.format("speaker, label, talk_time_s, share", "speakers"), (session_id,))]
        segments = [Segment(*r) for r in conn.execute(q.format("start_s, end_s, speaker", "segments"), (session_id,))]
        events = [
            Event(t, s, e, by, of, None if ok is None else bool(ok))
            for t, s, e, by, of, ok in conn.execute(
                q.format("type, start_s, end_s, by_speaker, of_speaker, successful", "events"), (session_id,)
            )
        ]
    try:
        return Session(
            source=source, duration_s=duration, sample_rate=rate, speakers=speakers, segments=segments,
            events=events, metrics=json.loads(metrics), feedback=json.loads(feedback), extra=json.loads(extra),
        )
    except json.JSONDecodeError as exc:
        raise HistoryError(f"{_resolve(db_path)}: {wording.HISTORY_DAMAGED.format(detail=exc)}") from None


def forget(session_id: int, *, db_path: str | Path | None = None) -> None:
    """Delete one saved session for good (its rows are overwritten, the write-ahead log emptied).

    Raises
    ------
    HistoryError
        No session with that id, or the database cannot be written.
    """
    with _open(db_path, create=False) as conn:
        deleted = 0
        if conn is not None:
            with _write(conn):
                deleted = conn.execute("DELETE FROM sessions WHERE id = ?", (int(session_id),)).rowcount
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        if not deleted:
            raise HistoryError(wording.HISTORY_NO_SUCH_ID.format(id=session_id))


def forget_all(*, db_path: str | Path | None = None) -> int:
    """Delete every saved session for good; returns how many there were (0 without a history)."""
    with _open(db_path, create=False) as conn:
        if conn is None:
            return 0
        with _write(conn):
            deleted = conn.execute("DELETE FROM sessions").rowcount
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        conn.execute("VACUUM")
        return deleted


def load_session_ref(ref: str, *, db_path: str | Path | None = None) -> Session:
    """A session named on the command line: a session file path, or a history id.

    An existing file wins; otherwise a whole number is taken as a history id.

    Raises
    ------
    SessionFileError
        Neither an existing file nor a whole number, or a damaged session file.
    HistoryError
        A history id that is not saved.
    """
    path = Path(ref)
    if path.exists() or not ref.strip().isdigit():
        if not path.exists():
            raise SessionFileError(f"{ref}: {wording.SESSION_REF_NOT_FOUND}")
        return load_session(path)
    return get_session(int(ref), db_path=db_path)
