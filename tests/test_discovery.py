"""Home Assistant discovery payloads: exact dicts, then read back retained from a real broker."""

import json

from helpers import MqttWatcher, Recorder

from device import __version__
from device.config import MqttSettings
from device.discovery import payloads
from device.machine import BrokerBack
from device.mqtt import Mqtt

SETTINGS = MqttSettings(device_id="kitchen", discovery_prefix="homeassistant")
DEVICE = {"identifiers": ["emotune_kitchen"], "name": "emotune kitchen", "manufacturer": "emotune",
          "model": "emotune voice mood player", "sw_version": __version__}
ORIGIN = {"name": "emotune", "sw_version": __version__, "support_url": "https://github.com/emotune/emotune"}
AVAILABILITY = [{"topic": "emotune/kitchen/availability", "payload_available": "online",
                 "payload_not_available": "offline"}]


def test_the_emotion_sensor_exactly():
    assert payloads(SETTINGS, ["happy", "calm"])["homeassistant/sensor/emotune_kitchen/emotion/config"] == {
        "name": "Emotion",
        "icon": "mdi:emoticon-outline",
        "state_topic": "emotune/kitchen/state",
        "value_template": "{{ value_json.emotion if value_json.emotion else 'none' }}",
        "json_attributes_topic": "emotune/kitchen/state",
        "unique_id": "emotune_kitchen_emotion",
        "object_id": "emotune_kitchen_emotion",
        "device": DEVICE,
        "origin": ORIGIN,
        "availability": AVAILABILITY,
    }


def test_the_buttons_and_the_mood_select_exactly():
    topics = payloads(SETTINGS, ["happy", "calm"])
    assert topics["homeassistant/button/emotune_kitchen/listen/config"] == {
        "name": "Listen", "icon": "mdi:microphone", "command_topic": "emotune/kitchen/command",
        "payload_press": '{"action": "listen"}', "unique_id": "emotune_kitchen_listen",
        "object_id": "emotune_kitchen_listen", "device": DEVICE, "origin": ORIGIN, "availability": AVAILABILITY,
    }
    assert topics["homeassistant/button/emotune_kitchen/stop/config"]["payload_press"] == '{"action": "stop"}'
    assert topics["homeassistant/select/emotune_kitchen/mood/config"] == {
        "name": "Play mood", "icon": "mdi:playlist-music", "command_topic": "emotune/kitchen/command",
        "command_template": '{"action": "play", "emotion": "{{ value }}"}', "options": ["calm", "happy"],
        "optimistic": True, "unique_id": "emotune_kitchen_mood", "object_id": "emotune_kitchen_mood",
        "device": DEVICE, "origin": ORIGIN, "availability": AVAILABILITY,
    }
    assert sorted(topics) == [
        "homeassistant/button/emotune_kitchen/listen/config",
        "homeassistant/button/emotune_kitchen/next/config",
        "homeassistant/button/emotune_kitchen/stop/config",
        "homeassistant/number/emotune_kitchen/volume/config",
        "homeassistant/select/emotune_kitchen/mood/config",
        "homeassistant/sensor/emotune_kitchen/emotion/config",
        "homeassistant/sensor/emotune_kitchen/state/config",
    ]


def test_unique_ids_are_unique_and_stable_per_device():
    ids = [p["unique_id"] for p in payloads(SETTINGS, ["calm"]).values()]
    assert len(set(ids)) == len(ids)
    other = [p["unique_id"] for p in payloads(MqttSettings(device_id="hall"), ["calm"]).values()]
    assert not set(ids) & set(other)
    assert ids == [p["unique_id"] for p in payloads(SETTINGS, ["calm"]).values()]


def test_the_command_templates_make_commands_the_daemon_accepts():
    from device.machine import Command, parse_command

    topics = payloads(SETTINGS, ["calm"])
    volume = topics["homeassistant/number/emotune_kitchen/volume/config"]["command_template"]
    assert parse_command(volume.replace("{{ value | int }}", "42")) == Command("volume", level=42)
    mood = topics["homeassistant/select/emotune_kitchen/mood/config"]["command_template"]
    assert parse_command(mood.replace("{{ value }}", "calm")) == Command("play", emotion="calm")


def test_no_prefix_no_discovery_and_no_emotions_no_select():
    assert payloads(MqttSettings(device_id="x", discovery_prefix=""), ["calm"]) == {}
    assert not [t for t in payloads(SETTINGS, []) if "/select/" in t]


def test_discovery_is_retained_on_the_broker_and_republished_when_home_assistant_returns(mosquitto):
    settings = MqttSettings(host=mosquitto.host, port=mosquitto.port, device_id="kitchen")
    expected = payloads(settings, ["happy", "calm"])
    events = Recorder()
    with Mqtt(settings, events, discovery=expected):
        events.wait_for(lambda e: isinstance(e, BrokerBack))
        with MqttWatcher(mosquitto, ["homeassistant/#"]) as first:  # the publishing may still be on its way
            for topic in expected:
                first.wait_for(topic)
        with MqttWatcher(mosquitto, ["homeassistant/#"]) as ha:  # subscribes after: gets retained copies
            for topic, payload in expected.items():
                assert json.loads(ha.wait_for(topic)) == payload
            assert all(retain for _, _, retain in ha.messages.items)
            ha.messages.clear()
            events.clear()
            ha.publish("homeassistant/status", "online")
            events.wait_for(lambda e: isinstance(e, BrokerBack))
            for topic, payload in expected.items():
                assert json.loads(ha.wait_for(topic)) == payload
