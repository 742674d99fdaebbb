"""From an emotion to playlists: ``lift`` walks from the mood toward calm/happy, ``match`` stays."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from training.cluster import Cluster
from training.corpora import LABELS
from training.moodmap import EMOTIONS, GOOD, MATCH_SLACK, Point, emotion_map, lift, match, place, target


def playlist(name: str, arousal: float, valence: float) -> Cluster:
    return Cluster(name, (), arousal, valence)


QUADRANTS = [playlist("calm-bright", -0.75, 0.4), playlist("calm-dark", -0.75, -0.8),
             playlist("energetic-bright", 0.7, 0.85), playlist("energetic-dark", 0.8, -0.45)]
"""Where the four synthetic moods land (see test_playlists)."""


def test_the_eight_emotions_of_the_model_have_places_on_the_plane():
    assert set(EMOTIONS) == set(LABELS) and len(LABELS) == 8
    assert all(-1 <= p.arousal <= 1 and -1 <= p.valence <= 1 for p in EMOTIONS.values())
    assert EMOTIONS["sad"].valence < 0 > EMOTIONS["sad"].arousal
    assert EMOTIONS["happy"].valence > 0 < EMOTIONS["happy"].arousal


@pytest.mark.parametrize(("emotion", "goal"), [("sad", "calm"), ("calm", "calm"), ("angry", "happy"),
                                               ("happy", "happy"), ("surprised", "happy")])
def test_the_target_is_the_nearest_point_of_the_calm_to_happy_segment(emotion, goal):
    assert target(EMOTIONS[emotion]).distance(EMOTIONS[goal]) == pytest.approx(0, abs=1e-12)


def test_a_mood_between_calm_and_happy_targets_its_own_foot_on_the_segment():
    calm, happy = GOOD
    middle = Point((calm.arousal + happy.arousal) / 2, (calm.valence + happy.valence) / 2)
    assert target(middle).distance(middle) == pytest.approx(0, abs=1e-12)
    foot = target(EMOTIONS["neutral"])
    assert min(calm.valence, happy.valence) < foot.valence < max(calm.valence, happy.valence)


def test_lift_starts_at_the_mood_and_steps_to_a_better_place():
    assert lift(EMOTIONS["sad"], QUADRANTS) == ["calm-dark", "calm-bright"]
    assert lift(EMOTIONS["angry"], QUADRANTS) == ["energetic-dark", "energetic-bright"]
    assert lift(EMOTIONS["happy"], QUADRANTS) == ["energetic-bright"]
    assert lift(EMOTIONS["calm"], QUADRANTS) == ["calm-bright"]


def test_lift_takes_the_gradual_way_through_what_lies_between():
    lists = QUADRANTS + [playlist("calm-neutral", -0.6, -0.1)]
    assert lift(EMOTIONS["sad"], lists) == ["calm-dark", "calm-neutral", "calm-bright"]


def test_match_stays_with_the_mood():
    assert match(EMOTIONS["sad"], QUADRANTS) == ["calm-dark"]
    assert match(EMOTIONS["angry"], QUADRANTS)[0] == "energetic-dark"
    near = QUADRANTS + [playlist("energetic-dark-2", 0.6, -0.6)]
    assert set(match(EMOTIONS["angry"], near)) == {"energetic-dark", "energetic-dark-2"}


def test_emotion_map_covers_every_emotion_with_known_playlists():
    for strategy in ("lift", "match"):
        mapping = emotion_map(QUADRANTS, strategy)
        assert set(mapping) == set(EMOTIONS)
        assert all(names and set(names) <= {c.name for c in QUADRANTS} for names in mapping.values())
    assert emotion_map(QUADRANTS, "lift") != emotion_map(QUADRANTS, "match")


def test_emotion_map_refuses_unknown_strategy_and_no_playlists():
    with pytest.raises(ValueError, match="unknown strategy 'soothe'"):
        emotion_map(QUADRANTS, "soothe")
    with pytest.raises(ValueError, match="no playlists"):
        emotion_map([], "lift")


coordinate = st.floats(-1, 1, allow_nan=False)
clusters = st.lists(st.tuples(coordinate, coordinate), min_size=1, max_size=10).map(
    lambda points: [playlist(f"p{i}", a, v) for i, (a, v) in enumerate(points)])


@settings(max_examples=200, deadline=None)
@given(clusters=clusters, mood=st.tuples(coordinate, coordinate))
def test_lift_from_anywhere_begins_near_the_mood_ends_near_the_target_and_always_gets_closer(clusters, mood):
    mood = Point(*mood)
    goal = target(mood)
    names = lift(mood, clusters)
    by_name = {c.name: place(c) for c in clusters}
    assert by_name[names[0]].distance(mood) == min(p.distance(mood) for p in by_name.values())
    assert by_name[names[-1]].distance(goal) == pytest.approx(min(p.distance(goal) for p in by_name.values()))
    steps = [by_name[n].distance(goal) for n in names]
    assert all(later < earlier for earlier, later in zip(steps, steps[1:], strict=False))


@settings(max_examples=200, deadline=None)
@given(clusters=clusters, mood=st.tuples(coordinate, coordinate))
def test_match_gives_the_nearest_first_and_only_those_close_to_it(clusters, mood):
    mood = Point(*mood)
    names = match(mood, clusters)
    by_name = {c.name: place(c) for c in clusters}
    distances = [by_name[n].distance(mood) for n in names]
    assert distances == sorted(distances)
    assert distances[0] == min(p.distance(mood) for p in by_name.values())
    assert distances[-1] <= distances[0] + MATCH_SLACK
