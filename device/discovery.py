"""Home Assistant MQTT discovery payloads for the appliance, as plain dicts (no broker needed).

One device, ``emotune <device_id>``, with: a sensor for the emotion heard (the whole state, with
confidence, playlist and recent history, as attributes), a sensor for the appliance's state, buttons
to listen, stop and skip, a select to play a mood, and a volume slider. Every entity has a stable
``unique_id`` built from the device id, and the appliance's availability topic.

>>> topics = payloads(MqttSettings(device_id="kitchen"), ["calm", "happy"])
>>> sorted(topics)[0]
'homeassistant/button/emotune_kitchen/listen/config'
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from . import __version__
from .config import MqttSettings

ORIGIN = {"name": "emotune", "sw_version": __version__, "support_url": "https://github.com/emotune/emotune"}


def _command(action: str, **fields) -> str:
    return json.dumps({"action": action, **fields})


def payloads(settings: MqttSettings, emotions: Sequence[str]) -> dict[str, dict]:
    """Return ``{config topic: payload}`` for every entity; ``{}`` when discovery is off."""
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
            "value_template": "{{ value_json.emotion if value_json.emotion else 'none' }}",
            "json_attributes_topic": state,
        },
        ("sensor", "state"): {
            "name": "State", "icon": "mdi:state-machine", "state_topic": state,
            "value_template": "{{ value_json.state }}", "entity_category": "diagnostic",
        },
        ("button", "listen"): {
            "name": "Listen", "icon": "mdi:microphone", "command_topic": command,
            "payload_press": _command("listen"),
        },
        ("button", "stop"): {
            "name": "Stop", "icon": "mdi:stop", "command_topic": command, "payload_press": _command("stop"),
        },
        ("button", "next"): {
            "name": "Next", "icon": "mdi:skip-next", "command_topic": command, "payload_press": _command("next"),
        },
        ("select", "mood"): {
            "name": "Play mood", "icon": "mdi:playlist-music", "command_topic": command,
            "command_template": '{"action": "play", "emotion": "{{ value }}"}', "options": sorted(emotions),
            "optimistic": True,
        },
        ("number", "volume"): {
            "name": "Volume", "icon": "mdi:volume-high", "command_topic": command,
            "command_template": '{"action": "volume", "level": {{ value | int }}}',
            "min": 0, "max": 100, "step": 1, "mode": "slider", "optimistic": True,
        },
    }
    if not emotions:
        del entities["select", "mood"]  # Home Assistant refuses a select without options
    return {
        f"{settings.discovery_prefix}/{component}/{node}/{key}/config":
            {**body, "unique_id": f"{node}_{key}", "object_id": f"{node}_{key}", **common}
        for (component, key), body in entities.items()
    }
