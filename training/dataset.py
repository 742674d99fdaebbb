"""Clips to training examples through the device's own front-end, augmented and in parallel."""

from __future__ import annotations

import logging
import multiprocessing
from dataclasses import dataclass

import numpy as np
from tqdm import tqdm

from device import audio
from device.errors import AudioError, NoSpeech
from device.features import FrontEnd, extract, fit, speech_features

from .augment import Augmenter, add_noise, white
from .corpora import LABELS, Clip

log = logging.getLogger(__name__)

# Read by the forked workers of `examples` (fork shares them without copying).
_shared: dict = {}


@dataclass
class Examples:
    """Variable-length normalised features with their label indices."""

    features: list[np.ndarray]
    labels: np.ndarray

    def __len__(self) -> int:
        return len(self.labels)


def read_all(clips: list[Clip], rate: int) -> tuple[list[Clip], list[np.ndarray]]:
    """Return the readable clips and their samples; an unreadable file is skipped and reported."""
    kept, samples = [], []
    for clip in tqdm(clips, desc="reading", unit="clip", leave=False):
        try:
            samples.append(audio.load(clip.path, rate))
            kept.append(clip)
        except AudioError as exc:
            log.warning("skipped: %s", exc)
    return kept, samples


def _example(task: tuple[int, int, int]) -> np.ndarray | None:
    index, variant, seed = task
    x = _shared["samples"][index]
    if variant:
        x = _shared["augmenter"](x, np.random.default_rng([seed, index, variant]))
    try:
        return speech_features(x, _shared["frontend"])[0]
    except NoSpeech:
        return None


def _pool_map(function, tasks: list, jobs: int, desc: str) -> list:
    if jobs <= 1:
        return [function(t) for t in tqdm(tasks, desc=desc, unit="ex", leave=False)]
    with multiprocessing.get_context("fork").Pool(jobs) as pool:
        return list(tqdm(pool.imap(function, tasks, chunksize=16), total=len(tasks), desc=desc, unit="ex"))


def examples(clips: list[Clip], samples: list[np.ndarray], fe: FrontEnd, copies: int, augmenter: Augmenter,
             seed: int, jobs: int) -> Examples:
    """Return each clip's clean features plus ``copies`` augmented variants of it."""
    _shared.update(samples=samples, frontend=fe, augmenter=augmenter)
    tasks = [(i, v, seed) for i in range(len(clips)) for v in range(copies + 1)]
    feats = _pool_map(_example, tasks, jobs, "features")
    keep = [k for k, f in enumerate(feats) if f is not None]
    if len(keep) < len(feats):
        log.info("%d of %d examples had no speech after augmentation and were dropped", len(feats) - len(keep),
                 len(feats))
    labels = np.array([LABELS.index(clips[tasks[k][0]].label) for k in keep], dtype=np.int32)
    return Examples([feats[k] for k in keep], labels)


def noisy(samples: np.ndarray, snr_db: float, seed: int) -> np.ndarray:
    """Return ``samples`` with white noise at ``snr_db`` over the whole clip (a fixed, seeded draw)."""
    return add_noise(samples, white(len(samples), np.random.default_rng(seed)), snr_db)


def device_windows(samples: list[np.ndarray], fe: FrontEnd) -> list[np.ndarray | None]:
    """Return the device's model input for each recording (None where it hears no speech)."""
    out = []
    for x in samples:
        try:
            out.append(extract(x, fe).windows)
        except NoSpeech:
            out.append(None)
    return out


def random_window(feats: np.ndarray, frames: int, rng: np.random.Generator) -> np.ndarray:
    """Return a (frames, nfilt) window of ``feats`` placed (or cut) at a random offset."""
    slack = abs(frames - len(feats))
    return fit(feats.astype(np.float32), frames, int(rng.integers(slack + 1)))


def spec_augment(window: np.ndarray, rng: np.random.Generator, masks: int = 2) -> np.ndarray:
    """Return ``window`` with ``masks`` random time bands and frequency bands set to zero."""
    w = window.copy()
    frames, bands = w.shape
    for _ in range(masks):
        t, f = rng.integers(0, frames // 10), rng.integers(0, bands // 8)
        t0, f0 = rng.integers(0, frames - t + 1), rng.integers(0, bands - f + 1)
        w[t0 : t0 + t] = 0.0
        w[:, f0 : f0 + f] = 0.0
    return w
