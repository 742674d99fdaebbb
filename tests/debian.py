"""Debian 12 trees for the tests that build one (test_ansible, test_arm64): suite, mirror, cache locks.

Both build a tree once with ``debootstrap``, keyed by what made it, under an exclusive lock, into a
``.partial`` folder renamed into place when it is complete: an interrupted build is never reused.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import subprocess
from pathlib import Path

SUITE = "bookworm"
MIRROR = os.environ.get("EMOTUNE_DEBIAN_MIRROR", "http://deb.debian.org/debian")


def _mounts_under(path: Path) -> list[str]:
    prefix = str(path.resolve()) + "/"
    with open("/proc/mounts") as mounts:
        return [line.split()[1] for line in mounts if line.split()[1].startswith(prefix)]


def remove_tree(path: Path) -> None:
    """``rm -rf`` a root file system, refusing if anything is still mounted inside it."""
    mounted = _mounts_under(path)
    if mounted:
        raise RuntimeError(f"not removing {path}: still mounted inside it: {mounted}")
    subprocess.run(["rm", "-rf", "--one-file-system", str(path)], check=True, timeout=600)


class Lock:
    """An exclusive ``flock`` on a file, so two pytest sessions don't build one cache at once."""

    def __init__(self, path: Path):
        self.file = open(path, "a")

    def __enter__(self):
        fcntl.flock(self.file, fcntl.LOCK_EX)
        return self

    def __exit__(self, *exc):
        fcntl.flock(self.file, fcntl.LOCK_UN)
        self.file.close()


def key(*parts: str) -> str:
    """A short hash of what made a cached thing: its folder's name changes when any part does."""
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:12]
