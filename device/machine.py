"""The appliance's decisions: events in, actions out; no I/O, no threads, no clock of its own.

The composition root (:mod:`device.app`) turns button presses, recordings, MPD and MQTT news into
:class:`Event` objects, calls :meth:`Machine.handle` with each one and the time, and carries out the
:class:`Action` objects it gets back, in order::

    >>> m = Machine({"calm": ["evening"]}, min_confidence=0.4)
    >>> [type(a).__name__ for a in m.handle(Pressed(), now=0.0)]
    ['StartCapture', 'PublishState', 'ShowPattern']

The published ``state`` is one of ``idle, listening, thinking, playing, unsure, error``; see
:meth:`Machine.public`.
"""

from __future__ import annotations

import json
import math
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from .errors import CommandError
from .ranker import Ranker

STATES = ("idle", "listening", "thinking", "playing", "unsure", "error")


# ---------------------------------------------------------------- events
class Event:
    """Something that happened; the machine decides what to do about it."""


@dataclass(frozen=True)
class Pressed(Event):
    """A short press of the button (or the MQTT ``listen`` command): listen, or finish listening."""

    source: str = "button"


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
    message: str


@dataclass(frozen=True)
class Command(Event):
    """A command from MQTT, already checked by :func:`parse_command`."""

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


# ---------------------------------------------------------------- actions
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
    pass


@dataclass(frozen=True)
class Next(Action):
    pass


@dataclass(frozen=True)
class SetVolume(Action):
    level: int


@dataclass(frozen=True)
class Duck(Action):
    """Lower the music while the microphone listens."""


@dataclass(frozen=True)
class Restore(Action):
    """Put the volume back after :class:`Duck`."""


@dataclass(frozen=True)
class PublishState(Action):
    state: dict


@dataclass(frozen=True)
class ShowPattern(Action):
    """Show a state on the LED: one of :data:`STATES`."""

    pattern: str


@dataclass(frozen=True)
class JournalRecord(Action):
    """Append a recognition to the journal; ``at`` identifies it later."""

    at: float
    emotion: str
    confidence: float
    scores: dict[str, float]
    playlist: str | None
    speech_seconds: float


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


# ---------------------------------------------------------------- commands
ACTIONS = ("listen", "play", "stop", "next", "volume", "feel", "forget")
MAX_COMMAND_BYTES = 4096


def parse_command(payload: bytes | str) -> Command:
    """Return the :class:`Command` in an MQTT payload, or raise :class:`CommandError` saying why not.

    >>> parse_command(b'{"action": "volume", "level": 40}')
    Command(action='volume', emotion=None, level=40)
    """
    if len(payload) > MAX_COMMAND_BYTES:
        raise CommandError(f"command too long ({len(payload)} bytes)")
    try:
        data = json.loads(payload)
    except (ValueError, RecursionError):
        raise CommandError(f"command is not JSON: {payload[:80]!r}") from None
    if not isinstance(data, dict):
        raise CommandError("command must be a JSON object like {\"action\": \"listen\"}")
    action = data.get("action")
    if action not in ACTIONS:
        raise CommandError(f"unknown action {str(action)[:40]!r} (known: {', '.join(ACTIONS)})")
    if action in ("play", "feel"):
        emotion = data.get("emotion")
        if not isinstance(emotion, str) or not emotion or len(emotion) > 40:
            raise CommandError(f'"{action}" needs "emotion", e.g. {{"action": "{action}", "emotion": "calm"}}')
        return Command(action, emotion=emotion)
    if action == "volume":
        level = data.get("level")
        if isinstance(level, bool) or not isinstance(level, int | float) or not math.isfinite(level) \
                or not 0 <= level <= 100:
            raise CommandError('"volume" needs "level" from 0 to 100')
        return Command("volume", level=int(round(level)))
    return Command(action)


# ---------------------------------------------------------------- the machine
def iso_time(at: float) -> str:
    return datetime.fromtimestamp(at, UTC).isoformat(timespec="seconds")


def history_item(at: float, emotion: str, confidence: float, playlist: str | None, felt: str | None = None) -> dict:
    """One item of the state's ``history``: when (ISO 8601, UTC), what was heard, how sure, what it played.

    ``felt`` (only when the listener corrected it): what they said they felt.
    """
    item = {"at": iso_time(at), "emotion": emotion, "confidence": round(confidence, 3), "playlist": playlist}
    return {**item, "felt": felt} if felt else item


