"""Train a tiny model end to end, on a handful of real RAVDESS files laid out as downloaded."""

import argparse
import json
import logging
import shlex
from dataclasses import replace

import numpy as np
import pytest
import soundfile

from device import audio
from device.card import load
from device.features import extract
from device.model import EmotionModel
from device.recognizer import Recognizer
from tests.paths import NO_RAVDESS, RAVDESS, REPO, SHARED_DATA
from training import corpora, crossval, evaluate, train
from training.__main__ import main
from training.corpora import LABELS
from training.dataset import device_utterances, read_all


def test_the_shipped_card_is_validated_with_the_recipe_it_was_trained_with():
    """The card's figures come from folds trained exactly as the shipped model was: only the speakers differ."""
    card = load()
    sub = argparse.ArgumentParser().add_subparsers()
    train.add_parser(sub)
    shipped = sub.choices["ser"].parse_args(shlex.split(card.training["command"])[4:])  # after "python -m training ser"
    recipe = card.metrics["validation"]["recipe"]
    assert json.loads(json.dumps({k: getattr(shipped, k) for k in recipe})) == recipe


def test_every_speaker_is_held_out_once_and_the_pooled_figures_are_the_folds_own():
    """The held-out-speaker folds together hold out every speaker of every corpus once, and the
    report's figures over all of them are their folds' answers pooled (``crossval.everyone``)."""
    report = json.loads((REPO / "models" / "validation" / "emotune-ser.validation.json").read_text())
    every = {name: fold for name, fold in report["folds"].items() if name.startswith("speakers")}
    held = [s for fold in every.values() for s in fold["heldout_speakers"]]
    assert len(held) == len(set(held))
    missing = [name for name in report["corpora"] if not (SHARED_DATA / name).is_dir()]
    if missing:
        pytest.skip(f"{', '.join(missing)} not in {SHARED_DATA}: the corpora come from ../shared/data")
    clips = [c for name in report["corpora"] for c in corpora.load(name, SHARED_DATA / name)]
    assert sorted(held) == sorted({c.speaker for c in clips})
    for condition in ("int8_clean", "int8_white_10db", "int8_clean_first"):
        assert crossval.everyone(every, clips, condition) == report["summary"][f"speakers_all_{condition}_ua"]


@pytest.fixture(scope="module")
def ravdess48k(tmp_path_factory):
    """Three RAVDESS actors as downloaded (48 kHz WAV), one file broken."""
    if not RAVDESS.is_dir():
        pytest.skip(NO_RAVDESS)
    root = tmp_path_factory.mktemp("ravdess48k")
    for actor in ("01", "02", "03"):
        (root / f"Actor_{actor}").mkdir()
        for source in sorted((RAVDESS / f"Actor_{actor}").glob("03-01-0?-01-01-01-*.flac")):
            x = audio.load(source, 48000)  # back to the 48 kHz WAV of the real download
            soundfile.write(root / f"Actor_{actor}" / (source.stem + ".wav"), x, 48000, subtype="PCM_16")
    (root / "Actor_01" / "03-01-01-01-02-01-01.wav").write_bytes(b"RIFF broken")  # skipped, reported
    return root


TINY = ["--epochs", "2", "--copies", "1", "--width", "0.25", "--mixup", "0.2", "--jobs", "2"]
"""A recipe small enough to train in seconds."""


@pytest.fixture(scope="module")
def tiny(ravdess48k, tmp_path_factory):
    out = tmp_path_factory.mktemp("model") / "tiny.json"
    status = main(["ser", "--corpus", f"ravdess={ravdess48k}", "--holdout", "ravdess:03", "--out", str(out),
                   "--members", "2", *TINY, "--cache", str(tmp_path_factory.mktemp("cache"))])
    assert status == 0
    return out


@pytest.mark.slow
def test_card_records_data_command_and_metrics(tiny):
    card = load(tiny)
    assert card.labels == LABELS
    assert card.training["heldout_speakers"] == ["ravdess:03"]
    assert card.training["train_speakers"] == ["ravdess:01", "ravdess:02"]
    assert card.training["command"].startswith("python -m training ser --corpus ravdess=")
    assert "non-commercial" in card.training["licence"]
    for name in ("float_clean", "int8_clean", "float_white_10db", "int8_white_10db"):
        m = card.metrics[name]
        assert m["clips"] == 8 and 0.0 <= m["ua"] <= 1.0
        assert np.sum(m["confusion"]) + m["no_speech"] == 8
    assert card.metrics["corpora"]["ravdess"]["int8_clean"]["clips"] == 8
    assert card.metrics["model_bytes"] == card.model_path.stat().st_size
    assert tiny.with_name("tiny.ravdess.confusion-clean.png").stat().st_size > 1000
    assert tiny.with_name("tiny.ravdess.confusion-white_10db.png").stat().st_size > 1000


