"""A private, real Home Assistant Core on a loopback port, with MQTT set up, for the tests.

Home Assistant needs a newer Python than the appliance (3.13 for 2025.x), so it lives in a virtual
environment of its own, made once with the newest Python 3.13+ found (``$EMOTUNE_HA_PYTHON``,
``python3.x`` on the PATH, then pyenv's versions) and kept under ``~/.cache/emotune/``, keyed by
the Home Assistant and Python versions (:func:`install`; cold: about 5 min on 2 busy cores)::

    with Mosquitto() as broker, HomeAssistant(install(), broker) as hass:
        print(hass.states())          # {entity_id: state}, through Home Assistant's REST API

Its configuration directory is written before the first start, so no one clicks through the UI:
``configuration.yaml`` (HTTP on 127.0.0.1 only, automations from :attr:`HomeAssistant.automations`),
the MQTT config entry (broker, discovery on) in ``.storage/core.config_entries``, and an owner with
a long-lived access token in ``.storage/auth`` (the token is signed here, as Home Assistant signs
it). It starts through ``hass_run.py``, which keeps zeroconf's UDP 5353 closed (see there).
:class:`Unavailable` says why Home Assistant cannot run on this machine (the tests skip with it).
"""

from __future__ import annotations

import base64
import fcntl
import hashlib
import hmac
import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

from script.servers import _Process

VERSION = "2025.4.4"
"""The newest Home Assistant that installs on Python 3.13.0 (pyenv's here); 2025.5+ need 3.13.2."""
REQUIREMENTS = (f"homeassistant=={VERSION}",
                "paho-mqtt==2.1.0",  # the MQTT integration's requirement in 2025.4.4 (its manifest)
                "home-assistant-frontend==20250411.0")  # without it Home Assistant starts in recovery mode
MIN_PYTHON = (3, 13)
CACHE = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "emotune"
RUNNER = Path(__file__).with_name("hass_run.py")


class Unavailable(RuntimeError):
    """Home Assistant cannot be installed or run here (no Python 3.13+, no package index ...)."""


