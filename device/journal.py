"""The mood journal: every recognition appended to a local SQLite file (WAL, synced) that survives power cuts.

>>> import tempfile, time
>>> folder = tempfile.TemporaryDirectory()
>>> with Journal(Path(folder.name) / "journal.sqlite") as journal:
...     at = time.time()
...     journal.record(Recognition(at, "calm", 0.81, {"calm": 0.81}, "evening", 1.9))
...     journal.mark(at, "skipped")
...     [(e.emotion, e.playlist, e.outcome) for e in journal.entries()]
[('calm', 'evening', 'skipped')]
>>> folder.cleanup()

Rows are :class:`~device.recognition.Recognition` records: ``at`` (epoch seconds), ``emotion``,
``confidence``, ``scores`` (JSON), ``playlist`` (NULL when nothing was to play: unsure, or no map),
``speech_seconds``, ``outcome`` (NULL, ``skipped`` or ``stopped`` within a minute, ``refused`` when
MPD would not play it), ``felt`` (NULL, or the emotion the listener said they felt instead: the
``feel`` command). A journal from before ``felt`` gains the column when opened.
"""

from __future__ import annotations

import json
import logging
import sqlite3
from datetime import datetime, timedelta
from pathlib import Path

from .recognition import Recognition

log = logging.getLogger(__name__)

SCHEMA = """
CREATE TABLE IF NOT EXISTS recognitions (
    id INTEGER PRIMARY KEY,
    at REAL NOT NULL,
    emotion TEXT NOT NULL,
    confidence REAL NOT NULL,
    scores TEXT NOT NULL,
    playlist TEXT,
    speech_seconds REAL,
    outcome TEXT,
    felt TEXT
);
CREATE INDEX IF NOT EXISTS recognitions_at ON recognitions (at);
"""


class Journal:
    """The journal file; use from one thread (the daemon's loop)."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self._db: sqlite3.Connection | None = None

    def open(self) -> Journal:
        if self._db is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            db = sqlite3.connect(self.path, timeout=5.0, isolation_level=None)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=FULL")  # a recognition is on disk before the next one
            db.executescript(SCHEMA)
            if "felt" not in {row[1] for row in db.execute("PRAGMA table_info(recognitions)")}:
                db.execute("ALTER TABLE recognitions ADD COLUMN felt TEXT")  # a journal from before corrections
            self._db = db
        return self

    def close(self) -> None:
        db, self._db = self._db, None
        if db is not None:
            db.close()

    def __enter__(self) -> Journal:
        return self.open()

    def __exit__(self, *exc) -> None:
        self.close()

    def record(self, r: Recognition) -> None:
        """Append the recognition ``r`` (its ``outcome`` and ``felt`` come later: :meth:`mark`, :meth:`correct`)."""
        self.open()._db.execute(
            "INSERT INTO recognitions (at, emotion, confidence, scores, playlist, speech_seconds)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (r.at, r.emotion, r.confidence, json.dumps(r.scores), r.playlist, r.speech_seconds))

    def mark(self, at: float, outcome: str) -> None:
        """Record that the user ``skipped`` or ``stopped`` the music chosen by the recognition at ``at``."""
        self.open()._db.execute("UPDATE recognitions SET outcome = ? WHERE at = ? AND outcome IS NULL",
                                (outcome, at))

    def correct(self, at: float, felt: str) -> None:
        """Record that the listener felt ``felt`` at the recognition made at ``at``."""
        self.open()._db.execute("UPDATE recognitions SET felt = ? WHERE at = ?", (felt, at))

    def entries(self, since: float = 0.0, limit: int | None = None) -> list[Recognition]:
        """Recognitions at or after ``since`` (epoch seconds), newest first."""
        rows = self.open()._db.execute(
            "SELECT at, emotion, confidence, scores, playlist, speech_seconds, outcome, felt FROM recognitions"
            " WHERE at >= ? ORDER BY at DESC LIMIT ?", (since, -1 if limit is None else limit))
        return [Recognition(at, emotion, confidence, json.loads(scores), playlist, speech, outcome, felt)
                for at, emotion, confidence, scores, playlist, speech, outcome, felt in rows]

    def recent(self, n: int = 5) -> list[dict]:
        """The last ``n`` recognitions as the state's ``history`` items, newest first."""
        return [e.history_item() for e in self.entries(limit=n)]


def summary(entries: list[Recognition]) -> list[dict]:
    """Per local day, newest first: count, the most frequent emotion, mean confidence, skips and stops."""
    days: dict[str, list[Recognition]] = {}
    for e in entries:
        days.setdefault(e.when.date().isoformat(), []).append(e)
    out = []
    for day in sorted(days, reverse=True):
        items = days[day]
        counts: dict[str, int] = {}
        for e in items:
            counts[e.emotion] = counts.get(e.emotion, 0) + 1
        top = max(counts.items(), key=lambda kv: (kv[1], kv[0]))[0]
        out.append({
            "day": day, "count": len(items), "top": top, "counts": counts,
            "mean_confidence": sum(e.confidence for e in items) / len(items),
            "skipped": sum(e.outcome == "skipped" for e in items),
            "stopped": sum(e.outcome == "stopped" for e in items),
        })
    return out


def since_days(days: int, now: datetime | None = None) -> float:
    """Epoch seconds of local midnight ``days - 1`` days before today (``days=1`` = today)."""
    now = (now or datetime.now()).astimezone()
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    return (midnight - timedelta(days=max(days, 1) - 1)).timestamp()
