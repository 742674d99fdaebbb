"""``python -m training ser-validate``: leave-one-corpus-out and held-out-speaker validation of a recipe.

Every fold trains the recipe afresh, quantizes it and scores the clips it never heard, per corpus
over that corpus's own classes. The folds are:

- ``speakers``: about a fifth of the speakers of every corpus (at least one) held out at once;
- ``speakers-2`` ... ``speakers-N`` (with ``--speaker-folds N``): the other speakers, dealt into
  N - 1 more such folds, so that every speaker is held out once; each trains on features whose
  babble never holds its own held-out voices, and the report adds each corpus's figures over all
  the held-out-speaker folds at once (their confusion pictures are drawn only pooled);
- ``loco:<corpus>``: one whole corpus held out, the model trained on all the others.

The features of all clips are computed once, with babble noise never drawn from a speaker the
``speakers`` fold holds out, and shared by the folds (each fold of the rotation has its own, whose
babble never holds its held-out speakers; all are cached in ``--cache``). The report (JSON) is written after every
fold; ``ser --validation REPORT`` copies it onto the shipped model's card. Each fold's int8 model
and card are kept beside the report, so a test can re-derive its figures through the device path.
"""

from __future__ import annotations

import argparse
import json
import logging
import shlex
import time
from pathlib import Path

import numpy as np

from device.model import EmotionModel

from . import plots, report, splits, train
from .corpora import LABELS, Clip

log = logging.getLogger(__name__)

POOLED = ("int8_clean", "int8_white_10db", "int8_clean_first")
"""The conditions whose figures the report also gives over every held-out-speaker fold at once."""


def add_parser(sub) -> argparse.ArgumentParser:
    p = sub.add_parser("ser-validate", help="validate the speech recipe: corpus held out, speakers held out",
                       description=__doc__.splitlines()[0].split(": ", 1)[1])
    train.add_recipe(p)
    p.add_argument("--folds", default="speakers,loco",
                   help="which folds: 'speakers', 'loco' (every corpus) or 'loco:NAME', comma-separated")
    p.add_argument("--holdout-fraction", type=float, default=0.2, help="share of each corpus's speakers held out")
    p.add_argument("--holdout", default="", help="the speakers fold's speakers, instead of a seeded draw")
    p.add_argument("--speaker-folds", type=int, default=1, metavar="N",
                   help="held-out-speaker folds: the speakers fold and N - 1 more that hold out everyone else once")
    p.add_argument("--out", type=Path, default=Path("models/validation/emotune-ser.validation.json"),
                   help="the report to write; fold models and confusion pictures go beside it")
    p.add_argument("--resume", action="store_true",
                   help="keep the folds an earlier run of the same recipe wrote to --out, train only the rest")
    return p


def folds(spec: str, clips: list[Clip], holdout: list[str], more: list[list[str]] = ()) -> dict[str, set[str]]:
    """Return ``{fold name: held-out speakers}`` for the ``--folds`` ``spec``; ``speakers`` brings the
    ``more`` groups of speakers as folds ``speakers-2``, ``speakers-3``, ..."""
    names = sorted({c.corpus for c in clips})
    out: dict[str, set[str]] = {}
    for item in (s.strip() for s in spec.split(",") if s.strip()):
        if item == "speakers":
            out["speakers"] = set(holdout)
            out |= {f"speakers-{k}": set(group) for k, group in enumerate(more, 2)}
        elif item == "loco" or item.startswith("loco:"):
            chosen = names if item == "loco" else [item.partition(":")[2]]
            for name in chosen:
                if name not in names:
                    raise ValueError(f"--folds {item}: no corpus {name!r} among {', '.join(names)}")
                out[f"loco-{name}"] = {c.speaker for c in clips if c.corpus == name}
        else:
            raise ValueError(f"--folds: unknown fold {item!r}; use speakers, loco or loco:NAME")
    return out


def earlier(out: Path, recipe: dict, names: list[str]) -> dict:
    """Return the report an interrupted run of this ``recipe`` on corpora ``names`` left at ``out``
    (its folds are kept by ``--resume``), or ``{}`` where there is none."""
    if not out.is_file():
        return {}
    try:
        doc = json.loads(out.read_text())
    except (OSError, ValueError) as e:
        raise SystemExit(f"--resume: cannot read the earlier report {out}: {e}") from None
    if doc.get("recipe") != json.loads(json.dumps(recipe)) or doc.get("corpora") != names:
        raise SystemExit(f"--resume: {out} was made with another recipe or other corpora; give another --out")
    return doc


def summary(results: dict, clips: list[Clip] = ()) -> dict:
    """Return the headline figures: each left-out corpus's int8 UA, their mean and minimum (and, with
    ``listener`` normalisation, the mean at a box's first press); with several held-out-speaker folds
    and the ``clips``, each corpus's UA over all of them (:func:`everyone`)."""
    def loco(condition: str) -> dict:
        return {k.removeprefix("loco-"): v["corpora"][k.removeprefix("loco-")][condition]["ua"]
                for k, v in results.items() if k.startswith("loco-") and condition in v}

    out: dict = {}
    if settled := loco("int8_clean"):
        out["loco_int8_ua"] = settled
        out["loco_mean_ua"] = round(float(np.mean(list(settled.values()))), 4)
        out["loco_min_ua"] = round(float(min(settled.values())), 4)
    if first := loco("int8_clean_first"):
        out["loco_first_press_int8_ua"] = first
        out["loco_first_press_mean_ua"] = round(float(np.mean(list(first.values()))), 4)
    if "speakers" in results:
        out["speakers_int8_ua"] = {k: v["int8_clean"]["ua"] for k, v in results["speakers"]["corpora"].items()}
    if clips and len(every := {k: v for k, v in results.items() if k.startswith("speakers")}) > 1:
        for condition in POOLED:
            if all(condition in v for v in every.values()):
                out[f"speakers_all_{condition}_ua"] = everyone(every, clips, condition)
    return out


