"""The whole appliance in a test: a tiny music library, settings for real servers, the daemon in a thread.

- :func:`library` writes long silent-ish tones, one ``.m3u`` per playlist and a ``playlists.json``
  whose map gives every label of the shipped model two playlists (``<emotion>-a``, ``<emotion>-b``).
- :func:`settings_for` builds :class:`~device.config.Settings` pointing at a real ``MpdServer`` and
  ``Mosquitto`` (either may be None: not running / MQTT off).
- :class:`Appliance` runs :class:`~device.app.App` in a thread with gpiozero's MockFactory pins and
  presses its button; :class:`Heard` wraps the real recognizer and keeps what it answered.
- :func:`confident_files` picks the ``samples/`` the shipped model itself classifies confidently.

Every wait has a timeout and fails naming what did not happen.
"""

from __future__ import annotations

import functools
import json
import threading
from pathlib import Path

from device import card as cards
from device.app import App
from device.config import (
    AudioSettings,
    GpioSettings,
    JournalSettings,
    LearningSettings,
    ModelSettings,
    MpdSettings,
    MqttSettings,
    PlaylistSettings,
    Settings,
)
from device.recognizer import Recognizer
from script.servers import wait_until
from tests.helpers import Recorder, write_tone

DEVICE_ID = "test"
BASE = f"emotune/{DEVICE_ID}"
TRACKS = 4


def labels() -> tuple[str, ...]:
    return tuple(cards.load(cards.DEFAULT_CARD).labels)


def library(root: Path) -> tuple[Path, Path, Path, dict[str, list[str]]]:
    """Write ``(music_dir, playlist_dir, playlists.json, emotion map)`` under ``root``.

    The tracks last two minutes so that MPD is still playing when a test looks.
    """
    music_dir, playlist_dir = root / "music", root / "playlists"
    for i in range(TRACKS):
        write_tone(music_dir / f"t{i}.wav", 110.0 * (i + 2), seconds=120.0, rate=8000)
    playlist_dir.mkdir(parents=True, exist_ok=True)
    emotions = {}
    for i, emotion in enumerate(labels()):
        names = [f"{emotion}-a", f"{emotion}-b"]
        for j, name in enumerate(names):
            (playlist_dir / f"{name}.m3u").write_text(f"t{(i + j) % TRACKS}.wav\n")
        emotions[emotion] = names
    map_path = root / "playlists.json"
    map_path.write_text(json.dumps({"emotions": emotions}))
    return music_dir, playlist_dir, map_path, emotions


def tracks_of(playlist_dir: Path, names: list[str]) -> list[str]:
    """The files the playlists ``names`` queue, in order."""
    return [line for name in names for line in (playlist_dir / f"{name}.m3u").read_text().split()]


def settings_for(mpd_server, broker, map_path: Path, input_file: Path | str, journal: Path | str = "", *,
                 mpd_port: int | None = None, learning: LearningSettings = LearningSettings(enabled=False),
                 **audio) -> Settings:
    """Settings for the appliance against these servers; ``broker=None`` turns MQTT off.

    Learning is off unless ``learning`` turns it on: the ranker would otherwise choose the leading
    playlist by chance, and most tests check that the map's first one plays.
    """
    mqtt = MqttSettings(enabled=False) if broker is None else \
        MqttSettings(host=broker.host, port=broker.port, device_id=DEVICE_ID, keepalive=5)
    return Settings(
        mpd=MpdSettings(host="127.0.0.1", port=mpd_port or mpd_server.port, timeout=3.0),
        mqtt=mqtt,
        audio=AudioSettings(input_file=str(input_file), **{"input_speed": 0, "max_seconds": 6.0, **audio}),
        gpio=GpioSettings(mock=True, bounce_seconds=0, long_press_seconds=0.3),
        model=ModelSettings(min_confidence=0.4),
        playlists=PlaylistSettings(map=str(map_path)),
        journal=JournalSettings(path=str(journal)),
        learning=learning,
        source="test",
    )


