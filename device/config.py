"""The daemon's settings: one TOML file read into frozen dataclasses, every key with a default.

>>> settings = load("config/emotune.example.toml")
>>> settings.mqtt.base_topic
'emotune/livingroom'

Unknown sections or keys, wrong types and out-of-range values raise
:class:`~device.errors.ConfigError` naming the file and the key (``[mqtt] port``). Relative paths
are taken from the folder of the config file. ``config/emotune.example.toml`` documents every key.
"""

from __future__ import annotations

import os
import re
import socket
import tomllib
import typing
from dataclasses import dataclass, field, fields, replace
from pathlib import Path

from .card import DEFAULT_CARD
from .errors import ConfigError
from .features import MAX_STRETCH, STRETCH
from .voice import BALANCE


def default_device_id() -> str:
    """The host name, made safe for MQTT topics and Home Assistant ids (``[a-z0-9_-]``)."""
    return re.sub(r"[^a-z0-9_-]+", "_", socket.gethostname().lower()).strip("_") or "emotune"


def default_journal() -> str:
    """``$STATE_DIRECTORY/journal.sqlite`` under systemd (``StateDirectory=``), else in ``~/.local/state``."""
    base = os.environ.get("STATE_DIRECTORY", "").split(":")[0]
    if base:
        return str(Path(base) / "journal.sqlite")
    state_home = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return str(Path(state_home) / "emotune" / "journal.sqlite")


@dataclass(frozen=True)
class MpdSettings:
    """Where the music player daemon listens."""

    host: str = "localhost"
    """Host name or address of MPD (or the path of its unix socket)."""
    port: int = 6600
    password: str = ""
    """MPD's password, if it has one ("" = none)."""
    timeout: float = 5.0
    """Seconds one MPD command may take before the connection counts as lost."""
    duck_volume: int = 20
    """Volume (0-100) the music is lowered to while the microphone listens; never raised."""


@dataclass(frozen=True)
class MqttSettings:
    """The MQTT broker, and how the appliance shows itself to Home Assistant."""

    enabled: bool = True
    """false: no MQTT at all (the button still works)."""
    host: str = "localhost"
    port: int = 1883
    username: str = ""
    """"" = connect anonymously."""
    password: str = ""
    tls: bool = False
    """Connect with TLS (usually port 8883), checking the broker's certificate."""
    ca_file: str = ""
    """CA certificate(s) for TLS; "" = the system's trusted CAs."""
    device_id: str = field(default_factory=default_device_id)
    """Names the appliance: topics are ``emotune/<device_id>/...``. Default: the host name."""
    discovery_prefix: str = "homeassistant"
    """Home Assistant's MQTT discovery prefix ("" = publish no discovery)."""
    keepalive: int = 30
    """Seconds between keep-alive pings; the broker declares us offline after 1.5 times this."""

    @property
    def base_topic(self) -> str:
        return f"emotune/{self.device_id}"


@dataclass(frozen=True)
class AudioSettings:
    """The microphone, and how an utterance is cut from it."""

    device: str = ""
    """Input device: a sounddevice name (substring) or index; "" = the system default."""
    sample_rate: int = 16000
    """Capture rate in Hz; resampled to the model's rate when they differ."""
    max_seconds: float = 8.0
    """Longest recording; also how long to wait for someone to start speaking."""
    silence_seconds: float = 0.8
    """Quiet after speech that ends the utterance."""
    input_file: str = ""
    """A recording (or a folder of recordings, taken in turn) instead of the microphone; "" = the microphone."""
    input_speed: float = 1.0
    """How fast ``input_file`` is played in: 1 = real time, 0 = as fast as possible."""


@dataclass(frozen=True)
class GpioSettings:
    """The push button and the LED, by BCM pin number."""

    button_pin: int = 17
    """Button between this pin and ground (internal pull-up)."""
    led_pin: int = 27
    """LED (with its resistor) between this pin and ground; -1 = no LED."""
    mock: bool = False
    """true: gpiozero's MockFactory instead of real pins (PC, demo, tests)."""
    long_press_seconds: float = 1.0
    """Held at least this long = long press (stop)."""
    bounce_seconds: float = 0.05
    """Contact bounce ignored after an edge."""


@dataclass(frozen=True)
class ModelSettings:
    """The speech emotion model."""

    path: str = str(DEFAULT_CARD)
    """Model card (.json) beside its .tflite file."""
    min_confidence: float = 0.3
    """Below this probability the result is "unsure" and the music does not change (0.3: answers
    below it are heard right no more than a quarter of the time on new corpora; ``bench/probes.py
    confidence``)."""
    stretch: float = STRETCH
    """How far each utterance's spectrum is also stretched both ways for the model (0: heard once)."""


@dataclass(frozen=True)
class PlaylistSettings:
    map: str = "playlists.json"
    """The map from emotions to MPD playlists, made by ``python -m training playlists``."""


@dataclass(frozen=True)
class JournalSettings:
    path: str = field(default_factory=default_journal)
    """SQLite file of every recognition ("" = keep no journal)."""
    outcome_seconds: float = 60.0
    """A skip or stop this soon after a recognition is recorded against it."""


