"""What the box knows of its listener's voice: the mean log-mel spectrum of the speech it has heard.

A voice, a microphone and a room each colour the log-mel spectrum by a fixed amount per band.
With the card's ``listener`` normalisation the model hears each frame *minus a reference
spectrum*: how this utterance differs from the way this listener usually sounds through this
microphone (louder, brighter, duller), not from the way the actors of the training corpora sounded.
Within a speaker that difference is what carries arousal; across corpora the absolute spectrum
mostly carries who spoke and where.

Before the box has heard anybody the reference is the card's prior (the mean training speaker's
spectral shape) at this utterance's own level; every utterance heard moves it towards the
listener's own mean, with weight ``heard / (heard + prior_weight)``. The mean forgets slowly
(it follows the last ``horizon`` utterances or so), so a box moved to another room follows.
It learns, the same way, how much each band of this listener's speech usually moves
(:func:`~device.features.dynamics`: 128 numbers), which a card's statistics head reads an
utterance against (:mod:`device.statistics`). Only these numbers and counts are kept, never audio.

The voice also remembers what the model usually *answers* for it: the running mean of its scores
(eight numbers and a count, learnt the same way). :meth:`Voice.balance` takes a share of that
habit off each answer, so an emotion the model hears in everything this voice says (a low voice
that always sounds sad to it) counts a little less; a share of 1 would make every emotion come out
equally often over time, which no household does, so the box takes a quarter (:data:`BALANCE`,
chosen in ``bench/probes.py balance``).

>>> import numpy as np
>>> voice = Voice(prior=np.zeros(3))
>>> voice.reference(np.array([1.0, 2.0, 3.0])).tolist()   # nothing heard yet: the prior at this level
[2.0, 2.0, 2.0]
>>> voice.hear(np.array([4.0, 4.0, 1.0]))
>>> [round(float(v), 2) for v in voice.reference(np.array([1.0, 2.0, 3.0]))]   # 1/6 of the way there
[2.33, 2.33, 1.83]
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

BALANCE = 0.25
"""The share of the listener's usual answer the box takes off each answer (``[learning] balance``)."""


def running_mean(mean: np.ndarray | None, count: int, x: np.ndarray, horizon: int) -> tuple[np.ndarray, int]:
    """Return ``(mean, count)`` with ``x`` taken in: a plain mean for the first ``horizon`` values, then
    one that forgets slowly (each new value weighs ``1 / horizon``)."""
    count = min(count + 1, horizon)
    return (x.copy() if mean is None else mean + (x - mean) / count), count


def plain_mean(values: list[np.ndarray], dtype, horizon: int) -> tuple[np.ndarray | None, int]:
    """Return ``(mean, count)`` of many values taken at once, in no order: their plain mean (None if
    there are none), weighed as ``len(values)`` of them, at most ``horizon``."""
    return (np.mean(np.asarray(values, dtype=dtype), axis=0) if values else None), min(len(values), horizon)


