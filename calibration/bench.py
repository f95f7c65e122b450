"""Speed and memory of the full analysis on one hour of audio, against the floor of any such analysis.

Usage::

    python -m calibration.bench [--minutes 60] [--repeat 3] [--me PROFILE] [--speakers N]

The recording (``calibration/work/bench-<minutes>min.flac``, 16 kHz FLAC, with its reference RTTM) is
made once from simulated dev conversations laid end to end (seed 99) and reused. Then, each in a fresh
Python process:

- **floor**: decode the file in 30 s blocks, one webrtcvad pass (mode 2, 30 ms int16 frames) and
  20 MFCCs every 10 ms (``listenkit.features.FeatureExtractor`` + ``mfcc``): what every analysis must
  at least do;
- **analysis**: ``listenkit.analyze_file(path)``; with ``--me PROFILE`` as a user with a voice profile
  does it (``listenkit calibrate --from-file TAKE --profile PROFILE`` makes one), which adds the
  profile's part in the diarization and the matching; with ``--speakers N`` as ``listenkit analyze
  --speakers N`` does it, which shows what a meeting where N voices are found costs (the
  re-segmentation's models, "both" states and Viterbi grow with the number of speakers; the hour
  of 26 voices in turn is found as two). The issue's targets are for the plain analysis.

The two alternate ``--repeat`` times (floor, analysis, floor, analysis, ...), so each ratio compares
passes run under the same load: on this shared machine one pair's ratio moved by +-0.2 from run to
run. Printed for the pair of the median ratio: wall time of the work (imports excluded) and of the
whole process, real-time factor, peak resident memory of the process (``VmHWM``, which is
``ru_maxrss`` without what Linux carries over from the parent through fork + exec); then every
pair's times and ratio, and the median ratio beside the targets (one hour in < 15 s, < 3x the
floor, peak < 400 MB, the highest of the runs). Results go to ``calibration/results/bench.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Sequence

from . import REPO, RESULTS, WORK, corpus_dir

TARGET_HOUR_S = 15.0
TARGET_RATIO = 3.0
TARGET_PEAK_MB = 400.0
BENCH_SEED = 99


def make_recording(minutes: float, path: Path) -> Path:
    """Write simulated dev conversations (16 kHz, no telephone band) end to end until ``minutes`` long.

    Also writes ``<path>.rttm`` (the concatenated references). Conversations are generated and
    written one at a time, so memory stays small. Does nothing when ``path`` exists.
    """
    import soundfile as sf

    from listenkit.timeline import Segment, format_rttm

    from .simulate import simulate_conversation
    from .voices import SR

    if path.is_file():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".part.flac")
    target = int(minutes * 60 * SR)
    written, index = 0, 0
    segments: list[Segment] = []
    with sf.SoundFile(str(tmp), "w", samplerate=SR, channels=1, format="FLAC", subtype="PCM_16") as out:
        while written < target:
            sim = simulate_conversation(corpus_dir(), "dev", BENCH_SEED, index, telephone_band=False)
            audio = sim.audio[: target - written]
            offset = written / SR
            segments += [
                Segment(round(g.start + offset, 3), round(min(g.end, len(audio) / SR) + offset, 3), g.speaker)
                for g in sim.segments
                if g.start < len(audio) / SR
            ]
            out.write(audio)
            written += len(audio)
            index += 1
            print(f"bench recording: {written / SR / 60:.1f} / {minutes:g} min", file=sys.stderr)
    path.with_suffix(".rttm").write_text(format_rttm(segments, path.stem), encoding="utf-8")
    tmp.replace(path)
    return path


# ------------------------------------------------------------------------------------------ child work
def floor_pass(path: Path) -> dict[str, Any]:
    """Decode + webrtcvad (mode 2, 30 ms) + 20 MFCCs per 10 ms over the whole file, in blocks."""
    import numpy as np
    import soundfile as sf
    import webrtcvad

    from listenkit.features import N_MELS, FeatureExtractor, mfcc

    vad = webrtcvad.Vad(2)
    fe = FeatureExtractor(sample_rate=16000)
    frame = 480  # 30 ms at 16 kHz
    n_speech = n_vad = n_mfcc = 0
    rest = np.zeros(0, dtype=np.int16)
    with sf.SoundFile(str(path)) as f:
        if f.samplerate != 16000:
            raise ValueError(f"{path}: the floor pass needs 16 kHz audio")
        for block in f.blocks(blocksize=16000 * 30, dtype="float32", always_2d=False):
            pcm = np.concatenate([rest, (np.clip(block, -1, 1) * 32767).astype(np.int16)])
            usable = len(pcm) // frame * frame
            data = pcm[:usable].tobytes()
            for i in range(0, usable * 2, frame * 2):
                n_speech += vad.is_speech(data[i : i + frame * 2], 16000)
                n_vad += 1
            rest = pcm[usable:]
            n_mfcc += mfcc(fe.process(block)[:, :N_MELS]).shape[0]
    n_mfcc += mfcc(fe.flush()[:, :N_MELS]).shape[0]
    return {"vad_frames": n_vad, "speech_frames": n_speech, "mfcc_frames": n_mfcc}


def analysis_pass(path: Path, me: Path | None = None, speakers: int | None = None) -> dict[str, Any]:
    """``listenkit.analyze_file(path)``, with the voice profile ``me`` and the number of speakers
    ``speakers`` when given."""
    import listenkit
    from listenkit.profile import VoiceProfile

    s = listenkit.analyze_file(path, voice=VoiceProfile.load(me) if me is not None else None, num_speakers=speakers)
    return {"duration_s": s.duration_s, "n_speakers": len(s.speakers), "n_segments": len(s.segments)}


def child(kind: str, path: Path, me: Path | None = None, speakers: int | None = None) -> None:
    """Run one pass and print a JSON line: work wall time, peak memory, what it found."""
    import resource

    t0 = time.perf_counter()
    found = floor_pass(path) if kind == "floor" else analysis_pass(path, me, speakers)
    wall = time.perf_counter() - t0
    maxrss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # kilobytes on Linux
    peak_mb = _vm_hwm_mb()
    print(json.dumps({"kind": kind, "wall_s": wall, "peak_mb": peak_mb if peak_mb else maxrss_mb,
                      "ru_maxrss_mb": maxrss_mb, **found}))


def _vm_hwm_mb() -> float | None:
    """Peak resident memory of this process image, MB (``VmHWM`` of ``/proc/self/status``; Linux only).

    Unlike ``ru_maxrss``, which Linux carries over from the parent through fork + exec (a parent that
    held a big array makes every child look big), ``VmHWM`` counts this program only.
    """
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return float(line.split()[1]) / 1024.0
    except OSError:
        pass
    return None


def run_child(kind: str, path: Path, me: Path | None = None, speakers: int | None = None) -> dict[str, Any]:
    """Run :func:`child` in a fresh interpreter; adds the whole process's wall time."""
    t0 = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "calibration.bench", "--child", kind, str(path)] + (["--me", str(me)] if me else [])
        + (["--speakers", str(speakers)] if speakers else []),
        cwd=str(REPO), capture_output=True, text=True,
    )
    total = time.perf_counter() - t0
    if proc.returncode != 0:
        raise RuntimeError(f"{kind} pass failed:\n{proc.stderr[-2000:]}")
    res = json.loads(proc.stdout.strip().splitlines()[-1])
    res["process_wall_s"] = total
    return res


