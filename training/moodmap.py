"""From a detected emotion to an ordered list of playlists, on the arousal/valence plane.

Each emotion the speech model knows has a place on Russell's circumplex (Russell 1980): valence
(unpleasant -1 .. pleasant +1) across, arousal (sleepy -1 .. excited +1) up; the places are
:data:`device.circumplex.EMOTIONS`, the table the recognizer uses too.

Two strategies turn an emotion into playlists:

``lift`` (the iso principle of music therapy, Altshuler 1948): begin with music that matches the
listener's mood, then move step by step toward a good place. The good place is the segment from
*calm* to *happy*; the target of each emotion is the point of that segment nearest to it, so the
way there is as short as it can be (sad goes to calm, angry to happy, neutral to calm-and-content
in between). The playlist list starts at the playlist nearest the emotion and each next one is
the nearest playlist that is closer to the target, until the playlist nearest the target.

``match``: stay with the mood: the playlist nearest the emotion, then any others at most
:data:`MATCH_SLACK` farther away than it, nearest first.
"""

from __future__ import annotations

from device.circumplex import EMOTIONS, Point

from .cluster import Cluster

GOOD = (EMOTIONS["calm"], EMOTIONS["happy"])
"""The segment ``lift`` heads for."""
STRATEGIES = ("lift", "match")
MATCH_SLACK = 0.35


def target(mood: Point, segment: tuple[Point, Point] = GOOD) -> Point:
    """Return the point of ``segment`` nearest to ``mood``."""
    a, b = segment
    da, dv = b.arousal - a.arousal, b.valence - a.valence
    t = ((mood.arousal - a.arousal) * da + (mood.valence - a.valence) * dv) / (da * da + dv * dv)
    t = min(1.0, max(0.0, t))
    return Point(a.arousal + t * da, a.valence + t * dv)


def place(cluster: Cluster) -> Point:
    return Point(cluster.arousal, cluster.valence)


def lift(mood: Point, clusters: list[Cluster]) -> list[str]:
    """Return playlist names from the one nearest ``mood`` step by step to the one nearest its target.

    Every step goes to the playlist nearest the current one among those strictly closer to the
    target, so the walk is gradual and always ends.
    """
    goal = target(mood)
    current = min(clusters, key=lambda c: (place(c).distance(mood), c.name))
    path = [current]
    while True:
        closer = [c for c in clusters if place(c).distance(goal) < place(current).distance(goal) - 1e-9]
        if not closer:
            return [c.name for c in path]
        current = min(closer, key=lambda c: (place(c).distance(place(current)), place(c).distance(goal), c.name))
        path.append(current)


def match(mood: Point, clusters: list[Cluster]) -> list[str]:
    """Return the playlist nearest ``mood`` and those at most :data:`MATCH_SLACK` farther, nearest first."""
    ranked = sorted(clusters, key=lambda c: (place(c).distance(mood), c.name))
    nearest = place(ranked[0]).distance(mood)
    return [c.name for c in ranked if place(c).distance(mood) <= nearest + MATCH_SLACK]


def emotion_map(clusters: list[Cluster], strategy: str = "lift") -> dict[str, list[str]]:
    """Return, for each of :data:`EMOTIONS`, the ordered playlist names to play under ``strategy``."""
    if strategy not in STRATEGIES:
        raise ValueError(f"unknown strategy {strategy!r}; use one of {', '.join(STRATEGIES)}")
    if not clusters:
        raise ValueError("no playlists to map emotions to")
    order = lift if strategy == "lift" else match
    return {emotion: order(point, clusters) for emotion, point in EMOTIONS.items()}
