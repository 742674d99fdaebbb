"""``python -m training playlists``: mood playlists for MPD from a music library, and which to play per emotion.

::

    python -m training playlists --library ~/Music --out build/playlists [--clusters K|auto]
                                 [--strategy lift|match] [--jobs N] [--model FILE|none] [--write-tags]

Every track is placed on the arousal/valence plane by the music mood model
(:mod:`training.music_model`, ``models/emotune-music.json``): an absolute place, learnt from
listeners. Without the model file (or with ``--model none``) the fallback formulas of
:mod:`training.cluster` place tracks relative to the library, with a warning.

writes, into ``--out`` (MPD's ``playlist_directory``; ``--library`` is its ``music_directory``):

- ``<name>.m3u`` per cluster, paths relative to the library root, e.g. ``calm-bright.m3u``;
- ``playlists.json``: the playlists with their tracks and place on the plane, and for each of the
  8 emotions the ordered playlists to play (the contract the device reads);
- ``playlists.png``: tracks and clusters on the arousal/valence plane;
- ``features-cache.json``: what was measured per track, so that a re-run only analyses new or
  changed files.

Files that cannot be decoded are skipped and listed at the end; the run still succeeds.

Only files this tool wrote are ever replaced or deleted: ``playlists.json`` is the manifest of the
``.m3u`` files of the last run, and an ``.m3u`` of a name it could write that it did not (your own
playlist in MPD's folder) stops the run before any work, naming the file. Every file is written
atomically (:mod:`device.files`), so a crash or two runs at once never leave half a file.
"""

from __future__ import annotations

import argparse
import logging
import multiprocessing
import os
import signal
import sys
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import numpy as np
from tqdm import tqdm

from device import playlist_map
from device.errors import AudioError, ConfigError
from device.files import replacing, write_atomic

from . import moodmap, music_model
from .cluster import NAME_PATTERN, Clustering, ClusterSettings, cluster, columns, formula_place
from .library import AUDIO_SUFFIXES, ExcerptSettings, FeatureCache, Track, find_tracks, read_excerpt, read_tags
from .music4q import QUADRANT_MOODS, quadrant
from .track_features import AnalysisSettings, TrackFeatures, analyse

log = logging.getLogger(__name__)

CACHE_NAME = "features-cache.json"
JSON_NAME = playlist_map.NAME
PNG_NAME = "playlists.png"


@dataclass(frozen=True)
class Settings:
    """One run of the command, built from the command line by :func:`settings_from`."""

    library: Path
    out: Path
    strategy: str = "lift"
    jobs: int = 1
    cache: Path | None = None
    """Feature cache file; None means ``out / features-cache.json``."""
    model: Path | None = music_model.DEFAULT_MODEL
    """The music mood model; None places tracks by the fallback formulas."""
    write_tags: bool = False
    """Store each track's arousal, valence and quadrant in its tags (:mod:`training.tags`)."""
    clusters: ClusterSettings = field(default_factory=ClusterSettings)
    analysis: AnalysisSettings = field(default_factory=AnalysisSettings)
    excerpt: ExcerptSettings = field(default_factory=ExcerptSettings)

    @property
    def cache_path(self) -> Path:
        return self.cache or self.out / CACHE_NAME

    @property
    def cache_version(self) -> str:
        return self.analysis.key() + f":excerpt={self.excerpt}"


@dataclass
class Analysed:
    """The library after analysis: usable tracks with features and tags, and the skipped files."""

    tracks: list[Track]
    features: list[TrackFeatures]
    tags: list[dict]
    skipped: list[tuple[str, str]]
    """(relative path, reason) per file that could not be used."""
    fresh: int
    """How many files were decoded in this run (the others came from the cache)."""
    cache: FeatureCache
    """The feature cache, as saved after the analysis (entries of the library's files only)."""


def clusters_arg(text: str) -> int | None:
    """Parse ``--clusters``: ``auto`` (None) or a positive number."""
    if text == "auto":
        return None
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"--clusters takes a positive number or 'auto', not {text!r}")
    return int(text)


