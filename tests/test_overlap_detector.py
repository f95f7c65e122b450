"""The learned overlap detector: its features by hand, blocks against whole, the network's arithmetic,
and the shipped network on the example recording's overlaps."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import soundfile as sf
from scipy.stats import mannwhitneyu

from listenkit.diarization.overlap_detector import (
    LEVEL_OFFSETS, SPECTRUM_OFFSETS, OverlapDetector, n_features, overlap_features, overlap_log_odds,
    shipped_detector,
)
from listenkit.pipeline import Analyzer
from listenkit.timeline import read_rttm

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def test_level_features_by_hand():
    # 40 bands of power 1 (log 0) everywhere, power 4 in frames 100-199: a frame's level is
    # log(40) or log(160); the median over the speech (all frames, mostly quiet) is log(40)
    log_mel = np.zeros((400, 40), dtype=np.float32)
    log_mel[100:200] = np.log(4.0)
    feats = overlap_features(log_mel, np.ones(400, bool), np.array([100, 150, 300]))  # increasing
    assert feats.shape == (3, n_features())
    level = feats[:, 40 * len(SPECTRUM_OFFSETS):-1]
    at = {o: k for k, o in enumerate(LEVEL_OFFSETS)}
    # frame 150: loud from 100 to 199, so offsets -50 .. +40 lie inside (offset -50 = frame 100 is
    # the loud run's first frame: 3 of its 5 smoothing frames are loud)
    assert np.isclose(level[1, at[0]], np.log(4.0), atol=1e-5)
    assert np.isclose(level[1, at[-50]], 0.6 * np.log(4.0), atol=1e-5)
    assert np.isclose(level[1, at[50]], 0.4 * np.log(4.0), atol=1e-5)  # frame 200: 2 of 5 loud
    assert np.allclose(level[2], 0.0, atol=1e-6)  # frame 300: quiet all round
    # the level change: one jump of log 4 at frame 100, smoothed over 11 frames
    assert np.isclose(feats[0, -1], np.log(4.0) / 11, atol=1e-5)
    assert np.isclose(feats[1, -1], 0.0, atol=1e-6)


def test_spectrum_features_are_normalised_over_the_speech():
    rng = np.random.default_rng(3)
    log_mel = rng.normal(2.0, 3.0, size=(5000, 40)).astype(np.float32)
    speech = np.ones(5000, bool)
    feats = overlap_features(log_mel, speech, np.arange(5000))
    centre = feats[:, 40 * SPECTRUM_OFFSETS.index(0):40 * (SPECTRUM_OFFSETS.index(0) + 1)]
    # smoothed over 5 frames of independent values: mean 0, spread 1 / sqrt(5)
    assert np.allclose(centre.mean(axis=0), 0.0, atol=0.05)
    assert np.allclose(centre.std(axis=0), 1 / np.sqrt(5), atol=0.05)


def test_blocks_give_the_same_features_as_the_whole():
    rng = np.random.default_rng(4)
    log_mel = rng.normal(0.0, 2.0, size=(3000, 40)).astype(np.float32)
    speech = rng.random(3000) < 0.7
    frames = np.flatnonzero(speech)
    whole = overlap_features(log_mel, speech, frames, block=10_000)
    blocks = overlap_features(log_mel, speech, frames, block=257)
    assert np.allclose(whole, blocks, atol=1e-5)
    detector = OverlapDetector(rng.normal(size=(n_features(), 8)).astype(np.float32) / 20,
                               rng.normal(size=8).astype(np.float32), rng.normal(size=8).astype(np.float32), 0.5)
    assert np.allclose(overlap_log_odds(log_mel, speech, frames, detector, block=257),
                       overlap_log_odds(log_mel, speech, frames, detector, block=10_000), atol=1e-4)


def test_network_arithmetic_by_hand():
    # two hidden units: the first copies feature 0, the second is its negative; rectified, then
    # weighted 2 and -1, plus 0.5
    w1 = np.zeros((3, 2), np.float32)
    w1[0, 0], w1[0, 1] = 1.0, -1.0
    detector = OverlapDetector(w1, np.zeros(2, np.float32), np.array([2.0, -1.0], np.float32), 0.5)
    x = np.array([[3.0, 9.0, 9.0], [-4.0, 9.0, 9.0]], np.float32)
    assert np.allclose(detector.log_odds(x), [2 * 3 + 0.5, -4 + 0.5])


def test_no_frames_no_features():
    assert overlap_features(np.zeros((0, 40), np.float32), np.zeros(0, bool), np.zeros(0, int)).shape == (0, n_features())


def test_the_shipped_detector_hears_the_example_recordings_overlap():
    detector = shipped_detector()
    assert detector is not None and detector.w1.shape[0] == n_features()
    audio, sr = sf.read(EXAMPLES / "conversation.flac", dtype="float32")
    analyzer = Analyzer(sr)
    analyzer.feed(audio if audio.ndim == 1 else audio.mean(axis=1))
    analyzer.finish()
    rows, speech = analyzer.frames()
    voices = np.zeros(speech.size, int)
    for seg in read_rttm(EXAMPLES / "conversation.rttm"):
        voices[int(round(seg.start * 100)):int(round(seg.end * 100))] += 1
    frames = np.flatnonzero(speech)
    odds = overlap_log_odds(rows[:, :40], speech, frames)
    both = voices[frames] >= 2
    # the example is a simulated dev conversation (its voices, not this mix, are among the training
    # conversations'): a check that the shipped network works, not a measure of how well
    assert both.sum() > 200  # ~5 s of two voices at once
    # measured: area under the ROC curve 0.91, medians 0.2 against -5.5
    auc = mannwhitneyu(odds[both], odds[~both]).statistic / (both.sum() * (~both).sum())
    assert auc > 0.8
    assert np.median(odds[both]) - np.median(odds[~both]) > 3.0
