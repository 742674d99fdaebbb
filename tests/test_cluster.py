"""K-Means groups tracks by their sound; arousal and valence follow the documented formulas."""

from __future__ import annotations

import logging

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from training.cluster import (
    AROUSAL,
    MOOD_WEIGHTS,
    TIMBRE_FEATURES,
    VALENCE,
    ClusterSettings,
    choose_k,
    cluster,
    columns,
    design,
    formula_place,
    name_for,
    unique_names,
    zscores,
)
from training.track_features import TrackFeatures

# The cues of each quadrant: loudness dB, tempo BPM, onsets/s, mode, brightness.
QUADRANTS = {
    "happy": (-12.0, 140.0, 4.5, 0.4, 0.30),
    "angry": (-12.0, 150.0, 5.0, -0.2, 0.08),
    "calm": (-30.0, 66.0, 0.4, 0.4, 0.20),
    "sad": (-30.0, 58.0, 0.5, -0.2, 0.02),
}


def track(loudness: float, tempo: float, onsets: float, mode: float, brightness: float,
          rng: np.random.Generator | None = None) -> TrackFeatures:
    """Features with the given cues (a little jitter when ``rng`` is given) and a timbre to match."""
    jitter = (lambda scale: float(rng.normal(0, scale))) if rng else (lambda scale: 0.0)
    return TrackFeatures(
        loudness_db=loudness + jitter(1.0), dynamics_db=10 + jitter(1.0), tempo_bpm=tempo + jitter(3.0),
        onset_rate=onsets + jitter(0.1), centroid_hz=500 + 4000 * brightness + jitter(30.0),
        brightness=brightness + jitter(0.005), flatness=0.01 + abs(jitter(0.002)), mode=mode + jitter(0.03),
        key="C major" if mode > 0 else "A minor",
        mfcc_mean=tuple(loudness / 3 + jitter(0.5) for _ in range(13)), mfcc_std=(1.0,) * 13,
        mfcc_delta_std=(0.5,) * 13, contrast_mean=(20.0,) * 7, contrast_std=(5.0,) * 7)


def quadrant_library(per_quadrant: int = 12, seed: int = 0) -> tuple[list[TrackFeatures], list[str]]:
    rng = np.random.default_rng(seed)
    moods = [m for m in QUADRANTS for _ in range(per_quadrant)]
    return [track(*QUADRANTS[m], rng) for m in moods], moods


def test_auto_finds_the_four_quadrants_by_silhouette_and_names_them():
    features, moods = quadrant_library()
    result = cluster(features)
    assert sorted(result.silhouettes) == [3, 4, 5, 6, 7, 8]
    assert max(result.silhouettes, key=result.silhouettes.get) == 4
    by_name = {c.name: {moods[i] for i in c.members} for c in result.clusters}
    assert by_name == {"energetic-bright": {"happy"}, "energetic-dark": {"angry"}, "calm-bright": {"calm"},
                       "calm-dark": {"sad"}}
    for c in result.clusters:
        assert -1 <= c.arousal <= 1 and -1 <= c.valence <= 1
        assert c.arousal == pytest.approx(result.arousal[list(c.members)].mean(), abs=1e-4)
    assert [c.name for c in result.clusters] == sorted(by_name)


def test_every_track_is_in_exactly_one_cluster_for_any_k():
    features, _ = quadrant_library(5)
    for k in (1, 2, 3, 7, 20):
        members = [i for c in cluster(features, ClusterSettings(clusters=k)).clusters for i in c.members]
        assert sorted(members) == list(range(len(features)))


def test_clustering_is_repeatable():
    features, _ = quadrant_library(6)
    assert cluster(features).clusters == cluster(features).clusters


def test_arousal_and_valence_are_the_documented_formulas():
    # Two tracks: z-scores are -1 and +1, so the weighted sums are +-(sum of weights) where all cues agree.
    loud_fast_major = track(-10, 150, 5.0, 0.5, 0.3)
    quiet_slow_minor = track(-30, 60, 0.5, -0.5, 0.05)
    result = cluster([loud_fast_major, quiet_slow_minor], ClusterSettings(clusters=2))
    assert result.arousal == pytest.approx([np.tanh(sum(AROUSAL.values())), -np.tanh(sum(AROUSAL.values()))])
    assert result.valence == pytest.approx([np.tanh(sum(VALENCE.values())), -np.tanh(sum(VALENCE.values()))])


