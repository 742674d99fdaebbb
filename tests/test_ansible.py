"""ansible/: syntax, ansible-lint's production profile, and a real converge into a Debian 12 root.

The converge is the playbook's real test. ``debootstrap`` makes a Debian 12 (bookworm) root file
system, and ``site.yml`` runs into it twice over a chroot connection (ansible/tests/
connection_plugins/chroot.py: ansible-core has none of its own, and its ``chroot`` name only
redirects to the community.general collection). The first run provisions everything; the second
must report ``changed=0``. Then tagged runs change one input each (model, playlists, music,
config) and must touch only that input and notify only the handler that belongs to it.

What the stand is, and where it differs from a Pi:

- The tree has the host's architecture (amd64, not arm64), Debian's packages, not Raspberry Pi
  OS's, no sound card and no GPIO. ``emotune_manage_services`` follows the ``is_chroot`` fact, so
  units are enabled but nothing is started, restarted or reloaded; ``/usr/sbin/policy-rc.d`` (as in
  every image build) keeps package scripts from starting daemons inside the chroot.
- Python packages: the controller builds wheels of requirements.txt once (``pip wheel``, cached)
  and the role installs them with ``emotune_pip_extra_args: --no-index --find-links DIR``, the
  offline install that group_vars/all.yml documents. Reasons: the chroot cannot use the
  controller's pip configuration (its indexes and the TLS CA it trusts), and downloading ~75 MB
  on every run would make the test slow and flaky. pip still resolves requirements.txt inside
  the chroot, into the real ``.venv``.
- The MQTT password comes from a vault-encrypted ``group_vars/emotune/vault.yml`` beside the test
  inventory, opened with ``--vault-password-file``, as the README tells users to do.
- The inputs come from a snapshot of this checkout (``emotune_src_dir``), so colleagues editing
  device/ during the run cannot make the second converge report changes.

Cache: the pristine debootstrap tree and the wheels live in pytest's cache
(``.pytest_cache/d/emotune-deploy``, git-ignored, removed by ``make clean``), keyed by what made
them; each session converges a fresh copy. A clean checkout builds both (debootstrap: about
100 s from deb.debian.org). Needs root (chroot, debootstrap) and network to the Debian mirror
(``EMOTUNE_DEBIAN_MIRROR`` overrides it); without root these tests are skipped, saying so.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from device import config
from script.servers import Mosquitto
from tests.debian import MIRROR, SUITE, Lock, key, remove_tree
from tests.helpers import write_tone
from tests.paths import REPO

ANSIBLE = REPO / "ansible"
BIN = Path(sys.executable).parent
# What Raspberry Pi OS Lite has and minbase lacks, as far as the playbook cares.
BASE_PACKAGES = ("python3", "sudo", "systemd", "udev", "ca-certificates")
HOST = "emotune-test"
WHEELS_IN_ROOT = "/var/cache/emotune-wheels"
SECRET = "vaulted-secret-4711"
MODEL = "emotune-ser"
# /proc/asound/cards of a Raspberry Pi 4 with a USB microphone plugged in.
PI4_CARDS = """\
 0 [Headphones     ]: bcm2835_headpho - bcm2835 Headphones
                      bcm2835 Headphones
 1 [vc4hdmi0       ]: vc4-hdmi - vc4-hdmi-0
                      vc4-hdmi-0
 2 [Device         ]: USB-Audio - USB PnP Sound Device
                      C-Media Electronics Inc. USB PnP Sound Device at usb-0000:01:00.0-1.3, full speed
