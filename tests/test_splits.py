from pathlib import Path

import pytest

from training import splits
from training.corpora import Clip


def clips():
    return [Clip(Path(f"{s}-{i}.wav"), "sad", f"ravdess:{s:02d}") for s in range(1, 11) for i in range(3)]


def test_no_speaker_on_both_sides():
    train, test = splits.split(clips(), ["ravdess:03", "ravdess:07"])
    assert {c.speaker for c in test} == {"ravdess:03", "ravdess:07"}
    assert not {c.speaker for c in train} & {c.speaker for c in test}
    assert len(train) + len(test) == 30


def test_picked_holdout_is_seeded_and_sized():
    a = splits.pick_holdout(clips(), 0.2, seed=1)
    assert a == splits.pick_holdout(clips(), 0.2, seed=1) and len(a) == 2
    assert splits.pick_holdout(clips(), 0.01, seed=1).__len__() == 1


def test_unknown_holdout_speaker_is_an_error():
    with pytest.raises(ValueError, match="ravdess:99"):
        splits.split(clips(), ["ravdess:99"])
