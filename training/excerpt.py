"""An excerpt of a track's audio: the part that is analysed, decoded without reading the rest.

Decoding goes through libsndfile (the ``soundfile`` package): FLAC, WAV, Ogg Vorbis, Opus and, with
libsndfile 1.1 or newer, MP3. It seeks to the excerpt and decodes only that, which is what makes a
large library quick. M4A/AAC/ALAC (and anything libsndfile refuses) go through ``ffmpeg`` when it is
installed; without it such a file is skipped and the summary says to install ffmpeg.
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile

from device.audio import resample
from device.errors import AudioError

from .library import FFMPEG_SUFFIXES, read_tags


@dataclass(frozen=True)
class ExcerptSettings:
    """Which part of a track is analysed. Times in seconds."""

    seconds: float = 30.0
    """Length of the excerpt; a shorter track is analysed whole."""
    centre: float = 0.5
    """Where the excerpt's middle lies, as a fraction of the track: the middle skips intros and fades."""


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
