"""Analyse a music library for its playlists: every track's features (cached, in parallel), and its place.

:func:`analyse_library` decodes only what the cache does not know (``--jobs`` processes) and keeps
what it learnt if interrupted; :func:`place` puts each track on the arousal/valence plane with the
music mood model, or the fallback formulas without one.
"""

from __future__ import annotations

import logging
import multiprocessing
import signal
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from tqdm import tqdm

from device.errors import AudioError

from . import music_model
from .cache import FeatureCache
from .cluster import formula_place
from .excerpt import ExcerptSettings, read_excerpt
from .library import AUDIO_SUFFIXES, Track, find_tracks, read_tags
from .track_features import AnalysisSettings, TrackFeatures, analyse

if TYPE_CHECKING:
    from .playlists import Settings

log = logging.getLogger(__name__)


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
