"""Emotional speech corpora, each read by its published layout into the same :class:`Clip` record."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

LABELS: tuple[str, ...] = ("neutral", "calm", "happy", "sad", "angry", "fearful", "disgust", "surprised")
"""The label set of every emotune model; a corpus without a class contributes none of it."""

AUDIO_SUFFIXES = (".wav", ".flac", ".ogg")


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
        if path.suffix.lower() in AUDIO_SUFFIXES and path.is_file():
            yield path


def _loaders() -> dict[str, Callable[[Path], Iterator[Clip]]]:
    from . import cremad, emodb, nemo, ravdess, savee, tess, turev

    return {"ravdess": ravdess.clips, "crema-d": cremad.clips, "tess": tess.clips, "savee": savee.clips,
            "emodb": emodb.clips, "nemo": nemo.clips, "turev-db": turev.clips}


CORPORA = ("ravdess", "crema-d", "tess", "savee", "emodb", "nemo", "turev-db")


def load(name: str, root: str | Path) -> list[Clip]:
    """Return the clips of corpus ``name`` stored under ``root``; an unknown name or empty tree is an error."""
    loaders = _loaders()
    if name not in loaders:
        raise ValueError(f"unknown corpus {name!r}: choose one of {', '.join(CORPORA)}")
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"corpus directory {root} does not exist")
    clips = list(loaders[name](root))
    if not clips:
        raise ValueError(f"no {name} clips found under {root}: is that the corpus's published layout?")
    return clips
