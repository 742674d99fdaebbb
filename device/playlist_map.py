"""``playlists.json``, the contract from the workstation to the Pi: its one reader and writer.

``python -m training playlists`` writes it (:func:`write`) beside the ``.m3u`` files; the device
reads which playlists to play per emotion from it (:func:`load`). The keys the device relies on::

    {"version": 1,
     "emotions": {"sad": ["calm-dark", "calm-bright"], ...},   # emotion -> playlist names, in order
     "playlists": [{"name": "calm-dark", "file": "calm-dark.m3u", ...}, ...]}

The rest (tracks, places, how it was made) is for people and for the next run. A file without
``version`` is version 1 (as the first ones were written); a newer version is refused with an
error that names the file.

>>> import tempfile
>>> path = Path(tempfile.mkdtemp()) / NAME
>>> load(write(path, {"emotions": {"calm": ["evening"]}, "playlists": []}))
{'calm': ['evening']}
>>> read(path)["version"]
1
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

from .errors import ConfigError
from .files import write_atomic

log = logging.getLogger(__name__)

NAME = "playlists.json"
"""The file's name in the playlists folder (MPD's ``playlist_directory``)."""
VERSION = 1
"""The version this code writes and the newest it reads."""


def read(path: str | Path) -> dict:
    """Return the whole document at ``path``, checked; raise :class:`ConfigError` naming the file if it is not one.

    :class:`FileNotFoundError` passes through (the caller decides whether a missing map is an error).
    """
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise
    except (OSError, ValueError) as exc:
        raise ConfigError(f"cannot read the playlists map {path}: {exc}") from None
    if not isinstance(data, dict):
        raise ConfigError(f'{path}: "emotions" must map each emotion to a list of playlist names')
    version = data.get("version", 1)
    if version != VERSION:
        raise ConfigError(f"{path} is a playlists map of version {version!r}; this emotune reads version {VERSION}"
                          " (make it again with `python -m training playlists`, or update emotune)")
    emotions = data.get("emotions")
    if not isinstance(emotions, dict) or not all(
            isinstance(k, str) and isinstance(v, list) and all(isinstance(n, str) for n in v)
            for k, v in emotions.items()):
        raise ConfigError(f'{path}: "emotions" must map each emotion to a list of playlist names')
    return {**data, "version": version}


def load(path: str | Path) -> dict[str, list[str]]:
    """Return the ``"emotions"`` of the map at ``path`` (emotion -> playlist names, in order).

    A missing file is an empty map (with a warning: the appliance still listens); a malformed one
    raises :class:`ConfigError` naming the file.
    """
    try:
        data = read(path)
    except FileNotFoundError:
        log.warning("no playlists map at %s: emotions will be heard but nothing played "
                    "(make one with `python -m training playlists`)", path)
        return {}
    return {emotion: list(names) for emotion, names in data["emotions"].items()}


def playlist_files(path: str | Path) -> set[str]:
    """The ``.m3u`` file names the map at ``path`` lists (plain names, no folders); empty if there is no map."""
    try:
        files = {p["file"] for p in read(path)["playlists"]}
    except (FileNotFoundError, ConfigError, TypeError, KeyError):
        return set()
    return {f for f in files if isinstance(f, str) and f.endswith(".m3u") and "/" not in f}


def write(path: str | Path, doc: dict) -> Path:
    """Write ``doc`` (with ``"version"`` set to :data:`VERSION` first) to ``path`` atomically; return ``path``."""
    path = Path(path)
    doc = {"version": VERSION, **{k: v for k, v in doc.items() if k != "version"}}
    return write_atomic(path, json.dumps(doc, indent=1, ensure_ascii=False) + "\n")
