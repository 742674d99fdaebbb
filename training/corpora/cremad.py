"""CREMA-D: ``AudioWAV/1001_DFA_ANG_XX.wav``: actor, sentence, emotion, level."""

from collections.abc import Iterator
from pathlib import Path

from . import Clip, audio_files

EMOTIONS = {"NEU": "neutral", "HAP": "happy", "SAD": "sad", "ANG": "angry", "FEA": "fearful", "DIS": "disgust"}


def clips(root: Path) -> Iterator[Clip]:
    for path in audio_files(root):
        fields = path.stem.split("_")
        if len(fields) == 4 and fields[0].isdigit() and fields[2] in EMOTIONS:
            yield Clip(path, EMOTIONS[fields[2]], f"crema-d:{fields[0]}")
