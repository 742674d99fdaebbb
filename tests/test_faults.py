"""Faults the appliance lives through: MPD or the broker down or restarted, no microphone, garbage commands."""

import json
import logging
import os
import shutil
import signal
import time

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from tests.appliance import BASE, Appliance, mpd_plays, settings_for, tracks_of, wait_until
from tests.helpers import MqttWatcher

# The shared fixtures (see tests/appliance.py).


@pytest.fixture
def speech(spoken):
    """A sample recording the shipped model is confident about, and the emotion it hears in it."""
    emotion, (path,) = next(iter(spoken.items()))
    return emotion, path


def retained_state(broker, predicate, timeout: float = 20.0) -> dict:
    with MqttWatcher(broker, [f"{BASE}/state"]) as watcher:
        return json.loads(watcher.wait_for(f"{BASE}/state", lambda p: p and predicate(json.loads(p)), timeout))


def test_mpd_down_at_start_then_up_plays_what_was_heard(lib, mpd, mosquitto, mock_pins, recognizer, speech):
    _, playlist_dir, map_path, emotions = lib
    emotion, path = speech
    mpd.stop()
    with Appliance(settings_for(mpd, mosquitto, map_path, path), recognizer, mock_pins) as box:
        state = box.wait_state(lambda s: s["state"] == "error")
        assert "music player unreachable" in state["error"]
        box.press()  # the button works without MPD: it listens and hears
        wait_until(lambda: recognizer.predictions, 15, "a recognition")
        state = box.wait_state(lambda s: s["emotion"] == emotion)
        assert state["state"] == "error"
        mpd.start()
        state = box.wait_state(lambda s: s["state"] == "playing", timeout=30)
        assert (state["emotion"], state["playlist"], state["error"]) == (emotion, emotions[emotion][0], None)
        wait_until(lambda: mpd_plays(mpd, tracks_of(playlist_dir, emotions[emotion])), 10, "MPD playing")


def test_mpd_restarted_while_playing_comes_back_playing(lib, mpd, mock_pins, recognizer, speech):
    _, playlist_dir, map_path, emotions = lib
    emotion, path = speech
    with Appliance(settings_for(mpd, None, map_path, path), recognizer, mock_pins) as box:
        box.press()
        box.wait_state(lambda s: s["state"] == "playing")
        mpd.restart()
        state = box.wait_state(lambda s: s["state"] == "error", timeout=10)
        assert "music player unreachable" in state["error"]
        state = box.wait_state(lambda s: s["state"] == "playing", timeout=30)
        assert (state["emotion"], state["error"]) == (emotion, None)
        wait_until(lambda: mpd_plays(mpd, tracks_of(playlist_dir, emotions[emotion])), 10, "MPD playing again")


def test_broker_down_at_start_and_restarted_the_button_keeps_working(lib, mpd, mosquitto, mock_pins, recognizer,
                                                                     speech):
    _, playlist_dir, map_path, emotions = lib
    emotion, path = speech
    mosquitto.stop()
    with Appliance(settings_for(mpd, mosquitto, map_path, path), recognizer, mock_pins, broker_up=False) as box:
        box.press()
        box.wait_state(lambda s: s["state"] == "playing")
        wait_until(lambda: mpd_plays(mpd, tracks_of(playlist_dir, emotions[emotion])), 10, "MPD playing")
        mosquitto.start()
        state = retained_state(mosquitto, lambda s: s["state"] == "playing")
        assert (state["emotion"], state["playlist"]) == (emotion, emotions[emotion][0])

        mosquitto.restart()  # it keeps nothing: the appliance must publish everything again
        box.hold()
        box.wait_state(lambda s: s["state"] == "idle")
        state = retained_state(mosquitto, lambda s: True)
        assert (state["state"], state["emotion"]) == ("idle", emotion)
        with MqttWatcher(mosquitto, [f"{BASE}/availability"]) as watcher:
            assert watcher.wait_for(f"{BASE}/availability") == "online"


def test_microphone_missing_or_broken_is_an_error_until_it_works(lib, mpd, mock_pins, recognizer, speech, tmp_path):
    _, _, map_path, emotions = lib
    emotion, path = speech
    later = tmp_path / "mic.flac"
    with Appliance(settings_for(mpd, None, map_path, later), recognizer, mock_pins) as box:
        state = box.wait_state(lambda s: s["state"] == "error")
        assert str(later) in state["error"]
        mark = box.published
        box.press()  # listening without a microphone: an error again, nothing stops
        box.wait_published(lambda s: s["state"] == "listening", after=mark)
        box.wait_published(lambda s: s["state"] == "error", after=mark)
        later.write_bytes(b"not audio at all" * 100)
        mark = box.published
        box.press()
        box.wait_published(lambda s: s["state"] == "listening", after=mark)
        state = box.wait_published(lambda s: s["state"] == "error", after=mark)
        assert str(later) in state["error"]
        assert box.thread.is_alive() and recognizer.predictions == []
        shutil.copy(path, later)
        box.wait_state(lambda s: s["state"] == "idle" and s["error"] is None, timeout=40)
        box.press()
        state = box.wait_state(lambda s: s["state"] == "playing")
        assert state["emotion"] == emotion


