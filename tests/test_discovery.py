"""Home Assistant discovery payloads: exact dicts, then read back retained from a real broker."""

import json

from device import __version__
from device.commands import parse_command
from device.config import MqttSettings
from device.discovery import payloads
from device.events import BrokerBack, Command
from device.mqtt import Mqtt
from tests.helpers import MqttWatcher, Recorder

SETTINGS = MqttSettings(device_id="kitchen", discovery_prefix="homeassistant")
DEVICE = {"identifiers": ["emotune_kitchen"], "name": "emotune kitchen", "manufacturer": "emotune",
          "model": "emotune voice mood player", "sw_version": __version__}
ORIGIN = {"name": "emotune", "sw_version": __version__}
AVAILABILITY = [{"topic": "emotune/kitchen/availability", "payload_available": "online",
                 "payload_not_available": "offline"}]


def test_the_emotion_sensor_exactly():
    assert payloads(SETTINGS, ["happy", "calm"])["homeassistant/sensor/emotune_kitchen/emotion/config"] == {
        "name": "Emotion",
        "icon": "mdi:emoticon-outline",
        "state_topic": "emotune/kitchen/state",
        "value_template": "{{ value_json.emotion }}",
        "json_attributes_topic": "emotune/kitchen/state",
        "unique_id": "emotune_kitchen_emotion",
        "default_entity_id": "sensor.emotune_kitchen_emotion",
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
        "default_entity_id": "button.emotune_kitchen_listen", "object_id": "emotune_kitchen_listen",
        "device": DEVICE, "origin": ORIGIN, "availability": AVAILABILITY,
    }
    assert topics["homeassistant/button/emotune_kitchen/stop/config"]["payload_press"] == '{"action": "stop"}'
    assert topics["homeassistant/select/emotune_kitchen/mood/config"] == {
        "name": "Play mood", "icon": "mdi:playlist-music", "command_topic": "emotune/kitchen/command",
        "command_template": '{"action": "play", "emotion": "{{ value }}"}', "options": ["calm", "happy"],
        "state_topic": "emotune/kitchen/state", "value_template": "{{ value_json.mood }}",
        "unique_id": "emotune_kitchen_mood", "default_entity_id": "select.emotune_kitchen_mood",
        "object_id": "emotune_kitchen_mood", "device": DEVICE, "origin": ORIGIN, "availability": AVAILABILITY,
    }
    assert sorted(topics) == [
        "homeassistant/binary_sensor/emotune_kitchen/listening/config",
        "homeassistant/button/emotune_kitchen/listen/config",
        "homeassistant/button/emotune_kitchen/next/config",
        "homeassistant/button/emotune_kitchen/stop/config",
        "homeassistant/number/emotune_kitchen/volume/config",
        "homeassistant/select/emotune_kitchen/mood/config",
        "homeassistant/sensor/emotune_kitchen/emotion/config",
        "homeassistant/sensor/emotune_kitchen/last_heard/config",
        "homeassistant/sensor/emotune_kitchen/state/config",
    ]


def test_the_volume_the_listening_sensor_and_the_last_heard_time_read_the_state_exactly():
    topics = payloads(SETTINGS, ["calm"])
    common = {"device": DEVICE, "origin": ORIGIN, "availability": AVAILABILITY}
    assert topics["homeassistant/number/emotune_kitchen/volume/config"] == {
        "name": "Volume", "icon": "mdi:volume-high", "command_topic": "emotune/kitchen/command",
        "command_template": '{"action": "volume", "level": {{ value | int }}}',
        "min": 0, "max": 100, "step": 1, "mode": "slider",
        "state_topic": "emotune/kitchen/state", "value_template": "{{ value_json.volume }}",
        "unique_id": "emotune_kitchen_volume", "default_entity_id": "number.emotune_kitchen_volume",
        "object_id": "emotune_kitchen_volume", **common,
    }
    assert topics["homeassistant/binary_sensor/emotune_kitchen/listening/config"] == {
        "name": "Listening", "icon": "mdi:ear-hearing", "state_topic": "emotune/kitchen/state",
        "value_template": "{{ 'ON' if value_json.state == 'listening' else 'OFF' }}",
        "unique_id": "emotune_kitchen_listening", "default_entity_id": "binary_sensor.emotune_kitchen_listening",
        "object_id": "emotune_kitchen_listening", **common,
    }
    assert topics["homeassistant/sensor/emotune_kitchen/last_heard/config"] == {
        "name": "Last heard", "icon": "mdi:history", "device_class": "timestamp",
        "state_topic": "emotune/kitchen/state",
        "value_template": "{{ value_json.history[0].at if value_json.history else None }}",
        "unique_id": "emotune_kitchen_last_heard", "default_entity_id": "sensor.emotune_kitchen_last_heard",
        "object_id": "emotune_kitchen_last_heard", **common,
    }


def test_no_entity_is_optimistic_and_every_default_entity_id_names_its_component():
    for topic, payload in payloads(SETTINGS, ["calm"]).items():
        component = topic.split("/")[1]
        assert "optimistic" not in payload
        assert payload["default_entity_id"] == f"{component}.{payload['object_id']}" == \
            f"{component}.{payload['unique_id']}"
        assert "command_topic" in payload or "state_topic" in payload


def test_unique_ids_are_unique_and_stable_per_device():
    ids = [p["unique_id"] for p in payloads(SETTINGS, ["calm"]).values()]
    assert len(set(ids)) == len(ids)
    other = [p["unique_id"] for p in payloads(MqttSettings(device_id="hall"), ["calm"]).values()]
    assert not set(ids) & set(other)
    assert ids == [p["unique_id"] for p in payloads(SETTINGS, ["calm"]).values()]


def test_the_command_templates_make_commands_the_daemon_accepts():
    from device.commands import parse_command
    from device.events import Command

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


def test_the_i_feel_select_and_the_forget_button_exactly():
    topics = payloads(SETTINGS, ["calm"], ["neutral", "calm", "sad"])
    assert topics["homeassistant/select/emotune_kitchen/feel/config"] == {
        "name": "I feel", "icon": "mdi:account-heart", "command_topic": "emotune/kitchen/command",
        "command_template": '{"action": "feel", "emotion": "{{ value }}"}', "options": ["neutral", "calm", "sad"],
        "state_topic": "emotune/kitchen/state",
        "value_template": "{{ value_json.history[0].felt if value_json.history and value_json.history[0].felt "
                          "is defined else None }}",
        "unique_id": "emotune_kitchen_feel", "default_entity_id": "select.emotune_kitchen_feel",
        "object_id": "emotune_kitchen_feel", "device": DEVICE, "origin": ORIGIN, "availability": AVAILABILITY,
    }
    forget = topics["homeassistant/button/emotune_kitchen/forget/config"]
    assert (forget["payload_press"], forget["entity_category"]) == ('{"action": "forget"}', "config")
    assert parse_command(forget["payload_press"]) == Command("forget")
    assert parse_command(topics["homeassistant/select/emotune_kitchen/feel/config"]["command_template"]
                         .replace("{{ value }}", "sad")) == Command("feel", emotion="sad")
    assert "homeassistant/select/emotune_kitchen/feel/config" not in payloads(SETTINGS, ["calm"])  # no labels given
