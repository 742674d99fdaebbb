"""Which allowed playlist to lead with, learnt from what the listener kept and what they skipped.

For each emotion the playlists map allows an ordered list of playlists (the ``lift`` walk). The
:class:`Ranker` keeps, per (emotion, playlist), how often the music was *kept* (still playing
``outcome_seconds`` after the recognition) and how often it was *skipped* or stopped before that,
and chooses the playlist to start with by Thompson sampling: each candidate's chance of being kept
is drawn from its Beta posterior, the highest draw leads, the others follow in the map's order.
The map's order is the prior (the first playlist starts a little ahead), so a new box plays what
the map says, learns from a few outcomes, and keeps exploring a little. It never plays a playlist
the map does not allow for that emotion.

>>> ranker = Ranker(seed=1)
>>> ranker.order("sad", ("calm-dark", "calm-bright"))     # no outcomes yet: mostly the map's order
('calm-dark', 'calm-bright')
>>> for _ in range(6):
...     ranker.record("sad", "calm-dark", kept=False)        # skipped every time
...     ranker.record("sad", "calm-bright", kept=True)
>>> ranker.order("sad", ("calm-dark", "calm-bright"))
('calm-bright', 'calm-dark')
>>> ranker.summary()["sad"]
'calm-bright kept 6 of 6 times; calm-dark kept 0 of 6 times'
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class RankerSettings:
    """The prior the map's order gives, and how much one outcome counts."""

    prior_strength: float = 2.0
    """Pseudo-outcomes behind the prior of every candidate."""
    first: float = 0.65
    """Prior chance of being kept of the map's first playlist; the last gets ``1 - first``."""
    most: int = 100
    """Outcomes remembered per (emotion, playlist): older ones fade (both counts are scaled down)."""


class Ranker:
    """Thompson sampling over the playlists the map allows for each emotion."""

    def __init__(self, settings: RankerSettings = RankerSettings(), seed: int | None = None):
        self.settings = settings
        self.rng = np.random.default_rng(seed)
        self.counts: dict[str, dict[str, list[int | float]]] = {}
        """emotion -> playlist -> [kept, skipped]"""

    def order(self, emotion: str, allowed: Sequence[str]) -> tuple[str, ...]:
        """Return ``allowed`` with the sampled best first, the rest in the map's order."""
        allowed = tuple(allowed)
        if len(allowed) < 2:
            return allowed
        draws = [self.rng.beta(*self._posterior(emotion, name, rank, len(allowed)))
                 for rank, name in enumerate(allowed)]
        best = allowed[int(np.argmax(draws))]
        return (best, *(name for name in allowed if name != best))

    def record(self, emotion: str, playlist: str, kept: bool) -> None:
        """Count one outcome of ``playlist`` played for ``emotion``."""
        counts = self.counts.setdefault(emotion, {}).setdefault(playlist, [0, 0])
        counts[0 if kept else 1] += 1
        total = counts[0] + counts[1]
        if total > self.settings.most:
            counts[:] = [c * self.settings.most / total for c in counts]

    def forget(self) -> None:
        self.counts.clear()

    def summary(self) -> dict[str, str]:
        """Return, per emotion with outcomes, what was learnt in words (best first)."""
        out = {}
        for emotion, playlists in sorted(self.counts.items()):
            ranked = sorted(playlists.items(), key=lambda kv: -(kv[1][0] + 1) / (sum(kv[1]) + 2))
            out[emotion] = "; ".join(f"{name} kept {round(k)} of {round(k + s)} times" for name, (k, s) in ranked)
        return out

    def _posterior(self, emotion: str, name: str, rank: int, of: int) -> tuple[float, float]:
        s = self.settings
        mean = s.first + (1 - 2 * s.first) * rank / (of - 1)
        kept, skipped = self.counts.get(emotion, {}).get(name, (0, 0))
        return s.prior_strength * mean + kept, s.prior_strength * (1 - mean) + skipped

    # ------------------------------------------------------------ storage
    def to_dict(self) -> dict:
        return {e: {p: [round(float(c), 3) for c in counts] for p, counts in ps.items()}
                for e, ps in self.counts.items()}

    def load(self, data: Mapping) -> None:
        """Take the counts of :meth:`to_dict`; raise ``ValueError`` if they are malformed."""
        counts: dict[str, dict[str, list[float]]] = {}
        for emotion, playlists in data.items():
            if not isinstance(playlists, Mapping):
                raise ValueError(f"outcomes of {str(emotion)[:40]!r} are not a mapping")
            for name, pair in playlists.items():
                if not (isinstance(pair, list) and len(pair) == 2 and all(
                        isinstance(c, int | float) and not isinstance(c, bool) and 0 <= c < 1e6 for c in pair)):
                    raise ValueError(f"outcomes of {str(emotion)[:40]}/{str(name)[:40]} are not [kept, skipped]")
                counts.setdefault(str(emotion), {})[str(name)] = [float(c) for c in pair]
        self.counts = counts
