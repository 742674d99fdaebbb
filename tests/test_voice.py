"""The listener normalisation: the Voice a box keeps, the front-end relative to it, training's references."""

import json
import logging
from dataclasses import replace

import numpy as np
import pytest

from device import audio
from device.card import load
from device.endpoint import find_speech
from device.features import STRETCH, FrontEnd, extract, warp_bands
from device.learning import Learning
from device.recognizer import Recognizer
from device.voice import Voice
from tests.paths import SAMPLES, SENTENCE
from tests.sound import RATE, silence, voice

LISTENER = FrontEnd(normalisation="listener", voice_prior=tuple(np.linspace(-1, 1, 64)))
LABELS = ("neutral", "calm", "happy", "sad")


def test_a_fresh_voice_is_the_prior_at_the_utterances_level():
    v = LISTENER.voice()
    spectrum = np.full(64, -3.0, dtype=np.float32)
    np.testing.assert_allclose(v.reference(spectrum), np.asarray(LISTENER.voice_prior) - 3.0, atol=1e-6)


def test_the_voice_settles_on_its_listener_and_follows_a_new_one():
    v = Voice(np.zeros(64))
    first, second = np.full(64, 2.0), np.full(64, -4.0)
    for _ in range(200):
        v.hear(first)
    assert v.heard == v.horizon
    w = v.horizon / (v.horizon + v.prior_weight)
    np.testing.assert_allclose(v.reference(np.zeros(64)), w * first, atol=1e-5)  # mostly the listener now
    for _ in range(3 * v.horizon):
        v.hear(second)
    assert np.all(np.abs(v.mean - second) < 0.5)  # the old listener is (nearly) forgotten


def test_relative_to_a_settled_voice_loudness_is_heard_on_a_first_press_it_is_not():
    x = audio.load(SENTENCE)
    settled = LISTENER.voice()
    for _ in range(10):
        settled.hear(extract(x, LISTENER).spectrum)
    frames = slice(100, 200)  # speech, not the padding
    loud, quiet = (extract(x * g, LISTENER, settled).windows[0][frames] for g in (1.0, 0.5))
    settled_share = settled.heard / (settled.heard + settled.prior_weight)  # the rest follows the utterance
    assert np.mean(loud - quiet) == pytest.approx(settled_share * 2 * np.log(2.0), abs=0.02)  # half amplitude: -6 dB
    first_loud, first_quiet = (extract(x * g, LISTENER).windows[0][frames] for g in (1.0, 0.5))
    np.testing.assert_allclose(first_loud, first_quiet, atol=0.05)
    assert extract(x, LISTENER, settled).windows.dtype == np.float32


def test_the_voice_prior_travels_on_the_card():
    data = LISTENER.to_dict()
    assert data["normalisation"] == "listener" and len(data["voice_prior"]) == 64
    again = FrontEnd.from_dict(json.loads(json.dumps(data)))
    np.testing.assert_allclose(again.voice_prior, LISTENER.voice_prior, atol=1e-5)
    assert "voice_prior" not in FrontEnd().to_dict()  # an utterance-normalised card carries none
    with pytest.raises(ValueError, match="normalisation 'speaker'"):
        FrontEnd(normalisation="speaker")


def test_a_dc_offset_does_not_hide_the_speech():
    """SAVEE's neutral clips sit on a +0.04 DC offset: the speech is still found."""
    x = np.concatenate([silence(1.0), voice(1.5), silence(1.0)]) + np.float32(0.04)
    segment = find_speech(x, RATE)
    assert segment is not None and abs(segment.seconds - 1.7) < 0.3


def test_the_learning_file_keeps_the_voice_and_forget_resets_it(tmp_path):
    path = tmp_path / "learning.json"
    learning = Learning(path, LABELS, voice=LISTENER.voice())
    for level in (1.0, 2.0, 3.0):
        learning.voice.hear(np.full(64, level))
    learning.save()
    again = Learning(path, LABELS, voice=LISTENER.voice())
    assert again.voice.heard == 3 and np.allclose(again.voice.mean, 2.0)
    assert again.summary()["voice_heard"] == 3
    again.forget()
    assert Learning(path, LABELS, voice=LISTENER.voice()).voice.heard == 0


@pytest.mark.parametrize("stored", [{"heard": 2, "mean": [1.0, 2.0]}, {"heard": 2, "mean": [None] * 64},
                                    {"heard": 999, "mean": [0.0] * 64}, [1, 2, 3], {"heard": "x", "mean": None}])
