"""Voice enrollment: measuring a take, the take checks, recording, and the calibrate command."""

from __future__ import annotations

import importlib.abc
import json
import os
import sys
import threading
import types

import numpy as np
import pytest
import soundfile as sf
from synth import dialogue

from listenkit import enroll
from listenkit.cli import main
from listenkit.enroll import (
    MIN_SNR_DB,
    MIN_SPEECH_S,
    TakeRejected,
    check_take,
    enroll_file,
    measure_take,
    passage,
    record_take,
)
from listenkit.errors import DeviceError
from listenkit.sources import ArraySource

SR = 16000


def reading(seconds: float, rng: np.random.Generator, *, level: float = 1.0, noise_db: float = -60.0) -> np.ndarray:
    """One synthetic voice reading: 2.5 s phrases with 0.6 s pauses, for ``seconds``."""
    turns, t = [], 0.3
    while t + 2.5 < seconds:
        turns.append(("low", t, t + 2.5))
        t += 3.1
    return (level * dialogue(turns, total=seconds, rng=rng, noise_db=noise_db)).astype(np.float32)


def codes(x: np.ndarray, rate: int = SR) -> list[str]:
    return [p.code for p in check_take(measure_take(ArraySource(x, rate)))]


@pytest.fixture(scope="module")
def good_take() -> np.ndarray:
    return reading(25.0, np.random.default_rng(5))


# ------------------------------------------------------------------------------------------- measuring
def test_good_take_passes_and_levels_are_measured(good_take):
    take = measure_take(ArraySource(good_take, SR, name="take"))
    assert check_take(take) == []
    # 8 phrases of 2.5 s with pre-roll and tail: about 20 s of speech in 25 s
    assert 18.0 < take.speech_s < 23.0
    assert take.duration_s == pytest.approx(25.0)
    # the synthetic voice has RMS 0.1 (-20 dBFS) over its phrases
    assert take.speech_level_db == pytest.approx(-20.0, abs=1.5)
    # white noise at -60 dBFS: the floor (a running minimum) reads at or a few dB below it
    assert -66.0 < take.noise_floor_db < -58.0
    assert take.clipped_fraction == 0.0
    assert take.log_mel.shape == (2500, 40) and take.speech.shape == (2500,)


def test_measure_take_does_not_depend_on_block_size(good_take):
    x = np.repeat(good_take[: 8 * SR], 3)  # 48 kHz
    a = measure_take(ArraySource(x, 48000, block_size=1000))
    b = measure_take(ArraySource(x, 48000, block_size=65536))
    np.testing.assert_array_equal(a.speech, b.speech)
    np.testing.assert_allclose(a.log_mel, b.log_mel, atol=1e-4)
    assert (a.noise_floor_db, a.speech_level_db, a.peak_db) == (b.noise_floor_db, b.speech_level_db, b.peak_db)


def test_clipped_fraction_is_counted_against_speech_samples(good_take):
    x = good_take.copy()
    x[::1000] = 1.0  # 400 full-scale samples
    take = measure_take(ArraySource(x, SR))
    speech_samples = np.count_nonzero(take.speech) * 160
    assert take.clipped_fraction == pytest.approx(400 / speech_samples, rel=1e-9)


# ------------------------------------------------------------------------------------------- the checks
def test_too_short(rng):
    x = np.concatenate([reading(8.0, rng), np.zeros(12 * SR, np.float32)])
    assert codes(x) == ["too_short"]


def test_silent_take_is_reported_alone(rng):
    assert codes(np.zeros(20 * SR, np.float32)) == ["silent"]
    hiss = (10 ** (-75 / 20) * rng.standard_normal(20 * SR)).astype(np.float32)
    assert codes(hiss) == ["silent"]


def test_clipped(good_take):
    assert "clipped" in codes(np.clip(good_take * 12.0, -1.0, 1.0))


