"""The daemon's TOML settings: defaults, the shipped example, and errors that name the key."""

from pathlib import Path

import pytest

from device import config
from device.errors import ConfigError
from tests.paths import REPO

EXAMPLE = REPO / "config" / "emotune.example.toml"


def write(tmp_path, text: str) -> Path:
    path = tmp_path / "emotune.toml"
    path.write_text(text)
    return path


def test_example_config_loads_and_sets_every_key():
    settings = config.load(EXAMPLE)
    assert settings.mqtt.device_id == "livingroom"
    assert settings.mqtt.base_topic == "emotune/livingroom"
    assert settings.model.path == "/opt/emotune/models/emotune-ser.json"
    assert settings.playlists.map == str(EXAMPLE.parent / "playlists.json")
    # Every key of every section is documented in the example.
    text = EXAMPLE.read_text()
    for section in [name for name in config.Settings.__dataclass_fields__ if name != "source"]:
        assert f"[{section}]" in text
        for name in config.Settings.__dataclass_fields__[section].default_factory.__dataclass_fields__:
            assert f"\n{name} = " in text, f"[{section}] {name} is not in the example config"


def test_empty_file_gives_defaults(tmp_path):
    settings = config.load(write(tmp_path, ""))
    assert settings.mpd.port == 6600 and settings.mqtt.port == 1883
    assert settings.gpio.mock is False and settings.audio.input_file == ""
    assert settings.model.path == config.ModelSettings().path
    assert settings.playlists.map == str(tmp_path / "playlists.json")
    assert settings.source == str(tmp_path / "emotune.toml")


def test_relative_paths_are_taken_from_the_config_folder(tmp_path):
    settings = config.load(write(tmp_path, '[audio]\ninput_file = "a.flac"\n[journal]\npath = "j.sqlite"\n'))
    assert settings.audio.input_file == str(tmp_path / "a.flac")
    assert settings.journal.path == str(tmp_path / "j.sqlite")


def test_ints_are_accepted_for_floats(tmp_path):
    assert config.load(write(tmp_path, "[audio]\nmax_seconds = 5\n")).audio.max_seconds == 5.0


@pytest.mark.parametrize("text, words", [
    ("[mqtt]\nprot = 1883\n", ["[mqtt] prot", "unknown key"]),
    ("[mqttt]\nport = 1883\n", ["[mqttt]", "unknown section"]),
    ("[mpd]\nport = \"6600\"\n", ["[mpd] port", "whole number"]),
    ("[mpd]\nport = 70000\n", ["[mpd] port", "out of range"]),
    ("[gpio]\nmock = 1\n", ["[gpio] mock", "true or false"]),
    ("[model]\nmin_confidence = 1.5\n", ["[model] min_confidence", "out of range"]),
    ("[learning]\nbalance = -0.1\n", ["[learning] balance", "out of range"]),
    ("[mqtt]\ndevice_id = \"living room\"\n", ["[mqtt] device_id"]),
    ("[audio]\ndevice = 3\n", ["[audio] device", "string"]),
    ("mpd = 3\n", ["[mpd]", "table"]),
    ("[mpd\n", ["not valid TOML"]),
])
def test_errors_name_the_file_and_the_key(tmp_path, text, words):
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        config.load(path)
    message = str(info.value)
    assert str(path) in message
    for word in words:
        assert word in message


def test_missing_file_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="cannot read config file"):
        config.load(tmp_path / "nope.toml")


def test_settings_are_frozen(tmp_path):
    settings = config.load(write(tmp_path, ""))
    with pytest.raises(AttributeError):
        settings.mpd.port = 1


def test_default_device_id_is_topic_safe():
    assert config._ID.match(config.default_device_id())


def test_a_config_that_is_not_utf8_is_one_clear_error(tmp_path):
    path = tmp_path / "emotune.toml"
    path.write_bytes('[mqtt]\nhost = "caf\xe9"\n'.encode("latin-1"))
    with pytest.raises(ConfigError, match=r"emotune.toml: not UTF-8 text \(byte 18\); save the config as UTF-8"):
        config.load(path)
