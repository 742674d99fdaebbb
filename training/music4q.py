"""The 4Q music emotion dataset (Panda, Malheiro & Paiva 2018): song excerpts labelled by Russell quadrant.

The folder holds ``Q1/ .. Q4/<song id>.ogg`` (30 s excerpts) and ``metadata.csv`` with the
columns ``Song, Artist, Title, Quadrant, Moods, Genres``. The excerpts are third-party recordings
distributed for research only: train and validate on them, never ship them.

``load(root)`` returns the :class:`Song` s; a place on the plane falls in a quadrant:

>>> quadrant(0.4, -0.7), QUADRANT_MOODS[quadrant(0.4, -0.7)]
('Q2', 'angry')
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

QUADRANTS: dict[str, tuple[int, int]] = {"Q1": (1, 1), "Q2": (1, -1), "Q3": (-1, -1), "Q4": (-1, 1)}
"""Quadrant -> (sign of arousal, sign of valence): Q1 happy, Q2 angry, Q3 sad, Q4 calm."""
_BY_SIGNS = {signs: q for q, signs in QUADRANTS.items()}
QUADRANT_MOODS: dict[str, str] = {"Q1": "happy", "Q2": "angry", "Q3": "sad", "Q4": "calm"}
"""A word for each quadrant, for people (tags, the card)."""
CITATION = ("R. Panda, R. Malheiro, R. P. Paiva, \"Novel audio features for music emotion recognition\", "
            "IEEE Transactions on Affective Computing 11(4), 2020 (online 2018)")
LICENCE = "research use only (third-party AllMusic previews); the excerpts are never shipped"


@dataclass(frozen=True)
class Song:
    """One excerpt: its file, relative to the dataset root (``Q1/MT0000004637.ogg``), and its labels."""

    path: str
    quadrant: str
    artist: str
    title: str

    @property
    def arousal(self) -> int:
        return QUADRANTS[self.quadrant][0]

    @property
    def valence(self) -> int:
        return QUADRANTS[self.quadrant][1]


def quadrant(arousal: float, valence: float) -> str:
    """Return the quadrant of a point on the plane (a coordinate of exactly 0 counts as positive)."""
    return _BY_SIGNS[(1 if arousal >= 0 else -1, 1 if valence >= 0 else -1)]


def load(root: str | Path) -> list[Song]:
    """Return the songs of the dataset at ``root`` whose excerpt exists, sorted by path.

    Raises ``FileNotFoundError`` naming ``metadata.csv`` if it is missing, and ``ValueError``
    naming the file and the row if a quadrant is not one of Q1..Q4.
    """
    root = Path(root)
    table = root / "metadata.csv"
    if not table.is_file():
        raise FileNotFoundError(f"{table} is missing: is {root} the 4Q music emotion dataset?")
    songs = []
    with table.open(encoding="utf-8", newline="") as f:
        for row, record in enumerate(csv.DictReader(f), start=2):
            q = record["Quadrant"].strip()
            if q not in QUADRANTS:
                raise ValueError(f"{table}, row {row}: quadrant {q!r} is not one of {sorted(QUADRANTS)}")
            path = f"{q}/{record['Song'].strip()}.ogg"
            if (root / path).is_file():
                songs.append(Song(path, q, record["Artist"].strip(), record["Title"].strip()))
    return sorted(songs, key=lambda s: s.path)
