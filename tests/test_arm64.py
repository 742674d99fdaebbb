"""The Raspberry Pi path under emulation: device/ on arm64 Debian 12, Python 3.11, a Cortex-A72 (Pi 4).

Everything else in the suite runs on this PC's x86. Here the device's software stack runs as a Pi
runs it, instruction by instruction, under ``qemu-aarch64-static -cpu cortex-a72``:

1. A cached arm64 Debian 12 tree: ``debootstrap --arch=arm64 --foreign --variant=minbase`` with
   :data:`PACKAGES`. ``--foreign`` only downloads and unpacks (its second stage would run arm64
   package scripts, which needs binfmt_misc); the first stage unpacks just the required set, so the
   packages it downloaded for ``--include`` (and their dependencies) are unpacked here with
   ``dpkg-deb --fsys-tarfile | tar x --keep-directory-symlink`` (the tree's /lib is a link to usr/lib).
2. ``/opt/emotune/.venv`` in it, made by the arm64 Python (``--copies --without-pip``: pip's step
   would exec an arm64 binary, and a venv's usual link to /usr/bin/python3.11 would lead the host
   kernel to the host's own x86 Python). This PC's pip installs ``requirements.txt`` into it for
   aarch64, from wheels only (``--platform manylinux_2_X_aarch64 --only-binary=:all:``), as a Pi
   would get them from PyPI; plus the test tools of requirements-dev.txt (pytest, pytest-timeout,
   hypothesis). python_speech_features publishes only an sdist (pure Python): pip builds its wheel
   here first, and the aarch64 install takes it from there.
3. Two checks: ``python -m device classify --json samples/*.flac`` in the tree against the same
   command on x86 (same emotion, every score within one int8 step of the model's output, whose
   scale is read from the model), and the device's own test files (:data:`DEVICE_TESTS`, those that
   exercise device/ without hardware or servers) run by pytest inside the arm64 venv.

What the stand needs, each learned the hard way (``../shared/NOTES.md``, "The device stack on arm64"):

- ``-cpu cortex-a72``: qemu's default ``-cpu max`` has SME, and LiteRT's kernels then compute
  wrong scores (2 of 8 emotions right). The Pi 5's Cortex-A76 gives the same exact results.
- A Pi 4's ``/proc/cpuinfo`` (:data:`PI4_CPUINFO`) at ``proc/cpuinfo`` in the tree: qemu-user
  passes ``/proc`` through from the host, and LiteRT's CPU detection (``cpuinfo_arm_linux_init``)
  segfaults on an x86 file that lists no ARM core. qemu's ``-L`` prefix applies to every absolute
  path the program opens, ``/proc/cpuinfo`` included, so a file in the tree wins. (debootstrap
  makes ``proc`` a link to the host's /proc when it thinks it runs in a container; the build
  replaces that link with a folder first, so nothing is ever written to the host's /proc.)
- No binfmt_misc here or in CI, so an arm64 program cannot be exec'ed by the kernel:
  ``.venv/bin/python`` in the tree is a shell script that runs the venv's arm64 ``python3.11``
  through qemu with itself as ``argv[0]``. ``sys.executable`` is then that script, so tests that
  start ``sys.executable`` start arm64 Python too.

What it cannot show (README, "How this is tested without a Pi"): ALSA and a real sound card, GPIO, speed (the
emulated latency says nothing about a Pi's), and the Pi 5's 16 KiB pages (qemu-user runs with
the host's 4 KiB pages).

Cache: ``~/.cache/emotune/arm64-KEY`` (``$XDG_CACHE_HOME`` if set), about 540 MB, KEY a hash of
the suite, mirror, packages, requirements.txt, the test tools and :data:`RECIPE`. It is built in
``arm64-KEY.partial`` and renamed when complete, under a lock, so an interrupted build is rebuilt,
never reused. Measured on 2 shared cores: the build 60-75 s (debootstrap fetches ~60 MB from the
Debian mirror, pip ~100 MB from PyPI), the checks about 3 min (the device tests 2.5 min of it), so
4.3 min cold, 3 min warm. Old keys stay: ``rm -rf ~/.cache/emotune/arm64-*``.

Skips, saying why, when qemu-aarch64-static is missing (``make system-deps`` installs
qemu-user-static) and, with no tree cached, when debootstrap is missing or this is not root.
A failed download fails the test: nothing is faked.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.debian import MIRROR, SUITE, Lock, key, remove_tree
from tests.paths import REPO
from tests.paths import SAMPLES as SAMPLE_DIR

SAMPLES = sorted(SAMPLE_DIR.glob("*.flac"))
QEMU = "qemu-aarch64-static"
CPU = "cortex-a72"
# What the device needs from Debian beyond minbase: the interpreter, and PortAudio for sounddevice
# (soundfile's wheel brings its own libsndfile; numpy's and scipy's their own OpenBLAS).
PACKAGES = ("python3.11", "libportaudio2")
# Published only as an sdist (pure Python): its wheel is built here, then installed for aarch64.
SDIST_ONLY = ("python_speech_features",)
TEST_TOOLS = ("pytest", "pytest-timeout", "hypothesis")
VENV = "opt/emotune/.venv"  # where the playbook puts it on a Pi (emotune_code_dir)
RECIPE = "2"  # bump when build() makes something different from the same inputs
# The device's test files that need no hardware and no servers: the front-end, end-pointing, the
# card and model in LiteRT, classify, the state machine, config, journal, the mic on a fake stream,
# the panel on gpiozero's MockFactory, sd_notify, the learning, the import boundaries and device/'s doctests.
DEVICE_TESTS = ("test_audio", "test_boundaries", "test_card", "test_circumplex", "test_classify",
                "test_config", "test_docs", "test_endpoint", "test_features", "test_history",
                "test_journal", "test_learning", "test_machine", "test_mic", "test_model", "test_notify",
                "test_panel")
# Not these: test_docs's doctests of training/ (TensorFlow is no device package), and test_model's
# re-derivation of the validation folds, which reads whole corpora through training/ (only where
# ../shared has them; far too slow under emulation).
DESELECT = "not training and not reproduces_each_validation_fold"

_CORE = """\
processor\t: {n}
BogoMIPS\t: 108.00
Features\t: fp asimd evtstrm crc32 cpuid
CPU implementer\t: 0x41
CPU architecture: 8
CPU variant\t: 0x0
CPU part\t: 0xd08
CPU revision\t: 3

