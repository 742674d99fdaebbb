"""The model card: the one place a model's labels, front-end parameters, metrics and licence live.

A card is a JSON file beside its ``.tflite`` file. Training writes it; the device reads it and
refuses a model that does not match it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from .errors import ModelError
from .features import FrontEnd

DEFAULT_CARD = Path(__file__).resolve().parent.parent / "models" / "emotune-ser.json"


@dataclass(frozen=True)
class ModelCard:
    """What a model is, what it expects and how well it does."""

    labels: tuple[str, ...]
    frontend: FrontEnd
    model_file: str
    """Path of the ``.tflite`` file, relative to the card."""
    name: str = "emotune-ser"
    version: int = 1
    training: dict = field(default_factory=dict)
    """Data, licence, speakers, the exact command and seed that made the model."""
    metrics: dict = field(default_factory=dict)
    path: Path | None = field(default=None, compare=False)
    """Where the card was read from (not stored)."""

    @property
    def model_path(self) -> Path:
        base = self.path.parent if self.path else Path(".")
        return base / self.model_file

    def to_dict(self) -> dict:
        return {
            "name": self.name,
            "version": self.version,
            "labels": list(self.labels),
            "model_file": self.model_file,
            "frontend": self.frontend.to_dict(),
            "training": self.training,
            "metrics": self.metrics,
        }

    def save(self, path: str | Path) -> Path:
        path = Path(path)
        path.write_text(json.dumps(self.to_dict(), indent=2) + "\n")
        return path


def load(path: str | Path = DEFAULT_CARD) -> ModelCard:
    """Return the card stored at ``path`` (a ``.json`` card, or the ``.tflite`` beside one).

    Raises :class:`~device.errors.ModelError` naming the file and the missing or bad field.
    """
    path = Path(path)
    if path.suffix == ".tflite":
        path = path.with_suffix(".json")
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        raise ModelError(f"model card {path} not found: pass --model with the .json card of a model") from None
    except (OSError, ValueError) as exc:
        raise ModelError(f"model card {path} is unreadable: {exc}") from None
    try:
        return ModelCard(
            labels=tuple(data["labels"]),
            frontend=FrontEnd.from_dict(data["frontend"]),
            model_file=data["model_file"],
            name=data.get("name", "emotune-ser"),
            version=int(data.get("version", 1)),
            training=data.get("training", {}),
            metrics=data.get("metrics", {}),
            path=path,
        )
    except KeyError as exc:
        raise ModelError(f"model card {path} lacks the field {exc.args[0]!r}") from None
    except TypeError as exc:
        raise ModelError(f"model card {path} has a bad field: {exc}") from None
