import logging
import os

import numpy as np
import pytest
import soundfile

from device import audio
from device.errors import AudioError
from tests.sound import tone


@pytest.mark.parametrize("fmt,suffix,rate", [("WAV", ".wav", 48000), ("FLAC", ".flac", 44100),
                                             ("OGG", ".ogg", 22050), ("WAV", ".wav", 8000)])
def test_any_format_and_rate_becomes_16k_mono(tmp_path, fmt, suffix, rate):
    left = tone(1.0, 440.0, 0.5, rate)
    stereo = np.stack([left, left], axis=1)
    path = tmp_path / f"clip{suffix}"
    soundfile.write(path, stereo, rate, format=fmt)
    samples = audio.load(path)
    assert samples.dtype == np.float32 and samples.ndim == 1
    assert abs(len(samples) - 16000) <= 2
    spectrum = np.abs(np.fft.rfft(samples))
    assert abs(np.argmax(spectrum) * 16000 / len(samples) - 440.0) < 3.0
    assert 0.3 < np.max(np.abs(samples[1000:-1000])) < 0.6


def test_downmix_averages_channels():
    stereo = np.stack([np.ones(10), -np.ones(10) * 0.5], axis=1)
    assert np.allclose(audio.to_mono(stereo), 0.25)


def test_corrupt_file_names_the_file(tmp_path):
    bad = tmp_path / "broken.flac"
    bad.write_bytes(b"fLaC this is not really flac")
    with pytest.raises(AudioError, match="broken.flac"):
        audio.load(bad)


def test_missing_and_empty_files(tmp_path):
    with pytest.raises(AudioError, match="nowhere.wav"):
        audio.load(tmp_path / "nowhere.wav")
    empty = tmp_path / "empty.wav"
    soundfile.write(empty, np.zeros(0, dtype=np.float32), 16000)
    with pytest.raises(AudioError, match="empty.wav"):
        audio.load(empty)


def test_a_missing_file_a_folder_and_a_fifo_say_what_they_are_and_a_fifo_is_never_waited_on(tmp_path):
    with pytest.raises(AudioError, match=r"cannot read audio file .*nowhere.wav: No such file or directory"):
        audio.load(tmp_path / "nowhere.wav")
    with pytest.raises(AudioError, match="is a folder, not an audio file"):
        audio.load(tmp_path)
    fifo = tmp_path / "pipe.wav"
    os.mkfifo(fifo)  # nobody writes to it: opening it for reading would wait forever
    with pytest.raises(AudioError, match="pipe.wav is not a regular file"):
        audio.load(fifo)


def test_a_truncated_wav_is_read_with_a_warning(tmp_path, caplog):
    whole = tmp_path / "whole.wav"
    soundfile.write(whole, tone(1.0, 440.0, 0.5, 16000), 16000, subtype="PCM_16")
    cut = tmp_path / "cut.wav"
    cut.write_bytes(whole.read_bytes()[:-16000])  # half the samples gone, the header unchanged
    with caplog.at_level(logging.WARNING, logger="device.audio"):
        assert len(audio.load(whole)) == 16000 and not caplog.records
        assert len(audio.load(cut)) == 8000
    assert "cut.wav is truncated: its header promises 32000 bytes of audio, the file holds 16000" in caplog.text


def test_max_seconds_reads_only_the_beginning(tmp_path):
    path = tmp_path / "long.flac"
    soundfile.write(path, tone(5.0, 440.0, 0.5, 48000), 48000)
    assert len(audio.load(path, 16000, max_seconds=2.0)) == 32000
    assert len(audio.load(path, 16000)) == 80000
