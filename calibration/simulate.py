"""Simulated conversations with exact who-spoke-when references, as a laptop microphone hears them.

Usage::

    python -m calibration.simulate --split dev --n 26 --seed 1 --out calibration/work/sim-dev
    python -m calibration.simulate --remix-spokenwoz --n 4 --seed 1 --out calibration/work/spokenwoz-remix

Each conversation ``<split>-<index>`` is built from the voices of one split (:mod:`calibration.voices`)
with the turn-taking model of :mod:`calibration.turns`, then rendered (:func:`render`): the user (one
speaker, drawn at random) dry and near, the others reverberant and about 6 dB quieter, background
noise at 10-30 dB SNR, occasional transients, slow level drift, and one file in five telephone band at
8 kHz. Its reference RTTM holds each speaker's speech runs, found by energy on the clean source
(:func:`calibration.voices.speech_runs`) and merged across pauses shorter than PAUSE_BRIDGE (0.2 s).
Conversation ``i`` of a set uses the generator ``default_rng([seed, split code, i])``, so the same seed
gives identical files and a longer set starts with the files of a shorter one. Every fourth
conversation (index 3, 7, ...) has 3 or 4 speakers, the others 2; ``--speakers N`` gives every
conversation N speakers instead (1: one person talking alone, with pauses and silences, to measure
how often one voice is taken for two).
"""

from __future__ import annotations

import argparse
import sys
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import soundfile as sf

from listenkit.params import DEFAULT_RULES
from listenkit.timeline import Segment, format_rttm, read_rttm

from . import corpus_dir
from .acoustics import add_transients, drift_gain, load_rir, noise_bed, reverberate, rms_db, telephone
from .manifest import write_manifest
from .turns import Placement, Style, TurnBuilder
from .voices import SR, Voice, load_phrases, short_units, voice_half, voices_for_split, with_speed_variants

SPLIT_CODE = {"dev": 1, "test": 2, "spokenwoz": 3, "bench": 4}
RICH_CORPUS = "librispeech-test-other"  # voices with about a minute of speech each


@dataclass
class Simulated:
    """A rendered conversation.

    Attributes
    ----------
    audio : ndarray of float32, shape (n_samples,)
        The microphone signal, in [-1, 1].
    sample_rate : int
        16000, or 8000 for telephone-band files.
    segments : list of Segment
        The reference (talkspurts), speaker labels = voice ids.
    info : dict
        What was drawn (voices, shares, SNR, room, ...), for the manifest.
    """

    audio: np.ndarray
    sample_rate: int
    segments: list[Segment]
    info: dict[str, Any] = field(default_factory=dict)

    @property
    def duration_s(self) -> float:
        """Length in seconds."""
        return len(self.audio) / self.sample_rate


# --------------------------------------------------------------------------------------------- reference
def merge_runs(runs: list[tuple[int, int]], bridge: int) -> list[tuple[int, int]]:
    """Union of sample intervals, joining those less than ``bridge`` samples apart."""
    out: list[list[int]] = []
    for s, e in sorted(runs):
        if out and s - out[-1][1] < bridge:
            out[-1][1] = max(out[-1][1], e)
        else:
            out.append([s, e])
    return [(s, e) for s, e in out]


def reference_segments(placements: list[Placement], labels: Sequence[str]) -> list[Segment]:
    """Reference talkspurts: per speaker, the union of the placed pieces' speech runs with pauses
    shorter than PAUSE_BRIDGE bridged. Times in seconds, rounded to 1 ms."""
    bridge = int(round(DEFAULT_RULES.pause_bridge * SR))
    segs = []
    for k, label in enumerate(labels):
        runs = [r for pl in placements if pl.speaker == k for r in pl.runs()]
        for s, e in merge_runs(runs, bridge):
            segs.append(Segment(round(s / SR, 3), round(e / SR, 3), label))
    segs.sort(key=lambda g: (g.start, g.speaker))
    return segs


def speech_mask(segments: list[Segment], n: int) -> np.ndarray:
    """Boolean mask of the samples (16 kHz) inside any segment."""
    mask = np.zeros(n, dtype=bool)
    for g in segments:
        mask[int(g.start * SR) : int(g.end * SR)] = True
    return mask


