"""RAVDESS speech: ``Actor_XX/03-01-EE-II-SS-RR-AA.wav`` (48 kHz download) or ``.flac`` (16 kHz copy).

The seven fields are modality (03 audio only), vocal channel (01 speech, 02 song), emotion,
intensity, statement, repetition and actor. Only audio-only speech is read.
"""

from collections.abc import Iterator
from pathlib import Path

from . import LABELS, Clip, audio_files

EMOTIONS = dict(zip(("01", "02", "03", "04", "05", "06", "07", "08"), LABELS, strict=True))


def clips(root: Path) -> Iterator[Clip]:
    for path in audio_files(root):
        fields = path.stem.split("-")
        if len(fields) != 7 or fields[0] != "03" or fields[1] != "01" or fields[2] not in EMOTIONS:
            continue
        yield Clip(path, EMOTIONS[fields[2]], f"ravdess:{fields[6]}")
