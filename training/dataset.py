"""Clips to training examples through the device's own front-end, augmented and in parallel."""

from __future__ import annotations

import hashlib
import json
import logging
import multiprocessing
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np
from tqdm import tqdm

from device import audio
from device.errors import AudioError, NoSpeech
from device.features import FrontEnd, Utterance, extract, fit, speech_features
from device.voice import Voice

from .augment import Augmenter, add_noise, white
from .corpora import LABELS, Clip

log = logging.getLogger(__name__)

# Read by the forked workers of `examples` (fork shares them without copying).
_shared: dict = {}


@dataclass
class Examples:
    """Variable-length normalised features with their label indices and the clip each came from."""

    features: list[np.ndarray]
    labels: np.ndarray
    clips: np.ndarray
    """Index of each example's clip in the list it was made from."""
    groups: np.ndarray
    """Each example's corpus, as an index into ``sorted`` corpus names (for sampling weights)."""

    def __len__(self) -> int:
        return len(self.labels)

    def take(self, keep: np.ndarray) -> Examples:
        """Return the examples whose clip index is in ``keep``."""
        rows = np.flatnonzero(np.isin(self.clips, keep))
        return Examples([self.features[i] for i in rows], self.labels[rows], self.clips[rows], self.groups[rows])


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
        augment = _shared["augmenters"][_shared["corpora"][index]]
        x = augment(x, np.random.default_rng([seed, index, variant]))
    try:
        return speech_features(x, _shared["frontend"])[0]
    except NoSpeech:
        return None


def _pool_map(function, tasks: list, jobs: int, desc: str) -> list:
    if jobs <= 1:
        return [function(t) for t in tqdm(tasks, desc=desc, unit="ex", leave=False)]
    with multiprocessing.get_context("fork").Pool(jobs) as pool:
        return list(tqdm(pool.imap(function, tasks, chunksize=16), total=len(tasks), desc=desc, unit="ex"))


