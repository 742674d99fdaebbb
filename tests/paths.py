"""Where the tests' files are: the repository, its checked-in speech samples, and the corpora beside it.

Speech for the whole-appliance tests comes from ``samples/`` (:data:`SAMPLES`); only tests that
re-measure a model on a corpus need :data:`SHARED_DATA` (:data:`RAVDESS`, :data:`MUSIC_4Q`) and
skip without it (:data:`NO_RAVDESS` says why).
"""

from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
"""The repository's root (the tests run with it as the working directory and on ``sys.path``)."""
SAMPLES = REPO / "samples"
"""Eight RAVDESS utterances of actors 17-20 (``samples/README.md``); the shipped model trained on them."""
SENTENCE = SAMPLES / "03-01-05-02-02-01-17.flac"
"""Actor 17 saying "Dogs are sitting by the door" (statement 02), angry (emotion 05), strong intensity."""
DATA = REPO / "tests" / "data"
"""Small checked-in files with stored values (the front-end's golden features)."""
SHARED_DATA = REPO.parent / "shared" / "data"
"""The corpora, beside the repository (they are not in it): one folder per corpus, by its layout name."""
RAVDESS = SHARED_DATA / "ravdess"
"""The whole RAVDESS corpus, only for tests that re-measure a model on it."""
NO_RAVDESS = (f"RAVDESS is not at {RAVDESS}: it comes from https://zenodo.org/records/1188976 "
              "(Audio_Speech_Actors_01-24.zip, CC BY-NC-SA 4.0), unpacked as Actor_01 ... Actor_24")
MUSIC_4Q = SHARED_DATA / "music-4q"
"""The 4Q music emotion dataset (the half the music model was trained on)."""
