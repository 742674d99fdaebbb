import json
from dataclasses import replace

import numpy as np
import pytest

from device import audio
from device.errors import NoSpeech
from device.features import (
    FrontEnd,
    denoised,
    extract,
    fit,
    log_mel,
    noise_floor,
    relative,
    speech_features,
    stretched,
    warp_bands,
    windows,
)
from tests.paths import DATA, SAMPLES
from tests.sound import silence


def test_golden_values_of_the_front_end():
    golden = np.load(DATA / "golden.npz")
    fe = FrontEnd.from_dict(json.loads(str(golden["frontend"])))
    utterance = extract(audio.load(SAMPLES / str(golden["clip"]), fe.sample_rate), fe)
    assert [utterance.segment.start, utterance.segment.end] == golden["segment"].tolist()
    assert utterance.windows.shape == golden["windows"].shape
    np.testing.assert_allclose(utterance.windows, golden["windows"], atol=1e-4)


LISTENER = FrontEnd(normalisation="listener", voice_prior=(0.5,) * 32 + (-0.5,) * 32)


@pytest.mark.parametrize("fe", [FrontEnd(), LISTENER, replace(LISTENER, denoise=2.0)],
                         ids=["utterance", "listener", "listener-denoised"])
def test_training_and_device_compute_identical_tensors(fe):
    """The training set is built through the very function the device calls: same bytes out."""
    from training.corpora import Clip
    from training.dataset import device_windows, examples, read_all

    paths = sorted(SAMPLES.glob("*.flac"))[:3]
    clips, samples = read_all([Clip(p, "neutral", "test:1") for p in paths], fe.sample_rate)
    train = examples(clips, samples, fe, copies=0, augment={}, seed=0, jobs=1)
    evaluation = device_windows(samples, fe)
    for path, feats, windows_ in zip(paths, train.features, evaluation, strict=True):
        on_device = extract(audio.load(path, fe.sample_rate), fe).windows
        assert on_device.dtype == np.float32
        assert np.array_equal(on_device, windows_)
        assert feats.dtype == np.float16  # training stores them at half precision, to halve its memory
        if fe.listener:  # stored as measured; training takes the reference off them as the device does
            raw, _ = speech_features(audio.load(path, fe.sample_rate), fe)
            assert np.array_equal(raw.astype(np.float16), feats)
            reference = fe.voice().reference(raw.mean(axis=0))
            assert np.array_equal(on_device[0], fit(relative(raw, reference), fe.frames))
        else:
            assert np.array_equal(on_device[0].astype(np.float16), fit(feats, fe.frames))


def test_features_are_normalised_per_utterance():
    fe = FrontEnd()
    x = audio.load(SAMPLES / "03-01-05-02-02-01-17.flac")
    quiet, loud = extract(x * 0.05, fe), extract(x, fe)
    np.testing.assert_allclose(quiet.windows, loud.windows, atol=2e-3)
    assert quiet.windows.shape[1:] == (fe.frames, fe.nfilt)


def test_silence_raises_no_speech():
    with pytest.raises(NoSpeech):
        extract(silence(2.0), FrontEnd())


@pytest.mark.parametrize("frames,count", [(120, 1), (300, 1), (301, 2), (450, 2), (451, 3), (2000, 4)])
def test_long_speech_is_covered_by_overlapping_windows(frames, count):
    fe = FrontEnd()
    feats = np.arange(frames, dtype=np.float32)[:, None].repeat(fe.nfilt, axis=1)
    out = windows(feats, fe)
    assert out.shape == (count, fe.frames, fe.nfilt)
    if frames <= fe.frames:  # centred, zero padded
        start = (fe.frames - frames) // 2
        assert np.array_equal(out[0, start : start + frames, 0], feats[:, 0])
        assert not out[0, :start].any()
    else:
        assert out[0, 0, 0] >= 0 and out[-1, -1, 0] <= frames - 1
        if count < fe.max_windows:  # every frame is in some window
            assert out[0, 0, 0] == 0 and out[-1, -1, 0] == frames - 1


def test_front_end_round_trips_through_a_dict():
    fe = FrontEnd(nfilt=40, frames=200)
    assert FrontEnd.from_dict(json.loads(json.dumps(fe.to_dict()))) == fe
    assert "denoise" not in fe.to_dict()  # a card without spectral subtraction reads as before it existed
    cleaned = replace(fe, denoise=1.5)
    assert cleaned.to_dict()["denoise"] == 1.5
    assert FrontEnd.from_dict(json.loads(json.dumps(cleaned.to_dict()))) == cleaned
    with pytest.raises(ValueError, match="denoise -1"):
        FrontEnd(denoise=-1.0)


def test_spectral_subtraction_takes_the_noise_off_and_leaves_the_voice():
    """White noise at 10 dB SNR fills the quiet bands of speech; subtraction brings the noisy speech's
    features back toward the clean speech's, most where the noise was strongest against the voice."""
    from training.dataset import noisy

    fe = LISTENER
    clean = audio.load(SAMPLES / "03-01-05-02-02-01-17.flac", fe.sample_rate)
    heard = noisy(clean, 10.0, 0)
    noise = noise_floor(heard, fe)
    assert noise.shape == (fe.nfilt,)
    assert np.all(noise > np.exp(np.percentile(log_mel(clean, fe), 10, axis=0)))  # the noise, not the room
    segment = slice(100, 200)  # frames inside the speech of this clip
    before, truth = log_mel(heard, fe)[segment], log_mel(clean, fe)[segment]
    after = denoised(before, noise, 2.0)
    assert np.all(after <= before) and np.all(after >= before + np.log(0.1) - 1e-5)  # never more than -10 dB
    assert np.abs(after - truth).mean() < 0.8 * np.abs(before - truth).mean()  # 1.35 against 1.90 nats
    loud = before > np.log(noise) + np.log(100.0)  # 20 dB over the noise: nearly untouched
    assert loud.any() and np.abs(after - before)[loud].max() < 0.03


def test_stretched_windows_are_the_windows_then_their_stretch_down_and_up():
    fe = FrontEnd()
    w = np.random.default_rng(0).normal(size=(2, fe.frames, fe.nfilt)).astype(np.float32)
    assert stretched(w, 0.0, fe) is w  # heard once
    out = stretched(w, 0.1, fe)
    assert out.shape == (6, fe.frames, fe.nfilt) and out.dtype == np.float32
    np.testing.assert_array_equal(out[:2], w)
    for i in range(2):  # a batch stretches as each window alone does
        np.testing.assert_allclose(out[2 + i], warp_bands(w[i], 0.9, fe), rtol=1e-6)
        np.testing.assert_allclose(out[4 + i], warp_bands(w[i], 1.1, fe), rtol=1e-6)