class Machine:
    """What the appliance does next, given what happened.

    ``emotions`` maps each emotion to the MPD playlists to queue for it, in order (the
    ``"emotions"`` of ``playlists.json``). Times are seconds on one monotonic clock, given with
    each event; ``Classified.at`` is wall-clock time, used only for the journal and the history.

    With a :class:`~device.ranker.Ranker`, the playlist that leads for an emotion is the ranker's
    choice among the allowed ones, and every outcome (skipped or stopped within
    ``outcome_seconds``, or still playing after it) is given to it (then :class:`SaveLearning`).
    A ``feel`` command within ``feel_seconds`` of a recognition corrects it.
    """

    def __init__(self, emotions: dict[str, list[str]], *, min_confidence: float = 0.4,
                 max_listen_seconds: float = 8.0, result_seconds: float = 10.0,
                 outcome_seconds: float = 60.0, history: list[dict] = (), history_size: int = 5,
                 ranker: Ranker | None = None, feel_seconds: float = 300.0):
        self.emotions = {e: tuple(p) for e, p in emotions.items()}
        self.min_confidence = min_confidence
        self.max_listen_seconds = max_listen_seconds
        self.result_seconds = result_seconds
        self.outcome_seconds = outcome_seconds
        self.ranker = ranker
        self.feel_seconds = feel_seconds
        self.history: deque[dict] = deque(history, maxlen=history_size)
        self.now = 0.0
        self.activity: str | None = None  # "listening" or "thinking"
        self.listen_deadline = math.inf
        self.ducked = False
        self.music = False
        self.emotion: str | None = None
        self.confidence: float | None = None
        self.reason: str | None = None
        self.playlist: str | None = None
        self.mood: str | None = None  # the emotion whose playlists were queued last
        self.volume: int | None = None  # MPD's, as the player last reported it
        self.unsure_until = -math.inf
        self.faults: dict[str, str] = {}  # "player"/"mic" -> message, until they come back
        self.problem: str | None = None  # the last action's failure, until the next press
        self.pending: Play | None = None  # a Play to (re)issue when MPD answers
        self.resume_on_back = False
        self.stop_on_back = False  # a stop MPD could not hear: say it again when MPD is back
        self.last: dict | None = None  # the last recognition: for outcomes and corrections
        self._published: tuple | None = None
        self._shown: str | None = None

    # ------------------------------------------------------------ public view
    @property
    def state(self) -> str:
        if self.activity:
            return self.activity
        if self.faults or self.problem:
            return "error"
        if self.now < self.unsure_until:
            return "unsure"
        return "playing" if self.music else "idle"

    @property
    def error(self) -> str | None:
        messages = list(self.faults.values()) + ([self.problem] if self.problem else [])
        return "; ".join(messages) or None

    def public(self) -> dict:
        """The retained MQTT state: state, emotion, confidence, playlist, mood, volume, error, reason, history.

        ``mood`` is the emotion whose playlists play (None when nothing plays); ``volume`` is MPD's
        (None until the player has said, or while MPD is unreachable). With a ranker, ``lifts``
        says per emotion what it learnt (``{"sad": "calm-bright kept 4 of 5 times; ..."}``).
        """
        view = {
            "state": self.state,
            "emotion": self.emotion,
            "confidence": None if self.confidence is None else round(self.confidence, 3),
            "playlist": self.playlist if self.music else None,
            "mood": self.mood if self.music else None,
            "volume": self.volume,
            "error": self.error,
            "reason": self.reason,
            "history": list(self.history),
        }
        if self.ranker is not None:
            view["lifts"] = self.ranker.summary()
        return view

    # ------------------------------------------------------------ dispatch
    def handle(self, event: Event, now: float) -> list[Action]:
        """Return the actions for ``event`` happening at ``now``; PublishState/ShowPattern when the view changed."""
        self.now = now
        handler = getattr(self, "_on_" + type(event).__name__, None)
        actions = handler(event) if handler else []
        if isinstance(event, BrokerBack):
            self._published = None
        view = self.public()
        key = json.dumps(view, sort_keys=True)
        if key != self._published:
            self._published = key
            actions.append(PublishState(view))
        if view["state"] != self._shown:
            self._shown = view["state"]
            actions.append(ShowPattern(view["state"]))
        return actions

    # ------------------------------------------------------------ helpers
    def _listen(self) -> list[Action]:
        self.activity = "listening"
        self.problem = None
        self.reason = None
        self.unsure_until = -math.inf
        self.listen_deadline = self.now + self.max_listen_seconds + 3.0
        actions: list[Action] = []
        if self.music:
            self.ducked = True
            actions.append(Duck())
        return actions + [StartCapture()]

    def _unduck(self) -> list[Action]:
        if self.ducked:
            self.ducked = False
            return [Restore()]
        return []

    def _cancel(self) -> list[Action]:
        """Stop listening/thinking without a result."""
        actions: list[Action] = []
        if self.activity == "listening":
            actions.append(StopCapture(finish=False))
        self.activity = None
        return actions + self._unduck()

    def _play(self, emotion: str) -> list[Action]:
        playlists = self.emotions.get(emotion, ())
        if self.ranker is not None:
            playlists = self.ranker.order(emotion, playlists)
        if not self.emotions:
            self.reason = "no playlists map"  # documented: it hears, and plays nothing
            return []
        if not playlists:
            self.problem = f"no playlist for {emotion!r} in the playlists map"
            return []
        self.pending = Play(emotion, playlists)
        self.stop_on_back = False
        # While MPD is unreachable the play waits (PlayerBack issues it): nothing is playing yet.
        self.music = "player" not in self.faults
        self.mood = emotion
        self.playlist = playlists[0]
        return [self.pending]

    def _outcome(self, outcome: str) -> list[Action]:
        """A skip or a stop: against the last recognition if it came soon after it (and its playlist)."""
        last, self.last = self.last, None
        if last and last["played"] and self.now - last["mono"] <= self.outcome_seconds:
            return [JournalOutcome(last["at"], outcome)] + self._rank(last, kept=False)
        return []

    def _rank(self, last: dict, kept: bool) -> list[Action]:
        """Give the ranker the outcome of the playlist playing now for the recognition ``last``."""
        if self.ranker is None or last.get("judged") or not self.playlist:
            return []
        last["judged"] = True
        self.ranker.record(last["emotion"], self.playlist, kept)
        return [SaveLearning()]

    def _stop(self) -> list[Action]:
        actions = self._cancel() + [Stop()] + self._outcome("stopped")
        self.music = False
        self.pending = None
        self.resume_on_back = False
        self.stop_on_back = "player" in self.faults
        self.unsure_until = -math.inf
        self.problem = None
        return actions

    # ------------------------------------------------------------ handlers
    def _on_Pressed(self, event: Pressed) -> list[Action]:
        if self.activity == "listening":
            return [StopCapture(finish=True)]
        if self.activity == "thinking":
            return []
        return self._listen()

    def _on_LongPressed(self, event: LongPressed) -> list[Action]:
        return self._stop()

    def _on_UtteranceReady(self, event: UtteranceReady) -> list[Action]:
        if self.activity != "listening":
            return []
        self.activity = "thinking"
        return self._unduck() + [Classify(event.samples)]

    def _on_Classified(self, event: Classified) -> list[Action]:
        if self.activity != "thinking":
            return []
        self.activity = None
        self.emotion, self.confidence = event.emotion, event.confidence
        actions: list[Action] = []
        if event.confidence < self.min_confidence:
            self.reason = "low confidence"
            self.unsure_until = self.now + self.result_seconds
            playlist = None
        else:
            actions = self._play(event.emotion)
            playlist = actions[0].playlists[0] if actions else None
        self.history.appendleft(history_item(event.at, event.emotion, event.confidence, playlist))
        self.last = {"at": event.at, "mono": self.now, "played": playlist is not None, "emotion": event.emotion,
                     "scores": dict(event.scores), "heard_at": self.now}
        actions.append(JournalRecord(event.at, event.emotion, event.confidence, dict(event.scores),
                                     playlist, event.speech_seconds))
        return actions

    def _on_NoSpeechHeard(self, event: NoSpeechHeard) -> list[Action]:
        if self.activity not in ("listening", "thinking"):
            return []
        actions = self._cancel()
        self.emotion = self.confidence = None
        self.reason = "no speech"
        self.unsure_until = self.now + self.result_seconds
        return actions

    def _on_ClassifyFailed(self, event: ClassifyFailed) -> list[Action]:
        actions = self._cancel()
        self.problem = event.message
        return actions

    def _on_Command(self, event: Command) -> list[Action]:
        if event.action == "listen":
            return self._on_Pressed(Pressed("mqtt"))
        if event.action == "stop":
            return self._stop()
        if event.action == "next":
            return [Next()] + self._outcome("skipped") if self.music else []
        if event.action == "volume":
            return [SetVolume(event.level)]
        if event.action == "feel":
            return self._feel(event.emotion)
        if event.action == "forget":
            return [Forget()]
        if event.action == "play":
            if event.emotion not in self.emotions:
                known = ", ".join(sorted(self.emotions)) or "none: there is no playlists map"
                self.problem = f"cannot play {event.emotion!r}: no such mood (known: {known})"
                return []
            actions = self._cancel()
            self.problem = None
            self.last = None  # the music no longer comes from the last recognition: its outcome is not this
            self.emotion, self.confidence, self.reason = event.emotion, None, "chosen"
            self.unsure_until = -math.inf
            return actions + self._play(event.emotion)
        return []

    def _feel(self, felt: str) -> list[Action]:
        """The listener says what they felt: correct the last recognition and play for that instead."""
        last = self.last
        if not last or "scores" not in last or self.now - last["heard_at"] > self.feel_seconds:
            self.problem = f"nothing to correct: no recognition in the last {self.feel_seconds:g} s"
            return []
        known = sorted(set(last["scores"]) | set(self.emotions))  # the model's labels (and the map's emotions)
        if felt not in known:
            self.problem = f"cannot feel {felt!r}: not an emotion the model knows ({', '.join(known)})"
            return []
        actions = self._cancel() + [JournalCorrection(last["at"], felt), Learn(last["scores"], felt)]
        if self.history and self.history[0]["at"] == iso_time(last["at"]):
            self.history[0] = {**self.history[0], "felt": felt}
        self.problem = None
        self.emotion, self.reason, self.unsure_until = felt, "corrected", -math.inf
        played = self._play(felt)
        # The correction's music is judged for the felt emotion from now on; the old music was not its fault.
        self.last = {**last, "emotion": felt, "mono": self.now, "played": bool(played), "judged": False}
        return actions + played

    def _on_PlayerStatus(self, event: PlayerStatus) -> list[Action]:
        if self.pending and (not event.playing or event.playlist not in self.pending.playlists):
            # News from before the new queue played (cleared on the way, or the old music still
            # going): only a status naming one of the new playlists confirms it. A failed play
            # comes as PlayerFailed or PlayerLost instead.
            return []
        self.music = event.playing
        if event.playing:
            self.pending = None
            self.playlist = event.playlist or self.playlist
        return []

    def _on_PlayerLost(self, event: PlayerLost) -> list[Action]:
        if "player" not in self.faults:
            self.resume_on_back = self.music
        self.faults["player"] = f"music player unreachable ({event.reason}); retrying"
        self.music = False
        self.volume = None
        return []

    def _on_PlayerVolume(self, event: PlayerVolume) -> list[Action]:
        self.volume = event.level
        return []

    def _on_PlayerBack(self, event: PlayerBack) -> list[Action]:
        self.faults.pop("player", None)
        resume, self.resume_on_back = self.resume_on_back, False
        stop, self.stop_on_back = self.stop_on_back, False
        if self.pending:
            self.music = True
            return [self.pending]
        if stop:
            return [Stop()]
        return [Resume()] if resume else []

    def _on_PlayerFailed(self, event: PlayerFailed) -> list[Action]:
        self.problem = event.message
        refused, self.pending = self.pending, None
        self.music = False
        last = self.last
        if refused and last and last["played"]:  # the recognition's music never played: the journal says so
            last["played"] = False
            if self.history and self.history[0]["at"] == iso_time(last["at"]):
                self.history[0] = {**self.history[0], "playlist": None}
            return [JournalOutcome(last["at"], "refused")]
        return []

    def _on_MicFailed(self, event: MicFailed) -> list[Action]:
        actions = self._cancel() if self.activity == "listening" else []
        self.faults["mic"] = event.message
        return actions

    def _on_MicBack(self, event: MicBack) -> list[Action]:
        self.faults.pop("mic", None)
        return []

    def _on_Tick(self, event: Tick) -> list[Action]:
        if self.activity == "listening" and self.now > self.listen_deadline:
            actions = self._cancel()
            self.problem = "the microphone sent no audio in time"
            return actions
        last = self.last
        if last and last["played"] and self.music and self.now - last["mono"] > self.outcome_seconds:
            return self._rank(last, kept=True)  # listened on: the playlist lifted
        return []

    def _on_Shutdown(self, event: Shutdown) -> list[Action]:
        return self._cancel()
