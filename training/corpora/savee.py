"""SAVEE: ``AudioData/DC/a01.wav`` (or the flat ``ALL/DC_a01.wav``): speaker, emotion code, number."""

import re
from collections.abc import Iterator
from pathlib import Path

from . import Clip, audio_files

EMOTIONS = {"n": "neutral", "h": "happy", "sa": "sad", "a": "angry", "f": "fearful", "d": "disgust",
            "su": "surprised"}
SPEAKERS = ("DC", "JE", "JK", "KL")
NAME = re.compile(r"^(?:(DC|JE|JK|KL)_)?(sa|su|[nhafd])(\d\d)$")


def clips(root: Path) -> Iterator[Clip]:
    for path in audio_files(root):
        match = NAME.match(path.stem)
        speaker = match and (match[1] or path.parent.name)
        if match and speaker in SPEAKERS:
            yield Clip(path, EMOTIONS[match[2]], f"savee:{speaker}")
