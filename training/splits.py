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


def rotation(clips: list[Clip], first: list[str], folds: int, seed: int) -> list[list[str]]:
    """Return ``folds - 1`` groups of speakers that, with ``first`` (the ``speakers`` fold's), hold
    out every speaker of ``clips`` exactly once: each corpus's other speakers, in a seeded order,
    dealt one to a group in turn, the deal going on from corpus to corpus so the groups stay
    alike in size. A corpus with fewer speakers than groups is held out by only some of them, and
    a group no speaker is left for is not returned."""
    groups: list[list[str]] = [[] for _ in range(folds - 1)]
    turn, taken = 0, set(first)
    for name in sorted({c.corpus for c in clips}):
        rest = [s for s in speakers([c for c in clips if c.corpus == name]) if s not in taken]
        for speaker in random.Random(f"{seed}:{name}").sample(rest, len(rest)):
            groups[turn % len(groups)].append(speaker)
            turn += 1
    return [sorted(g) for g in groups if g]
