"""The microphone adapter: end-pointing on a recording fed as the microphone, failures and recovery."""

import shutil

import numpy as np
import pytest
import soundfile

from device import audio
from device.config import AudioSettings
from device.endpoint import find_speech
from device.events import MicBack, MicFailed, UtteranceReady
from device.mic import Mic
from tests.helpers import Recorder


def test_a_recording_ends_soon_after_the_speech_ends(sentence):
    events = Recorder()
    settings = AudioSettings(input_file=str(sentence), input_speed=0, max_seconds=20, silence_seconds=0.8)
    with Mic(settings, events, rate=16000) as mic:
        mic.start_capture()
        utterance = events.wait_for(lambda e: isinstance(e, UtteranceReady)).samples
    original = audio.load(sentence, 16000)
    end = find_speech(original, 16000).end
    # Cut 0.8-1.1 s after the end of the speech (end-point checks run every 0.2 s), never before it.
    assert end + 0.8 * 16000 <= len(utterance) <= end + 1.1 * 16000 + 1600
    assert np.allclose(utterance[: len(original)][:end], original[:end], atol=1e-4)
    assert not events.of(MicFailed)


def test_max_seconds_bounds_a_recording_of_silence_and_rate_is_converted(tmp_path):
    quiet = tmp_path / "quiet.wav"
    soundfile.write(quiet, np.zeros(48000 * 5, np.float32), 48000)
    events = Recorder()
    with Mic(AudioSettings(input_file=str(quiet), input_speed=0, max_seconds=1.5, sample_rate=48000), events,
             rate=16000) as mic:
        mic.start_capture()
        utterance = events.wait_for(lambda e: isinstance(e, UtteranceReady)).samples
    assert utterance.dtype == np.float32 and len(utterance) == pytest.approx(1.5 * 16000, abs=1600)


def test_stop_capture_finishes_or_cancels(sentence):
    events = Recorder()
    with Mic(AudioSettings(input_file=str(sentence), input_speed=1, max_seconds=8), events) as mic:
        mic.start_capture()
        mic.stop_capture(finish=True)
        short = events.wait_for(lambda e: isinstance(e, UtteranceReady)).samples
        assert len(short) <= 0.5 * 16000
        events.clear()
        mic.start_capture()
        mic.stop_capture(finish=False)
        mic.start_capture()  # a new recording after a cancelled one works
        mic.stop_capture(finish=True)
        events.wait_for(lambda e: isinstance(e, UtteranceReady))
    assert len(events.of(UtteranceReady)) == 1


def test_a_missing_recording_fails_then_comes_back(sentence, tmp_path):
    path = tmp_path / "later.flac"
    events = Recorder()
    with Mic(AudioSettings(input_file=str(path), input_speed=0), events, backoff=(0.05, 0.1)) as mic:
        failed = events.wait_for(lambda e: isinstance(e, MicFailed))
        assert str(path) in failed.message
        mic.start_capture()  # a press while it is missing fails again, no crash
        events.wait_for(lambda e: len(events.of(MicFailed)) == 2)
        shutil.copy(sentence, path)
        events.wait_for(lambda e: isinstance(e, MicBack))
        mic.start_capture()
        events.wait_for(lambda e: isinstance(e, UtteranceReady))


def test_a_missing_input_device_is_reported_not_raised():
    events = Recorder()
    with Mic(AudioSettings(device="no-such-microphone-xyz"), events, backoff=(5, 5)) as mic:
        failed = events.wait_for(lambda e: isinstance(e, MicFailed))
        assert "no-such-microphone-xyz" in failed.message or "PortAudio" in failed.message
        mic.start_capture()
        events.wait_for(lambda e: len(events.of(MicFailed)) == 2)


def test_closing_twice_is_harmless():
    mic = Mic(AudioSettings(input_file="/nonexistent.wav"), Recorder()).start()
    mic.close()
    mic.close()
