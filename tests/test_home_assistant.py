"""The appliance in a real Home Assistant Core (from PyPI, MQTT discovery), read from Home Assistant's own records.

Home Assistant (:mod:`script.home_assistant`) and the appliance (:class:`appliance.Appliance`: mock
pins, a recording as the microphone, a real MPD) share a private broker. What is asserted comes from
Home Assistant: its REST API (states, services), its ``.storage`` registries and its log. The
automation and the dashboard card are the README's own blocks. Skips, saying why, where Home
Assistant cannot be installed (no Python 3.13+, no package index); never faked.
"""

import re
from dataclasses import replace

import pytest
import yaml

from device.discovery import payloads
from script.home_assistant import HomeAssistant, Unavailable, install
from tests.appliance import Appliance, mpd_plays, settings_for, tracks_of, wait_until
from tests.helpers import MqttWatcher
from tests.paths import REPO

DEVICE_ID = "kitchen"  # the README's
SECTION = REPO.joinpath("README.md").read_text().split("#### Home Assistant\n", 1)[1].split("\n#### ", 1)[0]
AUTOMATION, CARD = re.findall(r"^```yaml\n(.*?)^```", SECTION, re.M | re.S)


@pytest.fixture(scope="module")
def hass_python():
    """The Python of Home Assistant's cached virtual environment (made on first use: minutes)."""
    try:
        return install()
    except Unavailable as exc:
        pytest.skip(f"no Home Assistant here: {exc}")