def seconds_arg(text: str) -> float:
    """Parse ``--excerpt``: a positive number of seconds."""
    try:
        value = float(text)
    except ValueError:
        value = 0.0
    if not value > 0:
        raise argparse.ArgumentTypeError(f"--excerpt takes a positive number of seconds, not {text!r}")
    return value


def model_arg(text: str) -> Path | None:
    """Parse ``--model``: a model file, or ``none`` for the fallback formulas."""
    return None if text == "none" else Path(text)


def add_parser(sub) -> argparse.ArgumentParser:
    p = sub.add_parser("playlists", help="build mood playlists for MPD from a music library",
                       description=__doc__.splitlines()[0].split(": ", 1)[1])
    p.add_argument("--library", type=Path, required=True, help="music library root (MPD's music_directory)")
    p.add_argument("--out", type=Path, required=True, help="where to write playlists (MPD's playlist_directory)")
    p.add_argument("--clusters", type=clusters_arg, default=None, metavar="K|auto",
                   help="number of playlists, or 'auto' to pick 3..8 by silhouette (default auto)")
    p.add_argument("--strategy", choices=moodmap.STRATEGIES, default="lift",
                   help="lift: start near the mood and move toward calm/happy; match: stay near it (default lift)")
    p.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="processes analysing tracks (default: all)")
    p.add_argument("--cache", type=Path, default=None, help=f"feature cache file (default OUT/{CACHE_NAME})")
    p.add_argument("--excerpt", type=seconds_arg, default=ExcerptSettings.seconds,
                   help="seconds analysed per track, from its middle (default %(default)s)")
    p.add_argument("--model", type=model_arg, default=music_model.DEFAULT_MODEL, metavar="FILE|none",
                   help="music mood model placing the tracks; 'none': the fallback formulas (default %(default)s)")
    p.add_argument("--write-tags", action="store_true",
                   help="store each track's arousal, valence and quadrant in its tags (audio untouched)")
    return p


def settings_from(args: argparse.Namespace) -> Settings:
    return Settings(library=args.library, out=args.out, strategy=args.strategy, jobs=max(1, args.jobs),
                    cache=args.cache, clusters=ClusterSettings(clusters=args.clusters),
                    excerpt=ExcerptSettings(seconds=args.excerpt), model=args.model, write_tags=args.write_tags)


def analyse_track(root: Path, analysis: AnalysisSettings, excerpt: ExcerptSettings, track: Track) -> dict:
    """Return the cache entry of one track: ``{"features", "tags"}``, or ``{"error": reason}``."""
    path = root / track.path
    try:
        samples, duration = read_excerpt(path, analysis.rate, excerpt)
        features = analyse(samples, analysis)
    except AudioError as exc:
        return {"error": str(exc).removeprefix(f"{path}: ")}
    except Exception as exc:  # a bug or a pathological file must not stop a library of thousands
        log.exception("analysing %s failed", path)
        return {"error": f"analysis failed ({type(exc).__name__}: {exc})"}
    tags = read_tags(path)
    tags.setdefault("duration", round(duration, 3))
    return {"features": features.to_dict(), "tags": tags}


def _analyse_all(settings: Settings, todo: list[Track]):
    """Yield (track, entry) for each of ``todo``, in ``settings.jobs`` processes, with a progress bar."""
    work = partial(analyse_track, settings.library, settings.analysis, settings.excerpt)
    if settings.jobs <= 1 or len(todo) < 2:
        for track in tqdm(todo, desc="analysing", unit="track", disable=not todo):
            yield track, work(track)
        return
    # fork: workers share the imports already made (numpy, scipy) instead of importing them again.
    # The pool is made before the progress bar so that no thread of this process is copied.
    # Workers ignore Ctrl-C: the parent alone stops (keeping the cache) instead of each printing a traceback.
    with multiprocessing.get_context("fork").Pool(min(settings.jobs, len(todo)), signal.signal,
                                                  (signal.SIGINT, signal.SIG_IGN)) as pool:
        entries = pool.imap(work, todo, chunksize=1)
        yield from tqdm(zip(todo, entries, strict=True), total=len(todo), desc="analysing", unit="track")


