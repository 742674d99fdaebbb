"""The network builders and the training batches, without training anything."""

import numpy as np
import pytest

from device.features import FrontEnd, warp_bands
from training.corpora import LABELS
from training.dataset import Examples
from training.train import Batches, circumplex_targets


def examples(n: int = 12, frames: int = 40, bands: int = 8, groups: np.ndarray | None = None) -> Examples:
    rng = np.random.default_rng(0)
    return Examples([rng.standard_normal((frames, bands)).astype(np.float32) for _ in range(n)],
                    np.arange(n, dtype=np.int32) % len(LABELS), np.arange(n),
                    np.zeros(n, dtype=np.int32) if groups is None else groups)


def test_batches_cover_every_example_once_per_epoch_with_balancing_weights():
    data = examples()
    fe = FrontEnd(frames=40, nfilt=8)
    batches = list(Batches(data, fe, size=5, seed=1).epoch())
    assert [len(x) for x, *_ in batches] == [5, 5, 2]
    y = np.concatenate([y for _, y, *_ in batches])
    assert sorted(y.argmax(axis=1)) == sorted(data.labels) and np.all(y.max(axis=1) == 1.0)
    w = np.concatenate([w for _, _, w, _ in batches])  # 12 examples over 8 classes: 2, 2, 2, 2, 1, 1, 1, 1
    assert np.allclose(sorted(set(np.round(w, 4))), [0.75, 1.5])


def test_balance_draws_corpora_by_tempered_size_and_weighs_classes_alike():
    """Corpus 0 has 12 examples, corpus 1 has 3: balance 0 gives each half of the draw."""
    groups = np.array([0] * 12 + [1] * 3, dtype=np.int32)
    data = examples(n=15, groups=groups)
    data.labels[:] = np.array([0] * 12 + [1] * 3)
    fe = FrontEnd(frames=40, nfilt=8)
    for balance, share in ((1.0, 3 / 15), (0.5, np.sqrt(3) / (np.sqrt(3) + np.sqrt(12))), (0.0, 0.5)):
        batches = Batches(data, fe, size=15, seed=1, balance=balance)
        assert np.isclose(batches.p[groups == 1].sum(), share)
        mass = np.bincount(data.labels, weights=batches.p)[:2]
        assert np.allclose(mass * batches.weights[:2], 0.5)  # each present class weighs the same
    drawn = np.concatenate([Batches(data, fe, size=15, seed=s, balance=0.0).order() for s in range(200)])
    assert abs(np.mean(groups[drawn] == 1) - 0.5) < 0.03


def test_balance_by_speaker_weighs_a_corpus_of_many_voices_more():
    """Corpus 0: one speaker with 8 examples; corpus 1: four speakers with 2 each. By corpus both have
    the same size; by speaker (balance 0) every voice gets a fifth, so corpus 1 gets four fifths."""
    groups = np.array([0] * 8 + [1] * 8, dtype=np.int32)
    speakers = np.array(["a:1"] * 8 + ["b:1", "b:2", "b:3", "b:4"] * 2)
    data = examples(n=16, groups=groups)
    fe = FrontEnd(frames=40, nfilt=8)
    by_corpus = Batches(data, fe, size=16, seed=1, balance=0.0)
    by_speaker = Batches(data, fe, size=16, seed=1, balance=0.0, units=speakers)
    assert np.isclose(by_corpus.p[groups == 1].sum(), 0.5)
    assert np.isclose(by_speaker.p[groups == 1].sum(), 0.8)
    assert np.allclose([by_speaker.p[speakers == s].sum() for s in np.unique(speakers)], 0.2)


def test_taking_clips_keeps_their_examples():
    data = examples(n=6)
    part = data.take(np.array([1, 4]))
    assert part.clips.tolist() == [1, 4] and part.labels.tolist() == data.labels[[1, 4]].tolist()
    assert part.features[1] is data.features[4]


