"""Soak: 200 presses in a row, the whole appliance, no growth in threads, file descriptors or memory."""

import os
import threading

import pytest

from tests.appliance import (
    BASE,
    Appliance,
    Heard,
    library,
    settings_for,
    shared_confident,
    shared_recognizer,
    wait_until,
)
from tests.helpers import MqttWatcher
from tests.paths import SAMPLES

PRESSES = 200
WARM_UP = 20


def resources() -> dict[str, int]:
    """Threads, open file descriptors and resident memory (kB) of this process."""
    status = dict(line.split(":", 1) for line in open("/proc/self/status"))
    return {"threads": threading.active_count(), "fds": len(os.listdir("/proc/self/fd")),
            "rss_kb": int(status["VmRSS"].split()[0])}


@pytest.mark.slow
def test_200_presses_without_growth(tmp_path, mpd_server, mosquitto, mock_pins):
    voices = tmp_path / "voices"
    voices.mkdir()
    spoken = {e: files[0] for e, files in list(shared_confident(SAMPLES).items())[:3]}
    for i, path in enumerate(spoken.values()):
        (voices / f"{i}-{path.name}").symlink_to(path)  # the mic takes them in turn
    music_dir, playlist_dir, map_path, emotions = library(tmp_path)
    server = mpd_server(music_dir, playlist_dir)
    recognizer = Heard(shared_recognizer())
    settings = settings_for(server, mosquitto, map_path, voices, tmp_path / "journal.sqlite")

    with Appliance(settings, recognizer, mock_pins) as box, MqttWatcher(mosquitto, [f"{BASE}/state"]) as watcher:
        def press(n: int) -> dict:
            box.press()
            wait_until(lambda: len(recognizer.predictions) == n, 15, f"recognition #{n}")
            # The recognition happens while the state is "thinking"; "playing" follows it.
            return box.wait_state(lambda s: s["state"] == "playing", 15)

        for n in range(1, WARM_UP + 1):
            press(n)
        before = resources()
        for n in range(WARM_UP + 1, WARM_UP + PRESSES + 1):
            state = press(n)
            expected = recognizer.predictions[-1].emotion
            assert (state["emotion"], state["playlist"]) == (expected, emotions[expected][0])
        after = resources()
        assert watcher.wait_for(f"{BASE}/state", lambda p: '"playing"' in p)
    print(f"soak {PRESSES} presses: {before} -> {after}")
    heard = [p.emotion for p in recognizer.predictions]
    assert heard[: len(spoken)] == list(spoken), "the voices were spoken in turn and recognised as the model says"
    assert after["threads"] == before["threads"]
    assert after["fds"] <= before["fds"] + 2
    assert after["rss_kb"] - before["rss_kb"] < 10_000, f"memory grew by {after['rss_kb'] - before['rss_kb']} kB"
