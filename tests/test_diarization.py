"""Diarization building blocks with hand-computed answers, and the whole on synthetic voices."""

from __future__ import annotations

import numpy as np
import pytest

from listenkit.diarization import diarize
from listenkit.diarization.clustering import count_and_cut, noise_clusters, top_merges, ward_tree
from listenkit.diarization.frames import FrameFeatures, Windows
from listenkit.diarization.models import fit_gmm
from listenkit.diarization.resegment import viterbi
from listenkit.features import FeatureExtractor
from listenkit.params import DEFAULT_PARAMS

from synth import dialogue


def test_viterbi_follows_strong_evidence_and_ignores_weak():
    # frames:        0    1    2    3    4    5
    # ll state 0:    0    0    0   -3    0    0
    # ll state 1:   -5   -5   -5    0   -5   -5
    # One frame favouring state 1 by 3 nats cannot pay two switches of 2 nats each (4 > 3): stay in 0.
    ll = np.array([[0, -5], [0, -5], [0, -5], [-3, 0], [0, -5], [0, -5]], dtype=float)
    assert viterbi(ll, 2.0).tolist() == [0, 0, 0, 0, 0, 0]
    # With switches costing 1 nat each (2 < 3) the detour pays.
    assert viterbi(ll, 1.0).tolist() == [0, 0, 0, 1, 0, 0]


def test_viterbi_state_penalty_and_many_states():
    ll = np.zeros((4, 6))
    ll[:, 5] = 1.0  # state 5 fits best by 1 nat per frame ...
    assert viterbi(ll, 0.5).tolist() == [5, 5, 5, 5]
    pen = np.zeros(6)
    pen[5] = 2.0  # ... but costs 2 nats per frame
    assert viterbi(ll, 0.5, state_penalty=pen).tolist() == [0, 0, 0, 0]


def test_viterbi_per_frame_switch_cost():
    ll = np.array([[0, -1], [0, -1], [-1, 0], [-1, 0]], dtype=float)
    # switching at frame 2 costs 5 (too much to gain 2) unless that frame is after a pause (cost 1)
    assert viterbi(ll, np.array([5, 5, 5, 5.0])).tolist() == [0, 0, 0, 0]
    assert viterbi(ll, np.array([5, 5, 1, 5.0])).tolist() == [0, 0, 1, 1]


def test_viterbi_fast_loops_equal_the_numpy_loop(rng):
    from listenkit.diarization.resegment import _few_states, _many_states, _two_states

    for trial in range(200):
        k = int(rng.integers(1, 17))  # up to FEW_STATES: six speakers' states go through the Python loop
        n = int(rng.integers(1, 200))
        # small integers make ties (lower state and staying win them); penalties include 0 and negative
        ll = rng.integers(-3, 3, size=(n, k)).astype(float) if trial % 2 else 3 * rng.normal(size=(n, k))
        pen = rng.choice([-1.0, 0.0, 1.0, 2.5, 30.0], size=n)
        expected = _many_states(ll, pen)
        assert np.array_equal(_few_states(ll, pen), expected)
        if k == 2:
            assert np.array_equal(_two_states(ll, pen), expected)
        assert np.array_equal(viterbi(ll, pen), expected)


def test_gmm_separates_two_blobs(rng):
    a = rng.normal(-3, 1, size=(800, 4))
    b = rng.normal(+3, 1, size=(800, 4))
    model_a = fit_gmm(a, 4)
    model_b = fit_gmm(b, 4)
    assert np.mean(model_a.score_samples(a) > model_b.score_samples(a)) > 0.99
    assert np.mean(model_b.score_samples(b) > model_a.score_samples(b)) > 0.99
    # a single Gaussian fitted to N(0, 1) data: mean log-likelihood ~ -0.5 * d * (1 + log 2 pi)
    one = fit_gmm(rng.normal(0, 1, size=(5000, 3)), 1)
    assert one.score_samples(rng.normal(0, 1, size=(5000, 3))).mean() == pytest.approx(-1.5 * (1 + np.log(2 * np.pi)), abs=0.05)


