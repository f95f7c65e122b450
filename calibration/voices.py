"""The single-voice recordings the simulator builds conversations from, and their fixed dev / test split.

Every voice is one speaker of ``corpus/speakers`` (never the ``reserved-*`` folders). A voice's
recordings are cut into *phrases* (stretches of speech between pauses of at least
:data:`PHRASE_PAUSE_S`) whose speech runs are found by :func:`speech_runs`, an energy detector on the
clean recording. Those runs are the ground truth of the simulated references.

The split (see calibration/README.md) is a fixed rule on speaker ids, so it never changes between runs:

- librispeech-test-other: dev = 1688, 2414, 367; test = 1998, 533;
- librispeech-train-clean-100: speakers sorted by id within each estimated sex, alternately dev / test
  (30 F + 30 M each);
- sisec2011: sources 1-2 of each sex dev, 3-4 test;
- cmu-arctic: aew dev, axb test;  vctk p286: dev;  speechbrain-two-speakers: spk1 dev, spk2 test.
"""

from __future__ import annotations

import csv
import zlib
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np
import soundfile as sf

SR = 16000
HOP = 160  # 10 ms at 16 kHz
PHRASE_PAUSE_S = 0.25
MAX_PHRASE_S = 7.0
LEVEL_DBFS = -26.0  # active speech level every voice is normalised to
MIN_RANGE_DB = 15.0  # a usable recording's speech peaks stand this far above its noise floor
MIN_SPEECH_S = 3.0  # and it holds at least this much speech
ISOLATED_BLIP_S = 0.15  # a run this short with no other run within 0.1 s is a breath or click

LS_OTHER_DEV = ("1688", "2414", "367")
LS_OTHER_TEST = ("1998", "533")


@dataclass(frozen=True)
class Voice:
    """One speaker's recordings.

    Attributes
    ----------
    id : str
        Short unique id, used as the speaker label in references, e.g. ``"ls-1688"``.
    corpus : str
        Folder of ``corpus/speakers`` the recordings come from.
    files : tuple of Path
        The speaker's recordings (16 kHz mono FLAC).
    sex : str
        ``"F"``, ``"M"`` or ``"?"`` (estimated by the corpus, or from the file name).
    split : str
        ``"dev"`` or ``"test"``.
    speed : float
        Playback speed of the recordings (1.0: as recorded). A voice played 10 % faster or slower
        has its pitch and formants moved by 10 %: a different voice, as speaker-recognition training
        treats it (:func:`with_speed_variants`).
    """

    id: str
    corpus: str
    files: tuple[Path, ...]
    sex: str
    split: str
    speed: float = 1.0


@dataclass
class Phrase:
    """A stretch of one voice's speech, trimmed to its speech runs plus a short margin.

    Attributes
    ----------
    audio : ndarray of float32, shape (n_samples,)
        Clean 16 kHz audio, normalised to the voice's active level :data:`LEVEL_DBFS`.
    runs : list of (int, int)
        Speech runs in samples relative to the phrase start.
    """

    audio: np.ndarray
    runs: list[tuple[int, int]] = field(default_factory=list)

    @property
    def speech_start(self) -> int:
        """First speech sample."""
        return self.runs[0][0]

    @property
    def speech_end(self) -> int:
        """One past the last speech sample."""
        return self.runs[-1][1]


def _sisec_sex(name: str) -> str:
    return "F" if "female" in name else "M"


