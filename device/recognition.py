"""One recognition: what was heard, when, how sure and what it played; the machine's record, the journal's row.

The machine makes one per :class:`~device.events.Classified` (``outcome`` and ``felt`` still None)
and hands it to the journal (:class:`~device.actions.JournalRecord`); the journal gives them back
with what came later. Both show it in the state's ``history`` the same way::

    >>> Recognition(1000.0, "calm", 0.8123, {"calm": 0.8123}, "evening", 1.5).history_item()
    {'at': '1970-01-01T00:16:40+00:00', 'emotion': 'calm', 'confidence': 0.812, 'playlist': 'evening'}
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime


def iso_time(at: float) -> str:
    """``at`` (epoch seconds) as ISO 8601 in UTC, to the second: how the history says when."""
    return datetime.fromtimestamp(at, UTC).isoformat(timespec="seconds")


@dataclass(frozen=True)
class Recognition:
    at: float
    """Wall-clock time of the recognition (epoch seconds); it identifies the recognition later."""
    emotion: str
    confidence: float
    scores: dict[str, float]
    """The model's own scores per label (before any calibration)."""
    playlist: str | None
    """The playlist queued first for it; None when nothing was to play (unsure, or no map)."""
    speech_seconds: float | None
    outcome: str | None = None
    """None, ``skipped`` or ``stopped`` soon after, ``refused`` when MPD would not play it."""
    felt: str | None = None
    """What the listener said they felt (the ``feel`` command), when they corrected it."""

    @property
    def when(self) -> datetime:
        """``at`` in local time."""
        return datetime.fromtimestamp(self.at).astimezone()

    def history_item(self) -> dict:
        """One item of the state's ``history``: when (ISO 8601, UTC), what was heard, how sure, what it played.

        ``felt`` only when the listener corrected it.
        """
        item = {"at": iso_time(self.at), "emotion": self.emotion, "confidence": round(self.confidence, 3),
                "playlist": self.playlist}
        return {**item, "felt": self.felt} if self.felt else item
