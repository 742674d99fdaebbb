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


def test_the_rotation_holds_every_other_speaker_out_once_in_groups_alike_in_size():
    both = clips() + [Clip(Path(f"t{s}.wav"), "sad", f"tess:{s}") for s in ("OAF", "YAF")]
    first = ["ravdess:03", "ravdess:07", "tess:OAF"]
    groups = splits.rotation(both, first, 5, seed=1)
    assert len(groups) == 4
    held = [s for g in groups for s in g]
    assert sorted(held + first) == splits.speakers(both)  # everyone once, the first fold's untouched
    assert {len(g) for g in groups} == {2, 3}  # 9 others dealt on from corpus to corpus
    assert groups == splits.rotation(both, first, 5, seed=1) != splits.rotation(both, first, 5, seed=2)
    assert len(splits.rotation(both, first, 20, seed=1)) == 9  # one each; no fold holds out nobody
