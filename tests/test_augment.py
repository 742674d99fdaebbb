import numpy as np
import pytest

from tests.sound import voice
from training import augment


@pytest.mark.parametrize("snr", [0.0, 10.0, 20.0])
def test_noise_is_mixed_at_the_asked_snr(snr):
    rng = np.random.default_rng(0)
    x = voice(2.0)
    for noise in (augment.white(len(x), rng), augment.pink(len(x), rng), augment.babble(len(x), rng, [x, x[::-1]])):
        mixed = augment.add_noise(x, noise, snr)
        measured = 10 * np.log10(augment.power(x) / augment.power(mixed - x))
        assert abs(measured - snr) < 0.01


def test_pink_noise_falls_with_frequency():
    n = augment.pink(1 << 16, np.random.default_rng(0))
    spectrum = np.abs(np.fft.rfft(n)) ** 2
    low, high = spectrum[100:1000].mean(), spectrum[10000:20000].mean()
    assert low > 10 * high


def test_reverb_keeps_length_and_smears_energy():
    x = np.zeros(16000, dtype=np.float32)
    x[100] = 1.0
    y = augment.reverb(x, 0.5, np.random.default_rng(0))
    assert len(y) == len(x) and y[100] == pytest.approx(1.0)
    assert np.sum(y[2000:] ** 2) > 0.01


def test_speed_changes_length():
    assert len(augment.speed(np.zeros(16000, np.float32), 1.1)) == pytest.approx(16000 / 1.1, abs=20)


def test_augmenter_is_reproducible_and_bounded():
    x = voice(2.0)
    aug = augment.Augmenter(voices=(x, voice(1.0, seed=3)))
    a = aug(x, np.random.default_rng(7))
    b = aug(x, np.random.default_rng(7))
    assert np.array_equal(a, b) and a.dtype == np.float32 and np.max(np.abs(a)) <= 1.0
    assert not np.array_equal(a, aug(x, np.random.default_rng(8)))
