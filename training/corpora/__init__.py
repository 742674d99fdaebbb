"""Emotional speech corpora, each read by its published layout into the same :class:`Clip` record.

:data:`CORPORA` names the corpora it reads; one table beside it says which module reads each.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from device import card as cards
from device.audio import SUFFIXES

LABELS: tuple[str, ...] = cards.load().labels
"""The label set of every emotune model, in the order of the shipped model card (their one home);
a corpus without a class contributes none of it."""


@dataclass(frozen=True)
class Clip:
    """One utterance of a corpus."""

    path: Path
    label: str
    speaker: str
    """Unique across corpora: ``<corpus>:<id>``."""

    @property
    def corpus(self) -> str:
        """The corpus's layout name, the speaker id's prefix."""
        return self.speaker.partition(":")[0]


def audio_files(root: Path) -> Iterator[Path]:
    """Yield the audio files under ``root`` in a stable order."""
    for path in sorted(Path(root).rglob("*")):
        if path.suffix.lower() in SUFFIXES and path.is_file():
            yield path


_MODULES = {"ravdess": "ravdess", "crema-d": "cremad", "tess": "tess", "savee": "savee", "emodb": "emodb",
            "nemo": "nemo", "turev-db": "turev"}
"""Corpus name -> the module of this package whose ``clips(root)`` reads it (imported when asked for)."""

CORPORA = tuple(_MODULES)
"""The corpora emotune reads, by name (the ``--corpus`` choices)."""


def load(name: str, root: str | Path) -> list[Clip]:
    """Return the clips of corpus ``name`` stored under ``root``; an unknown name or empty tree is an error."""
    if name not in _MODULES:
        raise ValueError(f"unknown corpus {name!r}: choose one of {', '.join(CORPORA)}")
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"corpus directory {root} does not exist")
    clips = list(importlib.import_module(f"{__name__}.{_MODULES[name]}").clips(root))
    if not clips:
        raise ValueError(f"no {name} clips found under {root}: is that the corpus's published layout?")
    return clips