def test_too_quiet(rng):
    # the voice 30 dB down (-50 dBFS), the room 30 dB down too: quiet, not noisy
    assert codes(reading(25.0, rng, level=10 ** (-30 / 20), noise_db=-60.0)) == ["too_quiet"]


def test_noisy(rng):
    x = reading(25.0, rng, noise_db=-80.0)
    x = x + (10 ** (-30 / 20) * rng.standard_normal(x.size)).astype(np.float32)  # speech -20, noise -30 dBFS
    found = codes(x)
    assert "noisy" in found and "clipped" not in found and "too_quiet" not in found


def test_check_messages_carry_the_numbers(rng):
    x = np.concatenate([reading(8.0, rng), np.zeros(12 * SR, np.float32)])
    (problem,) = check_take(measure_take(ArraySource(x, SR)))
    assert f"{MIN_SPEECH_S:.0f} s" in problem.message and "\n" not in problem.message


def test_enroll_file_rejects_with_one_line_naming_the_file(tmp_path, rng):
    path = tmp_path / "short.wav"
    sf.write(path, np.concatenate([reading(6.0, rng), np.zeros(4 * SR, np.float32)]), SR)
    with pytest.raises(TakeRejected) as err:
        enroll_file(str(path))
    assert str(err.value).startswith(f"{path}: ") and "\n" not in str(err.value)
    assert [p.code for p in err.value.problems] == ["too_short"]


def test_enroll_file_makes_a_profile(tmp_path, good_take):
    path = tmp_path / "me.flac"
    sf.write(path, good_take, SR)
    profile, take = enroll_file(str(path))
    assert profile.noise_floor_db == pytest.approx(take.noise_floor_db)
    assert profile.speech_s == pytest.approx(take.speech_s)
    assert MIN_SNR_DB < take.snr_db


def test_passage_is_a_paragraph_to_read():
    text = passage()
    assert 50 < len(text.split()) < 110  # 20-30 s read aloud at ~150 words a minute


# ------------------------------------------------------------------------------------------- microphone
class _FakeStatus:
    input_overflow = False


class _FakeStream:
    """Stands in for sounddevice.InputStream: a thread calls the callback with a known signal."""

    def __init__(self, *, samplerate, blocksize, device, channels, dtype, callback):
        self.signal = np.sin(2 * np.pi * 440 * np.arange(int(samplerate) * 3) / samplerate).astype(np.float32) * 0.5
        self.blocksize, self.callback = blocksize, callback
        self._stop = threading.Event()

    def _run(self):
        for i in range(0, self.signal.size, self.blocksize):
            if self._stop.is_set():
                return
            block = self.signal[i : i + self.blocksize].reshape(-1, 1)
            self.callback(block, block.shape[0], None, _FakeStatus())

    def __enter__(self):
        self._thread = threading.Thread(target=self._run)
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


def _fake_sounddevice(rate: float = 8000.0) -> types.ModuleType:
    sd = types.ModuleType("sounddevice")
    sd.PortAudioError = type("PortAudioError", (Exception,), {})
    sd.query_devices = lambda device, kind: {"default_samplerate": rate, "name": "fake mic"}
    sd.InputStream = _FakeStream
    return sd


def test_record_take_collects_blocks_and_reports_levels(monkeypatch):
    monkeypatch.setitem(sys.modules, "sounddevice", _fake_sounddevice(8000.0))
    levels = []
    samples, rate = record_take(1.0, on_level=lambda db, peak, t: levels.append((db, peak, t)))
    assert rate == 8000 and samples.shape == (8000,)
    # a 0.5-amplitude sine has power 0.125: -9.0 dBFS, peak 0.5
    assert levels[0][0] == pytest.approx(10 * np.log10(0.125), abs=0.1)
    assert levels[0][1] == pytest.approx(0.5, abs=1e-3)
    assert levels[-1][2] == pytest.approx(1.0)


class _NoPortAudio(importlib.abc.MetaPathFinder):
    """Makes ``import sounddevice`` fail the way it does when libportaudio2 is not installed."""

    def find_spec(self, name, path, target=None):
        if name == "sounddevice":
            raise OSError("PortAudio library not found")
        return None


