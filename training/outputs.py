"""What ``python -m training playlists`` writes: the ``.m3u`` files, ``playlists.json``, the picture, tags.

Only files this tool wrote are ever replaced or deleted (:func:`check_outputs`, before any work):
``playlists.json`` is the manifest of the ``.m3u`` files of the last run. Every file is written
atomically (:mod:`device.files`; ``playlists.json`` through :mod:`device.playlist_map`).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from device import playlist_map
from device.errors import ConfigError
from device.files import replacing, write_atomic

from . import moodmap
from .analysis import Analysed
from .cluster import NAME_PATTERN, Clustering, columns
from .library import Track
from .music4q import QUADRANT_MOODS, quadrant

if TYPE_CHECKING:
    from .playlists import Settings

JSON_NAME = playlist_map.NAME
PNG_NAME = "playlists.png"


def m3u(paths: list[str], tags: list[dict]) -> str:
    """Return an extended M3U playlist: ``#EXTINF:seconds,artist - title`` then the relative path."""
    lines = ["#EXTM3U"]
    for path, tag in zip(paths, tags, strict=True):
        title = " - ".join(str(tag[k]) for k in ("artist", "title") if tag.get(k)) or Path(path).stem
        lines += [f"#EXTINF:{round(float(tag.get('duration', -1)))},{title}", path]
    return "\n".join(lines) + "\n"


def summary_features(cols: dict[str, np.ndarray], members: tuple[int, ...]) -> dict[str, float]:
    """Return the mean of the interpretable features over a cluster's tracks, for people reading the JSON."""
    keys = ("loudness_db", "tempo_bpm", "onset_rate", "brightness", "mode", "centroid_hz", "dynamics_db")
    return {k: round(float(cols[k][list(members)].mean()), 4) for k in keys}


def emotion_place(point: moodmap.Point) -> dict:
    """Return an emotion's place on the plane and the ``lift`` target it heads for, for ``playlists.json``."""
    goal = moodmap.target(point)
    return {"arousal": point.arousal, "valence": point.valence,
            "target": {"arousal": round(goal.arousal, 4), "valence": round(goal.valence, 4)}}


def contract(settings: Settings, data: Analysed, result: Clustering, emotions: dict[str, list[str]],
             placed_by: dict) -> dict:
    """Return the content of ``playlists.json``: playlists, emotions, and how they were made."""
    cols = columns(data.features)
    playlist_of = {i: c.name for c in result.clusters for i in c.members}
    return {
        "version": playlist_map.VERSION,
        "library": str(settings.library.resolve()),
        "strategy": settings.strategy,
        "playlists": [
            {"name": c.name, "file": f"{c.name}.m3u", "tracks": [data.tracks[i].path for i in c.members],
             "arousal": c.arousal, "valence": c.valence, "size": len(c.members),
             "features": summary_features(cols, c.members)}
            for c in result.clusters
        ],
        "emotions": emotions,
        "emotion_places": {e: emotion_place(p) for e, p in moodmap.EMOTIONS.items()},
        "placement": placed_by,
        "clustering": {
            "k": len(result.clusters),
            "chosen_by": "silhouette" if result.silhouettes else "--clusters",
            "silhouettes": {str(k): round(s, 4) for k, s in result.silhouettes.items()},
        },
        "tracks": [
            {"path": t.path, "playlist": playlist_of[i], "arousal": round(float(result.arousal[i]), 4),
             "valence": round(float(result.valence[i]), 4),
             "quadrant": quadrant_name(float(result.arousal[i]), float(result.valence[i])), "key": f.key,
             "tempo_bpm": round(f.tempo_bpm, 1),
             **{k: v for k, v in data.tags[i].items() if k in ("artist", "title", "album")}}
            for i, (t, f) in enumerate(zip(data.tracks, data.features, strict=True))
        ],
        "skipped": [{"path": p, "reason": r} for p, r in data.skipped],
    }


def quadrant_name(arousal: float, valence: float) -> str:
    """Return the quadrant of a place with its word, e.g. ``Q2 angry``."""
    q = quadrant(arousal, valence)
    return f"{q} {QUADRANT_MOODS[q]}"


def manifest(out: Path) -> set[str]:
    """Return the ``.m3u`` files the last run wrote into ``out``, as its ``playlists.json`` lists them."""
    return playlist_map.playlist_files(out / JSON_NAME)


