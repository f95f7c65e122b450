"""Live audio sources: the microphone (PortAudio through ``sounddevice``) and a recording paced in real time.

Both are :class:`~listenkit.sources.Source` objects (``name``, ``sample_rate``, ``blocks()``) with the
few extras live mode needs (:class:`LiveSource`): ``stop()``, which makes ``blocks()`` end soon after
(from a signal handler or another thread), and counters of audio trouble.

The microphone follows python-sounddevice's ``rec_unlimited`` pattern: the PortAudio callback only
copies the block, puts it on a bounded queue and counts overflows (it never allocates big arrays,
writes files or prints); the consumer blocks on the queue with a timeout, so it never spins, and
notices a stop request or a device that stopped delivering within :data:`POLL_S`. When the device
cannot record at 16 kHz it is opened at its own default rate; the pipeline's resampler converts.

``sounddevice`` is imported only here, inside functions: it needs the PortAudio library, which a
machine that only analyses files may not have.
"""

from __future__ import annotations

import importlib
import queue
import threading
import time
from dataclasses import dataclass
from types import ModuleType
from typing import Any, Callable, Iterator, Protocol, runtime_checkable

import numpy as np

from .. import wording
from ..errors import DeviceError
from ..features import SAMPLE_RATE
from ..native_stderr import quiet_native_stderr
from ..sources import Source

#: Length of one PortAudio block (callback), seconds: 40 ms keeps the callbacks (and the audio
#: plugin's work around them) to 25 a second; the consumer hands on 0.1 s at a time anyway.
BLOCK_S = 0.04
#: Audio the queue holds before blocks are dropped (the consumer fell this far behind), seconds.
QUEUE_S = 30.0
#: The consumer hands on at least this much audio at a time (fewer, larger pipeline steps), seconds.
YIELD_S = 0.1
#: How often a waiting consumer checks for a stop request or a silent device, seconds.
POLL_S = 0.1
#: A running stream that delivers nothing for this long is taken as gone (unplugged), seconds.
STALL_S = 3.0

#: how :func:`import_sounddevice` imports (tests replace it to simulate a missing PortAudio)
_import_module: Callable[[str], ModuleType] = importlib.import_module


@runtime_checkable
class LiveSource(Source, Protocol):
    """A :class:`~listenkit.sources.Source` that runs until stopped.

    Attributes
    ----------
    overflows : int
        Input overflows reported by the device (audio the hardware had to drop).
    dropped_blocks : int
        Blocks dropped because the consumer fell more than :data:`QUEUE_S` behind.
    lost : bool
        True when the stream ended because the device stopped delivering (unplugged).
    """

    overflows: int
    dropped_blocks: int
    lost: bool

    def stop(self) -> None:
        """Ask :meth:`blocks` to end (safe from a signal handler or another thread)."""
        ...


def import_sounddevice(importer: Callable[[str], ModuleType] | None = None) -> ModuleType:
    """Import ``sounddevice``, turning a missing PortAudio library into a clear :class:`DeviceError`.

    Parameters
    ----------
    importer : callable, optional
        Stand-in for :func:`importlib.import_module` (tests); default :data:`_import_module`.

    Raises
    ------
    DeviceError
        PortAudio is not installed (``OSError`` on import), or sounddevice itself is missing.
    """
    try:
        with quiet_native_stderr():  # PortAudio's start-up probes print ALSA notes on some laptops
            return (importer or _import_module)("sounddevice")
    except OSError:
        raise DeviceError(wording.LIVE_NO_PORTAUDIO) from None
    except ImportError:
        raise DeviceError(wording.LIVE_NO_SOUNDDEVICE) from None


def device_argument(text: str) -> int | str:
    """``--device`` value: a number is a device index, anything else part of a device name."""
    text = text.strip()
    return int(text) if text.isdigit() else text


@dataclass(frozen=True)
class InputDevice:
    """One audio input device as PortAudio lists it.

    Attributes
    ----------
    index : int
    name : str
    host_api : str
    channels : int
        Most input channels.
    default_rate : float
        The device's default sample rate, Hz.
    is_default : bool
        True for the default input device.
    """

    index: int
    name: str
    host_api: str
    channels: int
    default_rate: float
    is_default: bool


