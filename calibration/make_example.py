"""Build the short example recording shipped in ``examples/`` (run once; its output is committed).

A 75 s two-person conversation simulated from LibriSpeech voices only (CC BY 4.0), so that it can be
shipped with attribution. ``python -m calibration.make_example [--corpus ../shared/corpus]``
writes ``examples/conversation.flac``, ``examples/conversation.rttm`` and ``examples/ATTRIBUTION.md``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from listenkit.timeline import format_rttm

from .simulate import simulate_conversation, write_audio

HERE = Path(__file__).resolve().parent
EXAMPLES = HERE.parent / "examples"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--corpus", type=Path, default=HERE.parent.parent / "shared" / "corpus")
    ap.add_argument("--seed", type=int, default=2026)
    args = ap.parse_args(argv)
    for index in range(200):
        sim = simulate_conversation(args.corpus, "dev", args.seed, index, n_speakers=2, duration_s=75.0,
                                    telephone_band=False)
        voices = sim.info["voices"]
        if all(v["corpus"].startswith("librispeech") for v in voices):
            break
    else:
        raise SystemExit("no LibriSpeech-only conversation found")
    EXAMPLES.mkdir(exist_ok=True)
    write_audio(EXAMPLES / "conversation.flac", sim.audio, sim.sample_rate)
    (EXAMPLES / "conversation.rttm").write_text(format_rttm(sim.segments, "conversation"))
    names = ", ".join(f"{v['id']} ({v['corpus']})" for v in voices)
    rooms = ", ".join(r for r in sim.info.get("rooms", []) if r) or "none"
    taps = ", ".join(name for _, name in sim.info.get("transients", [])) or "none"
    noises = (f"background noise {sim.info.get('background')} at {sim.info.get('snr_db')} dB SNR; room impulse "
              f"response(s) {rooms}; transients {taps}")
    (EXAMPLES / "ATTRIBUTION.md").write_text(
        "# The example recording\n\n"
        f"`conversation.flac` is a simulated two-person conversation ({sim.duration_s:.0f} s, 16 kHz mono) built by\n"
        f"`python -m calibration.make_example --seed {args.seed}` (conversation index {index}).\n"
        "`conversation.rttm` is its exact who-spoke-when reference.\n\n"
        f"- Voices: {names}. From LibriSpeech (Panayotov et al., 2015, http://www.openslr.org/12),\n"
        "  licensed CC BY 4.0; utterances were cut, levelled, placed in time and mixed.\n"
        f"- Room and noise: {noises or 'see the simulator'}; from the pyroomacoustics, audiomentations and\n"
        "  speechbrain example data (CC BY 4.0 / MIT / Apache-2.0), as listed in the corpus README.\n"
    )
    print(f"index {index}: {names}; {sim.duration_s:.1f} s; info {sim.info}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