def _version(python: str | Path) -> tuple[int, int] | None:
    try:
        out = subprocess.run([str(python), "-c", "import sys, venv; print(*sys.version_info[:2])"],
                             capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return tuple(map(int, out.stdout.split())) if out.returncode == 0 else None


def find_python() -> tuple[Path, tuple[int, int]]:
    """The newest Python >= 3.13 with ``venv`` here, and its version; :class:`Unavailable` if none."""
    names = [os.environ.get("EMOTUNE_HA_PYTHON", "")] + [f"python3.{minor}" for minor in range(20, 12, -1)]
    candidates = [Path(found) for name in names if name and (found := shutil.which(name))]
    pyenv = Path(os.environ.get("PYENV_ROOT") or Path.home() / ".pyenv") / "versions"
    candidates += sorted(pyenv.glob("3.*/bin/python3"), reverse=True)
    versions = {python: _version(python) for python in candidates}
    usable = [(v, p) for p, v in versions.items() if v and v >= MIN_PYTHON]
    if not usable:
        raise Unavailable(f"Home Assistant {VERSION} needs Python >= {'.'.join(map(str, MIN_PYTHON))}; "
                          f"found only {[str(p) for p in candidates] or 'none'} (set EMOTUNE_HA_PYTHON)")
    version, python = max(usable)
    return python, version


def install(cache: Path = CACHE, timeout: float = 1200) -> Path:
    """Return the Python of a virtual environment holding :data:`REQUIREMENTS`, made once and cached.

    A half-made environment (interrupted, or a failed pip) is made again; concurrent callers wait
    for each other. Raises :class:`Unavailable` with pip's last words when it cannot be made.
    """
    python, (major, minor) = find_python()
    venv = cache / f"homeassistant-{VERSION}-py{major}.{minor}"
    done = venv / ".emotune-complete"
    cache.mkdir(parents=True, exist_ok=True)
    with open(cache / ".homeassistant.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not done.exists():
            shutil.rmtree(venv, ignore_errors=True)
            steps = [[str(python), "-m", "venv", str(venv)],
                     # --no-compile: Python writes the .pyc of what Home Assistant imports when it does
                     [str(venv / "bin/python"), "-m", "pip", "install", "-q", "--disable-pip-version-check",
                      "--no-compile", *REQUIREMENTS]]
            for step in steps:
                try:
                    result = subprocess.run(step, capture_output=True, text=True, timeout=timeout)
                except subprocess.TimeoutExpired:
                    raise Unavailable(f"{' '.join(step[:4])} ... took over {timeout:g}s") from None
                if result.returncode:
                    tail = "\n".join(line for line in (result.stdout + result.stderr).splitlines()
                                     if not line.startswith("WARNING: Location"))[-1500:]
                    raise Unavailable(f"could not install Home Assistant {VERSION} with {python}:\n{tail}")
            done.write_text(" ".join(REQUIREMENTS) + "\n")
    return venv / "bin/python"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def access_token(refresh_id: str, jwt_key: str, seconds: int = 86400) -> str:
    """An access token for a refresh token, as Home Assistant makes it (JWT, HS256, ``iss`` = its id)."""
    now = int(time.time())
    head = _b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    body = _b64(json.dumps({"iss": refresh_id, "iat": now, "exp": now + seconds}).encode())
    signature = hmac.new(jwt_key.encode(), f"{head}.{body}".encode(), hashlib.sha256).digest()
    return f"{head}.{body}.{_b64(signature)}"


def _storage(key: str, data: dict, minor: int = 1) -> str:
    return json.dumps({"version": 1, "minor_version": minor, "key": key, "data": data}, indent=2)


def _address(hex_address: str) -> str:
    """``0100007F:1F90`` (``/proc/net/tcp``) -> ``127.0.0.1:8123``; IPv6 likewise."""
    address, port = hex_address.split(":")
    raw = bytes.fromhex(address)
    raw = b"".join(raw[i:i + 4][::-1] for i in range(0, len(raw), 4))  # the kernel writes 32-bit words
    return f"{socket.inet_ntop(socket.AF_INET if len(raw) == 4 else socket.AF_INET6, raw)}:{int(port, 16)}"


class HomeAssistant(_Process):
    """Home Assistant Core run by ``python`` (from :func:`install`) against ``broker``, HTTP on loopback."""

    name = "homeassistant"

    def __init__(self, python: Path, broker, *, workdir: str | Path | None = None, port: int | None = None,
                 automations: str = "[]\n"):
        super().__init__(workdir, port)
        self.python = python
        self.broker = broker
        self.automations = automations
        """``automations.yaml``: what Home Assistant's automation integration loads."""
        refresh_id, self._jwt_key = secrets.token_hex(16), secrets.token_hex(64)
        self._refresh = {"id": refresh_id, "token": secrets.token_hex(64)}
        self.token = access_token(refresh_id, self._jwt_key)
        self.storage = self.workdir / ".storage"

    # ------------------------------------------------------------ configuration
    def _write_config(self) -> None:
        (self.workdir / "configuration.yaml").write_text(
            "homeassistant:\n  name: emotune test\n  time_zone: UTC\n  unit_system: metric\n"
            "  latitude: 52.37\n  longitude: 4.89\n  elevation: 0\n  country: NL\n  currency: EUR\n"
            f"http:\n  server_host: {self.host}\n  server_port: {self.port}\n"
            "frontend:\napi:\nautomation: !include automations.yaml\n"
            "logger:\n  default: warning\n  logs:\n    homeassistant.components.mqtt: info\n")
        (self.workdir / "automations.yaml").write_text(self.automations)
        if self.storage.exists():  # Home Assistant's own records from an earlier start: keep them
            return
        self.storage.mkdir()
        now = datetime.now(UTC).isoformat()
        (self.storage / "core.config_entries").write_text(_storage("core.config_entries", {"entries": [{
            "created_at": now, "modified_at": now, "entry_id": secrets.token_hex(16), "domain": "mqtt",
            "title": self.broker.host, "source": "user", "unique_id": None, "version": 1, "minor_version": 2,
            "data": {"broker": self.broker.host, "port": self.broker.port},
            "options": {"discovery": True, "discovery_prefix": "homeassistant"},
            "discovery_keys": {}, "disabled_by": None, "pref_disable_new_entities": False,
            "pref_disable_polling": False, "subentries": []}]}, minor=5))
        user = secrets.token_hex(16)
        (self.storage / "auth").write_text(_storage("auth", {
            "users": [{"id": user, "group_ids": ["system-admin"], "is_owner": True, "is_active": True,
                       "name": "emotune test", "system_generated": False, "local_only": False}],
            "groups": [], "credentials": [],
            "refresh_tokens": [{
                **self._refresh, "user_id": user, "client_id": None, "client_name": "emotune test",
                "client_icon": None, "token_type": "long_lived_access_token", "created_at": now,
                "access_token_expiration": 86400.0, "jwt_key": self._jwt_key, "last_used_at": None,
                "last_used_ip": None, "expire_at": None, "credential_id": None, "version": VERSION}]}))

    def _command(self) -> list[str]:
        return [str(self.python), "-I", str(RUNNER), "--config", str(self.workdir), "--skip-pip", "--log-file",
                str(self.workdir / "home-assistant.log")]

    def _ready(self) -> bool:
        try:
            return self.api("GET", "/api/").get("message") == "API running."
        except (OSError, ValueError):
            return False

    def start(self, timeout: float = 180.0):
        return super().start(timeout)

    def stop(self, timeout: float = 60.0) -> None:
        super().stop(timeout)

    # ------------------------------------------------------------ what Home Assistant says
    def api(self, method: str, path: str, body: dict | None = None, timeout: float = 10.0):
        """Call the REST API (``/api/...``) with the owner's token; return the JSON answer."""
        request = urllib.request.Request(
            f"http://{self.host}:{self.port}{path}", method=method,
            data=None if body is None else json.dumps(body).encode(),
            headers={"Authorization": f"Bearer {self.token}", "Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=timeout) as answer:
            return json.loads(answer.read() or b"null")

    def states(self) -> dict[str, dict]:
        """Every entity's state object (``state``, ``attributes``, ``last_changed`` ...), by entity id."""
        return {s["entity_id"]: s for s in self.api("GET", "/api/states")}

    def state(self, entity_id: str) -> str | None:
        """One entity's state (``unknown``, ``unavailable``, ...); None when Home Assistant has no such entity."""
        try:
            return self.api("GET", f"/api/states/{entity_id}")["state"]
        except urllib.error.HTTPError as exc:
            if exc.code == 404:
                return None
            raise

    def call(self, domain: str, service: str, **data) -> list:
        """Call a service, as an automation or a dashboard would (``button.press``, ``select.select_option``)."""
        return self.api("POST", f"/api/services/{domain}/{service}", data)

    def registry(self, name: str) -> dict:
        """A record Home Assistant keeps in ``.storage`` (``core.entity_registry``, ``core.device_registry``)."""
        return json.loads((self.storage / name).read_text())["data"]

    def listening(self) -> list[str]:
        """``proto address:port`` of every socket Home Assistant listens on (TCP) or has bound (UDP).

        Read from ``/proc`` (the process's open sockets, matched with ``/proc/net``), so it needs no
        ``ss``; addresses as the kernel writes them, e.g. ``tcp 127.0.0.1:8123``, ``udp6 ::1:5353``.
        """
        inodes = set()
        for fd in Path(f"/proc/{self.proc.pid}/fd").iterdir():
            try:
                target = os.readlink(fd)
            except OSError:
                continue
            if target.startswith("socket:["):
                inodes.add(target[8:-1])
        found = []
        for proto in ("tcp", "tcp6", "udp", "udp6"):
            for line in Path(f"/proc/net/{proto}").read_text().splitlines()[1:]:
                fields = line.split()
                local, state, inode = fields[1], fields[3], fields[9]
                if inode in inodes and (proto.startswith("udp") or state == "0A"):  # 0A: LISTEN
                    found.append(f"{proto} {_address(local)}")
        return found

    def errors(self) -> list[str]:
        """Lines of Home Assistant's log at ERROR or WARNING level (only those it wrote since it started)."""
        log = self.workdir / "home-assistant.log"
        text = log.read_text(errors="replace") if log.exists() else ""
        return [line for line in text.splitlines() if " ERROR " in line or " WARNING " in line]


if __name__ == "__main__":  # install (or find) the cached environment: `python -m script.home_assistant`
    try:
        print(install())
    except Unavailable as exc:
        sys.exit(f"error: {exc}")
