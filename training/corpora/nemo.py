"""nEMO (Polish): ``samples/<SPK>_<emotion>_<n>.wav`` with ``data.tsv`` naming each file's speaker and emotion.

``data.tsv`` is tab-separated (``file_id``, ``emotion``, ..., ``speaker_id`` padded with spaces);
where it lists a file, its fields win over the name, which carries the same two facts.
"""

import csv
from collections.abc import Iterator
from pathlib import Path

from . import Clip, audio_files

EMOTIONS = {"anger": "angry", "fear": "fearful", "happiness": "happy", "neutral": "neutral", "sadness": "sad",
            "surprised": "surprised"}


def _table(root: Path) -> dict[str, tuple[str, str]]:
    """Return ``{file stem: (emotion, speaker)}`` from ``data.tsv``, or nothing where it is absent."""
    path = root / "data.tsv"
    if not path.is_file():
        return {}
    with path.open(encoding="utf-8", newline="") as f:
        return {Path(row["file_id"].strip()).stem: (row["emotion"].strip(), row["speaker_id"].strip())
                for row in csv.DictReader(f, delimiter="\t")}


def clips(root: Path) -> Iterator[Clip]:
    table = _table(root)
    for path in audio_files(root):
        speaker, _, rest = path.stem.partition("_")
        emotion, speaker = table.get(path.stem, (rest.rpartition("_")[0], speaker))
        if emotion in EMOTIONS and speaker:
            yield Clip(path, EMOTIONS[emotion], f"nemo:{speaker}")