def list_voices(corpus: Path) -> list[Voice]:
    """All usable voices of ``corpus/speakers`` with their split, in a fixed order.

    Parameters
    ----------
    corpus : Path
        The ``corpus`` folder.

    Returns
    -------
    list of Voice
    """
    spk = corpus / "speakers"
    voices: list[Voice] = []
    ls_sex = {}
    tsv = spk / "librispeech-test-other-speakers.tsv"
    if tsv.is_file():
        with open(tsv, newline="") as fh:
            for row in csv.DictReader(fh, delimiter="\t"):
                ls_sex[row["speaker"]] = row["estimated_sex"]
    for sid in LS_OTHER_DEV + LS_OTHER_TEST:
        folder = spk / "librispeech-test-other" / sid
        files = tuple(sorted(folder.glob("*.flac")))
        if files:
            split = "dev" if sid in LS_OTHER_DEV else "test"
            voices.append(Voice(f"ls-{sid}", "librispeech-test-other", files, ls_sex.get(sid, "?"), split))
    clean = spk / "librispeech-train-clean-100"
    rows = []
    if (clean / "speakers.tsv").is_file():
        with open(clean / "speakers.tsv", newline="") as fh:
            rows = list(csv.DictReader(fh, delimiter="\t"))
    for sex in ("F", "M"):
        same = sorted((r for r in rows if r["estimated_sex"] == sex), key=lambda r: int(r["speaker"]))
        for i, r in enumerate(same):
            voices.append(
                Voice(f"lc-{r['speaker']}", "librispeech-train-clean-100", (clean / r["file"],), sex,
                      "dev" if i % 2 == 0 else "test")
            )
    for path in sorted((spk / "sisec2011").glob("*.flac")):
        src = int(path.stem.rsplit("_", 1)[1])
        sex = _sisec_sex(path.stem)
        voices.append(Voice(f"sisec-{sex.lower()}{src}", "sisec2011", (path,), sex, "dev" if src <= 2 else "test"))
    for name, sex, split in (("aew", "M", "dev"), ("axb", "F", "test")):
        files = tuple(sorted((spk / "cmu-arctic").glob(f"cmu_arctic_us_{name}_*.flac")))
        if files:
            voices.append(Voice(f"arctic-{name}", "cmu-arctic", files, sex, split))
    vctk = tuple(sorted((spk / "vctk").glob("p286_*.flac")))
    if vctk:
        voices.append(Voice("vctk-p286", "vctk", vctk, "M", "dev"))
    for name, split in (("spk1", "dev"), ("spk2", "test")):
        files = tuple(sorted((spk / "speechbrain-two-speakers").glob(f"{name}_*.flac")))
        if files:
            voices.append(Voice(f"sb-{name}", "speechbrain-two-speakers", files, "?", split))
    for v in voices:
        if any("reserved" in str(f) for f in v.files):  # defensive: the rule above never picks them
            raise RuntimeError(f"reserved voice selected: {v.id}")
    return voices


def frame_levels_db(x: np.ndarray) -> np.ndarray:
    """Level of every 10 ms frame, smoothed over 30 ms.

    Parameters
    ----------
    x : ndarray, shape (n_samples,)
        16 kHz audio.

    Returns
    -------
    ndarray, shape (n_samples // 160,)
        Mean power in dB (re full scale 1.0) of frame ``t`` = samples ``[160 t, 160 t + 160)``,
        averaged with its two neighbours.
    """
    n = len(x) // HOP
    if n == 0:
        return np.zeros(0)
    power = np.mean(np.square(x[: n * HOP].reshape(n, HOP), dtype=np.float64), axis=1)
    power = np.convolve(power, np.ones(3) / 3.0, mode="same")
    return 10.0 * np.log10(power + 1e-12)


def speech_runs(x: np.ndarray, *, min_run_s: float = 0.05) -> list[tuple[int, int]]:
    """Speech runs of a clean single-voice recording, by energy with hysteresis.

    A run is a stretch of frames above a low threshold that contains at least one frame above a
    high threshold: ``high = max(p95 - 30, floor + 9)``, ``low = max(p95 - 40, floor + 4)`` dB, where
    ``p95`` is the 95th percentile of the frame levels (:func:`frame_levels_db`) and ``floor`` the
    10th percentile (the recording's noise floor). Pauses of a single frame or more separate runs;
    runs shorter than ``min_run_s`` are dropped, and so are runs shorter than :data:`ISOLATED_BLIP_S`
    with no other run within 0.1 s (breaths before a sentence, clicks: loud but not words).

    Parameters
    ----------
    x : ndarray, shape (n_samples,)
        Clean 16 kHz audio of one voice.
    min_run_s : float
        Shortest kept run, seconds.

    Returns
    -------
    list of (int, int)
        ``(start, end)`` sample indices, multiples of 160, sorted.
    """
    db = frame_levels_db(x)
    if db.size == 0:
        return []
    floor, p95 = np.percentile(db, 10), np.percentile(db, 95)
    high = max(p95 - 30.0, floor + 9.0)
    low = max(p95 - 40.0, floor + 4.0)
    above = np.concatenate(([0], (db > low).astype(np.int8), [0]))
    edges = np.diff(above)
    starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    min_frames = int(round(min_run_s * SR / HOP))
    runs = [
        (int(s) * HOP, int(e) * HOP)
        for s, e in zip(starts, ends)
        if e - s >= min_frames and np.any(db[s:e] > high)
    ]
    # isolated short runs are breaths and clicks, not words: drop them
    blip, near = int(ISOLATED_BLIP_S * SR), int(0.1 * SR)
    kept = []
    for i, (s, e) in enumerate(runs):
        close = (i > 0 and s - runs[i - 1][1] < near) or (i + 1 < len(runs) and runs[i + 1][0] - e < near)
        if e - s >= blip or close:
            kept.append((s, e))
    return kept