def list_input_devices(sd: Any | None = None) -> list[InputDevice]:
    """Every device with at least one input channel.

    Raises
    ------
    DeviceError
        PortAudio is missing or cannot list devices.
    """
    sd = sd or import_sounddevice()
    try:
        with quiet_native_stderr():
            devices = sd.query_devices()
            apis = sd.query_hostapis()
            default_in = sd.default.device[0]
    except Exception as exc:  # PortAudioError and friends: never a traceback
        raise DeviceError(wording.LIVE_CANNOT_LIST.format(detail=_reason(exc))) from None
    out = []
    for i, d in enumerate(devices):
        if int(d.get("max_input_channels", 0)) < 1:
            continue
        api = apis[d["hostapi"]]["name"] if 0 <= d.get("hostapi", -1) < len(apis) else "?"
        out.append(
            InputDevice(int(d.get("index", i)), str(d["name"]), str(api), int(d["max_input_channels"]),
                        float(d["default_samplerate"]), int(d.get("index", i)) == default_in)
        )
    return out


def _reason(exc: BaseException) -> str:
    """PortAudio's message without trailing punctuation (or the exception type when empty)."""
    text = str(exc).strip().rstrip(".")
    return text or type(exc).__name__


def _resolve_device(sd: Any, device: int | str | None) -> dict:
    """The device's description, or the :class:`DeviceError` that says what is wrong."""
    try:
        info = sd.query_devices(device, "input")
    except ValueError as exc:  # no device matches / several match / not an input device
        if device is None:
            raise DeviceError(wording.LIVE_NO_INPUT_DEVICE) from None
        raise DeviceError(wording.LIVE_DEVICE_NOT_FOUND.format(device=device, detail=_reason(exc))) from None
    except Exception as exc:  # PortAudioError: e.g. no default input device (-1)
        if device is None:
            raise DeviceError(wording.LIVE_NO_INPUT_DEVICE) from None
        raise DeviceError(wording.LIVE_DEVICE_NOT_FOUND.format(device=device, detail=_reason(exc))) from None
    if int(info.get("max_input_channels", 0)) < 1:
        raise DeviceError(wording.LIVE_DEVICE_NOT_INPUT.format(device=info.get("name", device)))
    return dict(info)


def choose_settings(sd: Any, info: dict) -> tuple[int, int]:
    """Sample rate and channel count to open the device with.

    16 kHz (the analysis rate) when the device takes it, else the device's default rate (the pipeline
    resamples); one channel when possible, else two (mixed down to mono).

    Raises
    ------
    DeviceError
        When none of these settings work.
    """
    index = info.get("index")
    rates = [SAMPLE_RATE]
    default = int(round(float(info.get("default_samplerate") or 0)))
    if default > 0 and default != SAMPLE_RATE:
        rates.append(default)
    channel_options = [1] + ([2] if int(info.get("max_input_channels", 1)) >= 2 else [])
    last: BaseException | None = None
    for rate in rates:
        for channels in channel_options:
            try:
                sd.check_input_settings(device=index, channels=channels, dtype="float32", samplerate=rate)
                return rate, channels
            except Exception as exc:  # PortAudioError / ValueError: try the next setting
                last = exc
    raise DeviceError(
        wording.LIVE_DEVICE_SETTINGS.format(device=info.get("name", index), detail=_reason(last or Exception()))
    )


class _Stoppable:
    """The stop flag and trouble counters shared by the live sources."""

    def __init__(self) -> None:
        self._stop = threading.Event()
        self.overflows = 0
        self.dropped_blocks = 0
        self.lost = False

    def stop(self) -> None:
        """Ask :meth:`blocks` to end soon (safe from a signal handler or another thread)."""
        self._stop.set()

    @property
    def stopped(self) -> bool:
        """True once :meth:`stop` was called."""
        return self._stop.is_set()


