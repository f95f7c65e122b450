"""Audio sources: every bad input gets one clear message naming the file; the format matrix decodes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from listenkit import wording
from listenkit.errors import AudioInputError, ListenkitError
from listenkit.resample import Resampler
from listenkit.sources import ArraySource, FileSource, Source

TONE_HZ = 1000.0


def tone(rate: int, seconds: float = 0.5, channels: int = 1, amp: float = 0.5) -> np.ndarray:
    """A sine of TONE_HZ, the same on every channel, shape (n, channels)."""
    t = np.arange(int(rate * seconds)) / rate
    x = amp * np.sin(2 * np.pi * TONE_HZ * t)
    return np.repeat(x[:, None], channels, axis=1).astype(np.float32)


def decode_16k(src: FileSource) -> np.ndarray:
    """All blocks of ``src``, resampled to 16 kHz."""
    rs = Resampler(src.sample_rate, 16000)
    parts = [rs.process(b) for b in src.blocks()]
    parts.append(rs.flush())
    return np.concatenate(parts)


def peak_hz_and_rms_db(y: np.ndarray, rate: int = 16000) -> tuple[float, float]:
    """Frequency of the strongest spectral peak (Hz) and RMS level (dB) of the middle of ``y``."""
    mid = y[len(y) // 4 : 3 * len(y) // 4]
    spec = np.abs(np.fft.rfft(mid * np.hanning(len(mid)), 1 << 16))
    freq = np.fft.rfftfreq(1 << 16, 1 / rate)[int(np.argmax(spec))]
    return float(freq), float(20 * np.log10(np.sqrt(np.mean(mid.astype(np.float64) ** 2))))


def assert_message(exc: pytest.ExceptionInfo, path: Path | str, text: str) -> None:
    msg = str(exc.value)
    assert msg.startswith(f"{path}: "), msg
    assert text in msg, msg
    assert "\n" not in msg
    assert isinstance(exc.value, ListenkitError)


# ------------------------------------------------------------------ bad inputs


def test_missing_file(tmp_path):
    p = tmp_path / "nope.wav"
    with pytest.raises(AudioInputError) as exc:
        FileSource(p)
    assert_message(exc, p, wording.AUDIO_MISSING)


def test_directory(tmp_path):
    with pytest.raises(AudioInputError) as exc:
        FileSource(tmp_path)
    assert_message(exc, tmp_path, wording.AUDIO_IS_DIR)


def test_empty_file(tmp_path):
    p = tmp_path / "empty.wav"
    p.write_bytes(b"")
    with pytest.raises(AudioInputError) as exc:
        FileSource(p)
    assert_message(exc, p, wording.AUDIO_EMPTY)


@pytest.mark.parametrize("name", ["notes.txt", "notes.wav", "notes.mp3"])
def test_text_file(tmp_path, name):
    p = tmp_path / name
    p.write_text("this is not audio\n" * 50)
    with pytest.raises(AudioInputError) as exc:
        FileSource(p)
    assert_message(exc, p, "not an audio file listenkit can read")
    assert wording.AUDIO_DETAIL_UNRECOGNISED in str(exc.value)


@pytest.mark.parametrize("name", ["noise.bin", "noise.wav", "noise.mp3", "noise.flac"])
def test_random_bytes(tmp_path, rng, name, capfd):
    p = tmp_path / name
    p.write_bytes(rng.bytes(5000))
    with pytest.raises(AudioInputError) as exc:
        FileSource(p)
    assert_message(exc, p, "not an audio file listenkit can read")
    assert capfd.readouterr().err == ""  # decoder notes (libmpg123) are kept off stderr


def test_header_only_wav_has_no_samples(tmp_path):
    p = tmp_path / "blank.wav"
    sf.write(p, np.zeros(0, dtype=np.float32), 16000)
    with pytest.raises(AudioInputError) as exc:
        FileSource(p)
    assert_message(exc, p, wording.AUDIO_NO_FRAMES)


def test_unreadable_file(tmp_path, monkeypatch):
    p = tmp_path / "locked.wav"
    sf.write(p, tone(16000), 16000)
    real_open = open

    def deny(file, *args, **kwargs):
        if str(file) == str(p):
            raise PermissionError(13, "Permission denied")
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr("builtins.open", deny)
    with pytest.raises(AudioInputError) as exc:
        FileSource(p)
    assert_message(exc, p, "cannot be read (Permission denied)")


def _truncate(path: Path, fraction: float) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * fraction)])


@pytest.mark.parametrize("fraction", [0.5, 0.9])
def test_truncated_wav_is_found_on_opening(tmp_path, fraction):
    # libsndfile silently shortens a cut WAV; the data chunk size in the header gives it away
    p = tmp_path / "cut.wav"
    sf.write(p, tone(16000, seconds=3.0), 16000, subtype="PCM_16")
    _truncate(p, fraction)
    with pytest.raises(AudioInputError) as exc:
        FileSource(p)
    assert_message(exc, p, "ends early or is damaged")
    assert "the header promises 3.0 s" in str(exc.value)


def test_wav_with_unknown_length_is_not_truncated(tmp_path):
    # recorders that stop before finishing the header leave size 0xFFFFFFFF: read what is there
    p = tmp_path / "open.wav"
    sf.write(p, tone(16000, seconds=1.0), 16000, subtype="PCM_16")
    data = bytearray(p.read_bytes())
    pos = data.index(b"data")
    data[pos + 4 : pos + 8] = (0xFFFFFFFF).to_bytes(4, "little")
    p.write_bytes(bytes(data))
    src = FileSource(p)
    assert sum(len(b) for b in src.blocks()) == 16000


@pytest.mark.parametrize(
    ("ext", "fmt", "subtype"),
    [("flac", "FLAC", "PCM_16"), ("mp3", "MP3", "MPEG_LAYER_III"), ("ogg", "OGG", "VORBIS")],
)
@pytest.mark.parametrize("fraction", [0.5, 0.9])
def test_truncated_compressed_file(tmp_path, ext, fmt, subtype, fraction, capfd):
    p = tmp_path / f"cut.{ext}"
    sf.write(p, tone(16000, seconds=3.0), 16000, format=fmt, subtype=subtype)
    _truncate(p, fraction)
    with pytest.raises(AudioInputError) as exc:
        src = FileSource(p)
        for _ in src.blocks():
            pass
    assert_message(exc, p, "ends early or is damaged")
    assert capfd.readouterr().err == ""


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_invalid_samples_in_float_wav(tmp_path, bad):
    p = tmp_path / "bad.wav"
    x = tone(8000, seconds=2.0)[:, 0]
    x[12000] = bad  # at 1.5 s
    sf.write(p, x, 8000, subtype="FLOAT")
    src = FileSource(p, block_frames=4096)
    with pytest.raises(AudioInputError) as exc:
        for _ in src.blocks():
            pass
    assert_message(exc, p, wording.AUDIO_NAN.format(seconds=1.5))


# ------------------------------------------------------------------ format / rate / channel matrix

WAV_SUBTYPES = ["PCM_U8", "PCM_16", "PCM_24", "PCM_32", "FLOAT", "DOUBLE"]
RATES = [8000, 11025, 22050, 44100, 48000, 96000]


def _check_tone(tmp_path: Path, name: str, x: np.ndarray, rate: int, tol_db: float, **write_args) -> FileSource:
    p = tmp_path / name
    sf.write(p, x, rate, **write_args)
    src = FileSource(p)
    assert isinstance(src, Source)
    assert src.sample_rate == rate and src.channels == x.shape[1]
    y = decode_16k(src)
    assert abs(len(y) - len(x) * 16000 / rate) <= 1
    freq, level = peak_hz_and_rms_db(y)
    assert abs(freq - TONE_HZ) < 2.0
    assert abs(level - 20 * np.log10(0.5 / np.sqrt(2))) < tol_db
    return src


@pytest.mark.parametrize("subtype", WAV_SUBTYPES)
@pytest.mark.parametrize("rate", RATES)
def test_wav_subtypes_and_rates(tmp_path, subtype, rate):
    src = _check_tone(tmp_path, "t.wav", tone(rate), rate, 0.2, subtype=subtype)
    assert src.frames == len(tone(rate))
    assert src.duration_s == pytest.approx(0.5, abs=1e-3)
    assert "WAV" in src.format_info


@pytest.mark.parametrize("rate", RATES)
@pytest.mark.parametrize("channels", [1, 2, 6])
def test_flac(tmp_path, rate, channels):
    _check_tone(tmp_path, "t.flac", tone(rate, channels=channels), rate, 0.2, format="FLAC", subtype="PCM_24")


@pytest.mark.parametrize("rate", RATES)
@pytest.mark.parametrize("channels", [1, 2, 6])
def test_ogg_vorbis(tmp_path, rate, channels):
    # Vorbis codes the 5.1 layout's LFE channel coarsely at high rates: the 6-channel mean loses ~1.5 dB
    tol_db = 2.0 if channels == 6 else 1.0
    _check_tone(tmp_path, "t.ogg", tone(rate, channels=channels), rate, tol_db, format="OGG", subtype="VORBIS")


@pytest.mark.parametrize("rate", [8000, 11025, 22050, 44100, 48000])  # MPEG audio stops at 48 kHz
@pytest.mark.parametrize("channels", [1, 2])  # and at two channels
def test_mp3(tmp_path, rate, channels, capfd):
    _check_tone(tmp_path, "t.mp3", tone(rate, channels=channels), rate, 1.0, format="MP3")
    assert capfd.readouterr().err == ""


@pytest.mark.parametrize("channels", [2, 6])
def test_wav_channels_are_mixed_by_mean(tmp_path, channels):
    rate = 16000
    x = np.zeros((rate, channels), dtype=np.float32)
    x[:, 0] = 0.8  # one loud channel, the others silent
    p = tmp_path / "mix.wav"
    sf.write(p, x, rate, subtype="FLOAT")
    y = np.concatenate(list(FileSource(p).blocks()))
    np.testing.assert_allclose(y, 0.8 / channels, rtol=1e-6)


def test_blocks_are_float32_mono_and_cover_the_file(tmp_path, rng):
    p = tmp_path / "n.wav"
    x = (0.3 * rng.standard_normal((10001, 2))).astype(np.float32)
    sf.write(p, x, 22050, subtype="FLOAT")
    blocks = list(FileSource(p, block_frames=3000).blocks())
    assert [len(b) for b in blocks] == [3000, 3000, 3000, 1001]
    assert all(b.dtype == np.float32 and b.ndim == 1 for b in blocks)
    np.testing.assert_allclose(np.concatenate(blocks), np.clip(x.mean(axis=1), -1, 1), atol=1e-7)


def test_float_samples_beyond_full_scale_are_clipped(tmp_path):
    p = tmp_path / "hot.wav"
    sf.write(p, np.array([0.5, 1.5, -2.0, 0.0], dtype=np.float32), 8000, subtype="FLOAT")
    np.testing.assert_array_equal(np.concatenate(list(FileSource(p).blocks())), [0.5, 1.0, -1.0, 0.0])


def test_corpus_file(corpus):
    src = FileSource(corpus / "conversations" / "falcon-3-speakers.flac")
    assert src.sample_rate == 16000 and src.channels == 1
    assert sum(len(b) for b in src.blocks()) == src.frames


# ------------------------------------------------------------------ ArraySource


def test_array_source_blocks_and_mixdown():
    x = np.stack([np.full(10, 0.2), np.full(10, 0.6)], axis=1)
    src = ArraySource(x, 8000, block_size=4)
    blocks = list(src.blocks())
    assert [len(b) for b in blocks] == [4, 4, 2]
    np.testing.assert_allclose(np.concatenate(blocks), 0.4, rtol=1e-6)
    assert src.duration_s == pytest.approx(10 / 8000)
    assert isinstance(src, Source)


def test_array_source_scales_int16():
    src = ArraySource(np.array([16384, -32768], dtype=np.int16), 16000)
    np.testing.assert_array_equal(next(src.blocks()), [0.5, -1.0])


@pytest.mark.parametrize(
    ("samples", "rate", "text"),
    [
        (np.zeros(100), 500, wording.AUDIO_BAD_RATE.format(rate=500)),
        (np.zeros((2, 2, 2)), 16000, "must be 1-D"),
        (np.zeros(0), 16000, wording.AUDIO_NO_FRAMES),
        (np.array([0.0, 0.1, np.nan, 0.0]), 1000, wording.AUDIO_NAN.format(seconds=0.002)),
    ],
)
def test_array_source_bad_input(samples, rate, text):
    with pytest.raises(AudioInputError) as exc:
        ArraySource(samples, rate, name="recording")
    assert_message(exc, "recording", text)
