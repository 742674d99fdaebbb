"""The music library on disk: which files are tracks (:func:`find_tracks`) and their tags (:func:`read_tags`).

What is heard of each track is :mod:`training.excerpt`; what was learnt of it is kept by
:mod:`training.cache`.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path

from device.audio import SUFFIXES as SNDFILE_SUFFIXES

log = logging.getLogger(__name__)

FFMPEG_SUFFIXES = frozenset({".m4a", ".mp4", ".aac", ".alac", ".wma"})
AUDIO_SUFFIXES = SNDFILE_SUFFIXES | FFMPEG_SUFFIXES
"""What counts as a track, by file name suffix (case-insensitive)."""


@dataclass(frozen=True)
class Track:
    """A file of the library: its path relative to the root (with ``/``), size in bytes, mtime in ns."""

    path: str
    size: int
    mtime_ns: int


def find_tracks(root: Path, unusable: list[tuple[str, str]] | None = None) -> list[Track]:
    """Return every audio file under ``root`` (following links, skipping hidden names), sorted by path.

    Audio files that cannot be used (a dangling link; a name with a line break, which an M3U
    playlist cannot hold) are left out and, given ``unusable``, appended to it as (path, reason).
    Raises ``FileNotFoundError`` if ``root`` is not a directory.
    """
    if not root.is_dir():
        raise FileNotFoundError(f"music library {root} is not a directory")
    found, seen = [], set()
    for folder, dirs, files in os.walk(root, followlinks=True):
        real = os.path.realpath(folder)
        if real in seen:  # a link back up the tree
            dirs.clear()
            continue
        seen.add(real)
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        for name in files:
            if name.startswith(".") or Path(name).suffix.lower() not in AUDIO_SUFFIXES:
                continue
            path = Path(folder) / name
            relative = path.relative_to(root).as_posix()
            try:
                st = path.stat()
            except OSError as exc:  # a dangling link, or no permission
                reason = "a link to nothing" if path.is_symlink() else f"cannot be read ({exc.strerror or exc})"
            else:
                if "\n" not in relative and "\r" not in relative:
                    found.append(Track(relative, st.st_size, st.st_mtime_ns))
                    continue
                reason = "its name holds a line break, which an M3U playlist cannot hold: rename it"
            if unusable is not None:
                unusable.append((relative, reason))
    return sorted(found, key=lambda t: t.path)


def read_tags(path: Path) -> dict[str, str | float]:
    """Return the track's artist, title and album where tagged, and its duration in seconds if known.

    Tags are a courtesy (they label the M3U entries): a file mutagen cannot parse gives ``{}``.
    """
    import mutagen

    try:
        audio = mutagen.File(str(path), easy=True)
    except Exception:  # mutagen raises many types for damaged files; the decoder will judge them
        return {}
    if audio is None:
        return {}
    out: dict[str, str | float] = {}
    tags = audio.tags or {}
    for key in ("artist", "title", "album"):
        values = tags.get(key)
        if values:
            out[key] = str(values[0])
    length = getattr(getattr(audio, "info", None), "length", None)
    if length:
        out["duration"] = round(float(length), 3)
    return out


