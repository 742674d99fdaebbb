import json
import logging

import pytest

from device import card as cards
from device.errors import ModelError
from device.features import FrontEnd
from device.model import EmotionModel


def test_card_round_trips(tmp_path):
    card = cards.ModelCard(labels=("calm", "angry"), frontend=FrontEnd(nfilt=40), model_file="m.tflite",
                           training={"seed": 1}, metrics={"ua": 0.5})
    loaded = cards.load(card.save(tmp_path / "m.json"))
    assert loaded == card and loaded.model_path == tmp_path / "m.tflite"
    assert cards.load(tmp_path / "m.tflite") == card  # the model's path finds its card


def test_missing_card_names_the_file(tmp_path):
    with pytest.raises(ModelError, match=r"nothing\.json not found"):
        cards.load(tmp_path / "nothing.json")


def test_unreadable_and_incomplete_cards_name_file_and_field(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(ModelError, match="bad.json is unreadable"):
        cards.load(bad)
    bad.write_text(json.dumps({"labels": ["a", "b"], "model_file": "x.tflite"}))
    with pytest.raises(ModelError, match="bad.json lacks the field 'frontend'"):
        cards.load(bad)
    bad.write_text(json.dumps({"labels": ["a", "b"], "model_file": "x", "frontend": {"nfilter": 3}}))
    with pytest.raises(ModelError, match="bad.json: unknown field frontend.nfilter"):
        cards.load(bad)


def shipped_copy(tmp_path, **changes):
    """The shipped card and model copied into ``tmp_path``, with ``changes`` made to the card's JSON."""
    data = json.loads(cards.DEFAULT_CARD.read_text())
    data.update(changes)
    (tmp_path / data["model_file"]).write_bytes((cards.DEFAULT_CARD.parent / data["model_file"]).read_bytes())
    path = tmp_path / "card.json"
    path.write_text(json.dumps(data))
    return path


def test_the_shipped_cards_are_signed_by_their_models():
    for path in [cards.DEFAULT_CARD, *cards.DEFAULT_CARD.parent.glob("validation/*.tflite")]:
        card = cards.load(path)
        assert card.fingerprint and card.verify() is None


def test_labels_reordered_or_another_model_file_are_refused(tmp_path):
    labels = json.loads(cards.DEFAULT_CARD.read_text())["labels"]
    swapped = [labels[1], labels[0], *labels[2:]]
    with pytest.raises(ModelError, match="does not belong to .*fingerprint differs"):
        EmotionModel(cards.load(shipped_copy(tmp_path, labels=swapped)))
    path = shipped_copy(tmp_path)
    other = cards.DEFAULT_CARD.parent / "validation" / "speakers.tflite"
    (tmp_path / "emotune-ser.tflite").write_bytes(other.read_bytes())
    with pytest.raises(ModelError, match="does not belong to"):
        EmotionModel(cards.load(path))


def test_an_unsigned_card_works_with_a_warning(tmp_path, caplog):
    path = shipped_copy(tmp_path)
    data = json.loads(path.read_text())
    del data["fingerprint"]
    path.write_text(json.dumps(data))
    with caplog.at_level(logging.WARNING, logger="device.card"):
        EmotionModel(cards.load(path))
    assert "has no fingerprint" in caplog.text


@pytest.mark.parametrize("change, message", [
    ({"labels": ["calm", "calm", "sad"]}, "labels must be unique: calm repeated"),
    ({"labels": ["calm"]}, "labels must be a list of at least two names"),
    ({"labels": ["calm", 3]}, "each label must be a non-empty string, not 3"),
    ({"frontend": {"sample_rate": 0}}, "frontend.sample_rate must be above 0, not 0"),
    ({"frontend": {"max_windows": 0}}, "frontend.max_windows must be above 0, not 0"),
    ({"frontend": {"frames": "300"}}, "frontend.frames must be a whole number, not '300'"),
    ({"frontend": {"frames": 300.5}}, "frontend.frames must be a whole number, not 300.5"),
    ({"frontend": {"winlen": True}}, "frontend.winlen must be a number, not True"),
    ({"frontend": {"nfilter": 3}}, "unknown field frontend.nfilter"),
    ({"frontend": {"endpoint": {"pad_seconds": "x"}}}, "frontend.endpoint.pad_seconds must be a number"),
    ({"frontend": {"highfreq": 9000.0}}, "need 0 <= lowfreq < highfreq <= sample_rate / 2"),
    ({"frontend": []}, "frontend must be a JSON object"),
    ({"model_file": ""}, "model_file must be a non-empty string"),
])
def test_each_bad_field_is_one_line_naming_it(tmp_path, change, message):
    path = tmp_path / "bad.json"
    path.write_text(json.dumps({"labels": ["calm", "sad"], "model_file": "m.tflite", "frontend": {}, **change}))
    with pytest.raises(ModelError) as error:
        cards.load(path)
    assert str(error.value).startswith(f"model card {path}: ") and message in str(error.value)
    assert "\n" not in str(error.value)


def _head(labels: int = 2, inputs: int = 48, weight: float = 0.25) -> dict:
    return {"pool": 4, "weight": weight, "centre": [0.0] * inputs, "scale": [1.0] * inputs,
            "intercept": [0.0] * labels, "coef": [[0.1] * inputs for _ in range(labels)]}


LISTENING = {"normalisation": "listener", "voice_prior": [0.0] * 64, "dynamics_prior": [1.0] * 128}


def test_a_statistics_head_round_trips_with_its_card(tmp_path):
    from device.statistics import StatisticsHead

    card = cards.ModelCard(labels=("calm", "angry"), frontend=FrontEnd.from_dict(LISTENING), model_file="m.tflite",
                           statistics=StatisticsHead.from_dict(_head()))
    loaded = cards.load(card.save(tmp_path / "m.json"))
    assert loaded == card and loaded.statistics.weight == 0.25 and len(loaded.frontend.dynamics_prior) == 128
    assert "statistics" not in cards.ModelCard(("calm", "angry"), FrontEnd(), "m.tflite").to_dict()  # none: as before


@pytest.mark.parametrize("head, frontend, message", [
    (_head(labels=3), LISTENING, "statistics has 3 rows of weights, the card 2 labels"),
    (_head(inputs=24), LISTENING, "statistics needs listener normalisation and 3 x nfilt / pool inputs (48"),
    (_head(inputs=40), LISTENING, "statistics: a pool of at least 1 and 3 x bands centres and scales"),
    (_head(), {}, "statistics needs listener normalisation"),
    (_head(), {**LISTENING, "dynamics_prior": [1.0] * 64}, "statistics needs frontend.dynamics_prior of 2 x nfilt"),
    ({**_head(), "scale": [0.0] * 48}, LISTENING, "statistics.scale must be above 0"),
    ({**_head(), "weight": -1}, LISTENING, "statistics.weight must be 0 or more"),
    ({**_head(), "coef": "x"}, LISTENING, "statistics.coef must be a list of rows"),
    ({k: v for k, v in _head().items() if k != "centre"}, LISTENING, "statistics lacks the field 'centre'"),
])
def test_a_bad_statistics_head_is_one_line_naming_it(tmp_path, head, frontend, message):
    path = tmp_path / "bad.json"
    path.write_text(json.dumps({"labels": ["calm", "sad"], "model_file": "m.tflite", "frontend": frontend,
                                "statistics": head}))
    with pytest.raises(ModelError) as error:
        cards.load(path)
    assert str(error.value).startswith(f"model card {path}: ") and message in str(error.value)
    assert "\n" not in str(error.value)
