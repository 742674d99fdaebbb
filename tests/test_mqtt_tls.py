"""MQTT over TLS with username and password, against a real mosquitto with a certificate made here."""

import json
import shutil
import subprocess

import paho.mqtt.client as paho
import pytest

from device.config import MqttSettings
from device.events import BrokerBack, Command
from device.mqtt import Mqtt
from script.servers import Mosquitto
from tests.helpers import Recorder


def openssl(*args, cwd):
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True, timeout=60)


def make_certificates(folder):
    """A CA and a server certificate for 127.0.0.1, signed by it."""
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.crt", "-days", "2",
            "-subj", "/CN=emotune test CA", cwd=folder)
    openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "server.key", "-out", "server.csr",
            "-subj", "/CN=127.0.0.1", cwd=folder)
    (folder / "san.ext").write_text("subjectAltName=IP:127.0.0.1\n")
    openssl("x509", "-req", "-in", "server.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial",
            "-out", "server.crt", "-days", "2", "-extfile", "san.ext", cwd=folder)


class TlsMosquitto(Mosquitto):
    """The test broker, its listener speaking TLS only."""

    def _write_config(self) -> None:
        super()._write_config()
        folder = self.workdir
        text = self.config.read_text()
        self.config.write_text(text + f"cafile {folder / 'ca.crt'}\ncertfile {folder / 'server.crt'}\n"
                                      f"keyfile {folder / 'server.key'}\n")


@pytest.fixture
def broker(tmp_path):
    for binary in ("mosquitto", "openssl"):
        if shutil.which(binary) is None:
            pytest.skip(f"{binary} is not installed")
    make_certificates(tmp_path)
    broker = TlsMosquitto(workdir=tmp_path, username="emotune", password="s3cret").start()
    yield broker
    broker.close()


def test_tls_with_password_connects_and_carries_commands(broker, tmp_path):
    events = Recorder()
    settings = MqttSettings(host="127.0.0.1", port=broker.port, device_id="tls", username="emotune",
                            password="s3cret", tls=True, ca_file=str(tmp_path / "ca.crt"), keepalive=5)
    with Mqtt(settings, events) as link:
        events.wait_for(lambda e: isinstance(e, BrokerBack), timeout=15)
        link.publish_state({"state": "idle"})
        got = Recorder()
        client = paho.Client(paho.CallbackAPIVersion.VERSION2)
        client.username_pw_set("emotune", "s3cret")
        client.tls_set(ca_certs=str(tmp_path / "ca.crt"))
        client.on_message = lambda c, u, m: got((m.topic, m.payload.decode()))
        client.on_connect = lambda c, u, f, rc, p: c.subscribe("emotune/tls/state", qos=1)
        client.connect(broker.host, broker.port)
        client.loop_start()
        try:
            assert json.loads(got.wait_for(lambda m: m[0] == "emotune/tls/state")[1]) == {"state": "idle"}
            client.publish("emotune/tls/command", '{"action": "stop"}', qos=1).wait_for_publish(5)
            assert events.wait_for(lambda e: isinstance(e, Command)) == Command("stop")
        finally:
            client.disconnect()
            client.loop_stop()


def test_tls_refuses_a_broker_it_cannot_verify(broker):
    events = Recorder()
    settings = MqttSettings(host="127.0.0.1", port=broker.port, device_id="tls2", username="emotune",
                            password="s3cret", tls=True, keepalive=5)  # the system CAs do not know our test CA
    with Mqtt(settings, events, backoff=(1, 1)) as link:
        assert not link.wait_connected(3)
    assert not events.of(BrokerBack)
