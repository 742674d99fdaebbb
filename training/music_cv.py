"""Fit the music mood model and judge it by artist-grouped cross-validation, repeated.

Every figure is the mean and the spread (standard deviation) over repeats: each fold count of
``folds`` with each seed of ``seeds`` is one repeat, a stratified grouped K-fold in which no
artist is on both sides (the held-back evaluation shares no artist with the training data
either). A recipe (the regularisation ``C``) is chosen by the mean over all repeats, never by
one split. ``extra`` rows (the synthetic anchors) join every training fold and are never scored.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .music4q import QUADRANTS, quadrant
from .music_model import MoodModel, expected_position

LABELS = tuple(sorted(QUADRANTS))


@dataclass(frozen=True)
class Scores:
    """How one set of predicted places compares with the listeners' quadrants."""

    quadrant: float
    """Share of tracks in the right quadrant (chance 0.25)."""
    valence_sign: float
    arousal_sign: float
    recall: dict[str, float]
    """Quadrant -> share of its tracks placed in it."""
    confusion: list[list[int]]
    """Rows the true quadrant, columns the predicted one, in :data:`LABELS` order."""


def fit(x: np.ndarray, quadrants: Sequence[str], c: float, names: tuple[str, ...], analysis: str,
        card: dict | None = None) -> MoodModel:
    """Return the model fitted to inputs ``x`` (tracks, inputs) and the tracks' quadrants."""
    from sklearn.linear_model import LogisticRegression

    mean, scale = x.mean(axis=0), x.std(axis=0)
    scale = np.where(scale > 1e-12, scale, 1.0)
    regression = LogisticRegression(C=c, max_iter=5000).fit((x - mean) / scale, list(quadrants))
    if tuple(regression.classes_) != LABELS:
        raise ValueError(f"training data must hold all of {LABELS}, not only {tuple(regression.classes_)}")
    return MoodModel(LABELS, names, analysis, mean, scale, regression.coef_, regression.intercept_, card or {})


def score(arousal: np.ndarray, valence: np.ndarray, quadrants: Sequence[str]) -> Scores:
    """Return the scores of predicted places against the true ``quadrants``."""
    truth = np.array(quadrants)
    predicted = np.array([quadrant(a, v) for a, v in zip(arousal, valence, strict=True)])
    signs = np.array([QUADRANTS[q] for q in truth])
    confusion = [[int(np.sum((truth == t) & (predicted == p))) for p in LABELS] for t in LABELS]
    return Scores(
        quadrant=float(np.mean(predicted == truth)),
        valence_sign=float(np.mean(np.where(valence >= 0, 1, -1) == signs[:, 1])),
        arousal_sign=float(np.mean(np.where(arousal >= 0, 1, -1) == signs[:, 0])),
        recall={q: float(np.mean(predicted[truth == q] == q)) for q in LABELS if np.any(truth == q)},
        confusion=confusion,
    )


Extra = tuple[np.ndarray, list[str]]
"""Inputs and quadrants added to every training fold."""
NO_EXTRA: Extra = (np.zeros((0, 0)), [])


def predict_out_of_fold(x: np.ndarray, quadrants: Sequence[str], groups: Sequence[str], c: float, folds: int,
                        seed: int, extra: Extra = NO_EXTRA) -> tuple[np.ndarray, np.ndarray]:
    """Return every track's (arousal, valence) from a model that never saw its artist."""
    from sklearn.model_selection import StratifiedGroupKFold

    arousal, valence = np.zeros(len(x)), np.zeros(len(x))
    split = StratifiedGroupKFold(n_splits=folds, shuffle=True, random_state=seed)
    for train, test in split.split(x, quadrants, groups):
        rows = np.vstack([x[train], extra[0]]) if len(extra[1]) else x[train]
        model = fit(rows, [quadrants[i] for i in train] + list(extra[1]), c, (), "")
        arousal[test], valence[test] = expected_position(model.probabilities(x[test]), model.labels)
    return arousal, valence


def cross_validate(x: np.ndarray, quadrants: Sequence[str], groups: Sequence[str], c: float,
                   folds: Sequence[int], seeds: Sequence[int], extra: Extra = NO_EXTRA,
                   ) -> list[tuple[int, int, Scores]]:
    """Return (folds, seed, scores) of each repeat."""
    return [(k, s, score(*predict_out_of_fold(x, quadrants, groups, c, k, s, extra), quadrants))
            for k, s in itertools.product(folds, seeds)]


def summary(repeats: list[tuple[int, int, Scores]]) -> dict:
    """Return the card's metrics: mean and spread of each score over the repeats, per-quadrant recall,
    the confusion matrix averaged over repeats (rounded counts), and every repeat's figures."""
    runs = [r for _, _, r in repeats]

    def stat(values: list[float]) -> dict[str, float]:
        return {"mean": round(float(np.mean(values)), 4), "std": round(float(np.std(values)), 4)}

    return {
        "quadrant_accuracy": stat([r.quadrant for r in runs]),
        "valence_sign": stat([r.valence_sign for r in runs]),
        "arousal_sign": stat([r.arousal_sign for r in runs]),
        "recall": {q: stat([r.recall[q] for r in runs]) for q in LABELS},
        "confusion": {"labels": list(LABELS), "rows": "true quadrant; columns predicted; mean over repeats",
                      "matrix": np.rint(np.mean([r.confusion for r in runs], axis=0)).astype(int).tolist()},
        "repeats": [{"folds": k, "seed": s, "quadrant_accuracy": round(r.quadrant, 4),
                     "valence_sign": round(r.valence_sign, 4), "arousal_sign": round(r.arousal_sign, 4)}
                    for k, s, r in repeats],
    }