def usable(voice: Voice) -> bool:
    """Whether a voice is clean and long enough to build conversations from.

    A few LibriSpeech train-clean-100 files are very noisy (noise floor within 15 dB of the speech
    peaks, so the energy reference would be wrong) or shorter than 3 s of speech; they are left out.
    The rule: 95th minus 10th percentile of the frame levels >= :data:`MIN_RANGE_DB` and detected speech
    >= :data:`MIN_SPEECH_S`.
    """
    x = np.concatenate([read_mono_16k(f) for f in voice.files])
    db = frame_levels_db(x)
    if db.size == 0:
        return False
    spread = np.percentile(db, 95) - np.percentile(db, 10)
    speech = sum(e - s for s, e in speech_runs(x)) / SR
    return bool(spread >= MIN_RANGE_DB and speech >= MIN_SPEECH_S)


def voices_for_split(corpus: Path, split: str) -> list[Voice]:
    """The usable voices (:func:`usable`) of one split, in the fixed order of :func:`list_voices`."""
    return [v for v in list_voices(corpus) if v.split == split and usable(v)]


def voice_half(voice_id: str) -> str:
    """``"a"`` or ``"b"``: a fixed rule on the id (CRC-32 parity) that cuts a split's voices in two.

    To measure how well something *learned* from voices (the speaker projection) works on voices it
    never saw, without touching the test split: learn from conversations of one half, measure on
    conversations of the other.
    """
    return "a" if zlib.crc32(voice_id.encode()) % 2 == 0 else "b"


#: Speeds of the extra voices :func:`with_speed_variants` makes (Kaldi's x-vector recipes use 0.9 / 1.1).
SPEED_VARIANTS = (0.9, 1.1)


def with_speed_variants(voices: list[Voice]) -> list[Voice]:
    """The voices, each followed by its copies at the speeds of :data:`SPEED_VARIANTS`.

    A copy is a voice of its own (id ``"<id>@<speed>"``): played faster, its pitch and its formants
    rise together, as a shorter vocal tract's would. Only for *training* conversations (the speaker
    projection): more voices to learn from than the corpus' dev split holds. The evaluation sets
    never use them.
    """
    out: list[Voice] = []
    for v in voices:
        out.append(v)
        out.extend(Voice(f"{v.id}@{speed:g}", v.corpus, v.files, v.sex, v.split, speed) for speed in SPEED_VARIANTS)
    return out


def _split_long(runs: list[tuple[int, int]], max_len: int) -> list[list[tuple[int, int]]]:
    """Split a group of runs at its longest inner pause until every group is at most ``max_len``."""
    if runs[-1][1] - runs[0][0] <= max_len or len(runs) < 2:
        return [runs]
    pauses = [runs[i + 1][0] - runs[i][1] for i in range(len(runs) - 1)]
    k = int(np.argmax(pauses)) + 1
    return _split_long(runs[:k], max_len) + _split_long(runs[k:], max_len)


def phrases_of(x: np.ndarray, *, margin_s: float = 0.03) -> list[Phrase]:
    """Cut a clean recording into phrases at pauses of at least :data:`PHRASE_PAUSE_S`.

    Phrases longer than :data:`MAX_PHRASE_S` are split again at their longest inner pause. Each
    phrase keeps ``margin_s`` of audio before its first and after its last speech run.

    Parameters
    ----------
    x : ndarray, shape (n_samples,)
        Clean 16 kHz audio, already level-normalised.

    Returns
    -------
    list of Phrase
    """
    runs = speech_runs(x)
    if not runs:
        return []
    groups: list[list[tuple[int, int]]] = [[runs[0]]]
    for r in runs[1:]:
        if r[0] - groups[-1][-1][1] >= PHRASE_PAUSE_S * SR:
            groups.append([r])
        else:
            groups[-1].append(r)
    margin = int(margin_s * SR)
    out = []
    for g in groups:
        for part in _split_long(g, int(MAX_PHRASE_S * SR)):
            a = max(0, part[0][0] - margin)
            b = min(len(x), part[-1][1] + margin)
            out.append(Phrase(x[a:b].astype(np.float32), [(s - a, e - a) for s, e in part]))
    return out