class MicrophoneSource(_Stoppable):
    """Blocks from an input device, until :meth:`stop` or until the device stops delivering.

    Parameters
    ----------
    device : int or str, optional
        Device index or part of its name (``listenkit devices`` lists them); the default input device
        when None.
    backend : module, optional
        The ``sounddevice`` module (tests pass a stand-in); imported when None.
    block_s, queue_s, yield_s, stall_s : float
        See :data:`BLOCK_S`, :data:`QUEUE_S`, :data:`YIELD_S`, :data:`STALL_S` (seconds).

    Raises
    ------
    DeviceError
        PortAudio missing, no input device, no such device, or no usable rate / channel count.
    """

    name = "microphone"

    def __init__(
        self,
        device: int | str | None = None,
        *,
        backend: Any | None = None,
        block_s: float = BLOCK_S,
        queue_s: float = QUEUE_S,
        yield_s: float = YIELD_S,
        stall_s: float = STALL_S,
    ) -> None:
        super().__init__()
        self._sd = backend or import_sounddevice()
        with quiet_native_stderr():
            info = _resolve_device(self._sd, device)
            self.sample_rate, self.channels = choose_settings(self._sd, info)
        self.device_index = info.get("index")
        self.device_name = str(info.get("name", device))
        self._block = max(1, int(round(self.sample_rate * block_s)))
        self._yield_frames = max(1, int(round(self.sample_rate * yield_s)))
        self._stall_s = float(stall_s)
        self._queue: queue.Queue[np.ndarray] = queue.Queue(maxsize=max(1, int(queue_s / block_s)))
        self._finished = threading.Event()
        self.frames_captured = 0

    # --- PortAudio thread ----------------------------------------------------------------------
    def _callback(self, indata: np.ndarray, frames: int, time_info: Any, status: Any) -> None:
        """PortAudio's callback: copy, enqueue, count trouble. Nothing else."""
        if status and getattr(status, "input_overflow", False):
            self.overflows += 1
        try:
            self._queue.put_nowait(indata.copy())
        except queue.Full:
            self.dropped_blocks += 1

    def _on_finished(self) -> None:
        self._finished.set()

    # --- consumer ------------------------------------------------------------------------------
    def _open_stream(self) -> Any:
        try:
            stream = self._sd.InputStream(
                samplerate=self.sample_rate,
                blocksize=self._block,
                device=self.device_index,
                channels=self.channels,
                dtype="float32",
                latency="high",
                callback=self._callback,
                finished_callback=self._on_finished,
            )
            stream.start()
        except Exception as exc:  # PortAudioError: busy, unplugged since listing, ...
            raise DeviceError(wording.LIVE_CANNOT_OPEN.format(device=self.device_name, detail=_reason(exc))) from None
        return stream

    def _mono(self, parts: list[np.ndarray]) -> np.ndarray:
        block = np.concatenate(parts) if len(parts) > 1 else parts[0]
        mono = block[:, 0] if block.shape[1] == 1 else block.mean(axis=1)
        self.frames_captured += mono.shape[0]
        return np.clip(mono, -1.0, 1.0).astype(np.float32, copy=False)

    def blocks(self) -> Iterator[np.ndarray]:
        """Yield mono float32 blocks of at least ``yield_s`` seconds until stopped or the device is gone.

        After :meth:`stop`, the audio already captured is still yielded. When the device stops
        delivering (the stream finished by itself, or nothing came for ``stall_s`` seconds),
        :attr:`lost` is set and the generator ends normally, so the session so far can be kept.

        Raises
        ------
        DeviceError
            When the stream cannot be opened.
        """
        with quiet_native_stderr():
            yield from self._capture()

    def _capture(self) -> Iterator[np.ndarray]:
        stream = self._open_stream()
        pending: list[np.ndarray] = []
        pending_frames = 0
        last_audio = time.monotonic()
        try:
            while True:
                try:
                    pending.append(self._queue.get(timeout=POLL_S))
                    pending_frames += pending[-1].shape[0]
                    last_audio = time.monotonic()
                    while True:  # take whatever else is already there
                        pending.append(self._queue.get_nowait())
                        pending_frames += pending[-1].shape[0]
                except queue.Empty:
                    pass
                ending = self.stopped or self._finished.is_set() or not _active(stream)
                if not ending and time.monotonic() - last_audio > self._stall_s:
                    ending = True
                if ending:  # what is already queued was captured: keep it
                    pending_frames += _drain(self._queue, pending)
                if pending and (pending_frames >= self._yield_frames or ending):
                    yield self._mono(pending)
                    pending, pending_frames = [], 0
                if ending:
                    if not self.stopped:
                        self.lost = True
                    break
        finally:
            _close(stream)
            _drain(self._queue, [])


