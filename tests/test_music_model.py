"""The music mood model: the 4Q loader, the model file, artist-grouped validation, ``music-model``.

Training runs end to end on a small 4Q-shaped dataset of synthetic songs made here; the shipped
model's card is re-derived from the real excerpts where ``../shared/data/music-4q`` exists.
"""

from __future__ import annotations

import argparse
import csv
import json
from pathlib import Path

import numpy as np
import pytest

from tests.paths import MUSIC_4Q
from training import music4q, music_model, music_train
from training.__main__ import main
from training.music_cv import LABELS, cross_validate, fit, predict_out_of_fold, score, summary
from training.synthmusic import MOODS, render, write
from training.track_features import AnalysisSettings, analyse

MOOD_OF = {"Q1": "happy", "Q2": "angry", "Q3": "sad", "Q4": "calm"}


def write_4q(root: Path, per_quadrant: int, seconds: float = 6.0) -> Path:
    """Write a dataset laid out as 4Q (``Q1..Q4/<id>.ogg``, ``metadata.csv``) of synthetic songs;
    every artist has two songs of one quadrant."""
    rows = []
    for q, mood in MOOD_OF.items():
        (root / q).mkdir(parents=True, exist_ok=True)
        for i in range(per_quadrant):
            song = f"MT{q}{i:03d}"
            write(root / q / f"{song}.ogg", render(MOODS[mood], seconds, 22050, seed=100 + i), 22050, "ogg")
            rows.append({"Song": song, "Artist": f"{mood} band {i // 2}", "Title": f"song {i}", "Quadrant": q,
                         "Moods": mood, "Genres": "synth"})
    with (root / "metadata.csv").open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return root


@pytest.fixture(scope="module")
def dataset(tmp_path_factory) -> Path:
    return write_4q(tmp_path_factory.mktemp("4q"), per_quadrant=6)


@pytest.fixture(scope="module")
def trained(dataset, tmp_path_factory) -> tuple[Path, dict, str]:
    """``music-model`` run once on the small dataset: (model path, its JSON, what it printed)."""
    out = tmp_path_factory.mktemp("model") / "mood.json"
    import contextlib
    import io

    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        rc = main(["music-model", "--data", str(dataset), "--out", str(out), "--c", "0.1,1", "--folds", "3",
                   "--seeds", "1,2", "--synthetic", "0", "--cache", str(out.parent / "cache.json")])
    assert rc == 0
    return out, json.loads(out.read_text()), printed.getvalue()


def test_the_loader_reads_quadrants_artists_and_titles(dataset):
    songs = music4q.load(dataset)
    assert len(songs) == 24 and [s.path for s in songs] == sorted(s.path for s in songs)
    first = songs[0]
    assert (first.path, first.quadrant, first.artist, first.title) == ("Q1/MTQ1000.ogg", "Q1", "happy band 0", "song 0")
    assert {(s.quadrant, s.arousal, s.valence) for s in songs} == {
        ("Q1", 1, 1), ("Q2", 1, -1), ("Q3", -1, -1), ("Q4", -1, 1)}


def test_the_loader_skips_listed_songs_without_an_excerpt_and_names_bad_rows(tmp_path):
    (tmp_path / "Q1").mkdir()
    (tmp_path / "Q1/A.ogg").write_bytes(b"x")
    (tmp_path / "metadata.csv").write_text("Song,Artist,Title,Quadrant,Moods,Genres\nA,a,t,Q1,,\nB,b,t,Q2,,\n")
    assert [s.path for s in music4q.load(tmp_path)] == ["Q1/A.ogg"]
    (tmp_path / "metadata.csv").write_text("Song,Artist,Title,Quadrant,Moods,Genres\nA,a,t,Q1,,\nB,b,t,Q5,,\n")
    with pytest.raises(ValueError, match=r"metadata.csv, row 3: quadrant 'Q5'"):
        music4q.load(tmp_path)
    with pytest.raises(FileNotFoundError, match="metadata.csv is missing"):
        music4q.load(tmp_path / "Q1")


