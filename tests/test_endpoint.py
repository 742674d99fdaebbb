
import numpy as np

from device import audio
from device.endpoint import EndpointParams, find_speech
from tests.paths import SENTENCE
from tests.sound import RATE, hum, silence, voice

SAMPLE = SENTENCE


def test_digital_silence_is_no_speech():
    assert find_speech(silence(3.0), RATE) is None


def test_quiet_room_hum_is_no_speech():
    assert find_speech(hum(3.0), RATE) is None


def test_speech_is_found_between_silences():
    x = np.concatenate([silence(1.0), voice(1.5), silence(1.0)])
    segment = find_speech(x, RATE)
    assert segment is not None
    assert abs(segment.start / RATE - 0.9) < 0.15
    assert abs(segment.end / RATE - 2.6) < 0.15


def test_speech_over_hum_is_found_and_the_hum_left_out():
    x = np.concatenate([silence(1.0), voice(2.0), silence(1.0)]) + hum(4.0)
    segment = find_speech(x, RATE)
    assert segment is not None and 1.8 < segment.seconds < 2.4


def test_a_click_is_not_speech():
    x = silence(2.0)
    x[16000:16040] = 0.9
    assert find_speech(x + hum(2.0), RATE) is None


def test_ravdess_leading_and_trailing_silence_is_cut():
    x = audio.load(SAMPLE)
    segment = find_speech(x, RATE)
    assert segment is not None
    assert segment.start / RATE > 0.5 and (len(x) - segment.end) / RATE > 0.5
    assert 1.0 < segment.seconds < 3.0


def test_a_dc_offset_does_not_hide_the_speech():
    # SAVEE's neutral clips sit at +0.04: measured as plain power, the offset alone is -28 dBFS in
    # every quiet frame, less than 12 dB under the speech, and the clip would hold "no speech".
    x = np.concatenate([silence(1.0), voice(1.5), silence(1.0)]) + hum(3.5) + 0.04
    segment = find_speech(x, RATE)
    assert segment is not None and 1.3 < segment.seconds < 1.9
    assert find_speech(x, RATE, EndpointParams(remove_dc=False)) is None