def _drain(q: queue.Queue, into: list[np.ndarray]) -> int:
    """Move every block waiting in ``q`` to ``into`` without blocking; returns the frames moved."""
    frames = 0
    while True:
        try:
            into.append(q.get_nowait())
        except queue.Empty:
            return frames
        frames += into[-1].shape[0]


def _active(stream: Any) -> bool:
    try:
        return bool(stream.active)
    except Exception:  # a stream whose device vanished may fail to answer
        return False


def _close(stream: Any) -> None:
    """Stop and close a stream, ignoring errors from a device that is already gone."""
    for method in ("abort", "close"):
        try:
            getattr(stream, method)()
        except Exception:  # PortAudioError on an unplugged device: nothing more to save
            pass


class PacedSource(_Stoppable):
    """Any source's blocks handed on at the pace of real time (or ``speed`` times faster).

    This is how a recording goes through live mode (``listenkit live --input-file``): a demo, a test
    of the live path, or the benchmark. Block ``k`` is handed on when the wall clock reaches the end
    of its audio: ``t0 + (samples so far) / (sample_rate * speed)``.

    Parameters
    ----------
    inner : Source
        Where the audio comes from (a :class:`~listenkit.sources.FileSource`, an
        :class:`~listenkit.sources.ArraySource`, ...).
    speed : float
        Pace multiplier: 1 is real time, 10 ten times faster, 0 as fast as possible.
    block_s : float
        Length of the handed-on blocks, seconds (like a microphone's).
    clock : callable
        Monotonic clock in seconds (tests pass a fake one).
    """

    def __init__(
        self, inner: Source, *, speed: float = 1.0, block_s: float = YIELD_S, clock: Callable[[], float] = time.monotonic
    ) -> None:
        super().__init__()
        if speed < 0:
            raise ValueError(f"speed must be 0 or more, got {speed}")
        self.inner = inner
        self.name = inner.name
        self.sample_rate = int(inner.sample_rate)
        self.speed = float(speed)
        self._block = max(1, int(round(self.sample_rate * block_s)))
        self._clock = clock

    def _even_blocks(self) -> Iterator[np.ndarray]:
        """The inner source's audio cut into blocks of exactly ``block_s`` (the last may be shorter)."""
        carry = np.zeros(0, dtype=np.float32)
        for big in self.inner.blocks():
            data = np.concatenate((carry, big)) if carry.size else big
            full = data.shape[0] - data.shape[0] % self._block
            for start in range(0, full, self._block):
                yield data[start : start + self._block]
            carry = data[full:]
        if carry.size:
            yield carry

    def blocks(self) -> Iterator[np.ndarray]:
        """Yield blocks of ``block_s`` seconds at the chosen pace until the audio ends or :meth:`stop`.

        When stopped while waiting, the part of the block "heard" by then is still yielded.
        """
        t0 = self._clock()
        done = 0
        for block in self._even_blocks():
            if self.stopped:
                return
            if self.speed > 0:
                due = t0 + (done + block.shape[0]) / (self.sample_rate * self.speed)
                wait = due - self._clock()
                if wait > 0 and self._stop.wait(wait):
                    heard = int((self._clock() - t0) * self.sample_rate * self.speed) - done
                    if heard > 0:
                        yield block[: min(heard, block.shape[0])]
                    return
            done += block.shape[0]
            yield block
