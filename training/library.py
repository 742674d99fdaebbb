"""The music library on disk: which files are tracks, their tags, an excerpt of their audio, and a
cache of what was learned from each, keyed by path, size and modification time.

Decoding goes through libsndfile (the ``soundfile`` package): FLAC, WAV, Ogg Vorbis, Opus and, with
libsndfile 1.1 or newer, MP3. It seeks to the excerpt and decodes only that, which is what makes a
large library quick. M4A/AAC/ALAC (and anything libsndfile refuses) go through ``ffmpeg`` when it is
installed; without it such a file is skipped and the summary says to install ffmpeg.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile

from device.audio import SUFFIXES as SNDFILE_SUFFIXES
from device.audio import resample
from device.errors import AudioError
from device.files import write_atomic

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


@dataclass(frozen=True)
class ExcerptSettings:
    """Which part of a track is analysed. Times in seconds."""

    seconds: float = 30.0
    """Length of the excerpt; a shorter track is analysed whole."""
    centre: float = 0.5
    """Where the excerpt's middle lies, as a fraction of the track: the middle skips intros and fades."""


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


def read_excerpt(path: Path, rate: int, excerpt: ExcerptSettings = ExcerptSettings()) -> tuple[np.ndarray, float]:
    """Return the excerpt of ``path`` as mono float32 samples at ``rate`` Hz, and the track's duration (s).

    Raises :class:`~device.errors.AudioError` naming the file and the reason when it cannot be decoded.
    """
    try:
        size = path.stat().st_size
    except OSError as exc:  # gone or unreadable since the library was scanned
        raise AudioError(f"{path}: cannot read ({exc.strerror or exc})") from None
    if size == 0:
        raise AudioError(f"{path}: empty file (0 bytes)")
    if path.suffix.lower() in FFMPEG_SUFFIXES:
        return _ffmpeg_excerpt(path, rate, excerpt)
    try:
        return _sndfile_excerpt(path, rate, excerpt)
    except AudioError:
        if shutil.which("ffmpeg") is None:
            raise
        return _ffmpeg_excerpt(path, rate, excerpt)


def excerpt_span(duration: float, excerpt: ExcerptSettings) -> tuple[float, float]:
    """Return (start, length) in seconds of the excerpt of a track ``duration`` seconds long."""
    length = min(duration, excerpt.seconds)
    start = min(max(0.0, duration * excerpt.centre - length / 2), duration - length)
    return start, length


def _sndfile_excerpt(path: Path, rate: int, excerpt: ExcerptSettings) -> tuple[np.ndarray, float]:
    try:
        with soundfile.SoundFile(str(path)) as f:
            duration = f.frames / f.samplerate
            start, length = excerpt_span(duration, excerpt)
            if f.seekable():
                f.seek(int(start * f.samplerate))
            else:
                f.read(int(start * f.samplerate), dtype="float32")
            samples = f.read(int(length * f.samplerate), dtype="float32", always_2d=True)
            file_rate = f.samplerate
    except Exception as exc:  # libsndfile raises several types; all mean "cannot decode"
        reason = getattr(exc, "error_string", None) or str(exc)
        if "does not exist" in reason and path.is_file():  # libsndfile's words when no decoder takes it
            reason = "not a recognisable audio stream"
        raise AudioError(f"{path}: cannot decode ({reason.rstrip('.')})") from None
    if samples.size == 0:
        raise AudioError(f"{path}: holds no audio samples")
    return resample(mix_down(samples), file_rate, rate), duration


def mix_down(samples: np.ndarray) -> np.ndarray:
    """Return (n, channels) float32 ``samples`` as one channel, their mean.

    A matrix product instead of ``mean(axis=1)`` (as :func:`device.audio.to_mono` does it): numpy
    reduces along the short, strided axis slowly, and here it ran on 30 s of every track.
    """
    channels = samples.shape[1]
    return samples[:, 0].copy() if channels == 1 else samples @ np.full(channels, 1 / channels, np.float32)


def _ffmpeg_excerpt(path: Path, rate: int, excerpt: ExcerptSettings) -> tuple[np.ndarray, float]:
    if shutil.which("ffmpeg") is None:
        raise AudioError(f"{path}: {path.suffix} needs ffmpeg to decode, which is not installed "
                         "(apt-get install ffmpeg, or convert the file to FLAC/Ogg/MP3)")
    duration = float(read_tags(path).get("duration", 0.0))
    start, length = excerpt_span(duration, excerpt) if duration else (0.0, excerpt.seconds)
    command = ["ffmpeg", "-nostdin", "-v", "error", "-ss", f"{start:.3f}", "-t", f"{length:.3f}", "-i", str(path),
               "-ac", "1", "-ar", str(rate), "-f", "f32le", "-"]
    run = subprocess.run(command, capture_output=True, timeout=120)
    samples = np.frombuffer(run.stdout, dtype="<f4").astype(np.float32)
    if run.returncode != 0 or samples.size == 0:
        reason = run.stderr.decode(errors="replace").strip().splitlines()[-1:] or ["no audio"]
        raise AudioError(f"{path}: ffmpeg cannot decode it ({reason[0]})")
    return samples, duration or samples.size / rate


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