def test_mixup_blends_pairs_of_examples_labels_and_weights_alike():
    data = examples(n=len(LABELS))  # one example per class: a soft label names both partners
    fe = FrontEnd(frames=40, nfilt=8)
    x, y, w, _ = next(Batches(data, fe, size=len(LABELS), seed=3).epoch())
    w = w * np.arange(1, len(w) + 1, dtype=np.float32)  # distinct weights, to see them blended too
    mx, my, mw = Batches(data, fe, size=len(LABELS), seed=3, mixup=0.4).mix(x, y, w)
    assert np.allclose(my.sum(axis=1), 1.0) and (my.max(axis=1) < 1.0).any()
    for i in range(len(x)):
        own = int(y[i].argmax())
        lam = my[i, own]
        others = [int(k) for k in np.flatnonzero(my[i]) if k != own]
        j = int(np.flatnonzero(y[:, others[0]])[0]) if others else i
        assert np.allclose(mx[i], lam * x[i] + (1 - lam) * x[j], atol=1e-5)
        assert np.isclose(mw[i], lam * w[i] + (1 - lam) * w[j])
    plain = Batches(data, fe, size=len(LABELS), seed=3)
    assert plain.mix(x, y, w) == (x, y, w)  # mixup 0: untouched


def test_random_crop_cuts_a_stretch_no_shorter_than_asked():
    from training.dataset import random_crop

    feats = np.arange(200, dtype=np.float32)[:, None] * np.ones((1, 4), dtype=np.float32)
    rng = np.random.default_rng(0)
    lengths = set()
    for _ in range(200):
        cut = random_crop(feats, rng, shortest=50)
        lengths.add(len(cut))
        start = int(cut[0, 0])
        assert 50 <= len(cut) <= 200 and np.array_equal(cut, feats[start : start + len(cut)])
    assert min(lengths) < 80 and max(lengths) > 170  # the whole range is drawn
    short = feats[:30]
    assert random_crop(short, rng, shortest=50) is short


def test_batches_crop_only_when_asked():
    data = examples(n=8, frames=120)
    fe = FrontEnd(frames=120, nfilt=8)
    plain, _, _, _ = next(Batches(data, fe, size=8, seed=2).epoch())
    cropped, _, _, _ = next(Batches(data, fe, size=8, seed=2, crop=1.0).epoch())
    # a window of all 120 frames has no padding but SpecAugment's time masks; cut ones are zero padded
    assert empty_frames(cropped) > empty_frames(plain) + 20


def test_retimed_speech_is_longer_or_shorter_with_the_same_spectrum():
    from training.dataset import retimed

    feats = np.stack([np.linspace(0.0, 1.0, 100), np.full(100, -3.0)], axis=1).astype(np.float32)
    slow, fast = retimed(feats, 0.8), retimed(feats, 1.25)
    assert (len(slow), len(fast)) == (125, 80)
    for heard in (slow, fast):  # the same path from start to end, at another pace; a steady band stays
        assert heard[0, 0] == 0.0 and heard[-1, 0] == pytest.approx(1.0) and np.all(np.diff(heard[:, 0]) > 0)
        assert np.all(heard[:, 1] == -3.0)
    assert len(retimed(feats[:1], 1.2)) == 1


def test_batches_retime_only_when_asked():
    data = examples(n=8, frames=120)
    fe = FrontEnd(frames=120, nfilt=8)
    plain, _, _, _ = next(Batches(data, fe, size=8, seed=2).epoch())
    again, _, _, _ = next(Batches(data, fe, size=8, seed=2, tempo=0.0).epoch())
    quicker, _, _, _ = next(Batches(data, fe, size=8, seed=2, tempo=0.3).epoch())
    assert np.array_equal(plain, again) and not np.array_equal(plain, quicker)


def empty_frames(windows: np.ndarray) -> float:
    """Return the mean count of all-zero frames in a batch of windows (padding or masks)."""
    return float(np.mean([np.count_nonzero(np.all(w == 0.0, axis=1)) for w in windows]))


def test_an_ensemble_averages_its_members_logits():
    from training.network import ds_cnn, ensemble

    members = [ds_cnn(40, 8, len(LABELS), width=0.1, name=f"m{i}") for i in range(2)]
    model = ensemble(members)
    x = np.random.default_rng(0).standard_normal((3, 40, 8)).astype(np.float32)
    expected = np.mean([m(x, training=False).numpy() for m in members], axis=0)
    assert np.allclose(model(x, training=False).numpy(), expected, atol=1e-5)
    assert model.count_params() == sum(m.count_params() for m in members)


