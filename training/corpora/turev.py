"""TurEV-DB (Turkish single words): ``Sound Source/<Emotion>/<speaker>_<x>_<word>.wav``.

The emotion is the folder (Angry, Calm, Happy, Sad), the speaker the name's first field.
"""

from collections.abc import Iterator
from pathlib import Path

from . import Clip, audio_files

EMOTIONS = {"angry": "angry", "calm": "calm", "happy": "happy", "sad": "sad"}


def clips(root: Path) -> Iterator[Clip]:
    for path in audio_files(root):
        emotion = path.parent.name.lower()
        speaker = path.stem.split("_")[0]
        if emotion in EMOTIONS and speaker.isdigit() and path.stem.count("_") >= 2:
            yield Clip(path, EMOTIONS[emotion], f"turev-db:{speaker}")
