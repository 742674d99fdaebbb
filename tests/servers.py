"""Private, real ``mpd`` and ``mosquitto`` servers on free loopback ports, for tests and the demo.

Both are plain classes usable outside pytest (``make demo`` runs the appliance against them)::

    with MpdServer(music_dir, playlist_dir) as mpd_server, Mosquitto() as broker:
        print(mpd_server.port, broker.port)

Each keeps its config, database, state and log in its own directory (a temporary one unless given),
binds 127.0.0.1 only, and can be stopped and started again on the same port (fault tests).
Every wait has a timeout and raises :class:`ServerError` with the server's log when it runs out.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

HOST = "127.0.0.1"


class ServerError(RuntimeError):
    """A test server would not start, answer or stop in time."""


def free_port() -> int:
    """Return a TCP port on the loopback interface that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def wait_until(predicate, timeout: float, what: str, log: Path | None = None, interval: float = 0.02):
    """Poll ``predicate`` until it returns a true value (returned); after ``timeout`` raise ServerError
    saying ``what`` (and the tail of ``log``). The one polling wait of the tests and the demo."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            tail = log.read_text(errors="replace")[-2000:] if log and log.exists() else ""
            raise ServerError(f"{what} within {timeout:g}s\n{tail}")
        time.sleep(interval)


class _Process:
    """A server run in the foreground as a child process, with its log in ``workdir``."""

    name = "server"

    def __init__(self, workdir: str | Path | None, port: int | None):
        self._tmp = None if workdir else tempfile.TemporaryDirectory(prefix=f"emotune-{self.name}-")
        self.workdir = Path(workdir or self._tmp.name)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.host = HOST
        self.port = port or free_port()
        self.log = self.workdir / f"{self.name}.log"
        self.proc: subprocess.Popen | None = None

    def _command(self) -> list[str]:
        raise NotImplementedError

    def _ready(self) -> bool:
        raise NotImplementedError

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def start(self, timeout: float = 15.0):
        """Start the server and return self once it answers on :attr:`port`."""
        if self.running:
            return self
        self._write_config()
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(self._command(), stdin=subprocess.DEVNULL, stdout=log,
                                         stderr=subprocess.STDOUT, cwd=self.workdir)

        def ready():
            if self.proc.poll() is not None:
                tail = self.log.read_text(errors="replace")[-2000:]
                raise ServerError(f"{self.name} exited with {self.proc.returncode} at start\n{tail}")
            return self._ready()

        try:
            wait_until(ready, timeout, f"{self.name} did not answer on {self.host}:{self.port}", self.log)
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the server (SIGTERM, then SIGKILL after ``timeout``); harmless when not running."""
        proc, self.proc = self.proc, None
        if proc is None:
            return
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout)
        # The port is free again once nothing accepts on it.
        wait_until(lambda: not _accepts(self.host, self.port), timeout, f"{self.name} port still open")

    def restart(self, timeout: float = 15.0):
        """Stop and start again on the same port."""
        self.stop()
        return self.start(timeout)

    def close(self) -> None:
        self.stop()
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.close()


def _accepts(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


class MpdServer(_Process):
    """A private ``mpd`` with the null audio output (it plays in real time, silently).

    ``music_dir`` and ``playlist_dir`` are the caller's; the database, state and log live in
    ``workdir``. The database is built (``update``) at start, so playlists resolve at once; call
    :meth:`update` again after adding music.
    """

    name = "mpd"

    def __init__(self, music_dir: str | Path, playlist_dir: str | Path, *, workdir: str | Path | None = None,
                 port: int | None = None, password: str | None = None):
        super().__init__(workdir, port)
        self.music_dir = Path(music_dir).resolve()
        self.playlist_dir = Path(playlist_dir).resolve()
        self.password = password
        self.config = self.workdir / "mpd.conf"

    def _write_config(self) -> None:
        self.playlist_dir.mkdir(parents=True, exist_ok=True)
        lines = [
            f'music_directory "{self.music_dir}"',
            f'playlist_directory "{self.playlist_dir}"',
            f'db_file "{self.workdir / "database"}"',
            f'state_file "{self.workdir / "state"}"',
            f'log_file "{self.log}"',
            f'bind_to_address "{self.host}"',
            f'port "{self.port}"',
            'auto_update "no"',
            'zeroconf_enabled "no"',
            'restore_paused "yes"',
            'audio_output {\n  type "null"\n  name "null"\n  mixer_type "software"\n}',
        ]
        if self.password:
            lines.append(f'password "{self.password}@read,add,control,admin"')
            lines.append('default_permissions ""')
        self.config.write_text("\n".join(lines) + "\n")

    def _command(self) -> list[str]:
        return [shutil.which("mpd") or "mpd", "--no-daemon", str(self.config)]

    def _ready(self) -> bool:
        try:
            self.command("ping")
            return True
        except OSError:
            return False

    def start(self, timeout: float = 15.0):
        super().start(timeout)
        self.update(timeout)
        return self

    def command(self, *lines: str, timeout: float = 5.0) -> list[str]:
        """Send MPD protocol commands (logging in first when there is a password); return the reply lines."""
        if self.password:
            lines = (f'password "{self.password}"', *lines)
        with socket.create_connection((self.host, self.port), timeout=timeout) as s:
            f = s.makefile("rwb")
            if not f.readline().startswith(b"OK MPD"):
                raise OSError("not an MPD greeting")
            reply: list[str] = []
            for line in lines:
                f.write(line.encode() + b"\n")
                f.flush()
                while True:
                    answer = f.readline().decode().rstrip("\n")
                    if not answer:
                        raise OSError("MPD closed the connection")
                    if answer == "OK":
                        break
                    if answer.startswith("ACK"):
                        raise ServerError(f"MPD refused {line!r}: {answer}")
                    reply.append(answer)
            return reply

    def status(self) -> dict[str, str]:
        """Return MPD's ``status`` as a dict of strings."""
        return dict(line.split(": ", 1) for line in self.command("status"))

    def update(self, timeout: float = 15.0) -> None:
        """Rescan the music directory and wait until the database is built."""
        self.command("update")
        wait_until(lambda: "updating_db" not in self.status(), timeout, "MPD did not finish its update", self.log)


class Mosquitto(_Process):
    """A private ``mosquitto`` (MQTT 5/3.1.1) broker, anonymous unless ``username`` is given."""

    name = "mosquitto"

    def __init__(self, *, workdir: str | Path | None = None, port: int | None = None,
                 username: str | None = None, password: str | None = None):
        super().__init__(workdir, port)
        self.username = username
        self.password = password
        self.config = self.workdir / "mosquitto.conf"

    def _write_config(self) -> None:
        lines = [f"listener {self.port} {self.host}", "persistence false", "log_dest stdout",
                 "log_type error", "log_type warning", "log_type notice"]
        if os.geteuid() == 0:  # as root mosquitto would switch to user "mosquitto" and lose our files
            lines.append("user root")
        if self.username:
            passwd = self.workdir / "passwd"
            passwd.write_text("")
            subprocess.run([shutil.which("mosquitto_passwd") or "mosquitto_passwd", "-b", str(passwd),
                            self.username, self.password or ""], check=True, capture_output=True)
            passwd.chmod(0o600)
            lines += ["allow_anonymous false", f"password_file {passwd}"]
        else:
            lines.append("allow_anonymous true")
        self.config.write_text("\n".join(lines) + "\n")

    def _command(self) -> list[str]:
        return [shutil.which("mosquitto") or "mosquitto", "-c", str(self.config)]

    def _ready(self) -> bool:
        return _accepts(self.host, self.port)


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
