"""TESS: ``OAF_angry/OAF_back_angry.wav``: speaker (OAF older, YAF younger), word, emotion."""

from collections.abc import Iterator
from pathlib import Path

from . import Clip, audio_files

EMOTIONS = {"neutral": "neutral", "happy": "happy", "sad": "sad", "angry": "angry", "fear": "fearful",
            "disgust": "disgust", "ps": "surprised", "pleasant_surprise": "surprised",
            "pleasant_surprised": "surprised"}


def clips(root: Path) -> Iterator[Clip]:
    for path in audio_files(root):
        speaker, _, rest = path.stem.partition("_")
        emotion = rest.partition("_")[2].lower()
        if speaker.upper() in ("OAF", "YAF") and emotion in EMOTIONS:
            yield Clip(path, EMOTIONS[emotion], f"tess:{speaker.upper()}")