@pytest.mark.slow
def test_model_is_full_integer_and_runs_on_the_device_path(tiny):
    model = EmotionModel(load(tiny))
    assert model.quantized
    recognizer = Recognizer(tiny)
    prediction = recognizer.classify_file(RAVDESS / "Actor_05" / "03-01-05-01-01-01-05.flac")
    assert prediction.emotion in LABELS
    assert sum(prediction.scores.values()) == pytest.approx(1.0, abs=1e-3)


def test_resume_keeps_the_folds_of_the_same_recipe_and_refuses_another(tmp_path):
    report = tmp_path / "emotune-ser.validation.json"
    recipe = {"epochs": 20, "speed": (0.92, 1.08), "seed": 7}
    assert crossval.earlier(report, recipe, ["ravdess", "tess"]) == {}
    fold = {"heldout_speakers": ["tess:OAF", "tess:YAF"], "clips": 2}
    report.write_text(json.dumps({"recipe": recipe, "corpora": ["ravdess", "tess"], "folds": {"loco-tess": fold},
                                  "minutes": 12.5}))
    assert crossval.earlier(report, recipe, ["ravdess", "tess"])["folds"] == {"loco-tess": fold}
    with pytest.raises(SystemExit, match="emotune-ser.validation.json was made with another recipe"):
        crossval.earlier(report, {**recipe, "seed": 11}, ["ravdess", "tess"])
    report.write_text("{")
    with pytest.raises(SystemExit, match="cannot read the earlier report .*emotune-ser.validation.json"):
        crossval.earlier(report, recipe, ["ravdess", "tess"])


@pytest.mark.slow
def test_every_speaker_is_held_out_once_and_an_interrupted_validation_resumes_where_it_stopped(
        ravdess48k, tmp_path, caplog):
    report = tmp_path / "validation" / "emotune-ser.validation.json"
    run = ["ser-validate", "--corpus", f"ravdess={ravdess48k}", "--holdout", "ravdess:03", "--members", "1",
           *TINY, "--cache", str(tmp_path / "cache"), "--out", str(report), "--folds", "speakers",
           "--speaker-folds", "3"]
    caplog.set_level(logging.INFO)
    assert main(run) == 0
    first = json.loads(report.read_text())
    assert "epoch 1/2" in caplog.text
    folds = first["folds"]
    assert sorted(folds) == ["speakers", "speakers-2", "speakers-3"]
    assert sorted(s for f in folds.values() for s in f["heldout_speakers"]) == ["ravdess:01", "ravdess:02",
                                                                                "ravdess:03"]
    # Each actor says each of the eight emotions once, so over the three folds each emotion's recall
    # is its share of the three actors answered right: UA is the folds' mean.
    for condition in ("int8_clean", "int8_white_10db", "int8_clean_first"):
        mean = np.mean([f["corpora"]["ravdess"][condition]["ua"] for f in folds.values()])
        assert first["summary"][f"speakers_all_{condition}_ua"]["ravdess"] == pytest.approx(mean, abs=1e-4)
        assert report.with_name(f"speakers-all.ravdess.confusion-{condition.removeprefix('int8_')}.png").is_file()
    assert report.with_name("speakers.ravdess.confusion-clean.png").is_file()
    assert not list(report.parent.glob("speakers-2.*.png"))  # the rotation's pictures are the pooled ones
    caplog.clear()
    assert main([*run, "--resume"]) == 0
    for n, name in enumerate(["speakers", "speakers-2", "speakers-3"], 1):
        assert f"fold {n}/3 {name}: kept from the earlier report" in caplog.text
    assert "epoch 1/2" not in caplog.text  # no network was trained again
    assert json.loads(report.read_text()) == first


@pytest.mark.slow
def test_a_speaker_adversary_trains_and_the_report_records_what_it_hid(ravdess48k, tmp_path, caplog):
    report = tmp_path / "validation" / "emotune-ser.validation.json"
    caplog.set_level(logging.INFO)
    assert main(["ser-validate", "--corpus", f"ravdess={ravdess48k}", "--holdout", "ravdess:03", "--members", "1",
                 *TINY, "--cache", str(tmp_path / "cache"), "--out", str(report), "--folds", "speakers",
                 "--adversary", "0.3", "--hide", "speaker", "--band-pool", "2"]) == 0
    recipe = json.loads(report.read_text())["recipe"]
    assert recipe["adversary"] == 0.3 and recipe["hide"] == "speaker" and recipe["band_pool"] == 2
    assert "adversary_loss" in caplog.text  # the two training speakers, told apart behind the reversal
    assert EmotionModel(load(report.with_name("speakers.json"))).quantized  # the adversary was left behind


