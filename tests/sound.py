"""Small synthetic sounds for the front-end tests: tones, hum, a voice-like buzz, silence."""

import numpy as np

RATE = 16000


def tone(seconds: float, freq: float = 220.0, level: float = 0.3, rate: int = RATE) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    return (level * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def voice(seconds: float, rate: int = RATE, seed: int = 0) -> np.ndarray:
    """A buzz with harmonics and a syllable-rate envelope: loud, varying, speech-like energy."""
    t = np.arange(int(seconds * rate)) / rate
    f0 = 140 + 30 * np.sin(2 * np.pi * 0.7 * t)
    phase = 2 * np.pi * np.cumsum(f0) / rate
    buzz = sum(np.sin(k * phase) / k for k in range(1, 12))
    envelope = 0.5 + 0.5 * np.sin(2 * np.pi * 4.0 * t) ** 2
    noise = np.random.default_rng(seed).standard_normal(len(t)) * 0.01
    return (0.2 * buzz * envelope + noise).astype(np.float32)


def silence(seconds: float, rate: int = RATE) -> np.ndarray:
    return np.zeros(int(seconds * rate), dtype=np.float32)


def hum(seconds: float, level: float = 0.003, rate: int = RATE, seed: int = 1) -> np.ndarray:
    """A quiet mains hum with a little hiss, as a room with a fridge sounds."""
    noise = np.random.default_rng(seed).standard_normal(int(seconds * rate)) * level / 10
    return (tone(seconds, 50.0, level, rate) + tone(seconds, 100.0, level / 2, rate) + noise).astype(np.float32)