def check_outputs(settings: Settings) -> None:
    """Raise ``ValueError`` naming the path if the outputs cannot be written or would replace a file not ours.

    Called before any work, so that a long analysis never ends in a refusal to write.
    """
    out = settings.out
    if out.exists() and not out.is_dir():
        raise ValueError(f"--out {out} is a file: give the folder the playlists go in (MPD's playlist_directory)")
    if settings.cache_path.is_dir():
        raise ValueError(f"--cache {settings.cache_path} is a folder: give the cache file's path")
    if not out.exists():
        return
    ours = manifest(out)
    theirs = sorted(f.name for f in out.iterdir()
                    if f.suffix == ".m3u" and NAME_PATTERN.fullmatch(f.stem) and f.name not in ours)
    if theirs:
        raise ValueError(f"{out / theirs[0]} was not written by emotune (not in {out / JSON_NAME}) and a playlist "
                         "of that name may be: move it, or give another --out")
    doc = out / JSON_NAME
    if doc.exists() and not ours:
        try:
            playlist_map.read(doc)
        except (OSError, ConfigError):
            raise ValueError(f"{doc} is not a playlists map emotune wrote: move it, or give another --out") from None


def remove_stale(out: Path, keep: set[str]) -> None:
    """Delete the .m3u files the last run wrote (its manifest) that this run does not write."""
    for name in manifest(out) - keep:
        (out / name).unlink(missing_ok=True)


def write(settings: Settings, data: Analysed, result: Clustering, emotions: dict[str, list[str]],
          placed_by: dict) -> dict:
    """Write the M3U files, ``playlists.json`` and ``playlists.png`` into ``settings.out``; return the JSON."""
    settings.out.mkdir(parents=True, exist_ok=True)
    doc = contract(settings, data, result, emotions, placed_by)
    remove_stale(settings.out, {p["file"] for p in doc["playlists"]})
    for c in result.clusters:
        write_atomic(settings.out / f"{c.name}.m3u",
                     m3u([data.tracks[i].path for i in c.members], [data.tags[i] for i in c.members]))
    playlist_map.write(settings.out / JSON_NAME, doc)
    from . import plots  # matplotlib only when there is something to draw

    with replacing(settings.out / PNG_NAME) as png:
        plots.mood_plane(result, f"{settings.library.resolve().name}: {len(data.tracks)} tracks, "
                         f"{len(result.clusters)} playlists", png)
    return doc


def report(doc: dict, data: Analysed, out: Path) -> str:
    """Return the summary printed at the end: playlists, one emotion line, then every skipped file."""
    lines = [f"wrote {len(doc['playlists'])} playlists of {len(data.tracks)} tracks to {out} "
             f"({data.fresh} analysed now, {len(data.tracks) + len(data.skipped) - data.fresh} from the cache):"]
    lines += [f"  {p['name']:<22} {p['size']:>5} tracks  arousal {p['arousal']:+.2f}  valence {p['valence']:+.2f}"
              for p in doc["playlists"]]
    lines += [f"  {e:>9} -> {' > '.join(names)}" for e, names in doc["emotions"].items()]
    if data.skipped:
        lines.append(f"skipped {len(data.skipped)} file(s):")
        lines += [f"  {path}: {reason}" for path, reason in data.skipped]
    return "\n".join(lines)


def tag_tracks(settings: Settings, data: Analysed, placed: list[dict]) -> str:
    """Write each track's mood into its tags; keep its cache entry valid (the audio is unchanged).

    Return a line saying how many files were tagged, and which could not be.
    """
    from . import tags

    changed, failed = 0, []
    for track, entry in zip(data.tracks, placed, strict=True):
        path = settings.library / track.path
        try:
            if not tags.write_mood(path, tags.mood_tags(entry["arousal"], entry["valence"], entry["quadrant"])):
                continue
        except ValueError as exc:
            failed.append(str(exc))
            continue
        changed += 1
        stat = path.stat()
        data.cache.put(Track(track.path, stat.st_size, stat.st_mtime_ns), data.cache.entries[track.path])
    data.cache.save()
    return "\n".join([f"mood tags written to {changed} of {len(data.tracks)} files"] + [f"  {f}" for f in failed])
