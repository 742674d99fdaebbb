"""The utterance's place on the circumplex: the expected place of the model's probabilities."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from device.__main__ import main
from device.circumplex import EMOTIONS, Point, place
from device.recognizer import Prediction
from tests.paths import SENTENCE


@pytest.mark.parametrize("emotion", list(EMOTIONS))
def test_a_sure_answer_sits_at_its_emotion(emotion):
    assert place({e: float(e == emotion) for e in EMOTIONS}) == EMOTIONS[emotion]


def test_a_doubt_sits_between_and_scores_are_renormalised():
    between = place({"calm": 2.0, "happy": 2.0})
    assert between.arousal == pytest.approx(-0.05) and between.valence == pytest.approx(0.7)
    assert place({"sad": 0.3}) == EMOTIONS["sad"]


@given(st.lists(st.floats(0.0, 1.0), min_size=8, max_size=8).filter(lambda p: sum(p) > 1e-3))
def test_any_mix_stays_on_the_plane(probabilities):
    p = place(dict(zip(EMOTIONS, probabilities, strict=True)))
    assert -1 <= p.arousal <= 1 and -1 <= p.valence <= 1


def test_unknown_emotions_and_empty_scores_are_refused_by_name():
    with pytest.raises(ValueError, match="no place on the circumplex for bored"):
        place({"bored": 1.0, "calm": 0.0})
    with pytest.raises(ValueError, match="sum to zero"):
        place({"calm": 0.0})


def test_a_prediction_carries_its_place():
    scores = {e: 0.0 for e in EMOTIONS} | {"angry": 0.75, "fearful": 0.25}
    p = Prediction("angry", 0.75, scores, 1.0, 1.0, 1.0)
    assert (p.arousal, p.valence) == pytest.approx((0.75, -0.55))
    assert p.to_dict()["arousal"] == 0.75 and p.to_dict()["valence"] == -0.55
    assert isinstance(place(scores), Point)


def test_classify_json_gives_the_place_of_its_scores(capsys):
    assert main(["classify", "--json", str(SENTENCE)]) == 0
    line = json.loads(capsys.readouterr().out)
    expected = place(line["scores"])
    assert line["arousal"] == pytest.approx(expected.arousal, abs=2e-3)
    assert line["valence"] == pytest.approx(expected.valence, abs=2e-3)