def test_score_matrix_is_each_models_log_density_by_hand(rng):
    from scipy.stats import multivariate_normal

    from listenkit.diarization.models import DiagGMM, score_matrix

    # three models of 3, 1 and 2 components over 4 features: the smaller ones are padded inside
    models = []
    for k in (3, 1, 2):
        w = rng.uniform(0.2, 1.0, size=k)
        models.append(DiagGMM(w / w.sum(), rng.normal(0, 2, size=(k, 4)), rng.uniform(0.3, 2.0, size=(k, 4))))
    x = rng.normal(0, 2, size=(5000, 4))  # more than one block of frames
    x[0] = 40.0  # far from every component: the padding rows must not become its best
    by_hand = np.stack([np.logaddexp.reduce([np.log(w) + multivariate_normal(m, np.diag(v)).logpdf(x)
                                             for w, m, v in zip(g.weights, g.means, g.variances)], axis=0)
                        for g in models], axis=1)
    got = score_matrix(models, x)
    assert got.shape == (5000, 3)
    np.testing.assert_allclose(got, by_hand, rtol=1e-5, atol=2e-3)
    for i, g in enumerate(models):
        np.testing.assert_allclose(g.score_samples(x), got[:, i], rtol=1e-6)
    assert score_matrix(models, x[:0]).shape == (0, 3)


def test_gmm_is_deterministic(rng):
    x = rng.normal(size=(1000, 5))
    a, b = fit_gmm(x, 8), fit_gmm(x, 8)
    np.testing.assert_array_equal(a.means, b.means)


def _windows(groups: list[tuple[tuple[float, float], int]], rng: np.random.Generator, spread: float = 0.3) -> tuple[Windows, np.ndarray]:
    """Windows of 100 frames each around the given 2-D centres: ((x, y), number of windows) per group."""
    vectors, truth = [], []
    for g, (centre, n) in enumerate(groups):
        vectors.append(np.asarray(centre) + spread * rng.standard_normal((n, 2)))
        truth += [g] * n
    v = np.vstack(vectors).astype(np.float32)
    bounds = np.stack([np.arange(len(v)) * 100, np.arange(1, len(v) + 1) * 100], axis=1)
    return Windows(bounds, v), np.asarray(truth)


def _same_partition(a: np.ndarray, b: np.ndarray) -> bool:
    return len(set(zip(a.tolist(), b.tolist()))) == len(set(a.tolist())) == len(set(b.tolist()))


def test_top_merges_by_hand():
    # three windows at x = 0, 1 and 10: Ward joins 0 and 1 first (centroids 1 apart), then the pair
    # with 10 (centroid 0.5 -> 9.5 apart)
    win = Windows(np.array([[0, 100], [100, 300], [300, 350]]), np.array([[0.0], [1.0], [10.0]], np.float32))
    merges = top_merges(win, ward_tree(win), 5)
    assert [round(m.distance, 6) for m in merges] == [9.5, 1.0]
    assert merges[0].frames in ((300, 50), (50, 300)) and sorted(merges[1].frames) == [100, 200]


def test_count_and_cut_finds_three_voices(rng):
    win, truth = _windows([((0, 0), 12), ((10, 0), 10), ((0, 10), 8)], rng)
    labels = count_and_cut(win, ward_tree(win), min_distance=5.0, min_frames=300, max_speakers=6)
    assert labels.max() == 2 and _same_partition(labels, truth)


def test_count_and_cut_stops_at_one_voice_split_in_two(rng):
    # the second voice's windows form two groups 2 apart: closer than min_distance, one voice
    win, truth = _windows([((0, 0), 12), ((10, 0), 8), ((10, 2), 8)], rng)
    labels = count_and_cut(win, ward_tree(win), min_distance=5.0, min_frames=300, max_speakers=6)
    assert _same_partition(labels, np.minimum(truth, 1))