"""
PI4_CPUINFO = "".join(_CORE.format(n=n) for n in range(4)) + (
    "Hardware\t: BCM2835\nRevision\t: c03111\nSerial\t\t: 100000000000e0a1\n"
    "Model\t\t: Raspberry Pi 4 Model B Rev 1.1\n")
"""/proc/cpuinfo of a Raspberry Pi 4 (four Cortex-A72 cores, part 0xd08) on 64-bit Raspberry Pi OS."""

WRAPPER = f"""\
#!/bin/sh
# emotune's arm64 test stand (tests/test_arm64.py): this venv's arm64 Python, run through qemu-user
# as a Pi 4's CPU, the tree as its root for every absolute path (there is no binfmt_misc to do it).
bin=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$bin/../../../.." && pwd)
exec {QEMU} -cpu {CPU} -L "$root" -0 "$bin/python" "$bin/python3.11" "$@"
"""


def cache_root() -> Path:
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "emotune"


def requirement_lines(path: Path, names: tuple[str, ...] | None = None) -> list[str]:
    """The requirement lines of ``path`` (no comments, no ``-r``), only those of ``names`` if given."""
    lines = [line.split("#")[0].strip() for line in path.read_text().splitlines()]
    lines = [line for line in lines if line and not line.startswith("-")]
    if names is None:
        return lines
    return [line for line in lines if re.split(r"[<>=!~\[; ]", line)[0] in names]


def check(argv: list[str], timeout: float, **kw) -> subprocess.CompletedProcess:
    result = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, **kw)
    assert result.returncode == 0, f"{argv[:4]} failed:\n{result.stdout[-3000:]}{result.stderr[-3000:]}"
    return result


def unpack(deb: Path, root: Path) -> None:
    """Unpack a .deb's files into ``root`` as dpkg would, following the tree's /lib -> usr/lib links."""
    contents = subprocess.Popen(["dpkg-deb", "--fsys-tarfile", str(deb)], stdout=subprocess.PIPE)
    tar = subprocess.run(["tar", "-x", "-C", str(root), "--keep-directory-symlink"], stdin=contents.stdout,
                         capture_output=True, timeout=300)
    contents.stdout.close()
    assert contents.wait(timeout=60) == 0 and tar.returncode == 0, f"unpacking {deb}: {tar.stderr.decode()}"


def aarch64_platforms(root: Path) -> list[str]:
    """pip's ``--platform`` tags that the tree's glibc runs: manylinux2014 up to its own version."""
    debs = dict(line.split() for line in (root / "debootstrap" / "debpaths").read_text().splitlines())
    major, minor = map(int, re.match(r".*/libc6_(\d+)\.(\d+)", debs["libc6"]).groups())
    return ["manylinux2014_aarch64"] + [f"manylinux_{major}_{m}_aarch64" for m in range(17, minor + 1)]


def build(root: Path) -> None:
    """Make the arm64 tree with its venv at ``root`` (which must not exist)."""
    check(["debootstrap", "--arch=arm64", "--foreign", "--variant=minbase", f"--include={','.join(PACKAGES)}",
           SUITE, str(root), MIRROR], timeout=900)
    # The first stage unpacked the required packages; "base" lists the rest it downloaded.
    debs = dict(line.split() for line in (root / "debootstrap" / "debpaths").read_text().splitlines())
    for package in (root / "debootstrap" / "base").read_text().split():
        unpack(root / debs[package].lstrip("/"), root)
    for deb in (root / "var" / "cache" / "apt" / "archives").glob("*.deb"):
        deb.unlink()  # 40 MB the tree no longer needs
    proc = root / "proc"
    if proc.is_symlink():  # debootstrap's setup_proc_symlink (it believed it ran in a container)
        proc.unlink()
    proc.mkdir(exist_ok=True)
    (proc / "cpuinfo").write_text(PI4_CPUINFO)

    venv = root / VENV
    venv.parent.mkdir(parents=True)
    # argv[0] /usr/bin/python3.11 (the tree's, as qemu's -L resolves it) becomes the venv's home.
    check([QEMU, "-cpu", CPU, "-L", str(root), "-0", "/usr/bin/python3.11", str(root / "usr/bin/python3.11"),
           "-m", "venv", "--copies", "--without-pip", str(venv)], timeout=300)
    for name in ("python", "python3"):
        (venv / "bin" / name).unlink()
    (venv / "bin" / "python").write_text(WRAPPER)
    (venv / "bin" / "python").chmod(0o755)
    (venv / "bin" / "python3").symlink_to("python")

    wheels = root / "var" / "cache" / "emotune-wheels"
    requirements = REPO / "requirements.txt"
    check([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(wheels),
           *requirement_lines(requirements, SDIST_ONLY)], timeout=300)
    platforms = [option for tag in aarch64_platforms(root) for option in ("--platform", tag)]
    check([sys.executable, "-m", "pip", "install", "-q", "--target", str(venv / "lib" / "python3.11" / "site-packages"),
           *platforms, "--python-version", "3.11", "--implementation", "cp", "--abi", "cp311",
           "--only-binary=:all:", "--find-links", str(wheels), "-r", str(requirements),
           *requirement_lines(REPO / "requirements-dev.txt", TEST_TOOLS)], timeout=900)


@pytest.fixture(scope="session")
def arm64_python() -> Path:
    """The arm64 venv's ``python`` (the qemu wrapper), its tree built once and cached."""
    if shutil.which(QEMU) is None:
        pytest.skip(f"{QEMU} is not installed (make system-deps installs qemu-user-static)")
    tools = requirement_lines(REPO / "requirements-dev.txt", TEST_TOOLS)
    cache = cache_root()
    tree = cache / f"arm64-{key(SUITE, MIRROR, *PACKAGES, (REPO / 'requirements.txt').read_text(), *tools, RECIPE)}"
    python = tree / VENV / "bin" / "python"
    if not python.is_file():
        for tool, package in (("debootstrap", "debootstrap"), ("dpkg-deb", "dpkg")):
            if shutil.which(tool) is None:
                pytest.skip(f"{tool} is not installed (make system-deps installs {package})")
        if os.geteuid() != 0:
            pytest.skip("building the arm64 tree needs root (debootstrap; make test runs as root in CI)")
        cache.mkdir(parents=True, exist_ok=True)
        with Lock(cache / "arm64.lock"):
            if not python.is_file():
                partial = tree.with_name(tree.name + ".partial")
                if partial.exists() or partial.is_symlink():
                    remove_tree(partial)
                build(partial)
                partial.rename(tree)
    return python


