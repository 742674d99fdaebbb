"""The MQTT command grammar: :func:`parse_command` reads a payload, :func:`payload` and :func:`template` write one.

A command is a JSON object with an ``action`` (one of :data:`ACTIONS`) and, for some, one field:

    >>> payload("listen")
    '{"action": "listen"}'
    >>> parse_command(template("volume", "level", "{{ value | int }}", number=True).replace("{{ value | int }}", "40"))
    Command(action='volume', emotion=None, level=40)

Home Assistant's discovery (:mod:`device.discovery`) writes its buttons' payloads and its
selects' and number's templates with them, so the two sides cannot drift apart.
"""

from __future__ import annotations

import json
import math

from .errors import CommandError
from .events import Command

ACTIONS = ("listen", "play", "stop", "next", "volume", "feel", "forget")
MAX_COMMAND_BYTES = 4096


def parse_command(payload: bytes | str) -> Command:
    """Return the :class:`Command` in an MQTT payload, or raise :class:`CommandError` saying why not.

    >>> parse_command(b'{"action": "volume", "level": 40}')
    Command(action='volume', emotion=None, level=40)
    """
    if len(payload) > MAX_COMMAND_BYTES:
        raise CommandError(f"command too long ({len(payload)} bytes)")
    try:
        data = json.loads(payload)
    except (ValueError, RecursionError):
        raise CommandError(f"command is not JSON: {payload[:80]!r}") from None
    if not isinstance(data, dict):
        raise CommandError("command must be a JSON object like {\"action\": \"listen\"}")
    action = data.get("action")
    if action not in ACTIONS:
        raise CommandError(f"unknown action {str(action)[:40]!r} (known: {', '.join(ACTIONS)})")
    if action in ("play", "feel"):
        emotion = data.get("emotion")
        if not isinstance(emotion, str) or not emotion or len(emotion) > 40:
            raise CommandError(f'"{action}" needs "emotion", e.g. {{"action": "{action}", "emotion": "calm"}}')
        return Command(action, emotion=emotion)
    if action == "volume":
        level = data.get("level")
        if isinstance(level, bool) or not isinstance(level, int | float) or not math.isfinite(level) \
                or not 0 <= level <= 100:
            raise CommandError('"volume" needs "level" from 0 to 100')
        return Command("volume", level=int(round(level)))
    return Command(action)


def payload(action: str, **fields) -> str:
    """The command ``action`` with ``fields`` as a JSON payload (what a Home Assistant button sends)."""
    return json.dumps({"action": action, **fields})


def template(action: str, field: str, expression: str, *, number: bool = False) -> str:
    """A Home Assistant ``command_template``: the command ``action`` whose ``field`` is the Jinja ``expression``.

    The rendered value is a JSON string, or with ``number`` a JSON number (the expression unquoted).
    """
    value = expression if number else f'"{expression}"'
    return f'{{"action": {json.dumps(action)}, {json.dumps(field)}: {value}}}'
