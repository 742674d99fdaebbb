"""Decode audio files into mono float32 samples at the front-end's rate."""

from __future__ import annotations

import logging
import os
import stat
import struct
from math import gcd
from pathlib import Path

import numpy as np
import soundfile
from scipy.signal import resample_poly

from .errors import AudioError

log = logging.getLogger(__name__)

SUFFIXES = frozenset({".flac", ".wav", ".ogg", ".oga", ".opus", ".mp3", ".aif", ".aiff"})
"""The file name suffixes (lower case) of what :func:`load` reads through libsndfile."""


def to_mono(samples: np.ndarray) -> np.ndarray:
    """Return ``samples`` ((n,) or (n, channels)) averaged down to one float32 channel."""
    samples = np.asarray(samples, dtype=np.float32)
    return samples.mean(axis=1, dtype=np.float32) if samples.ndim == 2 else samples


def resample(samples: np.ndarray, rate: int, target: int) -> np.ndarray:
    """Return mono ``samples`` taken at ``rate`` Hz resampled to ``target`` Hz (polyphase)."""
    if rate == target:
        return np.asarray(samples, dtype=np.float32)
    g = gcd(int(rate), int(target))
    return resample_poly(samples, target // g, rate // g).astype(np.float32)


def load(path: str | Path, rate: int = 16000, max_seconds: float | None = None) -> np.ndarray:
    """Return the audio file at ``path`` as mono float32 samples in [-1, 1] at ``rate`` Hz.

    Reads whatever libsndfile reads (WAV, FLAC, OGG/Vorbis, Opus, MP3 on recent builds), at any
    sample rate, mono or multichannel. With ``max_seconds`` only the file's beginning is read, so
    memory stays bounded (about ``max_seconds`` × rate × channels × 8 bytes) whatever its length.

    >>> load("samples/03-01-05-02-02-01-17.flac").shape    # 3.6 s at 16 kHz
    (58192,)

    Raises :class:`~device.errors.AudioError` naming the file when it cannot be read: it is
    missing, not a regular file (a folder, a FIFO: never opened, so never waited on), or not audio.
    A WAV file shorter than its header says is read with a warning that it is truncated.
    """
    _check_regular(path)
    try:
        with soundfile.SoundFile(str(path)) as f:
            frames = f.frames if max_seconds is None else min(f.frames, int(max_seconds * f.samplerate))
            samples, file_rate = f.read(frames, dtype="float32", always_2d=False), f.samplerate
    except Exception as exc:  # libsndfile raises several types; all mean "cannot read".
        raise AudioError(f"cannot read audio file {path}: {exc}") from None
    if samples.size == 0:
        raise AudioError(f"audio file {path} holds no samples")
    _warn_if_truncated(path)
    return resample(to_mono(samples), file_rate, rate)


def _check_regular(path: str | Path) -> None:
    try:
        mode = os.stat(path).st_mode
    except OSError as exc:
        raise AudioError(f"cannot read audio file {path}: {exc.strerror or exc}") from None
    if stat.S_ISDIR(mode):
        raise AudioError(f"{path} is a folder, not an audio file")
    if not stat.S_ISREG(mode):
        raise AudioError(f"{path} is not a regular file (a FIFO, socket or device): give a recording")


def _warn_if_truncated(path: str | Path) -> None:
    """Log a warning when ``path`` is a RIFF/WAVE file whose data chunk runs past the file's end."""
    try:
        with open(path, "rb") as f:
            head = f.read(65536)
            size = os.fstat(f.fileno()).st_size
    except OSError:
        return
    if head[:4] != b"RIFF" or head[8:12] != b"WAVE":
        return
    at = 12
    while at + 8 <= len(head):
        chunk, length = head[at:at + 4], struct.unpack_from("<I", head, at + 4)[0]
        if chunk == b"data":
            if at + 8 + length > size:
                log.warning("%s is truncated: its header promises %d bytes of audio, the file holds %d",
                            path, length, size - at - 8)
            return
        at += 8 + length + (length & 1)