def test_count_and_cut_does_not_count_a_small_cluster(rng):
    # 2 windows (200 frames) far from everything: cut off, not counted, dissolved into a neighbour
    win, truth = _windows([((0, 0), 12), ((10, 0), 10), ((30, 30), 2)], rng)
    labels = count_and_cut(win, ward_tree(win), min_distance=5.0, min_frames=300, max_speakers=6)
    assert labels.max() == 1 and _same_partition(labels[:22], truth[:22])
    # a bigger one (4 windows) is a person
    win, truth = _windows([((0, 0), 12), ((10, 0), 10), ((30, 30), 4)], rng)
    labels = count_and_cut(win, ward_tree(win), min_distance=5.0, min_frames=300, max_speakers=6)
    assert labels.max() == 2 and _same_partition(labels, truth)


def test_count_and_cut_respects_max_speakers(rng):
    win, truth = _windows([((0, 0), 8), ((10, 0), 8), ((0, 10), 8), ((10, 10), 8)], rng)
    labels = count_and_cut(win, ward_tree(win), min_distance=5.0, min_frames=300, max_speakers=3)
    assert labels.max() == 2


def _features(x: np.ndarray) -> np.ndarray:
    fe = FeatureExtractor()
    return np.concatenate([fe.process(x), fe.flush()])


def _turns(n: int = 12) -> tuple[list[tuple[str, float, float]], float]:
    turns, t = [], 0.5
    for i in range(n):
        d = [3.0, 2.0, 4.0][i % 3]
        turns.append(("low" if i % 2 == 0 else "high", t, t + d))
        t += d + 0.4
    return turns, t + 1.0


def _reference_activity(turns, n_frames):
    ref = np.zeros((n_frames, 2), dtype=bool)
    for who, a, b in turns:
        ref[int(a * 100) : int(b * 100), 0 if who == "low" else 1] = True
    return ref


def _two_voice_rows(rng: np.random.Generator):
    """Turns, feature rows and reference activity of a synthetic two-voice dialogue (12 turns)."""
    turns, total = _turns()
    rows = _features(dialogue(turns, total=total, rng=rng))
    return turns, rows, _reference_activity(turns, rows.shape[0])


def test_two_synthetic_voices_are_found_and_placed(rng):
    turns, rows, ref = _two_voice_rows(rng)
    speech = ref.any(axis=1)  # oracle voice activity: tests the diarization alone
    dia = diarize(rows[:, :40], speech, params=DEFAULT_PARAMS)
    assert dia.n_speakers == 2
    # first speech is the low voice -> column 0; frame agreement within speech
    agree = np.mean(dia.activity[speech] == ref[speech])
    assert agree > 0.97


def test_loose_frames_are_labelled_but_not_clustered(rng):
    # the detector's own level misses the last 0.5 s of every turn; its looser level has them
    turns, rows, ref = _two_voice_rows(rng)
    loose = ref.any(axis=1)
    speech = loose.copy()
    for _, a, b in turns:
        speech[int(b * 100) - 50 : int(b * 100)] = False
    alone = diarize(rows[:, :40], speech)
    both = diarize(rows[:, :40], speech, loose_speech=loose)
    # counted and described on the detector's level alone: the same tree, the same count
    assert [m.distance for m in both.merges] == [m.distance for m in alone.merges]
    assert both.n_speakers == alone.n_speakers == 2
    assert not alone.activity[~speech].any()
    # every frame of either level is labelled, and the turn ends go to the right voice
    assert np.array_equal(both.activity.any(axis=1), loose)
    ends = loose & ~speech
    assert np.mean(both.activity[ends] == ref[ends]) > 0.95
    # a looser level without more frames changes nothing
    same = diarize(rows[:, :40], speech, loose_speech=speech)
    assert np.array_equal(same.activity, alone.activity)


