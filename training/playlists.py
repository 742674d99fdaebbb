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

This module is the command: its settings and the pipeline (:func:`build`); the work is in
:mod:`training.analysis` (features and places) and :mod:`training.outputs` (what is written).
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path

from . import moodmap, music_model
from .analysis import analyse_library, place
from .cluster import ClusterSettings, cluster
from .excerpt import ExcerptSettings
from .outputs import check_outputs, report, tag_tracks, write
from .track_features import AnalysisSettings

log = logging.getLogger(__name__)

CACHE_NAME = "features-cache.json"


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


def main(args: argparse.Namespace) -> int:
    settings = settings_from(args)
    try:
        build(settings)
    except KeyboardInterrupt:
        print(f"interrupted: what was analysed is kept in {settings.cache_path}; run again to go on",
              file=sys.stderr)
        return 130
    return 0

