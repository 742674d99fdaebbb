"""``python -m training ser``: train, quantize and evaluate the speech emotion model, write it with its card."""

from __future__ import annotations

import argparse
import logging
import math
import os
import shlex
import time
from pathlib import Path

import numpy as np

from device.features import FrontEnd

from . import corpora, splits
from .augment import Augmenter
from .corpora import LABELS
from .dataset import Examples, examples, random_window, read_all, spec_augment

log = logging.getLogger(__name__)

LICENCES = {
    "ravdess": "CC BY-NC-SA 4.0 (RAVDESS, Livingstone & Russo 2018): the model is for non-commercial use only",
    "crema-d": "Open Database License (CREMA-D)",
    "tess": "CC BY-NC-ND 4.0 (TESS)",
    "savee": "free for research use (SAVEE)",
    "emodb": "free for research use (EmoDB)",
}


def add_parser(sub) -> argparse.ArgumentParser:
    p = sub.add_parser("ser", help="train the speech emotion model",
                       description="Train, int8-quantize and evaluate the speech emotion ConvNet.")
    p.add_argument("--corpus", action="append", required=True, metavar="NAME=DIR",
                   help=f"a corpus to train on, by layout name ({', '.join(corpora.CORPORA)}); repeatable")
    p.add_argument("--holdout", default="", help="comma-separated speakers to hold out, e.g. ravdess:17,ravdess:18")
    p.add_argument("--holdout-fraction", type=float, default=0.2, help="if --holdout is empty: share of speakers")
    p.add_argument("--out", type=Path, default=Path("models/emotune-ser.json"), help="the model card to write")
    p.add_argument("--epochs", type=int, default=80)
    p.add_argument("--copies", type=int, default=8, help="augmented copies of each training clip")
    p.add_argument("--width", type=float, default=0.7, help="network width multiplier")
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--members", type=int, default=2,
                   help="networks trained with different seeds whose mean logits make the model (an ensemble)")
    p.add_argument("--mixup", type=float, default=0.2, help="mixup alpha: blend pairs of examples and labels (0: off)")
    p.add_argument("--seed", type=int, default=20261125)
    p.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    p.add_argument("--noise-snr", type=float, default=10.0, help="SNR (dB) of the white-noise evaluation")
    return p


def parse_corpora(specs: list[str]) -> list[tuple[str, Path]]:
    out = []
    for spec in specs:
        name, sep, root = spec.partition("=")
        if not sep:
            raise SystemExit(f"--corpus {spec!r}: write it as NAME=DIR, e.g. ravdess=../shared/data/ravdess")
        out.append((name.strip().lower(), Path(root)))
    return out


class Batches:
    """Training batches: random offsets, SpecAugment masks, class-balancing weights, optional mixup."""

    def __init__(self, data: Examples, fe: FrontEnd, size: int, seed: int, mixup: float = 0.0):
        self.data, self.fe, self.size, self.mixup = data, fe, size, mixup
        self.rng = np.random.default_rng(seed)
        counts = np.bincount(data.labels, minlength=len(LABELS))
        self.weights = (len(data) / (np.count_nonzero(counts) * np.maximum(counts, 1))).astype(np.float32)

    def __len__(self) -> int:
        return math.ceil(len(self.data) / self.size)

    def epoch(self):
        """Yield (windows, soft labels, weights) batches over a fresh shuffle of the data."""
        order = self.rng.permutation(len(self.data))
        for i in range(len(self)):
            idx = order[i * self.size : (i + 1) * self.size]
            x = np.stack([spec_augment(random_window(self.data.features[j], self.fe.frames, self.rng), self.rng)
                          for j in idx])
            y = np.eye(len(LABELS), dtype=np.float32)[self.data.labels[idx]]
            yield self.mix(x, y, self.weights[self.data.labels[idx]])

    def mix(self, *arrays: np.ndarray) -> tuple[np.ndarray, ...]:
        """Return ``arrays`` with each example blended with another of the batch (mixup), or as they are."""
        if self.mixup <= 0:
            return arrays
        n = len(arrays[0])
        lam = self.rng.beta(self.mixup, self.mixup, n).astype(np.float32)
        pair = self.rng.permutation(n)

        def blend(a: np.ndarray) -> np.ndarray:
            shape = (n,) + (1,) * (a.ndim - 1)
            return lam.reshape(shape) * a + (1 - lam.reshape(shape)) * a[pair]

        return tuple(blend(a) for a in arrays)


