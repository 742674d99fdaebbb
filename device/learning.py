"""What the box has learnt about its household, kept in one small JSON file in the state directory.

Three things, all learnt on the Pi and never sent anywhere (no audio is kept, only scores):

- the voice model's personal :class:`~device.calibration.Calibration`, from the listener's
  corrections (the ``feel`` command);
- the :class:`~device.ranker.Ranker`'s outcomes: which allowed playlist was kept or skipped for
  each emotion;
- with a ``listener``-normalised model, the :class:`~device.voice.Voice` the recognizer hears
  speech relative to (64 band levels and a count).

The file is written atomically after every change (a power cut leaves the old or the new one,
never half); one that cannot be read is reported, kept beside as ``<name>.bad`` and replaced by a
fresh start, never fatal. :meth:`Learning.forget` returns to the shipped model and the map's order.

::

    learning = Learning(Path("/var/lib/emotune/learning.json"), labels)
    learning.calibration.apply(scores)       # what the recognizer reports
    learning.ranker.order("sad", allowed)     # what the machine plays
    learning.save()
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

from .calibration import Calibration, CalibrationSettings
from .card import ModelCard
from .config import Settings
from .files import write_atomic
from .ranker import Ranker, RankerSettings
from .voice import Voice

log = logging.getLogger(__name__)

VERSION = 1


def learning_file(settings: Settings, journal: str | Path | None = None) -> Path | None:
    """Where a daemon with ``settings`` keeps its learning: ``[learning] path``, else ``learning.json``
    beside the journal (``journal``, or ``[journal] path``); None when there is neither."""
    if settings.learning.path:
        return Path(settings.learning.path)
    journal = settings.journal.path if journal is None else journal
    return Path(journal).with_name("learning.json") if journal else None


class Learning:
    """The calibration, the ranker and the voice of one box, loaded from and saved to ``path`` (None: kept
    in memory). ``voice`` is the recognizer's own (restored into it in place), or None."""

    def __init__(self, path: Path | None, labels: tuple[str, ...], *,
                 calibration: CalibrationSettings = CalibrationSettings(), ranker: RankerSettings = RankerSettings(),
                 voice: Voice | None = None, seed: int | None = None):
        self.path = Path(path) if path else None
        self.labels = tuple(labels)
        self.calibration_settings = calibration
        self.calibration = Calibration(self.labels, calibration)
        self.ranker = Ranker(ranker, seed=seed)
        self.voice = voice
        if self.path and self.path.exists():
            self._load()

    @classmethod
    def of(cls, settings: Settings, labels: tuple[str, ...], path: Path | None = None,
           voice: Voice | None = None) -> Learning:
        """The learning a daemon with ``settings`` keeps (at ``path``, else :func:`learning_file`)."""
        return cls(path or learning_file(settings), labels, voice=voice,
                   calibration=CalibrationSettings(min_corrections=settings.learning.min_corrections))

    @classmethod
    def of_card(cls, settings: Settings, card: ModelCard, path: Path | None = None) -> Learning:
        """The learning file as a daemon with model ``card`` reads it (with its voice, where the card's
        front-end hears speech relative to one): for the commands that show or reset it."""
        return cls.of(settings, card.labels, path, voice=card.frontend.voice() if card.frontend.listener else None)

    def _load(self) -> None:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            if not isinstance(data, dict) or data.get("version") != VERSION:
                raise ValueError(f"not a version {VERSION} learning file")
            self.calibration = Calibration.from_dict(data.get("calibration", {"labels": list(self.labels)}),
                                                     self.labels, self.calibration_settings)
            self.ranker.load(data.get("outcomes", {}))
        except (OSError, ValueError, KeyError, TypeError) as exc:
            bad = self.path.with_name(self.path.name + ".bad")
            log.error("the learning file %s cannot be used (%s): starting afresh from the shipped model; "
                      "the old file is kept as %s", self.path, str(exc)[:200], bad.name)
            self.calibration = Calibration(self.labels, self.calibration_settings)
            self.ranker.forget()
            if self.voice is not None:
                self.voice.forget()
            try:
                os.replace(self.path, bad)
            except OSError as move:
                log.warning("could not move %s aside: %s", self.path, move)
            return
        if self.voice is not None:
            self._load_voice(data.get("voice") or {})

    def _load_voice(self, data) -> None:
        """Restore the voice; one that does not fit this model (another front-end, a damaged field)
        starts afresh on its own, and the corrections and outcomes stay."""
        try:
            self.voice.load(data, labels=len(self.labels))
        except (ValueError, TypeError, AttributeError) as exc:
            log.error("the voice in the learning file %s does not fit this model (%s): the box starts hearing "
                      "its listener afresh; corrections and playlist outcomes are kept", self.path, str(exc)[:200])
            self.voice.forget()

    def to_dict(self) -> dict:
        out = {"version": VERSION, "calibration": self.calibration.to_dict(), "outcomes": self.ranker.to_dict()}
        if self.voice is not None:
            out["voice"] = self.voice.to_dict()
        return out

    def save(self) -> None:
        """Write the file (if there is one); a failure is logged, the learning stays in memory."""
        if self.path is None:
            return
        try:
            write_atomic(self.path, json.dumps(self.to_dict(), separators=(",", ":")))
        except OSError as exc:
            log.error("cannot write the learning file %s: %s", self.path, exc)

    def forget(self) -> None:
        """Back to the shipped model, the map's order and a voice that has heard nobody; saved at once."""
        self.calibration.forget()
        self.ranker.forget()
        if self.voice is not None:
            self.voice.forget()
        self.save()
        log.info("forgot every correction, playlist outcome and voice heard")

    def summary(self) -> dict:
        """For the state and ``device history``: corrections per emotion and what the ranker learnt."""
        out = {"corrections": len(self.calibration.corrections), "calibrating": self.calibration.active,
               "lifts": self.ranker.summary()}
        if self.voice is not None:
            out["voice_heard"] = self.voice.heard
        return out