def test_batches_name_each_examples_corpus_for_the_adversary():
    groups = np.array([0, 1, 2] * 4, dtype=np.int32)
    data = examples(groups=groups)
    batches = Batches(data, FrontEnd(frames=40, nfilt=8), size=12, seed=1)
    assert batches.hidden_classes == 3
    _, y, _, corpus = next(batches.epoch())
    assert corpus.shape == (12, 3) and np.all(corpus.sum(axis=1) == 1.0)
    # each row's corpus is the corpus of the example whose label it carries
    drawn = [int(np.flatnonzero((data.labels == a.argmax()) & (groups == b.argmax()))[0])
             for a, b in zip(y, corpus, strict=True)]
    assert sorted(drawn) == list(range(12))


def test_batches_can_name_each_examples_speaker_for_the_adversary_instead():
    groups = np.zeros(12, dtype=np.int32)  # one corpus, four speakers
    speakers = np.arange(12, dtype=np.int32) // 3
    data = examples(groups=groups)
    batches = Batches(data, FrontEnd(frames=40, nfilt=8), size=12, seed=1, hidden=speakers)
    assert batches.hidden_classes == 4
    _, y, _, who = next(batches.epoch())
    assert who.shape == (12, 4)
    drawn = [int(np.flatnonzero((data.labels == a.argmax()) & (speakers == b.argmax()))[0])
             for a, b in zip(y, who, strict=True)]
    assert sorted(drawn) == list(range(12))


def test_gradient_reversal_passes_values_and_turns_gradients_back():
    import tensorflow as tf

    from training.network import GradientReversal

    x = tf.constant([[1.0, -2.0, 3.0]])
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = GradientReversal(0.3)(x)
        loss = tf.reduce_sum(y * tf.constant([[1.0, 2.0, 3.0]]))
    assert np.allclose(y.numpy(), x.numpy())
    assert np.allclose(tape.gradient(loss, x).numpy(), [[-0.3, -0.6, -0.9]])


def test_the_adversarial_trainer_shares_the_shipped_network_and_adds_only_the_adversary():
    from training.network import adversarial, ds_cnn

    model = ds_cnn(40, 8, len(LABELS), width=0.1)
    trainer = adversarial(model, classes=4, scale=0.5)
    x = np.random.default_rng(0).standard_normal((3, 40, 8)).astype(np.float32)
    logits, corpus = trainer(x, training=False)
    assert np.allclose(logits.numpy(), model(x, training=False).numpy(), atol=1e-6)
    assert corpus.shape == (3, 4)
    shipped = {id(w) for w in model.weights}
    extra = [w for w in trainer.weights if id(w) not in shipped]
    assert shipped <= {id(w) for w in trainer.weights}
    assert {w.path.split("/")[0] for w in extra} == {"adversary_hidden", "adversary"}


def test_soft_labels_spread_a_share_of_each_label_over_its_neighbours_on_the_circumplex():
    plain, soft = circumplex_targets(0.0), circumplex_targets(0.2)
    np.testing.assert_array_equal(plain, np.eye(len(LABELS)))
    np.testing.assert_allclose(soft.sum(axis=1), 1.0, rtol=1e-6)
    np.testing.assert_allclose(np.diag(soft), 0.8, rtol=1e-6)
    angry = soft[LABELS.index("angry")]
    assert angry[LABELS.index("disgust")] > angry[LABELS.index("sad")] > angry[LABELS.index("calm")] > 0
    batches = Batches(examples(), FrontEnd(), size=8, seed=0, soft_labels=0.2)
    _, y, _, _ = next(batches.epoch())
    assert np.all(y.max(axis=1) == np.float32(0.8)) and np.all((y > 0).sum(axis=1) == len(LABELS))


