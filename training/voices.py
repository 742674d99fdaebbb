"""The ``listener`` normalisation in training: reference spectra as a box would have them.

On the Pi each utterance is heard relative to a :class:`~device.voice.Voice`: the card's prior at
the utterance's own level before anyone has spoken, the listener's own mean spectrum after a
few dozen utterances, a blend in between. Training draws every example's reference from that
whole range, so the model works from the first press on and gets better as the box settles:

- the listener's mean is that of a random ``subset`` of the speaker's clean clips (an emotional
  mix like any household's, not the corpus's exact balance);
- an augmented copy's reference moves with what the augmentation did to the copy's mean spectrum:
  its random gain, microphone colour, reverberation and noise are the room's, which a box settled
  in that room has in its own mean too (``room="bands"``, every band); ``room="level"`` moves it
  only by the copy's overall level, as a clean reference heard at the room's gain; ``room="mixed"``
  moves it by the level and a random share of the rest, as a box that heard its listener in that
  room only part of the time (the fan was not always on);
- the blend weight is uniform in [0, 1];
- with ``jitter``, the listener's mean is moved up or down by a level drawn uniformly within
  ``± jitter`` dB for every example drawn: the listener speaking nearer the box or further from it
  than usual (a step from 1 m to 2 m is 6 dB), so that how loud an utterance is against its
  speaker's mean counts for less. Corpora disagree on it: angry RAVDESS actors are 10 dB above
  their mean, angry nEMO speakers 2 dB.
"""

from __future__ import annotations

import numpy as np

from device.features import FrontEnd

from .dataset import Examples

NATS_PER_DB = float(np.log(10) / 10)
"""A level step of 1 dB in the log-mel features (natural logs of band energies)."""


def spectra(data: Examples) -> np.ndarray:
    """Return every example's mean spectrum (n, nfilt), float32."""
    return np.stack([f.mean(axis=0, dtype=np.float32) for f in data.features])


def clean_rows(data: Examples) -> np.ndarray:
    """Return, for every example, the row of its clip's clean (first) example."""
    first: dict[int, int] = {}
    for row, clip in enumerate(data.clips):
        first.setdefault(int(clip), row)
    return np.array([first[int(c)] for c in data.clips], dtype=np.int64)


def prior(data: Examples, speakers: np.ndarray) -> tuple[float, ...]:
    """Return the mean speaker's spectral shape over ``data``'s clean examples (zero mean over bands).

    ``speakers`` names the speaker of every clip index. Each speaker weighs the same.
    """
    rows = np.unique(clean_rows(data))
    spec, who = spectra(data)[rows], speakers[data.clips[rows]]
    mean = np.mean([spec[who == s].mean(axis=0) for s in np.unique(who)], axis=0)
    return tuple(float(v) for v in mean - mean.mean())


ROOMS = ("bands", "level", "mixed")
"""How an augmented copy's reference follows the copy: in every band, by its overall level only, or
by its level and a share of its bands drawn uniformly in [0, 1] for every example drawn."""


class References:
    """Draws a reference spectrum for every training example (see the module's docstring)."""

    def __init__(self, data: Examples, speakers: np.ndarray, fe: FrontEnd, seed: int, subset: int = 20,
                 draws: int = 8, room: str = "level", jitter: float = 0.0):
        if room not in ROOMS:
            raise ValueError(f"room {room!r}: use one of {', '.join(ROOMS)}")
        rng = np.random.default_rng(seed)
        spec = spectra(data)
        clean = clean_rows(data)
        self.level = spec.mean(axis=1)
        change = spec - spec[clean]
        self.room_kind, self.change, self.gain = room, change, change.mean(axis=1, keepdims=True)
        self.jitter = jitter * NATS_PER_DB
        self.prior = np.asarray(fe.voice_prior, dtype=np.float32)
        who = speakers[data.clips]
        names = np.unique(who)
        self.speaker = np.searchsorted(names, who)
        self.settled = np.zeros((len(names), spec.shape[1]), dtype=np.float32)
        self.listeners = np.zeros((len(names), draws, spec.shape[1]), dtype=np.float32)
        for k, name in enumerate(names):
            rows = np.unique(clean[who == name])
            self.settled[k] = spec[rows].mean(axis=0)
            for d in range(draws):
                pick = rng.choice(rows, size=min(subset, len(rows)), replace=False)
                self.listeners[k, d] = spec[pick].mean(axis=0)

    def draw(self, rows: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Return a reference (len(rows), nfilt) for examples ``rows``: a random stage of a box's life."""
        listener = self.listeners[self.speaker[rows], rng.integers(self.listeners.shape[1], size=len(rows))]
        listener += self.room(rows, rng)
        cold = self.prior[None] + self.level[rows, None]
        w = rng.uniform(size=(len(rows), 1)).astype(np.float32)
        if self.jitter > 0:
            listener += rng.uniform(-self.jitter, self.jitter, size=(len(rows), 1)).astype(np.float32)
        return w * listener + (1 - w) * cold

    def settle(self, rows: np.ndarray) -> np.ndarray:
        """Return the references of a box that has heard all of each speaker's clips (for int8 calibration)."""
        return self.settled[self.speaker[rows]] + self.room(rows)

    def room(self, rows: np.ndarray, rng: np.random.Generator | None = None) -> np.ndarray:
        """Return how much the room moves examples ``rows``' references (len(rows), nfilt).

        With ``room="mixed"`` the share of the colour is drawn with ``rng``; without one (settling,
        for int8 calibration), it is a half.
        """
        if self.room_kind == "bands":
            return self.change[rows]
        gain = self.gain[rows]
        if self.room_kind == "level":
            return gain
        share = rng.uniform(size=(len(rows), 1)).astype(np.float32) if rng is not None else np.float32(0.5)
        return gain + share * (self.change[rows] - gain)
