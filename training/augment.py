"""Waveform augmentation for the room the box lives in: noise, reverberation, gain, speed, tone.

Every function takes and returns mono float32 samples at 16 kHz and draws from the ``rng`` it is
given, so a seed reproduces a training set exactly.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.signal import fftconvolve, lfilter, resample_poly

RATE = 16000


def power(x: np.ndarray) -> float:
    """Return the mean power of ``x`` over the whole recording."""
    return float(np.mean(np.square(x, dtype=np.float64))) + 1e-12


def white(n: int, rng: np.random.Generator) -> np.ndarray:
    return rng.standard_normal(n).astype(np.float32)


def pink(n: int, rng: np.random.Generator) -> np.ndarray:
    """Return ``n`` samples of 1/f noise, shaped in the frequency domain."""
    spectrum = np.fft.rfft(rng.standard_normal(n))
    spectrum /= np.sqrt(np.maximum(np.arange(len(spectrum)), 1))
    return np.fft.irfft(spectrum, n).astype(np.float32)


def babble(n: int, rng: np.random.Generator, voices: list[np.ndarray]) -> np.ndarray:
    """Return ``n`` samples of several of ``voices`` talking at once, each looped and shifted."""
    out = np.zeros(n, dtype=np.float32)
    for i in rng.choice(len(voices), size=min(len(voices), rng.integers(3, 7)), replace=False):
        v = voices[i] / np.sqrt(power(voices[i]))
        out += np.roll(np.resize(v, n), rng.integers(n))
    return out


def add_noise(x: np.ndarray, noise: np.ndarray, snr_db: float) -> np.ndarray:
    """Return ``x`` plus ``noise`` scaled so that signal-to-noise over the whole clip is ``snr_db``."""
    scale = np.sqrt(power(x) / (power(noise) * 10.0 ** (snr_db / 10.0)))
    return (x + scale * noise).astype(np.float32)


def room_impulse(rt60: float, rng: np.random.Generator, rate: int = RATE) -> np.ndarray:
    """Return a synthetic room impulse response: a direct path and an exponentially decaying tail."""
    n = int(rt60 * rate)
    t = np.arange(n) / rate
    tail = rng.standard_normal(n) * np.exp(-6.9 * t / rt60)  # -60 dB at rt60
    tail[: int(0.003 * rate)] = 0.0
    h = 0.6 * tail / np.sqrt(np.sum(tail**2))
    h[0] = 1.0
    return h.astype(np.float32)


def reverb(x: np.ndarray, rt60: float, rng: np.random.Generator) -> np.ndarray:
    return fftconvolve(x, room_impulse(rt60, rng))[: len(x)].astype(np.float32)


def speed(x: np.ndarray, factor: float) -> np.ndarray:
    """Return ``x`` played ``factor`` times faster (pitch moves with it), to the nearest 1 %."""
    up = int(round(100 / factor))
    return resample_poly(x, up, 100).astype(np.float32)


def tilt(x: np.ndarray, amount: float) -> np.ndarray:
    """Return ``x`` through a first-order filter: a cheap microphone of another colour."""
    return lfilter([1.0, -amount], [1.0], x).astype(np.float32)


@dataclass(frozen=True)
class Augmenter:
    """Draws one random chain of augmentations per call. Probabilities per step, ranges inclusive."""

    voices: tuple[np.ndarray, ...] = ()
    """Clean training utterances to build babble from (never held-out speakers)."""
    p_noise: float = 0.8
    snr_db: tuple[float, float] = (0.0, 30.0)
    p_reverb: float = 0.4
    rt60: tuple[float, float] = (0.15, 0.7)
    p_speed: float = 0.5
    speed: tuple[float, float] = (0.92, 1.08)
    p_tilt: float = 0.4
    gain_db: tuple[float, float] = (-20.0, 6.0)

    def __call__(self, x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        if rng.random() < self.p_speed:
            x = speed(x, rng.uniform(*self.speed))
        if rng.random() < self.p_tilt:
            x = tilt(x, rng.uniform(-0.7, 0.9))
        if rng.random() < self.p_reverb:
            x = reverb(x, rng.uniform(*self.rt60), rng)
        if rng.random() < self.p_noise:
            kinds = ["white", "pink", "babble"] if self.voices else ["white", "pink"]
            kind = kinds[rng.integers(len(kinds))]
            noise = babble(len(x), rng, list(self.voices)) if kind == "babble" else (
                white(len(x), rng) if kind == "white" else pink(len(x), rng))
            x = add_noise(x, noise, rng.uniform(*self.snr_db))
        x = x * np.float32(10.0 ** (rng.uniform(*self.gain_db) / 20.0))
        return np.clip(x, -1.0, 1.0).astype(np.float32)
