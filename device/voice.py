"""What the box knows of its listener's voice: the mean log-mel spectrum of the speech it has heard.

A voice, a microphone and a room each colour the log-mel spectrum by a fixed amount per band.
With the card's ``listener`` normalisation the model hears each frame *minus a reference
spectrum*: how this utterance differs from the way this listener usually sounds through this
microphone (louder, brighter, duller), not from the way the actors of the training corpora sounded.
Within a speaker that difference is what carries arousal; across corpora the absolute spectrum
mostly carries who spoke and where.

Before the box has heard anybody the reference is the card's prior (the mean training speaker's
spectral shape) at this utterance's own level; every utterance heard moves it towards the
listener's own mean, with weight ``heard / (heard + prior_weight)``. The mean forgets slowly
(it follows the last ``horizon`` utterances or so), so a box moved to another room follows.
Only these 64 numbers and a count are kept, never audio.

>>> import numpy as np
>>> voice = Voice(prior=np.zeros(3))
>>> voice.reference(np.array([1.0, 2.0, 3.0])).tolist()   # nothing heard yet: the prior at this level
[2.0, 2.0, 2.0]
>>> voice.hear(np.array([4.0, 4.0, 1.0]))
>>> [round(float(v), 2) for v in voice.reference(np.array([1.0, 2.0, 3.0]))]   # 1/6 of the way there
[2.33, 2.33, 1.83]
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np


class Voice:
    """The running reference spectrum of one box's listener(s)."""

    def __init__(self, prior: np.ndarray, prior_weight: float = 5.0, horizon: int = 50):
        self.prior = np.asarray(prior, dtype=np.float32)
        self.prior_weight = float(prior_weight)
        self.horizon = int(horizon)
        self.mean: np.ndarray | None = None
        self.heard = 0

    def reference(self, spectrum: np.ndarray) -> np.ndarray:
        """Return the spectrum to subtract from the frames of an utterance whose mean spectrum is ``spectrum``."""
        cold = self.prior + np.float32(np.mean(spectrum))
        if self.mean is None:
            return cold.astype(np.float32)
        w = self.heard / (self.heard + self.prior_weight)
        return (w * self.mean + (1.0 - w) * cold).astype(np.float32)

    def hear(self, spectrum: np.ndarray) -> None:
        """Take an utterance's mean spectrum into the listener's mean (a running, slowly forgetting mean)."""
        spectrum = np.asarray(spectrum, dtype=np.float32)
        self.heard = min(self.heard + 1, self.horizon)
        self.mean = spectrum.copy() if self.mean is None else self.mean + (spectrum - self.mean) / self.heard

    def hear_all(self, spectra: list[np.ndarray]) -> None:
        """Take many utterances at once, in no order: their plain mean, weighed as ``len(spectra)``
        utterances (at most ``horizon``). Nothing heard before counts any more."""
        if not spectra:
            self.forget()
            return
        self.mean = np.mean(np.asarray(spectra, dtype=np.float32), axis=0)
        self.heard = min(len(spectra), self.horizon)

    def forget(self) -> None:
        """Back to the prior: as if nothing had been heard."""
        self.mean, self.heard = None, 0

    def to_dict(self) -> dict:
        return {"heard": self.heard, "mean": None if self.mean is None else [round(float(v), 4) for v in self.mean]}

    def load(self, data: Mapping) -> None:
        """Restore what :meth:`to_dict` wrote; raises ValueError if it does not fit this prior."""
        mean = data.get("mean")
        heard = int(data.get("heard", 0))
        if mean is None:
            self.forget()
            return
        mean = np.asarray(mean, dtype=np.float32)
        if mean.shape != self.prior.shape or not np.all(np.isfinite(mean)) or not 0 < heard <= self.horizon:
            raise ValueError(f"voice: expected {len(self.prior)} finite band levels and 1..{self.horizon} heard")
        self.mean, self.heard = mean, heard
