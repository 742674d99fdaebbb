"""The shipped model, in the real TFLite interpreter, against its card."""

import json
import shutil
from dataclasses import replace

import numpy as np
import pytest

from device import card as cards
from device.errors import ModelError
from device.model import EmotionModel
from device.recognizer import Recognizer
from tests.paths import REPO, SHARED_DATA
from tests.paths import SAMPLES as SAMPLE_DIR

SAMPLES = sorted(SAMPLE_DIR.glob("*.flac"))
LABEL_OF = {f"{code:02}": label for code, label in enumerate(cards.load().labels, start=1)}
"""RAVDESS's emotion code (the file name's third field) -> label: the card's labels are in its order."""


@pytest.fixture(scope="module")
def recognizer():
    return Recognizer()


VALIDATION = REPO / "models" / "validation"


def test_shipped_card_carries_its_validation():
    """The device budget holds, and the card's figures are the validation folds' (see models/validation/)."""
    card = cards.load()
    assert card.model_path.stat().st_size <= 300 * 1024
    assert card.training["heldout_speakers"] == []  # the shipped model heard every speaker
    assert "non-commercial" in card.training["licence"]
    for name in card.training["corpora"]:
        assert name.split("-")[0].lower() in card.training["licence"].lower()
    assert card.training["command"].startswith("python -m training ser")
    validation = card.metrics["validation"]
    assert validation == json.loads((VALIDATION / "emotune-ser.validation.json").read_text())
    assert set(validation["summary"]["loco_int8_ua"]) == set(card.training["corpora"])
    speakers = validation["folds"]["speakers"]
    assert abs(speakers["int8_drop_points"]) <= 1.5
    for fold in validation["folds"].values():  # better than chance on every corpus it held out
        for m in fold["corpora"].values():
            assert m["int8_clean"]["ua"] > 1.0 / len(m["int8_clean"]["recall"])


def test_model_is_int8_in_and_out(recognizer):
    assert recognizer.model.quantized
    details = recognizer.model._interpreter.get_output_details()[0]
    assert details["dtype"] == np.int8


def test_bundled_samples(recognizer):
    """Eight acted RAVDESS utterances (actors 17-20, heard in training): well-formed predictions, above chance."""
    predictions = [recognizer.classify_file(p) for p in SAMPLES]
    right = sum(p.emotion == LABEL_OF[path.stem.split("-")[2]] for p, path in zip(predictions, SAMPLES, strict=True))
    assert right >= 3, [(path.name, p.emotion) for p, path in zip(predictions, SAMPLES, strict=True)]  # chance: 1
    for p in predictions:
        assert sum(p.scores.values()) == pytest.approx(1.0, abs=1e-3)
        assert p.confidence == max(p.scores.values())
        assert 1.0 < p.speech_seconds < 3.5


@pytest.mark.slow
@pytest.mark.parametrize("fold", sorted(p.stem for p in VALIDATION.glob("*.tflite")))
def test_the_device_path_reproduces_each_validation_fold(fold):
    """Every held-out recording of a fold, through the device's own code (the network and its card's
    statistics head), gives exactly its figures."""
    from training import evaluate
    from training.corpora import LABELS, load
    from training.dataset import device_utterances, read_all

    report = json.loads((VALIDATION / "emotune-ser.validation.json").read_text())["folds"][fold]
    model = EmotionModel(cards.load(VALIDATION / f"{fold}.json"))
    for name, expected in report["corpora"].items():
        root = SHARED_DATA / name
        if not root.is_dir():
            pytest.skip(f"{root} not present: the corpora come from ../shared/data (see its README)")
        held = set(report["heldout_speakers"])
        clips, samples = read_all([c for c in load(name, root) if c.speaker in held], model.card.frontend.sample_rate)
        truth = np.array([LABELS.index(c.label) for c in clips])
        classes = sorted(set(truth))
        conditions = {"int8_clean": [c.speaker for c in clips]}  # a box settled on each speaker
        if model.card.frontend.listener:
            conditions["int8_clean_first"] = None  # a box hearing each clip as its first press
        for condition, speakers in conditions.items():
            heard = device_utterances(samples, model.card.frontend, speakers)
            m = evaluate.metrics(truth, evaluate.predict(model.answer, heard, classes), LABELS)
            assert (m["clips"], m["accuracy"], m["ua"]) == tuple(expected[condition][k]
                                                                for k in ("clips", "accuracy", "ua")), (name, condition)


def test_a_model_that_breaks_its_card_is_refused(tmp_path):
    # Unsigned, and without its statistics head (whose own checks would speak first, see
    # test_card.py): the checks of the model's shapes still hold.
    card = replace(cards.load(), fingerprint=None, statistics=None)
    shutil.copy(card.model_path, tmp_path / card.model_file)
    data = card.to_dict()
    data["labels"] = data["labels"][:5]
    (tmp_path / "short.json").write_text(json.dumps(data))
    with pytest.raises(ModelError, match="gives 8 scores, its card has 5 labels"):
        EmotionModel(cards.load(tmp_path / "short.json"))
    data = card.to_dict()
    data["frontend"]["nfilt"] = 40
    if "voice_prior" in data["frontend"]:  # a listener card's prior has one value per band
        data["frontend"]["voice_prior"] = data["frontend"]["voice_prior"][:40]
    (tmp_path / "bands.json").write_text(json.dumps(data))
    with pytest.raises(ModelError, match=r"its card says \(1, 300, 40\)"):
        EmotionModel(cards.load(tmp_path / "bands.json"))


def test_a_corrupt_model_file_is_a_model_error(tmp_path):
    card = cards.load()
    (tmp_path / card.model_file).write_bytes(b"not a flatbuffer")
    card.save(tmp_path / "card.json")
    with pytest.raises(ModelError, match="does not belong to"):  # signed: the fingerprint finds it first
        EmotionModel(cards.load(tmp_path / "card.json"))
    replace(card, fingerprint=None).save(tmp_path / "card.json")
    with pytest.raises(ModelError, match="cannot be loaded"):
        EmotionModel(cards.load(tmp_path / "card.json"))