def arm64_env() -> dict[str, str]:
    """This environment without anything that would point the arm64 Python at x86 packages."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")}
    return {**env, "PYTHONDONTWRITEBYTECODE": "1", "PYTHONNOUSERSITE": "1"}


def classify(python: Path | str, timeout: float) -> dict[str, dict]:
    result = check([str(python), "-m", "device", "classify", "--json", *map(str, SAMPLES)], timeout=timeout,
                   cwd=REPO, env=arm64_env())
    return {Path(line["file"]).name: line for line in map(json.loads, result.stdout.splitlines())}


def output_step() -> float:
    """One int8 step of the shipped model's output (its logits), read from the model."""
    from ai_edge_litert.interpreter import Interpreter

    from device.card import load

    scale, _ = Interpreter(model_path=str(load().model_path)).get_output_details()[0]["quantization"]
    return scale


@pytest.mark.slow
@pytest.mark.timeout(1800)
def test_the_tree_runs_arm64_python_3_11_as_a_cortex_a72(arm64_python):
    probe = ("import platform, sys; print(platform.machine(), *sys.version_info[:2], sys.prefix, sys.executable);"
             "print(open('/proc/cpuinfo').read().count('CPU part\\t: 0xd08'))")
    lines = check([str(arm64_python), "-c", probe], timeout=120, env=arm64_env()).stdout.splitlines()
    venv = arm64_python.parent.parent
    assert lines == [f"aarch64 3 11 {venv} {arm64_python}", "4"]


