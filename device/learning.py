"""What the box has learnt about its household, kept in one small JSON file in the state directory.

Two things, both learnt on the Pi and never sent anywhere (no audio is kept, only scores):

- the voice model's personal :class:`~device.calibration.Calibration`, from the listener's
  corrections (the ``feel`` command);
- the :class:`~device.ranker.Ranker`'s outcomes: which allowed playlist was kept or skipped for
  each emotion.

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
from .config import Settings
from .files import write_atomic
from .ranker import Ranker, RankerSettings

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
    """The calibration and the ranker of one box, loaded from and saved to ``path`` (None: kept in memory)."""

    def __init__(self, path: Path | None, labels: tuple[str, ...], *,
                 calibration: CalibrationSettings = CalibrationSettings(), ranker: RankerSettings = RankerSettings(),
                 seed: int | None = None):
        self.path = Path(path) if path else None
        self.labels = tuple(labels)
        self.calibration_settings = calibration
        self.calibration = Calibration(self.labels, calibration)
        self.ranker = Ranker(ranker, seed=seed)
        if self.path and self.path.exists():
            self._load()

    @classmethod
    def of(cls, settings: Settings, labels: tuple[str, ...], path: Path | None = None) -> Learning:
        """The learning a daemon with ``settings`` keeps (at ``path``, else :func:`learning_file`)."""
        return cls(path or learning_file(settings), labels,
                   calibration=CalibrationSettings(min_corrections=settings.learning.min_corrections))

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
            try:
                os.replace(self.path, bad)
            except OSError as move:
                log.warning("could not move %s aside: %s", self.path, move)

    def to_dict(self) -> dict:
        return {"version": VERSION, "calibration": self.calibration.to_dict(), "outcomes": self.ranker.to_dict()}

    def save(self) -> None:
        """Write the file (if there is one); a failure is logged, the learning stays in memory."""
        if self.path is None:
            return
        try:
            write_atomic(self.path, json.dumps(self.to_dict(), separators=(",", ":")))
        except OSError as exc:
            log.error("cannot write the learning file %s: %s", self.path, exc)

    def forget(self) -> None:
        """Back to the shipped model and the map's order; saved at once."""
        self.calibration.forget()
        self.ranker.forget()
        self.save()
        log.info("forgot every correction and playlist outcome")

    def summary(self) -> dict:
        """For the state and ``device history``: corrections per emotion and what the ranker learnt."""
        return {"corrections": len(self.calibration.corrections), "calibrating": self.calibration.active,
                "lifts": self.ranker.summary()}
