"""``listenkit live`` / ``devices`` / ``recover`` as a user runs them: signals, crashes, device trouble."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import soundfile as sf

from listenkit.cli import main
from listenkit.history import list_sessions
from listenkit.live import capture
from listenkit.session import load_session

from test_live_runner import SR, two_voices

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture
def talk(tmp_path) -> Path:
    path = tmp_path / "talk.wav"
    sf.write(path, two_voices(24.0), SR, subtype="PCM_16")
    return path


def run_cli(args: list[str], env_dir: Path, **kw) -> subprocess.Popen:
    env = {**os.environ, "LISTENKIT_DATA_DIR": str(env_dir), "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen([sys.executable, "-m", "listenkit", *args], cwd=REPO, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, **kw)


def wait_for_line(proc: subprocess.Popen, prefix: str, timeout: float = 60.0) -> list[str]:
    """Read stdout lines until a status line at or after the session time ``prefix`` ("[0:08]").

    Status lines come at most once per ``--status-every`` seconds and a busy machine may skip one, so
    any later time counts too.
    """
    want = _seconds(prefix)
    seen = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        seen.append(line.rstrip("\n"))
        if line.startswith("[") and _seconds(line) >= want:
            return seen
    proc.kill()
    raise AssertionError(f"no status line from {prefix}; got {seen} / {proc.stderr.read()}")


def _seconds(line: str) -> int:
    """Session time of a status line ``"[m:ss] ..."``, seconds."""
    m, s = line[1 : line.index("]")].split(":")
    return int(m) * 60 + int(s)


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_in_the_middle_ends_the_session_cleanly(talk, tmp_path, sig):
    data = tmp_path / "data"
    out = tmp_path / "s.json"
    proc = run_cli(["live", "--input-file", str(talk), "--json", str(out), "--status-every", "1"], data)
    wait_for_line(proc, "[0:02]")  # two seconds of the conversation have been heard, in real time
    proc.send_signal(sig)
    stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 0, stderr
    assert "Traceback" not in stderr
    session = load_session(out)
    assert 2.0 <= session.duration_s < 12.0
    assert session.extra["live"]["stopped_by"] == "signal"
    assert "Conversation summary" in stdout or "No conversation was found" in stdout
    assert list((data / "live").glob("*.journal")) == []  # delivered: journal removed
    assert len(list_sessions(db_path=data / "history.sqlite3")) == 1


def test_a_crash_leaves_a_journal_that_recover_finishes(talk, tmp_path):
    data = tmp_path / "data"
    proc = run_cli(["live", "--input-file", str(talk), "--status-every", "1", "--speed", "2"], data)
    wait_for_line(proc, "[0:10]")  # 5 s of wall time; the journal is synced every 3 s
    proc.kill()  # no chance to clean up: a crash, a power cut
    proc.communicate(timeout=30)
    journals = list((data / "live").glob("*.journal"))
    assert len(journals) == 1

    rec = run_cli(["recover"], data)
    stdout, stderr = rec.communicate(timeout=120)
    assert rec.returncode == 0, stderr
    assert "Recovered an unfinished live session" in stdout
    assert not journals[0].exists()
    saved = load_session(journals[0].with_suffix(".json"))
    assert 2.0 <= saved.duration_s <= 14.0  # what the last sync before the kill held
    assert saved.extra["live"]["recovered_from"] == journals[0].name
    assert len(list_sessions(db_path=data / "history.sqlite3")) == 1

    again = run_cli(["recover"], data)
    stdout, _ = again.communicate(timeout=60)
    assert again.returncode == 0 and "no unfinished session" in stdout


def test_the_next_live_run_recovers_a_leftover_first(talk, tmp_path):
    data = tmp_path / "data"
    proc = run_cli(["live", "--input-file", str(talk), "--status-every", "1", "--speed", "4"], data)
    wait_for_line(proc, "[0:08]")
    proc.kill()
    proc.communicate(timeout=30)
    nxt = run_cli(["live", "--input-file", str(talk), "--speed", "0", "--duration", "3", "--no-save"], data)
    stdout, stderr = nxt.communicate(timeout=120)
    assert nxt.returncode == 0, stderr
    assert stdout.index("Recovered an unfinished live session") < stdout.index("listenkit: listening")
    assert list((data / "live").glob("*.journal")) == []
    assert len(list_sessions(db_path=data / "history.sqlite3")) == 1  # the recovered one; the new one: --no-save


def test_a_crashed_no_save_run_is_recovered_without_saving(talk, tmp_path):
    data = tmp_path / "data"
    proc = run_cli(["live", "--input-file", str(talk), "--status-every", "1", "--speed", "4", "--no-save"], data)
    wait_for_line(proc, "[0:08]")
    proc.kill()
    proc.communicate(timeout=30)
    rec = run_cli(["recover"], data)
    stdout, stderr = rec.communicate(timeout=120)
    assert rec.returncode == 0, stderr
    assert "Recovered an unfinished live session" in stdout and "Saved in your history" not in stdout
    assert list_sessions(db_path=data / "history.sqlite3") == []
    assert len(list((data / "live").glob("*.json"))) == 1


def test_all_outputs_of_a_short_run(talk, tmp_path, capsys):
    files = {ext: tmp_path / f"out.{ext}" for ext in ("json", "rttm", "html", "wav")}
    code = main(["live", "--input-file", str(talk), "--speed", "0", "--duration", "5", "--json", str(files["json"]),
                 "--rttm", str(files["rttm"]), "--report", str(files["html"]), "--record", str(files["wav"])])
    out = capsys.readouterr().out
    assert code == 0
    for path in files.values():
        assert path.is_file() and oct(path.stat().st_mode & 0o777) == "0o600"
    session = json.loads(files["json"].read_text())
    assert session["schema"] == "listenkit.session/1" and session["audio"]["duration_s"] == 5.0
    assert session["live"]["stopped_by"] == "duration"
    assert sf.info(files["wav"]).frames == 5 * SR
    assert f"Written: {files['json']}" in out and "Saved in your history as session 1" in out
    assert "Listened for 0:05. Working out who spoke when..." in out
    assert len(list_sessions()) == 1


def test_no_save_keeps_the_history_empty(talk, capsys):
    assert main(["live", "--input-file", str(talk), "--speed", "0", "--duration", "2", "--no-save", "--quiet"]) == 0
    assert list_sessions() == []
    assert "Saved in your history" not in capsys.readouterr().out


def test_missing_portaudio_is_one_line_not_a_traceback(monkeypatch, capsys):
    def no_portaudio(name):
        raise OSError("PortAudio library not found")

    monkeypatch.setattr(capture, "_import_module", no_portaudio)
    for argv in (["devices"], ["live", "--duration", "1"]):
        assert main(argv) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and "sudo apt-get install libportaudio2" in err[0]
    assert list_sessions() == []


@pytest.mark.parametrize("argv, message", [
    (["live", "--input-file", "nothing.wav"], "nothing.wav: no such file"),
    (["live", "--input-file", "x.wav", "--json", "/no/such/folder/s.json"], "folder /no/such/folder does not exist"),
    (["live", "--input-file", "x.wav", "--record", "/no/such/folder/r.wav"], "folder /no/such/folder does not exist"),
])
def test_user_mistakes_are_one_line(argv, message, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0]


def test_recording_over_the_input_is_refused(talk, capsys):
    assert main(["live", "--input-file", str(talk), "--record", str(talk)]) == 2
    assert "would overwrite the input file" in capsys.readouterr().err
    assert sf.info(talk).frames == 24 * SR


@pytest.mark.parametrize("bad", ["0", "-3", "soon", "nan"])
def test_bad_duration(bad, capsys):
    with pytest.raises(SystemExit) as info:
        main(["live", "--duration", bad])
    assert info.value.code == 2
    assert "need a positive number of seconds" in capsys.readouterr().err


def test_every_command_has_help(capsys):
    for cmd in ("live", "devices", "recover"):
        with pytest.raises(SystemExit):
            main([cmd, "--help"])
        assert capsys.readouterr().out.startswith(f"usage: listenkit {cmd}")
