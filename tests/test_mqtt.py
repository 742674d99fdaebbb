"""The MQTT link against a real mosquitto: availability, retained state, commands, will, reconnects."""

import json
import subprocess
import sys
import textwrap

from helpers import MqttWatcher, Recorder

from device.config import MqttSettings
from device.machine import BrokerBack, Command
from device.mqtt import Mqtt


def settings_for(broker, **kw):
    return MqttSettings(host=broker.host, port=broker.port, device_id="t1", keepalive=5, **kw)


def test_online_state_commands_and_offline_on_close(mosquitto):
    events = Recorder()
    with MqttWatcher(mosquitto, ["emotune/t1/#"]) as watcher:
        with Mqtt(settings_for(mosquitto), events) as link:
            events.wait_for(lambda e: isinstance(e, BrokerBack))
            assert watcher.wait_for("emotune/t1/availability") == "online"
            link.publish_state({"state": "idle", "emotion": None})
            assert json.loads(watcher.wait_for("emotune/t1/state")) == {"state": "idle", "emotion": None}
            watcher.publish("emotune/t1/command", '{"action": "play", "emotion": "calm"}')
            assert events.wait_for(lambda e: isinstance(e, Command)) == Command("play", emotion="calm")
        assert watcher.wait_for("emotune/t1/availability", lambda p: p == "offline") == "offline"
    with MqttWatcher(mosquitto, ["emotune/t1/#"]) as late:  # retained for whoever comes later
        assert late.wait_for("emotune/t1/availability") == "offline"
        assert json.loads(late.wait_for("emotune/t1/state"))["state"] == "idle"


def test_garbage_commands_are_ignored_and_the_link_keeps_working(mosquitto):
    events = Recorder()
    with Mqtt(settings_for(mosquitto), events), MqttWatcher(mosquitto, ["emotune/t1/state"]) as watcher:
        events.wait_for(lambda e: isinstance(e, BrokerBack))
        for junk in [b"", b"\xff\x00", b"listen", b'{"action": "fly"}', b"[" * 5000, b'{"action": "volume"}',
                     b'{"action": "volume", "level": 1e999}', json.dumps({"action": "play", "emotion": None})]:
            watcher.publish("emotune/t1/command", junk)
        watcher.publish("emotune/t1/command", '{"action": "stop"}')
        events.wait_for(lambda e: isinstance(e, Command))
        assert events.of(Command) == [Command("stop")]


def test_the_broker_publishes_offline_when_the_appliance_vanishes(mosquitto):
    code = textwrap.dedent(f"""
        import sys, threading
        from device.config import MqttSettings
        from device.mqtt import Mqtt
        up = threading.Event()
        link = Mqtt(MqttSettings(host="{mosquitto.host}", port={mosquitto.port}, device_id="t1", keepalive=5),
                    lambda e: up.set()).start()
        up.wait(10)
        print("up", flush=True)
        threading.Event().wait(60)
    """)
    with MqttWatcher(mosquitto, ["emotune/t1/availability"]) as watcher:
        child = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
        try:
            assert child.stdout.readline().strip() == "up"
            watcher.wait_for("emotune/t1/availability", lambda p: p == "online")
            child.kill()
            watcher.wait_for("emotune/t1/availability", lambda p: p == "offline", timeout=15)
        finally:
            child.kill()
            child.wait(10)


def test_broker_down_at_start_then_up_then_restarted(mosquitto):
    mosquitto.stop()
    events = Recorder()
    with Mqtt(settings_for(mosquitto), events, backoff=(1, 2)) as link:
        assert not link.wait_connected(0.5)
        link.publish_state({"state": "idle"})  # while down: skipped, no error
        mosquitto.start()
        events.wait_for(lambda e: isinstance(e, BrokerBack), timeout=15)
        events.clear()
        mosquitto.restart()
        events.wait_for(lambda e: isinstance(e, BrokerBack), timeout=15)
        with MqttWatcher(mosquitto, ["emotune/t1/availability"]) as watcher:
            assert watcher.wait_for("emotune/t1/availability") == "online"


def test_username_and_password(mosquitto_factory):
    broker = mosquitto_factory(username="emotune", password="pw")
    good, bad = Recorder(), Recorder()
    with Mqtt(settings_for(broker, username="emotune", password="pw"), good), \
            Mqtt(MqttSettings(host=broker.host, port=broker.port, device_id="t2", username="emotune",
                              password="wrong"), bad) as refused:
        good.wait_for(lambda e: isinstance(e, BrokerBack))
        assert not refused.connected and bad.items == []


def test_closing_twice_and_closing_unstarted_are_harmless(mosquitto):
    link = Mqtt(settings_for(mosquitto), Recorder())
    link.close()
    link.start().close()
    link.close()