"""

needs_root = pytest.mark.skipif(
    os.geteuid() != 0 or shutil.which("debootstrap") is None or shutil.which("chroot") is None,
    reason="the converge needs root, debootstrap and chroot (make test runs as root in CI)")




def converge_test(test):
    """Root only, slow, and with room for the first one to build the stand (debootstrap, two converges)."""
    return needs_root(pytest.mark.slow(pytest.mark.timeout(1200)(test)))


# ------------------------------------------------------------------ running ansible
def ansible_env() -> dict[str, str]:
    return {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
            "ANSIBLE_CONNECTION_PLUGINS": str(ANSIBLE / "tests" / "connection_plugins"),
            "ANSIBLE_PIPELINING": "1", "ANSIBLE_NOCOLOR": "1", "ANSIBLE_FORCE_COLOR": "0",
            "PY_COLORS": "0", "NO_COLOR": "1"}


def run(argv: list[str], timeout: float, **kw) -> subprocess.CompletedProcess:
    return subprocess.run(argv, cwd=ANSIBLE, env=ansible_env(), capture_output=True, text=True,
                          timeout=timeout, **kw)


@dataclass(frozen=True)
class Converge:
    """One ``ansible-playbook`` run, read from the default callback's output.

    ``tasks`` maps "role : task" (handlers as "handler role : name") to the statuses it reported
    (``ok``, ``changed``, ``skipping``, ``fatal``), one per host or loop item.
    """

    output: str
    recap: dict[str, int]
    tasks: dict[str, list[str]] = field(default_factory=dict)

    @classmethod
    def parse(cls, output: str) -> Converge:
        tasks: dict[str, list[str]] = {}
        current = None
        for line in output.splitlines():
            header = re.match(r"^(TASK|RUNNING HANDLER) \[(.+?)\] \*+$", line)
            if header:
                current = ("handler " if header.group(1) != "TASK" else "") + header.group(2)
                tasks.setdefault(current, [])
                continue
            status = re.match(r"^(ok|changed|skipping|fatal|failed): \[", line)
            if status and current:
                tasks[current].append(status.group(1))
        recap = re.search(rf"^{re.escape(HOST)}\s+:\s+(.+)$", output, re.MULTILINE)
        counts = dict((k, int(v)) for k, v in re.findall(r"(\w+)=(\d+)", recap.group(1))) if recap else {}
        return cls(output, counts, tasks)

    @property
    def changed(self) -> set[str]:
        return {name for name, statuses in self.tasks.items() if "changed" in statuses}

    @property
    def handlers(self) -> set[str]:
        return {name.removeprefix("handler ") for name in self.tasks if name.startswith("handler ")}

    @property
    def ran(self) -> set[str]:
        """Tasks that were not skipped (handlers excluded)."""
        return {name for name, statuses in self.tasks.items()
                if not name.startswith("handler ") and set(statuses) - {"skipping"}}


# ------------------------------------------------------------------ the stand
@pytest.fixture(scope="session")
def deploy_cache(request) -> Path:
    return Path(request.config.cache.mkdir("emotune-deploy"))


@pytest.fixture(scope="session")
def debian12(deploy_cache) -> Path:
    """A pristine debootstrap tree of Debian 12, built once and kept in pytest's cache."""
    tree = deploy_cache / f"debian12-{key(SUITE, MIRROR, *BASE_PACKAGES)}"
    with Lock(deploy_cache / "debian12.lock"):
        if not (tree / "etc" / "debian_version").is_file():
            partial = tree.with_name(tree.name + ".partial")
            if partial.exists():
                remove_tree(partial)
            result = subprocess.run(
                ["debootstrap", "--variant=minbase", f"--include={','.join(BASE_PACKAGES)}",
                 SUITE, str(partial), MIRROR], capture_output=True, text=True, timeout=900)
            assert result.returncode == 0, f"debootstrap failed:\n{result.stdout[-3000:]}{result.stderr[-3000:]}"
            partial.rename(tree)
    return tree