def test_missing_portaudio_says_what_to_install(monkeypatch):
    monkeypatch.delitem(sys.modules, "sounddevice", raising=False)
    monkeypatch.setattr(sys, "meta_path", [_NoPortAudio(), *sys.meta_path])
    with pytest.raises(DeviceError) as err:
        record_take(1.0)
    assert "sudo apt-get install libportaudio2" in str(err.value)


def test_silent_device_is_a_device_error(monkeypatch):
    sd = _fake_sounddevice()

    class Mute(_FakeStream):
        def _run(self):
            return

    sd.InputStream = Mute
    monkeypatch.setitem(sys.modules, "sounddevice", sd)
    with pytest.raises(DeviceError, match="no sound"):
        record_take(1.0)


# ------------------------------------------------------------------------------------------- the command
def test_calibrate_from_file_show_delete(tmp_path, good_take, capsys):
    audio = tmp_path / "me.wav"
    sf.write(audio, good_take, SR)
    assert main(["calibrate", "--show"]) == 0
    assert "No voice profile" in capsys.readouterr().out
    assert main(["calibrate", "--from-file", str(audio)]) == 0
    assert "will now label" in capsys.readouterr().out
    stored = os.path.join(os.environ["LISTENKIT_DATA_DIR"], "voice-profile.json")
    assert os.stat(stored).st_mode & 0o777 == 0o600
    assert json.load(open(stored))["format"] == "listenkit.voice-profile"
    capsys.readouterr()
    assert main(["calibrate", "--show"]) == 0
    out = capsys.readouterr().out
    assert "voice-profile.json" in out and "format version 2" in out and "earlier listenkit" not in out
    # a profile of format version 1 (no mean cepstra) still works; --show suggests making it again
    data = json.load(open(stored))
    data["version"] = 1
    del data["model"]["mean_cepstra"]
    with open(stored, "w") as f:
        json.dump(data, f)
    assert main(["calibrate", "--show"]) == 0
    out = capsys.readouterr().out
    assert "format version 1" in out and "earlier listenkit" in out
    assert main(["calibrate", "--delete"]) == 0
    assert not os.path.exists(stored)
    assert main(["calibrate", "--delete"]) == 0
    assert "no voice profile" in capsys.readouterr().out


def test_calibrate_bad_file_is_one_line_exit_2(tmp_path, rng, capsys):
    audio = tmp_path / "quiet.wav"
    sf.write(audio, np.zeros(20 * SR, np.float32), SR)
    assert main(["calibrate", "--from-file", str(audio)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and str(audio) in err and "muted" in err
    assert main(["calibrate", "--from-file", str(tmp_path / "missing.wav")]) == 2


def test_calibrate_microphone_asks_again_after_a_bad_take(tmp_path, good_take, monkeypatch, capsys):
    takes = [(np.zeros(20 * SR, np.float32), SR), (good_take, SR)]
    monkeypatch.setattr(enroll, "record_take", lambda seconds, device=None, on_level=None: takes.pop(0))
    monkeypatch.setattr("builtins.input", lambda prompt="": "")
    target = tmp_path / "p.json"
    assert main(["calibrate", "--profile", str(target)]) == 0
    out = capsys.readouterr().out
    assert "cannot be used" in out and "Saved your voice profile" in out
    assert "--me" in out and "will now label" not in out  # not the stored profile: analyze needs --me
    assert target.is_file() and not takes


def test_calibrate_microphone_quit_changes_nothing(monkeypatch, capsys):
    monkeypatch.setattr("builtins.input", lambda prompt="": "q")
    assert main(["calibrate"]) == 1
    assert not os.path.exists(os.path.join(os.environ["LISTENKIT_DATA_DIR"], "voice-profile.json"))


def test_calibrate_seconds_out_of_range_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as err:
        main(["calibrate", "--seconds", "3"])
    assert err.value.code == 2