def analyse_library(settings: Settings) -> Analysed:
    """Return the library's tracks analysed: cached entries reused, new or changed files decoded.

    Raises ``ValueError`` naming the directory if it holds no audio files.
    """
    unusable: list[tuple[str, str]] = []
    tracks = find_tracks(settings.library, unusable)
    if not tracks and not unusable:
        raise ValueError(f"no audio files in {settings.library} (looked for "
                         f"{', '.join(sorted(AUDIO_SUFFIXES))} in it and below)")
    cache = FeatureCache(settings.cache_path, settings.cache_version)
    todo = [t for t in tracks if cache.get(t) is None]
    log.info("%d audio files in %s: %d to analyse, %d unchanged since the last run", len(tracks),
             settings.library, len(todo), len(tracks) - len(todo))
    try:
        for track, entry in _analyse_all(settings, todo):
            cache.put(track, entry)
    finally:  # an interrupted run keeps what it analysed
        cache.save(tracks)
    out = Analysed([], [], [], [], len(todo), cache)
    out.skipped += unusable
    for track in tracks:
        entry = cache.get(track)
        if "error" in entry:
            out.skipped.append((track.path, entry["error"]))
            continue
        out.tracks.append(track)
        out.features.append(TrackFeatures.from_dict(entry["features"]))
        out.tags.append(entry.get("tags", {}))
    return out


@dataclass(frozen=True)
class Placement:
    """Each track's place on the plane and what placed it."""

    arousal: np.ndarray
    valence: np.ndarray
    by: dict
    """For ``playlists.json``: ``{"method": "model", "model": path, "scale": ...}`` or the formulas'."""


def place(settings: Settings, features: list[TrackFeatures]) -> Placement:
    """Return the tracks placed by the model, or by the fallback formulas when there is none.

    Raises ``ValueError`` naming the model file if it exists but is not a model of these features.
    """
    reason = "--model none"
    if settings.model is not None:
        try:
            model = music_model.load(settings.model, settings.analysis)
        except FileNotFoundError:
            reason = f"no model at {settings.model}"
        else:
            arousal, valence = model.place(features)
            return Placement(arousal, valence, {"method": "model", "model": str(settings.model),
                                                "scale": "absolute (learnt from listeners)"})
        log.warning("%s: placing tracks by the fallback formulas, relative to this library "
                    "(train the model with `python -m training music-model`)", reason)
    arousal, valence = formula_place(features)
    return Placement(arousal, valence, {"method": "formulas", "reason": reason,
                                        "scale": "relative to this library (z-scores)"})


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


def build(settings: Settings) -> dict:
    """Analyse, cluster, map and write: the whole command; return the ``playlists.json`` content."""
    check_outputs(settings)
    data = analyse_library(settings)
    if not data.tracks:
        print("\n".join(f"  {p}: {r}" for p, r in data.skipped))
        raise ValueError(f"none of the {len(data.skipped)} audio files in {settings.library} could be decoded "
                         "(listed above)")
    placement = place(settings, data.features)
    result = cluster(data.features, settings.clusters, (placement.arousal, placement.valence))
    emotions = moodmap.emotion_map(result.clusters, settings.strategy)
    doc = write(settings, data, result, emotions, placement.by)
    print(report(doc, data, settings.out))
    if settings.write_tags:
        print(tag_tracks(settings, data, doc["tracks"]))
    return doc


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


def main(args: argparse.Namespace) -> int:
    settings = settings_from(args)
    try:
        build(settings)
    except KeyboardInterrupt:
        print(f"interrupted: what was analysed is kept in {settings.cache_path}; run again to go on",
              file=sys.stderr)
        return 130
    return 0