def everyone(results: dict, clips: list[Clip], condition: str) -> dict[str, float]:
    """Return each corpus's UA in ``condition`` over all the held-out-speaker folds in ``results`` at
    once: a class's recall is its clips answered right by the fold that held them out, over all its
    clips (a clip without speech counts as wrong, as in each fold)."""
    right: dict[str, np.ndarray] = {}
    total: dict[str, np.ndarray] = {}
    for fold in results.values():
        held = set(fold["heldout_speakers"])
        for corpus, m in fold["corpora"].items():
            labels = [LABELS.index(c.label) for c in clips if c.speaker in held and c.corpus == corpus]
            right[corpus] = right.get(corpus, 0) + np.diag(np.array(m[condition]["confusion"]))
            total[corpus] = total.get(corpus, 0) + np.bincount(labels, minlength=len(LABELS))
    return {corpus: round(float((right[corpus][total[corpus] > 0] / total[corpus][total[corpus] > 0]).mean()), 4)
            for corpus in sorted(right)}


def main(args) -> int:
    started = time.time()
    train.check(args)  # a bad recipe is said now, not after the features
    if args.speaker_folds < 1:
        raise SystemExit(f"--speaker-folds {args.speaker_folds}: give 1 (the speakers fold alone) or more")
    fe = train.frontend(args)
    clips = train.clip_set(train.parse_corpora(args.corpus))
    holdout = ([s for s in args.holdout.split(",") if s]
               or splits.per_corpus_holdout(clips, args.holdout_fraction, args.seed))
    splits.split(clips, holdout)
    clips, samples, data = train.prepare(clips, fe, args, set(holdout))
    more = splits.rotation(clips, holdout, args.speaker_folds, args.seed) if args.speaker_folds > 1 else []
    plan = folds(args.folds, clips, holdout, more)
    statistics = train.measured(clips, samples, fe, args)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    recipe = {k: getattr(args, k) for k in (
        "epochs", "copies", "width", "batch", "members", "mixup", "balance", "balance_by", "warp", "crop", "tempo",
        "average", "mix_style", "stem", "band_pool", "band_norm", "speed", "adversary", "hide", "soft_labels",
        "own_classes", "normalisation", "denoise", "room", "level_jitter", "distil", "hint", "statistics",
        "statistics_noise", "seed")}
    names = sorted({c.corpus for c in clips})
    before = earlier(out, recipe, names) if args.resume else {}
    doc: dict = {"command": "python -m training " + shlex.join(args.argv), "recipe": recipe,
                 "corpora": names, "folds": before.get("folds", {})}
    for n, (name, held) in enumerate(plan.items(), 1):
        if doc["folds"].get(name, {}).get("heldout_speakers") == sorted(held):
            log.info("fold %d/%d %s: kept from the earlier report", n, len(plan), name)
            continue
        log.info("fold %d/%d %s: holding out %d speakers", n, len(plan), name, len(held))
        test = np.array([i for i, c in enumerate(clips) if c.speaker in held], dtype=np.int64)
        rest = np.setdiff1d(np.arange(len(clips)), test)
        # A fold of the rotation holds out other voices than the features' babble was kept from.
        rotated = name.startswith("speakers-")
        fold_data = (train.training_examples(clips, samples, fe, args, held) if rotated else data).take(rest)
        fold_fe, references = train.listening(fold_data, clips, fe, args.seed, args.room, args.level_jitter)
        model = train.fit_model(fold_data, fold_fe, args, clips, references, train.taught(clips, samples, rest, args))
        fold_fe, head = train.second_opinion(statistics, clips, rest, fold_fe, args)
        fold_card = out.with_name(f"{name}.json")
        training = {"fold": name, "heldout_speakers": sorted(held), "examples": len(fold_data)}
        int8 = EmotionModel(report.write_int8(model, fold_fe, fold_data, fold_card, training, references, head))
        pictures = None if rotated else fold_card.with_suffix("")  # the rotation's are drawn pooled
        result = report.score(model, int8, fold_fe, [clips[i] for i in test], [samples[i] for i in test],
                              args.noise_snr, pictures)
        doc["folds"][name] = {"heldout_speakers": sorted(held), "clips": len(test), **result}
        doc["summary"] = summary(doc["folds"], clips)
        doc["minutes"] = round(before.get("minutes", 0.0) + (time.time() - started) / 60, 1)
        out.write_text(json.dumps(doc, indent=1) + "\n")
        log.info("fold %s done; so far %s", name, json.dumps(doc["summary"]))
    draw_everyone(doc, out)
    return 0


def draw_everyone(doc: dict, out: Path) -> None:
    """Draw each corpus's int8 confusion over every held-out-speaker fold of the report ``doc`` at
    once (:func:`everyone`), beside it at ``out``: ``speakers-all.<corpus>.confusion-<condition>.png``."""
    every = [f for name, f in doc["folds"].items() if name.startswith("speakers")]
    for condition in POOLED:
        heard = condition.removeprefix("int8_")
        for corpus, ua in doc.get("summary", {}).get(f"speakers_all_{condition}_ua", {}).items():
            matrix = sum(np.array(f["corpora"][corpus][condition]["confusion"]) for f in every
                         if corpus in f["corpora"])
            title = f"every held-out speaker ({len(every)} folds) on {corpus}, int8 {heard}: UA {ua:.3f}"
            plots.confusion(matrix.tolist(), LABELS, title,
                            out.with_name(f"speakers-all.{corpus}.confusion-{heard}.png"))
