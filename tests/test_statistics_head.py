"""The statistics head's training: each speaker heard clean and in a steady noise of their own."""

from pathlib import Path

import numpy as np
import pytest

from device.features import FrontEnd
from tests.sound import hum, silence, voice
from training import augment
from training import statistics_head as sh
from training.__main__ import main
from training.corpora import LABELS, Clip

LISTENING = FrontEnd(normalisation="listener")


def _snr(clean: np.ndarray, noisy: np.ndarray) -> float:
    return 10 * np.log10(augment.power(clean) / augment.power(noisy - clean))


def _tilt(clean: np.ndarray, noisy: np.ndarray) -> float:
    """Return how much more of the added noise lies below 1 kHz than above 4 kHz (per bin, dB)."""
    spectrum = np.abs(np.fft.rfft(noisy - clean)) ** 2
    hz = np.fft.rfftfreq(len(clean), 1 / 16000)
    return 10 * np.log10(spectrum[(hz > 100) & (hz < 1000)].mean() / spectrum[hz > 4000].mean())


def test_each_speaker_is_heard_in_one_steady_noise_of_their_own():
    speakers = ["a:1", "b:1", "a:1", "c:1", "b:1", "a:1"]
    samples = [voice(1.0, seed=i) for i in range(len(speakers))]
    noisy = sh.in_their_noise(samples, speakers, (5.0, 25.0), seed=3)
    for who in set(speakers):
        mine = [i for i, s in enumerate(speakers) if s == who]
        snrs = [_snr(samples[i], noisy[i]) for i in mine]
        tilts = [_tilt(samples[i], noisy[i]) for i in mine]
        assert 5 <= snrs[0] <= 25 and np.ptp(snrs) < 0.01  # one SNR per speaker, in the range
        assert np.ptp(tilts) < 3  # one colour per speaker: white is flat, pink falls ~10 dB a decade
        if len(mine) > 1:  # a fresh draw of that noise for each clip
            assert not np.array_equal(noisy[mine[0]] - samples[mine[0]], noisy[mine[-1]] - samples[mine[-1]])
    assert len({round(_snr(samples[i], noisy[i]), 3) for i in (0, 1, 3)}) == 3
    # A speaker's noise comes from the seed and their name alone: the others do not move it.
    alone = sh.in_their_noise([samples[i] for i in (0, 2, 5)], ["a:1"] * 3, (5.0, 25.0), seed=3)
    assert all(np.array_equal(alone[k], noisy[i]) for k, i in enumerate((0, 2, 5)))
    again = sh.in_their_noise(samples, speakers, (5.0, 25.0), seed=4)
    assert not np.array_equal(again[0], noisy[0])
    many = sh.in_their_noise([samples[0]] * 20, [f"m:{k}" for k in range(20)], (5.0, 25.0))
    tilts = [_tilt(samples[0], y) for y in many]
    assert min(tilts) < 3 and max(tilts) > 8  # some rooms hiss (white), some rumble (pink)


def _speakers(n: int = 4, clips: int = 6) -> tuple[list[Clip], list[np.ndarray]]:
    """Return clips of ``n`` speakers, each angry (loud, bright) and sad (soft, dull) in turn."""
    made, samples = [], []
    for s in range(n):
        for k in range(clips):
            angry = k % 2 == 0
            x = voice(1.0, seed=100 * s + k) * (2.0 if angry else 0.5) * (1 + 0.2 * s)
            if not angry:
                x = np.convolve(x, np.ones(4) / 4, mode="same").astype(np.float32)
            samples.append(np.concatenate([silence(0.3) + hum(0.3), x, silence(0.3) + hum(0.3)]))
            made.append(Clip(Path(f"{s}-{k}.wav"), "angry" if angry else "sad", f"t:{s}"))
    return made, samples


def test_a_head_fitted_also_in_noise_learns_from_both_and_keeps_the_clean_prior():
    clips, samples = _speakers()
    speakers = [c.speaker for c in clips]
    clean = sh.measure(samples, LISTENING)
    both = sh.measure(samples, LISTENING, speakers, (5.0, 15.0), seed=1)
    assert both.in_noise is not None and clean.in_noise is None
    np.testing.assert_array_equal(both.spectra, clean.spectra)
    assert both.in_noise.speech.all() and not np.allclose(both.in_noise.spectra, clean.spectra)
    train = np.arange(len(clips) - 6)  # the last speaker is new to the head
    fe_clean, head_clean = sh.fit(clean, clips, train, LISTENING, 0.25)
    fe_both, head_both = sh.fit(both, clips, train, LISTENING, 0.25)
    assert fe_both.dynamics_prior == fe_clean.dynamics_prior  # a box that heard nobody: the clean speakers' mean
    assert head_both.coef != head_clean.coef
    test = np.arange(len(clips) - 6, len(clips))
    for measured in (both, both.in_noise):  # the new speaker, clean and in their noise
        relative = sh.settled(measured.spectra[test], measured.dynamics[test])
        said = [LABELS[int(np.argmax(head_both.log_probabilities(r)))] for r in relative]
        assert said == [clips[i].label for i in test]


def test_a_bad_noise_range_is_refused_in_one_line(tmp_path, capsys):
    for bad, why in (("25,5", "LO is above HI"), ("loud", "expected LO,HI such as 5,25 (dB) or none")):
        with pytest.raises(SystemExit):
            main(["ser", "--corpus", f"ravdess={tmp_path}", "--out", str(tmp_path / "m.json"),
                  "--statistics-noise", bad])
        err = capsys.readouterr().err.strip().splitlines()[-1]
        assert "--statistics-noise" in err and why in err
