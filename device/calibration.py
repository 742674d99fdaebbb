"""Personal calibration of the voice model: what this household's corrections teach, on top of its scores.

The shipped model is the same in every home; a person's voice is not RAVDESS's. When the listener
says what they really felt (the MQTT ``feel`` command), the scores of that recognition and the
true emotion become a *correction*. From corrections only, :class:`Calibration` learns one bias per
label added to the model's log-probabilities (a prior shift: "this voice sounds angrier than it
is"), fit by maximum a-posteriori with a Gaussian prior that pulls every bias toward 0, the
shipped model. Each correction weighs by the inverse of how often its emotion was corrected, so the
fit aims at recall of every emotion alike rather than at the emotions said most:

    calibrated = softmax(log(scores) + bias)

It is bounded four ways, so that a few corrections cannot wreck the model: nothing changes before
``min_corrections``; each bias stays within ``±max_bias``; the prior weighs as much as ``prior``
corrections, so a handful moves it only a little; and it acts only once it has *earned* it: each
correction is judged by a fit that had not seen it (cross-validation over the corrections), and
that must get at least ``margin`` more of them right than the shipped model does. A voice whose
corrections disagree with each other is left to the shipped model. The shipped model file is never
touched; :meth:`Calibration.forget` returns to it. Applying costs a few microseconds; the judging
(ten fits, a few milliseconds) happens once after each correction.

>>> cal = Calibration(("calm", "sad"), CalibrationSettings(min_corrections=2))
>>> cal.apply({"calm": 0.6, "sad": 0.4})                # no corrections: the model as shipped
{'calm': 0.6, 'sad': 0.4}
>>> for _ in range(20):
...     cal.learn({"calm": 0.6, "sad": 0.4}, "sad")      # "I was sad", twenty times
>>> cal.apply({"calm": 0.6, "sad": 0.4})["sad"] > 0.5
True
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

FLOOR = 1e-6
"""Scores are clipped to this before the log: a zero must not become minus infinity."""


@dataclass(frozen=True)
class CalibrationSettings:
    """How far and how soon corrections may move the model."""

    min_corrections: int = 8
    """Corrections needed before the calibration acts at all."""
    max_bias: float = 3.0
    """Largest shift of one label's log-probability (3: up to 20 times the odds)."""
    prior: float = 1.0
    """How many corrections' worth the pull toward the shipped model weighs (chosen in ``bench/calibrate.py``)."""
    margin: int = 1
    """How many more corrections a fit that had not seen them must get right than the shipped model
    before the calibration acts (chosen in ``bench/calibrate.py``)."""
    folds: int = 10
    """Cross-validation folds over the corrections for that judgement (fewer corrections: leave one out)."""
    keep: int = 200
    """The newest corrections kept (older ones are forgotten first)."""


