"""The voice profile: file format, damaged and foreign files, resolving --me/--no-me, matching, labelling."""

from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from synth import dialogue

from listenkit.enroll import enroll_take, measure_take
from listenkit.errors import ListenkitError, ProfileError
from listenkit.features import bandwidth
from listenkit.pipeline import analyze, analyze_file
from listenkit.profile import (
    ABSENT_THRESHOLD,
    PROFILE_FORMAT,
    PROFILE_VERSION,
    VoiceProfile,
    default_path,
    delete_profile,
    resolve_profile,
    stored_profile,
)
from listenkit.sources import ArraySource
from listenkit.voicemodel import band_cepstra, load_backgrounds

SR = 16000


def turns_of(voices: list[str], n: int, *, start: float = 0.2, talk: float = 2.4, gap: float = 0.5):
    """Alternating turns of ``talk`` s separated by ``gap`` s: [(voice, start, end), ...]."""
    out, t = [], start
    for i in range(n):
        out.append((voices[i % len(voices)], t, t + talk))
        t += talk + gap
    return out, t + 0.5


@pytest.fixture(scope="module")
def profile() -> VoiceProfile:
    """A profile enrolled from a synthetic "low" voice reading for 25 s."""
    turns, total = turns_of(["low"], 8, talk=2.5, gap=0.6)
    take = measure_take(ArraySource(dialogue(turns, total=total + 1.0, rng=np.random.default_rng(5)), SR))
    return enroll_take(take)


# ----------------------------------------------------------------------------------------- file format
def test_round_trip_keeps_everything_and_is_private(profile, tmp_path):
    path = profile.save(tmp_path / "me.json")
    assert os.stat(path).st_mode & 0o777 == 0o600
    back = VoiceProfile.load(path)
    assert back.path == path and back.ubm == profile.ubm and back.created == profile.created
    for band, means in profile.means.items():
        np.testing.assert_allclose(back.means[band], means, atol=1e-6)
    assert (back.noise_floor_db, back.speech_s) == pytest.approx((profile.noise_floor_db, profile.speech_s), abs=0.01)
    data = json.loads(path.read_text())
    assert data["format"] == PROFILE_FORMAT and data["version"] == PROFILE_VERSION == 2
    assert set(data["model"]["means"]) == {"wide", "narrow"}
    assert [len(data["model"]["mean_cepstra"][band]) for band in ("wide", "narrow")] == [24, 22]
    for band, c in profile.mean_cepstra.items():
        np.testing.assert_allclose(back.mean_cepstra[band], c, atol=1e-6)


def test_default_place_is_the_data_folder(profile):
    path = profile.save()
    assert path == default_path() == Path(os.environ["LISTENKIT_DATA_DIR"]) / "voice-profile.json"
    assert stored_profile().means["wide"].shape == profile.means["wide"].shape


def test_file_holds_numbers_only_no_audio(profile, tmp_path):
    # 64 components x (48 wideband + 44 telephone-band features): nothing like the 25 s take's
    # 400 000 samples, and no per-frame data at all
    data = json.loads(profile.save(tmp_path / "p.json").read_text())
    numbers = sum(np.asarray(m).size for m in data["model"]["means"].values())
    assert numbers == 64 * (48 + 44)
    # and the take's average spectrum as 24 + 22 cepstral coefficients
    assert sum(len(c) for c in data["model"]["mean_cepstra"].values()) == 24 + 22


def _write(tmp_path: Path, content: bytes | str, name: str = "p.json") -> Path:
    path = tmp_path / name
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    return path


def _damaged_variants(good: dict) -> dict[str, dict]:
    newer = dict(good, version=PROFILE_VERSION + 1)
    no_model = {k: v for k, v in good.items() if k != "model"}
    nan = json.loads(json.dumps(good))
    nan["model"]["means"]["wide"][0][0] = float("nan")
    short = json.loads(json.dumps(good))
    short["model"]["means"]["wide"] = short["model"]["means"]["wide"][:5]
    text_floor = dict(good, noise_floor_db="loud")
    no_cepstra = json.loads(json.dumps(good))  # version 2 needs them
    del no_cepstra["model"]["mean_cepstra"]
    nan_cepstra = json.loads(json.dumps(good))
    nan_cepstra["model"]["mean_cepstra"]["narrow"][3] = float("nan")
    short_cepstra = json.loads(json.dumps(good))
    short_cepstra["model"]["mean_cepstra"]["wide"] = short_cepstra["model"]["mean_cepstra"]["wide"][:12]
    return {"newer": newer, "no_model": no_model, "nan": nan, "short": short, "text_floor": text_floor,
            "no_cepstra": no_cepstra, "nan_cepstra": nan_cepstra, "short_cepstra": short_cepstra}