@dataclass(frozen=True)
class LearningSettings:
    enabled: bool = True
    """Learn from the listener: corrections calibrate the voice model, skips re-rank the playlists."""
    path: str = ""
    """The learning file; "" = ``learning.json`` beside the journal (in memory only without a journal)."""
    feel_seconds: float = 300.0
    """How long after a recognition a ``feel`` command may correct it."""
    min_corrections: int = 8
    """Corrections before the calibration acts at all."""
    balance: float = BALANCE
    """The share of what the model usually answers for this listener taken off each answer (0: none)."""


@dataclass(frozen=True)
class Settings:
    """Everything the daemon is told, one frozen section per table of the TOML file."""

    mpd: MpdSettings = field(default_factory=MpdSettings)
    mqtt: MqttSettings = field(default_factory=MqttSettings)
    audio: AudioSettings = field(default_factory=AudioSettings)
    gpio: GpioSettings = field(default_factory=GpioSettings)
    model: ModelSettings = field(default_factory=ModelSettings)
    playlists: PlaylistSettings = field(default_factory=PlaylistSettings)
    journal: JournalSettings = field(default_factory=JournalSettings)
    learning: LearningSettings = field(default_factory=LearningSettings)
    source: str = ""
    """The file these settings were read from ("" = defaults)."""


_PATHS = {("audio", "input_file"), ("model", "path"), ("playlists", "map"), ("journal", "path"), ("mqtt", "ca_file"),
          ("learning", "path")}
_RANGES = {
    ("mpd", "port"): (1, 65535), ("mqtt", "port"): (1, 65535), ("mpd", "timeout"): (0.1, 600),
    ("mpd", "duck_volume"): (0, 100), ("mqtt", "keepalive"): (5, 3600),
    ("audio", "sample_rate"): (8000, 192000), ("audio", "max_seconds"): (0.5, 120),
    ("audio", "silence_seconds"): (0.1, 10), ("audio", "input_speed"): (0, 1000),
    ("gpio", "button_pin"): (0, 53), ("gpio", "led_pin"): (-1, 53), ("gpio", "long_press_seconds"): (0.1, 30),
    ("gpio", "bounce_seconds"): (0, 1), ("model", "min_confidence"): (0, 1), ("model", "stretch"): (0, MAX_STRETCH),
    ("journal", "outcome_seconds"): (0, 86400), ("learning", "feel_seconds"): (1, 86400),
    ("learning", "min_corrections"): (1, 10000), ("learning", "balance"): (0, 1),
}
_ID = re.compile(r"^[A-Za-z0-9_-]+$")


def _value(where: str, kind, value):
    """Check ``value`` against the field type ``kind`` (str, int, float, bool); return it converted."""
    if kind is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"{where} must be true or false, not {value!r}")
        return value
    if kind is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"{where} must be a whole number, not {value!r}")
        return value
    if kind is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ConfigError(f"{where} must be a number, not {value!r}")
        return float(value)
    if not isinstance(value, str):
        raise ConfigError(f"{where} must be a string, not {value!r}")
    return value


def _section(source: str, name: str, cls, table, base: Path):
    if not isinstance(table, dict):
        raise ConfigError(f"{source}: [{name}] must be a table")
    hints = typing.get_type_hints(cls)
    known = {f.name for f in fields(cls)}
    values = {}
    for key, value in table.items():
        where = f"{source}: [{name}] {key}"
        if key not in known:
            raise ConfigError(f"{where}: unknown key (known: {', '.join(sorted(known))})")
        value = _value(where, hints[key], value)
        if (name, key) in _RANGES:
            lo, hi = _RANGES[name, key]
            if not lo <= value <= hi:
                raise ConfigError(f"{where} = {value!r} is out of range [{lo}, {hi}]")
        values[key] = value
    section = cls(**values)
    if name == "mqtt" and not _ID.match(section.device_id):
        raise ConfigError(f"{source}: [mqtt] device_id = {section.device_id!r}: use letters, digits, _ and - only")
    # Paths, given or default (``playlists.json``), are taken from the config file's folder.
    paths = {key: str(base / Path(getattr(section, key)).expanduser())
             for section_name, key in _PATHS if section_name == name and getattr(section, key)}
    return replace(section, **paths)


def parse(data: dict, source: str = "<config>", base: str | Path = ".") -> Settings:
    """Return :class:`Settings` from the parsed TOML ``data``; relative paths are taken from ``base``."""
    base = Path(base)
    sections = {f.name: f for f in fields(Settings) if f.name != "source"}
    unknown = [name for name in data if name not in sections]
    if unknown:
        raise ConfigError(f"{source}: unknown section [{unknown[0]}] (known: {', '.join(sections)})")
    built = {name: _section(source, name, f.default_factory, data.get(name, {}), base) for name, f in sections.items()}
    return Settings(**built, source=source)


def load(path: str | Path) -> Settings:
    """Read the TOML file at ``path``; raise :class:`ConfigError` naming the file and the bad key."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read config file {path}: {exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not UTF-8 text (byte {exc.start}); save the config as UTF-8") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    return parse(data, str(path), path.resolve().parent)
