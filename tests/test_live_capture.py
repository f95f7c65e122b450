"""Live sources without hardware: a stand-in for sounddevice drives MicrophoneSource; PacedSource pacing."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from listenkit.errors import DeviceError
from listenkit.live import capture
from listenkit.live.capture import (
    MicrophoneSource,
    PacedSource,
    device_argument,
    import_sounddevice,
    list_input_devices,
)
from listenkit.sources import ArraySource


class Flags:
    def __init__(self, overflow: bool = False) -> None:
        self.input_overflow = overflow

    def __bool__(self) -> bool:
        return self.input_overflow


class FakeStream:
    """Calls the callback from its own thread with the blocks of ``signal`` (frames, channels)."""

    def __init__(self, backend: "FakeSD", **kw) -> None:
        self.kw = kw
        self.backend = backend
        self.active = False
        self.closed = False
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> None:
        if self.backend.fail_open:
            raise RuntimeError("Device unavailable [PaErrorCode -9985]")
        self.active = True
        self._thread.start()

    def _run(self) -> None:
        b = self.kw["blocksize"]
        sig = self.backend.signal
        for i, start in enumerate(range(0, len(sig), b)):
            if not self.active:
                return
            if i == self.backend.vanish_after:
                if self.backend.vanish_finishes:
                    self.active = False
                    self.kw["finished_callback"]()
                return  # a stalled device: just stops calling
            self.kw["callback"](sig[start : start + b].copy(), b, None, Flags(i in self.backend.overflow_at))
            time.sleep(self.backend.block_sleep)

    def abort(self) -> None:
        self.active = False

    def close(self) -> None:
        self.closed = True


class FakeSD:
    """The parts of the sounddevice module MicrophoneSource uses."""

    def __init__(self, signal: np.ndarray, *, rates=(16000,), channels_ok=(1,), default_rate=48000.0,
                 devices=None) -> None:
        self.signal = signal.reshape(len(signal), -1).astype(np.float32)
        self.rates = rates
        self.channels_ok = channels_ok
        self.default_rate = default_rate
        self.overflow_at: set[int] = set()
        self.vanish_after: int | None = None
        self.vanish_finishes = False
        self.fail_open = False
        self.block_sleep = 0.0
        self.streams: list[FakeStream] = []
        self.devices = devices if devices is not None else [
            {"name": "Built-in Microphone", "index": 0, "hostapi": 0, "max_input_channels": 2,
             "max_output_channels": 0, "default_samplerate": default_rate},
            {"name": "Speakers", "index": 1, "hostapi": 0, "max_input_channels": 0,
             "max_output_channels": 2, "default_samplerate": 48000.0},
        ]
        self.default = type("D", (), {"device": [0 if self.devices else -1, 1]})()

    def query_devices(self, device=None, kind=None):
        if kind is None:
            return self.devices
        if device is None:
            if not self.devices:
                raise RuntimeError("Error querying device -1")
            device = 0
        matches = [d for d in self.devices if device == d["index"] or (isinstance(device, str) and device.lower() in d["name"].lower())]
        if len(matches) != 1:
            raise ValueError(f"No input device matching {device!r}")
        return matches[0]

    def query_hostapis(self):
        return [{"name": "ALSA"}]

    def check_input_settings(self, device=None, channels=None, dtype=None, samplerate=None):
        if samplerate not in self.rates or channels not in self.channels_ok:
            raise RuntimeError("Invalid sample rate [PaErrorCode -9997]")

    def InputStream(self, **kw):
        stream = FakeStream(self, **kw)
        self.streams.append(stream)
        return stream


def tone(seconds: float, rate: int = 16000, channels: int = 1) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    x = 0.3 * np.sin(2 * np.pi * 220 * t)
    return np.stack([x * (c + 1) / channels for c in range(channels)], axis=1)


def collect(source, stop_after_s: float | None = None) -> np.ndarray:
    if stop_after_s is not None:
        threading.Timer(stop_after_s, source.stop).start()
    return np.concatenate(list(source.blocks()))


# ------------------------------------------------------------------------------------------------
def test_callback_audio_arrives_in_order_and_stops_on_request():
    sd = FakeSD(tone(2.0))
    sd.block_sleep = 0.01  # 2 s of audio in about 1 s
    mic = MicrophoneSource(backend=sd)
    assert (mic.sample_rate, mic.channels, mic.device_name) == (16000, 1, "Built-in Microphone")
    got = collect(mic, stop_after_s=0.3)
    assert 0 < got.size < 32000
    np.testing.assert_allclose(got, tone(2.0)[: got.size, 0], atol=1e-6)
    assert mic.stopped and not mic.lost
    assert sd.streams[0].closed and sd.streams[0].kw["dtype"] == "float32"
    assert sd.streams[0].kw["blocksize"] == 640  # 40 ms callbacks by default
    assert got.dtype == np.float32


def test_blocks_are_gathered_to_at_least_a_tenth_of_a_second():
    sd = FakeSD(tone(1.0))
    sd.block_sleep = 0.001
    sd.vanish_after = 50  # then stop calling: the source ends as "lost" after stall_s
    mic = MicrophoneSource(backend=sd, stall_s=0.3, block_s=0.02)
    sizes = [b.size for b in mic.blocks()]
    assert all(s >= 1600 for s in sizes[:-1])
    assert sum(sizes) == 50 * 320  # nothing captured is lost


def test_overflows_are_counted_never_fatal():
    sd = FakeSD(tone(1.0))
    sd.overflow_at = {3, 7, 9}
    sd.vanish_after = 40
    sd.vanish_finishes = True
    mic = MicrophoneSource(backend=sd, block_s=0.02)
    got = collect(mic)
    assert mic.overflows == 3
    assert got.size == 40 * 320


def test_a_device_that_stops_is_reported_lost_not_raised():
    sd = FakeSD(tone(3.0))
    sd.vanish_after = 25
    mic = MicrophoneSource(backend=sd, stall_s=0.3, block_s=0.02)
    t0 = time.monotonic()
    got = collect(mic)
    assert mic.lost and not mic.stopped
    assert got.size == 25 * 320  # the audio before it vanished is kept
    assert time.monotonic() - t0 < 2.0


def test_stereo_only_device_is_mixed_down():
    sd = FakeSD(tone(1.0, channels=2), channels_ok=(2,))
    sd.vanish_after = 10
    sd.vanish_finishes = True
    mic = MicrophoneSource(backend=sd)
    assert mic.channels == 2
    got = collect(mic)
    np.testing.assert_allclose(got, tone(1.0, channels=2)[: got.size].mean(axis=1), atol=1e-6)


def test_device_without_16k_is_opened_at_its_own_rate():
    sd = FakeSD(tone(1.0, rate=48000), rates=(48000,), default_rate=48000.0)
    mic = MicrophoneSource(backend=sd)
    assert mic.sample_rate == 48000


def test_no_usable_setting_is_a_clear_error():
    sd = FakeSD(tone(1.0), rates=(), default_rate=44100.0)
    with pytest.raises(DeviceError, match="refuses every recording setting"):
        MicrophoneSource(backend=sd)


def test_device_by_name_or_index_and_bad_names():
    sd = FakeSD(tone(1.0))
    assert MicrophoneSource("built-in", backend=sd).device_name == "Built-in Microphone"
    assert MicrophoneSource(0, backend=sd).device_name == "Built-in Microphone"
    with pytest.raises(DeviceError, match="no usable microphone matches 'usb'"):
        MicrophoneSource("usb", backend=sd)
    with pytest.raises(DeviceError, match="cannot record"):
        MicrophoneSource(1, backend=sd)  # the speakers: no input channels
    assert device_argument("3") == 3 and device_argument(" USB Mic ") == "USB Mic"


def test_no_input_device_at_all():
    sd = FakeSD(tone(1.0), devices=[])
    with pytest.raises(DeviceError, match="no microphone was found"):
        MicrophoneSource(backend=sd)
    assert list_input_devices(sd) == []


def test_stream_that_cannot_start_is_a_device_error():
    sd = FakeSD(tone(1.0))
    sd.fail_open = True
    mic = MicrophoneSource(backend=sd)
    with pytest.raises(DeviceError, match="cannot start recording from 'Built-in Microphone'"):
        next(mic.blocks())


def test_listing_devices():
    devices = list_input_devices(FakeSD(tone(1.0)))
    assert [(d.index, d.name, d.host_api, d.channels, d.is_default) for d in devices] == [
        (0, "Built-in Microphone", "ALSA", 2, True)
    ]


def test_missing_portaudio_says_how_to_install_it(monkeypatch):
    def no_portaudio(name):
        raise OSError("PortAudio library not found")

    with pytest.raises(DeviceError, match="sudo apt-get install libportaudio2"):
        import_sounddevice(no_portaudio)
    monkeypatch.setattr(capture, "_import_module", no_portaudio)
    with pytest.raises(DeviceError, match="libportaudio2"):
        MicrophoneSource()
    with pytest.raises(DeviceError, match="libportaudio2"):
        list_input_devices()

    def no_package(name):
        raise ImportError("No module named 'sounddevice'")

    with pytest.raises(DeviceError, match="pip install sounddevice"):
        import_sounddevice(no_package)


# ------------------------------------------------------------------------------------------------
class FakeClock:
    def __init__(self) -> None:
        self.t = 100.0

    def __call__(self) -> float:
        return self.t


def test_paced_source_hands_blocks_out_at_real_time(monkeypatch):
    clock = FakeClock()
    x = np.arange(16000 * 2, dtype=np.float32) / 1e5
    src = PacedSource(ArraySource(x, 16000, block_size=5000), speed=2.0, block_s=0.1, clock=clock)
    waits = []

    def fake_wait(timeout):
        waits.append(round(timeout, 6))
        clock.t += timeout
        return False

    monkeypatch.setattr(src._stop, "wait", fake_wait)
    blocks = list(src.blocks())
    assert [b.size for b in blocks] == [1600] * 20
    np.testing.assert_array_equal(np.concatenate(blocks), x)
    assert waits == [0.05] * 20  # 0.1 s of audio every 0.05 s at double speed
    assert clock.t == pytest.approx(101.0)


def test_paced_source_stopped_while_waiting_keeps_what_was_heard():
    x = np.zeros(16000 * 10, dtype=np.float32)
    src = PacedSource(ArraySource(x, 16000), speed=1.0, block_s=0.5)
    threading.Timer(0.75, src.stop).start()
    t0 = time.monotonic()
    got = np.concatenate(list(src.blocks()))
    assert time.monotonic() - t0 < 1.2
    assert 0.7 * 16000 <= got.size <= 0.9 * 16000  # 0.5 s block, then the 0.25 s heard of the next


def test_paced_source_rejects_negative_speed():
    with pytest.raises(ValueError):
        PacedSource(ArraySource(np.zeros(100), 16000), speed=-1)
