"""systemd/emotune.service: systemd's own verdicts on it, and its contract with the daemon.

- ``systemd-analyze security --offline=yes`` rates the sandbox; the issue asks for an exposure of
  at most 3.5 and aims at 2.0, which this unit holds (:data:`EXPOSURE_LIMIT`).
- ``systemd-analyze verify`` checks every directive. It also insists that ``ExecStart=``'s binary
  exists, and ``/opt/emotune/.venv/bin/python`` exists only on a provisioned Pi. So the unit is
  verified as a copy in which only that one path is rewritten into a temporary folder, where it is
  a link to this interpreter; every other line is the file as shipped. (``--root=`` is no way out:
  it also hides the system's own targets, so the unit's ``After=`` could not resolve.) The real,
  unrewritten unit is verified once more inside the Debian root file system that the Ansible
  converge provisions (tests/test_ansible.py), where the ``.venv`` is real.
- ``verify`` exits 0 even when it ignores a line it cannot parse, so "clean" means exit 0 *and*
  no output; a deliberately broken copy shows that this check does catch bad lines.

Not checked here, for want of a booted systemd and a Pi: that the sandbox lets the daemon open
the microphone and /dev/gpiochip*, and that ``READY=1``/``WATCHDOG=1`` arrive (device/notify.py).
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.paths import REPO

UNIT = REPO / "systemd" / "emotune.service"
CODE_DIR = "/opt/emotune"
# The bound is 3.5; 2.0 was its aim and is what this unit is held to.
EXPOSURE_LIMIT = 2.0

pytestmark = pytest.mark.skipif(shutil.which("systemd-analyze") is None,
                                reason="systemd-analyze is not installed (make system-deps installs systemd)")


def directives(text: str) -> dict[str, list[str]]:
    """``{"Section.Key": [values...]}`` of a unit file (keys may repeat; comments dropped)."""
    found: dict[str, list[str]] = {}
    section = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line[0] in "#;":
            continue
        if line.startswith("[") and line.endswith("]"):
            section = line[1:-1]
            continue
        key, _, value = line.partition("=")
        found.setdefault(f"{section}.{key.strip()}", []).append(value.strip())
    return found


def one(found: dict[str, list[str]], key: str) -> str:
    values = found.get(key, [])
    assert len(values) == 1, f"{key} should be set exactly once, found {values}"
    return values[0]


def verify(unit: Path) -> subprocess.CompletedProcess:
    return subprocess.run(["systemd-analyze", "verify", str(unit)], capture_output=True, text=True,
                          timeout=60, env={**os.environ, "SYSTEMD_LOG_COLOR": "0"})


def rewritten_copy(tmp_path: Path, text: str) -> Path:
    """The unit with only ``ExecStart=``'s interpreter moved under ``tmp_path`` (see the module doc)."""
    root = tmp_path / "root"
    python = root / CODE_DIR.lstrip("/") / ".venv" / "bin" / "python"
    python.parent.mkdir(parents=True)
    python.symlink_to(sys.executable)
    copy = tmp_path / "emotune.service"
    copy.write_text(text.replace(f"ExecStart={CODE_DIR}/", f"ExecStart={root}{CODE_DIR}/"))
    return copy


@pytest.fixture(scope="module")
def unit() -> dict[str, list[str]]:
    return directives(UNIT.read_text())


def test_exposure_is_within_the_limit():
    out = subprocess.run(["systemd-analyze", "security", "--offline=yes", "--no-pager", str(UNIT)],
                         capture_output=True, text=True, timeout=60, check=True).stdout
    match = re.search(r"Overall exposure level for emotune\.service: (\d+\.\d+)", out)
    assert match, out[-2000:]
    assert float(match.group(1)) <= EXPOSURE_LIMIT, out


def test_verify_is_clean(tmp_path):
    text = UNIT.read_text()
    copy = rewritten_copy(tmp_path, text)
    changed = [a for a, b in zip(text.splitlines(), copy.read_text().splitlines(), strict=True) if a != b]
    assert len(changed) == 1 and changed[0].startswith("ExecStart="), changed
    result = verify(copy)
    assert result.returncode == 0, result.stderr
    assert result.stdout + result.stderr == "", result.stdout + result.stderr


def test_verify_catches_a_bad_line(tmp_path):
    """The check above is only worth something if ``verify`` speaks up about a directive it ignores."""
    text = UNIT.read_text().replace("WatchdogSec=30s", "WatchdogSec=thirty")
    result = verify(rewritten_copy(tmp_path, text))
    assert "WatchdogSec" in result.stderr or "thirty" in result.stderr, result.stderr


def test_notify_with_a_watchdog_and_restarts(unit):
    assert one(unit, "Service.Type") == "notify"
    assert one(unit, "Service.NotifyAccess") == "main"
    watchdog = one(unit, "Service.WatchdogSec")
    assert re.fullmatch(r"\d+s", watchdog) and int(watchdog[:-1]) >= 10, watchdog
    assert one(unit, "Service.Restart") == "on-failure"


def test_runs_as_its_own_user_with_audio_and_gpio(unit):
    assert one(unit, "Service.User") == "emotune"
    assert one(unit, "Service.Group") == "emotune"
    assert set(one(unit, "Service.SupplementaryGroups").split()) == {"audio", "gpio"}
    assert one(unit, "Service.CapabilityBoundingSet") == ""
    assert one(unit, "Service.NoNewPrivileges") == "yes"


def test_ordered_after_the_network_and_mpd(unit):
    after = " ".join(unit["Unit.After"]).split()
    assert {"network-online.target", "mpd.service"} <= set(after)
    assert "network-online.target" in " ".join(unit["Unit.Wants"]).split()


def test_only_the_devices_the_daemon_uses(unit):
    assert one(unit, "Service.DevicePolicy") == "closed"
    allowed = {value.split()[0] for value in unit["Service.DeviceAllow"]}
    assert allowed == {"char-alsa", "char-gpiochip", "char-*gpiomem"}
    assert one(unit, "Service.ProtectSystem") == "strict"
    assert one(unit, "Service.RestrictAddressFamilies").split() == ["AF_UNIX", "AF_INET", "AF_INET6"]


def test_execstart_is_a_command_the_daemon_accepts(unit):
    """``ExecStart=`` names the daemon's real entry point: its argument parser accepts the line."""
    argv = shlex.split(one(unit, "Service.ExecStart"))
    assert argv[0] == f"{CODE_DIR}/.venv/bin/python" and argv[1:4] == ["-m", "device", "run"], argv
    assert one(unit, "Service.WorkingDirectory") == CODE_DIR
    result = subprocess.run([sys.executable, *argv[1:], "--help"], cwd=REPO, capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "--config" in result.stdout
