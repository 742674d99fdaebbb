"""The appliance's decisions: events in, actions out; no I/O, no threads, no clock of its own.

The composition root (:mod:`device.app`) turns button presses, recordings, MPD and MQTT news into
:mod:`~device.events`, calls :meth:`Machine.handle` with each one and the time, and carries out the
:mod:`~device.actions` it gets back, in order::

    >>> from device.events import Pressed
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

from . import actions as act
from . import events as ev
from .ranker import Ranker
from .recognition import Recognition, iso_time

STATES = ("idle", "listening", "thinking", "playing", "unsure", "error")


class Machine:
    """What the appliance does next, given what happened.

    ``emotions`` maps each emotion to the MPD playlists to queue for it, in order (the
    ``"emotions"`` of ``playlists.json``). Times are seconds on one monotonic clock, given with
    each event; ``Classified.at`` is wall-clock time, used only for the journal and the history.

    With a :class:`~device.ranker.Ranker`, the playlist that leads for an emotion is the ranker's
    choice among the allowed ones, and every outcome (skipped or stopped within
    ``outcome_seconds``, or still playing after it) is given to it (then :class:`~device.actions.SaveLearning`).
    A ``feel`` command within ``feel_seconds`` of a recognition corrects it.
    """

    def __init__(self, emotions: dict[str, list[str]], *, min_confidence: float = 0.3,
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
        self.pending: act.Play | None = None  # a Play to (re)issue when MPD answers
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
    def handle(self, event: ev.Event, now: float) -> list[act.Action]:
        """Return the actions for ``event`` happening at ``now``; PublishState/ShowPattern when the view changed."""
        self.now = now
        actions = self.HANDLERS[type(event)](self, event)
        view = self.public()
        key = json.dumps(view, sort_keys=True)
        if key != self._published:
            self._published = key
            actions.append(act.PublishState(view))
        if view["state"] != self._shown:
            self._shown = view["state"]
            actions.append(act.ShowPattern(view["state"]))
        return actions

    # ------------------------------------------------------------ helpers
    def _listen(self) -> list[act.Action]:
        self.activity = "listening"
        self.problem = None
        self.reason = None
        self.unsure_until = -math.inf
        self.listen_deadline = self.now + self.max_listen_seconds + 3.0
        actions: list[act.Action] = []
        if self.music:
            self.ducked = True
            actions.append(act.Duck())
        return actions + [act.StartCapture()]

    def _unduck(self) -> list[act.Action]:
        if self.ducked:
            self.ducked = False
            return [act.Restore()]
        return []

    def _cancel(self) -> list[act.Action]:
        """Stop listening/thinking without a result."""
        actions: list[act.Action] = []
        if self.activity == "listening":
            actions.append(act.StopCapture(finish=False))
        self.activity = None
        return actions + self._unduck()

    def _play(self, emotion: str) -> list[act.Action]:
        playlists = self.emotions.get(emotion, ())
        if not self.emotions:
            self.reason = "no playlists map"  # documented: it hears, and plays nothing
            return []
        if not playlists:
            self.problem = f"no playlist for {emotion!r} in the playlists map"
            return []
        if self.ranker is not None:
            playlists = self.ranker.order(emotion, playlists)
        self.pending = act.Play(emotion, playlists)
        self.stop_on_back = False
        # While MPD is unreachable the play waits (PlayerBack issues it): nothing is playing yet.
        self.music = "player" not in self.faults
        self.mood = emotion
        self.playlist = playlists[0]
        return [self.pending]

    def _outcome(self, outcome: str) -> list[act.Action]:
        """A skip or a stop: against the last recognition if it came soon after it (and its playlist)."""
        last, self.last = self.last, None
        if last and last["played"] and self.now - last["mono"] <= self.outcome_seconds:
            return [act.JournalOutcome(last["at"], outcome)] + self._rank(last, kept=False)
        return []

    def _rank(self, last: dict, kept: bool) -> list[act.Action]:
        """Give the ranker the outcome of the playlist playing now for the recognition ``last``."""
        if self.ranker is None or last.get("judged") or not self.playlist:
            return []
        last["judged"] = True
        self.ranker.record(last["emotion"], self.playlist, kept)
        return [act.SaveLearning()]

    def _amend_history(self, last: dict, **changes) -> None:
        """Change the history item of the recognition ``last``, if it is still the newest."""
        if self.history and self.history[0]["at"] == iso_time(last["at"]):
            self.history[0] = {**self.history[0], **changes}

    def _stop(self) -> list[act.Action]:
        actions = self._cancel() + [act.Stop()] + self._outcome("stopped")
        self.music = False
        self.pending = None
        self.resume_on_back = False
        self.stop_on_back = "player" in self.faults
        self.unsure_until = -math.inf
        self.problem = None
        return actions

    # ------------------------------------------------------------ handlers
    def _on_Pressed(self, event: ev.Pressed) -> list[act.Action]:
        if self.activity == "listening":
            return [act.StopCapture(finish=True)]
        if self.activity == "thinking":
            return []
        return self._listen()

    def _on_LongPressed(self, event: ev.LongPressed) -> list[act.Action]:
        return self._stop()

    def _on_UtteranceReady(self, event: ev.UtteranceReady) -> list[act.Action]:
        if self.activity != "listening":
            return []
        self.activity = "thinking"
        return self._unduck() + [act.Classify(event.samples)]

    def _on_Classified(self, event: ev.Classified) -> list[act.Action]:
        if self.activity != "thinking":
            return []
        self.activity = None
        self.emotion, self.confidence = event.emotion, event.confidence
        actions: list[act.Action] = []
        if event.confidence < self.min_confidence:
            self.reason = "low confidence"
            self.unsure_until = self.now + self.result_seconds
            playlist = None
        else:
            actions = self._play(event.emotion)
            playlist = actions[0].playlists[0] if actions else None
        recognition = Recognition(event.at, event.emotion, event.confidence, dict(event.scores), playlist,
                                  event.speech_seconds)
        self.history.appendleft(recognition.history_item())
        self.last = {"at": event.at, "mono": self.now, "played": playlist is not None, "emotion": event.emotion,
                     "scores": dict(event.scores), "heard_at": self.now}
        actions.append(act.JournalRecord(recognition))
        return actions

    def _on_NoSpeechHeard(self, event: ev.NoSpeechHeard) -> list[act.Action]:
        if self.activity not in ("listening", "thinking"):
            return []
        actions = self._cancel()
        self.emotion = self.confidence = None
        self.reason = "no speech"
        self.unsure_until = self.now + self.result_seconds
        return actions

    def _on_ClassifyFailed(self, event: ev.ClassifyFailed) -> list[act.Action]:
        actions = self._cancel()
        self.problem = event.message
        return actions

    def _on_Command(self, event: ev.Command) -> list[act.Action]:
        if event.action == "listen":
            return self._on_Pressed(ev.Pressed())
        if event.action == "stop":
            return self._stop()
        if event.action == "next":
            return [act.Next()] + self._outcome("skipped") if self.music else []
        if event.action == "volume":
            return [act.SetVolume(event.level)]
        if event.action == "feel":
            return self._feel(event.emotion)
        if event.action == "forget":
            return [act.Forget()]
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

    def _feel(self, felt: str) -> list[act.Action]:
        """The listener says what they felt: correct the last recognition and play for that instead."""
        last = self.last
        if not last or self.now - last["heard_at"] > self.feel_seconds:
            self.problem = f"nothing to correct: no recognition in the last {self.feel_seconds:g} s"
            return []
        known = sorted(set(last["scores"]) | set(self.emotions))  # the model's labels (and the map's emotions)
        if felt not in known:
            self.problem = f"cannot feel {felt!r}: not an emotion the model knows ({', '.join(known)})"
            return []
        actions = self._cancel() + [act.JournalCorrection(last["at"], felt), act.Learn(last["scores"], felt)]
        self._amend_history(last, felt=felt)
        self.problem = None
        self.emotion, self.reason, self.unsure_until = felt, "corrected", -math.inf
        played = self._play(felt)
        # The correction's music is judged for the felt emotion from now on; the old music was not its fault.
        self.last = {**last, "emotion": felt, "mono": self.now, "played": bool(played), "judged": False}
        return actions + played

    def _on_PlayerStatus(self, event: ev.PlayerStatus) -> list[act.Action]:
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

    def _on_PlayerLost(self, event: ev.PlayerLost) -> list[act.Action]:
        if "player" not in self.faults:
            self.resume_on_back = self.music
        self.faults["player"] = f"music player unreachable ({event.reason}); retrying"
        self.music = False
        self.volume = None
        return []

    def _on_PlayerVolume(self, event: ev.PlayerVolume) -> list[act.Action]:
        self.volume = event.level
        return []

    def _on_PlayerBack(self, event: ev.PlayerBack) -> list[act.Action]:
        self.faults.pop("player", None)
        resume, self.resume_on_back = self.resume_on_back, False
        stop, self.stop_on_back = self.stop_on_back, False
        if self.pending:
            self.music = True
            return [self.pending]
        if stop:
            return [act.Stop()]
        return [act.Resume()] if resume else []

    def _on_PlayerFailed(self, event: ev.PlayerFailed) -> list[act.Action]:
        self.problem = event.message
        refused, self.pending = self.pending, None
        self.music = False
        last = self.last
        if refused and last and last["played"]:  # the recognition's music never played: the journal says so
            last["played"] = False
            self._amend_history(last, playlist=None)
            return [act.JournalOutcome(last["at"], "refused")]
        return []

    def _on_MicFailed(self, event: ev.MicFailed) -> list[act.Action]:
        actions = self._cancel() if self.activity == "listening" else []
        self.faults["mic"] = event.message
        return actions

    def _on_MicBack(self, event: ev.MicBack) -> list[act.Action]:
        self.faults.pop("mic", None)
        return []

    def _on_Tick(self, event: ev.Tick) -> list[act.Action]:
        if self.activity == "listening" and self.now > self.listen_deadline:
            actions = self._cancel()
            self.problem = "the microphone sent no audio in time"
            return actions
        last = self.last
        if last and last["played"] and self.music and self.now - last["mono"] > self.outcome_seconds:
            return self._rank(last, kept=True)  # listened on: the playlist lifted
        return []

    def _on_Shutdown(self, event: ev.Shutdown) -> list[act.Action]:
        return self._cancel()

    def _on_BrokerBack(self, event: ev.BrokerBack) -> list[act.Action]:
        self._published = None  # a new session of the broker: publish the state again even if unchanged
        return []

    HANDLERS = {
        ev.Pressed: _on_Pressed, ev.LongPressed: _on_LongPressed, ev.UtteranceReady: _on_UtteranceReady,
        ev.Classified: _on_Classified, ev.NoSpeechHeard: _on_NoSpeechHeard, ev.ClassifyFailed: _on_ClassifyFailed,
        ev.Command: _on_Command, ev.PlayerStatus: _on_PlayerStatus, ev.PlayerVolume: _on_PlayerVolume,
        ev.PlayerLost: _on_PlayerLost, ev.PlayerBack: _on_PlayerBack, ev.PlayerFailed: _on_PlayerFailed,
        ev.MicFailed: _on_MicFailed, ev.MicBack: _on_MicBack, ev.BrokerBack: _on_BrokerBack, ev.Tick: _on_Tick,
        ev.Shutdown: _on_Shutdown,
    }
    """The handler of each event type: explicit, so a renamed or new event without one fails loudly."""
