"""Scores, accuracy and unweighted average recall (UA) of a model on held-out speech."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

NO_SPEECH = -1


def predict(score: Callable[[np.ndarray], np.ndarray], windows: Sequence[np.ndarray | None],
            classes: Sequence[int] | None = None) -> np.ndarray:
    """Return the predicted label index per recording (``NO_SPEECH`` where there were no windows).

    With ``classes``, the answer is the best of those label indices only: a corpus is scored over
    the classes it has (argmax among them), as cross-corpus studies do.
    """
    def best(s: np.ndarray) -> int:
        pick = np.arange(len(s)) if classes is None else np.asarray(classes)
        return int(pick[np.argmax(s[pick])])

    return np.array([NO_SPEECH if w is None else best(score(w)) for w in windows], dtype=np.int32)


def metrics(truth: np.ndarray, predicted: np.ndarray, labels: Sequence[str]) -> dict:
    """Return accuracy, UA, per-class recall and the confusion matrix (rows truth, columns predicted).

    A recording the end-pointer heard no speech in counts as wrong and is counted in ``no_speech``.
    Classes absent from ``truth`` are left out of UA.
    """
    k = len(labels)
    confusion = np.zeros((k, k), dtype=int)
    for t, p in zip(truth, predicted, strict=True):
        if p != NO_SPEECH:
            confusion[t, p] += 1
    support = np.bincount(truth, minlength=k)
    present = support > 0
    recall = np.divide(np.diag(confusion), support, out=np.zeros(k), where=present)
    return {
        "clips": int(len(truth)),
        "accuracy": round(float(np.mean(truth == predicted)), 4),
        "ua": round(float(recall[present].mean()), 4),
        "recall": {labels[i]: round(float(recall[i]), 4) for i in range(k) if present[i]},
        "no_speech": int(np.sum(predicted == NO_SPEECH)),
        "confusion": confusion.tolist(),
    }


def summary(name: str, m: dict) -> str:
    """Return one line an operator reads: accuracy and UA of condition ``name``."""
    counts = f"{m['clips']} clips, {m['no_speech']} no speech"
    return f"{name:<14} accuracy {m['accuracy']:.3f}  UA {m['ua']:.3f}  ({counts})"