def test_a_voice_that_does_not_fit_is_reported_and_starts_afresh_alone(tmp_path, caplog, stored):
    path = tmp_path / "learning.json"
    kept = Learning(path, LABELS)
    kept.calibration.learn(dict.fromkeys(LABELS, 1 / len(LABELS)), "sad")
    kept.save()
    data = json.loads(path.read_text())
    path.write_text(json.dumps({**data, "voice": stored}))
    with caplog.at_level(logging.ERROR, logger="device.learning"):
        learning = Learning(path, LABELS, voice=LISTENER.voice())
    assert f"the voice in the learning file {path} does not fit this model" in caplog.text
    assert learning.voice.heard == 0 and learning.voice.mean is None
    assert len(learning.calibration.corrections) == 1  # what the household taught it is kept
    assert not (tmp_path / "learning.json.bad").exists()


@pytest.fixture
def listener_card(tmp_path):
    """The shipped model under a listener-normalised card (for the recognizer's plumbing, not its accuracy)."""
    card = load()
    (tmp_path / card.model_file).write_bytes(card.model_path.read_bytes())
    path = tmp_path / "listener.json"
    replace(card, frontend=replace(card.frontend, normalisation="listener",
                                   voice_prior=LISTENER.voice_prior)).save(path)
    return path


def test_a_listening_recognizer_hears_relative_to_its_voice_and_learns_it(listener_card):
    listening, files = Recognizer(listener_card, listening=True), Recognizer(listener_card)
    assert files.voice is None and listening.voice.heard == 0
    clips = sorted(SAMPLES.glob("*.flac"))
    for path in clips:
        listening.classify_file(path)
    assert listening.voice.heard == len(clips)
    first = [files.classify_file(p).scores for p in clips]
    assert first == [files.classify_file(p).scores for p in clips]  # files: every one a first press
    settled = listening.classify_file(clips[0]).scores
    assert settled != first[0]


def test_a_set_is_heard_as_one_listener_in_any_order():
    v, w = Voice(np.zeros(3), horizon=4), Voice(np.zeros(3), horizon=4)
    spectra = [np.array([1.0, 0.0, 0.0]), np.array([0.0, 3.0, 0.0]), np.array([2.0, 0.0, 6.0])]
    v.hear_all(spectra)
    w.hear_all(spectra[::-1])
    np.testing.assert_allclose(v.mean, [1.0, 1.0, 2.0])
    assert v.heard == 3 and np.array_equal(v.mean, w.mean)
    v.hear_all(spectra * 2)
    assert v.heard == v.horizon  # weighed as many presses as the box would count, no more
    v.hear_all([])
    assert v.mean is None and v.heard == 0


def test_a_voice_balances_what_the_model_usually_answers_for_it():
    v = Voice(np.zeros(3))
    heard = np.array([0.5, 0.3, 0.2])
    np.testing.assert_array_equal(v.balance(heard), heard)  # nothing answered yet: the model's own scores
    for _ in range(100):
        v.answer(np.array([0.9, 0.05, 0.05]))  # the model hears the first in everything this voice says
    assert v.answered == v.horizon
    quarter, whole = v.balance(heard, 0.25), v.balance(heard, 1.0)
    assert quarter.sum() == pytest.approx(1.0) and whole.sum() == pytest.approx(1.0)
    assert whole[0] < quarter[0] < heard[0] and whole[1] > quarter[1] > heard[1]  # the habit counts less
    np.testing.assert_array_equal(v.balance(heard, 0.0), heard)


def test_the_voices_usual_answer_survives_a_restart_and_a_damaged_one_is_refused():
    v = Voice(np.zeros(3))
    v.hear(np.ones(3))
    v.answer(np.array([0.7, 0.2, 0.1]))
    again = Voice(np.zeros(3))
    again.load(json.loads(json.dumps(v.to_dict())))
    assert again.answered == 1 and np.allclose(again.answers, [0.7, 0.2, 0.1]) and again.heard == 1
    with pytest.raises(ValueError, match="answers"):
        again.load({**v.to_dict(), "answers": [0.5, -0.5, 1.0]})
    with pytest.raises(ValueError, match="answers as 4 probabilities"):
        again.load(v.to_dict(), labels=4)  # another model's habits
    again.load({"heard": 1, "mean": [1.0, 1.0, 1.0]})  # a file from before answers were kept
    assert again.answers is None and again.answered == 0 and again.heard == 1


