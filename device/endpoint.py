"""Speech end-pointing: find where the speech starts and stops in a recording.

The detector is energy based and adapts to the recording: it takes the noise floor as a low
percentile of the frame energies and the speech level as a high one, and calls a frame speech when
it is well above the floor and not far below the peak. A steady hum raises the floor with it, so a
quiet room is not mistaken for a voice; a recording whose loud frames are barely above its quiet
ones holds no speech at all.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class EndpointParams:
    """How speech is told from silence. Levels are in dB, times in seconds."""

    frame_seconds: float = 0.02
    """Length of the non-overlapping frames whose energy is measured."""
    floor_percentile: float = 10.0
    """Percentile of frame energies taken as the background (noise floor)."""
    peak_percentile: float = 99.0
    """Percentile of frame energies taken as the speech peak (robust to a single click)."""
    remove_dc: bool = True
    """Measure each frame's energy around its own mean: a DC offset (some microphones and recordings
    have one; SAVEE's neutral clips sit at +0.04) otherwise fills the quiet frames and hides the speech."""
    smooth_frames: int = 5
    """Energies are averaged over this many frames first, so a lone click is not speech."""
    above_floor_db: float = 6.0
    """A speech frame is at least this far above the floor..."""
    below_peak_db: float = 30.0
    """...and no more than this far below the peak."""
    min_dynamic_db: float = 12.0
    """Peak minus floor below this means the recording holds no speech."""
    silence_dbfs: float = -65.0
    """A peak quieter than this (dB full scale) is silence, whatever the dynamics."""
    min_speech_seconds: float = 0.3
    """Shorter than this is a click or a cough, not speech."""
    pad_seconds: float = 0.1
    """Kept before the first and after the last speech frame."""

    def to_dict(self) -> dict:
        return dict(self.__dict__)


@dataclass(frozen=True)
class Segment:
    """Where the speech lies in a recording, as sample indices ``[start, end)``."""

    start: int
    end: int
    rate: int

    @property
    def seconds(self) -> float:
        return (self.end - self.start) / self.rate

    def cut(self, samples: np.ndarray) -> np.ndarray:
        """Return the speech part of ``samples``."""
        return samples[self.start : self.end]


def frame_energies_db(samples: np.ndarray, frame: int, remove_dc: bool = False) -> np.ndarray:
    """Return the energy in dB full scale of each whole ``frame``-sample frame of ``samples``
    (with ``remove_dc``, of its deviation from the frame's mean)."""
    n = len(samples) // frame
    frames = samples[: n * frame].reshape(n, frame).astype(np.float64)
    if remove_dc:
        frames = frames - frames.mean(axis=1, keepdims=True)
    return 10.0 * np.log10(np.mean(frames * frames, axis=1) + 1e-12)


def smooth(energy: np.ndarray, frames: int) -> np.ndarray:
    """Return ``energy`` (dB) averaged in power over a centred window of ``frames`` frames."""
    if frames <= 1 or len(energy) < frames:
        return energy
    power = np.convolve(10.0 ** (energy / 10.0), np.ones(frames) / frames, mode="same")
    return 10.0 * np.log10(power + 1e-12)


def find_speech(samples: np.ndarray, rate: int, params: EndpointParams = EndpointParams()) -> Segment | None:
    """Return the :class:`Segment` holding the speech in mono ``samples``, or None if there is none."""
    frame = max(1, int(round(params.frame_seconds * rate)))
    energy = smooth(frame_energies_db(samples, frame, params.remove_dc), params.smooth_frames)
    if len(energy) == 0:
        return None
    floor = np.percentile(energy, params.floor_percentile)
    peak = np.percentile(energy, params.peak_percentile)
    if peak < params.silence_dbfs or peak - floor < params.min_dynamic_db:
        return None
    threshold = max(floor + params.above_floor_db, peak - params.below_peak_db)
    active = np.flatnonzero(energy > threshold)
    pad = int(round(params.pad_seconds * rate))
    start = max(0, int(active[0]) * frame - pad)
    end = min(len(samples), (int(active[-1]) + 1) * frame + pad)
    if (end - start) - 2 * pad < params.min_speech_seconds * rate:
        return None
    return Segment(start, end, rate)