def test_arousal_follows_energy_and_valence_follows_mode_and_brightness():
    base = (-20.0, 100.0, 2.0, 0.0, 0.15)
    features = [track(*base), track(-10, 100, 2.0, 0.0, 0.15), track(-20, 100, 2.0, 0.5, 0.15),
                track(-20, 100, 2.0, 0.0, 0.30), track(-20, 100, 4.0, 0.0, 0.15)]
    result = cluster(features, ClusterSettings(clusters=1))
    louder, major, brighter, busier = 1, 2, 3, 4
    assert result.arousal[louder] > result.arousal[0] and result.arousal[busier] > result.arousal[0]
    assert result.valence[louder] == pytest.approx(result.valence[0])  # level says nothing of valence
    assert result.valence[major] > result.valence[0] and result.valence[brighter] > result.valence[0]
    assert result.arousal[major] == pytest.approx(result.arousal[0])  # nor mode of arousal


def test_zscores_of_a_constant_column_are_zero():
    assert np.array_equal(zscores(np.full(4, 3.0)), np.zeros(4))
    assert zscores(np.array([1.0, 3.0])) == pytest.approx([-1.0, 1.0])


def test_design_weights_the_mood_above_the_timbre():
    features, _ = quadrant_library(3)
    x = design(columns(features), *formula_place(features))
    spread = x.std(axis=0)
    assert spread[:2] == pytest.approx([MOOD_WEIGHTS["arousal"], MOOD_WEIGHTS["valence"]])
    assert spread[2:] == pytest.approx(np.full(len(TIMBRE_FEATURES), 0.5))


@pytest.mark.parametrize(("arousal", "valence", "name"), [
    (-0.8, 0.6, "calm-bright"), (0.9, -0.4, "energetic-dark"), (0.0, 0.0, "moderate-neutral"),
    (0.25, -0.25, "moderate-neutral"), (0.26, 0.26, "energetic-bright"), (-0.3, 0.1, "calm-neutral"),
])
def test_names_say_where_on_the_plane(arousal, valence, name):
    assert name_for(arousal, valence) == name


def test_repeated_names_are_numbered_most_positive_first():
    names = unique_names([(-0.8, 0.3), (0.8, 0.8), (-0.5, 0.6), (-0.9, 0.3)])
    assert names == ["calm-bright-2", "energetic-bright", "calm-bright", "calm-bright-3"]


def test_too_few_tracks_for_a_choice_make_one_cluster():
    features, _ = quadrant_library(1)
    assert choose_k(design(columns(features[:2]), *formula_place(features[:2])), ClusterSettings()) == (1, {})
    assert len(cluster(features[:1]).clusters) == 1


def test_asking_for_more_clusters_than_tracks_warns_and_makes_one_per_track(caplog):
    features, _ = quadrant_library(1)
    with caplog.at_level(logging.WARNING, logger="training.cluster"):
        result = cluster(features, ClusterSettings(clusters=9))
    assert len(result.clusters) == 4
    assert "only 4 tracks" in caplog.text


@settings(max_examples=15, deadline=None)
@given(n=st.integers(1, 30), seed=st.integers(0, 2**16))
def test_any_library_is_partitioned_into_named_clusters_on_the_plane(n, seed):
    rng = np.random.default_rng(seed)
    features = [track(rng.uniform(-40, -5), rng.uniform(55, 200), rng.uniform(0, 8), rng.uniform(-1, 1),
                      rng.uniform(0, 1), rng) for _ in range(n)]
    result = cluster(features, ClusterSettings(n_init=2))
    assert sorted(i for c in result.clusters for i in c.members) == list(range(n))
    assert len({c.name for c in result.clusters}) == len(result.clusters)
    assert np.all(np.abs(result.arousal) <= 1) and np.all(np.abs(result.valence) <= 1)
