import numpy as np
import pytest

from device.features import FrontEnd, log_mel, warp_bands
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


@pytest.mark.parametrize("factor", [0.9, 1.1])
def test_warping_the_bands_moves_a_tone_as_a_longer_or_shorter_vocal_tract_would(factor):
    """The log-mel of a 1 kHz tone warped by ``factor`` peaks where the front-end hears a tone of
    ``1000 * factor`` Hz; factor 1 changes nothing."""
    fe = FrontEnd()
    t = np.arange(fe.sample_rate) / fe.sample_rate

    def tone(hz: float) -> np.ndarray:
        return log_mel(0.3 * np.sin(2 * np.pi * hz * t).astype(np.float32), fe)

    plain = tone(1000.0)
    assert np.allclose(warp_bands(plain, 1.0, fe), plain, atol=1e-5)
    warped = warp_bands(plain, factor, fe).mean(axis=0)
    assert abs(int(warped.argmax()) - int(tone(1000.0 * factor).mean(axis=0).argmax())) <= 1
    assert warped.argmax() != plain.mean(axis=0).argmax()