def read_mono_16k(path: Path) -> np.ndarray:
    """A recording as float64 mono 16 kHz (other rates are resampled)."""
    from scipy.signal import resample_poly

    x, sr = sf.read(str(path), dtype="float64", always_2d=True)
    x = x.mean(axis=1)
    if sr != SR:
        g = np.gcd(sr, SR)
        x = resample_poly(x, SR // g, sr // g)
    return x


def active_level_db(x: np.ndarray, runs: list[tuple[int, int]]) -> float:
    """RMS level in dBFS of ``x`` over the given speech runs (samples)."""
    if not runs:
        return -120.0
    power = np.concatenate([np.square(x[s:e]) for s, e in runs]).mean()
    return float(10.0 * np.log10(power + 1e-20))


@lru_cache(maxsize=None)
def load_phrases(voice: Voice) -> tuple[Phrase, ...]:
    """All phrases of a voice, normalised so the voice's active speech level is :data:`LEVEL_DBFS`
    (played at the voice's ``speed``).

    Cached per voice (the simulator reuses voices across conversations).
    """
    signals = [read_mono_16k(f) for f in voice.files]
    if voice.speed != 1.0:
        from fractions import Fraction

        from scipy.signal import resample_poly

        ratio = Fraction(voice.speed).limit_denominator(100)  # 1.1 plays 11 samples in the time of 10
        signals = [resample_poly(x, ratio.denominator, ratio.numerator) for x in signals]
    runs = [speech_runs(x) for x in signals]
    power = np.concatenate([np.square(x[s:e]) for x, rr in zip(signals, runs) for s, e in rr] or [np.zeros(1)])
    level = 10.0 * np.log10(power.mean() + 1e-20)
    gain = 10.0 ** ((LEVEL_DBFS - level) / 20.0)
    out: list[Phrase] = []
    for x in signals:
        out.extend(phrases_of(x * gain))
    return tuple(out)


def short_units(phrases: tuple[Phrase, ...], lo_s: float = 0.3, hi_s: float = 0.9) -> list[Phrase]:
    """Backchannel-sized pieces of a voice: single words or word pairs of ``lo_s``..``hi_s`` seconds.

    Taken from every phrase: groups of speech runs with inner pauses < 0.1 s whose length is in range,
    and the first ``lo_s``..``hi_s`` of each phrase cut at its quietest frame in that range.
    """
    lo, hi = int(lo_s * SR), int(hi_s * SR)
    margin = int(0.03 * SR)
    out: list[Phrase] = []
    for p in phrases:
        groups: list[list[tuple[int, int]]] = [[p.runs[0]]]
        for r in p.runs[1:]:
            if r[0] - groups[-1][-1][1] >= 0.1 * SR:
                groups.append([r])
            else:
                groups[-1].append(r)
        for g in groups:
            if lo <= g[-1][1] - g[0][0] <= hi:
                a, b = max(0, g[0][0] - margin), min(len(p.audio), g[-1][1] + margin)
                out.append(Phrase(p.audio[a:b].copy(), [(s - a, e - a) for s, e in g]))
        # the head of the phrase, cut at its quietest 10 ms frame between lo and hi after speech onset
        s0 = p.speech_start
        if p.speech_end - s0 > hi + int(0.2 * SR):
            db = frame_levels_db(p.audio[s0 + lo : s0 + hi])
            if db.size:
                cut = s0 + lo + int(np.argmin(db)) * HOP
                out.append(cut_phrase(p, max(0, s0 - margin), cut))
    return [u for u in out if u.runs and lo - int(0.05 * SR) <= u.speech_end - u.speech_start <= hi]


def cut_phrase(p: Phrase, a: int, b: int, *, fade_s: float = 0.01) -> Phrase:
    """The part ``[a, b)`` (samples) of a phrase, with short fades; runs are clipped to the part."""
    audio = p.audio[a:b].astype(np.float32).copy()
    nf = min(int(fade_s * SR), len(audio) // 2)
    if nf > 0:
        ramp = np.linspace(0.0, 1.0, nf, dtype=np.float32)
        if a > 0:
            audio[:nf] *= ramp
        if b < len(p.audio):
            audio[-nf:] *= ramp[::-1]
    runs = []
    for s, e in p.runs:
        s2, e2 = max(s, a) - a, min(e, b) - a
        if e2 - s2 >= int(0.05 * SR):
            runs.append((s2, e2))
    return Phrase(audio, runs)
