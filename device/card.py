"""The model card: the one place a model's labels, front-end parameters, metrics and licence live.

A card is a JSON file beside its ``.tflite`` file. Training writes it; the device reads it and
refuses a model that does not match it. Every field is checked on load (type and range, labels
unique), and the card's ``fingerprint`` (:func:`fingerprint`: SHA-256 of the model file's bytes
and the labels in order) ties it to its ``.tflite``: a card edited by hand (labels reordered) or
beside another model file is refused instead of giving silently wrong answers.
"""

from __future__ import annotations

import hashlib
import json
import logging
import typing
from dataclasses import dataclass, field, fields
from pathlib import Path

from .endpoint import EndpointParams
from .errors import ModelError
from .features import FrontEnd
from .statistics import STATISTICS, StatisticsHead

log = logging.getLogger(__name__)

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
    fingerprint: str | None = None
    """``sha256:<hex>`` of the model file and the labels (:func:`fingerprint`); None on an unsigned card."""
    statistics: StatisticsHead | None = None
    """A second opinion from the utterance's statistics, blended into the model's (:mod:`device.statistics`)."""
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
            **({"statistics": self.statistics.to_dict()} if self.statistics else {}),
            **({"fingerprint": self.fingerprint} if self.fingerprint else {}),
        }

    def verify(self) -> None:
        """Raise :class:`ModelError` unless the model file is the one this card was written for.

        An unsigned card (no ``fingerprint``) is accepted with a warning.
        """
        if self.fingerprint is None:
            log.warning("model card %s has no fingerprint: nothing shows it belongs to %s", self.path,
                        self.model_file)
            return
        try:
            actual = fingerprint(self.model_path.read_bytes(), self.labels)
        except OSError as exc:
            raise ModelError(f"model {self.model_path} cannot be read: {exc.strerror or exc}") from None
        if actual != self.fingerprint:
            raise ModelError(f"model card {self.path} does not belong to {self.model_path}: its fingerprint differs "
                             "(labels edited, or another model file); use the card training wrote with it")

    def save(self, path: str | Path) -> Path:
        path = Path(path)
        path.write_text(json.dumps(self.to_dict(), indent=2) + "\n")
        return path


def fingerprint(model: bytes, labels: tuple[str, ...]) -> str:
    """Return ``sha256:<hex>`` of the model file's bytes followed by the labels, one per line, in order."""
    digest = hashlib.sha256(model)
    digest.update("".join(f"\n{label}" for label in labels).encode())
    return f"sha256:{digest.hexdigest()}"


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
    if not isinstance(data, dict):
        raise ModelError(f"model card {path} is not a JSON object")
    try:
        labels, frontend = _labels(data["labels"]), _frontend(data["frontend"])
        return ModelCard(
            labels=labels,
            frontend=frontend,
            model_file=_text(data["model_file"], "model_file"),
            name=_text(data.get("name", "emotune-ser"), "name"),
            version=_number(data.get("version", 1), "version", int),
            training=data.get("training", {}),
            metrics=data.get("metrics", {}),
            fingerprint=_text(data["fingerprint"], "fingerprint") if "fingerprint" in data else None,
            statistics=_statistics(data["statistics"], labels, frontend) if "statistics" in data else None,
            path=path,
        )
    except KeyError as exc:
        raise ModelError(f"model card {path} lacks the field {exc.args[0]!r}") from None
    except _Bad as exc:
        raise ModelError(f"model card {path}: {exc}") from None


class _Bad(ValueError):
    """A field of the card has the wrong type or range (the message names it)."""


def _text(value, name: str) -> str:
    if not isinstance(value, str) or not value:
        raise _Bad(f"{name} must be a non-empty string, not {value!r}")
    return value


def _labels(value) -> tuple[str, ...]:
    if not isinstance(value, list) or len(value) < 2:
        raise _Bad(f"labels must be a list of at least two names, not {value!r}")
    labels = tuple(_text(label, "each label") for label in value)
    repeated = sorted({label for label in labels if labels.count(label) > 1})
    if repeated:
        raise _Bad(f"labels must be unique: {', '.join(repeated)} repeated")
    return labels