def test_given_speaker_count_is_respected(rng):
    turns, total = _turns(6)
    x = dialogue(turns, total=total, rng=rng)
    rows = _features(x)
    speech = _reference_activity(turns, rows.shape[0]).any(axis=1)
    assert diarize(rows[:, :40], speech, num_speakers=1).n_speakers == 1
    assert diarize(rows[:, :40], speech, num_speakers=2).n_speakers == 2


def test_no_speech_gives_no_speakers():
    rows = np.zeros((500, 41), dtype=np.float32)
    dia = diarize(rows[:, :40], np.zeros(500, dtype=bool))
    assert dia.activity.shape == (500, 0)


def test_one_voice_is_one_speaker(rng):
    x = dialogue([("low", 0.5, 12.0), ("low", 12.5, 25.0)], total=26.0, rng=rng)
    rows = _features(x)
    speech = np.zeros(rows.shape[0], dtype=bool)
    speech[50:1200] = True
    speech[1250:2500] = True
    assert diarize(rows[:, :40], speech).n_speakers == 1


def test_short_slivers_inside_speech_take_the_neighbours_label():
    from listenkit.diarization.resegment_speakers import _drop_slivers

    # frames 0..29 continuous speech: A x12, B x3 (a sliver), A x15 -> all A
    index = np.arange(30)
    path = np.array([0] * 12 + [1] * 3 + [0] * 15)
    assert _drop_slivers(path, index, 10).tolist() == [0] * 30
    # the same 3 frames with pauses on both sides are a real short turn ("mm-hm"): kept
    index2 = np.concatenate([np.arange(12), np.arange(40, 43), np.arange(80, 95)])
    assert _drop_slivers(path, index2, 10).tolist() == path.tolist()
    # a long stretch of B is never touched
    path3 = np.array([0] * 12 + [1] * 12 + [0] * 6)
    assert _drop_slivers(path3, index, 10).tolist()[12:24] == [1] * 12


def test_short_both_states_take_the_single_voice_next_to_them():
    from listenkit.diarization.resegment_speakers import _drop_slivers

    # states 0 and 1 are single voices, 2 is "both"; frames 0..59 continuous speech:
    #   A x20, both x12, A x10, B x18  -> the 12 frames of "both" (< 20) become A
    index = np.arange(60)
    path = np.array([0] * 20 + [2] * 12 + [0] * 10 + [1] * 18)
    assert _drop_slivers(path, index, 20, first_state=2).tolist() == [0] * 42 + [1] * 18
    # single-voice stretches are left alone however short (B x12 between A's stays B)
    path2 = np.array([0] * 20 + [1] * 12 + [0] * 28)
    assert _drop_slivers(path2, index, 20, first_state=2).tolist() == path2.tolist()
    # "both" held for 20 frames or more is kept; so is a short one between pauses
    path3 = np.array([0] * 20 + [2] * 20 + [1] * 20)
    assert _drop_slivers(path3, index, 20, first_state=2).tolist() == path3.tolist()
    index4 = np.concatenate([np.arange(20), np.arange(50, 62), np.arange(90, 118)])
    assert _drop_slivers(path, index4, 20, first_state=2).tolist() == path.tolist()


def _log_mel_rows(n: int, level_db: float, peaky: bool, rng: np.random.Generator) -> np.ndarray:
    """Rows of 40 log-mel powers: a harmonic-like spectrum (every 4th band 30 dB up) or a flat one."""
    base = np.full((n, 40), level_db / (10 / np.log(10)))
    if peaky:
        base[:, ::4] += 30 / (10 / np.log(10))
    return base + 0.1 * rng.standard_normal((n, 40))


