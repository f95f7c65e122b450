"""Faint, noise-like stretches are nobody's speech: hand-made spectra with known energy and flatness."""

from __future__ import annotations

import numpy as np
import pytest

from listenkit.diarization import _without_faint_noise
from listenkit.diarization.faint_noise import drop_doubtful_extra, drop_faint_noise, energy_db, flatness
from listenkit.params import DEFAULT_PARAMS

DB = 10 / np.log(10)  # dB per natural-log unit of power


def _flat(n: int, level_db: float) -> np.ndarray:
    """n frames of 40 equal bands summing to level_db: flatness 1."""
    return np.full((n, 40), (level_db - 10 * np.log10(40)) / DB, dtype=np.float32)


def _peaky(n: int, level_db: float) -> np.ndarray:
    """n frames where every 4th band is 30 dB above the rest (a voiced-like comb), summing to level_db."""
    rows = np.zeros((n, 40), dtype=np.float32)
    rows[:, ::4] = 30 / DB
    total = DB * np.log(np.exp(rows[0]).sum())
    return rows + (level_db - total) / DB


def test_energy_and_flatness_by_hand():
    assert np.allclose(energy_db(_flat(3, -20.0)), -20.0, atol=1e-4)
    assert np.allclose(energy_db(_peaky(3, 10.0)), 10.0, atol=1e-4)
    assert np.allclose(flatness(_flat(2, 0.0)), 1.0)
    # bands 3..29: 7 of the 27 are 1000x (30 dB) the rest: geometric mean 1000^(7/27), arithmetic (7*1000 + 20)/27
    expected = 1000 ** (7 / 27) / ((7 * 1000 + 20) / 27)
    assert np.allclose(flatness(_peaky(2, 0.0)), expected, rtol=1e-4)


def test_only_faint_and_flat_stretches_go():
    # one speaker, four stretches of 100 frames with pauses of 50 frames between them:
    #   frames   0-99   voice at 0 dB          kept (the speaker's level)
    #          150-249  flat noise at -20 dB   dropped: 20 dB under the median and flat
    #          300-399  voice at -20 dB        kept: as faint, but not flat (a far or soft voice)
    #          450-549  flat at 0 dB           kept: flat, but not faint (a loud fricative)
    #          600-699  voice at 0 dB          kept
    # frame energies of the speaker's frames: 300 at 0 dB, 200 at -20 -> median 0 dB
    rows = np.full((700, 40), -30.0, dtype=np.float32)
    rows[0:100] = _peaky(100, 0.0)
    rows[150:250] = _flat(100, -20.0)
    rows[300:400] = _peaky(100, -20.0)
    rows[450:550] = _flat(100, 0.0)
    rows[600:700] = _peaky(100, 0.0)
    act = np.zeros((700, 1), dtype=bool)
    for a in (0, 150, 300, 450, 600):
        act[a : a + 100, 0] = True
    out = drop_faint_noise(act, rows, below_db=10.0, min_flatness=0.45)
    expected = act.copy()
    expected[150:250, 0] = False
    assert np.array_equal(out, expected)
    assert np.array_equal(act[150:250, 0], np.ones(100, bool))  # the input is not changed
    # 25 dB under is needed -> the -20 dB noise stays
    assert np.array_equal(drop_faint_noise(act, rows, below_db=25.0, min_flatness=0.45), act)
    # with a very-faint limit of 15 dB the quiet voice at -20 dB goes too, flat or not; at 25 dB it stays
    very = drop_faint_noise(act, rows, below_db=10.0, min_flatness=0.45, very_faint_db=15.0)
    expected[300:400, 0] = False
    assert np.array_equal(very, expected)
    expected[300:400, 0] = True
    assert np.array_equal(drop_faint_noise(act, rows, below_db=10.0, min_flatness=0.45, very_faint_db=25.0), expected)