def fit_member(data: Examples, fe: FrontEnd, args, seed: int, name: str):
    """Return one DS-CNN trained on ``data`` for ``args.epochs`` epochs (fixed schedule, no peeking).

    A plain loop over ``train_on_batch``: on a two-core desktop it is several times faster than
    ``fit`` fed from a Python generator. One progress line per epoch.
    """
    import keras

    from .network import ds_cnn

    keras.utils.set_random_seed(seed)
    model = ds_cnn(fe.frames, fe.nfilt, len(LABELS), width=args.width, name=name)
    batches = Batches(data, fe, args.batch, seed, args.mixup)
    steps = args.epochs * len(batches)
    schedule = keras.optimizers.schedules.CosineDecay(
        0.0, decay_steps=steps, warmup_target=3e-3, warmup_steps=max(1, steps // 20))
    model.compile(optimizer=keras.optimizers.AdamW(schedule, weight_decay=1e-4),
                  loss=keras.losses.CategoricalCrossentropy(from_logits=True, label_smoothing=0.1),
                  weighted_metrics=["accuracy"])
    log.info("%s: training %d parameters on %d examples for %d epochs", name, model.count_params(), len(data),
             args.epochs)
    started = time.time()
    for epoch in range(1, args.epochs + 1):
        model.reset_metrics()
        for x, y, w in batches.epoch():
            loss, accuracy = model.train_on_batch(x, y, sample_weight=w)
        elapsed = time.time() - started
        log.info("%s: epoch %d/%d  loss %.3f  accuracy %.3f  %.0f s, about %.0f s to go", name, epoch, args.epochs,
                 loss, accuracy, elapsed, elapsed / epoch * (args.epochs - epoch))
    return model


def fit_model(data: Examples, fe: FrontEnd, args):
    """Return the model to ship: one network, or the ensemble of ``args.members`` trained with other seeds.

    Networks that start from different weights and see the batches in another order make different
    mistakes on new speakers; averaging their logits cancels part of them.
    """
    from .network import ensemble

    members = [fit_member(data, fe, args, args.seed + i, f"ds_cnn_{i + 1}") for i in range(max(1, args.members))]
    return members[0] if len(members) == 1 else ensemble(members)


def main(args) -> int:
    from . import report

    started = time.time()
    fe = FrontEnd()
    sources = parse_corpora(args.corpus)
    clips = [c for name, root in sources for c in corpora.load(name, root)]
    holdout = [s for s in args.holdout.split(",") if s] or splits.pick_holdout(clips, args.holdout_fraction, args.seed)
    train_clips, test_clips = splits.split(clips, holdout)
    log.info("%d training clips from %d speakers; %d held-out clips from %s", len(train_clips),
             len(splits.speakers(train_clips)), len(test_clips), ", ".join(holdout))
    train_clips, train_audio = read_all(train_clips, fe.sample_rate)
    test_clips, test_audio = read_all(test_clips, fe.sample_rate)
    augmenter = Augmenter(voices=tuple(train_audio[:: max(1, len(train_audio) // 200)]))
    data = examples(train_clips, train_audio, fe, args.copies, augmenter, args.seed, args.jobs)
    model = fit_model(data, fe, args)
    names = sorted({name for name, _ in sources})
    training = {
        "command": "python -m training " + shlex.join(args.argv),
        "seed": args.seed,
        "corpora": names,
        "licence": "; ".join(LICENCES[n] for n in names),
        "train_speakers": splits.speakers(train_clips),
        "heldout_speakers": sorted(holdout),
        "train_clips": len(train_clips),
        "examples": len(data),
        "epochs": args.epochs,
        "parameters": model.count_params(),
    }
    report.build(model, fe, data, test_clips, test_audio, training, args, started)
    return 0