def test_noise_clusters_are_quiet_and_flat(rng):
    # three clusters of 10 windows x 100 frames. Energies (sum over the bands): the voice +20 dB (ten
    # bands 30 dB above a -20 dB floor), the far voice 0 dB, the flat noise -40 + 10 log10(40) = -24 dB,
    # 44 dB under the voice. Only the noise is noise; less far under, or loud, it would not be.
    rows = np.vstack([_log_mel_rows(1000, -20, True, rng), _log_mel_rows(1000, -40, True, rng),
                      _log_mel_rows(1000, -40, False, rng)]).astype(np.float32)
    ff = FrameFeatures(np.arange(3000), np.zeros((3000, 19), np.float32), np.zeros((3000, 38), np.float32),
                       np.zeros(19), np.ones(19))
    win = Windows(np.stack([np.arange(30) * 100, np.arange(1, 31) * 100], axis=1), np.zeros((30, 2), np.float32))
    labels = np.repeat([0, 1, 2], 10)
    assert noise_clusters(rows, ff, win, labels, below_db=12.0, min_flatness=0.55) == {2}
    assert noise_clusters(rows, ff, win, labels, below_db=50.0, min_flatness=0.55) == frozenset()
    # 45 dB more makes the noise (+21 dB) the loudest cluster
    loud_noise = rows.copy()
    loud_noise[2000:] += 45 / (10 / np.log(10))
    assert noise_clusters(loud_noise, ff, win, labels, below_db=12.0, min_flatness=0.55) == frozenset()


def _changing(rows: np.ndarray, change_db: float) -> np.ndarray:
    """``rows`` with every band raised by ``change_db`` in frames 2 and 3 of each 4: the levels of
    frames two apart then always differ by exactly ``change_db``."""
    out = rows.copy()
    up = (np.arange(rows.shape[0]) % 4) >= 2
    out[up] += change_db / (10 / np.log(10))
    return out


def test_spectral_change_is_the_mean_band_difference_two_frames_apart(rng):
    from listenkit.diarization.clustering import spectral_change_db

    rows = _changing(np.tile(_log_mel_rows(1, -30, True, rng), (1000, 1)), 4.0)  # one spectrum, changed
    ff = FrameFeatures(np.arange(1000), np.zeros((1000, 19), np.float32), np.zeros((1000, 38), np.float32),
                       np.zeros(19), np.ones(19))
    win = Windows(np.stack([np.arange(10) * 100, np.arange(1, 11) * 100], axis=1), np.zeros((10, 2), np.float32))
    assert spectral_change_db(rows.astype(np.float32), ff, win, np.arange(10)) == pytest.approx(4.0, abs=1e-3)
    # windows shorter than 0.6 s do not count: none left -> inf
    short = Windows(np.stack([np.arange(10) * 100, np.arange(10) * 100 + 50], axis=1), np.zeros((10, 2), np.float32))
    assert spectral_change_db(rows.astype(np.float32), ff, short, np.arange(10)) == np.inf


def test_a_quiet_cluster_whose_spectrum_does_not_change_is_noise(rng):
    # three clusters of 10 windows x 100 frames, all with a voice-like (peaky, not flat) spectrum:
    # the near voice (+20 dB, changing by 4 dB), a far voice 20 dB under it changing by 4 dB, and
    # babble 20 dB under it that hardly changes (0.1 dB noise only)
    near = _changing(_log_mel_rows(1000, -20, True, rng), 4.0)
    far = _changing(_log_mel_rows(1000, -40, True, rng), 4.0)
    babble = _log_mel_rows(1000, -40, True, rng)
    rows = np.vstack([near, far, babble]).astype(np.float32)
    ff = FrameFeatures(np.arange(3000), np.zeros((3000, 19), np.float32), np.zeros((3000, 38), np.float32),
                       np.zeros(19), np.ones(19))
    win = Windows(np.stack([np.arange(30) * 100, np.arange(1, 31) * 100], axis=1), np.zeros((30, 2), np.float32))
    labels = np.repeat([0, 1, 2], 10)
    flat_only = dict(below_db=12.0, min_flatness=0.55)
    assert noise_clusters(rows, ff, win, labels, **flat_only) == frozenset()  # not flat: the old rule keeps it
    assert noise_clusters(rows, ff, win, labels, **flat_only, max_change_db=2.5) == {2}
    # the check is off at 0, and needs the cluster far enough under the loudest
    assert noise_clusters(rows, ff, win, labels, **flat_only, max_change_db=0.0) == frozenset()
    assert noise_clusters(rows, ff, win, labels, below_db=25.0, min_flatness=0.55, max_change_db=2.5) == frozenset()
    # a limit above the voices' 4 dB change would take the far voice too (the limit is what decides)
    assert noise_clusters(rows, ff, win, labels, **flat_only, max_change_db=4.5) == {1, 2}