def test_a_balanced_recognizer_takes_the_sets_usual_answer_off_each_of_its_answers(listener_card):
    clips = sorted(SAMPLES.glob("*.flac"))
    plain, balanced = Recognizer(listener_card), Recognizer(listener_card, balance=0.5)
    plain.settle(clips)
    balanced.settle(reversed(clips))  # any order, any iterable
    assert plain.voice.answers is None and balanced.voice.answered == len(clips)
    raw = np.array([list(plain.classify_file(p).scores.values()) for p in clips])
    np.testing.assert_allclose(balanced.voice.answers, raw.mean(axis=0), rtol=1e-5)
    w = len(clips) / (len(clips) + balanced.voice.prior_weight)
    usual = w * raw.mean(axis=0) + (1 - w) / raw.shape[1]
    for path, scores in zip(clips, raw, strict=True):
        expected = scores / np.sqrt(usual)
        np.testing.assert_allclose(list(balanced.classify_file(path).scores.values()), expected / expected.sum(),
                                   rtol=1e-5)
    listening = Recognizer(listener_card, listening=True, balance=0.25)
    for path in clips:
        listening.classify_file(path)
    assert listening.voice.answered == len(clips) == listening.voice.heard  # a box learns its habit as it goes


def test_a_settled_recognizer_hears_every_file_relative_to_the_sets_voice(listener_card, tmp_path):
    clips = sorted(SAMPLES.glob("*.flac"))
    silent = tmp_path / "silent.wav"
    import soundfile

    soundfile.write(silent, silence(1.0), RATE)
    recognizer = Recognizer(listener_card, stretch=0.0)  # heard once: the stretch has its own test
    assert recognizer.settle([*clips, silent, tmp_path / "gone.flac"]) == len(clips)  # the others left out
    fe = recognizer.card.frontend
    expected, heard = fe.voice(), [extract(audio.load(p), fe) for p in clips]
    expected.hear_all([u.spectrum for u in heard], [u.dynamics for u in heard])
    for path in clips:
        scores = recognizer.classify_file(path).scores
        np.testing.assert_array_equal(list(scores.values()),
                                      recognizer.model.answer(extract(audio.load(path), fe, expected)))
    assert recognizer.voice.heard == len(clips)  # fixed: classifying does not move it


def test_a_recognizer_answers_the_mean_of_the_utterance_heard_as_spoken_and_stretched_both_ways():
    clip = sorted(SAMPLES.glob("*.flac"))[0]
    from device.statistics import blended

    box, once = Recognizer(), Recognizer(stretch=0.0)
    fe, head = once.card.frontend, once.card.statistics
    utterance = extract(audio.load(clip), fe)
    windows = utterance.windows
    assert box.stretch == STRETCH > 0
    np.testing.assert_array_equal(list(once.classify_file(clip).scores.values()),
                                  blended(once.model.scores(windows), head, utterance.statistics))
    views = [once.model.scores(v) for v in (windows, warp_bands(windows, 1 - STRETCH, fe),
                                            warp_bands(windows, 1 + STRETCH, fe))]
    np.testing.assert_allclose(list(box.classify_file(clip).scores.values()),
                               blended(np.mean(views, axis=0), head, utterance.statistics), rtol=1e-5)


def test_settling_does_nothing_for_a_card_without_listener_normalisation(tmp_path):
    card = load()
    (tmp_path / card.model_file).write_bytes(card.model_path.read_bytes())
    path = tmp_path / "utterance.json"
    replace(card, statistics=None,  # a head reads against a listener: no listener, no head
            frontend=replace(card.frontend, normalisation="utterance", voice_prior=(), dynamics_prior=())).save(path)
    recognizer = Recognizer(path)
    clip = sorted(SAMPLES.glob("*.flac"))[0]
    before = recognizer.classify_file(clip).scores
    assert recognizer.settle(SAMPLES.glob("*.flac")) == 0 and recognizer.voice is None
    assert recognizer.classify_file(clip).scores == before


def examples_of_two_speakers():
    """Clean and augmented (louder by 1) examples of four clips, two per speaker, constant spectra."""
    from training.dataset import Examples

    rng = np.random.default_rng(0)
    clips = np.array([0, 0, 1, 1, 2, 2, 3, 3])
    base = {0: 1.0, 1: 3.0, 2: -2.0, 3: -4.0}
    feats = [np.full((50, 64), base[c] + (k % 2), np.float32) + rng.normal(0, 0.01, (50, 64)).astype(np.float32)
             for k, c in enumerate(clips)]
    data = Examples(feats, np.zeros(8, np.int32), clips, np.zeros(8, np.int32))
    return data, np.array(["a:1", "a:1", "b:1", "b:1"])


