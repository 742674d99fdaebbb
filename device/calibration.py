"""Personal calibration of the voice model: what this household's corrections teach, on top of its scores.

The shipped model is the same in every home; a person's voice is not RAVDESS's. When the listener
says what they really felt (the MQTT ``feel`` command), the scores of that recognition and the
true emotion become a *correction*. From corrections only, :class:`Calibration` learns a small
affine map of the model's log-probabilities ("matrix scaling"): a bias per label (a prior shift,
"this voice sounds angrier than it is") and a weight from each label the model hears to each label
it answers ("when the model hears *surprised* in this voice, it is *happy*"):

    calibrated = softmax(centred(log(scores)) @ (I + weights) + bias)

It is fit by maximum a-posteriori with Gaussian priors that pull the biases toward 0 and the
weights toward 0, which is the shipped model. Each correction weighs by the inverse of how often its
emotion was corrected, so the fit aims at recall of every emotion alike rather than at the emotions
said most.

It is bounded four ways, so that a few corrections cannot wreck the model: nothing changes before
``min_corrections``; each bias stays within ``±max_bias`` and each weight within ``±max_weight``;
the priors weigh as much as ``prior`` and ``weight_prior`` corrections, so a handful moves it only
a little; and it acts only once it has *earned* it: each correction is judged by a fit that had not
seen it (cross-validation over the corrections), and that must get at least ``margin`` more of
them right than the shipped model does. A voice whose corrections disagree with each other is left
to the shipped model. The shipped model file is never touched; :meth:`Calibration.forget` returns
to it. Applying costs about 20 microseconds; the judging (ten fits, 15-30 ms on a PC) happens once
after each correction, when the calibration is next asked whether it acts.

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
    max_weight: float = 0.5
    """Largest weight from one label's log-probability to another's answer (on top of the identity)."""
    prior: float = 1.0
    """How many corrections' worth the pull of the biases toward 0 weighs (chosen in ``bench/calibrate.py``)."""
    weight_prior: float = 4.0
    """How many corrections' worth the pull of the weights toward 0 weighs (chosen in ``bench/calibrate.py``)."""
    margin: int = 2
    """How many more corrections a fit that had not seen them must get right than the shipped model
    before the calibration acts (chosen in ``bench/calibrate.py``)."""
    folds: int = 10
    """Cross-validation folds over the corrections for that judgement (fewer corrections: leave one out)."""
    keep: int = 200
    """The newest corrections kept (older ones are forgotten first)."""


class Calibration:
    """Per-household label biases and weights over a model's scores, learnt from corrections.

    ``labels`` are the model's labels in order. :meth:`learn` adds a correction and refits;
    :meth:`apply` gives calibrated scores; :meth:`to_dict` / :meth:`from_dict` store it.
    """

    def __init__(self, labels: Sequence[str], settings: CalibrationSettings = CalibrationSettings()):
        self.labels = tuple(labels)
        self.settings = settings
        self.corrections: list[tuple[np.ndarray, int]] = []
        self.bias = np.zeros(len(self.labels))
        self.weights = np.zeros((len(self.labels), len(self.labels)))
        """``weights[i, j]``: how much the model's log-probability of label i adds to the answer j."""
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
        z = _mapped(self._logs(scores)[None], (self.weights, self.bias))[0]
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

    def leans(self, count: int = 3, least: float = 0.05) -> list[tuple[str, str, float]]:
        """Return up to ``count`` of the strongest weights between two different labels, as
        ``(label the model hears, label answered, weight)``, strongest first; none under ``least``."""
        off = self.weights - np.diag(np.diag(self.weights))
        order = np.argsort(-np.abs(off), axis=None)[:count]
        return [(self.labels[i], self.labels[j], float(off[i, j]))
                for i, j in zip(*np.unravel_index(order, off.shape), strict=True) if abs(off[i, j]) >= least]

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
        n = len(self.labels)
        self.weights, self.bias = self._fit(self.corrections) if self.ready else (np.zeros((n, n)), np.zeros(n))
        self._evidence = None

    def _judge(self) -> int:
        """Return (right with a cross-validated calibration) - (right with the shipped model) over the corrections."""
        if not self.ready:
            return 0
        k = min(len(self.corrections), self.settings.folds)
        wins = 0
        for fold in range(k):
            rest = [c for i, c in enumerate(self.corrections) if i % k != fold]
            if not rest:  # one correction: nothing to judge by
                continue
            fit = self._fit(rest)
            for x, said in self.corrections[fold::k]:
                wins += int(np.argmax(_mapped(x[None], fit)[0]) == said) - int(np.argmax(x) == said)
        return wins

    def _fit(self, corrections: list[tuple[np.ndarray, int]]) -> tuple[np.ndarray, np.ndarray]:
        """Return the MAP ``(weights, bias)``: weighted softmax cross-entropy of ``corrections`` plus the priors."""
        from scipy.optimize import minimize  # only when fitting: the box starts without it

        n_labels, s = len(self.labels), self.settings
        x = _centred(np.stack([c[0] for c in corrections]))
        said = np.array([c[1] for c in corrections])
        y = np.eye(n_labels)[said]
        weight = 1.0 / np.bincount(said, minlength=n_labels)[said]
        weight /= weight.sum()  # each emotion corrected weighs the same in total
        pull = np.concatenate([np.full(n_labels, s.prior), np.full(n_labels * n_labels, s.weight_prior)]) / len(x)

        def loss(theta: np.ndarray) -> tuple[float, np.ndarray]:
            bias, weights = theta[:n_labels], theta[n_labels:].reshape(n_labels, n_labels)
            z = x + x @ weights + bias
            z -= z.max(axis=1, keepdims=True)
            logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
            g = weight[:, None] * (np.exp(logp) - y)
            grad = np.concatenate([g.sum(axis=0), (x.T @ g).ravel()]) + pull * theta
            return float(-(weight * (y * logp).sum(axis=1)).sum() + 0.5 * (pull * theta) @ theta), grad

        bounds = [(-s.max_bias, s.max_bias)] * n_labels + [(-s.max_weight, s.max_weight)] * (n_labels * n_labels)
        theta = minimize(loss, np.zeros(len(pull)), jac=True, method="L-BFGS-B", bounds=bounds,
                         options={"maxiter": 200}).x
        bias = np.clip(theta[:n_labels] - theta[:n_labels].mean(), -s.max_bias, s.max_bias)  # only differences matter
        return theta[n_labels:].reshape(n_labels, n_labels), bias


def _centred(logs: np.ndarray) -> np.ndarray:
    """Return each row of log-probabilities less its mean (a softmax does not see the difference)."""
    return logs - logs.mean(axis=-1, keepdims=True)


def _mapped(logs: np.ndarray, fit: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    """Return the calibrated logits of rows of log-probabilities under ``fit = (weights, bias)``."""
    x = _centred(logs)
    weights, bias = fit
    return x + x @ weights + bias
