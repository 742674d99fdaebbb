"""Regenerate the front-end's golden values: ``python tests/data/make_golden.py``.

Run it only when the front-end is meant to change; the shipped model must then be retrained.
"""

import json
from pathlib import Path

import numpy as np

from device import audio
from device.features import FrontEnd, extract

HERE = Path(__file__).resolve().parent
CLIP = HERE.parent.parent / "samples" / "03-01-05-02-02-01-17.flac"


def main() -> None:
    fe = FrontEnd()
    utterance = extract(audio.load(CLIP, fe.sample_rate), fe)
    np.savez_compressed(HERE / "golden.npz", windows=utterance.windows,
                        segment=np.array([utterance.segment.start, utterance.segment.end]),
                        frontend=json.dumps(fe.to_dict()), clip=CLIP.name)


if __name__ == "__main__":
    main()
