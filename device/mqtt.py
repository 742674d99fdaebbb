"""The MQTT link (paho-mqtt 2.x): availability, retained state, commands, Home Assistant discovery.

Topics under ``emotune/<device_id>``: ``availability`` (retained ``online``; the broker publishes
the retained last will ``offline`` if the appliance vanishes, and :meth:`Mqtt.close` publishes it on
a clean stop), ``state`` (retained JSON, :meth:`publish_state`), ``command`` (JSON commands,
emitted as :class:`~device.events.Command`; anything else is logged and ignored) and ``instance``
(retained: which box holds this device id; see :func:`instance_id`).

A *retained* command is never obeyed: it would replay on every start and every reconnect (a
retained ``listen`` makes the box record with nobody pressing). It is logged with the command that
clears it.

On every (re)connect it publishes ``online`` and the discovery payloads, subscribes, and once the
broker acknowledges the subscription (so a command sent from then on is heard) emits
:class:`~device.events.BrokerBack` so the state is published again; the same happens when Home
Assistant announces ``online`` on ``<discovery_prefix>/status``. paho reconnects by itself with
exponential backoff (1 s to 30 s); the first failure of an outage is logged with its reason, the
retries at DEBUG. No paho exception leaves this module.
"""

from __future__ import annotations

import hashlib
import json
import logging
import socket
import ssl
import threading
import uuid
from collections.abc import Callable
from pathlib import Path

import paho.mqtt.client as mqtt

from .commands import parse_command
from .config import MqttSettings
from .errors import CommandError
from .events import BrokerBack, Event

log = logging.getLogger(__name__)


def instance_id(machine_id: Path = Path("/etc/machine-id")) -> str:
    """Return 8 hex digits naming this box: from its systemd machine id, else its network address.

    The same on every start of one box, different between boxes (even two with the same host
    name), so it makes the MQTT client id unique and tells a restart from a second box.
    """
    try:
        seed = machine_id.read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError):
        seed = ""
    return hashlib.sha256((seed or f"{uuid.getnode():012x}").encode()).hexdigest()[:8]