@pytest.fixture(scope="session")
def wheels(deploy_cache) -> Path:
    """Wheels of requirements.txt for the stand's Python 3.11, built on the controller once."""
    requirements = (REPO / "requirements.txt").read_text()
    folder = deploy_cache / f"wheels-{key(requirements)}"
    with Lock(deploy_cache / "wheels.lock"):
        if not (folder / "complete").is_file():
            folder.mkdir(exist_ok=True)
            result = subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "-r", str(REPO / "requirements.txt"),
                                     "-w", str(folder)], capture_output=True, text=True, timeout=600)
            assert result.returncode == 0, result.stderr[-3000:]
            (folder / "complete").write_text("")
    return folder


def snapshot(dest: Path) -> Path:
    """What the playbook reads from a checkout: device/, requirements, README, unit, model; plus
    the playlists ``python -m training playlists`` would write and a two-track music library."""
    junk = shutil.ignore_patterns("__pycache__", "*.pyc", ".ruff_cache")
    shutil.copytree(REPO / "device", dest / "device", ignore=junk)
    shutil.copytree(REPO / "systemd", dest / "systemd")
    for name in ("requirements.txt", "README.md"):
        shutil.copy2(REPO / name, dest / name)
    (dest / "models").mkdir()
    for suffix in (".tflite", ".json"):
        shutil.copy2(REPO / "models" / f"{MODEL}{suffix}", dest / "models" / f"{MODEL}{suffix}")
    write_playlists(dest / "build" / "playlists", {"calm-1": ["a.wav"], "lift-1": ["b.wav", "a.wav"]})
    write_tone(dest / "music" / "a.wav", 440.0, seconds=0.5)
    write_tone(dest / "music" / "b.wav", 660.0, seconds=0.5)
    return dest


def write_playlists(folder: Path, playlists: dict[str, list[str]]) -> None:
    """M3U files and the playlists.json map, in the layout `python -m training playlists` writes."""
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("*.m3u"):
        old.unlink()
    for name, tracks in playlists.items():
        (folder / f"{name}.m3u").write_text("".join(f"{t}\n" for t in tracks))
    names = sorted(playlists)
    (folder / "playlists.json").write_text(json.dumps({"emotions": {"neutral": names, "sad": names[::-1]}}))


def write_inventory(work: Path, root: Path, checkout: Path) -> Path:
    """The test's inventory (host vars, which win over group_vars/all.yml) and its vaulted secret."""
    inventory = work / "inventory.yml"
    host = {"ansible_connection": "chroot", "ansible_host": str(root),
            "ansible_python_interpreter": "/usr/bin/python3",
            "emotune_src_dir": str(checkout), "emotune_music_src_dir": str(checkout / "music"),
            "emotune_mosquitto_enabled": True,
            "emotune_pip_extra_args": f"--no-index --find-links {WHEELS_IN_ROOT}"}
    inventory.write_text(json.dumps({"emotune": {"hosts": {HOST: host}}}, indent=2))  # JSON is YAML
    vault = work / "group_vars" / "emotune" / "vault.yml"
    vault.parent.mkdir(parents=True)
    vault.write_text(f"vault_emotune_mqtt_password: {SECRET}\n")
    (work / "vault-password").write_text("test-vault-password\n")
    result = run([str(BIN / "ansible-vault"), "encrypt", "--vault-password-file", str(work / "vault-password"),
                  str(vault)], timeout=120)
    assert result.returncode == 0, result.stderr
    return inventory


@dataclass(frozen=True)
class Stand:
    root: Path
    checkout: Path
    work: Path
    first: Converge
    second: Converge

    def converge(self, *args: str, timeout: float = 600) -> Converge:
        result = run([str(BIN / "ansible-playbook"), "-i", str(self.work / "inventory.yml"),
                      "--vault-password-file", str(self.work / "vault-password"), "site.yml", *args],
                     timeout=timeout)
        assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-3000:]
        return Converge.parse(result.stdout)

    def path(self, inside: str) -> Path:
        return self.root / inside.lstrip("/")

    def chroot(self, command: str, timeout: float = 120) -> subprocess.CompletedProcess:
        return subprocess.run(["chroot", str(self.root), "/bin/sh", "-c", command], capture_output=True,
                              text=True, timeout=timeout)


