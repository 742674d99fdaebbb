"""The shipped model, in the real TFLite interpreter, against its card."""

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from conftest import NO_RAVDESS, RAVDESS

from device import card as cards
from device.errors import ModelError
from device.model import EmotionModel
from device.recognizer import Recognizer

SAMPLES = sorted((Path(__file__).parent.parent / "samples").glob("*.flac"))
LABEL_OF = {"01": "neutral", "02": "calm", "03": "happy", "04": "sad", "05": "angry", "06": "fearful",
            "07": "disgust", "08": "surprised"}


@pytest.fixture(scope="module")
def recognizer():
    return Recognizer()


def test_shipped_card_meets_its_targets():
    card = cards.load()
    m = card.metrics
    assert card.model_path.stat().st_size <= 300 * 1024
    assert m["int8_clean"]["ua"] >= 0.65
    assert m["int8_white_10db"]["ua"] >= 0.50
    assert abs(m["int8_drop_points"]) <= 1.5
    assert "non-commercial" in card.training["licence"]
    assert card.training["command"].startswith("python -m training ser")


def test_model_is_int8_in_and_out(recognizer):
    assert recognizer.model.quantized
    details = recognizer.model._interpreter.get_output_details()[0]
    assert details["dtype"] == np.int8


def test_bundled_samples_from_unseen_actors(recognizer):
    """Eight acted utterances by actors the model never heard: well-formed predictions, better than chance."""
    predictions = [recognizer.classify_file(p) for p in SAMPLES]
    right = sum(p.emotion == LABEL_OF[path.stem.split("-")[2]] for p, path in zip(predictions, SAMPLES, strict=True))
    assert right >= 3, [(path.name, p.emotion) for p, path in zip(predictions, SAMPLES, strict=True)]  # chance: 1
    for p in predictions:
        assert sum(p.scores.values()) == pytest.approx(1.0, abs=1e-3)
        assert p.confidence == max(p.scores.values())
        assert 1.0 < p.speech_seconds < 3.5


def test_the_device_path_reproduces_the_metrics_on_the_card(recognizer):
    """Every held-out recording through the device's own code gives exactly the card's int8 figures."""
    from training import evaluate
    from training.corpora import LABELS, load
    from training.dataset import device_windows, read_all

    if not RAVDESS.is_dir():
        pytest.skip(NO_RAVDESS)
    card = recognizer.card
    held = set(card.training["heldout_speakers"])
    clips, samples = read_all([c for c in load("ravdess", RAVDESS) if c.speaker in held], recognizer.sample_rate)
    truth = np.array([LABELS.index(c.label) for c in clips])
    m = evaluate.metrics(truth, evaluate.predict(recognizer.model.scores, device_windows(samples, card.frontend)),
                         LABELS)
    assert m["clips"] == card.metrics["int8_clean"]["clips"]
    assert m["accuracy"] == card.metrics["int8_clean"]["accuracy"]
    assert m["ua"] == card.metrics["int8_clean"]["ua"]


def test_a_model_that_breaks_its_card_is_refused(tmp_path):
    card = cards.load()
    shutil.copy(card.model_path, tmp_path / card.model_file)
    data = card.to_dict()
    data["labels"] = data["labels"][:5]
    (tmp_path / "short.json").write_text(json.dumps(data))
    with pytest.raises(ModelError, match="gives 8 scores, its card has 5 labels"):
        EmotionModel(cards.load(tmp_path / "short.json"))
    data = card.to_dict()
    data["frontend"]["nfilt"] = 40
    (tmp_path / "bands.json").write_text(json.dumps(data))
    with pytest.raises(ModelError, match=r"its card says \(1, 300, 40\)"):
        EmotionModel(cards.load(tmp_path / "bands.json"))


def test_a_corrupt_model_file_is_a_model_error(tmp_path):
    card = cards.load()
    (tmp_path / card.model_file).write_bytes(b"not a flatbuffer")
    card.save(tmp_path / "card.json")
    with pytest.raises(ModelError, match="cannot be loaded"):
        EmotionModel(cards.load(tmp_path / "card.json"))
