"""A second opinion from an utterance's statistics: how it differs from the listener's usual speech.

The network reads the frames; this head reads three numbers per band of coarse spectrum (the 64
mel bands averaged four at a time): how loud the band is over the speech, how much it varies and
how fast it changes from frame to frame, each *minus the listener's usual* (what the
:class:`~device.voice.Voice` has heard of them; a box that has heard nobody uses the card's
priors). A logistic regression on those 48 numbers, fitted on the training speakers, gives its
probabilities, and the box answers ``scores * head ** weight``, renormalised.

Why a linear model of a few coarse numbers beside a ConvNet: on corpora it never heard, the
network's mistakes follow the voice (a voice it hears as disgusted whatever it says); how much
this utterance moves *compared with how this person usually moves* is a cue that carries across
voices and languages, and a coarse, strongly regularised reading of it does not learn who spoke
(README: a second opinion from the utterance's statistics).

>>> import numpy as np
>>> head = StatisticsHead(pool=2, centre=(0.0,) * 6, scale=(1.0,) * 6,
...                       coef=((1.0, 0, 0, 0, 0, 0), (-1.0, 0, 0, 0, 0, 0)), intercept=(0.0, 0.0), weight=1.0)
>>> head.inputs(np.array([2.0, 2.0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0])).tolist()   # 4 bands -> 2, three statistics
[2.0, 0.0, 0.0, 0.0, 0.0, 0.0]
>>> [round(float(v), 3) for v in head.blend(np.array([0.5, 0.5]), np.array([2.0, 2.0] + [0.0] * 10))]
[0.982, 0.018]
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

STATISTICS = 3
"""Per band: the mean level, its deviation over the frames, its mean change between frames."""


@dataclass(frozen=True)
class StatisticsHead:
    """A logistic regression on an utterance's statistics relative to its listener, and its weight."""

    pool: int
    """Neighbouring mel bands averaged into one (64 bands, 4: 16 coarse bands)."""
    centre: tuple[float, ...]
    """The standardiser's mean of each input (``STATISTICS * bands / pool`` of them)."""
    scale: tuple[float, ...]
    """The standardiser's deviation of each input."""
    coef: tuple[tuple[float, ...], ...]
    """One row of weights per label, in the card's label order."""
    intercept: tuple[float, ...]
    """One per label."""
    weight: float
    """How much the head's log-probabilities count beside the network's (0: not at all)."""

    def __post_init__(self):
        inputs = len(self.centre)
        if self.pool < 1 or inputs == 0 or inputs % STATISTICS or len(self.scale) != inputs:
            raise ValueError(f"statistics: a pool of at least 1 and {STATISTICS} x bands centres and scales "
                             f"(got pool {self.pool}, {inputs} centres, {len(self.scale)} scales)")
        if not all(s > 0 for s in self.scale):
            raise ValueError("statistics.scale must be above 0 for every input")
        if len(self.coef) != len(self.intercept) or any(len(row) != inputs for row in self.coef):
            raise ValueError(f"statistics.coef must have one row of {inputs} weights per intercept")
        if self.weight < 0:
            raise ValueError(f"statistics.weight must be 0 or more, not {self.weight}")

    def inputs(self, relative: np.ndarray) -> np.ndarray:
        """Return the head's inputs from an utterance's ``relative`` statistics (``STATISTICS * nfilt``:
        level, deviation and change per band, each minus the listener's usual): :func:`coarse`, then
        standardised."""
        coarse_ = coarse(relative, self.pool)
        if len(coarse_) != len(self.centre):
            raise ValueError(f"statistics: {len(relative)} statistics make {len(coarse_)} inputs at a pool of "
                             f"{self.pool}, not {len(self.centre)}")
        return (coarse_ - np.asarray(self.centre)) / np.asarray(self.scale)

    def log_probabilities(self, relative: np.ndarray) -> np.ndarray:
        """Return the head's log-probability of each label for an utterance's ``relative`` statistics."""
        logits = np.asarray(self.coef) @ self.inputs(relative) + np.asarray(self.intercept)
        return logits - logits.max() - np.log(np.exp(logits - logits.max()).sum())

    def blend(self, scores: np.ndarray, relative: np.ndarray) -> np.ndarray:
        """Return the network's ``scores`` times the head's probabilities to the power :attr:`weight`, normalised."""
        if self.weight == 0:
            return np.asarray(scores, dtype=np.float64)
        log_p = np.log(np.maximum(np.asarray(scores, dtype=np.float64), 1e-9))
        log_p = log_p + self.weight * self.log_probabilities(relative)
        p = np.exp(log_p - log_p.max())
        return p / p.sum()

    def to_dict(self) -> dict:
        return {"pool": self.pool, "weight": self.weight, "centre": _rounded(self.centre),
                "scale": _rounded(self.scale), "intercept": _rounded(self.intercept),
                "coef": [_rounded(row) for row in self.coef]}

    @classmethod
    def from_dict(cls, data: dict) -> StatisticsHead:
        """Return the head a card stores; raises ValueError naming the field that is missing or wrong."""
        if not isinstance(data, dict):
            raise ValueError("statistics must be a JSON object")
        try:
            pool, weight = data["pool"], data["weight"]
            if isinstance(pool, bool) or not isinstance(pool, int):
                raise ValueError(f"statistics.pool must be a whole number, not {pool!r}")
            if isinstance(weight, bool) or not isinstance(weight, int | float):
                raise ValueError(f"statistics.weight must be a number, not {weight!r}")
            rows = data["coef"]
            if not isinstance(rows, list):
                raise ValueError("statistics.coef must be a list of rows of numbers")
            return cls(pool=pool, weight=float(weight), centre=_numbers(data["centre"], "centre"),
                       scale=_numbers(data["scale"], "scale"), intercept=_numbers(data["intercept"], "intercept"),
                       coef=tuple(_numbers(row, f"coef[{i}]") for i, row in enumerate(rows)))
        except KeyError as exc:
            raise ValueError(f"statistics lacks the field {exc.args[0]!r}") from None


def coarse(relative: np.ndarray, pool: int) -> np.ndarray:
    """Return ``relative`` statistics (``STATISTICS`` rows of bands, flattened) with each run of
    ``pool`` neighbouring bands averaged into one, flattened the same way."""
    rows = np.asarray(relative, dtype=np.float64).reshape(STATISTICS, -1)
    if rows.shape[1] % pool:
        raise ValueError(f"statistics: a pool of {pool} does not divide {rows.shape[1]} bands")
    return rows.reshape(STATISTICS, -1, pool).mean(axis=2).reshape(-1)


def blended(scores: np.ndarray, head: StatisticsHead | None, relative: np.ndarray | None) -> np.ndarray:
    """Return ``scores`` blended with ``head``'s opinion of an utterance's ``relative`` statistics, or
    as they are where there is no head (or no statistics: a card without listener normalisation)."""
    return scores if head is None or relative is None else head.blend(scores, relative)


def _numbers(value, name: str) -> tuple[float, ...]:
    if not isinstance(value, list) or not all(isinstance(v, int | float) and not isinstance(v, bool) for v in value):
        raise ValueError(f"statistics.{name} must be a list of numbers")
    return tuple(float(v) for v in value)


def _rounded(values) -> list[float]:
    return [round(float(v), 6) for v in values]
