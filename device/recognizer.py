"""From a recording to an emotion: end-point, front-end, model, with the time each step took."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np

from . import audio, circumplex
from . import card as cards
from .errors import EmotuneError
from .features import STRETCH, dynamics, extract, spectrum, speech_features
from .model import EmotionModel
from .voice import Voice

log = logging.getLogger(__name__)

MAX_FILE_SECONDS = 30.0
"""How much of a file :meth:`Recognizer.classify_file` reads: at 48 kHz stereo about 12 MB."""


@dataclass(frozen=True)
class Prediction:
    """The emotion heard in one utterance."""

    emotion: str
    confidence: float
    """Probability of ``emotion``, in [0, 1]."""
    scores: dict[str, float]
    """Probability of every label."""
    speech_seconds: float
    features_ms: float
    inference_ms: float

    @property
    def total_ms(self) -> float:
        return self.features_ms + self.inference_ms

    @cached_property
    def place(self) -> circumplex.Point:
        """The speaker's place on the circumplex: the expected place of :attr:`scores`."""
        return circumplex.place(self.scores)

    @property
    def arousal(self) -> float:
        """The speaker's arousal in [-1, 1] (from :attr:`place`)."""
        return self.place.arousal

    @property
    def valence(self) -> float:
        """The speaker's valence in [-1, 1] (from :attr:`place`)."""
        return self.place.valence

    def to_dict(self) -> dict:
        return {
            "emotion": self.emotion,
            "confidence": round(self.confidence, 4),
            "arousal": round(self.arousal, 4),
            "valence": round(self.valence, 4),
            "scores": {k: round(v, 4) for k, v in self.scores.items()},
            "speech_seconds": round(self.speech_seconds, 3),
            "latency_ms": {
                "features": round(self.features_ms, 2),
                "inference": round(self.inference_ms, 2),
                "total": round(self.total_ms, 2),
            },
        }


class Recognizer:
    """Classifies the emotion of speech with a model and its card.

    With a card whose front-end uses ``listener`` normalisation, a ``listening`` recognizer (the
    daemon's) keeps a :class:`~device.voice.Voice` of whoever it hears: each utterance is heard
    relative to it and then taken into it. Otherwise (``classify`` on files) every recording is
    heard as a box's first press, or, after :meth:`settle`, relative to one fixed voice taken from a
    set of recordings. With a ``balance``, the answers are balanced against the voice's usual answer
    (:meth:`~device.voice.Voice.balance`). With a ``stretch``, the model hears each utterance three
    times, as spoken and with its spectrum stretched by ``1 - stretch`` and ``1 + stretch``
    (:func:`~device.features.stretched`), and the answer is the mean.

    >>> recognizer = Recognizer()                       # the shipped model
    >>> recognizer.classify_file("samples/03-01-02-02-01-01-18.flac").emotion   # actor 18, acted calm
    'calm'
    """

    def __init__(self, card_path: str | Path = cards.DEFAULT_CARD, threads: int = 1, *, listening: bool = False,
                 balance: float = 0.0, stretch: float = STRETCH):
        self.card = cards.load(card_path)
        self.model = EmotionModel(self.card, threads=threads)
        fe = self.card.frontend
        self.listening = listening
        self.voice: Voice | None = fe.voice() if listening and fe.listener else None
        """The listener's voice this recognizer keeps (None: it keeps none)."""
        self.balance = balance
        """The share of the listener's usual answer taken off each answer (:meth:`Voice.balance`; 0: the
        model's scores as they are)."""
        self.stretch = stretch
        """How far each utterance's spectrum is also stretched both ways for the model (0: heard once)."""

    def settle(self, paths: Iterable[str | Path]) -> int:
        """Hear the recordings at ``paths`` as one listener's and keep that voice for every recording
        classified from now on (fixed, unless this recognizer is ``listening``); return how many of
        them held speech.

        A set of recordings from one person, microphone or room is heard as a box that has settled
        on them, whatever their order; with a :attr:`balance`, the model's answers to all of them
        (relative to that voice) are its usual answer, so the set is read twice. A recording that
        cannot be read or holds no speech is left out here and reported when it is classified.
        Does nothing (returns 0) for a card whose front-end has no ``listener`` normalisation.
        """
        fe = self.card.frontend
        if not fe.listener:
            return 0
        # One canonical order: a mean's last bit depends on the order it is summed in, and an
        # int8 model can turn that bit into a visible difference.
        paths, spectra, moves = sorted(paths, key=str), [], []
        for path in paths:
            try:
                feats = speech_features(self._read(path), fe)[0]
            except EmotuneError:
                continue
            spectra.append(spectrum(feats))
            moves.append(dynamics(feats))
        self.voice = fe.voice()
        self.voice.hear_all(spectra, moves)
        if self.balance:
            self.voice.answer_all([a for a in map(self._answer, paths) if a is not None])
        return len(spectra)

    def _answer(self, path: str | Path) -> np.ndarray | None:
        """Return the model's own scores for the recording at ``path`` (None: unreadable or no speech)."""
        try:
            return self.model.answer(extract(self._read(path), self.card.frontend, self.voice), self.stretch)
        except EmotuneError:
            return None

    @property
    def sample_rate(self) -> int:
        return self.card.frontend.sample_rate

    @property
    def labels(self) -> tuple[str, ...]:
        return self.card.labels

    def classify(self, samples: np.ndarray) -> Prediction:
        """Return the emotion in mono float32 ``samples`` at :attr:`sample_rate`.

        Raises :class:`~device.errors.NoSpeech` when there is no speech in them.
        """
        t0 = time.perf_counter()
        utterance = extract(samples, self.card.frontend, self.voice)
        t1 = time.perf_counter()
        scores = self.model.answer(utterance, self.stretch)
        t2 = time.perf_counter()
        if self.voice is not None:
            answer, scores = scores, self.voice.balance(scores, self.balance)
            if self.listening:
                self.voice.hear(utterance.spectrum, utterance.dynamics)
                self.voice.answer(answer)
        best = int(np.argmax(scores))
        return Prediction(
            emotion=self.card.labels[best],
            confidence=float(scores[best]),
            scores={label: float(s) for label, s in zip(self.card.labels, scores, strict=True)},
            speech_seconds=utterance.segment.seconds,
            features_ms=(t1 - t0) * 1000.0,
            inference_ms=(t2 - t1) * 1000.0,
        )

    def classify_file(self, path: str | Path) -> Prediction:
        """Return the emotion in the audio file at ``path`` (any rate, mono or stereo).

        Only its first :data:`MAX_FILE_SECONDS` are read (an utterance is a few seconds; the model
        looks at most at ``max_windows`` windows of it), so memory is bounded whatever the file's length.
        """
        samples = self._read(path)
        if len(samples) >= MAX_FILE_SECONDS * self.sample_rate:
            log.warning("%s is longer than %gs: only its first %gs were classified", path, MAX_FILE_SECONDS,
                        MAX_FILE_SECONDS)
        return self.classify(samples)

    def _read(self, path: str | Path) -> np.ndarray:
        return audio.load(path, self.sample_rate, max_seconds=MAX_FILE_SECONDS)
