"""``python -m training ser``: train, quantize and evaluate the speech emotion model, write it with its card."""

from __future__ import annotations

import argparse
import json
import logging
import math
import os
import shlex
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

from device.features import NORMALISATIONS, FrontEnd, warp_bands
from device.statistics import StatisticsHead

from . import corpora, splits
from .augment import Augmenter
from .corpora import LABELS, Clip
from .dataset import (
    Examples,
    augmenters,
    cached,
    chain_key,
    examples,
    random_crop,
    random_window,
    read_all,
    retimed,
    spec_augment,
)
from .teacher import Lessons
from .voices import ROOMS, References, prior

log = logging.getLogger(__name__)

AVERAGE_EVERY = 20
"""With ``--average``: steps between the snapshots the weights are averaged over."""

LICENCES = {
    "ravdess": "RAVDESS: CC BY-NC-SA 4.0; Livingstone & Russo 2018, PLoS ONE 13(5): e0196391",
    "crema-d": "CREMA-D: Open Database License; Cao et al. 2014, IEEE Trans. Affective Computing",
    "tess": "TESS: CC BY-NC-ND 4.0; Dupuis & Pichora-Fuller 2010, University of Toronto",
    "savee": "SAVEE: free for research use; Haq & Jackson 2009",
    "emodb": "EmoDB: free for research use; Burkhardt et al. 2005, Interspeech",
    "nemo": "nEMO: CC BY-NC-SA 4.0; Christop 2024, LREC-COLING",
    "turev-db": "TurEV-DB: CC BY-NC-ND 4.0; Canpolat et al. 2020",
}
"""Licence and citation of each corpus, copied onto the card of every model trained on it."""

NON_COMMERCIAL = "the model is for non-commercial research use only"


def licence(names: list[str]) -> str:
    """Return the card's licence line for a model trained on corpora ``names``."""
    return "; ".join(LICENCES[n] for n in names) + f" - {NON_COMMERCIAL}"