@pytest.mark.slow
@pytest.mark.timeout(1800)
def test_classify_on_arm64_gives_the_x86_answer(arm64_python):
    arm, x86 = classify(arm64_python, timeout=600), classify(sys.executable, timeout=300)
    assert sorted(arm) == sorted(x86) == sorted(path.name for path in SAMPLES)
    # Scores are a softmax of dequantized logits: one int8 step in any logit moves no score by more
    # than that step; the JSON rounds to 4 decimals.
    tolerance = output_step() + 1e-4
    for name, line in x86.items():
        assert arm[name]["emotion"] == line["emotion"], (name, arm[name]["scores"], line["scores"])
        assert arm[name]["scores"].keys() == line["scores"].keys()
        worst = max(abs(arm[name]["scores"][label] - score) for label, score in line["scores"].items())
        assert worst <= tolerance, (name, worst, arm[name]["scores"], line["scores"])


@pytest.mark.slow
@pytest.mark.timeout(1800)
def test_the_device_tests_pass_on_arm64(arm64_python, capsys):
    files = [f"tests/{name}.py" for name in DEVICE_TESTS]
    result = subprocess.run([str(arm64_python), "-m", "pytest", "-p", "no:cacheprovider", "-q", "-k", DESELECT,
                             *files], capture_output=True, text=True, timeout=1500, cwd=REPO, env=arm64_env())
    summary = result.stdout.strip().splitlines()[-1] if result.stdout.strip() else ""
    with capsys.disabled():
        print(f"\n  device tests on arm64 (qemu {CPU}): {summary}")
    assert result.returncode == 0, result.stdout[-8000:] + result.stderr[-3000:]
    # None of these files skips anything on x86: a skip here would hide an arm64 failure.
    counts = {word: int(n) for n, word in re.findall(r"(\d+) (\w+)", summary)}
    assert counts.get("passed") and not {"skipped", "xfailed", "failed", "error", "errors"} & set(counts), summary
