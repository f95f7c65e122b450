"""`listenkit analyze` end to end on real files the tests write, and every bad input."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from listenkit.cli import main
from listenkit.timeline import parse_rttm

from synth import dialogue


@pytest.fixture(scope="module")
def talk_audio():
    rng = np.random.default_rng(11)
    turns, t = [], 0.3
    for i in range(8):
        d = [2.5, 3.0, 2.0][i % 3]
        turns.append(("low" if i % 2 == 0 else "high", t, t + d))
        t += d + 0.5
    return dialogue(turns, total=t + 0.5, rng=rng)


@pytest.mark.parametrize(
    "name,fmt,subtype,rate,channels",
    [
        ("talk.wav", "WAV", "PCM_16", 16000, 1),
        ("talk48.wav", "WAV", "PCM_24", 48000, 2),
        ("talk.flac", "FLAC", "PCM_16", 44100, 1),
        ("talk.ogg", "OGG", "VORBIS", 22050, 1),
        ("talk.mp3", "MP3", "MPEG_LAYER_III", 44100, 2),
    ],
)
def test_analyze_writes_json_and_rttm(tmp_path, talk_audio, capsys, name, fmt, subtype, rate, channels):
    from scipy.signal import resample_poly

    x = talk_audio if rate == 16000 else resample_poly(talk_audio, rate // 100, 160).astype(np.float32)
    if channels == 2:
        x = np.stack([x, x], axis=1)
    audio = tmp_path / name
    sf.write(audio, x, rate, format=fmt, subtype=subtype)
    out_json, out_rttm = tmp_path / "s.json", tmp_path / "s.rttm"
    code = main(["analyze", str(audio), "--json", str(out_json), "--rttm", str(out_rttm), "--no-save"])
    assert code == 0
    printed = capsys.readouterr().out
    assert "S1" in printed and "S2" in printed
    data = json.loads(out_json.read_text())
    assert data["schema"] == "listenkit.session/1"
    assert data["audio"]["sample_rate"] == rate
    assert data["audio"]["duration_s"] == pytest.approx(len(talk_audio) / 16000, abs=0.1)
    assert {s["id"] for s in data["speakers"]} == {"S1", "S2"}
    assert sum(s["share"] for s in data["speakers"]) == pytest.approx(1.0, abs=1e-3)
    rttm = parse_rttm(out_rttm.read_text())
    assert list(rttm) == [audio.stem]
    assert [(s.start, s.end, s.speaker) for s in rttm[audio.stem]] == [
        (pytest.approx(s["start"], abs=1e-3), pytest.approx(s["end"], abs=1e-3), s["speaker"]) for s in data["segments"]
    ]
    assert (out_json.stat().st_mode & 0o777) == 0o600


def test_silence_only_says_no_conversation(tmp_path, capsys):
    audio = tmp_path / "quiet.wav"
    sf.write(audio, np.zeros(16000 * 3, dtype=np.float32), 16000)
    assert main(["analyze", str(audio), "--no-save"]) == 0
    assert "no conversation" in capsys.readouterr().out.lower()


def _bad_inputs(tmp_path: Path) -> dict[str, Path]:
    empty = tmp_path / "empty.wav"
    empty.write_bytes(b"")
    text = tmp_path / "notes.wav"
    text.write_text("this is not audio\n" * 50)
    noise = tmp_path / "random.flac"
    noise.write_bytes(np.random.default_rng(0).integers(0, 256, 5000, dtype=np.uint8).tobytes())
    good = tmp_path / "good.wav"
    sf.write(good, np.random.default_rng(1).normal(0, 0.1, 16000 * 2).astype(np.float32), 16000, subtype="PCM_16")
    truncated = tmp_path / "truncated.wav"
    truncated.write_bytes(good.read_bytes()[: 44 + 20000])
    nan = tmp_path / "nan.wav"
    y = np.zeros(16000, dtype=np.float32)
    y[8000] = np.nan
    sf.write(nan, y, 16000, subtype="FLOAT")
    return {
        "missing": tmp_path / "nope.wav",
        "directory": tmp_path,
        "empty": empty,
        "text": text,
        "random bytes": noise,
        "truncated": truncated,
        "nan": nan,
    }


def test_every_bad_input_is_one_line_exit_2_and_no_output(tmp_path):
    bad = _bad_inputs(tmp_path)
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)}
    for kind, path in bad.items():
        out = tmp_path / f"out-{kind.replace(' ', '_')}.json"
        proc = subprocess.run(
            [sys.executable, "-m", "listenkit", "analyze", str(path), "--json", str(out), "--no-save"],
            capture_output=True, text=True, env=env, stdin=subprocess.DEVNULL, timeout=120,
        )
        assert proc.returncode == 2, (kind, proc.stderr)
        lines = proc.stderr.strip().splitlines()
        assert len(lines) == 1, (kind, proc.stderr)
        assert "Traceback" not in proc.stderr
        assert str(path) in lines[0] or path.name in lines[0], (kind, lines[0])
        assert not out.exists(), kind
        assert not list(tmp_path.glob(f".{out.name}*")), kind  # no temporary leftovers either


def test_unwritable_output_fails_before_the_analysis(tmp_path, capsys):
    audio = tmp_path / "a.wav"
    sf.write(audio, np.zeros(1600, dtype=np.float32), 16000)
    code = main(["analyze", str(audio), "--json", str(tmp_path / "no" / "such" / "dir" / "s.json"), "--no-save"])
    assert code == 2
    assert "does not exist" in capsys.readouterr().err


def test_bad_speaker_count_is_a_usage_error(tmp_path):
    with pytest.raises(SystemExit) as exc:
        main(["analyze", "x.wav", "--speakers", "9"])
    assert exc.value.code == 2


def test_speakers_option_is_used(tmp_path, talk_audio):
    audio = tmp_path / "t.wav"
    sf.write(audio, talk_audio, 16000)
    out = tmp_path / "s.json"
    assert main(["analyze", str(audio), "--speakers", "1", "--json", str(out), "--no-save"]) == 0
    assert len(json.loads(out.read_text())["speakers"]) == 1


def test_saved_to_history_by_default(tmp_path, talk_audio, capsys):
    from listenkit.history import list_sessions

    audio = tmp_path / "t.wav"
    sf.write(audio, talk_audio, 16000)
    before = len(list_sessions())
    assert main(["analyze", str(audio)]) == 0
    assert len(list_sessions()) == before + 1
    assert main(["analyze", str(audio), "--no-save"]) == 0
    assert len(list_sessions()) == before + 1


def test_every_command_has_help():
    from listenkit.cli import COMMAND_MODULES, build_parser

    parser = build_parser()
    sub = next(a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction")
    assert len(sub.choices) >= len(COMMAND_MODULES)
    for name, p in sub.choices.items():
        assert p.format_help().strip(), name