@pytest.mark.slow
@pytest.mark.timeout(1500)  # a cold install of Home Assistant comes first (about 5 min here, 20 min at most)
def test_home_assistant_shows_and_drives_the_appliance(hass_python, lib, mpd, mosquitto, mock_pins, recognizer,
                                                       spoken, tmp_path):
    _, playlist_dir, map_path, emotions = lib
    heard, (speech,) = next(iter(spoken.items()))
    chosen = next(e for e in sorted(emotions) if e != heard)
    settings = settings_for(mpd, mosquitto, map_path, speech)
    settings = replace(settings, mqtt=replace(settings.mqtt, device_id=DEVICE_ID))
    discovery = payloads(settings.mqtt, sorted(emotions), recognizer.labels).values()
    ids = {p["default_entity_id"].split(".", 1)[1].removeprefix(f"emotune_{DEVICE_ID}_"): p["default_entity_id"]
           for p in discovery}
    assert sorted(ids.values()) == sorted(re.findall(r"^\| `([a-z_]+\.emotune_kitchen_[a-z_]+)` \|", SECTION, re.M))
    hass = HomeAssistant(hass_python, mosquitto, workdir=tmp_path / "hass", automations=AUTOMATION)
    with MqttWatcher(mosquitto, ["homeassistant/status"]) as birth, hass:
        # The appliance joins a Home Assistant that is up (its birth message), as in a home; entities
        # made during Home Assistant's start-up would reach its registry only 180 s later.
        birth.wait_for("homeassistant/status", lambda p: p == "online", timeout=120)

        def states(*wanted):
            def match():
                now = hass.states()
                return now if all(now.get(ids[key], {}).get("state") == value for key, value in wanted) else None
            return match

        def wait(*wanted, timeout=30.0, what=""):
            return wait_until(states(*wanted), timeout, f"Home Assistant showing {what or wanted}")

        with Appliance(settings, recognizer, mock_pins) as box:
            first = wait_until(lambda: (s := hass.states()) and all(
                s.get(i, {}).get("state", "unavailable") != "unavailable" for i in ids.values()) and s,
                60, "all eleven entities available in Home Assistant")
            volume = mpd.status()["volume"]
            assert {k: first[i]["state"] for k, i in ids.items() if k != "volume"} == {
                "emotion": "unknown", "state": "idle", "listening": "off", "last_heard": "unknown",
                "listen": "unknown", "stop": "unknown", "next": "unknown", "mood": "unknown", "feel": "unknown",
                "forget": "unknown"}
            assert float(first[ids["volume"]]["state"]) == float(volume)  # MPD's, before anyone set it
            assert first[ids["mood"]]["attributes"]["options"] == sorted(emotions)
            assert first[ids["emotion"]]["attributes"]["friendly_name"] == f"emotune {DEVICE_ID} Emotion"
            card = yaml.safe_load(CARD)
            assert card["type"] == "entities" and set(card["entities"]) <= set(first)

            # The README's automation, triggered as its time trigger would: it presses Listen.
            (automation,) = [i for i in first if i.startswith("automation.")]
            assert first[automation]["attributes"]["friendly_name"] == yaml.safe_load(AUTOMATION)[0]["alias"]
            hass.call("automation", "trigger", entity_id=automation)
            shown = wait(("emotion", heard), ("mood", heard), ("state", "playing"), what=f"{heard}, playing")
            wait_until(lambda: mpd_plays(mpd, tracks_of(playlist_dir, emotions[heard])), 10, "MPD playing the map")
            assert shown[ids["last_heard"]]["state"] not in ("unknown", "unavailable")
            listening = shown[ids["listening"]]  # it was on while the box recorded, and is off again
            assert listening["state"] == "off" and listening["last_changed"] > first[ids["listening"]]["last_changed"]
            attributes = shown[ids["emotion"]]["attributes"]
            assert attributes["playlist"] == emotions[heard][0] and attributes["confidence"] >= 0.6
            assert hass.api("GET", f"/api/states/{automation}")["attributes"]["last_triggered"]

            # A mood picked in Home Assistant plays, and the select shows it because the box says so.
            hass.call("select", "select_option", entity_id=ids["mood"], option=chosen)
            wait(("mood", chosen), ("emotion", chosen), ("state", "playing"), what=f"mood {chosen}")
            wait_until(lambda: mpd_plays(mpd, tracks_of(playlist_dir, emotions[chosen])), 10, "MPD playing it")
            hass.call("number", "set_value", entity_id=ids["volume"], value=70)
            wait_until(lambda: mpd.status()["volume"] == "70", 10, "MPD at volume 70")

            # The box changes on its own: another MPD client sets the volume, its button stops the music.
            mpd.command("setvol 35")
            wait_until(lambda: float(hass.state(ids["volume"])) == 35, 30, "volume 35 set by another MPD client")
            box.hold()
            wait(("mood", "unknown"), ("state", "idle"), ("listening", "off"), what="stopped by the box's button")
            box.press()  # and it listens again, heard by Home Assistant
            wait(("emotion", heard), ("mood", heard), ("state", "playing"), what="playing after the box's own press")

            # "I feel": the listener corrects it from Home Assistant; the box plays for the felt emotion.
            hass.call("select", "select_option", entity_id=ids["feel"], option=chosen)
            wait(("feel", chosen), ("emotion", chosen), ("mood", chosen), ("state", "playing"), what=f"feel {chosen}")
            wait_until(lambda: mpd_plays(mpd, tracks_of(playlist_dir, emotions[chosen])), 10, "MPD playing it")
            assert hass.state(ids["emotion"]) == chosen
            assert hass.states()[ids["emotion"]]["attributes"]["reason"] == "corrected"
            assert box.stop() == 0  # what SIGTERM does (device/run.py; tests/test_run.py sends the signal)
            wait(*[(key, "unavailable") for key in ids], what="all eleven unavailable")

        open_sockets = hass.listening()
        assert open_sockets and all(" 127.0.0.1:" in s or " ::1:" in s for s in open_sockets), open_sockets
        warnings = [line for line in hass.errors() if "mqtt" in line.lower() or "emotune" in line.lower()]
        assert not warnings, warnings
    # Stopped: Home Assistant has written its registries.
    entities = [e for e in hass.registry("core.entity_registry")["entities"] if e["platform"] == "mqtt"]
    assert sorted((e["unique_id"], e["entity_id"]) for e in entities) == \
        sorted((f"emotune_{DEVICE_ID}_{key}", i) for key, i in ids.items())
    (device,) = [d for d in hass.registry("core.device_registry")["devices"]
                 if ["mqtt", f"emotune_{DEVICE_ID}"] in d["identifiers"]]
    assert device["name"] == f"emotune {DEVICE_ID}" and {e["device_id"] for e in entities} == {device["id"]}


def test_without_python_3_13_it_says_so_and_installs_nothing(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))  # no python3.x here
    monkeypatch.setenv("PYENV_ROOT", str(tmp_path / "pyenv"))
    monkeypatch.delenv("EMOTUNE_HA_PYTHON", raising=False)
    with pytest.raises(Unavailable, match=r"needs Python >= 3\.13; found only none"):
        install(tmp_path / "cache")
    assert not (tmp_path / "cache").exists()