class Heard:
    """The real :class:`Recognizer`, keeping every :class:`Prediction` it made (thread-safe)."""

    def __init__(self, recognizer: Recognizer):
        self.recognizer = recognizer
        self.predictions: list = []
        self._lock = threading.Lock()

    @property
    def sample_rate(self) -> int:
        return self.recognizer.sample_rate

    @property
    def labels(self) -> tuple[str, ...]:
        return self.recognizer.labels

    def classify(self, samples):
        prediction = self.recognizer.classify(samples)
        with self._lock:
            self.predictions.append(prediction)
        return prediction


class Appliance:
    """:class:`App` running in a thread, with its button on gpiozero's mock pins."""

    def __init__(self, settings: Settings, recognizer, pin_factory, broker_up: bool = True, **kw):
        self.broker_up = broker_up
        """Whether entering waits until the MQTT link listens (a command published after it is heard)."""
        self.states = Recorder()
        """Every state the appliance published, in order."""
        self.app = App(settings, recognizer=recognizer, pin_factory=pin_factory, on_state=self.states, **kw)
        self.result: list[int] = []
        self.thread = threading.Thread(target=lambda: self.result.append(self.app.run()), name="app",
                                       daemon=True)

    def __enter__(self) -> Appliance:
        self.thread.start()
        if not self.app.running.wait(20):
            raise AssertionError("the appliance did not start within 20s")
        if self.app.mqtt and self.broker_up and not self.app.mqtt.wait_listening(20):
            raise AssertionError("the appliance's MQTT link did not subscribe within 20s")
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def stop(self, timeout: float = 15.0) -> int:
        self.app.stop()
        self.thread.join(timeout)
        assert not self.thread.is_alive(), f"the appliance did not stop within {timeout:g}s"
        return self.result[0] if self.result else -1

    @property
    def pin(self):
        return self.app.panel.button.pin

    def press(self) -> None:
        """A short press: the button pulls its pin low, then lets go."""
        self.pin.drive_low()
        self.pin.drive_high()

    def hold(self, timeout: float = 5.0) -> None:
        """A long press: held until gpiozero says it is held, then released."""
        self.pin.drive_low()
        try:
            wait_until(lambda: self.app.panel.button.is_held, timeout, "the button held")
        finally:
            self.pin.drive_high()

    def state(self) -> dict:
        return self.app.state

    def wait_state(self, predicate, timeout: float = 15.0, what: str = "state") -> dict:
        """Wait until the state the loop last published matches ``predicate``; return it."""
        return wait_until(lambda: self.app.state if self.app.state and predicate(self.app.state) else None,
                          timeout, f"{what} (last: {self.app.state})")

    def wait_published(self, predicate, timeout: float = 15.0, after: int = 0) -> dict:
        """Wait until a state published as number ``after`` or later matches ``predicate``; return it."""
        def found():
            return next((s for s in list(self.states.items)[after:] if predicate(s)), None)

        return wait_until(found, timeout, f"a published state like that after #{after} (last: {self.app.state})")

    @property
    def published(self) -> int:
        """How many states were published so far (for :meth:`wait_published`)."""
        return len(self.states.items)


def confident_files(recognizer: Recognizer, folder: Path, at_least: float = 0.6,
                    per_emotion: int = 1) -> dict[str, list[Path]]:
    """Recordings in ``folder`` that the model classifies with ``at_least`` confidence, by emotion.

    0.6 stays well clear of the tests' ``min_confidence`` (0.4): a chosen file always plays.
    """
    found: dict[str, list[Path]] = {}
    for path in sorted(folder.glob("*.flac")):
        p = recognizer.classify_file(path)
        if p.confidence >= at_least and len(found.setdefault(p.emotion, [])) < per_emotion:
            found[p.emotion].append(path)
    return {e: files for e, files in found.items() if files}


@functools.cache
def shared_recognizer() -> Recognizer:
    """The shipped model, loaded once per test session."""
    return Recognizer()


@functools.cache
def shared_confident(folder: Path) -> dict[str, list[Path]]:
    return confident_files(shared_recognizer(), folder)


def queue_files(mpd) -> list[str]:
    """The files in MPD's queue, in order."""
    return [line.split(": ", 1)[1] for line in mpd.command("playlistinfo") if line.startswith("file: ")]


def mpd_plays(mpd, files: list[str]) -> bool:
    """MPD is playing, and its queue is exactly ``files``."""
    return mpd.status().get("state") == "play" and queue_files(mpd) == files