def test_a_cluster_far_under_the_loudest_is_noise_whatever_its_spectrum(rng):
    # three clusters, all peaky and changing by 4 dB as voices do (neither flat nor steady): the near
    # voice, one 18 dB under it and one 22 dB under it. Only the farther is noise, at a 20 dB limit.
    near = _changing(_log_mel_rows(1000, -20, True, rng), 4.0)
    far = _changing(_log_mel_rows(1000, -38, True, rng), 4.0)
    farther = _changing(_log_mel_rows(1000, -42, True, rng), 4.0)
    rows = np.vstack([near, far, farther]).astype(np.float32)
    ff = FrameFeatures(np.arange(3000), np.zeros((3000, 19), np.float32), np.zeros((3000, 38), np.float32),
                       np.zeros(19), np.ones(19))
    win = Windows(np.stack([np.arange(30) * 100, np.arange(1, 31) * 100], axis=1), np.zeros((30, 2), np.float32))
    labels = np.repeat([0, 1, 2], 10)
    rules = dict(below_db=12.0, min_flatness=0.55, max_change_db=2.5)
    assert noise_clusters(rows, ff, win, labels, **rules) == frozenset()  # off by default
    assert noise_clusters(rows, ff, win, labels, **rules, far_db=20.0) == {2}
    assert noise_clusters(rows, ff, win, labels, **rules, far_db=17.0) == {1, 2}
    assert noise_clusters(rows, ff, win, labels, **rules, far_db=23.0) == frozenset()
    # limits that would take every cluster still leave the loudest
    assert noise_clusters(rows, ff, win, labels, below_db=0.0, min_flatness=0.0, far_db=0.0) == {1, 2}


def test_a_third_person_needs_the_third_distance(rng):
    # the third group lies 5.5 from the nearer of the others (centroids (0,0), (10,0), (0,5.5)):
    # counted with the plain threshold 5, not with a third-person threshold of 7
    win, truth = _windows([((0, 0), 12), ((10, 0), 10), ((0, 5.5), 8)], rng, spread=0.2)
    tree = ward_tree(win)
    plain = count_and_cut(win, tree, min_distance=5.0, min_frames=300, max_speakers=6)
    strict = count_and_cut(win, tree, min_distance=5.0, min_frames=300, max_speakers=6, third_distance=7.0)
    assert plain.max() == 2 and _same_partition(plain, truth)
    assert strict.max() == 1


def _frames_for(truth: np.ndarray, offsets: list[float], rng: np.random.Generator) -> FrameFeatures:
    """100 frames of 38 features per window, standard normal around ``offsets[group]`` in every feature."""
    full = rng.standard_normal((truth.size * 100, 38)).astype(np.float32)
    full += np.repeat(np.asarray(offsets, dtype=np.float32)[truth], 100)[:, None]
    return FrameFeatures(np.arange(full.shape[0]), full[:, :19].copy(), full, np.zeros(19), np.ones(19))


