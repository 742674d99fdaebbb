"""The music mood model: where a track lies on the arousal/valence plane, learnt from listeners.

A multinomial logistic regression over the standardised features of
:mod:`training.track_features` gives the probability of each Russell quadrant (Q1 happy,
Q2 angry, Q3 sad, Q4 calm); a track's place is the expected position of its quadrant,

    arousal = P(Q1) + P(Q2) - P(Q3) - P(Q4),   valence = P(Q1) + P(Q4) - P(Q2) - P(Q3),

so a track the model is sure of lies near a corner's diagonal (±1) and one it is unsure of
lies near 0. The scale is absolute, the listeners' of the training data, not relative to a
library: a library of quiet songs is placed as quiet.

The model file (``models/emotune-music.json``) is plain JSON, no pickle: the feature names and
the analysis settings they were measured with, the standardiser's means and scales, the
regression's weights, and the card (training data, licence, validation, metrics, command).
:func:`load` refuses a file whose features are not what this code computes, naming the file.

>>> a, v = expected_position(np.array([[0.7, 0.1, 0.1, 0.1]]), ("Q1", "Q2", "Q3", "Q4"))
>>> round(float(a[0]), 2), round(float(v[0]), 2)   # mostly happy: energetic and pleasant
(0.6, 0.6)
>>> load().labels                                  # the shipped model, checked against this analysis
('Q1', 'Q2', 'Q3', 'Q4')
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .music4q import QUADRANTS
from .track_features import AnalysisSettings, TrackFeatures

DEFAULT_MODEL = Path(__file__).resolve().parent.parent / "models" / "emotune-music.json"
FORMAT = "emotune-music"
FORMAT_VERSION = 1
SCALARS = ("loudness_db", "dynamics_db", "tempo_bpm", "onset_rate", "log_centroid", "brightness", "flatness", "mode")
VECTORS = ("mfcc_mean", "mfcc_std", "mfcc_delta_std", "contrast_mean", "contrast_std")


def feature_names(settings: AnalysisSettings = AnalysisSettings()) -> tuple[str, ...]:
    """Return the model's inputs in order: the scalar features, then each vector's items (``mfcc_std[3]``)."""
    sizes = {"mfcc_mean": settings.mfccs, "mfcc_std": settings.mfccs, "mfcc_delta_std": settings.mfccs,
             "contrast_mean": len(settings.contrast_edges) + 1, "contrast_std": len(settings.contrast_edges) + 1}
    return SCALARS + tuple(f"{v}[{i}]" for v in VECTORS for i in range(sizes[v]))


def matrix(features: list[TrackFeatures]) -> np.ndarray:
    """Return the (tracks, inputs) matrix of :func:`feature_names`; the centroid enters as its log."""
    rows = []
    for f in features:
        scalars = [np.log(max(f.centroid_hz, 1.0)) if n == "log_centroid" else getattr(f, n) for n in SCALARS]
        rows.append(np.concatenate([scalars, *(getattr(f, v) for v in VECTORS)]))
    return np.asarray(rows, dtype=float)


def expected_position(probabilities: np.ndarray, labels: tuple[str, ...]) -> tuple[np.ndarray, np.ndarray]:
    """Return (arousal, valence) per row of quadrant ``probabilities`` (columns in ``labels`` order)."""
    corners = np.array([QUADRANTS[q] for q in labels], dtype=float)
    place = probabilities @ corners
    return place[:, 0], place[:, 1]


@dataclass(frozen=True)
class MoodModel:
    """A fitted model: standardiser and multinomial logistic regression, with its card."""

    labels: tuple[str, ...]
    names: tuple[str, ...]
    analysis: str
    """``AnalysisSettings.key()`` of the features it was trained on."""
    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray
    """(labels, inputs) weights on the standardised inputs."""
    intercept: np.ndarray
    card: dict = field(default_factory=dict)
    """Training data, licence, validation, metrics and command: for people and the tests."""

    def probabilities(self, x: np.ndarray) -> np.ndarray:
        """Return the (tracks, labels) quadrant probabilities of inputs ``x`` (rows of :func:`matrix`)."""
        logits = ((x - self.mean) / self.scale) @ self.coef.T + self.intercept
        logits -= logits.max(axis=1, keepdims=True)
        p = np.exp(logits)
        return p / p.sum(axis=1, keepdims=True)

    def place(self, features: list[TrackFeatures]) -> tuple[np.ndarray, np.ndarray]:
        """Return each track's (arousal, valence) in [-1, 1]: the expected position of its quadrant."""
        return expected_position(self.probabilities(matrix(features)), self.labels)

    def check(self, settings: AnalysisSettings, path: Path | str = "the model") -> None:
        """Raise ``ValueError`` naming ``path`` unless the model's inputs are what ``settings`` measures."""
        if self.analysis != settings.key() or self.names != feature_names(settings):
            raise ValueError(f"{path} was trained on other features than this analysis computes "
                             f"({differences(self.analysis, settings.key())}): retrain it with "
                             "`python -m training music-model`")

    def to_dict(self) -> dict:
        return {"format": FORMAT, "version": FORMAT_VERSION, "labels": list(self.labels),
                "features": {"analysis": self.analysis, "names": list(self.names)},
                "standardiser": {"mean": _rounded(self.mean), "scale": _rounded(self.scale)},
                "logistic": {"coef": [_rounded(row) for row in self.coef], "intercept": _rounded(self.intercept)},
                **self.card}

    def save(self, path: Path) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.to_dict(), indent=1) + "\n", encoding="utf-8")
        return path