def test_the_expected_position_is_a_corner_when_sure_and_the_centre_when_not():
    sure = np.eye(4)
    arousal, valence = music_model.expected_position(sure, LABELS)
    assert [music4q.quadrant(a, v) for a, v in zip(arousal, valence, strict=True)] == list(LABELS)
    assert np.abs(arousal).tolist() == [1, 1, 1, 1] and np.abs(valence).tolist() == [1, 1, 1, 1]
    arousal, valence = music_model.expected_position(np.full((1, 4), 0.25), LABELS)
    assert arousal[0] == pytest.approx(0) and valence[0] == pytest.approx(0)
    calm_or_sad = music_model.expected_position(np.array([[0, 0, 0.5, 0.5]]), LABELS)
    assert (calm_or_sad[0][0], calm_or_sad[1][0]) == pytest.approx((-1, 0))  # calm for sure, valence unknown


def test_scores_count_quadrants_signs_and_confusions():
    s = score(np.array([0.5, 0.5, -0.5, -0.5]), np.array([0.5, 0.5, 0.5, -0.5]), ["Q1", "Q2", "Q3", "Q3"])
    assert (s.quadrant, s.valence_sign, s.arousal_sign) == (0.5, 0.5, 1.0)
    assert s.recall == {"Q1": 1.0, "Q2": 0.0, "Q3": 0.5}
    assert s.confusion[LABELS.index("Q2")][LABELS.index("Q1")] == 1
    assert s.confusion[LABELS.index("Q3")][LABELS.index("Q4")] == 1


def test_out_of_fold_predictions_never_see_the_artist_they_score():
    """Songs by one artist that all sit in an odd place are scored by models that never met them."""
    rng = np.random.default_rng(0)
    corners = np.array([music4q.QUADRANTS[q] for q in LABELS], dtype=float)
    quadrants = [LABELS[i % 4] for i in range(80)]
    x = np.array([corners[LABELS.index(q)] for q in quadrants]) + 0.3 * rng.standard_normal((80, 2))
    artists = [f"artist {i // 4}" for i in range(80)]
    arousal, valence = predict_out_of_fold(x, quadrants, artists, c=1.0, folds=5, seed=1)
    assert score(arousal, valence, quadrants).quadrant > 0.9
    # An artist whose songs are labelled against their sound: a model that had seen them would
    # bend towards them; one that never did places them by their sound.
    odd = [f"artist {i // 4}" if i >= 4 else "odd" for i in range(80)]
    flipped = ["Q3" if i < 4 else q for i, q in enumerate(quadrants)]
    arousal, valence = predict_out_of_fold(x, flipped, odd, c=1.0, folds=5, seed=1)
    assert [music4q.quadrant(a, v) for a, v in zip(arousal[:4], valence[:4], strict=True)] == quadrants[:4]


def test_a_fitted_model_saves_loads_and_places_the_same(tmp_path):
    rng = np.random.default_rng(2)
    settings = AnalysisSettings()
    names = music_model.feature_names(settings)
    x = rng.standard_normal((40, len(names)))
    quadrants = [LABELS[i % 4] for i in range(40)]
    model = fit(x, quadrants, 0.5, names, settings.key(), {"name": "test"})
    loaded = music_model.load(model.save(tmp_path / "m.json"))
    assert loaded.card == {"name": "test"}
    assert np.allclose(loaded.probabilities(x), model.probabilities(x), atol=1e-6)
    assert np.allclose(loaded.probabilities(x).sum(axis=1), 1)


