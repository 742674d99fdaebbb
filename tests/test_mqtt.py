"""The MQTT link against a real mosquitto: availability, retained state, commands, will, reconnects."""

import json
import logging
import subprocess
import sys
import textwrap
import time

import pytest

from device.config import MqttSettings
from device.events import BrokerBack, Command
from device.mqtt import Mqtt, instance_id
from script.servers import free_port, wait_until
from tests.helpers import MqttWatcher, Recorder


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
        assert not link.wait_connected(0.5) and not link.wait_listening(0)
        link.publish_state({"state": "idle"})  # while down: skipped, no error
        mosquitto.start()
        events.wait_for(lambda e: isinstance(e, BrokerBack), timeout=15)
        assert link.wait_listening(0)  # BrokerBack comes with the SUBACK: a command from now on is heard
        events.clear()
        mosquitto.stop()
        wait_until(lambda: not link.connected, 15, "the loss noticed")
        assert not link.wait_listening(0)
        mosquitto.start()
        events.wait_for(lambda e: isinstance(e, BrokerBack), timeout=15)
        assert link.wait_listening(0)
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


def test_a_retained_command_is_never_obeyed_and_says_how_to_clear_it(mosquitto, caplog):
    events = Recorder()
    with MqttWatcher(mosquitto) as watcher:
        watcher.publish("emotune/t1/command", '{"action": "listen"}', retain=True)
    with caplog.at_level(logging.WARNING, logger="device.mqtt"), Mqtt(settings_for(mosquitto), events), \
            MqttWatcher(mosquitto) as watcher:
        events.wait_for(lambda e: isinstance(e, BrokerBack))
        watcher.publish("emotune/t1/command", '{"action": "stop"}')  # live: obeyed, after the retained one
        events.wait_for(lambda e: isinstance(e, Command))
        assert events.of(Command) == [Command("stop")]
    assert "ignored a retained MQTT command" in caplog.text
    assert "mosquitto_pub -r -n -t emotune/t1/command" in caplog.text


def test_a_retained_command_is_not_replayed_on_reconnect(mosquitto):
    events = Recorder()
    with Mqtt(settings_for(mosquitto), events, backoff=(1, 2)), MqttWatcher(mosquitto) as watcher:
        events.wait_for(lambda e: isinstance(e, BrokerBack))
        watcher.publish("emotune/t1/command", '{"action": "play", "emotion": "sad"}', retain=True)
        events.wait_for(lambda e: isinstance(e, Command))  # delivered live (not flagged retained): obeyed once
        events.clear()
    with Mqtt(settings_for(mosquitto), events, backoff=(1, 2)):
        mosquitto.restart()
        events.wait_for(lambda e: isinstance(e, BrokerBack), timeout=15)
        events.clear()
        mosquitto.restart()
        events.wait_for(lambda e: isinstance(e, BrokerBack), timeout=15)
        assert events.of(Command) == []


def test_two_boxes_with_one_device_id_stay_connected_and_are_warned(mosquitto, caplog):
    a, b = Recorder(), Recorder()
    with caplog.at_level(logging.WARNING, logger="device.mqtt"):
        with Mqtt(settings_for(mosquitto), a, instance="aaaa0001"):
            a.wait_for(lambda e: isinstance(e, BrokerBack))
            with Mqtt(settings_for(mosquitto), b, instance="bbbb0002"):
                b.wait_for(lambda e: isinstance(e, BrokerBack))
                time.sleep(3)  # long enough for the old client-id fight to knock them off several times
                assert len(a.of(BrokerBack)) == 1 and len(b.of(BrokerBack)) == 1
    assert "another emotune box (instance bbbb0002) uses device_id 't1'" in caplog.text
    assert "another emotune box (instance aaaa0001)" in caplog.text


def test_one_box_restarting_is_not_taken_for_a_second_box(mosquitto, caplog):
    with caplog.at_level(logging.WARNING, logger="device.mqtt"):
        for _ in range(2):
            events = Recorder()
            with Mqtt(settings_for(mosquitto), events, instance="aaaa0001"):
                events.wait_for(lambda e: isinstance(e, BrokerBack))
                time.sleep(0.3)  # the retained instance of the last run arrives
    assert "another emotune box" not in caplog.text


def test_the_instance_id_is_stable_and_differs_between_machines(tmp_path):
    one, two = tmp_path / "one", tmp_path / "two"
    one.write_text("0123456789abcdef0123456789abcdef\n")
    two.write_text("fedcba9876543210fedcba9876543210\n")
    assert instance_id(one) == instance_id(one) != instance_id(two)
    assert len(instance_id(tmp_path / "missing")) == 8  # falls back to the network address


@pytest.mark.parametrize("host, port, says", [("nonexistent.invalid", 1883, "cannot be found"),
                                              ("127.0.0.1", None, "cannot be reached")])
def test_connection_failures_are_logged_once_per_outage(host, port, says, caplog):
    port = port or free_port()
    events = Recorder()
    with caplog.at_level(logging.DEBUG, logger="device.mqtt"), \
            Mqtt(MqttSettings(host=host, port=port, device_id="t1"), events, backoff=(1, 1)):
        deadline = time.monotonic() + 10
        while sum(says in r.message for r in caplog.records) < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
    failures = [r for r in caplog.records if says in r.message]
    assert len(failures) >= 2, caplog.text  # retried
    assert [r.levelno for r in failures[:2]] == [logging.WARNING, logging.DEBUG]
    assert f"MQTT broker {host}:{port} {says}" in failures[0].message and events.items == []