def test_training_draws_references_from_a_first_press_to_a_settled_box():
    from training.voices import References, prior

    data, speakers = examples_of_two_speakers()
    fe = replace(LISTENER, voice_prior=prior(data, speakers))
    assert abs(np.mean(fe.voice_prior)) < 1e-6
    refs = References(data, speakers, fe, seed=0, subset=2)
    settled = refs.settle(np.arange(8)).mean(axis=1)
    np.testing.assert_allclose(settled, [2, 3, 2, 3, -3, -2, -3, -2], atol=0.05)  # speaker mean, at the copy's gain
    drawn = refs.draw(np.arange(8).repeat(50), np.random.default_rng(1)).mean(axis=1).reshape(8, 50)
    level = np.array([f.mean() for f in data.features])
    low, high = np.minimum(settled, level)[:, None] - 0.05, np.maximum(settled, level)[:, None] + 0.05
    assert np.all((drawn >= low) & (drawn <= high))  # between the first press and the settled box
    assert np.all(drawn.std(axis=1)[level != settled] > 0.05)  # and spread over that range


def test_level_jitter_moves_the_listeners_reference_by_a_level_within_its_range():
    from training.voices import NATS_PER_DB, References, prior

    data, speakers = examples_of_two_speakers()
    fe = replace(LISTENER, voice_prior=prior(data, speakers))
    rows = np.zeros(400, dtype=np.int64)
    plain = References(data, speakers, fe, seed=0, subset=2)
    moved = References(data, speakers, fe, seed=0, subset=2, jitter=6.0)
    a, b = plain.draw(rows, np.random.default_rng(1)), moved.draw(rows, np.random.default_rng(1))
    shift = (b - a) / NATS_PER_DB  # the same draws, then the jitter: its share of the blend, in dB
    assert np.allclose(shift, shift[:, :1], atol=1e-3)  # every band alike: a level, not a colour
    assert np.abs(shift).max() <= 6.0 + 1e-3 and np.abs(shift).max() > 4.0
    assert (shift[:, 0] > 1).any() and (shift[:, 0] < -1).any()  # nearer and further
    assert np.array_equal(plain.settle(rows), moved.settle(rows))  # calibration hears the settled box as it is


def test_a_box_settled_in_the_augmented_room_hears_the_room_in_its_reference():
    """An augmented copy (here: louder by 1 and +2 dB-ish in the upper half of the bands, like a
    noisy room) is heard relative to a reference that has the same room in it, so the room cancels
    and the copy looks like its clean clip to the model; ``level`` moves the reference by the
    copy's overall level only; ``mixed`` by its level and a random share of the rest (a half when
    settled)."""
    from training.voices import References, prior

    data, speakers = examples_of_two_speakers()
    for k in range(1, 8, 2):
        data.features[k][:, 32:] += 2.0
    fe = replace(LISTENER, voice_prior=prior(data, speakers))
    rows = np.arange(8)
    heard = {room: np.stack([f.mean(axis=0) for f in data.features]) - References(
        data, speakers, fe, seed=0, subset=2, room=room).settle(rows) for room in ("bands", "level", "mixed")}
    np.testing.assert_allclose(heard["bands"][1::2], heard["bands"][0::2], atol=0.05)  # the room is gone
    colour = heard["level"][1::2] - heard["level"][0::2]
    np.testing.assert_allclose(colour[:, :32], -1.0, atol=0.05)  # the level only: the colour is left
    np.testing.assert_allclose(colour[:, 32:], 1.0, atol=0.05)
    np.testing.assert_allclose(heard["mixed"][1::2] - heard["mixed"][0::2], colour / 2, atol=0.05)
    mixed = References(data, speakers, fe, seed=0, room="mixed")
    shares = np.stack([mixed.room(np.array([1]), np.random.default_rng(k))[0] for k in range(50)])
    share = (shares[:, 40] - shares[:, 0]) / 2.0  # of the copy's colour: 0 at level, 1 at bands
    assert 0 <= share.min() < 0.2 and 0.8 < share.max() <= 1
    with pytest.raises(ValueError, match="room 'kitchen'"):
        References(data, speakers, fe, seed=0, room="kitchen")


