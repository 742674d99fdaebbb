"""After training: quantize, write the model and card, evaluate float and int8, clean and noisy, plot."""

from __future__ import annotations

import logging
import time
from pathlib import Path

import numpy as np

from device.card import ModelCard
from device.features import FrontEnd, fit
from device.model import EmotionModel, softmax

from . import evaluate, plots, quantize
from .corpora import LABELS, Clip
from .dataset import Examples, device_windows, noisy

log = logging.getLogger(__name__)


def representative(data: Examples, fe: FrontEnd, count: int = 300, seed: int = 0) -> np.ndarray:
    """Return ``count`` centred training windows to calibrate int8 ranges with."""
    pick = np.random.default_rng(seed).choice(len(data), size=min(count, len(data)), replace=False)
    return np.stack([fit(data.features[i].astype(np.float32), fe.frames) for i in pick])


def float_scorer(model):
    def score(windows: np.ndarray) -> np.ndarray:
        return softmax(model(windows, training=False).numpy()).mean(axis=0)
    return score


def build(model, fe: FrontEnd, data: Examples, test_clips: list[Clip], test_audio: list[np.ndarray],
          training: dict, args, started: float) -> ModelCard:
    """Quantize ``model``, write it and its card to ``args.out``, evaluate it; return the final card."""
    card_path = Path(args.out)
    card = ModelCard(labels=LABELS, frontend=fe, model_file=card_path.with_suffix(".tflite").name,
                     name=card_path.stem, training=training)
    card = quantize.write(quantize.to_int8_tflite(model, representative(data, fe)), card, card_path)
    int8 = EmotionModel(card)
    truth = np.array([LABELS.index(c.label) for c in test_clips], dtype=np.int32)
    conditions = {
        "clean": device_windows(test_audio, fe),
        f"white_{args.noise_snr:g}db": device_windows(
            [noisy(x, args.noise_snr, i) for i, x in enumerate(test_audio)], fe),
    }
    metrics: dict = {"heldout_speakers": training["heldout_speakers"]}
    for condition, windows in conditions.items():
        for kind, score in (("float", float_scorer(model)), ("int8", int8.scores)):
            m = evaluate.metrics(truth, evaluate.predict(score, windows), LABELS)
            metrics[f"{kind}_{condition}"] = m
            log.info(evaluate.summary(f"{kind} {condition}", m))
            if kind == "int8":
                png = card_path.with_name(f"{card_path.stem}.confusion-{condition}.png")
                plots.confusion(m["confusion"], LABELS,
                                f"{card.name} int8, {condition}: UA {m['ua']:.3f}, acc {m['accuracy']:.3f}", png)
    clean = "clean"
    metrics["int8_drop_points"] = round(
        100 * (metrics[f"float_{clean}"]["accuracy"] - metrics[f"int8_{clean}"]["accuracy"]), 2)
    metrics["model_bytes"] = card.model_path.stat().st_size
    training = {**training, "minutes": round((time.time() - started) / 60, 1)}
    card = ModelCard(labels=card.labels, frontend=card.frontend, model_file=card.model_file, name=card.name,
                     training=training, metrics=metrics, path=card.path)
    card.save(card_path)
    log.info("int8 model %d bytes, accuracy drop from float %.2f points; card %s", metrics["model_bytes"],
             metrics["int8_drop_points"], card_path)
    return card
