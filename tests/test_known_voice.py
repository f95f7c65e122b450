"""The known voice (a voice profile) merging and splitting clusters: hand-made windows and scores."""

from __future__ import annotations

import numpy as np
import pytest

from listenkit.diarization.frames import FrameFeatures, Windows
from listenkit.diarization.known_voice import use_known_voice

WINDOW = 10  # frames per window


class FractionScorer:
    """Scores a group of frames by the share of them that are the user's: 10 * share - 3
    (all the user's: 7; none: -3); ``-inf`` under 10 frames, as a profile does with too little speech."""

    def __init__(self, user_frames: np.ndarray) -> None:
        self.user = user_frames
        self.calls = 0

    def scores(self, log_mel: np.ndarray, activity: np.ndarray) -> np.ndarray:
        self.calls += 1
        out = np.full(activity.shape[1], -np.inf)
        for k in range(activity.shape[1]):
            on = activity[:, k]
            if on.sum() >= 10:
                out[k] = 10.0 * self.user[on].mean() - 3.0
        return out


def _setup(kinds: str, rng_seed: int = 0):
    """Windows of 10 speech frames, one per letter of ``kinds``: "u" the user (window vectors near
    (0, 0), frames around 0), "a" another voice (near (6, 0), frames around +2), "b" a third (near
    (0, 6), frames around -2), "v" the user's voice in other windows (near (6, 6), frames like the
    user's) that the scorer does not take for the user, "w" another voice (near (6, 6), frames
    around +2) that the scorer takes for the user. Returns log_mel, ff, win and the scorer."""
    rng = np.random.default_rng(rng_seed)
    n = WINDOW * len(kinds)
    index = np.arange(n)
    level = {"u": 0.0, "a": 2.0, "b": -2.0, "v": 0.0, "w": 2.0}
    full = (np.repeat([level[k] for k in kinds], WINDOW)[:, None] + rng.normal(0.0, 1.0, (n, 38))).astype(np.float32)
    ff = FrameFeatures(index, full[:, :19], full, np.zeros(19), np.ones(19))
    bounds = np.array([[i * WINDOW, (i + 1) * WINDOW] for i in range(len(kinds))])
    centre = {"u": (0.0, 0.0), "a": (6.0, 0.0), "b": (0.0, 6.0), "v": (6.0, 6.0), "w": (6.0, 6.0)}
    vectors = np.array([centre[k] for k in kinds]) + rng.normal(0.0, 0.3, (len(kinds), 2))
    user = np.repeat(np.array([k in "uw" for k in kinds]), WINDOW)
    return np.zeros((n, 40), np.float32), ff, Windows(bounds, vectors.astype(np.float32)), FractionScorer(user)


def _run(kinds: str, labels: list[int], noise: frozenset[int] = frozenset(), **kw):
    log_mel, ff, win, scorer = _setup(kinds)
    options = dict(merge_above=4.0, split_clear=5.0, split_high=3.25, split_low=1.0, pieces=2, min_frames=30, two_voices=3.5)
    options.update(kw)
    return use_known_voice(log_mel, ff, win, np.array(labels), noise, scorer, **options)


def test_two_clusters_of_the_user_are_merged():
    # |uuuu|aaaa|uuuu| found as three speakers: the user's two clusters (score 7 each) become one
    labels, noise = _run("uuuuaaaauuuu", [0] * 4 + [1] * 4 + [2] * 4)
    assert labels.tolist() == [0] * 4 + [1] * 4 + [0] * 4
    assert noise == frozenset()


def test_a_second_voice_that_scores_like_the_user_is_not_merged():
    # |uuuu|wwww|: both clusters score 7, but their frames are two voices (held-out distance large)
    labels, _ = _run("uuuuwwww", [0] * 4 + [1] * 4)
    assert labels.tolist() == [0] * 4 + [1] * 4
    # the same scores with one voice's frames are merged
    labels, _ = _run("uuuuuuuu", [0] * 4 + [1] * 4)
    assert labels.tolist() == [0] * 8


def test_a_cluster_of_the_user_and_another_voice_is_split():
    # one cluster holds the user and another voice (score 10 * 0.5 - 3 = 2: nobody would be "you");
    # its two sub-clusters score 7 and -3, so the other voice becomes a speaker of its own
    labels, _ = _run("uauaauuaauau", [0] * 12)
    kinds = "uauaauuaauau"
    assert labels.tolist() == [0 if k == "u" else 1 for k in kinds]


def test_a_split_keeps_the_other_clusters():
    labels, _ = _run("uauabbbbaauu", [0, 0, 0, 0, 1, 1, 1, 1, 0, 0, 0, 0])
    assert labels.tolist() == [0, 2, 0, 2, 1, 1, 1, 1, 2, 2, 0, 0]


def test_no_split_when_the_other_side_is_too_small():
    # 2 windows of the other voice = 20 frames < min_frames 30
    labels, _ = _run("uuuuauuuauuu", [0] * 12)
    assert labels.tolist() == [0] * 12


def test_no_split_when_the_user_side_is_not_clearly_the_user():
    # the user's side scores 7, which the level 8 asks more than
    labels, _ = _run("uauaauuaauau", [0] * 12, split_clear=8.0)
    assert labels.tolist() == [0] * 12


def test_one_voice_is_not_split_because_part_of_it_sounds_less_like_the_user():
    # the sub-clusters score 7 and -3, but their frames are one voice (held-out distance ~0)
    labels, _ = _run("uvuvvuuvvuvu", [0] * 12)
    assert labels.tolist() == [0] * 12
    # the same windows with the other half a different voice are split
    labels, _ = _run("uauaauuaauau", [0] * 12)
    assert labels.max() == 1


def test_only_the_users_cluster_is_split():
    # the cluster of two other voices is left alone: only the best-scoring cluster is looked into
    labels, _ = _run("ababababuuuu", [0] * 8 + [1] * 4)
    assert labels.tolist() == [0] * 8 + [1] * 4


def test_noise_clusters_are_neither_merged_nor_split_and_stay_last():
    # cluster 1 is noise (made of user-like frames here, so a merge would show); labels come back
    # with the voices first and the noise last
    labels, noise = _run("uuuuuuaaaaaa", [1] * 6 + [0] * 6, noise=frozenset({1}))
    assert labels.tolist() == [1] * 6 + [0] * 6
    assert noise == frozenset({1})


def test_merge_renumbers_around_noise():
    labels, noise = _run("uuuuaaaaaaaauuuu", [0] * 4 + [3] * 4 + [1] * 4 + [2] * 4,
                         noise=frozenset({3}))
    # voices 0 and 2 (the user) merge into 0, voice 1 stays 1, noise 3 becomes 2
    assert labels.tolist() == [0] * 4 + [2] * 4 + [1] * 4 + [0] * 4
    assert noise == frozenset({2})


@pytest.mark.parametrize("pieces", [2, 3, 4])
def test_in_between_pieces_go_with_the_nearer_side(pieces):
    # whatever the number of pieces, every user window ends on the user's side
    kinds = "uauaauuaauauuaua"
    labels, _ = _run(kinds, [0] * len(kinds), pieces=pieces)
    user = np.array([k == "u" for k in kinds])
    assert len(set(labels[user].tolist())) == 1
    assert len(set(labels[~user].tolist())) == 1
    assert labels[user][0] != labels[~user][0]