COMMANDS = st.one_of(
    st.binary(max_size=300),
    st.text(max_size=200).map(str.encode),
    st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
                 lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
                 max_leaves=10).map(lambda v: json.dumps(v).encode()),
    st.fixed_dictionaries({"action": st.sampled_from(["listen", "play", "stop", "next", "volume", "feel", "forget",
                                                      "fly", ""])},
                          optional={"emotion": st.none() | st.integers() | st.text(max_size=50),
                                    "level": st.none() | st.booleans() | st.floats() | st.integers() | st.text()})
    .map(lambda d: json.dumps(d).encode()),
)


def test_malformed_commands_are_ignored_and_nothing_crashes(lib, mpd, mosquitto, mock_pins, recognizer, speech,
                                                           caplog):
    _, _, map_path, _ = lib
    _, path = speech
    with Appliance(settings_for(mpd, mosquitto, map_path, path), recognizer, mock_pins) as box, \
            MqttWatcher(mosquitto, [f"{BASE}/state"]) as watcher:
        watcher.wait_for(f"{BASE}/state")

        @given(payload=COMMANDS)
        @hsettings(max_examples=150, deadline=None, derandomize=True,
                   suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
        def fuzz(payload):
            watcher.publish(f"{BASE}/command", payload)

        caplog.set_level(logging.WARNING, logger="device.mqtt")
        fuzz()
        # Still alive and listening to commands: a volume command after the garbage is carried out.
        watcher.publish(f"{BASE}/command", '{"action": "volume", "level": 37}')
        wait_until(lambda: mpd.status()["volume"] == "37", 15, "the volume command after the fuzzing")
        assert box.thread.is_alive()
    ignored = [r for r in caplog.records if r.getMessage().startswith("ignored MQTT command")]
    assert len(ignored) >= 50, "the garbage did not reach the appliance"
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR and r.name.startswith("device.")]


@pytest.fixture
def frozen(mpd):
    """``freeze()`` SIGSTOPs the MPD (TCP still accepted, no command answered), ``thaw()`` SIGCONTs it."""
    class Frozen:
        def freeze(self):
            os.kill(mpd.proc.pid, signal.SIGSTOP)

        def thaw(self):
            os.kill(mpd.proc.pid, signal.SIGCONT)

    frozen = Frozen()
    yield frozen
    frozen.thaw()


def test_a_hung_mpd_never_blocks_the_loop_and_sigterm_is_answered_at_once(lib, mpd, mosquitto, mock_pins,
                                                                          recognizer, speech, frozen):
    _, _, map_path, _ = lib
    emotion, path = speech
    box = Appliance(settings_for(mpd, mosquitto, map_path, path), recognizer, mock_pins).__enter__()
    try:
        box.press()
        box.wait_state(lambda s: s["state"] == "playing")
        frozen.freeze()
        with MqttWatcher(mosquitto, [f"{BASE}/state"]) as watcher:
            for command in ['{"action": "play", "emotion": "sad"}', '{"action": "stop"}',
                            '{"action": "volume", "level": 20}', '{"action": "next"}']:
                watcher.publish(f"{BASE}/command", command)
            box.wait_state(lambda s: s["state"] == "idle", timeout=2)  # the stop is answered, MPD or not
            state = box.wait_state(lambda s: s["state"] == "error", timeout=15)  # MPD's hang is found out
            assert "music player unreachable" in state["error"] and state["playlist"] is None
    finally:
        started = time.monotonic()
        box.stop(timeout=10)
        took = time.monotonic() - started
    assert took < 5, f"SIGTERM took {took:.1f}s with MPD hung"
    with MqttWatcher(mosquitto, [f"{BASE}/availability"]) as watcher:
        assert watcher.wait_for(f"{BASE}/availability") == "offline"  # said cleanly, before systemd's 20 s


def test_a_stop_during_an_mpd_hang_stops_the_music_once_mpd_answers(lib, mpd, mock_pins, recognizer, speech, frozen):
    _, playlist_dir, map_path, emotions = lib
    emotion, path = speech
    with Appliance(settings_for(mpd, None, map_path, path), recognizer, mock_pins) as box:
        box.press()
        box.wait_state(lambda s: s["state"] == "playing")
        frozen.freeze()
        box.hold()  # stop
        box.wait_state(lambda s: s["state"] == "error", timeout=15)
        frozen.thaw()  # the watcher's next try may be up to its 30 s backoff away
        box.wait_state(lambda s: s["state"] == "idle" and s["error"] is None, timeout=45)
        wait_until(lambda: mpd.status()["state"] == "stop", 10, "MPD stopped after its hang")
