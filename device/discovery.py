"""Home Assistant MQTT discovery payloads for the appliance, as plain dicts (no broker needed).

One device, ``emotune <device_id>``, with eleven entities (nine without ``feelings``), every one
read from the retained state topic (nothing optimistic) or writing the command topic:

=====================  ==============================================  ==================================
entity id              shows / does                                    from the state's
=====================  ==============================================  ==================================
sensor …_emotion       the emotion heard (unknown when none); the      ``emotion``; the whole state
                       whole state as attributes
sensor …_state         idle, listening, thinking, playing, unsure,     ``state``
                       error (diagnostic)
binary_sensor          on while it records                             ``state == "listening"``
…_listening
sensor …_last_heard    when it last recognised an emotion (timestamp)  ``history[0].at``
button …_listen,       a short press, a long press, skip               (command topic)
…_stop, …_next
select …_mood          the mood whose playlists play (unknown when     ``mood``
                       nothing plays); picking one plays it
number …_volume        MPD's volume, 0-100; moving it sets it          ``volume``
select …_feel          "I feel": what the listener said they felt      ``history[0].felt``
                       last; picking one corrects the last
                       recognition (the ``feel`` command)
button …_forget        forget every correction and playlist outcome    (command topic)
=====================  ==============================================  ==================================

Entity ids are ``<component>.emotune_<device_id>_<key>``: sent as ``default_entity_id`` (Home
Assistant 2025.10 and later) and as ``object_id`` (older versions; deprecated since 2025.10,
ignored from 2026.4). Each version ignores the key it does not know. Every entity has the stable
``unique_id`` ``emotune_<device_id>_<key>`` and the appliance's availability topic. A template that
renders ``None`` (JSON null) is Home Assistant's "unknown".

>>> topics = payloads(MqttSettings(device_id="kitchen"), ["calm", "happy"])
>>> sorted(topics)[0]
'homeassistant/binary_sensor/emotune_kitchen/listening/config'
>>> topics['homeassistant/select/emotune_kitchen/mood/config']['default_entity_id']
'select.emotune_kitchen_mood'
"""

from __future__ import annotations

from collections.abc import Sequence

from . import __version__, commands
from .config import MqttSettings

ORIGIN = {"name": "emotune", "sw_version": __version__}


def payloads(settings: MqttSettings, emotions: Sequence[str], feelings: Sequence[str] = ()) -> dict[str, dict]:
    """Return ``{config topic: payload}`` for every entity; ``{}`` when discovery is off.

    ``emotions`` are the map's (the mood select's options); ``feelings`` the model's labels (the
    "I feel" select's options; none: no such select, nor the forget button).
    """
    if not settings.discovery_prefix:
        return {}
    base = settings.base_topic
    node = f"emotune_{settings.device_id}"
    state, command = f"{base}/state", f"{base}/command"
    common = {
        "device": {
            "identifiers": [node],
            "name": f"emotune {settings.device_id}",
            "manufacturer": "emotune",
            "model": "emotune voice mood player",
            "sw_version": __version__,
        },
        "origin": ORIGIN,
        "availability": [{"topic": f"{base}/availability", "payload_available": "online",
                          "payload_not_available": "offline"}],
    }
    entities = {
        ("sensor", "emotion"): {
            "name": "Emotion", "icon": "mdi:emoticon-outline", "state_topic": state,
            "value_template": "{{ value_json.emotion }}", "json_attributes_topic": state,
        },
        ("sensor", "state"): {
            "name": "State", "icon": "mdi:state-machine", "state_topic": state,
            "value_template": "{{ value_json.state }}", "entity_category": "diagnostic",
        },
        ("binary_sensor", "listening"): {
            "name": "Listening", "icon": "mdi:ear-hearing", "state_topic": state,
            "value_template": "{{ 'ON' if value_json.state == 'listening' else 'OFF' }}",
        },
        ("sensor", "last_heard"): {
            "name": "Last heard", "icon": "mdi:history", "device_class": "timestamp", "state_topic": state,
            "value_template": "{{ value_json.history[0].at if value_json.history else None }}",
        },
        ("button", "listen"): {
            "name": "Listen", "icon": "mdi:microphone", "command_topic": command,
            "payload_press": commands.payload("listen"),
        },
        ("button", "stop"): {
            "name": "Stop", "icon": "mdi:stop", "command_topic": command, "payload_press": commands.payload("stop"),
        },
        ("button", "next"): {
            "name": "Next", "icon": "mdi:skip-next", "command_topic": command,
            "payload_press": commands.payload("next"),
        },
        ("select", "mood"): {
            "name": "Play mood", "icon": "mdi:playlist-music", "command_topic": command,
            "command_template": commands.template("play", "emotion", "{{ value }}"), "options": sorted(emotions),
            "state_topic": state, "value_template": "{{ value_json.mood }}",
        },
        ("number", "volume"): {
            "name": "Volume", "icon": "mdi:volume-high", "command_topic": command,
            "command_template": commands.template("volume", "level", "{{ value | int }}", number=True),
            "min": 0, "max": 100, "step": 1, "mode": "slider",
            "state_topic": state, "value_template": "{{ value_json.volume }}",
        },
    }
    if feelings:
        entities["select", "feel"] = {
            "name": "I feel", "icon": "mdi:account-heart", "command_topic": command,
            "command_template": commands.template("feel", "emotion", "{{ value }}"), "options": list(feelings),
            "state_topic": state,
            "value_template": "{{ value_json.history[0].felt if value_json.history and "
                              "value_json.history[0].felt is defined else None }}",
        }
        entities["button", "forget"] = {
            "name": "Forget what it learnt", "icon": "mdi:restore", "command_topic": command,
            "payload_press": commands.payload("forget"), "entity_category": "config",
        }
    if not emotions:
        del entities["select", "mood"]  # Home Assistant refuses a select without options
    return {
        f"{settings.discovery_prefix}/{component}/{node}/{key}/config": {
            **body, "unique_id": f"{node}_{key}", "default_entity_id": f"{component}.{node}_{key}",
            "object_id": f"{node}_{key}", **common,
        }
        for (component, key), body in entities.items()
    }