def add_recipe(p: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """Add the data and recipe options ``ser`` and ``ser-validate`` share (the defaults are the shipped recipe)."""
    p.add_argument("--corpus", action="append", required=True, metavar="NAME=DIR",
                   help=f"a corpus to train on, by layout name ({', '.join(corpora.CORPORA)}); repeatable")
    p.add_argument("--epochs", type=int, default=20)
    p.add_argument("--copies", type=int, default=3, help="augmented copies of each training clip")
    p.add_argument("--width", type=float, default=0.7, help="network width multiplier")
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--members", type=int, default=2,
                   help="networks trained with different seeds whose mean logits make the model (an ensemble)")
    p.add_argument("--mixup", type=float, default=0.2, help="mixup alpha: blend pairs of examples and labels (0: off)")
    p.add_argument("--balance", type=float, default=0.5,
                   help="corpus sampling power: 1 draws examples as they come, 0 gives every corpus the same "
                        "share of each epoch; in between tempers the larger corpora")
    p.add_argument("--balance-by", choices=("corpus", "speaker"), default="corpus",
                   help="what --balance tempers: each corpus's share, or each speaker's (a corpus of few "
                        "voices then weighs less than one of many; measured and not kept, see docs/speech-model.md)")
    p.add_argument("--speed", type=speed_range, default=Augmenter.speed, metavar="LO,HI",
                   help="range of the speed (and pitch) change of the augmented copies (default 0.92,1.08)")
    p.add_argument("--warp", type=float, default=0.1, metavar="SHARE",
                   help="stretch each training window's spectrum along frequency by a random factor within "
                        "1 +- SHARE, fresh every epoch (vocal tract length perturbation; 0: off; 0.2 was measured "
                        "and loses held-out speakers, see docs/speech-model.md)")
    p.add_argument("--crop", type=float, default=0.0, metavar="SHARE",
                   help="cut this share of the training examples, fresh every epoch, to a random stretch of their "
                        "speech between half a second and all of it, as a short press or a single word gives "
                        "(0: off; 0.5 was measured and not kept, see docs/speech-model.md)")
    p.add_argument("--tempo", type=float, default=0.0, metavar="SHARE",
                   help="say each training example, fresh every epoch, faster or slower by a random factor within "
                        "1 +- SHARE, its spectrum unchanged (the frames resampled along time; 0: off; 0.2 was "
                        "measured and not kept, see docs/speech-model.md)")
    p.add_argument("--average", type=float, default=0.0, metavar="SHARE",
                   help="hold the learning rate where the last SHARE of the epochs begins and average the "
                        "weights over them (stochastic weight averaging; 0: off; 0.3 was measured and not kept, "
                        "see docs/speech-model.md)")
    p.add_argument("--mix-style", type=float, default=0.0, metavar="P",
                   help="with probability P per batch, mix each example's feature statistics over time with "
                        "another's after the stem and the first block (MixStyle; training only; 0: off; 0.5 was "
                        "measured and not kept, see docs/speech-model.md)")
    p.add_argument("--stem", choices=("1d", "2d"), default="1d",
                   help="first layer: one convolution over all bands at once (1d), or small 3 x 3 patches of "
                        "time and band first, the same filters at every pitch (2d; measured and not kept, "
                        "see docs/speech-model.md)")
    p.add_argument("--band-pool", type=int, default=1, metavar="N",
                   help="the network first averages each run of N neighbouring mel bands, a coarser spectrum "
                        "(1: off; it must divide the bands)")
    p.add_argument("--band-norm", action=argparse.BooleanOptionalAction, default=False,
                   help="subtract each mel band's mean over the window inside the model (channel invariance)")
    p.add_argument("--adversary", type=float, default=0.0, metavar="SCALE",
                   help="train an adversary on the pooled features through a gradient reversal of this scale, so "
                        "the features learn to hide what it tells apart (--hide: which corpus spoke; 0: off)")
    p.add_argument("--hide", choices=("corpus", "speaker"), default="corpus",
                   help="what the --adversary learns to tell apart, and so what the pooled features learn to "
                        "hide: the corpus, or the speaker (who spoke, in any corpus; speaker at 0.3 was measured "
                        "and not kept, see docs/speech-model.md)")
    p.add_argument("--soft-labels", type=float, default=0.0, metavar="SHARE",
                   help="share of each label spread over the other emotions by their nearness on the circumplex "
                        "(0: plain labels; measured and not kept, see docs/speech-model.md)")
    p.add_argument("--own-classes", action=argparse.BooleanOptionalAction, default=False,
                   help="score each example only among the emotions its corpus has (a softmax over those), so a "
                        "corpus that never acts calm does not teach that its voices are never calm "
                        "(measured and not kept, see docs/speech-model.md)")
    p.add_argument("--distil", type=float, default=0.0, metavar="SHARE",
                   help="blend each label with the opinion of a teacher that never heard its speaker: a "
                        "classifier on a pretrained speaker encoder's embeddings (training/teacher.py; needs "
                        "training/requirements-teacher.txt); SHARE of each target is the teacher's (0: off; 0.5 "
                        "was measured and not kept, see docs/speech-model.md)")
    p.add_argument("--hint", type=float, default=0.0, metavar="WEIGHT",
                   help="a second head, left behind, learns to tell from the pooled features the pretrained "
                        "speaker encoder's embedding of the utterance with the speaker's own mean and spread taken "
                        "away (training/teacher.py); WEIGHT times its squared error joins the loss (0: off; 1 was "
                        "measured and not kept, see docs/speech-model.md)")
    p.add_argument("--statistics", type=float, default=0.25, metavar="WEIGHT",
                   help="fit a logistic regression on each utterance's coarse statistics relative to its "
                        "listener's usual and blend its log-probabilities into the network's at this weight "
                        "(the card's statistics head; 0: none; with the listener normalisation only)")
    p.add_argument("--statistics-noise", type=snr_range, default=None, metavar="LO,HI",
                   help="the head also learns from each training speaker in steady noise of their own, white or "
                        "pink at one SNR (dB) from LO to HI (none: from the clean clips alone; 5,25 was "
                        "measured and not kept, see docs/speech-model.md)")
    p.add_argument("--normalisation", choices=NORMALISATIONS, default="listener",
                   help="utterance: each utterance to zero mean and unit variance; listener: each frame "
                        "relative to the listener's mean spectrum, which the box learns as it hears them")
    p.add_argument("--denoise", type=float, default=0.0, metavar="SHARE",
                   help="front-end: take SHARE times each band's noise floor (the recording's quietest tenth "
                        "of frames) off the speech before the log, on the box as in training (0: off; 2 was "
                        "measured and not kept, see docs/speech-model.md)")
    p.add_argument("--room", choices=ROOMS, default="level",
                   help="listener: how an augmented copy's reference follows the room the augmentation made: "
                        "bands (its noise, colour and echo, as a box settled in that room hears), level "
                        "(its gain only) or mixed (its gain and a random share of the rest)")
    p.add_argument("--level-jitter", type=float, default=0.0, metavar="DB",
                   help="with listener normalisation, move each example's listener reference up or down by a "
                        "level within +-DB (the listener nearer or further from the box; 0: off; 6 was measured "
                        "and not kept, see docs/speech-model.md)")
    p.add_argument("--seed", type=int, default=20261125)
    p.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    p.add_argument("--noise-snr", type=float, default=10.0, help="SNR (dB) of the white-noise evaluation")
    p.add_argument("--cache", type=Path, default=Path("build/cache"),
                   help="folder for computed training features (reused while clips and recipe are unchanged)")
    return p