@pytest.mark.parametrize("case, expected", [
    ("newer", "newer listenkit"),
    ("no_model", "damaged"),
    ("nan", "damaged"),
    ("short", "damaged"),
    ("text_floor", "damaged"),
    ("no_cepstra", "damaged"),
    ("nan_cepstra", "damaged"),
    ("short_cepstra", "damaged"),
])
def test_damaged_profiles_give_one_clear_line(profile, tmp_path, case, expected):
    good = json.loads(profile.save(tmp_path / "good.json").read_text())
    content = json.dumps(_damaged_variants(good)[case], allow_nan=True)
    path = _write(tmp_path, content)
    with pytest.raises(ProfileError) as err:
        VoiceProfile.load(path)
    message = str(err.value)
    assert message.startswith(f"{path}: ") and expected in message and "\n" not in message


def test_version_1_profile_is_read_and_matched_by_its_own_rule(profile, tmp_path, low_high):
    """A profile saved before the mean cepstra (format version 1) still works: its match score is the
    likelihood score less 1.0, so the threshold says "you" where version 1 did (above 3.5)."""
    data = json.loads(profile.save(tmp_path / "v2.json").read_text())
    del data["model"]["mean_cepstra"]
    data["version"] = 1
    old = VoiceProfile.load(_write(tmp_path, json.dumps(data), "v1.json"))
    assert old.mean_cepstra is None and old.to_dict()["version"] == 1
    assert "mean mfcc" not in old.to_dict()["features"] and "mean mfcc" in profile.to_dict()["features"]
    log_mel, speech = _frames(low_high[0])
    act = _reference_activity(low_high[1], log_mel.shape[0]) & speech[:, None]
    np.testing.assert_allclose(old.match_scores(log_mel, act), old.scores(log_mel, act) - 1.0)
    assert ABSENT_THRESHOLD + 1.0 == 3.5 and old.match(log_mel, act) == 0


