"""``make demo`` without a terminal: the whole appliance presses its button over samples/ and exits 0."""

import re
import subprocess
import sys

import pytest

from device.config import LearningSettings, ModelSettings
from device.recognizer import Recognizer
from tests.paths import REPO

PRESSES = 3


@pytest.mark.slow
def test_the_demo_runs_non_interactively_and_plays_what_the_model_hears(tmp_path, mpd_server, mosquitto):
    # (mpd_server and mosquitto only make sure the servers are installed; the demo starts its own.)
    done = subprocess.run([sys.executable, "script/demo.py", "--workdir", str(tmp_path), "--presses", str(PRESSES),
                           "--seconds", "8"], cwd=REPO, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    presses = re.split(r"^press \d+/\d+$", done.stdout, flags=re.M)[1:]
    assert len(presses) == PRESSES
    samples = sorted((REPO / "samples").glob("*.flac"))[:PRESSES]
    playlists = {p.stem for p in (tmp_path / "playlists").glob("*.m3u")}
    # A box that hears its listener and balances its answers against their usual one, as the demo's daemon does.
    box = Recognizer(listening=True, balance=LearningSettings().balance)
    for said, path in zip(presses, samples, strict=True):
        expected = box.classify_file(path)  # what the model hears in the file, after the presses before it
        if expected.confidence >= ModelSettings().min_confidence:
            emotion, percent, playlist = re.search(r"^   heard (\w+) \((\d+)%\) -> playing (\S+)$", said, re.M).groups()
            assert playlist in playlists
        else:
            emotion, percent = re.search(r"^   unsure: low confidence, heard (\w+) \((\d+)%\)", said, re.M).groups()
        assert emotion == expected.emotion and abs(int(percent) - 100 * expected.confidence) <= 1, said
    assert (tmp_path / "journal.sqlite").exists()
