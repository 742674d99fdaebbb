"""The learning-curve bench's sets of RAVDESS actors and its line (bench/curve.py): the validations
themselves take most of an hour and are the bench's to run."""

import pytest

from bench import curve


@pytest.mark.parametrize("draw", curve.DRAWS)
def test_each_draw_nests_its_sets_and_holds_as_many_men_as_women_give_or_take_one(draw):
    sets = [set(curve.actors(size, draw)) for size in curve.SIZES]
    assert [len(s) for s in sets] == list(curve.SIZES)
    assert all(small < large for small, large in zip(sets, sets[1:], strict=False))
    assert sets[-1] == set(range(1, 21))
    for actors in sets:
        men = sum(a % 2 for a in actors)
        assert abs(men - (len(actors) - men)) <= 1


def test_the_draws_are_seeded_and_differ():
    assert curve.actors(10, 1) == curve.actors(10, 1)
    assert curve.actors(10, 1) != curve.actors(10, 2)
    assert sum(a % 2 for a in curve.actors(5, 1)) == 3 and sum(a % 2 for a in curve.actors(5, 2)) == 2


def test_a_line_through_the_points_gives_the_gain_per_doubling_of_the_actors():
    intercept, slope = curve.doubling([(4, 0.45), (8, 0.50), (16, 0.55), (16, 0.57)])
    assert slope == pytest.approx(0.0555, abs=1e-3)
    assert intercept + slope * 4 == pytest.approx(0.56, abs=0.01)  # at 16 actors, between its two points


def test_each_set_folds_train_on_four_fifths_of_it_and_all_twenty_are_one_set():
    assert [curve.training(size) for size in curve.SIZES] == [4, 8, 12, 16]
    assert curve.Curve().sets == [(5, 1), (5, 2), (10, 1), (10, 2), (15, 1), (15, 2), (20, 1)]
    five = curve.Curve(others=True, sizes=(10, 20), draws=(1,))
    assert five.folder(20, 1) == curve.VALIDATION  # beside the other corpora, all 20 is the card's own validation
    assert five.command == ".venv/bin/python bench/curve.py --others --sizes 10,20 --draws 1"