def _number(value, name: str, kind: type):
    """``value`` as ``kind`` (int, or float that also takes an int); bools and strings are refused."""
    if isinstance(value, bool) or not isinstance(value, int if kind is int else int | float):
        raise _Bad(f"{name} must be {'a whole number' if kind is int else 'a number'}, not {value!r}")
    return kind(value)


# The ranges a front-end needs to make sense; every other number must only be a number (of its type).
_POSITIVE = {"sample_rate", "winlen", "winstep", "nfilt", "nfft", "frames", "hop_frames", "max_windows",
             "endpoint.frame_seconds", "endpoint.smooth_frames"}


def _fields(cls, data, prefix: str) -> dict:
    """Check ``data`` against the number, flag, word and band-list fields of dataclass ``cls``; return them typed."""
    if not isinstance(data, dict):
        raise _Bad(f"{prefix.rstrip('.') or 'frontend'} must be a JSON object")
    known = {f.name: f for f in fields(cls)}
    unknown = sorted(set(data) - set(known))
    if unknown:
        raise _Bad(f"unknown field {prefix}{unknown[0]} (known: {', '.join(known)})")
    hints = typing.get_type_hints(cls)
    out = {}
    for key, value in data.items():
        if hints[key] in (int, float):
            out[key] = _number(value, prefix + key, hints[key])
            if (prefix + key).removeprefix("frontend.") in _POSITIVE and out[key] <= 0:
                raise _Bad(f"{prefix}{key} must be above 0, not {value!r}")
        elif hints[key] in (bool, str):
            if type(value) is not hints[key]:
                raise _Bad(f"{prefix}{key} must be {'true or false' if hints[key] is bool else 'a word'}, "
                           f"not {value!r}")
            out[key] = value
        elif hints[key] == tuple[float, ...]:
            if not isinstance(value, list):
                raise _Bad(f"{prefix}{key} must be a list of numbers, not {value!r}")
            out[key] = tuple(_number(v, f"{prefix}{key}[{i}]", float) for i, v in enumerate(value))
    return out


def _statistics(data, labels: tuple[str, ...], frontend: FrontEnd) -> StatisticsHead:
    """The card's statistics head, checked against its labels and front-end."""
    try:
        head = StatisticsHead.from_dict(data)
    except ValueError as exc:
        raise _Bad(str(exc)) from None
    if len(head.intercept) != len(labels):
        raise _Bad(f"statistics has {len(head.intercept)} rows of weights, the card {len(labels)} labels")
    inputs = STATISTICS * frontend.nfilt // head.pool
    if not frontend.listener or frontend.nfilt % head.pool or len(head.centre) != inputs:
        raise _Bad(f"statistics needs listener normalisation and {STATISTICS} x nfilt / pool inputs "
                   f"({inputs} at nfilt {frontend.nfilt}, pool {head.pool}), "
                   f"not {len(head.centre)}")
    if len(frontend.dynamics_prior) != 2 * frontend.nfilt:
        raise _Bad(f"statistics needs frontend.dynamics_prior of 2 x nfilt = {2 * frontend.nfilt} numbers, "
                   f"not {len(frontend.dynamics_prior)}")
    return head


def _frontend(data) -> FrontEnd:
    fe = _fields(FrontEnd, data, "frontend.")
    endpoint = EndpointParams(**_fields(EndpointParams, data.get("endpoint", {}), "frontend.endpoint."))
    try:
        frontend = FrontEnd(**fe, endpoint=endpoint)
    except ValueError as exc:
        raise _Bad(f"frontend.{exc}") from None
    if frontend.listener and len(frontend.voice_prior) != frontend.nfilt:
        raise _Bad(f"frontend.voice_prior must have nfilt = {frontend.nfilt} band levels, "
                   f"not {len(frontend.voice_prior)}")
    if not 0 <= frontend.lowfreq < frontend.highfreq <= frontend.sample_rate / 2:
        raise _Bad(f"frontend: need 0 <= lowfreq < highfreq <= sample_rate / 2, not {frontend.lowfreq} .. "
                   f"{frontend.highfreq} at {frontend.sample_rate} Hz")
    if frontend.winlen * frontend.sample_rate > frontend.nfft:
        raise _Bad(f"frontend: a window of {frontend.winlen} s at {frontend.sample_rate} Hz is longer than "
                   f"nfft {frontend.nfft}")
    return frontend
