"""Cost of live mode: CPU while listening with the view on, speech-to-view delay, memory over an hour.

Usage::

    python -m calibration.bench_live [--seconds 60] [--minutes 60] [--mic] [--finalize] [--skip-hour]

Three measurements, each of the real live path (:class:`listenkit.live.runner.LiveRunner` with the
journal on, exactly as ``listenkit live`` runs it), each in a fresh Python process:

1. **CPU while live** (``--seconds``, default 60): a conversation is paced through the live path at
   real time and the full panel (:class:`~listenkit.live.view.PanelView`) is drawn on a terminal
   console that writes to ``/dev/null``. CPU = process CPU time (all threads) / wall time, from the
   first to the last redraw (finalizing at the end is not "while live"). Target: at most 10 % of one
   core. With ``--mic`` the audio is captured through real PortAudio instead, from the virtual
   microphone of ``../shared/tools/virtual-mic`` (the conversation is played into it with paplay), so
   the capture callback's thread is counted too. Some costs grow with the session (the live rules
   run on everything said so far; the background diarization on up to ten minutes), so the same is
   measured over the last ``--seconds`` of the hour recording, the first 59 minutes fed at once.
2. **Speech-to-view delay**, from the same run: for every reference speech onset that follows at
   least :data:`ONSET_SILENCE_S` of silence, the wall time from the moment that audio was "spoken"
   (``t0 + onset``; the pacing hands each 0.1 s block on at the end of its audio, like a microphone)
   to the first redraw that shows someone talking. Target: under 1 s.
3. **Memory over one hour** (``--minutes``, default 60): the hour recording of ``calibration.bench``
   goes through the live path as fast as possible (view on, to ``/dev/null``); resident memory
   (``VmRSS``) is read at every 10 minutes of audio (between two runs of the background diarization,
   as nearly always at real-time pace), beside the bytes the Analyzer's frame store holds
   by design (41 float32 + 1 bool per 10 ms: ~59 MB per hour, the input of the final analysis), so
   that "flat" can be judged on the rest. ``--finalize`` also times the final analysis of the hour.

Results go to ``calibration/results/bench_live.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Sequence

from . import REPO, RESULTS, WORK, corpus_dir

TARGET_CPU = 0.10
TARGET_DELAY_S = 1.0
#: an onset counts for the delay when nobody spoke for this long before it (seconds)
ONSET_SILENCE_S = 1.0
VMIC = REPO.parent / "shared" / "tools" / "virtual-mic" / "virtual-mic.sh"


def _status_mb(key: str) -> float | None:
    """``VmRSS`` / ``VmHWM`` of this process, MB."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return float(line.split()[1]) / 1024.0
    except OSError:
        pass
    return None


class Probe:
    """A view that draws through the real panel and notes when (wall, CPU) and what it drew."""

    def __init__(self, inner: Any, *, on_update: Any = None) -> None:
        self.inner = inner
        self.on_update = on_update
        self.talking: list[tuple[float, bool]] = []
        self.start_wall = self.start_cpu = self.stop_wall = self.stop_cpu = 0.0
        self.updates = 0

    def start(self) -> None:
        self.inner.start()
        self.start_wall, self.start_cpu = time.monotonic(), time.process_time()

    def update(self, snapshot: Any) -> None:
        self.inner.update(snapshot)
        self.updates += 1
        self.talking.append((time.monotonic(), snapshot.talking is not None))
        if self.on_update is not None:
            self.on_update(snapshot)

    def nudge(self, nudge: Any) -> None:
        self.inner.nudge(nudge)

    def stop(self) -> None:
        self.stop_wall, self.stop_cpu = time.monotonic(), time.process_time()
        self.inner.stop()


def _panel() -> Any:
    from rich.console import Console

    from listenkit.live.view import PanelView

    null = open(os.devnull, "w")  # noqa: SIM115 (lives as long as the process)
    return PanelView(Console(file=null, force_terminal=True, width=100, color_system="truecolor"))


def _onsets(rttm: Path, limit_s: float) -> list[float]:
    """Reference speech onsets before ``limit_s`` that follow at least ONSET_SILENCE_S of silence."""
    from listenkit.timeline import read_rttm

    segs = sorted(read_rttm(rttm), key=lambda s: s.start)
    out, covered = [], -1e9
    for s in segs:
        if s.start >= limit_s - 1.0:
            break
        if s.start - covered >= ONSET_SILENCE_S:
            out.append(s.start)
        covered = max(covered, s.end)
    return out


def _delays(probe: Probe, t0: float, onsets: list[float]) -> list[float]:
    """Wall delay from each onset (at t0 + onset) to the first redraw showing someone talking."""
    out = []
    for onset in onsets:
        at = t0 + onset
        shown = next((w for w, talking in probe.talking if w >= at and talking), None)
        if shown is not None:
            out.append(shown - at)
    return out


