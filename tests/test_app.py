"""The whole appliance: real mpd and mosquitto, mock GPIO pins, ``samples/`` speech as the microphone.

Which file is spoken is chosen by what the shipped model itself says about it (:func:`confident_files`),
so the tests hold for whichever model ships.
"""

import json
from dataclasses import replace

import numpy as np
import pytest
import soundfile

from device.discovery import payloads
from device.journal import Journal
from tests.appliance import (
    BASE,
    DEVICE_ID,
    Appliance,
    mpd_plays,
    settings_for,
    shared_recognizer,
    tracks_of,
    wait_until,
)
from tests.helpers import MqttWatcher

# The shared fixtures (see tests/appliance.py).


def subscribed(watcher) -> dict:
    """Wait for the appliance's first state: it subscribed to commands before publishing it."""
    return published(watcher, lambda s: True)


def published(watcher, predicate, timeout: float = 20.0) -> dict:
    return json.loads(watcher.wait_for(f"{BASE}/state", lambda p: predicate(json.loads(p)), timeout))


def test_a_press_plays_the_playlists_of_the_emotion_heard(lib, mpd, mosquitto, mock_pins, recognizer, spoken,
                                                          tmp_path):
    _, playlist_dir, map_path, emotions = lib
    emotion, (speech,) = next(iter(spoken.items()))
    expected = shared_recognizer().classify_file(speech)
    settings = settings_for(mpd, mosquitto, map_path, speech, tmp_path / "journal.sqlite")
    with MqttWatcher(mosquitto, [f"{BASE}/#"]) as watcher, Appliance(settings, recognizer, mock_pins) as box:
        assert watcher.wait_for(f"{BASE}/availability") == "online"
        box.press()
        state = published(watcher, lambda s: s["state"] == "playing")
        assert state["emotion"] == expected.emotion == emotion
        assert state["confidence"] == pytest.approx(expected.confidence, abs=0.01)
        assert state["playlist"] == emotions[emotion][0] and state["error"] is None
        assert state["history"][0]["emotion"] == emotion
        assert [p.emotion for p in recognizer.predictions] == [emotion]
        wait_until(lambda: mpd_plays(mpd, tracks_of(playlist_dir, emotions[emotion])), 10, "MPD playing the map")
        # The states on the way, in order: listening, thinking, playing.
        seen = [json.loads(m[1])["state"] for m in watcher.messages.items if m[0] == f"{BASE}/state"]
        assert [s for i, s in enumerate(seen) if i == 0 or seen[i - 1] != s][-3:] == ["listening", "thinking",
                                                                                     "playing"]
        box.hold()  # long press: stop
        published(watcher, lambda s: s["state"] == "idle" and s["playlist"] is None)
        wait_until(lambda: mpd.status()["state"] == "stop", 10, "MPD stopped")
        assert box.stop() == 0
        assert watcher.wait_for(f"{BASE}/availability", lambda p: p == "offline") == "offline"
    with Journal(tmp_path / "journal.sqlite") as journal:
        (entry,) = journal.entries()
    assert (entry.emotion, entry.playlist, entry.outcome) == (emotion, emotions[emotion][0], "stopped")
    assert entry.scores == pytest.approx(expected.scores, abs=0.01)


def test_commands_play_next_volume_listen_and_ducking_while_listening(lib, mpd, mosquitto, mock_pins, recognizer,
                                                                      spoken):
    _, playlist_dir, map_path, emotions = lib
    heard, (speech,) = next(iter(spoken.items()))
    chosen = next(e for e in emotions if e != heard)
    settings = settings_for(mpd, mosquitto, map_path, speech, input_speed=1.0)  # real time: ducking is visible
    with MqttWatcher(mosquitto, [f"{BASE}/#"]) as watcher, Appliance(settings, recognizer, mock_pins):
        subscribed(watcher)
        command = f"{BASE}/command"
        watcher.publish(command, json.dumps({"action": "play", "emotion": chosen}))
        state = published(watcher, lambda s: s["state"] == "playing")
        assert (state["emotion"], state["playlist"], state["reason"]) == (chosen, emotions[chosen][0], "chosen")
        wait_until(lambda: mpd_plays(mpd, tracks_of(playlist_dir, emotions[chosen])), 10, "MPD playing the mood")

        watcher.publish(command, '{"action": "volume", "level": 80}')
        wait_until(lambda: mpd.status()["volume"] == "80", 10, "volume 80")
        watcher.publish(command, '{"action": "next"}')
        wait_until(lambda: mpd.status().get("song") == "1", 10, "MPD on the second track")
        published(watcher, lambda s: s["playlist"] == emotions[chosen][1])

        watcher.publish(command, '{"action": "listen"}')  # same as the button
        published(watcher, lambda s: s["state"] == "listening")
        wait_until(lambda: mpd.status()["volume"] == "20", 10, "the music ducked while listening")
        state = published(watcher, lambda s: s["state"] == "playing" and s["emotion"] == heard)
        assert state["playlist"] == emotions[heard][0]
        wait_until(lambda: mpd.status()["volume"] == "80", 10, "the volume restored after listening")
        wait_until(lambda: mpd_plays(mpd, tracks_of(playlist_dir, emotions[heard])), 10, "MPD playing what it heard")

        watcher.publish(command, '{"action": "stop"}')
        published(watcher, lambda s: s["state"] == "idle")
        wait_until(lambda: mpd.status()["state"] == "stop", 10, "MPD stopped")


