"""What can happen to the appliance: the :class:`Event` objects adapters post and the machine handles.

Adapters build them (the panel :class:`Pressed`, the player :class:`PlayerStatus`, ...); the
composition root posts them to its one queue; :meth:`device.machine.Machine.handle` decides.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


class Event:
    """Something that happened; the machine decides what to do about it."""


@dataclass(frozen=True)
class Pressed(Event):
    """A short press of the button: listen, or finish listening (the MQTT ``listen`` command does the same)."""


@dataclass(frozen=True)
class LongPressed(Event):
    """The button was held: stop."""


@dataclass(frozen=True, eq=False)
class UtteranceReady(Event):
    """The microphone's recording has ended; ``samples`` are mono float32 at the model's rate."""

    samples: Any


@dataclass(frozen=True)
class Classified(Event):
    """The model's answer for the last utterance; ``at`` is the wall-clock time (epoch seconds)."""

    emotion: str
    confidence: float
    scores: dict[str, float] = field(default_factory=dict)
    speech_seconds: float = 0.0
    at: float = 0.0


@dataclass(frozen=True)
class NoSpeechHeard(Event):
    """The recording held no speech."""


@dataclass(frozen=True)
class ClassifyFailed(Event):
    """The recognizer could not classify the utterance; ``message`` says why (shown as the error)."""

    message: str


@dataclass(frozen=True)
class Command(Event):
    """A command from MQTT, already checked by :func:`device.commands.parse_command`."""

    action: str
    emotion: str | None = None
    level: int | None = None


@dataclass(frozen=True)
class PlayerStatus(Event):
    """MPD's playback changed: ``playing`` or not, and the playlist the current song belongs to."""

    playing: bool
    playlist: str | None = None


@dataclass(frozen=True)
class PlayerVolume(Event):
    """MPD's volume changed (0-100; while ducked, the level it goes back to); None: MPD has no mixer."""

    level: int | None


@dataclass(frozen=True)
class PlayerLost(Event):
    """MPD cannot be reached; the player retries with backoff and sends :class:`PlayerBack`."""

    reason: str


@dataclass(frozen=True)
class PlayerBack(Event):
    """MPD answers again."""


@dataclass(frozen=True)
class PlayerFailed(Event):
    """MPD refused a command (e.g. no such playlist); not retried."""

    message: str


@dataclass(frozen=True)
class MicFailed(Event):
    """The microphone is missing or failed; the mic adapter retries and sends :class:`MicBack`."""

    message: str


@dataclass(frozen=True)
class MicBack(Event):
    """The microphone works again."""


@dataclass(frozen=True)
class BrokerBack(Event):
    """(Re)connected to the MQTT broker: the retained state must be published again."""


@dataclass(frozen=True)
class Tick(Event):
    """Time passes (the loop sends one about twice a second)."""


@dataclass(frozen=True)
class Shutdown(Event):
    """The daemon is stopping (SIGTERM)."""
