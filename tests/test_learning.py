"""The household's learning: calibration from corrections, the playlist ranker, and their file."""

import json
import logging

import numpy as np
import pytest

from device.calibration import Calibration, CalibrationSettings
from device.learning import Learning
from device.ranker import Ranker, RankerSettings

LABELS = ("neutral", "calm", "happy", "sad")


def scores(**kw):
    base = dict.fromkeys(LABELS, 0.1)
    base.update(kw)
    total = sum(base.values())
    return {k: v / total for k, v in base.items()}


def test_calibration_waits_for_enough_corrections_then_moves_toward_them():
    cal = Calibration(LABELS, CalibrationSettings(min_corrections=8))
    heard = scores(happy=0.5, sad=0.3)  # this voice's sadness sounds happy to the model
    for _ in range(7):
        cal.learn(heard, "sad")
        assert cal.apply(heard) == heard and not cal.active  # too few: the shipped model, exactly
    cal.learn(heard, "sad")
    assert cal.active and max(cal.apply(heard), key=cal.apply(heard).get) == "sad"
    assert cal.counts() == {"sad": 8}


def test_calibration_acts_only_where_it_beats_the_shipped_model_on_corrections_it_had_not_seen():
    right, torn, helped = (Calibration(LABELS, CalibrationSettings(min_corrections=8)) for _ in range(3))
    heard = scores(happy=0.5, sad=0.3)
    for i in range(12):
        right.learn(heard, "happy")                       # the model was right every time
        torn.learn(heard, "sad" if i % 2 else "happy")    # the listener says both of the same sound
        helped.learn(heard, "sad")                        # this voice's sadness sounds happy
    assert right.evidence() == 0 and not right.active and right.apply(heard) == heard
    assert torn.evidence() <= 0 and not torn.active and torn.apply(heard) == heard
    assert torn.ready and np.any(torn.bias != 0)          # fit, but not trusted
    assert helped.evidence() == 12 and helped.active and max(helped.apply(heard), key=helped.apply(heard).get) == "sad"
    helped.forget()
    assert helped.evidence() == 0 and not helped.active
    one = Calibration(LABELS, CalibrationSettings(min_corrections=1))
    one.learn(heard, "sad")
    assert one.ready and one.evidence() == 0 and one.apply(heard) == heard  # a single correction proves nothing


def test_calibration_is_bounded_however_many_corrections_agree():
    biased, mapped = (Calibration(LABELS, CalibrationSettings(min_corrections=1, max_bias=1.0, max_weight=w, keep=50))
                      for w in (0.0, 0.25))
    for cal in (biased, mapped):
        for _ in range(500):
            cal.learn(scores(neutral=0.9), "sad")  # whenever the model hears neutral, this listener is sad
        assert np.abs(cal.bias).max() <= 1.0 + 1e-9 and np.abs(cal.weights).max() <= cal.settings.max_weight + 1e-9
        assert len(cal.corrections) == 50
    assert not biased.active  # within ±1 the biases cannot turn a 0.9 neutral into sad: it stays out of the way
    assert max(biased.apply(scores(neutral=0.97)), key=biased.apply(scores(neutral=0.97)).get) == "neutral"
    assert mapped.active
    mapped_sure = mapped.apply(scores(neutral=0.97))
    assert max(mapped_sure, key=mapped_sure.get) == "sad"  # weights learn the mapping itself...
    assert mapped_sure["sad"] < 0.9  # ...but bounded, it stays less sure than the model was
    assert ("neutral", "sad", 0.25) in mapped.leans(count=16) and biased.leans() == []  # what `calibrate` shows


def test_a_few_corrections_move_it_less_than_many():
    few, many = (Calibration(LABELS, CalibrationSettings(min_corrections=1)) for _ in range(2))
    for cal, n in ((few, 3), (many, 60)):
        for _ in range(n):
            cal.learn(scores(happy=0.4), "calm")
    assert 0 < few.bias[1] - few.bias[2] < many.bias[1] - many.bias[2]


def test_calibration_refuses_unknown_emotions_and_foreign_files():
    cal = Calibration(LABELS)
    with pytest.raises(ValueError, match="unknown emotion 'bored'"):
        cal.learn(scores(), "bored")
    with pytest.raises(ValueError, match="other labels"):
        Calibration.from_dict({"labels": ["a", "b"], "corrections": []}, LABELS)
    with pytest.raises(ValueError, match="malformed"):
        Calibration.from_dict({"labels": list(LABELS), "corrections": [{"logs": [0, 0], "emotion": "sad"}]}, LABELS)


def test_the_ranker_never_leaves_the_allowed_playlists_and_learns_the_kept_one():
    ranker = Ranker(RankerSettings(), seed=3)
    allowed = ("calm-dark", "calm-bright", "moderate-bright")
    firsts = [ranker.order("sad", allowed)[0] for _ in range(200)]
    assert set(firsts) <= set(allowed) and firsts.count("calm-dark") > 100  # the map's first leads at the start
    assert all(sorted(ranker.order("sad", allowed)) == sorted(allowed) for _ in range(20))
    for _ in range(10):
        ranker.record("sad", "moderate-bright", kept=True)
        ranker.record("sad", "calm-dark", kept=False)
    firsts = [ranker.order("sad", allowed)[0] for _ in range(200)]
    assert firsts.count("moderate-bright") > 150 and firsts.count("calm-dark") < 20
    assert ranker.order("sad", ("only",)) == ("only",) and ranker.order("sad", ()) == ()


def test_learning_survives_a_restart_forget_resets_it(tmp_path):
    path = tmp_path / "learning.json"
    learning = Learning(path, LABELS, calibration=CalibrationSettings(min_corrections=2))
    for _ in range(3):
        learning.calibration.learn(scores(happy=0.5), "sad")
    learning.ranker.record("sad", "calm-bright", kept=True)
    learning.save()
    again = Learning(path, LABELS, calibration=CalibrationSettings(min_corrections=2))
    assert again.calibration.counts() == {"sad": 3}
    assert np.allclose(again.calibration.bias, learning.calibration.bias, atol=1e-3)
    assert again.ranker.summary() == {"sad": "calm-bright kept 1 of 1 times"}
    assert path.stat().st_size < 4096  # kilobytes, not more
    again.forget()
    fresh = Learning(path, LABELS)
    assert fresh.calibration.corrections == [] and fresh.ranker.counts == {}


@pytest.mark.parametrize("content", [b"{broken", b"[1, 2]", b'{"version": 1, "outcomes": {"sad": 3}}', b"\xff\xfe",
                                     json.dumps({"version": 1, "calibration": {"labels": ["x", "y"]}}).encode()])
def test_a_corrupt_learning_file_is_reported_kept_aside_and_replaced(tmp_path, caplog, content):
    path = tmp_path / "learning.json"
    path.write_bytes(content)
    with caplog.at_level(logging.ERROR, logger="device.learning"):
        learning = Learning(path, LABELS)
    assert "cannot be used" in caplog.text and "starting afresh" in caplog.text
    assert (tmp_path / "learning.json.bad").read_bytes() == content and learning.calibration.corrections == []
    learning.ranker.record("sad", "calm-bright", kept=True)
    learning.save()
    assert Learning(path, LABELS).ranker.counts == {"sad": {"calm-bright": [1.0, 0.0]}}