def test_a_third_person_between_the_distances_is_counted_on_held_out_evidence(rng):
    # the same windows (third group 5.5 from the nearer, between 5 and the third-person 7).
    # Frames of the third group 3 apart from the others in every feature: a held-out distance of
    # about 2 x 38 x 3^2 / 2 = 342 nats/frame, far above 11 -> counted. Frames of the third group
    # drawn like the first's: distance about 0 -> not counted.
    win, truth = _windows([((0, 0), 12), ((10, 0), 10), ((0, 5.5), 8)], rng, spread=0.2)
    tree = ward_tree(win)
    kw = dict(min_distance=5.0, min_frames=300, max_speakers=6, third_distance=7.0, third_held_out=11.0)
    apart = count_and_cut(win, tree, ff=_frames_for(truth, [0.0, -3.0, 3.0], rng), **kw)
    alike = count_and_cut(win, tree, ff=_frames_for(truth, [0.0, -3.0, 0.0], rng), **kw)
    assert apart.max() == 2 and _same_partition(apart, truth)
    assert alike.max() == 1


def test_voices_are_counted_again_without_the_noise(rng):
    # windows of 100 frames: voice A around (0, 0), voice B around (8, 0), noise around (0, 40).
    # The first count saw noise against "all the voices" (labels 0 = A and B together, 1 = noise).
    # Counted again without the noise windows, A and B lie 8 apart (> 5) and their frames differ
    # (means 0 and 3 in every feature: a held-out distance far above 3.5), so they come out as two
    # voices, 0 and 1, and every noise window takes the label 2.
    from listenkit.diarization import _recount_without_noise

    win, truth = _windows([((0, 0), 12), ((8, 0), 12), ((0, 40), 6)], rng)
    full = rng.standard_normal((len(win) * 100, 38)).astype(np.float32)
    for w, t in enumerate(truth):
        full[w * 100 : (w + 1) * 100] += 3.0 * (t == 1)
    ff = FrameFeatures(np.arange(full.shape[0]), full[:, :19].copy(), full, np.zeros(19), np.ones(19))
    first = (truth == 2).astype(int)
    labels, noise = _recount_without_noise(ff, win, first, frozenset({1}), DEFAULT_PARAMS, narrow=False)
    assert noise == {2}
    assert labels[truth == 2].tolist() == [2] * 6
    assert _same_partition(labels[truth < 2], truth[truth < 2])
    # one voice under the noise stays one voice
    one = truth[truth != 1]
    win1 = Windows(win.bounds[truth != 1], win.vectors[truth != 1])
    full1 = np.vstack([full[a:b] for a, b in win1.bounds]) - 3.0 * 0  # voice A frames and noise frames
    ff1 = FrameFeatures(np.arange(full1.shape[0]), full1[:, :19].copy(), full1, np.zeros(19), np.ones(19))
    win1 = Windows(np.stack([np.arange(len(one)) * 100, np.arange(1, len(one) + 1) * 100], axis=1), win1.vectors)
    labels1, noise1 = _recount_without_noise(ff1, win1, (one == 2).astype(int), frozenset({1}), DEFAULT_PARAMS,
                                             narrow=False)
    assert noise1 == {1} and labels1.tolist() == (one == 2).astype(int).tolist()


def test_count_and_cut_never_returns_more_clusters_than_it_counted(rng):
    # two voices of 12 windows (100 frames each) lying 8 apart, and pieces of 4.8 s (480 frames) too
    # small to count: every merge under the top one has a side under 480 frames, so the walk down
    # the tree undoes all of them and the windows are shattered; dissolving the pieces one by one
    # could grow three big clusters out of two voices. Two were counted, two come back.
    win, truth = _windows([((0, 0), 12), ((8, 0), 12)], rng)
    labels = count_and_cut(win, ward_tree(win), min_distance=5.0, min_frames=480, max_speakers=6, third_distance=6.0)
    assert _same_partition(labels, truth)


class _EveryoneIsTheUser:
    """A voice profile that every group of frames matches (score 7)."""

    def scores(self, log_mel: np.ndarray, activity: np.ndarray) -> np.ndarray:
        return np.full(activity.shape[1], 7.0)