def test_unsure_leaves_the_music_alone_and_silence_is_no_speech(lib, mpd, mosquitto, mock_pins, recognizer, spoken,
                                                               tmp_path):
    _, playlist_dir, map_path, emotions = lib
    emotion, (speech,) = next(iter(spoken.items()))
    expected = shared_recognizer().classify_file(speech)
    chosen = next(e for e in emotions if e != emotion)
    settings = settings_for(mpd, mosquitto, map_path, speech)
    # Ask for more confidence than the model has about this file: it must be unsure.
    if expected.confidence >= 1.0:
        pytest.skip("the model is certain about this file; no threshold makes it unsure")
    settings = replace(settings, model=replace(settings.model, min_confidence=expected.confidence + 0.001))
    with MqttWatcher(mosquitto, [f"{BASE}/state"]) as watcher, Appliance(settings, recognizer, mock_pins) as box:
        subscribed(watcher)
        watcher.publish(f"{BASE}/command", json.dumps({"action": "play", "emotion": chosen}))
        wait_until(lambda: mpd_plays(mpd, tracks_of(playlist_dir, emotions[chosen])), 10, "MPD playing the mood")
        box.press()
        state = published(watcher, lambda s: s["state"] == "unsure")
        assert (state["emotion"], state["reason"]) == (emotion, "low confidence")
        assert state["confidence"] == pytest.approx(expected.confidence, abs=0.01)
        assert state["history"][0]["playlist"] is None
        published(watcher, lambda s: s["state"] == "playing", timeout=15)  # back to the music after a while
        assert mpd_plays(mpd, tracks_of(playlist_dir, emotions[chosen]))

    quiet = tmp_path / "quiet.wav"
    soundfile.write(quiet, np.zeros(16000 * 3, np.float32), 16000)
    settings = settings_for(mpd, mosquitto, map_path, quiet, max_seconds=2.0)
    with MqttWatcher(mosquitto, [f"{BASE}/state"]) as watcher, Appliance(settings, recognizer, mock_pins) as box:
        box.press()
        state = published(watcher, lambda s: s["reason"] == "no speech")
        assert state["state"] == "unsure" and state["emotion"] is None and state["error"] is None
        assert len(recognizer.predictions) == 1  # only the first box's recognition: silence is never classified


def test_discovery_is_published_retained_and_again_when_home_assistant_returns(lib, mpd, mosquitto, mock_pins,
                                                                            recognizer, spoken):
    _, _, map_path, emotions = lib
    _, (speech,) = next(iter(spoken.items()))
    settings = settings_for(mpd, mosquitto, map_path, speech)
    expected = payloads(settings.mqtt, sorted(emotions), recognizer.labels)
    with Appliance(settings, recognizer, mock_pins):
        with MqttWatcher(mosquitto, ["homeassistant/#"]) as watcher:
            for topic, payload in expected.items():
                assert json.loads(watcher.wait_for(topic)) == payload
            assert json.loads(watcher.last(f"homeassistant/select/emotune_{DEVICE_ID}/mood/config"))["options"] == \
                sorted(emotions)
            watcher.messages.clear()
            watcher.publish("homeassistant/status", "online")
            for topic, payload in expected.items():
                assert json.loads(watcher.wait_for(topic)) == payload


def test_the_journal_survives_a_restart_and_feeds_the_sensors_history(lib, mpd, mosquitto, mock_pins, recognizer,
                                                                     spoken, tmp_path):
    _, _, map_path, emotions = lib
    emotion, (speech,) = next(iter(spoken.items()))
    journal = tmp_path / "state" / "journal.sqlite"
    settings = settings_for(mpd, mosquitto, map_path, speech, journal)
    with Appliance(settings, recognizer, mock_pins) as box:
        box.press()
        box.wait_state(lambda s: s["state"] == "playing")
    mpd.command("stop")  # the music outlives the daemon; stopped here so the new run starts idle
    with MqttWatcher(mosquitto, [f"{BASE}/state"]) as watcher:
        watcher.publish(f"{BASE}/state", "", retain=True)  # forget the first run's retained state
    with MqttWatcher(mosquitto, [f"{BASE}/state"]) as watcher, Appliance(settings, recognizer, mock_pins):
        state = published(watcher, lambda s: True)  # the first state of the new run
        assert state["state"] == "idle"
        assert [(h["emotion"], h["playlist"]) for h in state["history"]] == [(emotion, emotions[emotion][0])]