# ------------------------------------------------------------------------------------------ children
def child_cpu(audio: Path, rttm: Path, seconds: float, use_mic: bool) -> dict[str, Any]:
    """Measurements 1 and 2 (see the module docstring) in this process."""
    from listenkit.live.capture import MicrophoneSource, PacedSource
    from listenkit.live.journal import JournalWriter
    from listenkit.live.runner import LiveRunner, LiveSettings
    from listenkit.sources import FileSource

    clock_start: list[float] = []

    def clock() -> float:
        t = time.monotonic()
        if not clock_start:
            clock_start.append(t)  # the paced source's t0: audio time 0 on the wall clock
        return t

    player = None
    if use_mic:
        source: Any = MicrophoneSource()
    else:
        source = PacedSource(FileSource(audio), speed=1.0, block_s=0.1, clock=clock)
    probe = Probe(_panel())
    with tempfile.TemporaryDirectory() as tmp:
        journal = JournalWriter({"source": source.name, "sample_rate": source.sample_rate}, folder=Path(tmp))
        runner = LiveRunner(source, LiveSettings(duration_s=seconds), view=probe, journal=journal)
        if use_mic:
            player_t0 = time.monotonic() + 0.5

            def start_player() -> None:
                nonlocal player
                while time.monotonic() < player_t0:
                    time.sleep(0.01)
                player = subprocess.Popen(["paplay", "--device=vmic_sink", str(audio)],
                                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                clock_start.append(time.monotonic())

            import threading

            threading.Thread(target=start_player, daemon=True).start()
        result = runner.run()
        t_final = time.monotonic() - probe.stop_wall
        journal.close(remove=True)
    if player is not None:
        player.terminate()
    wall = probe.stop_wall - probe.start_wall
    cpu = probe.stop_cpu - probe.start_cpu
    delays = _delays(probe, clock_start[0], _onsets(rttm, seconds)) if clock_start else []
    delays.sort()
    return {
        "source": "virtual microphone (PortAudio)" if use_mic else "file paced at real time",
        "audio": str(audio),
        "seconds": seconds,
        "wall_s": wall,
        "cpu_s": cpu,
        "cpu_fraction": cpu / wall if wall > 0 else None,
        "redraws": probe.updates,
        "finalize_s": t_final,
        "overflows": result.overflows,
        "n_onsets": len(delays),
        "delay_median_s": delays[len(delays) // 2] if delays else None,
        "delay_max_s": delays[-1] if delays else None,
        "delays_s": [round(d, 3) for d in delays],
        "live_speakers": len(runner.snapshot.speakers),
        "final_speakers": len(result.session.speakers),
    }


class _FastThenRealTime:
    """A source that hands the first ``fast_s`` seconds on at once, then the rest at real time."""

    def __init__(self, inner: Any, fast_s: float) -> None:
        from listenkit.live.capture import PacedSource

        self.name, self.sample_rate = inner.name, inner.sample_rate
        self._paced = PacedSource(inner, speed=0, block_s=0.1)
        self.fast_s = fast_s
        self.switched_at: tuple[float, float] | None = None  # (wall, cpu) when real time began

    overflows = dropped_blocks = 0
    lost = False

    def stop(self) -> None:
        self._paced.stop()

    def blocks(self) -> Any:
        done = 0
        t0 = 0.0
        for block in self._paced.blocks():
            if done >= self.fast_s * self.sample_rate:
                if self.switched_at is None:
                    self.switched_at = (time.monotonic(), time.process_time())
                    t0 = time.monotonic() - done / self.sample_rate
                wait = t0 + (done + block.size) / self.sample_rate - time.monotonic()
                if wait > 0:
                    time.sleep(wait)
            done += block.size
            yield block


def child_late(audio: Path, minutes: float, seconds: float) -> dict[str, Any]:
    """CPU while live with the panel during the last ``seconds`` of a ``minutes``-long session."""
    from listenkit.live.journal import JournalWriter
    from listenkit.live.runner import LiveRunner, LiveSettings
    from listenkit.sources import FileSource

    source = _FastThenRealTime(FileSource(audio), minutes * 60.0 - seconds)
    probe = Probe(_panel())
    with tempfile.TemporaryDirectory() as tmp:
        journal = JournalWriter({"source": source.name, "sample_rate": source.sample_rate}, folder=Path(tmp))
        runner = LiveRunner(source, LiveSettings(duration_s=minutes * 60.0), view=probe, journal=journal)
        runner.analyzer.finalize = lambda voice=None: _empty_session()  # type: ignore[method-assign]
        runner.run()
        journal.close(remove=True)
    wall0, cpu0 = source.switched_at or (probe.start_wall, probe.start_cpu)
    wall, cpu = probe.stop_wall - wall0, probe.stop_cpu - cpu0
    return {"minutes": minutes, "seconds": seconds, "wall_s": wall, "cpu_s": cpu,
            "cpu_fraction": cpu / wall if wall > 0 else None, "background_runs": runner.anchors_done}


def child_hour(audio: Path, minutes: float, finalize: bool) -> dict[str, Any]:
    """Measurement 3 in this process."""
    import numpy as np

    from listenkit.live.capture import PacedSource
    from listenkit.live.journal import JournalWriter
    from listenkit.live.runner import LiveRunner, LiveSettings
    from listenkit.sources import FileSource

    marks: list[dict[str, Any]] = []
    next_mark = [600.0]
    runner_ref: list[Any] = []

    def mark(elapsed_s: float) -> None:
        # between two background diarization runs, as nearly all the time at real-time pace (at this
        # feeding speed the worker is busy nearly all the time)
        deadline = time.monotonic() + 60.0
        while runner_ref[0]._anchors.busy and time.monotonic() < deadline:
            time.sleep(0.05)
        rows, speech = runner_ref[0].analyzer.frames()
        store = rows.nbytes + speech.nbytes  # the rows kept for the final analysis (by design)
        marks.append({"audio_min": round(elapsed_s / 60), "rss_mb": _status_mb("VmRSS"),
                      "frame_store_mb": store / 2**20, "online_labels_mb": runner_ref[0].online.frames_done / 2**20,
                      "wall_s": time.monotonic() - t_start, "cpu_s": time.process_time() - c_start})

    def on_update(snapshot: Any) -> None:
        if snapshot.elapsed_s >= next_mark[0]:
            mark(snapshot.elapsed_s)
            next_mark[0] += 600.0

    source = PacedSource(FileSource(audio), speed=0, block_s=0.1)
    probe = Probe(_panel(), on_update=on_update)
    inner_stop = probe.stop

    def stop_and_mark() -> None:  # the last mark: the end of the hour
        if not marks or marks[-1]["audio_min"] < round(minutes):
            mark(runner_ref[0].analyzer.elapsed_s)
        inner_stop()

    probe.stop = stop_and_mark  # type: ignore[method-assign]
    with tempfile.TemporaryDirectory() as tmp:
        journal = JournalWriter({"source": source.name, "sample_rate": source.sample_rate}, folder=Path(tmp))
        settings = LiveSettings(duration_s=minutes * 60.0, refresh_s=0.25)
        runner = LiveRunner(source, settings, view=probe, journal=journal)
        runner_ref.append(runner)
        # finalize is what ends run(); without --finalize, stop the analysis before it (so the hour
        # measures the live part only)
        if not finalize:
            runner.analyzer.finalize = lambda voice=None: _empty_session()  # type: ignore[method-assign]
        rss_start = _status_mb("VmRSS")
        t_start, c_start = time.monotonic(), time.process_time()
        result = runner.run()
        t_end = time.monotonic()
        journal_mb = journal.path.stat().st_size / 2**20
        journal.close(remove=True)
    return {
        "minutes": minutes,
        "rss_start_mb": rss_start,
        "marks": marks,
        "feed_wall_s": probe.stop_wall - t_start,
        "feed_cpu_s": probe.stop_cpu - c_start,
        "finalize_s": (t_end - probe.stop_wall) if finalize else None,
        "peak_mb": _status_mb("VmHWM"),
        "journal_mb": journal_mb,
        "n_speakers_final": len(result.session.speakers) if finalize else None,
        "n_speakers_live": int(np.max([len(runner.snapshot.speakers), 0])),
    }


def _empty_session() -> Any:
    from listenkit.session import Session

    return Session(source="bench", duration_s=0.0, sample_rate=16000)


# ------------------------------------------------------------------------------------------ driver
def _run_child(args: list[str], env: dict[str, str] | None = None) -> dict[str, Any]:
    proc = subprocess.run([sys.executable, "-m", "calibration.bench_live", "--child", *args], cwd=str(REPO), capture_output=True,
                          text=True, env=env)
    if proc.returncode != 0:
        raise RuntimeError(f"bench_live {args[0]} failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _cpu_audio(seconds: float) -> tuple[Path, Path]:
    """A real two-person conversation (16 kHz WAV, for paplay too) and its reference."""
    import soundfile as sf

    src = corpus_dir() / "conversations" / "spokenwoz-mul1011.flac"
    out = WORK / "bench-live-spokenwoz.wav"
    if not out.is_file():
        x, sr = sf.read(src, dtype="int16")
        out.parent.mkdir(parents=True, exist_ok=True)
        sf.write(out, x, sr, subtype="PCM_16")
    return out, src.with_suffix(".rttm")


def _mic_env(folder: Path) -> dict[str, str]:
    server = f"unix:{folder}/pulse/native"
    (folder / "asoundrc").write_text(f'pcm.!default {{\n type pulse\n server "{server}"\n}}\n'
                                     f'ctl.!default {{\n type pulse\n server "{server}"\n}}\n')
    return {**os.environ, "VMIC_DIR": str(folder), "PULSE_SERVER": server,
            "ALSA_CONFIG_PATH": f"/usr/share/alsa/alsa.conf:{folder}/asoundrc"}


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: see the module docstring."""
    ap = argparse.ArgumentParser(prog="python -m calibration.bench_live", description=__doc__.split("\n")[0])
    ap.add_argument("--seconds", type=float, default=60.0, help="length of the real-time run (default 60)")
    ap.add_argument("--minutes", type=float, default=60.0, help="length of the memory run (default 60)")
    ap.add_argument("--mic", action="store_true", help="also measure through PortAudio with the virtual microphone")
    ap.add_argument("--finalize", action="store_true", help="also time the final analysis of the hour")
    ap.add_argument("--skip-hour", action="store_true", help="skip the memory run")
    ap.add_argument("--skip-cpu", action="store_true", help="skip the real-time run")
    ap.add_argument("--out", type=Path, default=RESULTS / "bench_live.json")
    ap.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        kind, *rest = args.child
        if kind in ("cpu", "mic"):
            res = child_cpu(Path(rest[0]), Path(rest[1]), float(rest[2]), kind == "mic")
        elif kind == "late":
            res = child_late(Path(rest[0]), float(rest[1]), float(rest[2]))
        else:
            res = child_hour(Path(rest[0]), float(rest[1]), rest[2] == "1")
        print(json.dumps(res))
        return 0

    results: dict[str, Any] = {"load_average_before": os.getloadavg()}
    audio, rttm = _cpu_audio(args.seconds)
    runs = [] if args.skip_cpu else [("file", _run_child(["cpu", str(audio), str(rttm), str(args.seconds)]))]
    if args.mic and not args.skip_cpu:
        if not VMIC.is_file() or shutil.which("pulseaudio") is None:
            print("virtual microphone not available: --mic skipped", file=sys.stderr)
        else:
            with tempfile.TemporaryDirectory(prefix="vmic-") as tmp:
                env = _mic_env(Path(tmp))
                subprocess.run(["bash", str(VMIC), "start"], env=env, check=True, capture_output=True)
                try:
                    runs.append(("mic", _run_child(["mic", str(audio), str(rttm), str(args.seconds)], env=env)))
                finally:
                    subprocess.run(["bash", str(VMIC), "stop"], env=env, capture_output=True)
    for name, r in runs:
        results[f"cpu_{name}"] = r
        print(f"[{r['source']}] {r['seconds']:.0f} s live with the panel: CPU {100 * r['cpu_fraction']:.1f} % of one core "
              f"(target <= {100 * TARGET_CPU:.0f} %), {r['redraws']} redraws; speech-to-view delay median "
              f"{r['delay_median_s']:.2f} s, max {r['delay_max_s']:.2f} s over {r['n_onsets']} onsets "
              f"(target < {TARGET_DELAY_S:g} s); overflows {r['overflows']}")
    if not args.skip_hour:
        from .bench import make_recording

        hour = make_recording(args.minutes, WORK / f"bench-{args.minutes:g}min.flac")
        late = _run_child(["late", str(hour), str(args.minutes), str(args.seconds)])
        results["cpu_late"] = late
        print(f"[file paced at real time, the last {args.seconds:.0f} s of a {args.minutes:g} min session] CPU "
              f"{100 * late['cpu_fraction']:.1f} % of one core (target <= {100 * TARGET_CPU:.0f} %)")
        h = _run_child(["hour", str(hour), str(args.minutes), "1" if args.finalize else "0"])
        results["hour"] = h
        print(f"[{args.minutes:g} min fed as fast as possible, view on] start RSS {h['rss_start_mb']:.0f} MB; "
              f"fed in {h['feed_wall_s']:.0f} s ({h['feed_cpu_s']:.0f} s CPU); journal {h['journal_mb']:.0f} MB")
        print(f"{'audio min':>9} {'RSS MB':>8} {'frame store MB':>15} {'RSS - store':>12}")
        for m in h["marks"]:
            print(f"{m['audio_min']:>9} {m['rss_mb']:8.0f} {m['frame_store_mb']:15.0f} {m['rss_mb'] - m['frame_store_mb']:12.0f}")
        if h["finalize_s"] is not None:
            print(f"final analysis of the hour: {h['finalize_s']:.0f} s, peak {h['peak_mb']:.0f} MB")
    results["load_average_after"] = os.getloadavg()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")
    print(f"results: {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