class Mqtt:
    """The appliance's MQTT connection, built from ``[mqtt]`` settings and an ``emit`` callable."""

    def __init__(self, settings: MqttSettings, emit: Callable[[Event], None], *,
                 discovery: dict[str, dict] | None = None, backoff: tuple[int, int] = (1, 30),
                 instance: str | None = None):
        self.settings = settings
        self.emit = emit
        self.discovery = discovery or {}
        self.backoff = backoff
        base = settings.base_topic
        self.availability_topic = f"{base}/availability"
        self.state_topic = f"{base}/state"
        self.command_topic = f"{base}/command"
        self.instance_topic = f"{base}/instance"
        self.instance = instance or instance_id()
        self._others: set[str] = set()  # other boxes seen with our device id (warned once each)
        self._failing = False  # a connection failure was logged and not yet followed by a connect
        self.hass_status_topic = f"{settings.discovery_prefix}/status" if settings.discovery_prefix else None
        self.client: mqtt.Client | None = None
        self._connected = threading.Event()
        self._started = False
        self._listening = threading.Event()
        self._subscription: int | None = None  # the mid of the last subscribe; its SUBACK emits BrokerBack

    # ------------------------------------------------------------ life cycle
    def _make_client(self) -> mqtt.Client:
        s = self.settings
        client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"emotune-{s.device_id}-{self.instance}",
                             protocol=mqtt.MQTTv311)
        client.suppress_exceptions = True
        if s.username:
            client.username_pw_set(s.username, s.password or None)
        if s.tls:
            client.tls_set(ca_certs=s.ca_file or None, cert_reqs=ssl.CERT_REQUIRED)
        client.will_set(self.availability_topic, "offline", qos=1, retain=True)
        client.reconnect_delay_set(*self.backoff)
        client.on_connect = self._on_connect
        client.on_connect_fail = self._on_connect_fail
        client.on_disconnect = self._on_disconnect
        client.on_message = self._on_message
        client.on_subscribe = self._on_subscribe
        return client

    def start(self) -> Mqtt:
        """Connect in the background (and keep reconnecting); returns at once."""
        if self._started:
            return self
        self._started = True
        self.client = self._make_client()
        try:
            self.client.connect_async(self.settings.host, self.settings.port, self.settings.keepalive)
            self.client.loop_start()
        except (OSError, ValueError) as exc:
            log.error("MQTT cannot start (%s:%s): %s", self.settings.host, self.settings.port, exc)
        return self

    def close(self, timeout: float = 3.0) -> None:
        """Publish ``offline`` (retained) if connected, disconnect and stop the network thread."""
        if not self._started:
            return
        self._started = False
        client = self.client
        try:
            if self._connected.is_set():
                info = client.publish(self.availability_topic, "offline", qos=1, retain=True)
                info.wait_for_publish(timeout)
            client.disconnect()
        except (OSError, ValueError, RuntimeError) as exc:
            log.warning("MQTT: could not say offline cleanly: %s", exc)
        client.loop_stop()
        self._connected.clear()

    def __enter__(self) -> Mqtt:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.close()

    @property
    def connected(self) -> bool:
        return self._connected.is_set()

    def wait_connected(self, timeout: float) -> bool:
        """Wait up to ``timeout`` seconds for a connection; whether there is one (a wait without sleeping)."""
        return self._connected.wait(timeout)

    def wait_listening(self, timeout: float) -> bool:
        """Wait up to ``timeout`` seconds until the broker has acknowledged the subscriptions (a command
        published from then on is heard); whether it has."""
        return self._listening.wait(timeout)

    def _where(self) -> str:
        return f"{self.settings.host}:{self.settings.port}"

    # ------------------------------------------------------------ domain
    def publish_state(self, state: dict) -> None:
        """Publish the retained state; skipped while disconnected (it is re-published on reconnect)."""
        self._publish(self.state_topic, json.dumps(state), retain=True)

    def publish_discovery(self) -> None:
        for topic, payload in self.discovery.items():
            self._publish(topic, json.dumps(payload), retain=True)

    def _publish(self, topic: str, payload: str, retain: bool) -> None:
        if not self._connected.is_set():
            return
        try:
            self.client.publish(topic, payload, qos=1, retain=retain)
        except (OSError, ValueError, RuntimeError) as exc:
            log.warning("MQTT publish to %s failed: %s", topic, exc)

    # ------------------------------------------------------------ paho callbacks (its thread)
    def _on_connect(self, client, userdata, flags, reason_code, properties) -> None:
        try:
            if reason_code.is_failure:
                self._failed(f"refused us: {reason_code}")
                return
            self._failing = False
            log.info("MQTT connected to %s", self._where())
            self._connected.set()
            client.publish(self.availability_topic, "online", qos=1, retain=True)
            topics = [(self.command_topic, 1), (self.instance_topic, 1)] + \
                ([(self.hass_status_topic, 1)] if self.hass_status_topic else [])
            # first: the retained instance we get back is the other box's, if any
            self._subscription = client.subscribe(topics)[1]
            client.publish(self.instance_topic, self.instance, qos=1, retain=True)
            self.publish_discovery()
        except Exception:  # a callback exception would end paho's thread
            log.exception("MQTT on_connect failed")

    def _on_subscribe(self, client, userdata, mid, reason_codes, properties) -> None:
        if mid != self._subscription:
            return
        try:
            self._listening.set()
            self.emit(BrokerBack())  # subscribed: from here on a command is heard, so publish the state
        except Exception:  # a callback exception would end paho's thread
            log.exception("MQTT on_subscribe failed")

    def _on_connect_fail(self, client, userdata) -> None:
        try:
            socket.getaddrinfo(self.settings.host, self.settings.port)
        except (OSError, UnicodeError) as exc:
            self._failed(f"cannot be found ({exc}); is [mqtt] host right?")
        else:
            self._failed("cannot be reached (no answer or connection refused)")

    def _failed(self, why: str) -> None:
        """Log a connection failure: the first of an outage as a warning, the retries at DEBUG."""
        level = logging.DEBUG if self._failing else logging.WARNING
        self._failing = True
        log.log(level, "MQTT broker %s %s; retrying with backoff up to %ss", self._where(), why, self.backoff[1])

    def _on_disconnect(self, client, userdata, flags, reason_code, properties) -> None:
        was = self._connected.is_set()
        self._connected.clear()
        self._listening.clear()
        if was and self._started:
            log.warning("MQTT broker %s lost (%s); reconnecting with backoff from %ss to %ss",
                        self._where(), reason_code, *self.backoff)

    def _on_message(self, client, userdata, message) -> None:
        try:
            if message.topic == self.command_topic and message.retain:
                log.warning("ignored a retained MQTT command on %s (commands must not be retained: it would "
                            "replay on every start); clear it with: mosquitto_pub -r -n -t %s",
                            message.topic, message.topic)
            elif message.topic == self.command_topic:
                try:
                    command = parse_command(message.payload)
                except CommandError as exc:
                    log.warning("ignored MQTT command: %s", exc)
                    return
                log.info("MQTT command %s", command)
                self.emit(command)
            elif message.topic == self.instance_topic:
                self._seen_instance(message.payload.decode("ascii", "replace")[:40])
            elif message.topic == self.hass_status_topic and message.payload == b"online":
                log.info("Home Assistant is online: publishing discovery and state again")
                self.publish_discovery()
                self.emit(BrokerBack())
        except Exception:  # a callback exception would end paho's thread
            log.exception("MQTT message on %s failed", message.topic)

    def _seen_instance(self, other: str) -> None:
        if other and other != self.instance and other not in self._others:
            self._others.add(other)
            log.warning("another emotune box (instance %s) uses device_id %r on this broker: the two share topics "
                        "and Home Assistant entities; give each box its own [mqtt] device_id", other,
                        self.settings.device_id)