@pytest.fixture(scope="module")
def stand(debian12, wheels, tmp_path_factory):
    """A fresh copy of the Debian tree, converged twice. Removed afterwards (it is ~800 MB)."""
    work = tmp_path_factory.mktemp("converge")
    root = work / "root"
    copy = subprocess.run(["cp", "-a", "--reflink=auto", str(debian12), str(root)], capture_output=True,
                          text=True, timeout=300)
    assert copy.returncode == 0, copy.stderr
    policy = root / "usr" / "sbin" / "policy-rc.d"
    policy.write_text("#!/bin/sh\n# emotune's test stand: package scripts start no daemons in the chroot.\nexit 101\n")
    policy.chmod(0o755)
    shutil.copytree(wheels, root / WHEELS_IN_ROOT.lstrip("/"))
    # /proc is not mounted in the stand; this file is what a Pi 4 with a USB microphone shows there,
    # for the audio role's card detection to read.
    cards = root / "proc" / "asound" / "cards"
    cards.parent.mkdir(parents=True)
    cards.write_text(PI4_CARDS)
    checkout = snapshot(work / "checkout")
    write_inventory(work, root, checkout)
    half = Stand(root, checkout, work, Converge("", {}), Converge("", {}))
    first = half.converge()
    second = half.converge()
    yield Stand(root, checkout, work, first, second)
    remove_tree(root)


# ------------------------------------------------------------------ static checks
def test_syntax_check():
    result = run([str(BIN / "ansible-playbook"), "--syntax-check", "-i", "inventory.example.yml", "site.yml"],
                 timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "playbook: site.yml" in result.stdout


def test_ansible_lint_production_profile():
    result = run([str(BIN / "ansible-lint"), "--profile", "production", "--nocolor"], timeout=300)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-6000:]
    assert "Profile 'production' was required, and it passed" in output, output[-3000:]


def test_vault_example_names_what_group_vars_read():
    group_vars = (ANSIBLE / "group_vars" / "all.yml").read_text()
    names = re.findall(r"^(vault_\w+):", (ANSIBLE / "vault.example.yml").read_text(), re.MULTILINE)
    assert names, "vault.example.yml defines no vault_* variables"
    for name in names:
        assert re.search(rf"{{{{\s*{name}\b", group_vars), f"group_vars/all.yml never reads {name}"


def test_unit_paths_are_the_roles_defaults():
    """The unit is installed unchanged when the defaults apply, so they must be what it names."""
    unit = (REPO / "systemd" / "emotune.service").read_text()
    defaults = (ANSIBLE / "group_vars" / "all.yml").read_text()
    role_vars = (ANSIBLE / "roles" / "emotune" / "vars" / "main.yml").read_text()

    def default(name: str, text: str = defaults) -> str:
        return re.search(rf"^{name}: (\S+)$", text, re.MULTILINE).group(1)

    code, conf, user = default("emotune_code_dir"), default("emotune_config_dir"), default("emotune_user")
    assert f"ExecStart={code}/.venv/bin/python -m device run --config {conf}/emotune.toml\n" in unit
    assert f"\nUser={user}\n" in unit and f"\nWorkingDirectory={code}\n" in unit
    state = default("emotune_state_dir", role_vars)
    assert f"\nStateDirectory={Path(state).relative_to('/var/lib')}\n" in unit


# ------------------------------------------------------------------ the converge
@converge_test
def test_first_converge_provisions_and_the_second_changes_nothing(stand):
    assert stand.first.recap["failed"] == 0 and stand.first.recap["changed"] > 0, stand.first.recap
    for task in ("emotune : Install the daemon's Python packages into the .venv", "mpd : Configure MPD",
                 "mosquitto : Write the broker's logins", "emotune : Copy the music library"):
        assert "changed" in stand.first.tasks[task], task
    assert stand.second.recap["failed"] == 0
    assert stand.second.recap["changed"] == 0, sorted(stand.second.changed)
    assert not stand.second.handlers, stand.second.handlers