def augmenters(clips: list[Clip], samples: list[np.ndarray], exclude: set[str] = frozenset(),
               voices: int = 200, chain: Augmenter = Augmenter()) -> dict[str, Augmenter]:
    """Return an :class:`Augmenter` per corpus, like ``chain``, whose babble is other utterances of that corpus.

    Babble voices never come from the speakers in ``exclude`` (those held out of any validation
    run), nor from another corpus, so no fold ever hears a held-out voice, even as noise.
    """
    out = {}
    for name in sorted({c.corpus for c in clips}):
        pool = [x for c, x in zip(clips, samples, strict=True) if c.corpus == name and c.speaker not in exclude]
        out[name] = replace(chain, voices=tuple(pool[:: max(1, len(pool) // voices)]))
    return out


def chain_key(chain: Augmenter) -> dict:
    """Return ``chain``'s settings (without its voices) for a cache key: other settings, other features."""
    return {k: v for k, v in asdict(chain).items() if k != "voices"}


def examples(clips: list[Clip], samples: list[np.ndarray], fe: FrontEnd, copies: int,
             augment: dict[str, Augmenter], seed: int, jobs: int) -> Examples:
    """Return each clip's clean features plus ``copies`` augmented variants of it (``augment`` by corpus)."""
    names = sorted({c.corpus for c in clips})
    _shared.update(samples=samples, frontend=fe, augmenters=augment, corpora=[c.corpus for c in clips])
    tasks = [(i, v, seed) for i in range(len(clips)) for v in range(copies + 1)]
    feats = _pool_map(_example, tasks, jobs, "features")
    keep = [k for k, f in enumerate(feats) if f is not None]
    if len(keep) < len(feats):
        log.info("%d of %d examples had no speech after augmentation and were dropped", len(feats) - len(keep),
                 len(feats))
    index = np.array([tasks[k][0] for k in keep], dtype=np.int32)
    labels = np.array([LABELS.index(clips[i].label) for i in index], dtype=np.int32)
    groups = np.array([names.index(clips[i].corpus) for i in index], dtype=np.int32)
    return Examples([feats[k].astype(np.float16) for k in keep], labels, index, groups)


def cached(folder: Path, key: dict, make: Callable[[], Examples]) -> Examples:
    """Return the examples stored in ``folder`` under ``key``, or ``make()`` them and store them there."""
    digest = hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:16]
    path = Path(folder) / f"examples-{digest}.npz"
    if path.is_file():
        with np.load(path) as z:
            bounds = np.cumsum(z["lengths"])[:-1]
            log.info("examples read from %s", path)
            return Examples(np.split(z["features"], bounds), z["labels"], z["clips"], z["groups"])
    data = make()
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial.npz")
    np.savez(partial, features=np.concatenate(data.features), lengths=[len(f) for f in data.features],
             labels=data.labels, clips=data.clips, groups=data.groups)
    partial.replace(path)
    return data


def noisy(samples: np.ndarray, snr_db: float, seed: int) -> np.ndarray:
    """Return ``samples`` with white noise at ``snr_db`` over the whole clip (a fixed, seeded draw)."""
    return add_noise(samples, white(len(samples), np.random.default_rng(seed)), snr_db)


def device_utterances(samples: list[np.ndarray], fe: FrontEnd,
                      speakers: list[str] | None = None) -> list[Utterance | None]:
    """Return what the device makes of each recording (None where it hears no speech).

    With ``listener`` normalisation and ``speakers`` given, each recording is heard relative to
    its speaker's settled :class:`~device.voice.Voice` (one that has heard every recording of that
    speaker here, in no order); without ``speakers``, to a fresh one (a box's first press).
    """
    voices = settled_voices(samples, fe, speakers) if fe.listener and speakers is not None else {}
    out = []
    for x, who in zip(samples, speakers or [None] * len(samples), strict=True):
        try:
            out.append(extract(x, fe, voices.get(who)))
        except NoSpeech:
            out.append(None)
    return out


def device_windows(samples: list[np.ndarray], fe: FrontEnd,
                   speakers: list[str] | None = None) -> list[np.ndarray | None]:
    """Return the device's model input for each recording (None where it hears no speech), heard
    as :func:`device_utterances` hears it."""
    return [None if u is None else u.windows for u in device_utterances(samples, fe, speakers)]


def settled_voices(samples: list[np.ndarray], fe: FrontEnd, speakers: list[str]) -> dict[str, Voice]:
    """Return each speaker's :class:`~device.voice.Voice` after hearing all their recordings at once
    (:meth:`~device.voice.Voice.hear_all`: the corpora list a speaker's clips emotion by emotion, and a
    running mean heard in that order would lean to the last emotions)."""
    heard: dict[str, list[Utterance]] = {who: [] for who in speakers}
    for x, who in zip(samples, speakers, strict=True):
        try:
            heard[who].append(extract(x, fe))
        except NoSpeech:
            pass
    voices = {who: fe.voice() for who in heard}
    for who, utterances in heard.items():
        voices[who].hear_all([u.spectrum for u in utterances], [u.dynamics for u in utterances])
    return voices


def random_window(feats: np.ndarray, frames: int, rng: np.random.Generator) -> np.ndarray:
    """Return a (frames, nfilt) window of ``feats`` placed (or cut) at a random offset."""
    slack = abs(frames - len(feats))
    return fit(feats.astype(np.float32), frames, int(rng.integers(slack + 1)))


CROP_FRAMES = 50
"""The shortest stretch :func:`random_crop` cuts: half a second, about one word."""


def random_crop(feats: np.ndarray, rng: np.random.Generator, shortest: int = CROP_FRAMES) -> np.ndarray:
    """Return a random stretch of ``feats``'s frames, between ``shortest`` and all of them long
    (all of them where there are no more than ``shortest``)."""
    if len(feats) <= shortest:
        return feats
    length = int(rng.integers(shortest, len(feats) + 1))
    start = int(rng.integers(len(feats) - length + 1))
    return feats[start : start + length]


def retimed(feats: np.ndarray, rate: float) -> np.ndarray:
    """Return ``feats`` as if said ``rate`` times as fast, the spectrum of every moment unchanged:
    ``len(feats) / rate`` frames (at least one), each band linearly interpolated along time.

    >>> retimed(np.array([[0.0], [2.0], [4.0]]), 0.6)[:, 0].tolist()   # three frames said slower: five
    [0.0, 1.0, 2.0, 3.0, 4.0]
    """
    frames = max(1, round(len(feats) / rate))
    at = np.linspace(0.0, len(feats) - 1.0, frames)
    below = np.floor(at).astype(int)
    above = np.minimum(below + 1, len(feats) - 1)
    share = (at - below)[:, None]
    return ((1.0 - share) * feats[below] + share * feats[above]).astype(np.float32)


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
