"""End to end through real PortAudio capture, with the virtual microphone of ../shared/tools/virtual-mic.

A PulseAudio null sink's monitor is the default input device: what ``paplay`` plays into the sink is
what ``listenkit live`` records, sample for sample. The tests skip where PulseAudio, PortAudio or the
recipe is missing (a user's machine); CI installs them (``virtual-mic.sh install``).
"""

from __future__ import annotations

import ctypes.util
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from conftest import SHARED
from listenkit.pipeline import analyze_file
from listenkit.session import load_session

from test_live_runner import SR, two_voices

REPO = Path(__file__).resolve().parent.parent
VMIC = SHARED / "tools" / "virtual-mic" / "virtual-mic.sh"


class VirtualMic:
    """A private PulseAudio daemon whose null-sink monitor is the default microphone."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.server = f"unix:{folder}/pulse/native"
        asoundrc = folder / "asoundrc"
        asoundrc.write_text(
            f'pcm.!default {{\n    type pulse\n    server "{self.server}"\n}}\n'
            f'ctl.!default {{\n    type pulse\n    server "{self.server}"\n}}\n'
        )
        self.env = {
            **os.environ,
            "VMIC_DIR": str(folder),
            "PULSE_SERVER": self.server,
            "ALSA_CONFIG_PATH": f"/usr/share/alsa/alsa.conf:{asoundrc}",
        }

    def _script(self, *args: str) -> None:
        subprocess.run(["bash", str(VMIC), *args], env=self.env, check=True, capture_output=True, timeout=30)

    def start(self) -> "VirtualMic":
        self._script("start")
        return self

    def stop(self) -> None:
        self._script("stop")

    def play(self, wav: Path) -> subprocess.Popen:
        return subprocess.Popen(["paplay", f"--server={self.server}", "--device=vmic_sink", str(wav)], env=self.env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def listenkit(self, args: list[str], data: Path) -> subprocess.Popen:
        env = {**self.env, "LISTENKIT_DATA_DIR": str(data), "PYTHONUNBUFFERED": "1"}
        return subprocess.Popen([sys.executable, "-m", "listenkit", *args], cwd=REPO, env=env, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)


def _missing() -> str | None:
    if not VMIC.is_file():
        return f"{VMIC} is not there"
    for tool in ("pulseaudio", "paplay", "pactl"):
        if shutil.which(tool) is None:
            return f"{tool} is not installed (virtual-mic.sh install)"
    if ctypes.util.find_library("portaudio") is None:
        return "PortAudio (libportaudio2) is not installed"
    if not Path("/usr/share/alsa/alsa.conf").is_file():
        return "ALSA configuration is missing"
    return None


@pytest.fixture(scope="session")
def vmic(tmp_path_factory):
    """The virtual microphone, running for the whole test session."""
    why = _missing()
    if why:
        pytest.skip(why)
    mic = VirtualMic(tmp_path_factory.mktemp("vmic")).start()
    yield mic
    mic.stop()


@pytest.fixture(scope="module")
def talk_wav(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("talk") / "talk16k.wav"
    sf.write(path, two_voices(8.0), SR, subtype="PCM_16")  # 16 kHz mono 16-bit: played bit-exactly
    return path


def _wait_listening(proc: subprocess.Popen) -> None:
    line = proc.stdout.readline()
    assert line.startswith("listenkit: listening"), (line, proc.stderr.read() if proc.poll() is not None else "")


def test_devices_lists_the_virtual_microphone(vmic, tmp_path):
    proc = vmic.listenkit(["devices"], tmp_path)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert "(default)" in out


def test_live_capture_equals_analysis_of_what_it_recorded(vmic, talk_wav, tmp_path):
    rec, out = tmp_path / "rec.wav", tmp_path / "live.json"
    proc = vmic.listenkit(["live", "--duration", "11", "--record", str(rec), "--json", str(out), "--no-save",
                           "--status-every", "5"], tmp_path / "data")
    _wait_listening(proc)
    time.sleep(0.5)
    player = vmic.play(talk_wav)
    stdout, stderr = proc.communicate(timeout=90)
    player.wait(timeout=30)
    assert proc.returncode == 0, stderr
    assert "Traceback" not in stderr
    live = load_session(out)
    assert live.duration_s == pytest.approx(11.0)
    assert live.extra["live"]["stopped_by"] == "duration"
    assert live.extra["live"]["overflows"] == 0

    # what was captured is the played conversation, sample for sample (after the playback delay)
    captured, rate = sf.read(rec, dtype="float32")
    played, _ = sf.read(talk_wav, dtype="float32")
    assert rate == live.extra["live"]["capture_rate"] == SR
    corr = np.correlate(captured[: 4 * SR], played[SR : 2 * SR], mode="valid")
    lag = int(np.argmax(corr))
    a, b = captured[lag : lag + SR], played[SR : 2 * SR]
    assert np.corrcoef(a, b)[0, 1] > 0.99

    # and the live session is what file analysis makes of the recording
    again = analyze_file(rec)
    assert len(live.speakers) == len(again.speakers) > 0
    for x, y in zip(live.speakers, again.speakers):
        assert abs(x.share - y.share) <= 0.03
    assert "Conversation summary" in stdout


def test_an_unplugged_microphone_keeps_the_session_so_far(talk_wav, tmp_path):
    why = _missing()
    if why:
        pytest.skip(why)
    folder = tmp_path / "vmic"
    folder.mkdir()
    mic = VirtualMic(folder).start()  # its own daemon: this test stops it
    try:
        out = tmp_path / "lost.json"
        proc = mic.listenkit(["live", "--duration", "60", "--json", str(out), "--no-save"], tmp_path / "data")
        _wait_listening(proc)
        player = mic.play(talk_wav)
        time.sleep(4.0)
        mic.stop()  # the device goes away mid-session
        stdout, stderr = proc.communicate(timeout=90)
        player.wait(timeout=30)
    finally:
        mic.stop()
    assert proc.returncode == 1, stderr
    assert "Traceback" not in stderr and "pa_linux_alsa" not in stderr
    assert "the microphone stopped sending sound" in stderr
    session = load_session(out)
    assert 2.0 < session.duration_s < 10.0
    assert session.extra["live"]["stopped_by"] == "device-lost"
