"""The music library on disk: which files are tracks, their tags, excerpts of every format, the cache."""

from __future__ import annotations

import logging
import shutil

import numpy as np
import pytest

from device.errors import AudioError
from training.cache import FeatureCache
from training.excerpt import ExcerptSettings, excerpt_span, read_excerpt
from training.library import Track, find_tracks, read_tags
from training.synthmusic import tag, write

RATE = 22050
NOISE = np.random.default_rng(0).bytes(4096)


def ramp(seconds: float, rate: int) -> np.ndarray:
    """A signal whose value tells the time: from -0.9 at the start to +0.9 at the end."""
    return np.linspace(-0.9, 0.9, int(seconds * rate), dtype=np.float32)


def test_find_tracks_takes_audio_by_suffix_and_skips_hidden_and_other_files(tmp_path):
    for name in ("b/one.FLAC", "a/two.mp3", "three.ogg", "four.opus", "five.wav", "six.m4a",
                 "notes.txt", "cover.jpg", ".hidden.flac", ".git/seven.flac"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(b"x" * len(name))
    tracks = find_tracks(tmp_path)
    assert [t.path for t in tracks] == ["a/two.mp3", "b/one.FLAC", "five.wav", "four.opus", "six.m4a", "three.ogg"]
    one = next(t for t in tracks if t.path == "b/one.FLAC")
    st = (tmp_path / "b/one.FLAC").stat()
    assert (one.size, one.mtime_ns) == (st.st_size, st.st_mtime_ns)


def test_find_tracks_follows_links_but_not_in_circles(tmp_path):
    (tmp_path / "real").mkdir()
    (tmp_path / "real/song.wav").write_bytes(b"RIFF")
    (tmp_path / "real/loop").symlink_to(tmp_path)  # a link back up the tree
    (tmp_path / "gone.flac").symlink_to(tmp_path / "missing.flac")  # dangling
    assert [t.path for t in find_tracks(tmp_path)] == ["real/song.wav"]


def test_find_tracks_of_a_missing_directory_names_it(tmp_path):
    with pytest.raises(FileNotFoundError, match="nowhere"):
        find_tracks(tmp_path / "nowhere")


@pytest.mark.parametrize(("fmt", "rate"), [("flac", 44100), ("ogg", 48000), ("opus", 48000), ("mp3", 44100),
                                           ("wav", 16000), ("wav", 22050)])
def test_every_format_and_rate_decodes_to_mono_at_the_analysis_rate(tmp_path, fmt, rate):
    t = np.arange(3 * rate) / rate
    stereo = 0.3 * np.stack([np.sin(2 * np.pi * 440 * t), np.sin(2 * np.pi * 440 * t)], axis=1)
    path = write(tmp_path / f"x.{fmt}", stereo.astype(np.float32), rate, fmt)
    samples, duration = read_excerpt(path, RATE, ExcerptSettings(seconds=2.0))
    assert samples.dtype == np.float32 and samples.ndim == 1
    assert duration == pytest.approx(3.0, abs=0.06)  # lossy coders pad a little
    assert len(samples) == pytest.approx(2 * RATE, rel=0.01)
    spectrum = np.abs(np.fft.rfft(samples))
    assert np.fft.rfftfreq(len(samples), 1 / RATE)[np.argmax(spectrum)] == pytest.approx(440, abs=2)


def test_the_excerpt_is_taken_from_the_middle(tmp_path):
    path = write(tmp_path / "ramp.flac", ramp(10.0, RATE), RATE, "flac")
    samples, duration = read_excerpt(path, RATE, ExcerptSettings(seconds=2.0))
    assert duration == pytest.approx(10.0)
    assert len(samples) == 2 * RATE
    # seconds 4 to 6 of a ramp from -0.9 to 0.9 over 10 s; FLAC quantises to 16 bits
    assert samples[0] == pytest.approx(-0.9 + 1.8 * 0.4, abs=1e-3)
    assert samples[-1] == pytest.approx(-0.9 + 1.8 * 0.6, abs=1e-3)


def test_excerpt_span_keeps_inside_the_track():
    assert excerpt_span(180.0, ExcerptSettings(30.0)) == (75.0, 30.0)
    assert excerpt_span(20.0, ExcerptSettings(30.0)) == (0.0, 20.0)  # shorter: all of it
    assert excerpt_span(100.0, ExcerptSettings(30.0, centre=0.95)) == (70.0, 30.0)  # not past the end


def test_tags_are_read_where_present(tmp_path):
    for fmt in ("flac", "ogg", "opus", "mp3"):
        path = write(tmp_path / f"song.{fmt}", ramp(1.0, 48000), 48000, fmt)
        tag(path, title=f"Title {fmt}", artist="Artist ü", album="Album")
        tags = read_tags(path)
        assert (tags["title"], tags["artist"], tags["album"]) == (f"Title {fmt}", "Artist ü", "Album")
        assert tags["duration"] == pytest.approx(1.0, abs=0.06)
    untagged = read_tags(write(tmp_path / "plain.wav", ramp(1.5, RATE), RATE, "wav"))
    assert untagged == {"duration": pytest.approx(1.5, abs=0.01)}
    (tmp_path / "junk.mp3").write_bytes(b"\x00" * 64)
    assert "title" not in read_tags(tmp_path / "junk.mp3")


@pytest.mark.parametrize(("name", "content", "reason"), [
    ("empty.flac", b"", "empty file"),
    ("noise.flac", NOISE, "cannot decode"),
    ("noise.mp3", b"not an mpeg stream at all" * 100, "cannot decode"),
    ("noise.ogg", NOISE, "cannot decode"),
    ("noise.m4a", NOISE, "ffmpeg"),  # skipped without ffmpeg, refused by it with
])
def test_a_file_that_cannot_be_decoded_is_an_audio_error_naming_it(tmp_path, name, content, reason):
    (tmp_path / name).write_bytes(content)
    with pytest.raises(AudioError, match=reason) as caught:
        read_excerpt(tmp_path / name, RATE)
    assert str(caught.value).startswith(f"{tmp_path / name}: ")
    assert "does not exist" not in str(caught.value)


def test_a_truncated_file_is_an_audio_error(tmp_path):
    whole = write(tmp_path / "whole.flac", np.random.default_rng(0).uniform(-0.5, 0.5, 10 * RATE), RATE, "flac")
    (tmp_path / "cut.flac").write_bytes(whole.read_bytes()[: whole.stat().st_size // 4])
    with pytest.raises(AudioError, match="cut.flac"):
        read_excerpt(tmp_path / "cut.flac", RATE)


def test_a_file_gone_since_the_scan_is_an_audio_error(tmp_path):
    with pytest.raises(AudioError, match="cannot read"):
        read_excerpt(tmp_path / "vanished.flac", RATE)


def test_cache_entries_hold_while_path_size_and_mtime_match(tmp_path):
    cache = FeatureCache(tmp_path / "cache.json", "v1")
    track = Track("a/b.flac", 100, 123)
    cache.put(track, {"features": {"x": 1}})
    assert cache.get(track)["features"] == {"x": 1}
    assert cache.get(Track("a/b.flac", 101, 123)) is None
    assert cache.get(Track("a/b.flac", 100, 124)) is None
    assert cache.get(Track("a/c.flac", 100, 123)) is None
    cache.save([track])
    assert FeatureCache(tmp_path / "cache.json", "v1").get(track)["features"] == {"x": 1}


def test_cache_save_forgets_tracks_gone_from_the_library(tmp_path):
    cache = FeatureCache(tmp_path / "cache.json", "v1")
    kept, gone = Track("kept.flac", 1, 1), Track("gone.flac", 1, 1)
    cache.put(kept, {"error": "x"})
    cache.put(gone, {"error": "y"})
    cache.save([kept])
    again = FeatureCache(tmp_path / "cache.json", "v1")
    assert set(again.entries) == {"kept.flac"}


def test_cache_of_other_settings_or_unreadable_is_ignored(tmp_path, caplog):
    path = tmp_path / "cache.json"
    cache = FeatureCache(path, "v1")
    cache.put(Track("a.flac", 1, 1), {"error": "x"})
    cache.save([Track("a.flac", 1, 1)])
    assert FeatureCache(path, "v2").entries == {}
    path.write_text("{not json")
    with caplog.at_level(logging.WARNING, logger="training.cache"):
        assert FeatureCache(path, "v1").entries == {}
    assert str(path) in caplog.text


def test_cache_survives_a_moved_library_with_times_kept(tmp_path):
    """Entries are keyed by the path relative to the library root, so a copy with times kept hits."""
    old = tmp_path / "old"
    write(old / "song.wav", ramp(1.0, RATE), RATE, "wav")
    cache = FeatureCache(tmp_path / "cache.json", "v1")
    (track,) = find_tracks(old)
    cache.put(track, {"error": "x"})
    shutil.copytree(old, tmp_path / "new")  # copy2: size and mtime kept
    (moved,) = find_tracks(tmp_path / "new")
    assert cache.get(moved) == cache.get(track)
