import json

import pytest

from device import card as cards
from device.errors import ModelError
from device.features import FrontEnd


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
    bad.write_text(json.dumps({"labels": ["a"], "model_file": "x.tflite"}))
    with pytest.raises(ModelError, match="bad.json lacks the field 'frontend'"):
        cards.load(bad)
    bad.write_text(json.dumps({"labels": ["a"], "model_file": "x", "frontend": {"nfilter": 3}}))
    with pytest.raises(ModelError, match="bad.json has a bad field.*nfilter"):
        cards.load(bad)
