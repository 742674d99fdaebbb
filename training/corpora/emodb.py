"""Berlin EmoDB: ``wav/03a01Fa.wav``: speaker, text, emotion letter (German), version.

Boredom (L) has no emotune class and is left out.
"""

import re
from collections.abc import Iterator
from pathlib import Path

from . import Clip, audio_files

EMOTIONS = {"N": "neutral", "F": "happy", "T": "sad", "W": "angry", "A": "fearful", "E": "disgust"}
NAME = re.compile(r"^(\d\d)[abc]\d\d([A-Z])[a-z]$")


def clips(root: Path) -> Iterator[Clip]:
    for path in audio_files(root):
        match = NAME.match(path.stem)
        if match and match[2] in EMOTIONS:
            yield Clip(path, EMOTIONS[match[2]], f"emodb:{match[1]}")
