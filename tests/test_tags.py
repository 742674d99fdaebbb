"""``--write-tags``: the mood goes into each file's own tags, the audio is never rewritten."""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path

import mutagen
import numpy as np
import pytest
import soundfile as sf

from training import tags
from training.outputs import JSON_NAME
from training.playlists import Settings, build
from training.synthmusic import MOODS, make_library, render, write

VALUES = tags.mood_tags(-0.41234, 0.5, "Q4 calm")


def audio_payload(path: Path) -> np.ndarray:
    """Return the decoded samples of ``path``: what a player hears."""
    samples, _ = sf.read(str(path), dtype="float32")
    return samples


def read_mood(path: Path) -> dict[str, str]:
    """Return the emotune values as stored in ``path``'s tags (Vorbis comments or ID3 frames)."""
    audio = mutagen.File(str(path))
    if isinstance(audio.tags, mutagen.id3.ID3):
        return {"EMOTUNE_AROUSAL": str(audio.tags["TXXX:EMOTUNE_AROUSAL"]),
                "EMOTUNE_VALENCE": str(audio.tags["TXXX:EMOTUNE_VALENCE"]), "MOOD": str(audio.tags["TMOO"])}
    return {k: audio.tags[k][0] for k in VALUES}


def test_the_values_are_short_text():
    assert VALUES == {"EMOTUNE_AROUSAL": "-0.412", "EMOTUNE_VALENCE": "0.500", "MOOD": "Q4 calm"}


@pytest.mark.parametrize("fmt", ["flac", "ogg", "opus", "mp3", "wav"])
def test_mood_tags_are_written_once_and_the_audio_stays(tmp_path, fmt):
    path = write(tmp_path / f"song.{fmt}", render(MOODS["calm"], 3.0, 48000 if fmt == "opus" else 22050, 1),
                 48000 if fmt == "opus" else 22050, fmt)
    before = audio_payload(path)
    assert tags.write_mood(path, VALUES) is True
    assert read_mood(path) == VALUES
    assert np.array_equal(audio_payload(path), before)
    assert tags.write_mood(path, VALUES) is False  # already says so: the file is not touched
    changed = {**VALUES, "MOOD": "Q3 sad"}
    assert tags.write_mood(path, changed) is True and read_mood(path) == changed


def test_a_file_mutagen_cannot_tag_is_named(tmp_path):
    path = tmp_path / "not-audio.flac"
    path.write_bytes(b"plain text, no FLAC header")
    with pytest.raises(ValueError, match=f"{path}: "):
        tags.write_mood(path, VALUES)


def test_playlists_write_tags_then_an_unchanged_rerun_analyses_and_writes_nothing(tmp_path, caplog):
    root = tmp_path / "music"
    make_library(root, tracks_per_mood=1, seconds=6.0, formats=("flac", "mp3"), rates=(22050,), jobs=1)
    settings = Settings(root, tmp_path / "out", write_tags=True)
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        build(settings)
    assert "mood tags written to 4 of 4 files" in printed.getvalue()
    doc = json.loads((tmp_path / "out" / JSON_NAME).read_text())
    for track in doc["tracks"]:
        stored = read_mood(root / track["path"])
        assert stored["MOOD"] == track["quadrant"]
        assert float(stored["EMOTUNE_AROUSAL"]) == pytest.approx(track["arousal"], abs=5e-4)
    printed = io.StringIO()
    caplog.clear()
    with contextlib.redirect_stdout(printed), caplog.at_level("INFO"):
        build(settings)
    assert "mood tags written to 0 of 4 files" in printed.getvalue()
    assert "0 to analyse, 4 unchanged" in caplog.text, caplog.messages