class _LowVoiceIsTheUser:
    """A voice profile of the low voice: 10 x the low voice's share of a group's frames, minus 3."""

    def __init__(self, low: np.ndarray) -> None:
        self.low = low

    def scores(self, log_mel: np.ndarray, activity: np.ndarray) -> np.ndarray:
        share = (activity & self.low[:, None]).sum(axis=0) / np.maximum(activity.sum(axis=0), 1)
        return 10.0 * share - 3.0


def test_a_known_voice_takes_part_only_when_the_count_is_found(rng, monkeypatch):
    import listenkit.diarization as dia_module

    _, rows, ref = _two_voice_rows(rng)
    speech = ref.any(axis=1)
    calls = []
    real = dia_module.use_known_voice
    monkeypatch.setattr(dia_module, "use_known_voice", lambda *a, **k: calls.append(1) or real(*a, **k))
    # two clearly different voices that both sound like the profile stay two (they are not one
    # voice by their held-out distance, so they are not merged)
    assert diarize(rows[:, :40], speech, voice=_EveryoneIsTheUser()).n_speakers == 2
    assert len(calls) == 1
    # a count the user gave is kept as given: the profile does not take part
    assert diarize(rows[:, :40], speech, num_speakers=2, voice=_EveryoneIsTheUser()).n_speakers == 2
    assert len(calls) == 1
    # a profile that fits one of two well-separated voices changes nothing
    plain = diarize(rows[:, :40], speech)
    known = diarize(rows[:, :40], speech, voice=_LowVoiceIsTheUser(ref[:, 0]))
    assert np.array_equal(plain.activity, known.activity)


def test_overlap_evidence_enters_the_both_state_by_its_weight(rng, monkeypatch):
    import listenkit.diarization as dia_module
    from listenkit.params import with_overrides

    turns, rows, ref = _two_voice_rows(rng)
    speech = ref.any(axis=1)
    _, a, b = turns[2]  # a 4 s turn of the low voice: the detector "hears" two voices in its middle
    hot = np.zeros(speech.size, bool)
    hot[int(a * 100) + 100 : int(a * 100) + 250] = True
    calls = []

    def fake_odds(log_mel, speech_, frames):
        calls.append(frames.size)
        return np.where(hot[frames], 1000.0, -1000.0).astype(np.float32)

    monkeypatch.setattr(dia_module, "overlap_log_odds", fake_odds)
    plain = diarize(rows[:, :40], speech, params=with_overrides(DEFAULT_PARAMS, overlap_detector_weight=0.0))
    assert not calls and not (plain.activity.sum(axis=1) >= 2).any()
    guided = diarize(rows[:, :40], speech)
    assert calls == [int(speech.sum())]
    two = guided.activity.sum(axis=1) >= 2
    # +-500 nats a frame: "both" where the evidence says, to the Viterbi's 30 ms steps
    assert np.count_nonzero(two != hot) <= 6
    assert two[np.flatnonzero(hot)[3:-3]].all()


def test_telephone_band_recordings_are_clustered_in_their_own_projection(rng, monkeypatch):
    # the same two voices, then with the mel bands above 4.5 kHz 20 nats down (nothing there, as
    # through a telephone line): the windows are made in the wideband, then the narrow projection
    import listenkit.diarization as dz

    bands = []
    real = dz.make_windows

    def spy(*args, **kwargs):
        bands.append(kwargs["band"])
        return real(*args, **kwargs)

    monkeypatch.setattr(dz, "make_windows", spy)
    _, rows, ref = _two_voice_rows(rng)
    speech = ref.any(axis=1)
    phone = rows[:, :40].copy()
    phone[:, 33:] -= 20.0
    assert diarize(rows[:, :40], speech).n_speakers == 2
    assert diarize(phone, speech).n_speakers == 2
    assert bands == ["wide", "narrow"]
