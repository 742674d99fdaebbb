"""Fitting the card's statistics head (:mod:`device.statistics`) on the training speakers.

Each training clip is heard as a box settled on its speaker hears it: its mean spectrum and its
:func:`~device.features.dynamics`, each minus that speaker's mean over all their clips, averaged
:data:`POOL` bands at a time. A strongly regularised, class-balanced logistic regression learns
the emotions from those numbers; the mean training speaker's dynamics become the front-end's
``dynamics_prior`` (what a box that has heard nobody takes its listener's to be).

A box lives in a room with steady noise of its own, and the noise moves every number the head
reads. With ``--statistics-noise`` each training speaker is also heard once more through noise of
their own (white or pink, at one SNR from that range), as a second listener read against their own
mean in that noise (:func:`in_their_noise`); validated on all six folds it moved every figure by
a point or less, so the shipped recipe leaves it off (docs/speech-model.md).

:data:`POOL`, :data:`STRENGTH` and the shipped weight were chosen on the validation folds' own
int8 models with ``bench/probes.py statistics`` (docs/speech-model.md: how the statistics head was chosen).
"""

from __future__ import annotations

import logging
import zlib
from dataclasses import dataclass, replace

import numpy as np
from tqdm import tqdm

from device.errors import NoSpeech
from device.features import FrontEnd, dynamics, spectrum, speech_features
from device.statistics import StatisticsHead, coarse

from .augment import add_noise, pink, white
from .corpora import LABELS, Clip

log = logging.getLogger(__name__)

POOL = 4
"""Neighbouring mel bands averaged into one: 64 bands -> 16 (2 and 1 read worse on the corpora left out)."""
STRENGTH = 0.01
"""The logistic regression's inverse regularisation ``C`` (0.05 reads as well; 0.2 worse)."""


@dataclass(frozen=True)
class Measured:
    """Every clip's mean spectrum and dynamics as the front-end measures them (NaN rows: no speech),
    and the same again for the clips in their speaker's noise, if measured there."""

    spectra: np.ndarray
    dynamics: np.ndarray
    in_noise: Measured | None = None

    @property
    def speech(self) -> np.ndarray:
        """Whether each clip held speech."""
        return ~np.isnan(self.spectra[:, 0])


def measure(samples: list[np.ndarray], fe: FrontEnd, speakers: list[str] | None = None,
            snr_db: tuple[float, float] | None = None, seed: int = 0) -> Measured:
    """Return the mean spectrum and dynamics of each recording's speech, as the device measures them;
    with ``speakers`` and ``snr_db``, also of each in its speaker's noise (:func:`in_their_noise`)."""
    clean = _measure(samples, fe)
    if speakers is None or snr_db is None:
        return clean
    return replace(clean, in_noise=_measure(in_their_noise(samples, speakers, snr_db, seed), fe))


def in_their_noise(samples: list[np.ndarray], speakers: list[str], snr_db: tuple[float, float],
                   seed: int = 0) -> list[np.ndarray]:
    """Return each recording in its speaker's steady noise: one colour (white or pink) and one SNR
    drawn from ``snr_db`` per speaker, from ``seed`` and the speaker's name alone."""
    heard: dict[str, tuple] = {}
    noisy = []
    for x, who in zip(samples, speakers, strict=True):
        if who not in heard:
            rng = np.random.default_rng([seed, zlib.crc32(who.encode())])
            heard[who] = ((white, pink)[rng.integers(2)], rng.uniform(*snr_db), rng)
        colour, snr, rng = heard[who]
        noisy.append(add_noise(x, colour(len(x), rng), snr))
    return noisy


def _measure(samples: list[np.ndarray], fe: FrontEnd) -> Measured:
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
    x, means = _listened(measured, clips, rows, pool)
    labels = np.array([LABELS.index(clips[i].label) for i in rows])
    if measured.in_noise is not None:  # each speaker in their noise: one more listener to learn from
        rows = np.array([i for i in train if measured.in_noise.speech[i]])
        x = np.vstack([x, _listened(measured.in_noise, clips, rows, pool)[0]])
        labels = np.concatenate([labels, [LABELS.index(clips[i].label) for i in rows]])
    centre, scale = x.mean(axis=0), x.std(axis=0) + 1e-9
    model = LogisticRegression(C=strength, max_iter=3000, class_weight="balanced", random_state=seed)
    model.fit((x - centre) / scale, labels)
    coef = np.zeros((len(LABELS), x.shape[1]))
    intercept = np.full(len(LABELS), -30.0)  # an emotion no training corpus acts: never the head's answer
    weights, bias = model.coef_, model.intercept_
    if len(model.classes_) == 2:  # one row for the second class: as a softmax, half of it each way
        weights, bias = np.vstack([-weights, weights]) / 2, np.array([-bias[0], bias[0]]) / 2
    coef[model.classes_], intercept[model.classes_] = weights, bias
    log.info("statistics head: %d readings of %d speakers%s, %d inputs, weight %g", len(x), len(means),
             " (and in noise)" if measured.in_noise is not None else "", x.shape[1], weight)
    head = StatisticsHead(pool=pool, centre=tuple(centre), scale=tuple(scale), coef=tuple(map(tuple, coef)),
                          intercept=tuple(intercept), weight=weight)
    fe = replace(fe, dynamics_prior=tuple(np.mean(means, axis=0)))
    return FrontEnd.from_dict(fe.to_dict()), StatisticsHead.from_dict(head.to_dict())  # as the card keeps them


def _listened(measured: Measured, clips: list[Clip], rows: np.ndarray, pool: int) -> tuple[np.ndarray, list]:
    """Return the coarse statistics of the clips at ``rows``, each relative to its own speaker's
    mean, and each speaker's mean dynamics."""
    speakers = np.array([clips[i].speaker for i in rows])
    spectra, moves = measured.spectra[rows], measured.dynamics[rows]
    relative = np.empty((len(rows), spectra.shape[1] + moves.shape[1]))
    means = []
    for who in np.unique(speakers):
        mine = speakers == who
        means.append(moves[mine].mean(axis=0))
        relative[mine] = settled(spectra[mine], moves[mine])
    return np.stack([coarse(r, pool) for r in relative]), means