class Voice:
    """The running reference spectrum of one box's listener(s), and how much their speech usually moves."""

    def __init__(self, prior: np.ndarray, prior_weight: float = 5.0, horizon: int = 50,
                 dynamics_prior: np.ndarray | None = None):
        self.prior = np.asarray(prior, dtype=np.float32)
        self.dynamics_prior = np.asarray(np.zeros(2 * len(self.prior)) if dynamics_prior is None else dynamics_prior,
                                         dtype=np.float32)
        self.prior_weight = float(prior_weight)
        self.horizon = int(horizon)
        self.mean: np.ndarray | None = None
        self.heard = 0
        self.dynamics: np.ndarray | None = None
        """The mean of the listener's utterances' dynamics (None: none heard yet)."""
        self.moved = 0
        self.answers: np.ndarray | None = None
        """The mean of the model's scores for this listener (None: nothing answered yet)."""
        self.answered = 0

    def reference(self, spectrum: np.ndarray) -> np.ndarray:
        """Return the spectrum to subtract from the frames of an utterance whose mean spectrum is ``spectrum``."""
        cold = self.prior + np.float32(np.mean(spectrum))
        if self.mean is None:
            return cold.astype(np.float32)
        w = self.heard / (self.heard + self.prior_weight)
        return (w * self.mean + (1.0 - w) * cold).astype(np.float32)

    def usual_dynamics(self) -> np.ndarray:
        """Return how much the listener's bands usually move: their mean, drawn toward the prior as
        :meth:`reference` is (the prior alone before anything was heard)."""
        if self.dynamics is None:
            return self.dynamics_prior
        w = self.moved / (self.moved + self.prior_weight)
        return (w * self.dynamics + (1.0 - w) * self.dynamics_prior).astype(np.float32)

    def hear(self, spectrum: np.ndarray, dynamics: np.ndarray | None = None) -> None:
        """Take an utterance's mean spectrum (and its dynamics, where given) into the listener's
        means (running, slowly forgetting means)."""
        self.mean, self.heard = running_mean(self.mean, self.heard, np.asarray(spectrum, dtype=np.float32),
                                             self.horizon)
        if dynamics is not None:
            self.dynamics, self.moved = running_mean(self.dynamics, self.moved,
                                                     np.asarray(dynamics, dtype=np.float32), self.horizon)

    def hear_all(self, spectra: list[np.ndarray], dynamics: list[np.ndarray] | None = None) -> None:
        """Take many utterances at once, in no order: their plain mean, weighed as ``len(spectra)``
        utterances (at most ``horizon``); the same for their ``dynamics``, where given. Nothing heard
        before counts any more."""
        self.mean, self.heard = plain_mean(spectra, np.float32, self.horizon)
        self.dynamics, self.moved = plain_mean(dynamics or [], np.float32, self.horizon)

    def balance(self, scores: np.ndarray, share: float = BALANCE) -> np.ndarray:
        """Return ``scores`` (probabilities) with ``share`` of the listener's usual answer taken off:
        ``scores / usual ** share``, normalised. ``usual`` is the mean answer so far, drawn toward
        "every emotion alike" with the same weight as :meth:`reference`: nothing answered, nothing
        changes.

        >>> voice = Voice(prior=np.zeros(3))
        >>> for _ in range(45):
        ...     voice.answer(np.array([0.8, 0.1, 0.1]))        # it nearly always hears the first
        >>> [round(float(v), 3) for v in voice.balance(np.array([0.5, 0.3, 0.2]))]   # a quarter off
        [0.389, 0.367, 0.244]
        >>> [round(float(v), 3) for v in voice.balance(np.array([0.5, 0.3, 0.2]), share=0.5)]
        [0.288, 0.427, 0.285]
        """
        scores = np.asarray(scores, dtype=np.float64)
        if share == 0 or self.answers is None:
            return scores
        w = self.answered / (self.answered + self.prior_weight)
        usual = w * self.answers + (1.0 - w) / len(scores)
        balanced = scores / usual**share
        return balanced / balanced.sum()

    def answer(self, scores: np.ndarray) -> None:
        """Take the model's answer to an utterance into the listener's usual answer (as :meth:`hear`)."""
        self.answers, self.answered = running_mean(self.answers, self.answered, np.asarray(scores, dtype=np.float64),
                                                   self.horizon)

    def answer_all(self, answers: list[np.ndarray]) -> None:
        """Take many answers at once, in no order (as :meth:`hear_all`)."""
        self.answers, self.answered = plain_mean(answers, np.float64, self.horizon)

    def forget(self) -> None:
        """Back to the prior: as if nothing had been heard or answered."""
        self.mean, self.heard = None, 0
        self.dynamics, self.moved = None, 0
        self.answers, self.answered = None, 0

    def to_dict(self) -> dict:
        out = {"heard": self.heard, "mean": None if self.mean is None else [round(float(v), 4) for v in self.mean]}
        if self.dynamics is not None:
            out.update(moved=self.moved, dynamics=[round(float(v), 4) for v in self.dynamics])
        if self.answers is not None:
            out.update(answered=self.answered, answers=[round(float(v), 5) for v in self.answers])
        return out

    def load(self, data: Mapping, labels: int | None = None) -> None:
        """Restore what :meth:`to_dict` wrote; raises ValueError if it does not fit this prior, or
        its usual answer does not have ``labels`` scores (another model's)."""
        mean = data.get("mean")
        heard = int(data.get("heard", 0))
        if mean is None:
            self.forget()
            return
        mean = np.asarray(mean, dtype=np.float32)
        if mean.shape != self.prior.shape or not np.all(np.isfinite(mean)) or not 0 < heard <= self.horizon:
            raise ValueError(f"voice: expected {len(self.prior)} finite band levels and 1..{self.horizon} heard")
        dynamics, moved = data.get("dynamics"), int(data.get("moved", 0))
        if dynamics is not None:  # absent in files an older box wrote: the prior, until heard
            dynamics = np.asarray(dynamics, dtype=np.float32)
            if dynamics.shape != self.dynamics_prior.shape or not np.all(np.isfinite(dynamics)) \
                    or not 0 < moved <= self.horizon:
                raise ValueError(f"voice: expected {len(self.dynamics_prior)} finite dynamics and "
                                 f"1..{self.horizon} moved")
        answers, answered = data.get("answers"), int(data.get("answered", 0))
        if answers is not None:
            answers = np.asarray(answers, dtype=np.float64)
            foreign = labels is not None and answers.shape != (labels,)
            if (foreign or answers.ndim != 1 or not np.all(np.isfinite(answers)) or np.any(answers < 0)
                    or not 0 < answered <= self.horizon):
                raise ValueError(f"voice: expected answers as {f'{labels} ' if labels else ''}probabilities and "
                                 f"1..{self.horizon} answered")
        self.mean, self.heard = mean, heard
        self.dynamics, self.moved = dynamics, (moved if dynamics is not None else 0)
        self.answers, self.answered = answers, (answered if answers is not None else 0)
