"""Shared fixtures: real ``mpd`` and ``mosquitto`` on free loopback ports, gpiozero's mock pins.

- ``mpd_server(music_dir, playlist_dir, **kw)``: a factory; each call starts a private MPD
  (:class:`script.servers.MpdServer`) that is stopped when the test ends.
- ``mosquitto``: a fresh anonymous broker for one test (:class:`script.servers.Mosquitto`; ``.restart()``
  keeps the port). ``mosquitto_factory(**kw)`` makes others (e.g. with username/password).
- ``mock_pins``: sets ``gpiozero.Device.pin_factory`` to a ``MockFactory`` and restores it after.
- ``music``: a tiny library of synthesised WAV tones, ``music/<name>.wav``, with its playlist dir.
- ``sentence``: one real spoken sentence from ``samples/`` (checked in, so every clone has it).
- The whole appliance (:mod:`tests.appliance`): ``recognizer`` (the shipped model, keeping what it
  answered), ``spoken`` (the samples it is sure about), ``lib`` (a music library and its map) and
  ``mpd`` (a real MPD serving it).

Where the data are: :mod:`tests.paths`.
"""

from __future__ import annotations

import contextlib
import shutil
from pathlib import Path

import pytest

from script.servers import Mosquitto, MpdServer
from tests.appliance import Heard, library, shared_confident, shared_recognizer
from tests.helpers import write_tone
from tests.paths import SAMPLES, SENTENCE


def _need(binary: str) -> None:
    if shutil.which(binary) is None:
        pytest.skip(f"{binary} is not installed (make system-deps installs it)")


@contextlib.contextmanager
def _starter(kind: type[MpdServer] | type[Mosquitto], tmp_path_factory):
    """Yield ``make(*args, **kw)``: starts a ``kind`` server in a folder of its own; all are closed after."""
    _need(kind.name)
    started: list = []

    def make(*args, **kw):
        server = kind(*args, workdir=tmp_path_factory.mktemp(kind.name), **kw)
        started.append(server)
        return server.start()

    try:
        yield make
    finally:
        for server in started:
            server.close()


@pytest.fixture
def mpd_server(tmp_path_factory):
    """Factory: ``mpd_server(music_dir, playlist_dir, password=None) -> MpdServer`` (started)."""
    with _starter(MpdServer, tmp_path_factory) as make:
        yield make


@pytest.fixture
def mosquitto_factory(tmp_path_factory):
    """Factory: ``mosquitto_factory(username=None, password=None) -> Mosquitto`` (started)."""
    with _starter(Mosquitto, tmp_path_factory) as make:
        yield make


@pytest.fixture
def mosquitto(mosquitto_factory) -> Mosquitto:
    """A fresh anonymous broker on a free loopback port for this test."""
    return mosquitto_factory()


@pytest.fixture
def mock_pins():
    """gpiozero's MockFactory as the default pin factory for this test; the previous one after."""
    from gpiozero import Device
    from gpiozero.pins.mock import MockFactory

    previous = Device.pin_factory
    factory = MockFactory()
    Device.pin_factory = factory
    try:
        yield factory
    finally:
        factory.reset()
        Device.pin_factory = previous


@pytest.fixture
def music(tmp_path) -> tuple[Path, Path]:
    """A tiny library: ``(music_dir, playlist_dir)`` with tones ``a.wav`` .. ``f.wav`` (3 s each)."""
    music_dir, playlist_dir = tmp_path / "music", tmp_path / "playlists"
    for i, name in enumerate("abcdef"):
        write_tone(music_dir / f"{name}.wav", 220.0 * (1 + i / 4), seconds=3.0)
    playlist_dir.mkdir()
    return music_dir, playlist_dir


@pytest.fixture
def sentence() -> Path:
    """:data:`tests.paths.SENTENCE`, a real spoken sentence."""
    return SENTENCE


@pytest.fixture
def recognizer() -> Heard:
    """The shipped model in the real interpreter, keeping what it answered in this test."""
    return Heard(shared_recognizer())


@pytest.fixture
def spoken() -> dict[str, list[Path]]:
    """``{emotion: [file]}``: ``samples/`` the shipped model is sure about (at least two emotions)."""
    found = shared_confident(SAMPLES)
    assert len(found) >= 2, f"the shipped model is confident about too few of {SAMPLES}: {found}"
    return found


@pytest.fixture
def lib(tmp_path):
    """:func:`tests.appliance.library` in this test's folder."""
    return library(tmp_path)


@pytest.fixture
def mpd(lib, mpd_server):
    """A real MPD serving :func:`lib`."""
    music_dir, playlist_dir, _, _ = lib
    return mpd_server(music_dir, playlist_dir)