class Calibration:
    """Per-household label biases over a model's scores, learnt from corrections.

    ``labels`` are the model's labels in order. :meth:`learn` adds a correction and refits;
    :meth:`apply` gives calibrated scores; :meth:`to_dict` / :meth:`from_dict` store it.
    """

    def __init__(self, labels: Sequence[str], settings: CalibrationSettings = CalibrationSettings()):
        self.labels = tuple(labels)
        self.settings = settings
        self.corrections: list[tuple[np.ndarray, int]] = []
        self.bias = np.zeros(len(self.labels))
        self._evidence: int | None = None

    @property
    def ready(self) -> bool:
        """Whether there are enough corrections for the calibration to be fit and judged."""
        return len(self.corrections) >= self.settings.min_corrections

    @property
    def active(self) -> bool:
        """Whether the calibration acts: enough corrections, and it has earned it (:meth:`evidence`)."""
        return self.ready and self.evidence() >= self.settings.margin

    def status(self) -> str:
        """Return a line for people: whether the calibration acts, and why (not)."""
        s = self.settings
        if not self.ready:
            return f"not acting yet: it acts from {s.min_corrections} corrections"
        judged = f"{self.evidence():+d} right against the shipped model, judged by fits that had not seen them"
        return f"acting ({judged})" if self.active else f"not acting: {judged} (it acts from {s.margin:+d})"

    def evidence(self) -> int:
        """Return how many more corrections the calibration gets right than the shipped model, each
        judged by a fit on the other folds of the corrections (it never saw the one it is judged on)."""
        if self._evidence is None:
            self._evidence = self._judge()
        return self._evidence

    def apply(self, scores: Mapping[str, float]) -> dict[str, float]:
        """Return ``scores`` (label -> probability) calibrated; unchanged until :attr:`active`."""
        if not self.active:
            return dict(scores)
        z = self._logs(scores) + self.bias
        p = np.exp(z - z.max())
        p /= p.sum()
        return {label: float(v) for label, v in zip(self.labels, p, strict=True)}

    def learn(self, scores: Mapping[str, float], emotion: str) -> None:
        """Add a correction: the model gave ``scores``, the listener felt ``emotion``; refit."""
        if emotion not in self.labels:
            raise ValueError(f"unknown emotion {emotion!r} (labels: {', '.join(self.labels)})")
        self.corrections.append((self._logs(scores), self.labels.index(emotion)))
        del self.corrections[: -self.settings.keep]
        self._refit()

    def forget(self) -> None:
        """Drop every correction: back to the shipped model."""
        self.corrections.clear()
        self._refit()

    def counts(self) -> dict[str, int]:
        """How many corrections said each label (for people: ``device history``, Home Assistant)."""
        seen = np.bincount([y for _, y in self.corrections], minlength=len(self.labels))
        return {label: int(n) for label, n in zip(self.labels, seen, strict=True) if n}

    # ------------------------------------------------------------ storage
    def to_dict(self) -> dict:
        return {"labels": list(self.labels),
                "corrections": [{"logs": [round(float(v), 4) for v in x], "emotion": self.labels[y]}
                                for x, y in self.corrections]}

    @classmethod
    def from_dict(cls, data: Mapping, labels: Sequence[str],
                  settings: CalibrationSettings = CalibrationSettings()) -> Calibration:
        """Rebuild from :meth:`to_dict`; raise ``ValueError`` if it does not fit ``labels``."""
        if not isinstance(data, Mapping) or list(data.get("labels", ())) != list(labels):
            raise ValueError("it was learnt for other labels (another model)")
        cal = cls(labels, settings)
        for item in data.get("corrections", ()):
            logs = np.asarray(item["logs"], dtype=float)
            if logs.shape != (len(labels),) or not np.isfinite(logs).all() or item["emotion"] not in labels:
                raise ValueError(f"a correction is malformed: {str(item)[:80]}")
            cal.corrections.append((logs, cal.labels.index(item["emotion"])))
        del cal.corrections[: -settings.keep]
        cal._refit()
        return cal

    # ------------------------------------------------------------ fitting
    def _logs(self, scores: Mapping[str, float]) -> np.ndarray:
        return np.log(np.clip([float(scores[label]) for label in self.labels], FLOOR, 1.0))

    def _refit(self) -> None:
        self.bias = self._fit(self.corrections) if self.ready else np.zeros(len(self.labels))
        self._evidence = None

    def _judge(self) -> int:
        """Return (right with a cross-validated calibration) - (right with the shipped model) over the corrections."""
        if not self.ready:
            return 0
        k = min(len(self.corrections), self.settings.folds)
        wins = 0
        for fold in range(k):
            rest = [c for i, c in enumerate(self.corrections) if i % k != fold]
            bias = self._fit(rest) if rest else np.zeros(len(self.labels))  # one correction: nothing to judge by
            for x, said in self.corrections[fold::k]:
                wins += int(np.argmax(x + bias) == said) - int(np.argmax(x) == said)
        return wins

    def _fit(self, corrections: list[tuple[np.ndarray, int]], steps: int = 200) -> np.ndarray:
        """Return the MAP biases: weighted softmax cross-entropy of ``corrections`` plus the prior, by descent."""
        x = np.stack([c[0] for c in corrections])
        said = np.array([c[1] for c in corrections])
        y = np.eye(len(self.labels))[said]
        weight = 1.0 / np.bincount(said, minlength=len(self.labels))[said]
        weight /= weight.sum()  # each emotion corrected weighs the same in total
        n, s = len(x), self.settings
        # The cross-entropy's curvature is at most 1/2, the prior's prior/n: a step of 1/(sum) never overshoots.
        bias, rate = np.zeros(len(self.labels)), 1.0 / (0.5 + s.prior / n)
        for _ in range(steps):
            z = x + bias
            p = np.exp(z - z.max(axis=1, keepdims=True))
            p /= p.sum(axis=1, keepdims=True)
            grad = (weight[:, None] * (p - y)).sum(axis=0) + (s.prior / n) * bias
            bias = np.clip(bias - rate * grad, -s.max_bias, s.max_bias)
        return np.clip(bias - bias.mean(), -s.max_bias, s.max_bias)  # only differences between labels matter