def test_evaluation_hears_each_speaker_as_a_settled_box():
    from training.dataset import device_windows, settled_voices

    x = [audio.load(p) for p in sorted(SAMPLES.glob("*.flac"))[:4]]
    who = ["s:1", "s:1", "s:2", "s:2"]
    voices = settled_voices(x, LISTENER, who)
    assert {k: v.heard for k, v in voices.items()} == {"s:1": 2, "s:2": 2}
    settled, first = device_windows(x, LISTENER, who), device_windows(x, LISTENER)
    for clip, speaker, w, f in zip(x, who, settled, first, strict=True):
        assert np.array_equal(w, extract(clip, LISTENER, voices[speaker]).windows)
        assert np.array_equal(f, extract(clip, LISTENER).windows)


def test_the_voice_learns_how_much_its_listener_usually_moves_and_keeps_it():
    prior = np.full(128, 2.0)
    v = Voice(np.zeros(64), dynamics_prior=prior)
    np.testing.assert_allclose(v.usual_dynamics(), prior)  # nobody heard: the card's prior
    for _ in range(5):
        v.hear(np.zeros(64), np.full(128, 4.0))
    np.testing.assert_allclose(v.usual_dynamics(), 3.0, atol=1e-5)  # 5 heard against a prior worth 5
    v.hear(np.zeros(64))  # a spectrum alone leaves the dynamics as they were
    assert (v.heard, v.moved) == (6, 5)
    again = Voice(np.zeros(64), dynamics_prior=prior)
    again.load(json.loads(json.dumps(v.to_dict())))
    np.testing.assert_allclose(again.usual_dynamics(), v.usual_dynamics(), atol=1e-4)
    older = {k: val for k, val in v.to_dict().items() if k not in ("dynamics", "moved")}  # a file before them
    again.load(older)
    assert again.heard == 6 and again.dynamics is None
    np.testing.assert_allclose(again.usual_dynamics(), prior)
    with pytest.raises(ValueError, match="expected 128 finite dynamics"):
        again.load({**v.to_dict(), "dynamics": [1.0] * 64})
    v.hear_all([np.zeros(64)] * 3, [np.ones(128)] * 3)
    assert v.moved == 3 and np.allclose(v.dynamics, 1.0)
    v.forget()
    assert v.dynamics is None and v.moved == 0


def test_an_utterances_statistics_are_its_level_and_movement_against_its_listeners():
    from device.features import dynamics, speech_features

    x = audio.load(SENTENCE)
    fe = replace(LISTENER, dynamics_prior=tuple(np.full(128, 0.5)))
    feats = speech_features(x, fe)[0]
    moves = dynamics(feats)
    np.testing.assert_allclose(moves[:64], feats.std(axis=0), rtol=1e-5)
    np.testing.assert_allclose(moves[64:], np.abs(np.diff(feats, axis=0)).mean(axis=0), rtol=1e-5)
    settled = fe.voice()
    settled.hear_all([feats.mean(axis=0)], [moves])
    heard = extract(x, fe, settled)
    np.testing.assert_allclose(heard.statistics[:64], heard.spectrum - settled.reference(heard.spectrum), atol=1e-5)
    np.testing.assert_allclose(heard.statistics[64:], moves - settled.usual_dynamics(), atol=1e-5)
    np.testing.assert_allclose(extract(x, fe).statistics[64:], moves - 0.5, atol=1e-5)  # a first press: the prior
    assert extract(x, FrontEnd()).statistics is None  # utterance normalisation: no listener to read it against


def test_a_cards_statistics_head_changes_the_answer_and_a_listening_box_learns_the_dynamics(tmp_path):
    import shutil

    from device.statistics import StatisticsHead

    shipped = load()
    shutil.copy(shipped.model_path, tmp_path / shipped.model_file)
    rng = np.random.default_rng(0)
    head = StatisticsHead(pool=4, centre=(0.0,) * 48, scale=(1.0,) * 48, weight=1.0, intercept=(0.0,) * 8,
                          coef=tuple(tuple(row) for row in rng.normal(0, 2, (8, 48))))
    fe = replace(shipped.frontend, dynamics_prior=shipped.frontend.dynamics_prior or tuple(np.ones(128)))
    answers = {}
    for weight in (None, 0.0, 1.0):
        card = replace(shipped, frontend=fe, statistics=None if weight is None else replace(head, weight=weight),
                       path=None)
        box = Recognizer(card.save(tmp_path / f"w{weight}.json"), listening=True)
        answers[weight] = [box.classify_file(p).scores for p in sorted(SAMPLES.glob("*.flac"))[:4]]
        assert box.voice.moved == box.voice.heard == 4  # it heard how each utterance moved
    assert answers[0.0] == answers[None]  # a head of weight 0 is no head
    assert answers[1.0] != answers[0.0]  # the head's opinion counts
