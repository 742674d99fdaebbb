"""A teacher that has heard thousands of voices: a pretrained speaker encoder for the student to learn from.

Resemblyzer (Apache-2.0) ships in its wheel a speaker encoder (GE2E, three LSTM layers over
40 mel bands) trained to tell thousands of LibriSpeech and VoxCeleb speakers apart. Its 256-value
embedding of an utterance describes the voice: timbre, breathiness, tension, pitch range. Take away
each speaker's own mean and spread and what is left is how this utterance differs from that
person's usual voice, which is much of what an emotion does to it. A linear classifier on that
rest is the teacher:

1. :func:`embeddings` runs the encoder over every clip once (about 3.5 minutes for 5,500 clips
   on two cores) and keeps the result in the feature cache;
2. :func:`by_speaker` takes each speaker's mean and spread away;
3. :func:`teach` fits the classifier on some speakers and returns its probabilities for the
   others, fold by fold, so every training clip gets the opinion of a teacher that never heard
   its speaker.

The student (the DS-CNN the box runs) then learns from a blend of the label and that opinion
(``--distil``), or learns to tell, from its own pooled features, the encoder's speaker-normalised
embedding itself through a head that is left behind (``--hint``, :func:`lessons`). The encoder
is 1.4 M parameters of LSTM, far over the box's budget: it teaches on the workstation and never
ships. Importing this module needs no PyTorch; only :func:`embeddings` does, when the cache
lacks what it asks for.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .corpora import LABELS, Clip

log = logging.getLogger(__name__)

RATE = 16000
"""The encoder's sample rate."""
SHORTEST = RATE
"""Clips shorter than this many samples are padded with silence (the encoder reads 1.6 s windows)."""
STRENGTH = 0.001
"""The teacher's inverse regularisation C: of 0.001, 0.003 and 0.01 it gave the best
corpus-held-out mean of the teacher alone (0.449, 0.443, 0.433; see docs/speech-model.md)."""
FOLDS = 5


def _encode(samples: list[np.ndarray]) -> np.ndarray:
    """Return the encoder's utterance embedding (n, 256) of each 16 kHz clip in ``samples``."""
    try:
        import torch
        from resemblyzer import VoiceEncoder
        from resemblyzer.audio import normalize_volume
    except ImportError as err:
        raise SystemExit(f"--distil and --hint need the teacher's packages ({err.name} is missing), which "
                         f"`make test` installs into .venv") from err
    torch.set_grad_enabled(False)
    encoder = VoiceEncoder("cpu", verbose=False)
    out = np.empty((len(samples), 256), dtype=np.float32)
    for i, wav in enumerate(samples):
        wav = normalize_volume(np.asarray(wav, dtype=np.float32), -30, increase_only=True)
        out[i] = encoder.embed_utterance(np.pad(wav, (0, max(0, SHORTEST - len(wav)))), rate=2)
        if (i + 1) % 1000 == 0:
            log.info("speaker encoder: %d of %d clips embedded", i + 1, len(samples))
    return out


def embeddings(clips: list[Clip], samples: list[np.ndarray], cache: Path) -> np.ndarray:
    """Return the speaker encoder's embedding (n, 256) of each clip.

    ``cache/voices.npz`` keeps every embedding made so far by clip path and size; only the clips
    it lacks are run through the encoder, and added to it.
    """
    path = Path(cache) / "voices.npz"
    known: dict[str, np.ndarray] = {}
    if path.is_file():
        with np.load(path) as z:
            known = dict(zip(z["keys"].tolist(), z["vectors"], strict=True))
    keys = [f"{c.path.resolve()}|{c.path.stat().st_size}" for c in clips]
    first = {key: i for i, key in reversed(list(enumerate(keys))) if key not in known}
    missing = sorted(first.values())
    if missing:
        log.info("embedding %d clips with the speaker encoder (once; kept in %s)", len(missing), path)
        known.update(zip([keys[i] for i in missing], _encode([samples[i] for i in missing]), strict=True))
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(".partial.npz")
        np.savez(partial, keys=np.array(list(known)), vectors=np.stack(list(known.values())))
        partial.replace(path)
    else:
        log.info("speaker encoder embeddings of %d clips read from %s", len(clips), path)
    return np.stack([known[key] for key in keys])


def by_speaker(vectors: np.ndarray, speakers: np.ndarray) -> np.ndarray:
    """Return ``vectors`` with each speaker's own mean taken away and each value divided by their spread."""
    out = np.empty_like(vectors, dtype=np.float32)
    for who in np.unique(speakers):
        rows = speakers == who
        mine = vectors[rows]
        out[rows] = (mine - mine.mean(axis=0)) / (mine.std(axis=0) + 1e-6)
    return out


def teach(vectors: np.ndarray, labels: np.ndarray, speakers: np.ndarray, seed: int,
          folds: int = FOLDS) -> np.ndarray:
    """Return the teacher's probabilities (n, len(LABELS)) for every row, each from a classifier
    that was fitted on other speakers' rows (speaker-grouped folds).

    ``vectors`` are :func:`by_speaker` embeddings, ``labels`` indices into :data:`LABELS`. A label
    no training fold has gets probability 0.
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import GroupKFold
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    out = np.zeros((len(labels), len(LABELS)), dtype=np.float32)
    split = GroupKFold(n_splits=min(folds, len(np.unique(speakers))), shuffle=True, random_state=seed)
    for train, test in split.split(vectors, labels, speakers):
        model = make_pipeline(StandardScaler(), LogisticRegression(C=STRENGTH, max_iter=3000,
                                                                   class_weight="balanced"))
        model.fit(vectors[train], labels[train])
        out[np.ix_(test, model.classes_)] = model.predict_proba(vectors[test])
    return out


@dataclass
class Lessons:
    """What the teacher gives the student, a row per clip of the clip list (zero for clips outside training)."""

    opinions: np.ndarray | None = None
    """(clips, labels) probabilities, for ``--distil``."""
    voices: np.ndarray | None = None
    """(clips, 256) speaker-normalised embeddings, for ``--hint``."""


def lessons(clips: list[Clip], samples: list[np.ndarray], train: np.ndarray, cache: Path, seed: int,
            distil: bool, hint: bool) -> Lessons:
    """Return the teacher's opinions (``distil``) and speaker-normalised embeddings (``hint``) of
    the ``train`` clips, zero for the others. Each opinion comes from a classifier that never heard
    the clip's speaker nor any clip outside ``train``."""
    speakers = np.array([c.speaker for c in clips])
    vectors = by_speaker(embeddings(clips, samples, cache)[train], speakers[train])
    found = Lessons()
    if distil:
        labels = np.array([LABELS.index(clips[i].label) for i in train])
        found.opinions = np.zeros((len(clips), len(LABELS)), dtype=np.float32)
        found.opinions[train] = teach(vectors, labels, speakers[train], seed)
        log.info("the teacher agrees with the label on %.1f %% of %d training clips",
                 100 * float(np.mean(found.opinions[train].argmax(axis=1) == labels)), len(train))
    if hint:
        found.voices = np.zeros((len(clips), vectors.shape[1]), dtype=np.float32)
        found.voices[train] = vectors
    return found