def _median_index(values: list[float]) -> int:
    """Index of the median of ``values`` (the lower middle one for an even count)."""
    order = sorted(range(len(values)), key=values.__getitem__)
    return order[(len(values) - 1) // 2]


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: see the module docstring."""
    ap = argparse.ArgumentParser(prog="python -m calibration.bench", description=__doc__.split("\n")[0])
    ap.add_argument("--minutes", type=float, default=60.0, help="length of the recording (default 60)")
    ap.add_argument("--child", nargs=2, metavar=("KIND", "PATH"), help=argparse.SUPPRESS)
    ap.add_argument("--repeat", type=int, default=3, help="alternating floor / analysis runs (default 3; the median ratio counts)")
    ap.add_argument("--out", type=Path, help="where to write the results JSON (default calibration/results/"
                    "bench.json, bench-me.json with --me, bench-speakers-N.json with --speakers N)")
    ap.add_argument("--me", type=Path, metavar="PROFILE", help="analyse with this voice profile")
    ap.add_argument("--speakers", type=int, choices=range(1, 7), metavar="N",
                    help="analyse as with `listenkit analyze --speakers N` (1-6): the cost of N found speakers")
    args = ap.parse_args(argv)
    if args.child:
        child(args.child[0], Path(args.child[1]), args.me, args.speakers)
        return 0
    if args.me is not None:  # a bad profile is said once here, not as a failed child process
        from listenkit.errors import ProfileError
        from listenkit.profile import VoiceProfile

        try:
            VoiceProfile.load(args.me)
        except ProfileError as exc:
            print(f"bench: {exc}", file=sys.stderr)
            return 2
    if args.out is None:
        args.out = RESULTS / ("bench-me.json" if args.me else f"bench-speakers-{args.speakers}.json" if args.speakers
                              else "bench.json")
    path = make_recording(args.minutes, WORK / f"bench-{args.minutes:g}min.flac")
    # floor and analysis alternate, so that each ratio compares passes run under the same load
    pairs = [(run_child("floor", path), run_child("analysis", path, args.me, args.speakers)) for _ in range(args.repeat)]
    ratios = [full["wall_s"] / floor["wall_s"] for floor, full in pairs]
    middle = _median_index(ratios)  # the pair of the median ratio is shown
    (floor, full), ratio = pairs[middle], ratios[middle]
    peak_mb = max(full["peak_mb"] for _, full in pairs)
    hours = args.minutes / 60.0
    audio_s = args.minutes * 60.0
    rows = [
        ("floor", floor, None),
        ("analysis", full, f"target < {TARGET_HOUR_S * hours:.0f} s, < {TARGET_PEAK_MB:.0f} MB"),
    ]
    print(f"recording: {path} ({args.minutes:g} min); {args.repeat} alternating runs, the median ratio's shown"
          + (f"; analysis with the voice profile {args.me}" if args.me else "")
          + (f"; analysis told there are {args.speakers} speakers" if args.speakers else ""))
    print(f"{'pass':<9} {'work s':>8} {'process s':>10} {'RTF':>8} {'peak MB':>8}")
    for name, r, target in rows:
        print(
            f"{name:<9} {r['wall_s']:8.2f} {r['process_wall_s']:10.2f} {r['wall_s'] / audio_s:8.4f} {r['peak_mb']:8.0f}"
            + (f"   ({target})" if target else "")
        )
    if args.repeat > 1:
        print("all runs: " + ", ".join(f"{fl['wall_s']:.2f} / {fu['wall_s']:.2f} s = {r:.2f}x"
                                       for (fl, fu), r in zip(pairs, ratios)) + f"; highest peak {peak_mb:.0f} MB")
    ok = full["wall_s"] < TARGET_HOUR_S * hours and ratio < TARGET_RATIO and peak_mb < TARGET_PEAK_MB
    print(f"analysis / floor = {ratio:.2f}x, median of {args.repeat} (target < {TARGET_RATIO:g}x); "
          f"all targets {'met' if ok else 'NOT met'}")
    result = {
        "minutes": args.minutes,
        "voice_profile": str(args.me) if args.me else None,
        "speakers_given": args.speakers,
        "floor": floor,
        "analysis": full,
        "ratio": ratio,
        "runs": [{"floor": fl, "analysis": fu, "ratio": r} for (fl, fu), r in zip(pairs, ratios)],
        "peak_mb": peak_mb,
        "targets": {"hour_s": TARGET_HOUR_S, "ratio": TARGET_RATIO, "peak_mb": TARGET_PEAK_MB},
        "targets_met": ok,
        "load_average": os.getloadavg(),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