@converge_test
def test_services_are_enabled_but_nothing_was_started(stand):
    wants = stand.path("/etc/systemd/system/multi-user.target.wants")
    for unit in ("emotune.service", "mpd.service", "mosquitto.service"):
        assert (wants / unit).is_symlink(), unit
    # Handlers were notified in the first run, and skipped: the stand is a chroot.
    assert {"emotune : Restart emotune", "mpd : Restart mpd"} <= stand.first.handlers
    for name in ("handler emotune : Restart emotune", "handler mpd : Restart mpd"):
        assert set(stand.first.tasks[name]) == {"skipping"}, name


@converge_test
def test_the_installed_unit_is_the_tested_one_and_verifies(stand):
    installed = stand.path("/etc/systemd/system/emotune.service")
    assert installed.read_bytes() == (REPO / "systemd" / "emotune.service").read_bytes()
    assert not stand.path("/etc/systemd/system/emotune.service.d").exists()
    # In the provisioned tree ExecStart's interpreter exists, so the unit verifies as shipped.
    result = subprocess.run(["systemd-analyze", "verify", f"--root={stand.root}", "emotune.service"],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0 and result.stdout + result.stderr == "", result.stdout + result.stderr


@converge_test
def test_the_daemon_user_has_audio_and_gpio(stand):
    result = stand.chroot("id -nG emotune && getent passwd emotune")
    assert result.returncode == 0, result.stderr
    groups, passwd = result.stdout.splitlines()
    assert set(groups.split()) == {"emotune", "audio", "gpio"}
    assert passwd.endswith(":/var/lib/emotune:/usr/sbin/nologin"), passwd
    rules = stand.path("/etc/udev/rules.d/60-emotune-gpio.rules").read_text()
    assert 'KERNEL=="gpiochip*", GROUP="gpio", MODE="0660"' in rules


@converge_test
def test_the_config_loads_and_carries_the_vaulted_password(stand):
    toml = stand.path("/etc/emotune/emotune.toml")
    settings = config.load(toml)
    assert settings.mqtt.password == SECRET
    assert settings.mqtt.device_id == HOST
    assert settings.gpio.button_pin == 17 and settings.gpio.led_pin == 27 and not settings.gpio.mock
    assert str(settings.model.path) == f"/opt/emotune/models/{MODEL}.json"
    assert str(settings.playlists.map) == "/var/lib/mpd/playlists/playlists.json"
    assert str(settings.journal.path) == "/var/lib/emotune/journal.sqlite"
    mode = toml.stat()
    assert (mode.st_mode & 0o777, mode.st_uid) == (0o640, 0)
    assert stand.chroot("stat -c %G /etc/emotune/emotune.toml").stdout.strip() == "emotune"
    assert SECRET not in (stand.work / "group_vars" / "emotune" / "vault.yml").read_text()


@converge_test
def test_the_installed_daemon_classifies_like_the_checkout(stand):
    """Code, .venv and model as installed: the daemon's own CLI in the tree gives the checkout's answer.

    The scores may differ by a few steps of the int8 output (1/256): without /proc in the chroot,
    LiteRT's XNNPACK cannot read /proc/cpuinfo and picks other kernels than on this machine.
    """
    sample = sorted((REPO / "samples").glob("*.flac"))[0]
    shutil.copy2(sample, stand.path("/tmp/sample.flac"))
    model = tomllib.loads(stand.path("/etc/emotune/emotune.toml").read_text())["model"]["path"]
    inside = stand.chroot(f"cd /opt/emotune && .venv/bin/python -m device classify --json --model {model} "
                          "/tmp/sample.flac")
    assert inside.returncode == 0, inside.stderr
    here = subprocess.run([sys.executable, "-m", "device", "classify", "--json", "--model",
                           str(stand.checkout / "models" / f"{MODEL}.json"), str(sample)],
                          cwd=stand.checkout, capture_output=True, text=True, timeout=120)
    assert here.returncode == 0, here.stderr
    got, want = json.loads(inside.stdout.splitlines()[-1]), json.loads(here.stdout.splitlines()[-1])
    assert got["emotion"] == want["emotion"]
    assert got["scores"] == pytest.approx(want["scores"], abs=0.03)


@converge_test
def test_mpd_plays_on_alsa_from_the_music_and_playlist_folders(stand):
    conf = stand.path("/etc/mpd.conf").read_text()
    assert 'music_directory     "/var/lib/mpd/music"' in conf
    assert 'playlist_directory  "/var/lib/mpd/playlists"' in conf
    assert re.search(r'audio_output \{\s+type\s+"alsa"', conf)
    assert sorted(p.name for p in stand.path("/var/lib/mpd/music").iterdir()) == ["a.wav", "b.wav"]
    assert sorted(p.name for p in stand.path("/var/lib/mpd/playlists").glob("*.m3u")) == ["calm-1.m3u", "lift-1.m3u"]
    assert "audio" in stand.chroot("id -nG mpd").stdout.split()
    # Debian's mpd.socket would listen on every interface and override bind_to_address "localhost".
    assert 'bind_to_address     "localhost"' in conf
    assert os.readlink(stand.path("/etc/systemd/system/mpd.socket")) == "/dev/null"


@converge_test
def test_the_usb_microphone_becomes_the_default_capture_device(stand):
    asound = stand.path("/etc/asound.conf").read_text()
    default = r'pcm\.!default \{\s+type asym\s+capture\.pcm "emotune_capture"\s+playback\.pcm "emotune_playback"'
    assert re.search(default, asound), asound
    assert re.search(r'pcm\.emotune_capture \{\s+type plug\s+slave\.pcm "hw:CARD=Device,DEV=0"', asound), asound
    assert re.search(r'pcm\.emotune_playback \{\s+type plug\s+slave\.pcm "sysdefault"', asound), asound


@converge_test
def test_the_broker_keeps_only_hashed_passwords_and_refuses_anonymous(stand):
    passwd = stand.path("/etc/mosquitto/emotune.passwd").read_text()
    assert re.fullmatch(r"emotune:\$7\$\S+\n", passwd), passwd
    assert SECRET not in passwd
    assert stand.chroot("stat -c %U /etc/mosquitto/emotune.passwd").stdout.strip() == "mosquitto"
    conf = stand.path("/etc/mosquitto/conf.d/emotune.conf").read_text()
    assert "allow_anonymous false" in conf and "password_file /etc/mosquitto/emotune.passwd" in conf


class InstalledBroker(Mosquitto):
    """This machine's mosquitto with the stand's listener settings and hashed logins, on a free port."""

    def __init__(self, stand: Stand, workdir: Path):
        super().__init__(workdir=workdir)
        self.stand = stand

    def _write_config(self) -> None:
        passwd = self.workdir / "passwd"
        shutil.copy(self.stand.path("/etc/mosquitto/emotune.passwd"), passwd)
        passwd.chmod(0o600)
        installed = self.stand.path("/etc/mosquitto/conf.d/emotune.conf").read_text()
        lines = [line for line in installed.splitlines() if line and not line.startswith(("#", "listener"))]
        lines = [f"password_file {passwd}" if line.startswith("password_file") else line for line in lines]
        self.config.write_text("\n".join([*lines, f"listener {self.port} {self.host}", "user root",
                                          "persistence false", "log_dest stdout"]) + "\n")


def mqtt_login(port: int, username: str, password: str, timeout: float = 10.0) -> str:
    """Connect with paho-mqtt and return the broker's CONNACK reason ("Success", "Not authorized", ...)."""
    import threading

    from paho.mqtt import client as mqtt

    answered, reason = threading.Event(), []
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2)
    client.username_pw_set(username, password)
    client.on_connect = lambda c, userdata, flags, code, props: (reason.append(str(code)), answered.set())
    client.connect("127.0.0.1", port)
    client.loop_start()
    try:
        assert answered.wait(timeout), "no CONNACK from the broker"
        return reason[0]
    finally:
        client.disconnect()
        client.loop_stop()


