"""``playlists.json``: what the workstation writes is what the device reads; a file it cannot read is named."""

import json

import pytest

from device import playlist_map
from device.errors import ConfigError


def test_written_then_read_back_with_its_version(tmp_path):
    path = playlist_map.write(tmp_path / playlist_map.NAME, {"emotions": {"sad": ["calm-dark", "calm-bright"]},
                                                             "playlists": [{"file": "calm-dark.m3u"}]})
    assert next(iter(json.loads(path.read_text()))) == "version"
    assert playlist_map.read(path)["version"] == playlist_map.VERSION
    assert playlist_map.load(path) == {"sad": ["calm-dark", "calm-bright"]}
    assert playlist_map.playlist_files(path) == {"calm-dark.m3u"}


def test_a_map_without_a_version_is_version_1(tmp_path):
    path = tmp_path / "playlists.json"
    path.write_text('{"emotions": {"calm": ["evening"]}}')
    assert playlist_map.load(path) == {"calm": ["evening"]}


def test_a_missing_map_is_empty(tmp_path):
    assert playlist_map.load(tmp_path / "none.json") == {}
    assert playlist_map.playlist_files(tmp_path / "none.json") == set()


@pytest.mark.parametrize(("text", "says"), [
    ('{"version": 2, "emotions": {}}', "version 2; this emotune reads version 1"),
    ('{"emotions": {"calm": "evening"}}', '"emotions" must map'),
    ("[1, 2]", '"emotions" must map'),
    ("{not json", "cannot read the playlists map"),
])
def test_a_map_it_cannot_read_is_an_error_naming_the_file(tmp_path, text, says):
    path = tmp_path / "playlists.json"
    path.write_text(text)
    with pytest.raises(ConfigError, match=str(path).replace(".", r"\.")) as error:
        playlist_map.load(path)
    assert says in str(error.value)
