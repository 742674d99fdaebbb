"""The box learns its listener, end to end: ``feel`` corrections and skips through a real broker and MPD."""

import json

import pytest

from device.config import LearningSettings
from device.journal import Journal
from tests.appliance import BASE, Appliance, queue_files, settings_for, tracks_of, wait_until
from tests.helpers import MqttWatcher


@pytest.fixture
def learning_settings(lib, mpd, mosquitto, spoken, tmp_path):
    """Settings with learning on (its file in the test's folder), and the emotion the sample speaks."""
    _, _, map_path, _ = lib
    emotion, (path,) = next(iter(spoken.items()))
    learning = LearningSettings(path=str(tmp_path / "learning.json"), min_corrections=2)
    return settings_for(mpd, mosquitto, map_path, path, tmp_path / "journal.sqlite", learning=learning), emotion


def stored(tmp_path) -> dict:
    """The learning file as the box wrote it (an empty learning before its first write)."""
    path = tmp_path / "learning.json"
    return json.loads(path.read_text()) if path.exists() else {"calibration": {"corrections": []}, "outcomes": {}}


def test_feel_corrects_plays_for_the_felt_emotion_journals_it_and_survives_a_restart(
        lib, mpd, mosquitto, mock_pins, recognizer, learning_settings, tmp_path):
    _, playlist_dir, _, emotions = lib
    settings, heard = learning_settings
    felt = next(e for e in emotions if e != heard)
    with Appliance(settings, recognizer, mock_pins) as box, MqttWatcher(mosquitto, [f"{BASE}/state"]) as watcher:
        box.press()
        box.wait_state(lambda s: s["state"] == "playing" and s["emotion"] == heard)
        watcher.publish(f"{BASE}/command", json.dumps({"action": "feel", "emotion": felt}))
        state = box.wait_state(lambda s: s["reason"] == "corrected" and s["state"] == "playing")
        assert state["emotion"] == felt and state["playlist"] in emotions[felt]
        assert state["history"][0]["emotion"] == heard and state["history"][0]["felt"] == felt
        wait_until(lambda: set(queue_files(mpd)) == set(tracks_of(playlist_dir, emotions[felt])), 10,
                   "MPD playing the felt emotion's playlists")
    assert [(c["emotion"], len(c["logs"])) for c in stored(tmp_path)["calibration"]["corrections"]] == [(felt, 8)]
    with Journal(tmp_path / "journal.sqlite") as journal:
        (entry,) = journal.entries()
    assert (entry.emotion, entry.felt) == (heard, felt)
    with Appliance(settings, recognizer, mock_pins) as box:  # a restart keeps what was learnt
        assert box.app.learning.calibration.counts() == {felt: 1}
        assert box.state()["history"][0]["felt"] == felt


def test_forget_returns_to_the_shipped_model_and_a_late_feel_is_refused(lib, mpd, mosquitto, mock_pins, recognizer,
                                                                      learning_settings, tmp_path):
    settings, heard = learning_settings
    with Appliance(settings, recognizer, mock_pins) as box, MqttWatcher(mosquitto, [f"{BASE}/state"]) as watcher:
        watcher.publish(f"{BASE}/command", json.dumps({"action": "feel", "emotion": "calm"}))
        state = box.wait_state(lambda s: s["state"] == "error")
        assert state["error"].startswith("nothing to correct")
        box.press()
        box.wait_state(lambda s: s["state"] == "playing" and s["emotion"] == heard)
        for felt in ("sad", "sad"):
            watcher.publish(f"{BASE}/command", json.dumps({"action": "feel", "emotion": felt}))
            wait_until(lambda: box.app.learning.calibration.corrections, 10, "the correction learnt")
        wait_until(lambda: len(stored(tmp_path)["calibration"]["corrections"]) == 2, 10, "two corrections stored")
        watcher.publish(f"{BASE}/command", '{"action": "forget"}')
        wait_until(lambda: stored(tmp_path)["calibration"]["corrections"] == [], 10, "the corrections forgotten")
        assert stored(tmp_path)["outcomes"] == {} and not box.app.learning.calibration.active


def test_a_skip_soon_after_a_recognition_counts_against_the_playlist_that_played(
        lib, mpd, mosquitto, mock_pins, recognizer, learning_settings, tmp_path):
    _, _, _, emotions = lib
    settings, heard = learning_settings
    with Appliance(settings, recognizer, mock_pins) as box, MqttWatcher(mosquitto, [f"{BASE}/state"]) as watcher:
        box.press()
        state = box.wait_state(lambda s: s["state"] == "playing" and s["emotion"] == heard)
        playing = state["playlist"]
        assert playing in emotions[heard]
        watcher.publish(f"{BASE}/command", '{"action": "next"}')
        wait_until(lambda: stored(tmp_path)["outcomes"], 10, "the outcome stored")
    assert stored(tmp_path)["outcomes"] == {heard: {playing: [0.0, 1.0]}}