@converge_test
def test_the_broker_takes_the_vaulted_login_and_nothing_else(stand, tmp_path):
    with InstalledBroker(stand, tmp_path) as broker:
        assert mqtt_login(broker.port, "emotune", SECRET) == "Success"
        assert mqtt_login(broker.port, "emotune", "wrong") != "Success"
        assert mqtt_login(broker.port, "", "") != "Success"


# ------------------------------------------------------------------ tagged pushes
ALWAYS = {"Gathering Facts", "emotune : Check the settings", "gpio : Find out whether this is Raspberry Pi OS"}


@converge_test
def test_tag_model_pushes_only_the_model_and_restarts_only_emotune(stand):
    card = stand.checkout / "models" / f"{MODEL}.json"
    text = card.read_text()
    retrained = next(t for t in (json.dumps(json.loads(text), indent=n) for n in (1, 2)) if t != text)
    card.write_text(retrained)  # the same card, written differently: a new file to push
    push = stand.converge("--tags", "model")
    assert push.changed == {"emotune : Copy the model and its card"}
    assert push.ran - ALWAYS <= {"emotune : Create the code and configuration folders",
                                 "emotune : Look for the model and its card on the controller",
                                 "emotune : Check that both model files exist",
                                 "emotune : Copy the model and its card"}, push.ran
    assert push.handlers == {"emotune : Restart emotune"}
    assert stand.path(f"/opt/emotune/models/{MODEL}.json").read_bytes() == card.read_bytes()