def number_pair(text: str, example: str) -> tuple[float, float]:
    """Return the two numbers of ``LO,HI`` in ``text``; an ArgumentTypeError shows ``example``."""
    try:
        lo, hi = (float(v) for v in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected LO,HI such as {example}, not {text!r}") from None
    return lo, hi


def speed_range(text: str) -> tuple[float, float]:
    """Parse ``--speed LO,HI``: two factors around 1, e.g. ``0.9,1.1``."""
    lo, hi = number_pair(text, "0.9,1.1")
    if not 0.5 <= lo <= 1.0 <= hi <= 2.0:
        raise argparse.ArgumentTypeError(f"--speed {text}: need 0.5 <= LO <= 1 <= HI <= 2")
    return lo, hi


def add_parser(sub) -> argparse.ArgumentParser:
    p = sub.add_parser("ser", help="train the speech emotion model",
                       description="Train, int8-quantize and evaluate the speech emotion ConvNet.")
    add_recipe(p)
    p.add_argument("--holdout", default="",
                   help="comma-separated speakers to hold out, e.g. ravdess:17,ravdess:18; 'none' trains on all")
    p.add_argument("--holdout-fraction", type=float, default=0.2, help="if --holdout is empty: share of speakers")
    p.add_argument("--validation", type=Path,
                   help="the report of `ser-validate` with this recipe: its figures become the card's metrics")
    p.add_argument("--out", type=Path, default=Path("models/emotune-ser.json"), help="the model card to write")
    return p


def parse_corpora(specs: list[str]) -> list[tuple[str, Path]]:
    out = []
    for spec in specs:
        name, sep, root = spec.partition("=")
        if not sep:
            raise SystemExit(f"--corpus {spec!r}: write it as NAME=DIR, e.g. ravdess=../shared/data/ravdess")
        out.append((name.strip().lower(), Path(root)))
    return out


def circumplex_targets(share: float, width: float = 0.5) -> np.ndarray:
    """Return the (labels, labels) training targets: row i is label i with ``share`` of it spread over
    the other emotions in proportion to ``exp(-distance / width)`` on the circumplex
    (:mod:`device.circumplex`), so mistaking angry for disgust costs less than for calm."""
    from device.circumplex import EMOTIONS

    places = [EMOTIONS[label] for label in LABELS]
    near = np.array([[math.exp(-a.distance(b) / width) if a is not b else 0.0 for b in places] for a in places])
    return ((1.0 - share) * np.eye(len(LABELS)) + share * near / near.sum(axis=1, keepdims=True)).astype(np.float32)


class Batches:
    """Training batches: random offsets, SpecAugment masks, balanced corpora and classes, optional mixup.

    Each epoch draws ``len(data)`` examples. With ``balance`` 1 that is a shuffle of the data; below
    1 an example of a corpus with n examples is drawn with probability proportional to
    ``n ** (balance - 1)``, so a corpus's share of the epoch goes as ``n ** balance`` (0: equal
    shares). With ``units`` (say each example's speaker) those are what is balanced instead of the
    corpora. The loss weights then make every class weigh the same in what is drawn. With
    ``references`` every example is taken relative to a reference spectrum drawn for it. With
    ``warp`` each window's spectrum is stretched by a factor drawn within ``1 ± warp``
    (:func:`~device.features.warp_bands`). With ``crop`` that share of the examples is first cut to
    a random stretch of its frames (:func:`~training.dataset.random_crop`). With ``tempo`` every
    example is said faster or slower by a factor within ``1 ± tempo`` (:func:`~training.dataset.retimed`).
    With ``own_classes`` each label row is followed by the mask of the emotions its corpus has (see
    :func:`own_class_loss`). ``hidden`` is each example's class for an adversary (its corpus unless given).
    """

    def __init__(self, data: Examples, fe: FrontEnd, size: int, seed: int, mixup: float = 0.0,
                 balance: float = 1.0, references: References | None = None, soft_labels: float = 0.0,
                 own_classes: bool = False, units: np.ndarray | None = None, warp: float = 0.0,
                 crop: float = 0.0, teacher: Lessons | None = None, distil: float = 0.0,
                 hidden: np.ndarray | None = None, tempo: float = 0.0):
        self.data, self.fe, self.size, self.mixup, self.balance = data, fe, size, mixup, balance
        self.teacher = teacher or Lessons()
        self.distil = distil if self.teacher.opinions is not None else 0.0
        self.warp, self.crop, self.tempo = warp, crop, tempo
        self.references = references
        self.hidden = data.groups if hidden is None else hidden
        """Each example's class for the adversary (its corpus unless given: say, its speaker's index)."""
        self.targets = circumplex_targets(soft_labels)
        self.has = None
        if own_classes:  # (corpora, labels): 1 where the corpus has the emotion
            self.has = np.zeros((int(data.groups.max()) + 1, len(LABELS)), dtype=np.float32)
            self.has[data.groups, data.labels] = 1.0
        self.rng = np.random.default_rng(seed)
        _, unit, size = np.unique(data.groups if units is None else units, return_inverse=True,
                                  return_counts=True)
        p = size[unit].astype(np.float64) ** (balance - 1.0)
        self.p = p / p.sum()
        mass = np.bincount(data.labels, weights=self.p, minlength=len(LABELS))
        self.weights = np.divide(1.0, np.count_nonzero(mass) * mass, out=np.zeros_like(mass),
                                 where=mass > 0).astype(np.float32)

    @property
    def hidden_classes(self) -> int:
        """How many classes the adversary tells apart (the width of its labels)."""
        return int(self.hidden.max()) + 1

    def __len__(self) -> int:
        return math.ceil(len(self.data) / self.size)

    def order(self) -> np.ndarray:
        """Return the example indices of one epoch: a shuffle, or a draw by corpus weight."""
        n = len(self.data)
        return self.rng.permutation(n) if self.balance >= 1 else self.rng.choice(n, size=n, p=self.p)

    def epoch(self):
        """Yield (windows, soft labels, weights, soft adversary labels or hint rows) batches over one epoch's draw."""
        order = self.order()
        for i in range(len(self)):
            idx = order[i * self.size : (i + 1) * self.size]
            feats = [self.data.features[j].astype(np.float32) for j in idx]
            if self.references is not None:
                feats = [f - r for f, r in zip(feats, self.references.draw(idx, self.rng), strict=True)]
            if self.crop > 0:
                feats = [random_crop(f, self.rng) if self.rng.random() < self.crop else f for f in feats]
            if self.tempo > 0:
                feats = [retimed(f, self.rng.uniform(1 - self.tempo, 1 + self.tempo)) for f in feats]
            x = np.stack([spec_augment(self.warped(random_window(f, self.fe.frames, self.rng)), self.rng)
                          for f in feats])
            y = self.targets[self.data.labels[idx]]
            if self.distil > 0:
                y = (1.0 - self.distil) * y + self.distil * self.teacher.opinions[self.data.clips[idx]]
            if self.has is not None:
                has = self.has[self.data.groups[idx]]
                y = np.concatenate([y * has / (y * has).sum(axis=1, keepdims=True), has], axis=1)
            if self.teacher.voices is not None:
                side = self.teacher.voices[self.data.clips[idx]]
            else:
                side = np.eye(self.hidden_classes, dtype=np.float32)[self.hidden[idx]]
            yield self.mix(x, y, self.weights[self.data.labels[idx]], side)

    def warped(self, window: np.ndarray) -> np.ndarray:
        """Return ``window`` with its spectrum stretched by a random factor within ``1 ± warp``, or as it is."""
        if self.warp <= 0:
            return window
        return warp_bands(window, self.rng.uniform(1 - self.warp, 1 + self.warp), self.fe)

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


def own_class_loss(classes: int, smoothing: float = 0.1):
    """Return a loss of logits against ``Batches(own_classes=True)`` rows: the cross-entropy of a
    softmax over only the emotions the example's corpus has (the mask after the ``classes``
    targets), label smoothing spread over those. A mixup of two corpora allows either's emotions."""
    from keras import ops

    def loss(y_true, logits):
        target, has = y_true[:, :classes], ops.cast(y_true[:, classes:] > 0, logits.dtype)
        target = (1.0 - smoothing) * target + smoothing * has / ops.sum(has, axis=1, keepdims=True)
        logp = ops.log_softmax(logits + (has - 1.0) * 1e4, axis=1)
        return -ops.sum(target * logp, axis=1)  # the target is 0 where the corpus lacks the emotion

    return loss


def own_class_accuracy(classes: int):
    """Return the accuracy metric for ``Batches(own_classes=True)`` rows (the targets' argmax)."""
    from keras import ops

    def accuracy(y_true, logits):
        return ops.cast(ops.argmax(y_true[:, :classes], axis=1) == ops.argmax(logits, axis=1), "float32")

    return accuracy


def snr_range(text: str) -> tuple[float, float] | None:
    """Parse ``--statistics-noise LO,HI``: an SNR range in dB, e.g. ``5,25``; None for ``none``."""
    if text == "none":
        return None
    lo, hi = number_pair(text, "5,25 (dB) or none")
    if lo > hi:
        raise argparse.ArgumentTypeError(f"--statistics-noise {text}: LO is above HI")
    return lo, hi


def check(args) -> None:
    """Refuse, in one line and before any feature is computed, a recipe whose options cannot go together."""
    averaged_epochs(args.epochs, args.average)
    try:
        fe = frontend(args)  # the front-end's own checks (a negative --denoise), said as the option
    except ValueError as exc:
        raise SystemExit(f"--{exc}") from None
    if args.statistics < 0:
        raise SystemExit(f"--statistics {args.statistics:g}: give a weight of 0 (none) or more")
    if args.band_pool < 1 or fe.nfilt % args.band_pool:
        raise SystemExit(f"--band-pool {args.band_pool}: give a whole number of at least 1 that divides the "
                         f"{fe.nfilt} mel bands (e.g. 2 or 4)")
    if args.adversary > 0 and args.hint > 0:
        raise SystemExit("--adversary and --hint both want the pooled features' second head: give one of them")
    for option, share in (("--warp", args.warp), ("--tempo", args.tempo)):
        if not 0 <= share < 1:
            raise SystemExit(f"{option} {share:g}: a factor within 1 +- SHARE needs a share from 0 to below 1 "
                             f"(e.g. 0.1)")


def averaged_epochs(epochs: int, share: float) -> int:
    """Return how many of the last ``epochs`` ``--average`` ``share`` averages the weights over (0: off).

    Raises SystemExit with one line where the share leaves no epoch to average or none to learn in.
    """
    if share <= 0:
        return 0
    count = round(epochs * share)
    if not 1 <= count < epochs:
        raise SystemExit(f"--average {share:g}: averages {count} of {epochs} epochs; give a share that leaves at "
                         f"least one epoch to average and one before it (e.g. 0.3)")
    return count


def fit_member(data: Examples, fe: FrontEnd, args, seed: int, name: str, references: References | None = None,
               units: np.ndarray | None = None, teacher: Lessons | None = None, hidden: np.ndarray | None = None):
    """Return one DS-CNN trained on ``data`` for ``args.epochs`` epochs (fixed schedule, no peeking).

    A plain loop over ``train_on_batch``: on a two-core desktop it is several times faster than
    ``fit`` fed from a Python generator. One progress line per epoch.
    """
    import keras

    from .network import WeightAverage, adversarial, ds_cnn, hinted, schedule

    keras.utils.set_random_seed(seed)
    model = ds_cnn(fe.frames, fe.nfilt, len(LABELS), width=args.width, band_norm=args.band_norm,
                   mix_style=args.mix_style, stem=args.stem, band_pool=args.band_pool, name=name)
    batches = Batches(data, fe, args.batch, seed, args.mixup, args.balance, references,
                      args.soft_labels, args.own_classes, units, args.warp, args.crop, teacher, args.distil, hidden,
                      args.tempo)
    steps = args.epochs * len(batches)
    first_averaged = args.epochs - averaged_epochs(args.epochs, args.average)  # epochs after this one are averaged
    average = WeightAverage(model) if first_averaged < args.epochs else None
    emotion = keras.losses.CategoricalCrossentropy(from_logits=True, label_smoothing=0.1)
    accuracy = "accuracy"
    if args.own_classes:
        emotion, accuracy = own_class_loss(len(LABELS)), own_class_accuracy(len(LABELS))
    hide = args.adversary > 0 and batches.hidden_classes > 1  # one corpus (or speaker) has nothing to hide
    hint = batches.teacher.voices is not None
    trainer, loss, weights = model, emotion, None
    if hide:
        trainer, loss = adversarial(model, batches.hidden_classes, args.adversary), [
            emotion, keras.losses.CategoricalCrossentropy(from_logits=True)]
    elif hint:
        trainer, loss, weights = hinted(model, batches.teacher.voices.shape[1]), [
            emotion, keras.losses.MeanSquaredError()], [1.0, args.hint]
    held = first_averaged * len(batches) if average else None
    trainer.compile(optimizer=keras.optimizers.AdamW(schedule(steps, hold_from=held), weight_decay=1e-4),
                    loss=loss, loss_weights=weights, weighted_metrics={"logits": [accuracy]})
    log.info("%s: training %d parameters on %d examples for %d epochs", name, model.count_params(), len(data),
             args.epochs)
    started = time.time()
    for epoch in range(1, args.epochs + 1):
        totals: dict[str, float] = {}  # train_on_batch reports one batch: the line shows the epoch's mean
        for step, (x, y, w, side) in enumerate(batches.epoch(), 1):
            if hide or hint:  # the adversary (or hint) head learns from every example alike
                y, w = [y, side], [w, np.ones_like(w)]
            result = trainer.train_on_batch(x, y, sample_weight=w, return_dict=True)
            for k, v in result.items():
                totals[k] = totals.get(k, 0.0) + float(v) / len(batches)
            if average and epoch > first_averaged and step % min(AVERAGE_EVERY, len(batches)) == 0:
                average.take()
        elapsed = time.time() - started
        log.info("%s: epoch %d/%d  %s  %.0f s, about %.0f s to go", name, epoch, args.epochs,
                 "  ".join(f"{k} {v:.3f}" for k, v in totals.items()), elapsed,
                 elapsed / epoch * (args.epochs - epoch))
    if average:
        average.apply(batches.epoch())
        log.info("%s: weights averaged over %d snapshots of the last %d epochs", name, average.count,
                 args.epochs - first_averaged)
    return model


def fit_model(data: Examples, fe: FrontEnd, args, clips: list[Clip], references: References | None = None,
              teacher: Lessons | None = None):
    """Return the model to ship: one network, or the ensemble of ``args.members`` trained with other seeds.

    Networks that start from different weights and see the batches in another order make different
    mistakes on new speakers; averaging their logits cancels part of them.
    """
    from .network import ensemble

    speakers = np.array([clips[i].speaker for i in data.clips])
    units = speakers if args.balance_by == "speaker" else None
    hidden = np.unique(speakers, return_inverse=True)[1] if args.hide == "speaker" else None
    members = [fit_member(data, fe, args, args.seed + i, f"ds_cnn_{i + 1}", references, units, teacher, hidden)
               for i in range(max(1, args.members))]
    return members[0] if len(members) == 1 else ensemble(members)


def clip_set(sources: list[tuple[str, Path]]) -> list[Clip]:
    """Return the clips of every ``(name, root)`` corpus, in order."""
    return [c for name, root in sources for c in corpora.load(name, root)]


def prepare(clips: list[Clip], fe: FrontEnd, args, exclude: set[str]) -> tuple[list[Clip], list[np.ndarray],
                                                                               Examples]:
    """Return the readable clips, their samples and the training examples of all of them
    (:func:`training_examples`)."""
    clips, samples = read_all(clips, fe.sample_rate)
    return clips, samples, training_examples(clips, samples, fe, args, exclude)


def training_examples(clips: list[Clip], samples: list[np.ndarray], fe: FrontEnd, args,
                      exclude: set[str]) -> Examples:
    """Return the training examples of the read ``clips`` (their ``samples``): each clip's clean
    features and its augmented copies.

    Babble for the augmentation never comes from the speakers in ``exclude``. The examples are
    computed once per clip set and recipe and then read from ``args.cache``.
    """
    chain = Augmenter(speed=tuple(args.speed))
    key = {"clips": [(str(c.path), c.path.stat().st_size, c.label, c.speaker) for c in clips],
           "copies": args.copies, "seed": args.seed, "exclude": sorted(exclude), "frontend": fe.to_dict(),
           "augment": chain_key(chain)}
    return cached(args.cache, key, lambda: examples(clips, samples, fe, args.copies,
                                                    augmenters(clips, samples, exclude, chain=chain), args.seed,
                                                    args.jobs))


def taught(clips: list[Clip], samples: list[np.ndarray], train: np.ndarray, args) -> Lessons | None:
    """Return what the teacher says of the ``train`` clips when ``--distil`` or ``--hint`` asks for it, else None."""
    if args.distil <= 0 and args.hint <= 0:
        return None
    from .teacher import lessons

    return lessons(clips, samples, train, args.cache, args.seed, args.distil > 0, args.hint > 0)


def listening(data: Examples, clips: list[Clip], fe: FrontEnd, seed: int, room: str,
              jitter: float = 0.0) -> tuple[FrontEnd, References | None]:
    """Return the front-end to ship for a model trained on ``data`` and, with ``listener``
    normalisation, its voice prior filled in and the training references (else None)."""
    if not fe.listener:
        return fe, None
    speakers = np.array([c.speaker for c in clips])
    fe = replace(fe, voice_prior=prior(data, speakers))
    return fe, References(data, speakers, fe, seed, room=room, jitter=jitter)


def second_opinion(measured, clips: list[Clip], train: np.ndarray, fe: FrontEnd,
                   args) -> tuple[FrontEnd, StatisticsHead | None]:
    """Return ``fe`` and the statistics head fitted on the ``train`` clips where :func:`measured`
    measured them (:mod:`training.statistics_head`), else ``fe`` as it is and None."""
    if measured is None:
        return fe, None
    from . import statistics_head

    return statistics_head.fit(measured, clips, train, fe, args.statistics, args.seed)


def measured(clips: list[Clip], samples: list[np.ndarray], fe: FrontEnd, args):
    """Return every clip's spectrum and dynamics (also in its speaker's noise, with
    ``--statistics-noise``) when ``--statistics`` asks for a head, else None (also without the
    listener normalisation: there is no listener's usual to read against)."""
    if args.statistics <= 0 or not fe.listener:
        return None
    from . import statistics_head

    return statistics_head.measure(samples, fe, [c.speaker for c in clips], args.statistics_noise, args.seed)


def frontend(args) -> FrontEnd:
    """Return the front-end the recipe in ``args`` trains with (the card keeps it)."""
    return FrontEnd(normalisation=args.normalisation, denoise=args.denoise)


def main(args) -> int:
    from . import report

    started = time.time()
    check(args)  # a bad recipe is said now, not after the features
    fe = frontend(args)
    sources = parse_corpora(args.corpus)
    clips = clip_set(sources)
    if args.holdout == "none":
        holdout = []
    else:
        holdout = [s for s in args.holdout.split(",") if s] or splits.pick_holdout(clips, args.holdout_fraction,
                                                                                    args.seed)
    splits.split(clips, holdout)  # names an unknown held-out speaker
    # Babble comes from the speakers `ser-validate` never holds out, so both share one feature cache.
    quiet = set(holdout) or set(splits.per_corpus_holdout(clips, args.holdout_fraction, args.seed))
    clips, samples, data = prepare(clips, fe, args, quiet)
    test = np.array([i for i, c in enumerate(clips) if c.speaker in set(holdout)], dtype=np.int64)
    train = np.setdiff1d(np.arange(len(clips)), test)
    log.info("%d training clips from %d speakers; %d held-out clips from %s", len(train),
             len({clips[i].speaker for i in train}), len(test), ", ".join(holdout) or "nobody")
    data = data.take(train)
    fe, references = listening(data, clips, fe, args.seed, args.room, args.level_jitter)
    model = fit_model(data, fe, args, clips, references, taught(clips, samples, train, args))
    fe, head = second_opinion(measured(clips, samples, fe, args), clips, train, fe, args)
    names = sorted({c.corpus for c in clips})
    training = {
        "command": "python -m training " + shlex.join(args.argv),
        "seed": args.seed,
        "corpora": names,
        "licence": licence(names),
        "train_speakers": sorted({clips[i].speaker for i in train}),
        "heldout_speakers": sorted(holdout),
        "train_clips": len(train),
        "examples": len(data),
        "epochs": args.epochs,
        "parameters": model.count_params(),
    }
    validation = json.loads(args.validation.read_text()) if args.validation else None
    report.build(model, fe, data, [clips[i] for i in test], [samples[i] for i in test], training, args, started,
                 validation, references, head)
    return 0
