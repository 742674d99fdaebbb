"""Private, real ``mpd`` and ``mosquitto`` on free loopback ports: the PC's stand-ins for the Pi's services.

On the Pi, systemd and Ansible run MPD and the broker; on a PC, ``make demo`` runs the appliance
against these (and the tests use the same classes through ``tests/conftest.py``)::

    with MpdServer(music_dir, playlist_dir) as mpd_server, Mosquitto() as broker:
        print(mpd_server.port, broker.port)

Each keeps its config, database, state and log in its own directory (a temporary one unless given),
binds 127.0.0.1 only, and can be stopped and started again on the same port (fault tests).
Every wait has a timeout and raises :class:`ServerError` with the server's log when it runs out.
The binaries come from Debian's ``mpd`` and ``mosquitto`` packages (``make demo`` installs them).
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
    """A server would not start, answer or stop in time."""


def free_port() -> int:
    """Return a TCP port on the loopback interface that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def wait_until(predicate, timeout: float, what: str, log: Path | None = None, interval: float = 0.02):
    """Poll ``predicate`` until it returns a true value (returned); after ``timeout`` raise ServerError
    saying ``what`` (and the tail of ``log``). The one polling wait of the demo and the tests."""
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