@pytest.mark.parametrize(("edit", "message"), [
    (lambda d: d.update(format="other"), "not an emotune-music model"),
    (lambda d: d["features"].update(analysis="v1:old"), "trained on other features"),
    (lambda d: d.pop("standardiser"), "field 'standardiser' is missing"),
    (lambda d: d["logistic"].update(coef=[[0.0]]), "do not fit"),
])
def test_a_model_file_that_does_not_fit_is_refused_by_name(tmp_path, edit, message):
    doc = json.loads(music_model.DEFAULT_MODEL.read_text())
    edit(doc)
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(doc))
    with pytest.raises(ValueError, match=message) as info:
        music_model.load(path)
    assert str(path) in str(info.value)
    path.write_text("{not json")
    with pytest.raises(ValueError, match=f"{path}: not a readable JSON model"):
        music_model.load(path)
    with pytest.raises(FileNotFoundError, match="does not exist"):
        music_model.load(tmp_path / "none.json")


def test_the_shipped_model_places_the_synthetic_moods_in_their_quadrants():
    """Six renderings of each mood (other seeds than the model's anchors): nearly all in their quadrant."""
    model = music_model.load()
    moods = [mood for mood in MOODS.values() for _ in range(6)]
    arousal, valence = model.place([analyse(render(mood, 12.0, 22050, seed=30 + i % 6))
                                    for i, mood in enumerate(moods)])
    assert all(np.sign(arousal) == [m.arousal for m in moods])
    right = np.sign(valence) == [m.valence for m in moods]
    assert right.mean() >= 0.9, [m.name for m, ok in zip(moods, right, strict=True) if not ok]


def test_music_model_trains_validates_and_writes_its_card_and_picture(trained):
    out, doc, printed = trained
    assert doc["format"] == "emotune-music" and doc["name"] == "emotune-music"
    assert doc["training"]["clips"] == 24 and doc["training"]["artists"] == 12
    assert doc["training"]["command"].startswith("python -m training music-model --data")
    validation = doc["validation"]
    assert validation["chosen_c"] in (0.1, 1.0) and set(validation["by_c"]) == {"0.1", "1.0"}
    assert doc["metrics"] == validation["by_c"][str(validation["chosen_c"])]
    assert len(doc["metrics"]["repeats"]) == 2
    assert np.sum(doc["metrics"]["confusion"]["matrix"]) == 24
    assert doc["metrics"]["arousal_sign"]["mean"] > 0.9  # loud fast songs against quiet slow ones
    assert music_train.confusion_path(out).stat().st_size > 1000
    assert f"wrote {out}" in printed and "recall Q3 sad" in printed
    music_model.load(out)  # a model the playlists can use


def test_music_model_names_a_folder_that_is_not_4q(tmp_path, capsys):
    assert main(["music-model", "--data", str(tmp_path), "--out", str(tmp_path / "m.json")]) == 2
    assert "metadata.csv is missing" in capsys.readouterr().err


@pytest.mark.slow
@pytest.mark.skipif(not MUSIC_4Q.is_dir(), reason=f"the 4Q excerpts are not at {MUSIC_4Q}")
def test_the_shipped_card_is_what_artist_grouped_cv_measures(tmp_path):
    """Re-analyse the real excerpts and the synthetic anchors, re-run the chosen C's repeats: the card's figures."""
    doc = json.loads(music_model.DEFAULT_MODEL.read_text())
    validation, training = doc["validation"], doc["training"]
    args = argparse.Namespace(data=MUSIC_4Q, cache=tmp_path / "features-cache.json", jobs=2,
                              synthetic=training["synthetic_anchors"]["per_mood"])
    analysis = AnalysisSettings()
    songs, x = music_train.songs_and_inputs(args, analysis)
    assert len(songs) == training["clips"]
    extra = music_train.synthetic_anchors(args, analysis)
    c = validation["chosen_c"]
    repeats = cross_validate(x, [s.quadrant for s in songs], [s.artist for s in songs], c,
                             validation["folds"], validation["seeds"], extra)
    measured = summary(repeats)
    assert measured["repeats"] == doc["metrics"]["repeats"]
    assert doc["metrics"]["quadrant_accuracy"]["mean"] >= 0.60
    assert doc["metrics"]["valence_sign"]["mean"] >= 0.68 and doc["metrics"]["arousal_sign"]["mean"] >= 0.85
