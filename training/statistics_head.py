"""Fitting the card's statistics head (:mod:`device.statistics`) on the training speakers.

Each training clip is heard as a box settled on its speaker hears it: its mean spectrum and its
:func:`~device.features.dynamics`, each minus that speaker's mean over all their clips, averaged
:data:`POOL` bands at a time. A strongly regularised, class-balanced logistic regression learns
the emotions from those numbers; the mean training speaker's dynamics become the front-end's
``dynamics_prior`` (what a box that has heard nobody takes its listener's to be).

:data:`POOL`, :data:`STRENGTH` and the shipped weight were chosen on the validation folds' own
int8 models with ``bench/probes.py statistics`` (README: a second opinion from the utterance's statistics).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace

import numpy as np
from tqdm import tqdm

from device.errors import NoSpeech
from device.features import FrontEnd, dynamics, spectrum, speech_features
from device.statistics import StatisticsHead, coarse

from .corpora import LABELS, Clip

log = logging.getLogger(__name__)

POOL = 4
"""Neighbouring mel bands averaged into one: 64 bands -> 16 (2 and 1 read worse on the corpora left out)."""
STRENGTH = 0.01
"""The logistic regression's inverse regularisation ``C`` (0.05 reads as well; 0.2 worse)."""


@dataclass(frozen=True)
class Measured:
    """Every clip's mean spectrum and dynamics as the front-end measures them (NaN rows: no speech)."""

    spectra: np.ndarray
    dynamics: np.ndarray

    @property
    def speech(self) -> np.ndarray:
        """Whether each clip held speech."""
        return ~np.isnan(self.spectra[:, 0])


def measure(samples: list[np.ndarray], fe: FrontEnd) -> Measured:
    """Return the mean spectrum and dynamics of each recording's speech, as the device measures them."""
    spectra = np.full((len(samples), fe.nfilt), np.nan)
    moves = np.full((len(samples), 2 * fe.nfilt), np.nan)
    for i, x in enumerate(tqdm(samples, desc="statistics", unit="clip", leave=False)):
        try:
            feats = speech_features(x, fe)[0]
        except NoSpeech:
            continue
        spectra[i], moves[i] = spectrum(feats), dynamics(feats)
    return Measured(spectra, moves)


def settled(spectra: np.ndarray, moves: np.ndarray) -> np.ndarray:
    """Return one listener's utterances' statistics (rows of spectra and dynamics) relative to that
    listener's own mean, as a box settled on them reads them (3 x nfilt per row)."""
    return np.hstack([spectra - spectra.mean(axis=0), moves - moves.mean(axis=0)])


def fit(measured: Measured, clips: list[Clip], train: np.ndarray, fe: FrontEnd, weight: float,
        seed: int = 0, pool: int = POOL, strength: float = STRENGTH) -> tuple[FrontEnd, StatisticsHead]:
    """Return ``fe`` with its ``dynamics_prior`` and the head fitted on the ``train`` clips (indices into
    ``clips``), to blend at ``weight``."""
    from sklearn.linear_model import LogisticRegression

    rows = np.array([i for i in train if measured.speech[i]])
    speakers = np.array([clips[i].speaker for i in rows])
    spectra, moves = measured.spectra[rows], measured.dynamics[rows]
    relative = np.empty((len(rows), 3 * fe.nfilt))
    means = []
    for who in np.unique(speakers):
        mine = speakers == who
        means.append(moves[mine].mean(axis=0))
        relative[mine] = settled(spectra[mine], moves[mine])
    x = np.stack([coarse(r, pool) for r in relative])
    labels = np.array([LABELS.index(clips[i].label) for i in rows])
    centre, scale = x.mean(axis=0), x.std(axis=0) + 1e-9
    model = LogisticRegression(C=strength, max_iter=3000, class_weight="balanced", random_state=seed)
    model.fit((x - centre) / scale, labels)
    coef = np.zeros((len(LABELS), x.shape[1]))
    intercept = np.full(len(LABELS), -30.0)  # an emotion no training corpus acts: never the head's answer
    weights, bias = model.coef_, model.intercept_
    if len(model.classes_) == 2:  # one row for the second class: as a softmax, half of it each way
        weights, bias = np.vstack([-weights, weights]) / 2, np.array([-bias[0], bias[0]]) / 2
    coef[model.classes_], intercept[model.classes_] = weights, bias
    log.info("statistics head: %d clips of %d speakers, %d inputs, weight %g", len(rows), len(means), x.shape[1],
             weight)
    head = StatisticsHead(pool=pool, centre=tuple(centre), scale=tuple(scale), coef=tuple(map(tuple, coef)),
                          intercept=tuple(intercept), weight=weight)
    fe = replace(fe, dynamics_prior=tuple(np.mean(means, axis=0)))
    return FrontEnd.from_dict(fe.to_dict()), StatisticsHead.from_dict(head.to_dict())  # as the card keeps them
