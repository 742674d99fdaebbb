"""The feature cache: what was learnt of each track, in one JSON file, keyed by path, size and mtime."""

from __future__ import annotations

import json
import logging
from pathlib import Path

from device.files import write_atomic

from .library import Track

log = logging.getLogger(__name__)


class FeatureCache:
    """What was learned from each track, in one JSON file, valid while path, size and mtime match.

    Each entry is a dict: ``{"size", "mtime_ns", ...}`` plus whatever the caller stores (features and
    tags, or the error that made the track unusable, so that a broken file is not decoded again).
    ``version`` names how entries were computed; a file written under another version is ignored.
    """

    def __init__(self, path: Path, version: str):
        self.path, self.version = path, version
        self.entries: dict[str, dict] = {}
        if path.exists():
            try:
                data = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError) as exc:
                log.warning("ignoring unreadable feature cache %s: %s", path, exc)
                return
            tracks = data.get("tracks") if isinstance(data, dict) else None
            if not isinstance(tracks, dict) or not all(isinstance(e, dict) for e in tracks.values()):
                log.warning("ignoring feature cache %s: not a cache of this tool (analysing everything again)", path)
            elif data.get("version") == version:
                self.entries = {p: e for p, e in tracks.items() if "features" in e or "error" in e}
            else:
                log.info("feature cache %s was written by other settings; analysing everything again", path)

    def get(self, track: Track) -> dict | None:
        """Return the entry stored for ``track`` if its size and mtime are unchanged, else None."""
        entry = self.entries.get(track.path)
        if entry and entry.get("size") == track.size and entry.get("mtime_ns") == track.mtime_ns:
            return entry
        return None

    def put(self, track: Track, entry: dict) -> None:
        self.entries[track.path] = {**entry, "size": track.size, "mtime_ns": track.mtime_ns}

    def save(self, keep: list[Track] | None = None) -> Path:
        """Write the entries to the file; return its path.

        With ``keep``, only the entries of those tracks are kept (the others are gone from the
        library), here as in the file; without, every entry is written as it is.
        """
        if keep is not None:
            paths = {t.path for t in keep}
            self.entries = {p: e for p, e in self.entries.items() if p in paths}
        data = {"version": self.version, "tracks": self.entries}
        return write_atomic(self.path, json.dumps(data, separators=(",", ":")))