# ----------------------------------------------------------------------------------------------- recipe
def draw_shares(rng: np.random.Generator, n: int) -> np.ndarray:
    """Target talk shares: one speaker 100 %; two 15-85 %; more Dirichlet(2), each >= 8 %, max <= 85 %."""
    if n == 1:
        return np.ones(1)
    if n == 2:
        p = rng.uniform(0.15, 0.85)
        return np.array([p, 1.0 - p])
    while True:
        s = rng.dirichlet(np.full(n, 2.0))
        if s.min() >= 0.08 and s.max() <= 0.85:
            return s


def pick_voices(rng: np.random.Generator, voices: list[Voice], shares: np.ndarray) -> list[Voice]:
    """Distinct voices; the one with the largest share is a voice with a minute of material 60 % of the time."""
    rich = [v for v in voices if v.corpus == RICH_CORPUS]
    out: dict[int, Voice] = {}
    for rank, k in enumerate(np.argsort(-shares)):
        pool = rich if (rank == 0 and rich and rng.random() < 0.6) else voices
        pool = [v for v in pool if v not in out.values()]
        out[int(k)] = pool[int(rng.integers(len(pool)))]
    return [out[k] for k in range(len(shares))]


def _noise_files(corpus: Path, kind: str) -> list[Path]:
    return sorted((corpus / "noise" / kind).glob("*.flac"))


