"""Online speaker assignment on synthetic feature rows: who is who, early and stable."""

from __future__ import annotations

import numpy as np
import pytest

from listenkit.live.online import NO_SPEAKER, UNASSIGNED, OnlineSpeakers

N_MELS = 40


def spectra(rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Two clearly different spectral envelopes (natural-log mel powers) and a silence floor."""
    m = np.arange(N_MELS)
    return {
        "A": -4.0 - 0.08 * m + 2.0 * np.exp(-((m - 8) ** 2) / 18.0),
        "B": -6.0 + 0.02 * m + 2.0 * np.exp(-((m - 24) ** 2) / 18.0),
        "X": 1.0 + 0.3 * np.cos(m / 2.0),  # an odd, loud noise (a door, a cough)
        "-": np.full(N_MELS, -14.0),
    }


def rows_for(script: str, rng: np.random.Generator, frames_per_char: int = 50) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Feature rows for a script like ``"AAAA-BBBB-"``: each character is ``frames_per_char`` frames
    (0.5 s) of speaker A, speaker B, an odd sound X taken for speech, or silence ("-").

    Returns rows (n, 41), speech (n,) and the true speaker per frame (-1 in silence).
    """
    env = spectra(rng)
    truth = np.repeat([{"A": 0, "B": 1, "X": 2, "-": -1}[c] for c in script], frames_per_char)
    rows = np.zeros((truth.size, N_MELS + 1), np.float32)
    for code, key in ((0, "A"), (1, "B"), (2, "X"), (-1, "-")):
        idx = truth == code
        rows[idx, :N_MELS] = env[key] + 0.9 * rng.standard_normal((int(idx.sum()), N_MELS))
    rows[:, N_MELS] = np.where(truth >= 0, -3.0, -12.0)
    return rows, truth >= 0, truth


def accuracy(labels: np.ndarray, truth: np.ndarray) -> float:
    """Share of speech frames labelled right, under the best one-to-one naming of two speakers."""
    sp = truth >= 0
    direct = np.mean(labels[sp] == truth[sp])
    swapped = np.mean(labels[sp] == 1 - truth[sp])
    return float(max(direct, swapped))


SCRIPT = "-AAAAAA-BBBBB-AAA-BBBBBBB-AAAAA-BB-AAAA-BBBB-" * 3


def test_two_voices_are_told_apart(rng):
    rows, speech, truth = rows_for(SCRIPT, rng)
    online = OnlineSpeakers()
    for end in range(0, len(rows) + 25, 25):  # as the runner does: a quarter second at a time
        online.update(rows[:end], speech[:end])
    assert online.frames_done == len(rows)
    assert online.n_speakers == 2
    assert accuracy(online.labels(), truth) > 0.95
    assert np.all(online.labels()[~speech] == NO_SPEAKER)  # silence is nobody's
    act = online.activity()
    assert act.shape == (len(rows), 2) and not np.any(act.sum(axis=1) > 1)


def test_the_first_voice_shows_before_its_first_window_closes(rng):
    rows, speech, _ = rows_for("--AAAAAAAA", rng)
    online = OnlineSpeakers(window_frames=150)
    online.update(rows[:100 + 40], speech[:100 + 40])  # 0.4 s into the first speech
    assert online.current_speaker() == 0
    assert online.activity().shape[1] == 1
    assert online.n_speakers == 0  # no centroid yet: only a provisional label


def test_chunked_updates_equal_one_update_without_refinement(rng):
    rows, speech, _ = rows_for(SCRIPT, rng)
    whole = OnlineSpeakers(recluster_every_s=0)
    whole.update(rows, speech)
    chunked = OnlineSpeakers(recluster_every_s=0)
    for end in (7, 60, 61, 333, 1000, 1001, 2400, len(rows)):
        chunked.update(rows[:end], speech[:end])
    np.testing.assert_array_equal(chunked.labels(), whole.labels())


def test_speaker_numbers_stay_stable_as_the_talk_goes_on(rng):
    rows, speech, truth = rows_for(SCRIPT * 2, rng)
    online = OnlineSpeakers(recluster_every_s=10)
    first_a = None
    for end in range(0, len(rows) + 50, 50):
        online.update(rows[:end], speech[:end])
        lab = online.labels()
        a = lab[: len(lab)][truth[: len(lab)] == 0]
        if a.size > 300:
            name = int(np.bincount(a[a >= 0]).argmax())
            first_a = name if first_a is None else first_a
            assert name == first_a  # A keeps its number through every refinement


def test_a_stray_window_does_not_stay_a_speaker(rng):
    rows, speech, truth = rows_for("-AAAA-BBBB--X--" + "AAAA-BBBB-" * 3, rng)
    hasty = OnlineSpeakers(recluster_every_s=0, confirm_new=False)
    hasty.update(rows, speech)
    assert hasty.n_speakers == 3  # without confirmation the odd sound became a "speaker" of its own
    hasty.refine()  # 0.5 s of it, 15 s ago: a stray, not a voice
    assert hasty.n_speakers == 2
    assert accuracy(hasty.labels(), np.where(truth == 2, -1, truth)) > 0.95
    x = hasty.labels()[truth == 2]
    assert np.all((x == 0) | (x == 1))  # its frames went to a remaining speaker
    careful = OnlineSpeakers(recluster_every_s=0)
    careful.update(rows, speech)
    assert careful.n_speakers == 2  # one odd window never confirmed


def test_a_new_voice_is_confirmed_by_its_second_window(rng):
    rows, speech, truth = rows_for("-AAAAAA-BBBBBB-", rng)  # B: 3 s, two windows of 1.5 s
    online = OnlineSpeakers(recluster_every_s=0)
    first_b = np.flatnonzero(truth == 1)[0]
    online.update(rows[: first_b + 160], speech[: first_b + 160])  # B's first window closed
    assert online.n_speakers == 1
    assert online.labels()[first_b + 10] == 0  # held as a candidate, shown as A meanwhile
    online.update(rows, speech)
    assert online.n_speakers == 2
    assert accuracy(online.labels(), truth) > 0.98  # the candidate window moved to B too


def test_an_anchor_replaces_the_past_and_keeps_the_names(rng):
    rows, speech, truth = rows_for(SCRIPT, rng)
    online = OnlineSpeakers(recluster_every_s=0)
    half = len(rows) // 2
    online.update(rows[:half], speech[:half])
    a_name = int(np.bincount(online.labels()[:half][truth[:half] == 0]).argmax())
    # the batch analysis numbers its speakers the other way round, and knows better about 40 frames
    batch = np.zeros((half, 2), bool)
    batch[truth[:half] == 0, 1] = True
    batch[truth[:half] == 1, 0] = True
    assert online.anchor(batch)
    lab = online.labels()[:half]
    assert np.all(lab[truth[:half] == 0] == a_name)  # A keeps its number
    assert np.all(lab[truth[:half] == 1] == 1 - a_name)
    assert np.all(lab[truth[:half] < 0] == NO_SPEAKER)
    online.update(rows, speech)  # what follows is assigned against the rebuilt centroids
    assert accuracy(online.labels(), truth) > 0.97
    assert online.generation == 1 and online.anchored_frames == half
    # an anchor that folds the two voices into one is declined
    assert not online.anchor(np.asarray(speech)[:, None])
    assert online.n_speakers == 2


def test_an_anchor_keeps_a_voice_heard_only_after_it(rng):
    rows, speech, truth = rows_for("-AAAAAA-AAAA-BBBBBB-BBBB-", rng)
    online = OnlineSpeakers(recluster_every_s=0)
    online.update(rows, speech)
    assert online.n_speakers == 2
    cut = int(np.flatnonzero(truth == 1)[0]) - 20  # the batch saw only A
    assert online.anchor(speech[:cut, None])
    assert online.n_speakers == 2
    assert accuracy(online.labels(), truth) > 0.95


def test_max_speakers_is_respected(rng):
    rows, speech, _ = rows_for(SCRIPT, rng)
    online = OnlineSpeakers(max_speakers=1)
    online.update(rows, speech)
    assert online.n_speakers == 1
    assert set(np.unique(online.labels())) <= {NO_SPEAKER, 0}


def test_nothing_but_silence(rng):
    rows, speech, _ = rows_for("-" * 20, rng)
    online = OnlineSpeakers()
    online.update(rows, speech)
    assert online.n_speakers == 0
    assert online.activity().shape == (len(rows), 0)
    assert online.current_speaker() is None
    assert UNASSIGNED not in online.labels()


def test_bad_arguments():
    with pytest.raises(ValueError):
        OnlineSpeakers(max_speakers=0)
    with pytest.raises(ValueError):
        OnlineSpeakers(max_speakers=7)


def test_segments_from_labels_equal_segments_from_frames(rng):
    from listenkit.live.snapshot import segments_from_labels, speaker_id
    from listenkit.timeline import segments_from_frames

    labels = rng.choice([-2, -1, -1, 0, 0, 0, 1, 1, 2], size=5000).astype(np.int8)
    labels[:7] = -1
    labels[-3:] = 1
    onehot = labels[:, None] == np.arange(3)[None, :]
    expected = segments_from_frames(onehot, [speaker_id(k) for k in range(3)], 0.01)
    assert segments_from_labels(labels) == expected
    assert segments_from_labels(np.zeros(0, np.int8)) == []
    assert segments_from_labels(np.array([0, 0, -1, 0], np.int8)) == segments_from_frames(
        np.array([[1], [1], [0], [1]], bool), ["S1"], 0.01)


def test_an_anchor_on_the_latest_stretch_leaves_the_older_past(rng):
    rows, speech, truth = rows_for(SCRIPT, rng)
    online = OnlineSpeakers(recluster_every_s=0)
    online.update(rows, speech)
    before = online.labels().copy()
    start = len(rows) // 2
    # the batch analysis of the second half says: all of B's talk there is a third person
    batch = np.zeros((len(rows) - start, 2), bool)
    batch[truth[start:] == 0, 0] = True
    batch[truth[start:] == 1, 1] = True
    b_name = int(np.bincount(before[truth == 1]).argmax())
    assert online.anchor(batch, start=start)
    np.testing.assert_array_equal(online.labels()[:start], before[:start])  # the older past is kept
    assert np.all(online.labels()[start:][truth[start:] == 1] == b_name)  # B keeps its number there
    assert online.anchored_frames == len(rows)


def test_an_anchor_that_folds_clearly_present_voices_is_declined(rng):
    rows, speech, truth = rows_for(SCRIPT, rng)
    online = OnlineSpeakers(recluster_every_s=0, present_s=15.0)
    online.update(rows, speech)
    before = online.labels().copy()
    assert not online.anchor(speech[:, None])  # A and B each talk 27 s: one voice cannot be right
    np.testing.assert_array_equal(online.labels(), before)
    lenient = OnlineSpeakers(recluster_every_s=0, present_s=60.0)
    lenient.update(rows, speech)
    assert lenient.anchor(speech[:, None])  # nobody talks a minute: the batch count is taken
    assert lenient.n_speakers == 1
