"""Speaker-independent splits: no speaker is ever on both sides."""

from __future__ import annotations

import random

from .corpora import Clip


def speakers(clips: list[Clip]) -> list[str]:
    """Return the distinct speakers of ``clips``, sorted."""
    return sorted({c.speaker for c in clips})


def pick_holdout(clips: list[Clip], fraction: float, seed: int) -> list[str]:
    """Return a seeded random ``fraction`` of the speakers (at least one) to hold out."""
    names = speakers(clips)
    count = max(1, round(len(names) * fraction))
    return sorted(random.Random(seed).sample(names, count))


def per_corpus_holdout(clips: list[Clip], fraction: float, seed: int) -> list[str]:
    """Return a seeded ``fraction`` of every corpus's speakers (at least one of each)."""
    out: list[str] = []
    for name in sorted({c.corpus for c in clips}):
        out += pick_holdout([c for c in clips if c.corpus == name], fraction, seed)
    return sorted(out)


def split(clips: list[Clip], holdout: list[str]) -> tuple[list[Clip], list[Clip]]:
    """Return (train, test): the clips of speakers not in ``holdout``, and of those in it."""
    unknown = set(holdout) - set(speakers(clips))
    if unknown:
        raise ValueError(f"held-out speakers not in the data: {', '.join(sorted(unknown))}")
    held = set(holdout)
    return [c for c in clips if c.speaker not in held], [c for c in clips if c.speaker in held]
