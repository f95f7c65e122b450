"""Smoke tests of the calibration harness: scoring on hand-made timelines, simulator, manifests.

Timelines are drawn as ASCII (one character = 1 s) with the hand computation beside the expectation.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from calibration.manifest import read_manifest, write_manifest
from calibration.scoring import (
    aggregate,
    der_components,
    event_scores,
    match_onsets,
    optimal_mapping,
    overlap_matrix,
    response_gap_scores,
    score_file,
    share_errors,
    speech_recall,
)
from calibration.acoustics import noise_bed, trim_fades
from calibration.simulate import merge_runs
from calibration.voices import SR, speech_runs
from listenkit.conversation import ResponseGap, analyze_conversation
from listenkit.session import Event, Session, SpeakerSummary
from listenkit.timeline import Segment, format_rttm

# ref  A: AAAAAAAAAA..........   [0, 10)
#      B: ..........BBBBBBBBBB   [10, 20)
# hyp  X: XXXXXXXXX...........   [0, 9)
#      Y: .........YYYYYYYYYYY   [9, 20)
REF = [Segment(0, 10, "A"), Segment(10, 20, "B")]
HYP = [Segment(0, 9, "X"), Segment(9, 20, "Y")]


def test_overlap_matrix_and_mapping_by_hand():
    rl, hl, m = overlap_matrix(REF, HYP)
    assert rl == ["A", "B"] and hl == ["X", "Y"]
    np.testing.assert_allclose(m, [[9, 1], [0, 10]])  # A∩X 9, A∩Y 1 (9..10), B∩X 0, B∩Y 10
    assert optimal_mapping(REF, HYP) == {"X": "A", "Y": "B"}


def test_mapping_is_optimal_not_greedy():
    # Greedy on the largest cell would pair P with A (6 s) and leave Q with B (0 s): total 6.
    # Optimal: P-B (5) + Q-A (4) = 9.
    ref = [Segment(0, 6, "A"), Segment(6, 11, "B")]
    hyp = [Segment(0, 6, "P"), Segment(6, 11, "P"), Segment(0, 4, "Q")]
    assert optimal_mapping(ref, hyp) == {"P": "B", "Q": "A"}


def test_unmapped_when_no_overlap():
    assert optimal_mapping([Segment(0, 1, "A")], [Segment(5, 6, "X")]) == {}


def test_share_errors_by_hand():
    # ref shares A 10/20 = 50 %, B 50 %; hyp X 9/20 = 45 %, Y 55 %  -> errors -5, +5 -> max 5 pp
    s = share_errors(REF, HYP, {"X": "A", "Y": "B"})
    assert s["max_pp"] == pytest.approx(5.0)
    assert s["per_speaker"] == {"A": -5.0, "B": 5.0}
    # an extra unmatched hypothesis speaker Z talking 5 s: hyp total 25 s -> X 36 %, Y 44 %, Z 20 %
    s = share_errors(REF, HYP + [Segment(30, 35, "Z")], {"X": "A", "Y": "B"})
    assert s["per_speaker"]["A"] == pytest.approx(-14.0)
    assert s["per_speaker"]["B"] == pytest.approx(-6.0)
    assert s["max_pp"] == pytest.approx(20.0)  # Z counts against a share of 0
    # a reference speaker nobody maps to counts with its whole share
    assert share_errors(REF, [Segment(0, 9, "X")], {"X": "A"})["max_pp"] == pytest.approx(50.0)


def test_speech_recall_by_hand():
    # A [0, 10) heard by X for [0, 5); B [10, 20) heard for [15, 20) (by Y) -> 5 of 10 s each;
    # overlapping hypothesis speakers are not counted twice
    hyp = [Segment(0, 5, "X"), Segment(2, 4, "Y"), Segment(15, 20, "Y")]
    assert speech_recall(REF, hyp) == {"A": [5.0, 10.0], "B": [5.0, 10.0]}


def test_match_onsets_maximises_pairs_then_nearness():
    # ref 0.0 and 1.0; hyp 0.5 and 1.4 within 0.6 s: nearest-first greedy would pair 0.5-1.0 (0.5 s) and
    # leave 1.4 unmatched (0.4 from 1.0 but 1.0 is taken); the optimum pairs 0.0-0.5 and 1.0-1.4.
    assert sorted(match_onsets([0.0, 1.0], [0.5, 1.4], 0.6)) == [(0, 0), (1, 1)]
    assert match_onsets([0.0, 1.0], [0.9], 1.0) == [(1, 0)]  # nearer reference wins
    assert match_onsets([0.0], [1.01], 1.0) == []  # outside tolerance
    assert match_onsets([0.0], [1.0], 1.0) == [(0, 0)]  # tolerance inclusive


def test_event_f1_by_hand():
    ref = [
        Event("interruption", 10.0, 12.0, by="B", of="A", successful=True),
        Event("interruption", 30.0, 31.0, by="A", of="B", successful=False),
        Event("backchannel", 40.0, 40.5, by="B", of="A"),
    ]
    hyp = [
        Event("interruption", 10.8, 12.0, by="Y", of="X", successful=True),  # matches the first
        Event("interruption", 30.2, 31.0, by="Y", of="X", successful=False),  # right time, wrong speakers
        Event("interruption", 50.0, 51.0, by="X", of="Y", successful=True),  # nothing there
        Event("backchannel", 40.7, 41.0, by="Y", of="X"),  # within 0.75 s, same by
    ]
    s = event_scores(ref, hyp, {"X": "A", "Y": "B"})
    i = s["interruption"]
    assert (i["tp"], i["fp"], i["fn"]) == (1, 2, 1)
    assert i["f1"] == pytest.approx(2 * 1 / (2 * 1 + 2 + 1))  # 0.4
    assert i["same_outcome"] == 1
    assert s["backchannel"]["f1"] == 1.0
    assert s["silence"]["f1"] is None  # nothing to find, nothing found


def test_response_gap_by_hand():
    ref = [ResponseGap(5.0, "A", "B", 0.2), ResponseGap(9.0, "B", "A", 0.4), ResponseGap(20.0, "A", "B", -0.3)]
    hyp = [ResponseGap(5.1, "X", "Y", 0.5), ResponseGap(9.2, "Y", "X", 0.3), ResponseGap(40.0, "X", "Y", 1.0)]
    s = response_gap_scores(ref, hyp, {"X": "A", "Y": "B"})
    # matched: (0.2, 0.5) and (0.4, 0.3): differences +0.3, -0.1 -> median |d| = 0.2, median d = 0.1
    assert s["median_abs_error_s"] == pytest.approx(0.2)
    assert s["median_bias_s"] == pytest.approx(0.1)
    fc = s["floor_changes"]
    assert (fc["tp"], fc["fp"], fc["fn"]) == (2, 1, 1)


def test_der_by_hand():
    ref = [Segment(0, 10, "A")]
    hyp = [Segment(0, 8, "X")]
    c = der_components(ref, hyp, 10.0, 0.0)
    assert c["missed"] == pytest.approx(2.0) and c["der"] == pytest.approx(0.2)
    # collar 0.5 (±0.25 s): [0, 0.25) and [9.75, 10) are not scored -> total 9.75 - 0.25 = 9.5,
    # missed [8, 9.75) = 1.75
    c = der_components(ref, hyp, 10.0, 0.5)
    assert c["total"] == pytest.approx(9.5)
    assert c["der"] == pytest.approx(1.75 / 9.5)
    # confusion: the right time, the wrong speaker for 5 s
    c = der_components(REF, [Segment(0, 20, "X")], 20.0, 0.0)
    assert c["confusion"] == pytest.approx(10.0) and c["der"] == pytest.approx(0.5)


def _reference_against_itself(segments):
    ref = analyze_conversation(segments)
    renamed = {k: f"S{i}" for i, k in enumerate(sorted({g.speaker for g in segments}))}
    hyp = [Segment(g.start, g.end, renamed[g.speaker]) for g in ref.talkspurts]
    conv = analyze_conversation(hyp)
    return score_file(ref, hyp, conv.events, conv, 60.0)


def test_reference_scored_against_itself_is_perfect():
    # A talks, B backchannels inside, B interrupts (successful), A long silence then A again
    segs = [
        Segment(0.0, 8.0, "A"), Segment(3.0, 3.5, "B"), Segment(6.0, 12.0, "B"),
        Segment(12.3, 14.0, "A"), Segment(18.0, 25.0, "A"), Segment(25.2, 30.0, "B"),
    ]
    s = _reference_against_itself(segs)
    assert s["der"]["der"] == 0.0 and s["der_nocollar"]["der"] == 0.0
    assert s["share"]["max_pp"] == 0.0
    for kind in ("interruption", "backchannel", "silence", "handover"):
        assert s["events"][kind]["f1"] == 1.0, kind
    assert s["response_gap"]["median_abs_error_s"] == 0.0
    a = aggregate([s, {"name": "broken", "error": "x"}])
    assert a["n_failed"] == 1 and a["der"]["der"] == 0.0 and a["speaker_count"]["accuracy"] == 1.0


def test_aggregate_pools_components():
    f1 = _reference_against_itself([Segment(0, 10, "A"), Segment(10.3, 20, "B")])
    f2 = json.loads(json.dumps(f1))
    f2["der_nocollar"].update(total=10.0, missed=5.0, der=0.5)
    a = aggregate([f1, f2])
    # pooled: (0 + 5) / (19.7 + 10)
    assert a["der_nocollar"]["der"] == pytest.approx(5.0 / 29.7)
    assert a["der_nocollar"]["der_file_mean"] == pytest.approx(0.25)


def test_merge_runs_bridges_short_pauses_only():
    bridge = int(0.2 * SR)
    runs = [(0, 1600), (1600 + bridge - 1, 5000), (5000 + bridge, 6000)]
    assert merge_runs(runs, bridge) == [(0, 5000), (5000 + bridge, 6000)]


def test_speech_runs_on_synthetic_bursts(rng):
    # 1 s tone, 0.3 s pause, 1 s tone, 1 s pause, an isolated 0.06 s click, 1 s pause, 0.5 s tone
    t = np.arange(SR) / SR
    tone = 0.1 * np.sin(2 * np.pi * 220 * t)
    gap = lambda s: np.zeros(int(s * SR))  # noqa: E731
    click = 0.1 * np.ones(int(0.06 * SR))
    x = np.concatenate([gap(0.5), tone, gap(0.3), tone, gap(1.0), click, gap(1.0), tone[: SR // 2], gap(0.5)])
    x = x + 1e-4 * rng.standard_normal(len(x))
    runs = speech_runs(x)
    assert len(runs) == 3  # the click is dropped as an isolated blip
    starts = [s / SR for s, _ in runs]
    np.testing.assert_allclose(starts, [0.5, 1.8, 4.86], atol=0.03)
    assert runs[1][0] - runs[0][1] >= int(0.25 * SR)  # the 0.3 s pause stays a pause


def test_trim_fades_cuts_quiet_ends_only(rng):
    # 0.5 s fade-in 30 dB down, 2 s of noise with a 0.5 s dip 30 dB down inside, 0.3 s fade-out 20 dB down
    quiet, steady = 10 ** (-30 / 20), 1.0
    parts = [(0.5, quiet), (1.0, steady), (0.5, quiet), (1.0, steady), (0.3, 10 ** (-20 / 20))]
    x = np.concatenate([g * rng.standard_normal(int(s * SR)) for s, g in parts])
    y = trim_fades(x)
    start = int(0.5 * SR)
    assert y.size == int(2.5 * SR)  # both ends gone, to the 50 ms block
    np.testing.assert_array_equal(y, x[start : start + y.size])  # the dip inside stays


def test_trim_fades_leaves_a_steady_clip_alone(rng):
    x = rng.standard_normal(3 * SR)
    np.testing.assert_array_equal(trim_fades(x), x)


def test_noise_bed_from_a_faded_clip_has_no_periodic_dips(tmp_path, rng):
    sf = pytest.importorskip("soundfile")
    # a 2 s clip with 0.2 s fades 15 dB down at each end, as the corpus' bg.flac has
    fade = 10 ** (-15 / 20)
    clip = np.concatenate([fade * rng.standard_normal(int(0.2 * SR)), rng.standard_normal(int(1.6 * SR)),
                           fade * rng.standard_normal(int(0.2 * SR))]) * 0.05
    path = tmp_path / "faded.flac"
    sf.write(path, clip, SR)
    bed = noise_bed(path, 10 * SR, rng)
    blocks = bed[: 100 * (SR // 10)].reshape(100, SR // 10)
    level = 10 * np.log10(np.mean(blocks**2, axis=1))
    assert level.min() > np.median(level) - 3.0  # without the trim, a 15 dB dip every 2 s


def test_manifest_roundtrip_and_bad_lines(tmp_path):
    rows = [{"audio": "a.flac", "rttm": "a.rttm", "n_speakers": 2, "split": "dev", "description": "x", "seed": 3}]
    path = write_manifest(tmp_path / "m.jsonl", rows)
    (e,) = read_manifest(path)
    assert e.audio == (tmp_path / "a.flac").resolve() and e.n_speakers == 2 and e.extra == {"seed": 3}
    (tmp_path / "bad.jsonl").write_text('{"audio": "a.flac"}\n')
    with pytest.raises(ValueError, match="missing"):
        read_manifest(tmp_path / "bad.jsonl")
    with pytest.raises(ValueError):
        write_manifest(tmp_path / "m2.jsonl", [{"audio": "a"}])


def test_evaluate_entry_with_perfect_analysis(tmp_path, monkeypatch):
    """The harness end to end, with an 'analysis' that returns the reference itself."""
    import listenkit
    from calibration.evaluate import run
    from calibration.manifest import Entry

    segs = [Segment(0.5, 6.0, "A"), Segment(2.0, 2.6, "B"), Segment(6.2, 12.0, "B"), Segment(12.1, 15.0, "A")]
    rttm = tmp_path / "x.rttm"
    rttm.write_text(format_rttm(segs, "x"))
    audio = tmp_path / "x.flac"
    audio.write_bytes(b"")

    def fake(path, num_speakers=None, **kw):
        conv = analyze_conversation([Segment(g.start, g.end, "S" + g.speaker) for g in segs])
        return Session(str(path), 16.0, 16000, [SpeakerSummary("SA", None, 0, 0.5), SpeakerSummary("SB", None, 0, 0.5)],
                       conv.talkspurts, conv.events)

    monkeypatch.setattr(listenkit, "analyze_file", fake, raising=False)
    res = run([Entry(audio, rttm, 2, "t", "test")], speakers_given=False, out=tmp_path / "out", name="t")
    f = res["files"][0]
    assert f["der"]["der"] == 0.0 and f["share"]["max_pp"] == 0.0
    assert f["consistency"]["events_follow_rules"] is True
    assert (tmp_path / "out" / "results.md").read_text().count("| x |") == 1
    assert json.loads((tmp_path / "out" / "results.json").read_text())["overall"]["n_files"] == 1


# ------------------------------------------------------------------------------------------ with corpus
def test_voice_split_is_disjoint_and_never_reserved(corpus):
    from calibration.voices import list_voices

    voices = list_voices(corpus)
    dev = {v.id for v in voices if v.split == "dev"}
    test = {v.id for v in voices if v.split == "test"}
    assert dev and test and not dev & test
    assert not any("reserved" in str(f) for v in voices for f in v.files)


def test_speed_variants_are_voices_of_their_own(corpus):
    from calibration.voices import load_phrases, voices_for_split, with_speed_variants

    voices = voices_for_split(corpus, "dev")
    variants = with_speed_variants(voices)
    assert len(variants) == 3 * len(voices) and len({v.id for v in variants}) == len(variants)
    base = next(v for v in voices if v.corpus == "cmu-arctic")
    fast = next(v for v in variants if v.id == f"{base.id}@1.1")
    assert fast.files == base.files and fast.speed == 1.1 and fast.split == base.split
    # played 10 % faster: the same phrases, each about 1 / 1.1 as long
    plain, quick = load_phrases(base), load_phrases(fast)
    assert len(quick) == len(plain)
    ratio = sum(p.audio.size for p in plain) / sum(p.audio.size for p in quick)
    assert ratio == pytest.approx(1.1, rel=0.03)


def test_voice_halves_split_the_dev_voices_in_two(corpus):
    from calibration.simulate import simulate_conversation
    from calibration.voices import voice_half, voices_for_split

    voices = voices_for_split(corpus, "dev")
    halves = {h: {v.id for v in voices if voice_half(v.id) == h} for h in "ab"}
    assert halves["a"] and halves["b"] and not halves["a"] & halves["b"]
    assert halves["a"] | halves["b"] == {v.id for v in voices}
    sim = simulate_conversation(corpus, "dev", 3, 3, duration_s=20.0, telephone_band=False, half="b")
    assert {v["id"] for v in sim.info["voices"]} <= halves["b"]


def test_simulated_conversation_reference_agrees_with_audio(corpus):
    from calibration.simulate import simulate_conversation

    a = simulate_conversation(corpus, "dev", 7, 0, duration_s=20.0, telephone_band=False)
    b = simulate_conversation(corpus, "dev", 7, 0, duration_s=20.0, telephone_band=False)
    np.testing.assert_array_equal(a.audio, b.audio)  # same seed -> identical audio
    assert a.segments == b.segments
    assert a.sample_rate == 16000
    last = max(g.end for g in a.segments)
    assert 20.0 <= last <= a.duration_s <= last + 2.01  # tail of 0.5-2 s after the last speech
    assert min(g.start for g in a.segments) >= 0.4
    labels = {g.speaker for g in a.segments}
    assert labels == {v["id"] for v in a.info["voices"]} and len(labels) == 2
    assert np.max(np.abs(a.audio)) <= 0.97 + 1e-6
    # the talk at reference speech is clearly louder than the background elsewhere
    mask = np.zeros(len(a.audio), bool)
    for g in a.segments:
        mask[int(g.start * SR) : int(g.end * SR)] = True
    assert np.mean(a.audio[mask] ** 2) > 3 * np.mean(a.audio[~mask] ** 2)
    c = simulate_conversation(corpus, "dev", 8, 0, duration_s=20.0, telephone_band=True)
    assert c.sample_rate == 8000 and c.duration_s >= max(g.end for g in c.segments)


def _synthetic_phrases(rng, n, lo_s, hi_s):
    from calibration.voices import Phrase

    out = []
    for _ in range(n):
        length = int(rng.uniform(lo_s, hi_s) * SR)
        audio = (0.05 * rng.standard_normal(length + 960)).astype(np.float32)
        out.append(Phrase(audio, [(480, 480 + length)]))
    return out


def test_turn_builder_never_overlaps_a_speaker_with_itself(rng):
    from calibration.turns import TurnBuilder

    phrases = [tuple(_synthetic_phrases(rng, 12, 1.0, 6.0)) for _ in range(3)]
    units = [_synthetic_phrases(rng, 5, 0.3, 0.9) for _ in range(3)]

    def build(seed):
        b = TurnBuilder(np.random.default_rng(seed), phrases, units, np.array([0.5, 0.3, 0.2]), liveliness=2.0)
        return b.build(90.0)

    placements = build(5)
    assert max(p.speech_end for p in placements) / SR >= 90.0
    assert {p.speaker for p in placements} == {0, 1, 2}
    for k in range(3):
        own = sorted((p.speech_start, p.speech_end) for p in placements if p.speaker == k)
        assert all(b[0] >= a[1] for a, b in zip(own, own[1:])), f"speaker {k} overlaps itself"
    again = build(5)
    assert [(p.speaker, p.start, p.kind) for p in again] == [(p.speaker, p.start, p.kind) for p in placements]
    kinds = {p.kind for p in placements}
    assert "backchannel" in kinds and "phrase" in kinds


def test_turn_builder_makes_a_monologue_for_one_speaker(rng):
    # one voice: only its own phrases, never overlapping each other, with pauses between them
    from calibration.simulate import draw_shares
    from calibration.turns import TurnBuilder

    phrases = [tuple(_synthetic_phrases(rng, 12, 1.0, 6.0))]
    units = [_synthetic_phrases(rng, 5, 0.3, 0.9)]
    assert draw_shares(np.random.default_rng(0), 1).tolist() == [1.0]
    placements = TurnBuilder(np.random.default_rng(3), phrases, units, np.array([1.0])).build(60.0)
    assert max(p.speech_end for p in placements) / SR >= 60.0
    assert {p.speaker for p in placements} == {0} and {p.kind for p in placements} == {"phrase"}
    own = sorted((p.speech_start, p.speech_end) for p in placements)
    assert all(b[0] > a[1] for a, b in zip(own, own[1:]))  # a pause, however short, between phrases


# ------------------------------------------------------------------ tuning
def test_tune_candidates_cover_the_declared_range_and_the_default():
    from calibration.tune import candidates
    from listenkit.params import DEFAULT_PARAMS, parameter_ranges, AnalysisParams

    lo, hi = parameter_ranges(AnalysisParams)["switch_penalty"]
    values = candidates("switch_penalty", 5)
    assert values[0] == lo and values[-1] == hi and DEFAULT_PARAMS.switch_penalty in values
    assert values == sorted(values) and len(values) in (5, 6)
    ints = candidates("gmm_components", 3)
    assert all(isinstance(v, int) for v in ints) and ints[0] == 2 and ints[-1] == 64
    assert candidates("overlap_detection", 5) == [False, True]


def test_tune_objective_by_hand():
    from calibration.tune import objective

    agg = {"der": {"der": 0.12}, "share": {"mean_max_pp": 3.5}, "speaker_count": {"accuracy": 0.9}}
    assert objective(agg) == pytest.approx(12.0 + 3.5 + 1.0)


def test_tune_refuses_test_conversations(tmp_path):
    from calibration.tune import main

    write_manifest(tmp_path / "m.jsonl", [{"audio": "a.flac", "rttm": "a.rttm", "n_speakers": 2, "split": "test",
                                           "description": "x"}])
    with pytest.raises(SystemExit) as exc:
        main([str(tmp_path / "m.jsonl")])
    assert exc.value.code == 2


def test_enrollment_time_accuracy_by_hand():
    from calibration.eval_enroll import _columns, judge

    # 10 frames; reference: user (column 0) in frames 0-5, the other in 6-9
    #   frame      0 1 2 3 4 5 6 7 8 9
    #   user ref   U U U U U U . . . .
    #   other ref  . . . . . . O O O O
    #   found A    . A A A A . . . . A     (frame 0 missed by the detector; frame 5 given to B; 9 wrong)
    #   found B    . . . . . B B B B .
    ref = np.zeros((10, 2), bool)
    ref[0:6, 0] = True
    ref[6:10, 1] = True
    act = np.zeros((10, 2), bool)
    act[1:5, 0] = True
    act[9, 0] = True
    act[5:9, 1] = True
    col = _columns(act, ref, present=True)
    assert col["user_column"] == [True, False]
    # choosing A: misses = user frames not in A = {0, 5} (2), false = {9} (1): 10 speech frames -> 0.7;
    # over found speech (frames 1-9: 9 frames) the miss at frame 0 does not count: 1 - 2/9
    got = judge(col, 0, True)
    assert got["right"] and got["time_acc"] == pytest.approx(0.7)
    assert got["time_acc_found"] == pytest.approx(1 - 2 / 9)
    # choosing nobody: all 6 user frames missed (5 of them found)
    nobody = judge(col, None, True)
    assert not nobody["right"]
    assert nobody["time_acc"] == pytest.approx(0.4) and nobody["time_acc_found"] == pytest.approx(1 - 5 / 9)


def test_talk_share_by_hand():
    from calibration.eval_enroll import talk_share

    # user 0-2 s and 5-6 s (3 s), other 1.5-5 s (3.5 s), third 6-9.5 s: 3 / 10 of the talk time
    segs = [Segment(0.0, 2.0, "u"), Segment(1.5, 5.0, "o"), Segment(5.0, 6.0, "u"), Segment(6.0, 9.5, "t")]
    assert talk_share(segs, "u") == pytest.approx(0.3)
    assert talk_share(segs, "nobody") == 0.0
    assert talk_share([], "u") == 0.0


def test_enrollment_present_talk_gives_the_user_their_share(corpus, monkeypatch):
    """A present conversation whose first turn-taking left the user about 6 % of the talk (dev seed 1,
    ls-2414, fold 1) has its turns drawn again until the user holds MIN_USER_SHARE of it."""
    from calibration import eval_enroll as ee

    monkeypatch.setattr(ee, "render", lambda *a, **k: (np.zeros(16, np.float32), SR, {"snr_db": 20.0}))
    cases, pool = ee.cases_for(corpus, "dev", 8, 1)
    case = next(c for c in cases if c.name == "ls-2414-f01")
    user = ee._subset(case.target, ee.split_files(case)[1])

    def user_share() -> float:
        _, _, segments, info = ee.render_conversation(case, user, pool, corpus, 2)
        return ee.talk_share(segments, info["voices"][0])

    assert user_share() >= ee.MIN_USER_SHARE
    monkeypatch.setattr(ee, "MAX_TURN_DRAWS", 1)  # the first draw alone
    assert user_share() < 0.1


def test_bench_reports_the_median_pair():
    from calibration.bench import _median_index

    assert _median_index([3.1, 2.7, 2.9]) == 2
    assert _median_index([2.0]) == 0
    assert _median_index([3.0, 1.0, 4.0, 2.0]) == 3  # the lower middle of an even count


@pytest.mark.parametrize("trainer, choice_set, extra", [
    ("calibration.train_overlap", "sim-dev", []),
    ("calibration.train_projection", "sim-dev2", ["--band", "narrow"]),
])
def test_trainers_refuse_test_conversations_and_the_choice_sets(tmp_path, trainer, choice_set, extra):
    import importlib

    main = importlib.import_module(trainer).main
    write_manifest(tmp_path / "m.jsonl", [{"audio": "a.flac", "rttm": "a.rttm", "n_speakers": 2, "split": "test",
                                           "description": "x"}])
    (tmp_path / choice_set).mkdir()
    write_manifest(tmp_path / choice_set / "manifest.jsonl", [{"audio": "a.flac", "rttm": "a.rttm", "n_speakers": 2,
                                                               "split": "dev", "description": "x"}])
    for manifest in (tmp_path / "m.jsonl", tmp_path / choice_set / "manifest.jsonl"):
        with pytest.raises(SystemExit) as exc:
            main([str(manifest), *extra, "--out", str(tmp_path / "out.npz")])
        assert exc.value.code == 2
    assert not (tmp_path / "out.npz").exists()


@pytest.mark.filterwarnings("ignore:Stochastic Optimizer")  # 30 passes on purpose: quick, not converged
def test_train_overlap_folds_the_standardisation_into_the_network(tmp_path):
    from calibration.train_overlap import fit_detector
    from listenkit.diarization.overlap_detector import OverlapDetector

    rng = np.random.default_rng(5)
    x = rng.normal([3.0, -2.0, 10.0], [0.5, 4.0, 2.0], size=(3000, 3))
    y = (x[:, 0] - 3.0) + 0.2 * x[:, 1] > 0.3
    detector, net, scaler = fit_detector(x, y, hidden=8, max_iter=30)
    p = net.predict_proba(scaler.transform(x))[:, 1]
    expected = np.log(p / (1 - p))
    assert np.allclose(detector.log_odds(x.astype(np.float32)), expected, atol=1e-3)
    assert np.mean((detector.log_odds(x.astype(np.float32)) > 0) == y) > 0.8  # it learned something
    detector.save(tmp_path / "d.npz")
    with np.load(tmp_path / "d.npz") as z:
        again = OverlapDetector(z["w1"], z["b1"], z["w2"], float(z["b2"]))
    assert np.allclose(again.log_odds(x.astype(np.float32)), expected, atol=1e-3)


def test_train_projection_writes_one_band_and_keeps_the_other(tmp_path):
    from calibration.train_projection import write_band
    from listenkit.diarization import projection as proj
    from listenkit.diarization.models import DiagGMM

    wide, narrow = np.arange(6.0).reshape(3, 2), -np.arange(6.0).reshape(3, 2)
    ubm = DiagGMM(np.array([0.25, 0.75]), np.arange(4.0).reshape(2, 2), np.ones((2, 2)))
    path = tmp_path / "p.npz"
    write_band(path, "wide", wide, {"conversations": 1}, ubm=ubm, relevance=4.0)
    write_band(path, "narrow", narrow, {"conversations": 2})
    write_band(path, "narrow", 2 * narrow, {"conversations": 3})  # replaces the narrow one only
    with np.load(path) as z:
        assert sorted(z.files) == ["projection", "projection_narrow", "record", "record_narrow", "ubm_means",
                                   "ubm_relevance", "ubm_variances", "ubm_weights"]
        assert np.array_equal(z["projection"], wide) and np.array_equal(z["projection_narrow"], 2 * narrow)
        assert json.loads(str(z["record_narrow"]))["conversations"] == 3
    # the package reads each band's matrix (and background model) from such a file
    old = proj.PROJECTION_PATH
    try:
        proj.PROJECTION_PATH = path
        proj.shipped_projection.cache_clear()
        got_narrow, got_wide = proj.shipped_projection("narrow"), proj.shipped_projection("wide")
        assert np.array_equal(got_narrow.matrix, 2 * narrow) and got_narrow.ubm is None
        assert np.array_equal(got_wide.matrix, wide) and got_wide.relevance == 4.0
        assert np.array_equal(got_wide.ubm.means, ubm.means) and np.array_equal(got_wide.ubm.weights, ubm.weights)
    finally:
        proj.PROJECTION_PATH = old
        proj.shipped_projection.cache_clear()
    # writing a band again without a model drops that band's model
    write_band(path, "wide", wide, {"conversations": 4})
    with np.load(path) as z:
        assert not any(k.startswith("ubm_") for k in z.files)


def test_sweep_projection_keeps_the_shipped_band_the_file_lacks(tmp_path, monkeypatch):
    import listenkit.diarization.frames as frames
    from calibration.sweep import use_projection
    from calibration.train_projection import write_band
    from listenkit.diarization import projection as proj

    wide = np.arange(6.0).reshape(3, 2)
    path = tmp_path / "wide-only.npz"
    write_band(path, "wide", wide, {"conversations": 1})
    monkeypatch.setattr(frames, "shipped_projection", proj.shipped_projection)  # undone after the test
    shipped_narrow = proj.shipped_projection("narrow")
    assert shipped_narrow is not None  # the package ships a telephone-band matrix
    use_projection(path)
    assert np.array_equal(frames.shipped_projection("wide").matrix, wide)
    assert np.array_equal(frames.shipped_projection("narrow").matrix, shipped_narrow.matrix)
