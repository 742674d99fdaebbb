"""The composition root: builds the adapters from the settings and runs the one loop that drives them.

Callbacks from PortAudio, gpiozero, paho and the MPD watcher only :meth:`App.post` events to one
queue; :meth:`App.run` takes them one at a time, asks the :class:`~device.machine.Machine` what to
do and carries out its actions. Nothing an adapter or an action raises stops the loop.

::

    app = App(config.load("/etc/emotune/emotune.toml"))
    app.run()             # returns 0 after app.stop() (SIGTERM in ``python -m device run``)

(``script/demo.py`` runs it against a private MPD and broker; ``tests/test_app.py`` too.)
"""

from __future__ import annotations

import logging
import queue
import sqlite3
import threading
import time
from collections.abc import Callable

from . import actions as act
from . import events as ev
from . import playlist_map
from .config import Settings
from .discovery import payloads
from .errors import EmotuneError, NoSpeech
from .events import Event, Shutdown, Tick
from .journal import Journal
from .learning import Learning
from .machine import Machine
from .mic import Mic
from .mqtt import Mqtt
from .notify import Notifier
from .panel import Panel
from .player import Player

log = logging.getLogger(__name__)

TICK_SECONDS = 0.5


class App:
    """The appliance: adapters, the machine and the loop between them.

    ``recognizer`` (anything with ``classify(samples)``, ``sample_rate`` and ``labels``), ``pin_factory`` and
    ``notifier`` can be given (tests, demo); by default they come from the settings. ``on_state`` is
    called (in the loop's thread) with every state the appliance publishes: the demo prints them.
    """

    def __init__(self, settings: Settings, *, recognizer=None, pin_factory=None, notifier: Notifier | None = None,
                 on_state: Callable[[dict], None] | None = None):
        self.settings = settings
        # SimpleQueue: its put() is reentrant, so the SIGTERM handler may post to it safely.
        self.events: queue.SimpleQueue[Event] = queue.SimpleQueue()
        if recognizer is None:
            from .recognizer import Recognizer

            recognizer = Recognizer(settings.model.path, listening=settings.learning.enabled,
                                    balance=settings.learning.balance, stretch=settings.model.stretch)
        self.recognizer = recognizer
        self.emotions = playlist_map.load(settings.playlists.map)
        self.journal = Journal(settings.journal.path) if settings.journal.path else None
        self.learning = (Learning.of(settings, tuple(recognizer.labels), voice=getattr(recognizer, "voice", None))
                         if settings.learning.enabled else None)
        history = self._history()
        self.machine = Machine(self.emotions, min_confidence=settings.model.min_confidence,
                               max_listen_seconds=settings.audio.max_seconds,
                               outcome_seconds=settings.journal.outcome_seconds, history=history,
                               ranker=self.learning.ranker if self.learning else None,
                               feel_seconds=settings.learning.feel_seconds)
        self.player = Player(settings.mpd, self.post)
        self.mic = Mic(settings.audio, self.post, rate=recognizer.sample_rate)
        self.panel = Panel(settings.gpio, self.post, pin_factory=pin_factory)
        discovery = payloads(settings.mqtt, sorted(self.emotions), recognizer.labels)
        self.mqtt = Mqtt(settings.mqtt, self.post, discovery=discovery) if settings.mqtt.enabled else None
        self.notifier = notifier or Notifier()
        self.state: dict = {}
        self.on_state = on_state
        self.running = threading.Event()
        self._stopping = threading.Event()

    def _history(self, n: int = 5) -> list[dict]:
        """The journal's last ``n`` recognitions, for the state's ``history`` (the loop reopens the file)."""
        if self.journal is None:
            return []
        try:
            with self.journal:
                return self.journal.recent(n)
        except (sqlite3.Error, OSError) as exc:
            log.error("cannot read the journal %s: %s; starting without history", self.journal.path, exc)
            return []

    def post(self, event: Event) -> None:
        """Hand an event to the loop (any thread)."""
        self.events.put(event)

    def stop(self) -> None:
        """Ask the loop to finish (any thread, or a signal handler)."""
        self._stopping.set()
        self.events.put(Shutdown())

    # ------------------------------------------------------------ the loop
    def run(self) -> int:
        """Start the adapters, loop until :meth:`stop`, close everything; return the exit status (0)."""
        adapters = [a for a in (self.player, self.mic, self.panel, self.mqtt) if a is not None]
        try:
            for adapter in adapters:
                adapter.start()
            self._handle(Tick())
            self.notifier.ready(f"listening for the button on GPIO{self.settings.gpio.button_pin}")
            self.running.set()
            log.info("emotune is running (%s)", self.settings.source or "default settings")
            self._loop()
        finally:
            self.notifier.stopping()
            for adapter in reversed(adapters):
                try:
                    adapter.close()
                except Exception:
                    log.exception("closing %s failed", type(adapter).__name__)
            if self.journal:
                self.journal.close()
            self.notifier.close()
            self.running.clear()
            log.info("emotune stopped")
        return 0

    def _loop(self) -> None:
        last_tick = last_feed = time.monotonic()
        feed = self.notifier.watchdog_seconds
        wait = min(TICK_SECONDS, feed) if feed else TICK_SECONDS  # a quiet loop still feeds the watchdog in time
        while True:
            try:
                event = self.events.get(timeout=wait)
            except queue.Empty:
                event = Tick()
            self._handle(event)
            now = time.monotonic()
            if now - last_tick >= TICK_SECONDS and not isinstance(event, Tick):
                self._handle(Tick())
                last_tick = now
            if feed and now - last_feed >= feed:
                self.notifier.watchdog()
                last_feed = now
            if isinstance(event, Shutdown):
                return

    def _handle(self, event: Event) -> None:
        try:
            actions = self.machine.handle(event, time.monotonic())
        except Exception:
            log.exception("the state machine failed on %r", event)
            return
        for action in actions:
            try:
                self._do(action)
            except Exception:
                log.exception("action %r failed", action)

    # ------------------------------------------------------------ actions
    def _do(self, action: act.Action) -> None:
        match action:
            case act.StartCapture():
                self.mic.start_capture()
            case act.StopCapture(finish=finish):
                self.mic.stop_capture(finish)
            case act.Classify(samples=samples):
                self._classify(samples)
            case act.Play(playlists=playlists):
                self.player.play(playlists)
            case act.Resume():
                self.player.resume()
            case act.Stop():
                self.player.stop()
            case act.Next():
                self.player.next()
            case act.SetVolume(level=level):
                self.player.set_volume(level)
            case act.Duck():
                self.player.duck()
            case act.Restore():
                self.player.restore()
            case act.PublishState(state=state):
                self._publish(state)
            case act.ShowPattern(pattern=pattern):
                self.panel.show(pattern)
            case act.JournalRecord(recognition=recognition) if self.journal:
                self.journal.record(recognition)
            case act.JournalOutcome(at=at, outcome=outcome) if self.journal:
                self.journal.mark(at, outcome)
            case act.JournalCorrection(at=at, felt=felt) if self.journal:
                self.journal.correct(at, felt)
            case act.Learn(scores=scores, emotion=emotion) if self.learning:
                self.learning.calibration.learn(scores, emotion)
                self.learning.save()
                log.info("learnt a correction: %s (%d so far; the calibration is %s)", emotion,
                         len(self.learning.calibration.corrections), self.learning.calibration.status())
            case act.SaveLearning() if self.learning:
                self.learning.save()
            case act.Forget() if self.learning:
                self.learning.forget()

    def _classify(self, samples) -> None:
        try:
            p = self.recognizer.classify(samples)
        except NoSpeech:
            log.info("heard no speech")
            self.post(ev.NoSpeechHeard())
            return
        except (EmotuneError, ValueError) as exc:
            log.error("classification failed: %s", exc)
            self.post(ev.ClassifyFailed(f"classification failed: {exc}"))
            return
        emotion, confidence = p.emotion, p.confidence
        if self.learning and self.learning.voice is not None:  # it heard one more utterance
            self.learning.save()
        if self.learning and self.learning.calibration.active:  # the household's calibration decides
            calibrated = self.learning.calibration.apply(p.scores)
            emotion = max(calibrated, key=calibrated.get)
            confidence = calibrated[emotion]
        log.info("heard %s (%.0f%%%s) in %.1fs of speech, %.0f ms", emotion, 100 * confidence,
                 f", the model alone: {p.emotion}" if emotion != p.emotion else "", p.speech_seconds, p.total_ms)
        # The journal and corrections keep the model's own scores: calibration is always refit from them.
        self.post(ev.Classified(emotion, confidence, dict(p.scores), p.speech_seconds, at=time.time()))

    def _publish(self, state: dict) -> None:
        before, self.state = self.state, state
        if before.get("state") != state["state"] or before.get("error") != state["error"]:
            detail = [f"{k} {state[k]}" for k in ("emotion", "confidence", "playlist", "reason", "error") if state[k]]
            log.log(logging.WARNING if state["state"] == "error" else logging.INFO, "state: %s%s", state["state"],
                    f" ({', '.join(detail)})" if detail else "")
        if self.on_state:
            self.on_state(state)
        if self.mqtt:
            self.mqtt.publish_state(state)
