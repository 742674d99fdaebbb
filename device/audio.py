"""Decode audio files into mono float32 samples at the front-end's rate."""

from __future__ import annotations

from math import gcd
from pathlib import Path

import numpy as np
import soundfile
from scipy.signal import resample_poly

from .errors import AudioError

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


def load(path: str | Path, rate: int = 16000) -> np.ndarray:
    """Return the audio file at ``path`` as mono float32 samples in [-1, 1] at ``rate`` Hz.

    Reads whatever libsndfile reads (WAV, FLAC, OGG/Vorbis, Opus, MP3 on recent builds), at any
    sample rate, mono or multichannel.

    >>> load("samples/03-01-05-02-02-01-17.flac").shape    # 3.6 s at 16 kHz
    (58192,)

    Raises :class:`~device.errors.AudioError` naming the file when it cannot be read.
    """
    try:
        samples, file_rate = soundfile.read(str(path), dtype="float32", always_2d=False)
    except Exception as exc:  # libsndfile raises several types; all mean "cannot read".
        raise AudioError(f"cannot read audio file {path}: {exc}") from None
    if samples.size == 0:
        raise AudioError(f"audio file {path} holds no samples")
    return resample(to_mono(samples), file_rate, rate)
