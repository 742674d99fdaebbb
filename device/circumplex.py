"""Where each emotion lies on Russell's circumplex, and where a mix of them lies.

Valence (unpleasant -1 .. pleasant +1) across, arousal (sleepy -1 .. excited +1) up (Russell
1980). The places follow where Russell's adjectives for these emotions lie, rounded; disgust,
which his figure lacks, sits where Scherer's Geneva Emotion Wheel puts it: unpleasant, a little
aroused. The playlists (``training/moodmap.py``) and the recognizer share this one table.

The place of an utterance is the expected place under the model's probabilities: a sure "sad"
sits at sad, an even doubt between angry and happy sits between them, aroused but neutral.

>>> place({"sad": 1.0})
Point(arousal=-0.5, valence=-0.7)
>>> p = place({"angry": 0.5, "happy": 0.5})
>>> round(p.arousal, 2), round(p.valence, 2)
(0.65, 0.15)
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class Point:
    """A place on the plane: arousal (up) and valence (across), both in [-1, 1]."""

    arousal: float
    valence: float

    def distance(self, other: Point) -> float:
        return math.hypot(self.arousal - other.arousal, self.valence - other.valence)


EMOTIONS: dict[str, Point] = {
    "neutral": Point(0.0, 0.0),
    "calm": Point(-0.6, 0.6),
    "happy": Point(0.5, 0.8),
    "sad": Point(-0.5, -0.7),
    "angry": Point(0.8, -0.5),
    "fearful": Point(0.6, -0.7),
    "disgust": Point(0.3, -0.7),
    "surprised": Point(0.8, 0.4),
}
"""The 8 emotions of the speech model and their place on the plane."""


def place(scores: dict[str, float]) -> Point:
    """Return the expected place of ``scores`` (emotion -> probability; they are renormalised).

    Raises ``ValueError`` naming an emotion that has no place, or if the scores sum to zero.
    """
    unknown = sorted(set(scores) - set(EMOTIONS))
    if unknown:
        raise ValueError(f"no place on the circumplex for {', '.join(unknown)}; known: {', '.join(EMOTIONS)}")
    total = sum(scores.values())
    if total <= 0:
        raise ValueError("the scores sum to zero: there is nothing to place")
    return Point(sum(p * EMOTIONS[e].arousal for e, p in scores.items()) / total,
                 sum(p * EMOTIONS[e].valence for e, p in scores.items()) / total)