@pytest.mark.slow
def test_a_statistics_head_is_fitted_per_fold_and_the_report_scores_it_as_the_device_does(ravdess48k, tmp_path):
    report = tmp_path / "validation" / "emotune-ser.validation.json"
    assert main(["ser-validate", "--corpus", f"ravdess={ravdess48k}", "--holdout", "ravdess:03", "--members", "1",
                 *TINY, "--cache", str(tmp_path / "cache"), "--out", str(report), "--folds", "speakers",
                 "--statistics", "0.5", "--statistics-noise", "5,25"]) == 0
    doc = json.loads(report.read_text())
    assert doc["recipe"]["statistics"] == 0.5 and doc["recipe"]["statistics_noise"] == [5.0, 25.0]
    card = load(report.with_name("speakers.json"))
    assert card.statistics.weight == 0.5 and card.statistics.pool == 4
    assert len(card.statistics.centre) == 3 * 64 // 4 and len(card.frontend.dynamics_prior) == 128
    clips, samples = read_all([c for c in corpora.load("ravdess", ravdess48k) if c.speaker == "ravdess:03"], 16000)
    model = EmotionModel(card)
    heard = device_utterances(samples, card.frontend, [c.speaker for c in clips])
    truth = np.array([LABELS.index(c.label) for c in clips])
    m = evaluate.metrics(truth, evaluate.predict(model.answer, heard), LABELS)
    assert m["accuracy"] == doc["folds"]["speakers"]["int8_clean"]["accuracy"]  # the device's own answer
    assert all(not np.allclose(model.answer(u), model.scores(u.windows)) for u in heard)  # the head counts
    with pytest.raises(SystemExit, match="^--statistics -1: give a weight of 0"):
        main(["ser", "--corpus", f"ravdess={ravdess48k}", "--out", str(tmp_path / "m.json"), "--statistics", "-1"])


@pytest.mark.slow
def test_a_teacher_taught_validation_runs_and_records_its_recipe(ravdess48k, tmp_path, caplog):
    pytest.importorskip("resemblyzer")
    report = tmp_path / "validation" / "emotune-ser.validation.json"
    caplog.set_level(logging.INFO)
    assert main(["ser-validate", "--corpus", f"ravdess={ravdess48k}", "--holdout", "ravdess:03", "--members", "1",
                 *TINY, "--cache", str(tmp_path / "cache"), "--out", str(report), "--folds", "speakers",
                 "--distil", "0.3", "--hint", "0.5"]) == 0
    recipe = json.loads(report.read_text())["recipe"]
    assert recipe["distil"] == 0.3 and recipe["hint"] == 0.5
    assert "embedding 24 clips with the speaker encoder" in caplog.text  # every readable clip, once
    assert "hint_loss" in caplog.text and (tmp_path / "cache" / "voices.npz").is_file()
    with pytest.raises(SystemExit, match="--adversary and --hint"):
        main(["ser", "--corpus", f"ravdess={ravdess48k}", "--holdout", "ravdess:03", "--out", str(tmp_path / "m.json"),
              "--members", "1", *TINY, "--cache", str(tmp_path / "cache"), "--hint", "1", "--adversary", "0.3"])


@pytest.mark.parametrize("option", ["--warp", "--tempo"])
@pytest.mark.parametrize("share", ["1", "-0.1"])
def test_a_stretch_or_pace_share_outside_0_to_1_is_refused_in_one_line(option, share, tmp_path):
    with pytest.raises(SystemExit, match=f"^{option} {share}: a factor within 1 [+]- SHARE"):
        main(["ser", "--corpus", f"ravdess={tmp_path / 'none'}", "--out", str(tmp_path / "m.json"), option, share])


def test_no_held_out_speaker_fold_at_all_is_refused_in_one_line(tmp_path):
    with pytest.raises(SystemExit, match="^--speaker-folds 0: give 1 [(]the speakers fold alone[)] or more"):
        main(["ser-validate", "--corpus", f"ravdess={tmp_path / 'none'}", "--out", str(tmp_path / "v.json"),
              "--speaker-folds", "0"])


@pytest.mark.parametrize("pool", ["0", "3"])
def test_a_band_pool_that_does_not_divide_the_bands_is_refused_in_one_line(pool, tmp_path):
    with pytest.raises(SystemExit, match=f"^--band-pool {pool}: give a whole number of at least 1 that divides the 64"):
        main(["ser", "--corpus", f"ravdess={tmp_path / 'none'}", "--out", str(tmp_path / "m.json"),
              "--band-pool", pool])


@pytest.mark.slow
def test_a_denoised_front_end_goes_into_the_card_and_the_box_uses_it(ravdess48k, tmp_path):
    with pytest.raises(SystemExit, match="--denoise -1"):
        main(["ser", "--corpus", f"ravdess={ravdess48k}", "--out", str(tmp_path / "m.json"), "--denoise", "-1"])
    out = tmp_path / "denoised.json"
    assert main(["ser", "--corpus", f"ravdess={ravdess48k}", "--holdout", "ravdess:03", "--out", str(out),
                 "--members", "1", *TINY, "--cache", str(tmp_path / "cache"), "--denoise", "2"]) == 0
    card = load(out)
    assert card.frontend.denoise == 2.0 and json.loads(out.read_text())["frontend"]["denoise"] == 2.0
    clip = RAVDESS / "Actor_05" / "03-01-05-01-01-01-05.flac"
    heard = extract(audio.load(clip, 16000), card.frontend).windows
    assert not np.array_equal(heard, extract(audio.load(clip, 16000), replace(card.frontend, denoise=0.0)).windows)
    assert Recognizer(out).classify_file(clip).emotion in LABELS
