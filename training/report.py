"""After training: quantize, write the model and card, evaluate float and int8, clean and noisy, per corpus, plot."""

from __future__ import annotations

import logging
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

from device.card import ModelCard
from device.features import FrontEnd, fit, relative
from device.model import EmotionModel, softmax
from device.statistics import StatisticsHead, blended

from . import evaluate, plots, quantize
from .corpora import LABELS, Clip
from .dataset import Examples, device_utterances, noisy
from .voices import References

log = logging.getLogger(__name__)


def representative(data: Examples, fe: FrontEnd, references: References | None = None, count: int = 300,
                   seed: int = 0) -> np.ndarray:
    """Return ``count`` centred training windows to calibrate int8 ranges with (relative to a settled
    listener's voice with ``references``)."""
    pick = np.random.default_rng(seed).choice(len(data), size=min(count, len(data)), replace=False)
    feats = [data.features[i].astype(np.float32) for i in pick]
    if references is not None:
        feats = [relative(f, r) for f, r in zip(feats, references.settle(pick), strict=True)]
    return np.stack([fit(f, fe.frames) for f in feats])


def float_scorer(model, head: StatisticsHead | None = None):
    """Return the float ``model``'s answer to an utterance, blended with ``head`` as the device blends."""
    def score(utterance) -> np.ndarray:
        scores = softmax(model(utterance.windows, training=False).numpy()).mean(axis=0)
        return blended(scores, head, utterance.statistics)
    return score


def write_int8(model, fe: FrontEnd, data: Examples, card_path: Path, training: dict,
               references: References | None = None, statistics: StatisticsHead | None = None) -> ModelCard:
    """Quantize ``model`` (calibrated on ``data``), write it beside its card ``card_path`` (with its
    ``statistics`` head, if any); return the card."""
    card_path = Path(card_path)
    card = ModelCard(labels=LABELS, frontend=fe, model_file=card_path.with_suffix(".tflite").name,
                     name=card_path.stem, training=training, statistics=statistics)
    return quantize.write(quantize.to_int8_tflite(model, representative(data, fe, references)), card, card_path)


def score(model, int8: EmotionModel, fe: FrontEnd, clips: list[Clip], audio: list[np.ndarray], snr_db: float,
          pictures: Path | None = None) -> dict:
    """Return float and int8 metrics, clean and with white noise, over all clips and per corpus.

    Over all clips the answer is the argmax of all labels, as on the device; per corpus it is the
    argmax over the classes that corpus has. With ``pictures`` (a path prefix), each corpus's int8
    confusion matrices are drawn beside it. With ``listener`` normalisation, ``clean`` and the noisy
    condition hear each speaker as a box that has settled on their voice (in that condition), and
    ``clean_first`` as a box hearing them for the first time.
    """
    fe = FrontEnd.from_dict(fe.to_dict())  # as the card stores it and the device reads it (the prior to 5 decimals)
    truth = np.array([LABELS.index(c.label) for c in clips], dtype=np.int32)
    speakers = [c.speaker for c in clips]
    conditions = {
        "clean": device_utterances(audio, fe, speakers),
        f"white_{snr_db:g}db": device_utterances([noisy(x, snr_db, i) for i, x in enumerate(audio)], fe, speakers),
    }
    if fe.listener:
        conditions["clean_first"] = device_utterances(audio, fe)
    rows = {name: [i for i, c in enumerate(clips) if c.corpus == name] for name in sorted({c.corpus for c in clips})}
    out: dict = {"corpora": {name: {} for name in rows}}
    for condition, heard in conditions.items():
        for kind, scorer in (("float", float_scorer(model, int8.card.statistics)), ("int8", int8.answer)):
            scores = [None if u is None else scorer(u) for u in heard]
            key = f"{kind}_{condition}"
            out[key] = evaluate.metrics(truth, evaluate.predict(lambda s: s, scores), LABELS)
            log.info(evaluate.summary(f"{kind} {condition}", out[key]))
            for name, mine in rows.items():
                classes = sorted(set(truth[mine]))
                m = evaluate.metrics(truth[mine], evaluate.predict(lambda s: s, [scores[i] for i in mine], classes),
                                     LABELS)
                out["corpora"][name][key] = m
                if kind == "int8" and pictures is not None:
                    png = Path(f"{pictures}.{name}.confusion-{condition}.png")
                    plots.confusion(m["confusion"], LABELS,
                                    f"{Path(pictures).name} on {name}, int8 {condition}: UA {m['ua']:.3f}", png)
    out["int8_drop_points"] = round(100 * (out["float_clean"]["accuracy"] - out["int8_clean"]["accuracy"]), 2)
    return out


def build(model, fe: FrontEnd, data: Examples, test_clips: list[Clip], test_audio: list[np.ndarray],
          training: dict, args, started: float, validation: dict | None = None,
          references: References | None = None, statistics: StatisticsHead | None = None) -> ModelCard:
    """Quantize ``model``, write it and its card to ``args.out``, evaluate it; return the final card.

    Held-out clips are scored and their confusion pictures drawn beside the card; a
    ``validation`` report (of ``ser-validate``) is copied onto the card as it is.
    """
    card_path = Path(args.out)
    card = write_int8(model, fe, data, card_path, training, references, statistics)
    metrics: dict = {"heldout_speakers": training["heldout_speakers"]}
    if test_clips:
        prefix = card_path.with_suffix("")
        metrics.update(score(model, EmotionModel(card), fe, test_clips, test_audio, args.noise_snr, prefix))
    if validation is not None:
        metrics["validation"] = validation
    metrics["model_bytes"] = card.model_path.stat().st_size
    training = {**training, "minutes": round((time.time() - started) / 60, 1)}
    card = replace(card, training=training, metrics=metrics)
    card.save(card_path)
    log.info("int8 model %d bytes; card %s", metrics["model_bytes"], card_path)
    return card