# ----------------------------------------------------------------------------------------------- render
def render(
    rng: np.random.Generator,
    placements: list[Placement],
    n_speakers: int,
    corpus: Path,
    *,
    user: int,
    tail_s: float,
    telephone_band: bool,
    segments: list[Segment],
) -> tuple[np.ndarray, int, dict[str, Any]]:
    """Mix the placed clean speech into a laptop-microphone signal.

    Parameters
    ----------
    user : int
        The speaker near the microphone (dry, 0 dB); the others get a room impulse response and
        -6 +/- 2 dB.
    tail_s : float
        Seconds of background after the last speech.
    telephone_band : bool
        Band-pass 300-3400 Hz and return 8 kHz audio.
    segments : list of Segment
        The reference, to measure the active speech level for the SNR.

    Returns
    -------
    audio : ndarray of float32, shape (n_samples,)
    sample_rate : int
    info : dict
    """
    n = max(pl.end for pl in placements) + int(tail_s * SR)
    rirs = _noise_files(corpus, "rir")
    order = rng.permutation(len(rirs))
    mix = np.zeros(n)
    info: dict[str, Any] = {"gains_db": [], "rooms": []}
    for k in range(n_speakers):
        track = np.zeros(n)
        for pl in placements:
            if pl.speaker == k:
                track[pl.start : pl.end] += pl.phrase.audio
        if k == user:
            gain_db, room = 0.0, None
        else:
            gain_db = -6.0 + rng.uniform(-2.0, 2.0)
            rir_path = rirs[int(order[k % len(order)])]
            track = reverberate(track, load_rir(rir_path))
            room = rir_path.stem
        mix += track * 10.0 ** (gain_db / 20.0)
        info["gains_db"].append(round(gain_db, 1))
        info["rooms"].append(room)
    mask = speech_mask(segments, n)
    speech_db = rms_db(mix[mask]) if mask.any() else rms_db(mix)
    backgrounds = _noise_files(corpus, "background")
    bg = backgrounds[int(rng.integers(len(backgrounds)))]
    snr = rng.uniform(10.0, 30.0)
    noise = noise_bed(bg, n, rng)
    noise *= 10.0 ** ((speech_db - snr - rms_db(noise)) / 20.0)
    y = mix + noise
    info.update(background=bg.stem, snr_db=round(snr, 1))
    rate = rng.uniform(0.0, 1.0 / 30.0)
    info["transients"] = add_transients(
        y, _noise_files(corpus, "transients"), rng, rate_per_s=rate, peak=float(np.percentile(np.abs(mix), 99.9))
    )
    depth = rng.uniform(0.0, 4.0)
    y *= drift_gain(n, rng, depth_db=depth)
    info["drift_db"] = round(depth, 1)
    sr = SR
    if telephone_band:
        y, sr = telephone(y), SR // 2
    level = rng.uniform(-32.0, -20.0)
    active = y[mask[:: SR // sr][: len(y)]] if mask.any() else y
    y *= 10.0 ** ((level - rms_db(active)) / 20.0)
    peak = np.max(np.abs(y))
    if peak > 0.97:
        y *= 0.97 / peak
    info["level_dbfs"] = round(rms_db(y[mask[:: SR // sr][: len(y)]]) if mask.any() else rms_db(y), 1)
    return y.astype(np.float32), sr, info


def simulate_conversation(
    corpus: Path,
    split: str,
    seed: int,
    index: int,
    *,
    n_speakers: int | None = None,
    duration_s: float | None = None,
    telephone_band: bool | None = None,
    style: Style = Style(),
    speed_variants: bool = False,
    half: str | None = None,
) -> Simulated:
    """Build and render one conversation.

    Parameters
    ----------
    corpus : Path
        The corpus folder.
    split : {"dev", "test"}
        Which voices to use.
    seed, index : int
        The generator is ``default_rng([seed, SPLIT_CODE[split], index])``.
    n_speakers : int, optional
        2 for most indices, 3 or 4 for every fourth (index % 4 == 3) unless given.
    duration_s : float, optional
        Target length (90-240 s drawn unless given); the conversation ends with the turn in progress.
    telephone_band : bool, optional
        Drawn (probability 0.2) unless given.
    speed_variants : bool
        Draw from the split's voices and their copies at other speeds
        (:func:`calibration.voices.with_speed_variants`): for training conversations only.
    half : {"a", "b"}, optional
        Only the voices of that half of the split (:func:`calibration.voices.voice_half`).

    Returns
    -------
    Simulated
    """
    rng = np.random.default_rng([seed, SPLIT_CODE[split], index])
    voices = voices_for_split(corpus, split)
    if half is not None:
        voices = [v for v in voices if voice_half(v.id) == half]
    if speed_variants:
        voices = with_speed_variants(voices)
    if n_speakers is None:
        n_speakers = int(rng.choice([3, 4], p=[0.6, 0.4])) if index % 4 == 3 else 2
    shares = draw_shares(rng, n_speakers)
    chosen = pick_voices(rng, voices, shares)
    if duration_s is None:
        duration_s = rng.uniform(90.0, 235.0)
    tel = bool(rng.random() < 0.2) if telephone_band is None else telephone_band
    bc_rate, liveliness = rng.uniform(0.3, 1.6), rng.uniform(0.3, 2.0)
    phrases = [load_phrases(v) for v in chosen]
    units = [short_units(p) for p in phrases]
    builder = TurnBuilder(rng, phrases, units, shares, style, bc_rate=bc_rate, liveliness=liveliness)
    placements = builder.build(duration_s)
    labels = [v.id for v in chosen]
    segments = reference_segments(placements, labels)
    user = int(rng.integers(n_speakers))
    audio, sr, acoustic = render(
        rng, placements, n_speakers, corpus, user=user, tail_s=rng.uniform(0.5, 2.0),
        telephone_band=tel, segments=segments,
    )
    talk = {lab: 0.0 for lab in labels}
    for g in segments:
        talk[g.speaker] += g.duration
    total = sum(talk.values()) or 1.0
    info = {
        "voices": [{"id": v.id, "corpus": v.corpus, "sex": v.sex} for v in chosen],
        "user_speaker": labels[user],
        "target_shares": [round(float(s), 3) for s in shares],
        "shares": {lab: round(t / total, 3) for lab, t in talk.items()},
        "bc_rate": round(bc_rate, 2),
        "liveliness": round(liveliness, 2),
        "telephone": tel,
        "sample_rate": sr,
        **acoustic,
    }
    return Simulated(audio, sr, segments, info)


def describe(sim: Simulated) -> str:
    """One line saying what a simulated conversation is."""
    i = sim.info
    who = ", ".join(
        f"{v['id']}{'*' if v['id'] == i['user_speaker'] else ''} {round(100 * i['shares'][v['id']])}%"
        for v in i["voices"]
    )
    extra = [f"SNR {i['snr_db']:.0f} dB {i['background']}", f"drift {i['drift_db']} dB"]
    if i["transients"]:
        extra.append(f"{len(i['transients'])} transients")
    if i["telephone"]:
        extra.append("telephone 8 kHz")
    n = len(i["voices"])
    return f"{n} speaker{'s' if n != 1 else ''} ({who}; * = user, dry and near), {sim.duration_s:.0f} s, " + ", ".join(extra)


def reference_event_counts(segments: list[Segment]) -> dict[str, int] | None:
    """Counts of reference events by type, when listenkit.conversation is available."""
    try:
        from listenkit.conversation import analyze_conversation
    except ImportError:
        return None
    counts: dict[str, int] = {}
    for ev in analyze_conversation(segments).events:
        key = ev.type
        if ev.type == "interruption":
            key = "interruption_successful" if ev.successful else "interruption_unsuccessful"
        counts[key] = counts.get(key, 0) + 1
    return counts


def write_audio(path: Path, audio: np.ndarray, sample_rate: int) -> None:
    """16-bit FLAC."""
    sf.write(str(path), audio, sample_rate, format="FLAC", subtype="PCM_16")


def _one(args: tuple[Path, str, int, int, Path, bool | None, int | None, bool, str | None]) -> dict[str, Any]:
    corpus, split, seed, index, out, telephone_band, n_speakers, speed_variants, half = args
    sim = simulate_conversation(corpus, split, seed, index, telephone_band=telephone_band, n_speakers=n_speakers,
                                speed_variants=speed_variants, half=half)
    name = f"{split}-{index:03d}"
    write_audio(out / f"{name}.flac", sim.audio, sim.sample_rate)
    (out / f"{name}.rttm").write_text(format_rttm(sim.segments, name), encoding="utf-8")
    row = {
        "audio": f"{name}.flac",
        "rttm": f"{name}.rttm",
        "n_speakers": len(sim.info["voices"]),
        "split": split,
        "description": describe(sim),
        "seed": seed,
        "index": index,
        "duration_s": round(sim.duration_s, 2),
        **sim.info,
    }
    counts = reference_event_counts(sim.segments)
    if counts is not None:
        row["reference_events"] = counts
    return row


def simulate_set(corpus: Path, split: str, n: int, seed: int, out: Path, *, jobs: int = 1,
                 telephone_band: bool | None = None, n_speakers: int | None = None,
                 speed_variants: bool = False, half: str | None = None) -> Path:
    """Write ``n`` conversations of one split, their RTTMs and ``manifest.jsonl`` into ``out``
    (``telephone_band``: every file telephone band when True, none when False, drawn when None;
    ``n_speakers``: every file with that many speakers, or the usual mix when None;
    ``speed_variants``: voices at other speeds too, for training sets; ``half``: only one half of
    the split's voices)."""
    out.mkdir(parents=True, exist_ok=True)
    tasks = [(corpus, split, seed, i, out, telephone_band, n_speakers, speed_variants, half) for i in range(n)]
    if jobs > 1:
        with ProcessPoolExecutor(max_workers=min(jobs, 2)) as pool:
            rows = list(pool.map(_one, tasks))
    else:
        rows = [_one(t) for t in tasks]
    for row in rows:
        print(f"{row['audio']}: {row['description']}", file=sys.stderr)
    return write_manifest(out / "manifest.jsonl", rows)


# --------------------------------------------------------------------------------------- spokenwoz remix
SPOKENWOZ = "spokenwoz-mul1011"


def remix_spokenwoz(corpus: Path, n: int, seed: int, out: Path) -> Path:
    """Remix the two-channel SpokenWOZ dialogue ``n`` times at other levels, with reverb and noise.

    Each remix: one channel (drawn) is the user, dry at 0 dB; the other is reverberant at -12..0 dB;
    background noise at 10-30 dB SNR, transients, drift; 16 kHz. The reference is the corpus RTTM with
    the uri renamed. Writes ``manifest.jsonl`` in ``out`` and returns its path.
    """
    from scipy.signal import resample_poly

    conv = corpus / "conversations"
    x8, sr8 = sf.read(str(conv / f"{SPOKENWOZ}.two-channel-8k.flac"), dtype="float64", always_2d=True)
    channels = [resample_poly(x8[:, c], SR // sr8, 1) for c in range(x8.shape[1])]
    ref = read_rttm(conv / f"{SPOKENWOZ}.rttm")
    out.mkdir(parents=True, exist_ok=True)
    rows = []
    for i in range(n):
        rng = np.random.default_rng([seed, SPLIT_CODE["spokenwoz"], i])
        user = i % 2  # alternate which voice is near the microphone
        other_db = rng.uniform(-12.0, 0.0)
        rirs = _noise_files(corpus, "rir")
        rir = rirs[int(rng.integers(len(rirs)))]
        norm = [c / 10.0 ** (rms_db(c[np.abs(c) > 1e-4]) / 20.0) * 0.05 for c in channels]
        mix = norm[user] + 10.0 ** (other_db / 20.0) * reverberate(norm[1 - user], load_rir(rir))
        mask = speech_mask(ref, len(mix))
        bgs = _noise_files(corpus, "background")
        bg = bgs[int(rng.integers(len(bgs)))]
        snr = rng.uniform(10.0, 30.0)
        noise = noise_bed(bg, len(mix), rng)
        noise *= 10.0 ** ((rms_db(mix[mask]) - snr - rms_db(noise)) / 20.0)
        y = mix + noise
        add_transients(y, _noise_files(corpus, "transients"), rng, rate_per_s=1 / 40, peak=float(np.max(np.abs(mix))))
        y *= drift_gain(len(y), rng, depth_db=rng.uniform(0.0, 4.0))
        y *= 0.5 / max(1e-9, np.max(np.abs(y)))
        name = f"{SPOKENWOZ}-remix{i:02d}"
        write_audio(out / f"{name}.flac", y.astype(np.float32), SR)
        (out / f"{name}.rttm").write_text(format_rttm(ref, name), encoding="utf-8")
        labels = sorted({g.speaker for g in ref})
        desc = (
            f"SpokenWOZ MUL1011 remix: user {labels[user]} dry, other {other_db:+.0f} dB in {rir.stem}, "
            f"SNR {snr:.0f} dB {bg.stem}"
        )
        rows.append({"audio": f"{name}.flac", "rttm": f"{name}.rttm", "n_speakers": 2, "split": "spokenwoz",
                     "description": desc, "seed": seed, "index": i, "user_speaker": labels[user]})
        print(f"{name}: {desc}", file=sys.stderr)
    return write_manifest(out / "manifest.jsonl", rows)


# -------------------------------------------------------------------------------------------------- CLI
def main(argv: Sequence[str] | None = None) -> int:
    """Command line: see the module docstring."""
    ap = argparse.ArgumentParser(prog="python -m calibration.simulate", description=__doc__.split("\n")[0])
    ap.add_argument("--split", choices=["dev", "test"], default="dev")
    ap.add_argument("--n", type=int, default=26, help="number of conversations (default 26)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--out", type=Path, required=True, help="output folder (audio, RTTMs, manifest.jsonl)")
    ap.add_argument("--remix-spokenwoz", action="store_true", help="remix the two-channel SpokenWOZ dialogue")
    ap.add_argument("--jobs", type=int, default=1, choices=[1, 2], help="processes (at most 2)")
    ap.add_argument("--telephone", action="store_true",
                    help="every conversation telephone band at 8 kHz (to train the telephone-band projection)")
    ap.add_argument("--speakers", type=int, choices=[1, 2, 3, 4], default=None,
                    help="every conversation with this many speakers (default: 2, and 3 or 4 in every fourth)")
    ap.add_argument("--speed-variants", action="store_true",
                    help="draw voices at 0.9 and 1.1 times their speed too, as voices of their own (training sets only)")
    ap.add_argument("--voice-half", choices=["a", "b"], default=None,
                    help="only one half of the split's voices (to test a learned model on voices it never saw)")
    args = ap.parse_args(argv)
    corpus = corpus_dir()
    if not (corpus / "speakers").is_dir():
        print(f"simulate: corpus not found at {corpus}", file=sys.stderr)
        return 2
    if args.remix_spokenwoz:
        path = remix_spokenwoz(corpus, args.n, args.seed, args.out)
    else:
        path = simulate_set(corpus, args.split, args.n, args.seed, args.out, jobs=args.jobs,
                            telephone_band=True if args.telephone else None, n_speakers=args.speakers,
                            speed_variants=args.speed_variants, half=args.voice_half)
    print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