def test_own_classes_score_each_example_among_the_emotions_its_corpus_has():
    """Corpus 0 acts every emotion, corpus 1 only the first three: an example of corpus 1 is
    scored by a softmax over those three, so what its logits say about the other five costs
    nothing, and its soft label stays among them."""
    import keras

    from training.train import own_class_loss

    k = len(LABELS)
    groups = np.array([0] * k + [1] * 3, dtype=np.int32)
    data = examples(n=k + 3, groups=groups)
    data.labels[:] = np.r_[np.arange(k), np.arange(3)]
    _, y, _, _ = next(Batches(data, FrontEnd(frames=40, nfilt=8), size=k + 3, seed=0, soft_labels=0.2,
                              own_classes=True).epoch())
    target, has = y[:, :k], y[:, k:]
    assert y.shape == (k + 3, 2 * k) and np.allclose(target.sum(axis=1), 1.0)
    assert sorted(has.sum(axis=1).tolist()) == [3] * 3 + [k] * k  # which corpus each example came from
    assert np.all(target[has == 0] == 0)
    loss = own_class_loss(k, smoothing=0.0)
    row = np.r_[np.eye(k)[0], np.eye(k)[:3].sum(axis=0)][None].astype(np.float32)  # corpus 1, the first emotion
    logits = np.zeros((1, k), dtype=np.float32)
    assert np.isclose(float(loss(row, logits)[0]), np.log(3), atol=1e-5)  # one in three, not one in eight
    logits[0, 5:] = 9.0  # the emotions corpus 1 lacks do not count
    assert np.isclose(float(loss(row, logits)[0]), np.log(3), atol=1e-5)
    full = np.r_[np.eye(k)[0], np.ones(k)][None].astype(np.float32)
    plain = keras.losses.CategoricalCrossentropy(from_logits=True, reduction=None)(np.eye(k)[:1], logits)
    assert np.isclose(float(loss(full, logits)[0]), float(plain[0]), atol=1e-4)  # every emotion: plain softmax


def test_batches_stretch_each_window_by_a_fresh_factor_within_the_warp():
    """``warp`` (shipped at 0.1) stretches every window drawn by its own factor in ``1 ± warp``; 0 leaves it."""
    fe = FrontEnd(frames=40, nfilt=8)
    window = np.tile(np.linspace(-1.0, 1.0, 8, dtype=np.float32) ** 2, (40, 1))  # a spectrum with a shape to move
    batches = Batches(examples(), fe, size=4, seed=1, warp=0.1)
    batches.rng = np.random.default_rng(5)
    first, second = batches.warped(window), batches.warped(window)
    factors = np.random.default_rng(5).uniform(0.9, 1.1, size=2)
    assert np.allclose(first, warp_bands(window, factors[0], fe))
    assert np.allclose(second, warp_bands(window, factors[1], fe))
    assert not np.allclose(first, second) and not np.allclose(first, window)
    assert Batches(examples(), fe, size=4, seed=1).warped(window) is window


def test_a_held_schedule_stays_where_the_averaged_share_begins():
    from keras import ops

    from training.network import schedule

    plain, held = schedule(100), schedule(100, hold_from=70)
    rates = [float(ops.convert_to_numpy(held(step))) for step in (10, 50, 69, 70, 85, 99)]
    assert rates[:4] == [float(ops.convert_to_numpy(plain(s))) for s in (10, 50, 69, 70)]
    assert rates[3] == rates[4] == rates[5] > float(ops.convert_to_numpy(plain(99)))  # held, not decayed


