"""Writing output files so that a reader never sees half of one: :func:`write_atomic`.

A crash, a full disk or a second run at the same time leaves either the old file or the new one,
never a mix: the text goes to a temporary file of a unique name beside the target, is flushed to
disk, and then replaces the target in one rename.

>>> import tempfile
>>> folder = Path(tempfile.mkdtemp())
>>> write_atomic(folder / "calm.m3u", "a.flac\\n").read_text()
'a.flac\\n'
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path


@contextlib.contextmanager
def replacing(path: Path) -> Iterator[Path]:
    """Yield a unique temporary path beside ``path`` (same suffix) to write; it then replaces ``path``.

    If the block raises, the temporary file is removed and ``path`` is left as it was.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=f".tmp{path.suffix}")
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def write_atomic(path: Path, text: str) -> Path:
    """Write ``text`` (UTF-8) to ``path`` atomically; return ``path``."""
    with replacing(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return path
