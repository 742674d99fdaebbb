"""Test helpers: :class:`Recorder` (an ``emit`` that keeps what it is given), :class:`MqttWatcher` (a plain
paho client), :func:`write_tone` (a stand-in track). The servers themselves are the product's
(:mod:`script.servers`), which the demo runs too.
"""

from __future__ import annotations

import time
from pathlib import Path


def write_tone(path: str | Path, freq: float = 440.0, seconds: float = 2.0, rate: int = 22050) -> Path:
    """Write a short sine tone as a WAV file (a stand-in track for MPD's library); return its path."""
    import numpy as np
    import soundfile

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    t = np.arange(int(seconds * rate)) / rate
    soundfile.write(str(path), (0.2 * np.sin(2 * np.pi * freq * t)).astype(np.float32), rate)
    return path


class Recorder:
    """An ``emit`` callable that keeps what it is given, with :meth:`wait_for` (thread-safe)."""

    def __init__(self):
        import threading

        self.items: list = []
        self._cond = threading.Condition()

    def __call__(self, item) -> None:
        with self._cond:
            self.items.append(item)
            self._cond.notify_all()

    def wait_for(self, predicate, timeout: float = 10.0, what: str = "an expected event"):
        """Return the first item (oldest first) matching ``predicate``; raise AssertionError after ``timeout``."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                for item in self.items:
                    if predicate(item):
                        return item
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"no {what} within {timeout:g}s; got {self.items[-10:]!r}")
                self._cond.wait(left)

    def clear(self) -> None:
        with self._cond:
            self.items.clear()

    def of(self, kind) -> list:
        with self._cond:
            return [i for i in self.items if isinstance(i, kind)]


class MqttWatcher:
    """A plain paho client for tests: records every message on ``topics`` and can publish.

    ``messages`` is a :class:`Recorder` of ``(topic, payload str, retain)`` tuples; retained messages
    arrive first, with ``retain`` true.
    """

    def __init__(self, broker, topics=("#",), username=None, password=None):
        import paho.mqtt.client as mqtt

        self.messages = Recorder()
        self._subscribed = Recorder()
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2)
        if username:
            self.client.username_pw_set(username, password)
        self.client.on_message = lambda c, u, m: self.messages((m.topic, m.payload.decode(errors="replace"),
                                                               bool(m.retain)))
        self.client.on_subscribe = lambda c, u, mid, rc, p: self._subscribed(mid)
        self.client.on_connect = lambda c, u, f, rc, p: [c.subscribe(t, qos=1) for t in topics]
        self.client.connect(broker.host, broker.port, keepalive=10)
        self.client.loop_start()
        self._subscribed.wait_for(lambda mid: len(self._subscribed.items) >= len(topics), 10, "SUBACK")

    def publish(self, topic: str, payload, retain: bool = False) -> None:
        self.client.publish(topic, payload, qos=1, retain=retain).wait_for_publish(5)

    def wait_for(self, topic: str, predicate=lambda payload: True, timeout: float = 10.0):
        """Return the payload of the first message on ``topic`` for which ``predicate(payload)`` holds."""
        return self.messages.wait_for(lambda m: m[0] == topic and predicate(m[1]), timeout,
                                      f"message on {topic}")[1]

    def last(self, topic: str):
        found = [m[1] for m in self.messages.items if m[0] == topic]
        return found[-1] if found else None

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