def test_a_steady_faint_stretch_goes_a_rising_and_falling_one_stays():
    # one speaker; frames 0-299 voice at 0 dB (the median). Two voiced-like (not flat) stretches 8 dB
    # under it, 100 frames each:
    #   400-499  steady at -8 dB: spread 0 dB                          -> goes (steady noise, babble)
    #   600-699  syllables: 5 frames at -3 dB, 5 at -13 dB: spread 5 dB -> stays (a soft voice)
    rows = np.full((700, 40), -40.0, dtype=np.float32)
    rows[0:300] = _peaky(300, 0.0)
    rows[400:500] = _peaky(100, -8.0)
    rows[600:700] = np.concatenate([_peaky(5, -3.0), _peaky(5, -13.0)] * 10)
    act = np.zeros((700, 1), dtype=bool)
    act[0:300, 0] = act[400:500, 0] = act[600:700, 0] = True
    # the flat and very-faint rules leave both (not flat, not 16 dB under)
    assert np.array_equal(drop_faint_noise(act, rows, below_db=10.0, min_flatness=0.45, very_faint_db=16.0), act)
    out = drop_faint_noise(act, rows, below_db=10.0, min_flatness=0.45, very_faint_db=16.0,
                           steady_below_db=5.0, max_steadiness_db=3.0)
    expected = act.copy()
    expected[400:500, 0] = False
    assert np.array_equal(out, expected)
    # a spread limit above 5 dB takes the soft voice too; 10 dB under needed: neither goes
    wide = drop_faint_noise(act, rows, below_db=10.0, min_flatness=0.45, steady_below_db=5.0, max_steadiness_db=5.5)
    assert not wide[400:500].any() and not wide[600:700].any()
    assert np.array_equal(drop_faint_noise(act, rows, below_db=10.0, min_flatness=0.45, steady_below_db=10.0,
                                           max_steadiness_db=3.0), act)
    # fainter, a looser limit: at 8 dB under, the faint-stretch limit (from below_db) does not apply ...
    assert np.array_equal(drop_faint_noise(act, rows, below_db=10.0, min_flatness=0.45,
                                           max_faint_steadiness_db=5.5), act)
    # ... from 7 dB under it does, to each stretch's spread: 5.5 takes both, 4.5 only the steady one
    both = drop_faint_noise(act, rows, below_db=7.0, min_flatness=0.45, max_faint_steadiness_db=5.5)
    assert not both[400:500].any() and not both[600:700].any() and both[0:300].all()
    only_steady = drop_faint_noise(act, rows, below_db=7.0, min_flatness=0.45, max_faint_steadiness_db=4.5)
    assert not only_steady[400:500].any() and only_steady[600:700].all()


def test_each_speaker_is_judged_against_their_own_level():
    # speaker 0 at 0 dB; speaker 1 far from the microphone at -25 dB throughout, with a flat -27 dB
    # stretch after a pause: only 2 dB under its own level, so it stays, though it lies 27 dB under speaker 0
    rows = np.full((400, 40), -40.0, dtype=np.float32)
    rows[0:200] = _peaky(200, 0.0)
    rows[200:330] = _peaky(130, -25.0)
    rows[350:400] = _flat(50, -27.0)
    act = np.zeros((400, 2), dtype=bool)
    act[0:200, 0] = True
    act[200:330, 1] = True
    act[350:400, 1] = True
    assert np.array_equal(drop_faint_noise(act, rows, below_db=10.0, min_flatness=0.45), act)
    # the same stretch given to speaker 0 goes (27 dB under speaker 0's median)
    act0 = act.copy()
    act0[350:400] = [True, False]
    assert not drop_faint_noise(act0, rows, below_db=10.0, min_flatness=0.45)[350:400].any()


def test_empty_activity():
    act = np.zeros((0, 2), dtype=bool)
    assert drop_faint_noise(act, np.zeros((0, 40), np.float32), below_db=10.0, min_flatness=0.45).shape == (0, 2)