@converge_test
def test_tag_playlists_replaces_the_set(stand):
    write_playlists(stand.checkout / "build" / "playlists", {"calm-2": ["b.wav"], "lift-1": ["a.wav"]})
    push = stand.converge("--tags", "playlists")
    assert push.changed == {"emotune : Copy the playlists and their map",
                            "emotune : Remove playlists the new set does not have"}
    assert all(name.startswith("emotune : ") and "playlist" in name.lower() for name in push.ran - ALWAYS), push.ran
    assert push.handlers == {"emotune : Restart emotune"}
    installed = stand.path("/var/lib/mpd/playlists")
    assert sorted(p.name for p in installed.glob("*.m3u")) == ["calm-2.m3u", "lift-1.m3u"]
    assert (installed / "lift-1.m3u").read_text() == "a.wav\n"
    source = stand.checkout / "build" / "playlists" / "playlists.json"
    assert (installed / "playlists.json").read_text() == source.read_text()


@converge_test
def test_tag_music_copies_new_tracks_and_updates_only_mpd(stand):
    write_tone(stand.checkout / "music" / "c.wav", 880.0, seconds=0.5)
    push = stand.converge("--tags", "music")
    assert push.changed == {"emotune : Copy the music library"}
    assert push.handlers == {"mpd : Update the MPD database"}
    assert stand.path("/var/lib/mpd/music/c.wav").read_bytes() == (stand.checkout / "music" / "c.wav").read_bytes()


@converge_test
def test_tag_config_changes_the_setting_and_restarts_only_emotune(stand):
    push = stand.converge("--tags", "config", "-e", "emotune_duck_volume=35")
    assert push.changed == {"emotune : Configure the daemon"}
    assert push.handlers == {"emotune : Restart emotune"}
    assert config.load(stand.path("/etc/emotune/emotune.toml")).mpd.duck_volume == 35