def test_weight_averaging_gives_the_mean_weights_and_batch_norm_of_those():
    import keras

    from training.network import WeightAverage

    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3), keras.layers.BatchNormalization()])
    average = WeightAverage(model)
    snapshots = []
    for _ in range(3):
        model.set_weights([w + np.random.default_rng(len(snapshots)).normal(size=w.shape) for w in model.get_weights()])
        snapshots.append(model.get_weights())
        average.take()
    rng = np.random.default_rng(1)
    batches = [(rng.normal(2.0, 3.0, (16, 4)).astype(np.float32), None) for _ in range(5)]
    average.apply(batches)
    kernel, bias = (np.mean([s[i] for s in snapshots], axis=0) for i in (0, 1))
    assert average.count == 3
    np.testing.assert_allclose(model.layers[0].kernel.numpy(), kernel, rtol=1e-5)
    dense = [x @ kernel + bias for x, _ in batches]  # what batch norm sees under the mean weights
    norm = model.layers[1]
    np.testing.assert_allclose(norm.moving_mean.numpy(), np.mean([d.mean(axis=0) for d in dense], axis=0),
                               rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(norm.moving_variance.numpy(), np.mean([d.var(axis=0) for d in dense], axis=0),
                               rtol=1e-3)
    assert norm.momentum == 0.99  # training goes on as before


def test_the_averaged_share_leaves_an_epoch_to_average_and_one_before_it():
    import pytest

    from training.train import averaged_epochs

    assert averaged_epochs(20, 0.0) == 0 and averaged_epochs(20, 0.3) == 6
    for share in (0.02, 0.98, 1.0):
        with pytest.raises(SystemExit, match=f"--average {share:g}: averages"):
            averaged_epochs(20, share)


def test_mix_style_mixes_each_examples_statistics_in_training_and_nothing_else():
    from keras import ops

    from training.network import MixStyle, ds_cnn

    rng = np.random.default_rng(0)
    x = (rng.normal(size=(8, 50, 4)) * rng.uniform(0.5, 3, (8, 1, 4)) + rng.normal(0, 5, (8, 1, 4))).astype(np.float32)
    layer = MixStyle(p=1.0)
    assert np.array_equal(ops.convert_to_numpy(layer(x, training=False)), x)  # the box never mixes
    mixed = ops.convert_to_numpy(layer(x, training=True))
    shape = (mixed - mixed.mean(axis=1, keepdims=True)) / mixed.std(axis=1, keepdims=True)
    own = (x - x.mean(axis=1, keepdims=True)) / x.std(axis=1, keepdims=True)
    np.testing.assert_allclose(shape, own, atol=1e-3)  # each example keeps its own pattern over time
    means, lows, highs = x.mean(axis=1), x.mean(axis=1).min(axis=0), x.mean(axis=1).max(axis=0)
    assert np.all((mixed.mean(axis=1) >= lows - 1e-3) & (mixed.mean(axis=1) <= highs + 1e-3))  # blends of the batch's
    assert not np.allclose(mixed.mean(axis=1), means)  # and not its own
    plain, mixing = ds_cnn(40, 8, len(LABELS), width=0.1), ds_cnn(40, 8, len(LABELS), width=0.1, mix_style=0.5)
    assert plain.count_params() == mixing.count_params()  # nothing to ship: no weights


@pytest.mark.parametrize(("options", "layer"), [({"stem": "2d"}, "Conv2D"), ({"band_pool": 4}, "AveragePooling2D")])
def test_the_patch_stem_and_pooled_band_networks_quantize_to_int8_and_run_as_the_device_runs_them(
        options, layer, tmp_path):
    from device.card import ModelCard
    from device.model import EmotionModel, softmax
    from training.network import ds_cnn
    from training.quantize import to_int8_tflite, write

    fe = FrontEnd()
    model = ds_cnn(fe.frames, fe.nfilt, len(LABELS), width=0.2, **options)
    assert any(each.__class__.__name__ == layer for each in model.layers)
    windows = np.random.default_rng(0).normal(size=(16, fe.frames, fe.nfilt)).astype(np.float32)
    card = write(to_int8_tflite(model, windows), ModelCard(LABELS, fe, "patch.tflite"), tmp_path / "patch.json")
    device = EmotionModel(card)
    assert device.quantized
    for window in windows[:3]:
        float_scores = softmax(model.predict(window[None], verbose=0))[0]
        np.testing.assert_allclose(device.scores(window[None]), float_scores, atol=0.05)


def test_an_unknown_stem_is_refused_by_name():
    from training.network import ds_cnn

    with pytest.raises(ValueError, match="stem must be one of 1d, 2d, not '3d'"):
        ds_cnn(40, 8, len(LABELS), stem="3d")


def test_pooled_bands_are_the_mean_of_each_run_of_neighbouring_bands_and_must_divide_them():
    import keras

    from training.network import ds_cnn

    model = ds_cnn(40, 8, len(LABELS), width=0.1, band_pool=4)
    pooled = keras.Model(model.inputs, model.get_layer("band_pool").output)
    x = np.random.default_rng(0).normal(size=(2, 40, 8)).astype(np.float32)
    np.testing.assert_allclose(pooled.predict(x, verbose=0)[..., 0], x.reshape(2, 40, 2, 4).mean(axis=3), atol=1e-6)
    assert model.count_params() < ds_cnn(40, 8, len(LABELS), width=0.1).count_params()  # a narrower stem
    with pytest.raises(ValueError, match="band_pool 3: give a whole number of at least 1 that divides the 8 bands"):
        ds_cnn(40, 8, len(LABELS), band_pool=3)