def test_strict_stretches_are_judged_before_loose_frames_join_them():
    # one speaker; "strict" = frames the voice detector's own level found, the rest came from its
    # looser level:
    #   frames   0-199  voice at 0 dB, strict                       kept
    #          250-329  flat noise at -14 dB, strict                dropped: judged alone first
    #          330-449  voice at 0 dB, loose only (joins the noise)  kept
    # Judged as one stretch (250-449: 80 frames at -14 dB, 120 at 0 dB) its median is 0 dB: the noise
    # would stay. The speaker's median over everything is 0 dB; over the strict frames also 0 dB.
    rows = np.full((500, 40), -40.0, dtype=np.float32)
    rows[0:200] = _peaky(200, 0.0)
    rows[250:330] = _flat(80, -14.0)
    rows[330:450] = _peaky(120, 0.0)
    act = np.zeros((500, 1), dtype=bool)
    act[0:200, 0] = act[250:450, 0] = True
    strict = np.zeros(500, dtype=bool)
    strict[0:200] = strict[250:330] = True
    assert np.array_equal(_without_faint_noise(act, rows, DEFAULT_PARAMS), act)  # one look: all stays
    expected = act.copy()
    expected[250:330, 0] = False
    assert np.array_equal(_without_faint_noise(act, rows, DEFAULT_PARAMS, strict), expected)


def test_doubtful_stretches_only_the_looser_level_heard_go():
    # one speaker, strict = the detector's own frames:
    #   frames   0-199  voice at 0 dB, strict            kept
    #          250-299  flat at 0 dB, strict            kept (a loud fricative the detector heard)
    #          350-399  flat at 0 dB, looser level only  dropped: not faint, but flat and unconfirmed
    #          450-499  voice at -3 dB, looser only      kept (a far voice the looser level found)
    #          550-599  voice at -12 dB, looser only     dropped: voiced, but 12 dB under the speaker
    # energies of the speaker's frames: 350 at 0 dB, 50 at -3, 50 at -12 -> median 0 dB
    rows = np.full((600, 40), -40.0, dtype=np.float32)
    rows[0:200] = _peaky(200, 0.0)
    rows[250:300] = _flat(50, 0.0)
    rows[350:400] = _flat(50, 0.0)
    rows[450:500] = _peaky(50, -3.0)
    rows[550:600] = _peaky(50, -12.0)
    act = np.zeros((600, 1), dtype=bool)
    for a, b in ((0, 200), (250, 300), (350, 400), (450, 500), (550, 600)):
        act[a:b, 0] = True
    strict = np.zeros(600, dtype=bool)
    strict[0:300] = True
    expected = act.copy()
    expected[350:400, 0] = expected[550:600, 0] = False
    got = drop_doubtful_extra(act, rows, strict, min_flatness=0.45, below_db=10.0)
    assert np.array_equal(got, expected)
    # at 15 dB the -12 dB voice stays; with every frame strict nothing goes
    expected[550:600, 0] = True
    assert np.array_equal(drop_doubtful_extra(act, rows, strict, min_flatness=0.45, below_db=15.0), expected)
    assert np.array_equal(drop_doubtful_extra(act, rows, np.ones(600, bool), min_flatness=0.45, below_db=10.0), act)
    # in the analysis's own order the same two go (the faint check alone keeps the -12 dB voice:
    # voiced, and not 16 dB under)
    expected[550:600, 0] = False
    assert np.array_equal(_without_faint_noise(act, rows, DEFAULT_PARAMS, strict), expected)


def test_run_statistics_equal_numpy_per_run():
    from listenkit.diarization.faint_noise import _run_statistics

    rng = np.random.default_rng(3)
    energy = (rng.normal(-40, 8, size=5000)).astype(np.float32)
    flat = rng.random(5000).astype(np.float32)
    # runs of odd and even lengths, a single frame, gaps between them
    starts = np.array([0, 7, 8, 100, 1000, 4990])
    ends = np.array([5, 8, 20, 400, 1002, 5000])
    level, flatness, spread = _run_statistics(energy, flat, starts, ends)
    for i, (a, b) in enumerate(zip(starts, ends)):
        assert level[i] == np.median(energy[a:b])
        assert flatness[i] == np.median(flat[a:b])
        assert spread[i] == pytest.approx(float(np.std(energy[a:b].astype(np.float64))), abs=1e-9)
    assert spread[1] == 0.0  # one frame: no spread
    assert all(v.size == 0 for v in _run_statistics(energy, flat, starts[:0], ends[:0]))