def differences(trained: str, current: str) -> str:
    """Return what differs between two ``AnalysisSettings.key()`` strings, e.g. ``v5 -> v6, mels 40 -> 64``.

    >>> differences("v5:mels=40,rate=22050", "v6:floor_db=None,mels=64,rate=22050")
    'v5 -> v6, floor_db (none) -> None, mels 40 -> 64'
    """
    (old_version, _, old), (new_version, _, new) = trained.partition(":"), current.partition(":")
    a, b = (dict(re.findall(r"(\w+)=(.*?)(?=,\w+=|$)", rest)) for rest in (old, new))
    changed = [f"{old_version} -> {new_version}"] if old_version != new_version else []
    return ", ".join(changed + [f"{k} {a.get(k, '(none)')} -> {b.get(k, '(none)')}"
                                for k in sorted(a.keys() | b.keys()) if a.get(k) != b.get(k)])


def _rounded(values: np.ndarray) -> list[float]:
    return [round(float(v), 8) for v in values]


def load(path: Path | str = DEFAULT_MODEL, settings: AnalysisSettings = AnalysisSettings()) -> MoodModel:
    """Return the model stored at ``path``, checked against the features ``settings`` compute.

    Raises ``FileNotFoundError`` if there is no such file and ``ValueError`` naming the file and
    the field if it is not a model of this format or was trained on other features.
    """
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise FileNotFoundError(f"music mood model {path} does not exist") from None
    except (OSError, ValueError) as exc:
        raise ValueError(f"{path}: not a readable JSON model ({exc})") from None
    if data.get("format") != FORMAT or data.get("version") != FORMAT_VERSION:
        raise ValueError(f"{path}: not an {FORMAT} model of version {FORMAT_VERSION}")
    try:
        model = MoodModel(
            labels=tuple(data["labels"]), names=tuple(data["features"]["names"]),
            analysis=data["features"]["analysis"], mean=np.array(data["standardiser"]["mean"]),
            scale=np.array(data["standardiser"]["scale"]), coef=np.array(data["logistic"]["coef"]),
            intercept=np.array(data["logistic"]["intercept"]),
            card={k: v for k, v in data.items() if k not in ("format", "version", "labels", "features",
                                                               "standardiser", "logistic")})
    except (KeyError, TypeError) as exc:
        raise ValueError(f"{path}: field {exc} is missing or malformed") from None
    if set(model.labels) != set(QUADRANTS) or model.coef.shape != (len(model.labels), len(model.names)):
        raise ValueError(f"{path}: labels {list(model.labels)} or weights of shape {model.coef.shape} do not "
                         f"fit {len(model.names)} inputs and the quadrants {sorted(QUADRANTS)}")
    model.check(settings, path)
    return model