def test_truncated_profile_is_damaged(profile, tmp_path):
    text = profile.save(tmp_path / "good.json").read_text()
    path = _write(tmp_path, text[: len(text) // 2])
    with pytest.raises(ProfileError, match="damaged"):
        VoiceProfile.load(path)


@pytest.mark.parametrize("content", [
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR",
    '{"schema": "listenkit.session/1", "speakers": []}',
    "[1, 2, 3]",
    "",
])
def test_foreign_files_are_not_profiles(tmp_path, content):
    path = _write(tmp_path, content)
    with pytest.raises(ProfileError, match="not a listenkit voice profile"):
        VoiceProfile.load(path)


def test_missing_file_and_folder(tmp_path):
    with pytest.raises(ProfileError, match="no such voice profile"):
        VoiceProfile.load(tmp_path / "nope.json")
    with pytest.raises(ProfileError, match="folder"):
        VoiceProfile.load(tmp_path)


def test_profile_of_another_background_model_is_refused(profile, tmp_path):
    other = VoiceProfile(means=profile.means, ubm="0" * 16, noise_floor_db=-60.0, speech_s=20.0,
                         speech_level_db=-20.0)
    path = other.save(tmp_path / "old.json")
    loaded = VoiceProfile.load(path)
    with pytest.raises(ProfileError, match="another version of listenkit"):
        loaded.match(np.zeros((400, 40), np.float32), np.ones((400, 1), bool))


# ----------------------------------------------------------------------------------------- --me / --no-me
def test_resolve_profile(profile, tmp_path):
    assert resolve_profile(None, False) is None  # nothing stored
    profile.save()
    assert isinstance(resolve_profile(None, False), VoiceProfile)
    assert resolve_profile(None, True) is None
    assert resolve_profile(str(tmp_path / "missing.json"), True) is None  # --no-me wins
    mine = profile.save(tmp_path / "mine.json")
    assert resolve_profile(str(mine), False).path == mine
    with pytest.raises(ProfileError, match="no such voice profile"):
        resolve_profile(str(tmp_path / "missing.json"), False)


def test_damaged_stored_profile_says_how_to_go_on(profile):
    path = profile.save()
    path.write_text("{\"format\": \"listenkit.voice-profile\", \"version\": 1,")
    with pytest.raises(ProfileError) as err:
        resolve_profile(None, False)
    assert "--no-me" in str(err.value) and isinstance(err.value, ListenkitError)


def test_delete_profile(profile, tmp_path):
    assert delete_profile() is None
    stored = profile.save()
    assert delete_profile() == stored and not stored.exists()
    damaged = _write(tmp_path, "{\"format\": \"listenkit.voice-profile\"")
    assert delete_profile(damaged) == damaged and not damaged.exists()
    foreign = _write(tmp_path, b"not mine", name="notes.txt")
    with pytest.raises(ProfileError, match="not a listenkit voice profile"):
        delete_profile(foreign)
    assert foreign.exists()


# ----------------------------------------------------------------------------------------- matching
@pytest.fixture(scope="module")
def low_high() -> tuple[np.ndarray, list]:
    turns, total = turns_of(["low", "high"], 10)
    return dialogue(turns, total=total, rng=np.random.default_rng(9)), turns


def _frames(x: np.ndarray):
    from listenkit.pipeline import Analyzer

    an = Analyzer(SR)
    an.feed(x)
    an.finish()
    rows, speech = an.frames()
    return rows[:, :40].astype(np.float32), speech


def _reference_activity(turns, n_frames: int, order=("low", "high")) -> np.ndarray:
    act = np.zeros((n_frames, len(order)), bool)
    for who, a, b in turns:
        act[int(a * 100) : int(b * 100), order.index(who)] = True
    return act


def test_match_finds_the_enrolled_voice_and_scores_are_invariant(profile, low_high):
    x, turns = low_high
    log_mel, speech = _frames(x)
    act = _reference_activity(turns, log_mel.shape[0]) & speech[:, None]
    scores = profile.scores(log_mel, act)
    assert profile.match(log_mel, act) == 0 and profile.last_scores is not None
    # synthetic voices all sit far from the real voices of the background, so only the gap between
    # the enrolled voice and the other one is meaningful here (absence is tested on real voices below)
    assert scores[0] > ABSENT_THRESHOLD and scores[0] - scores[1] > 10.0
    # the order of the speakers does not matter
    np.testing.assert_allclose(profile.scores(log_mel, act[:, ::-1]), scores[::-1])
    # nor the recording level (+12 dB is +2.76 in natural-log power): per-voice normalisation
    np.testing.assert_allclose(profile.scores(log_mel + 2.76, act), scores, atol=1e-2)
    # the match score: the likelihood score less the mean-cepstrum distance to the take, itself blind
    # to the level; by hand: a take whose mean cepstrum were the speaker's own plus 0.5 in every
    # coefficient lies 0.5 away
    match = profile.match_scores(log_mel, act)
    assert match[0] > ABSENT_THRESHOLD and np.all(match < scores)
    np.testing.assert_allclose(profile.match_scores(log_mel + 2.76, act), match, atol=1e-2)
    band = bandwidth(log_mel, act.any(axis=1))
    alone = act & (act.sum(axis=1, keepdims=True) == 1)
    own = band_cepstra(log_mel, band)[0][alone[:, 0]].mean(axis=0)
    shifted = dataclasses.replace(profile, mean_cepstra={**profile.mean_cepstra, band: own + 0.5})
    assert shifted.match_scores(log_mel, act)[0] == pytest.approx(scores[0] - 0.5, abs=1e-4)
    # a speaker with too little speech is not scored, and no speakers means nobody
    tiny = act.copy()
    tiny[200:, 1] = False
    assert profile.scores(log_mel, tiny)[1] == -np.inf and profile.match_scores(log_mel, tiny)[1] == -np.inf
    assert profile.match(log_mel, np.zeros((log_mel.shape[0], 0), bool)) is None


def test_bandwidth_detects_telephone_band(low_high):
    from scipy.signal import butter, resample_poly, sosfiltfilt

    x, _ = low_high
    log_mel, speech = _frames(x)
    assert bandwidth(log_mel, speech) == "wide"
    phone = resample_poly(sosfiltfilt(butter(6, [300, 3400], btype="bandpass", fs=SR, output="sos"), x), 1, 2)
    from listenkit.pipeline import Analyzer

    an = Analyzer(8000)
    an.feed(phone.astype(np.float32))
    an.finish()
    rows, sp = an.frames()
    assert bandwidth(rows[:, :40].astype(np.float32), sp) == "narrow"
    assert bandwidth(log_mel, np.zeros(log_mel.shape[0], bool)) == "wide"


def test_background_model_ships_with_listenkit():
    backgrounds = load_backgrounds()
    assert set(backgrounds) == {"wide", "narrow"}
    for b in backgrounds.values():
        assert b.ubm.means.shape[0] == 64 and b.cohort.shape[1:] == b.ubm.means.shape and b.cohort.shape[0] >= 20
        assert abs(b.ubm.weights.sum() - 1.0) < 1e-4


# ----------------------------------------------------------------------------------------- labelling
def test_analyze_labels_the_enrolled_speaker_you(profile, low_high):
    x, turns = low_high
    session = analyze(ArraySource(x, SR), voice=profile)
    you = [s for s in session.speakers if s.label == "you"]
    assert len(you) == 1
    # the low voice spoke 5 turns of 2.4 s: "you" has about that much talk time
    assert you[0].talk_time_s == pytest.approx(12.0, abs=1.5)
    doc = json.loads(session.to_json())
    assert [s["label"] for s in doc["speakers"]].count("you") == 1


def _corpus_conversation(folders: list[Path], files: list[int], path: Path) -> None:
    """Alternate utterances of several LibriSpeech speakers with 0.5 s gaps into one 16 kHz file."""
    parts = []
    for i in files:
        for folder in folders:
            x, sr = sf.read(sorted(folder.glob("*.flac"))[i], dtype="float32")
            parts += [x[: 6 * sr], np.zeros(sr // 2, np.float32)]
    sf.write(path, np.concatenate(parts), 16000)


def test_analyze_file_labels_a_real_voice_enrolled_from_other_recordings(corpus, tmp_path):
    """The labelling path on real voices (accuracy is measured by calibration/eval_enroll.py; two
    similar voices of the same sex and pitch can be confused, so this uses clearly different ones)."""
    spk = corpus / "speakers" / "librispeech-test-other"
    user, other, third = spk / "2414", spk / "1688", spk / "1998"
    take = tmp_path / "take.flac"
    sf.write(take, np.concatenate([sf.read(f, dtype="float32")[0] for f in sorted(user.glob("*.flac"))[:4]]), 16000)
    from listenkit.enroll import enroll_file

    me, _ = enroll_file(str(take))
    present = tmp_path / "present.flac"
    _corpus_conversation([user, other], [5, 6, 7], present)
    session = analyze_file(present, voice=me)
    you = [s for s in session.speakers if s.label == "you"]
    assert len(you) == 1
    first = min(session.segments, key=lambda g: g.start)  # the user speaks first
    assert first.speaker == you[0].id
    absent = tmp_path / "absent.flac"
    _corpus_conversation([other, third], [5, 6, 7], absent)
    assert all(s.label is None for s in analyze_file(absent, voice=me).speakers)


@pytest.mark.parametrize("n", [3, 999, 1000, 1001, 2503])
def test_cepstra_in_blocks_equal_the_whole(n, monkeypatch):
    import listenkit.voicemodel as vm
    from listenkit.features import deltas, mfcc

    monkeypatch.setattr(vm, "_CEPSTRA_BLOCK", 1000)  # block edges at frames 1000, 2000
    x = np.random.default_rng(n).normal(size=(n, 40)).astype(np.float16)
    for band, width in (("wide", 24), ("narrow", 22)):
        ceps, d = vm.band_cepstra(x, band)
        whole = mfcc(x[:, vm.BANDS[band]], vm.N_CEPS + 1)[:, 1:]
        assert ceps.shape == (n, width)
        assert np.array_equal(ceps, whole) and np.array_equal(d, deltas(whole))
    # a voice's frames kept for scoring are those verification_score would keep of all of them
    mask = np.zeros(n, bool)
    mask[::2] = True
    every = vm.voice_frames(x, mask, "wide")
    few = vm.voice_frames(x, mask, "wide", vm.band_cepstra(x, "wide"), max_frames=300)
    assert few.shape[0] == min(300, every.shape[0])
    assert np.array_equal(few, every if every.shape[0] <= 300 else every[np.linspace(0, every.shape[0] - 1, 300).astype(int)])


def test_llr_is_the_top_components_likelihood_ratio_by_hand():
    # each frame's log-likelihood ratio, written out component by component from the densities:
    # log sum over the frame's TOP_COMPONENTS best background components of w N(x | model mean, var)
    # minus the same sum with the background's own means
    import listenkit.voicemodel as vm
    from listenkit.diarization.models import DiagGMM

    rng = np.random.default_rng(11)
    k, d = 8, 3
    ubm = DiagGMM(rng.dirichlet(np.ones(k)), rng.normal(size=(k, d)), rng.uniform(0.5, 2.0, size=(k, d)))
    means = ubm.means[None] + 0.3 * rng.normal(size=(2, k, d))
    x = rng.normal(size=(40, d)).astype(np.float32)

    def log_density(xn: np.ndarray, c: int, mu: np.ndarray) -> float:
        var = ubm.variances[c]
        return float(np.log(ubm.weights[c]) - 0.5 * np.sum(np.log(2 * np.pi * var) + (xn - mu) ** 2 / var))

    expected = np.zeros(2)
    for xn in x.astype(np.float64):
        own = [log_density(xn, c, ubm.means[c]) for c in range(k)]
        top = np.argsort(own)[::-1][: vm.TOP_COMPONENTS]
        base = np.logaddexp.reduce([own[c] for c in top])
        for i in range(2):
            expected[i] += np.logaddexp.reduce([log_density(xn, c, means[i, c]) for c in top]) - base
    expected /= len(x)
    assert np.allclose(vm._llr(ubm, means, x), expected, atol=1e-4)
    assert np.allclose(vm._llr(ubm, ubm.means[None], x), 0.0, atol=1e-4)  # the background against itself
