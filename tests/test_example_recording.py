"""The example recording shipped in examples/ (a simulated two-person conversation with its reference)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import soundfile as sf
from scipy.signal import resample_poly

from listenkit.pipeline import analyze_file
from listenkit.timeline import read_rttm

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "conversation.flac"


def _shares(session) -> list[float]:
    return sorted(s.share for s in session.speakers)


def test_the_example_is_two_people_with_shares_near_the_reference():
    ref = read_rttm(EXAMPLE.with_suffix(".rttm"))
    assert len({g.speaker for g in ref}) == 2
    session = analyze_file(EXAMPLE)
    # reference shares 27 % / 73 % (examples/conversation.rttm): within 5 points
    assert np.allclose(_shares(session), [0.27, 0.73], atol=0.05)


def test_the_example_at_8_khz_is_still_two_people(tmp_path):
    # telephone band: the first cut once split background noise from both voices together, and the
    # second voice was lost with the noise; the voices are now counted again without the noise
    x, sr = sf.read(EXAMPLE, dtype="float32")
    path = tmp_path / "example-8k.wav"
    sf.write(path, resample_poly(x, 1, sr // 8000).astype(np.float32), 8000, subtype="PCM_16")
    session = analyze_file(path)
    assert len(session.speakers) == 2
    assert np.allclose(_shares(session), [0.27, 0.73], atol=0.10)
