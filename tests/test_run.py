"""``python -m device run`` as systemd runs it: a real process, sd_notify on a real socket, SIGTERM."""

import json
import signal
import socket
import subprocess
import sys
import time

from tests.appliance import BASE, DEVICE_ID, library
from tests.helpers import MqttWatcher
from tests.paths import REPO


class NotifySocket:
    """A unix datagram socket standing in for systemd's ``$NOTIFY_SOCKET``; keeps every datagram."""

    def __init__(self, path):
        self.path = str(path)
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(self.path)
        self.received: list[str] = []

    def wait_for(self, field: str, timeout: float, count: int = 1) -> list[str]:
        """Receive until ``count`` datagrams hold the line ``field``; return everything received so far."""
        deadline = time.monotonic() + timeout
        while sum(field in d.splitlines() for d in self.received) < count:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"no {field} from the daemon within {timeout:g}s; got {self.received}")
            self.sock.settimeout(left)
            try:
                self.received.append(self.sock.recv(4096).decode())
            except TimeoutError:
                continue
        return self.received

    def close(self):
        self.sock.close()


def write_config(path, mpd_server, broker, map_path, journal, input_file, speed: float):
    path.write_text(f"""
[mpd]
host = "127.0.0.1"
port = {mpd_server.port}
[mqtt]
host = "{broker.host}"
port = {broker.port}
device_id = "{DEVICE_ID}"
keepalive = 5
[audio]
input_file = "{input_file}"
input_speed = {speed}
[gpio]
mock = true
[playlists]
map = "{map_path}"
[journal]
path = "{journal}"
""")
    return path


def test_sigterm_while_recording_says_offline_and_exits_0_and_systemd_is_told(tmp_path, mpd_server, mosquitto,
                                                                              sentence):
    music_dir, playlist_dir, map_path, _ = library(tmp_path)
    server = mpd_server(music_dir, playlist_dir)
    config = write_config(tmp_path / "emotune.toml", server, mosquitto, map_path, tmp_path / "journal.sqlite",
                          sentence, speed=0.5)  # half speed: the recording lasts long enough to be interrupted
    notify = NotifySocket(tmp_path / "notify")
    env = {"NOTIFY_SOCKET": notify.path, "WATCHDOG_USEC": "400000", "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    with MqttWatcher(mosquitto, [f"{BASE}/#"]) as watcher:
        child = subprocess.Popen([sys.executable, "-m", "device", "run", "--config", str(config)], cwd=REPO, env=env,
                                 stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        try:
            ready = notify.wait_for("READY=1", timeout=60)
            assert any(d.startswith("READY=1\nSTATUS=") for d in ready)
            assert watcher.wait_for(f"{BASE}/availability", timeout=15) == "online"
            watcher.wait_for(f"{BASE}/state", timeout=15)
            watcher.publish(f"{BASE}/command", '{"action": "listen"}')
            watcher.wait_for(f"{BASE}/state", lambda p: json.loads(p)["state"] == "listening", timeout=15)
            # The watchdog is fed about every 0.2 s (half of WATCHDOG_USEC), also while recording.
            fed = notify.received.count("WATCHDOG=1")
            notify.wait_for("WATCHDOG=1", timeout=5, count=fed + 3)
            child.send_signal(signal.SIGTERM)
            start = time.monotonic()
            output, _ = child.communicate(timeout=10)
            assert child.returncode == 0, output
            assert time.monotonic() - start < 5
            notify.wait_for("STOPPING=1", timeout=1)
        finally:
            if child.poll() is None:
                child.kill()
                child.wait(10)
            notify.close()
        assert watcher.wait_for(f"{BASE}/availability", lambda p: p == "offline", timeout=5) == "offline"
    assert "SIGTERM: stopping" in output and "emotune stopped" in output
    assert "recording cancelled" in output  # it stopped recording, not waited for the end of the speech
    assert "Traceback" not in output


def test_a_bad_config_is_one_line_naming_the_key_and_exit_2(tmp_path):
    config = tmp_path / "emotune.toml"
    config.write_text("[mqtt]\nport = 'eighteen'\n")
    done = subprocess.run([sys.executable, "-m", "device", "run", "--config", str(config)], cwd=REPO,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert done.stderr.strip().splitlines()[-1] == \
        f"error: {config}: [mqtt] port must be a whole number, not 'eighteen'"
    assert "Traceback" not in done.stderr


def test_a_broken_playlists_map_is_named(tmp_path):
    (tmp_path / "playlists.json").write_text('{"emotions": {"calm": "evening"}}')
    config = tmp_path / "emotune.toml"
    config.write_text("[mqtt]\nenabled = false\n[gpio]\nmock = true\n")
    done = subprocess.run([sys.executable, "-m", "device", "run", "--config", str(config)], cwd=REPO,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert f'error: {tmp_path / "playlists.json"}: "emotions" must map' in done.stderr
