"""What the appliance can be asked to do: the :class:`Action` objects the machine returns.

The composition root (:meth:`device.app.App._do`) carries each one out with one adapter.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .recognition import Recognition


class Action:
    """Something the composition root must do."""


@dataclass(frozen=True)
class StartCapture(Action):
    """Start recording an utterance; the microphone answers with UtteranceReady or MicFailed."""


@dataclass(frozen=True)
class StopCapture(Action):
    """Stop recording: ``finish`` = deliver what was heard so far, else throw it away."""

    finish: bool


@dataclass(frozen=True, eq=False)
class Classify(Action):
    """Classify ``samples`` (the utterance); the recognizer answers with Classified, NoSpeechHeard or ClassifyFailed."""

    samples: Any


@dataclass(frozen=True)
class Play(Action):
    """Clear MPD's queue, queue ``playlists`` in order and start playing."""

    emotion: str
    playlists: tuple[str, ...]


@dataclass(frozen=True)
class Resume(Action):
    """Play MPD's queue as it is (after MPD came back)."""


@dataclass(frozen=True)
class Stop(Action):
    """Stop the music."""


@dataclass(frozen=True)
class Next(Action):
    """Skip to the next song."""


@dataclass(frozen=True)
class SetVolume(Action):
    """Set MPD's volume to ``level`` (0-100)."""

    level: int


@dataclass(frozen=True)
class Duck(Action):
    """Lower the music while the microphone listens."""


@dataclass(frozen=True)
class Restore(Action):
    """Put the volume back after :class:`Duck`."""


@dataclass(frozen=True)
class PublishState(Action):
    """Publish ``state`` (:meth:`device.machine.Machine.public`) as the retained MQTT state."""

    state: dict


@dataclass(frozen=True)
class ShowPattern(Action):
    """Show a state on the LED: one of :data:`device.machine.STATES`."""

    pattern: str


@dataclass(frozen=True)
class JournalRecord(Action):
    """Append ``recognition`` to the journal; its ``at`` identifies it later."""

    recognition: Recognition


@dataclass(frozen=True)
class Learn(Action):
    """The listener corrected a recognition: the model gave ``scores``, they felt ``emotion``."""

    scores: dict[str, float]
    emotion: str


@dataclass(frozen=True)
class Forget(Action):
    """Drop everything learnt (corrections, playlist outcomes): back to the shipped model and the map."""


@dataclass(frozen=True)
class SaveLearning(Action):
    """What the ranker learnt changed: store it."""


@dataclass(frozen=True)
class JournalCorrection(Action):
    """The listener said they felt ``felt`` at the recognition made at ``at``."""

    at: float
    felt: str


@dataclass(frozen=True)
class JournalOutcome(Action):
    """The user skipped or stopped the music soon after the recognition made at ``at``."""

    at: float
    outcome: str
