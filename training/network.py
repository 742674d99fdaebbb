"""A compact depthwise-separable ConvNet over time, sized for a Raspberry Pi.

The mel bands are the channels of a 1-D convolution along time: one regular convolution looks at
the whole spectrum of a few frames at once, then depthwise-separable blocks widen the view to a
second and more. Average and max pooling over time make the answer independent of where in the
window the speech sits. On two desktop cores this trains about twenty times faster than the same
budget of 2-D convolutions, and it quantizes to int8 with the standard TFLite kernels.
"""

from __future__ import annotations

import keras
from keras import layers

BLOCKS = ((128, 1), (160, 2), (160, 1), (192, 2), (192, 1))
"""(filters, stride) of the separable blocks after the stem."""

STEMS = ("1d", "2d")
"""How the network first looks at a window: all bands at once, or small patches of bands first."""


def _unit(x, conv, filters: int, stride, kernel: int = 5):
    x = conv(filters, kernel, strides=stride, padding="same", use_bias=False)(x)
    x = layers.BatchNormalization()(x)
    return layers.ReLU()(x)


def _patch_stem(x, frames: int, bands: int, filters: int, w):
    """Return ``(frames // 2, filters)`` features from two 3 x 3 convolutions over (time, band).

    The same small filters slide along the bands, so a formant or harmonic pattern is learnt once
    wherever a voice puts it; the pattern maps of each band are then mixed into ``filters`` channels
    by a pointwise convolution, and the rest of the network is the 1-D one.
    """
    x = layers.Reshape((frames, bands, 1))(x)
    x = _unit(x, layers.Conv2D, w(8), (2, 2), kernel=3)
    x = _unit(x, layers.Conv2D, w(16), (1, 2), kernel=3)
    x = layers.Reshape((x.shape[1], x.shape[2] * x.shape[3]))(x)
    return _unit(x, layers.Conv1D, filters, 1, kernel=1)


def _pooled_bands(x, frames: int, bands: int, pool: int):
    """Return ``(frames, bands // pool)`` features: the mean of each run of ``pool`` neighbouring bands.

    A coarser spectrum keeps the formants' rough place and the tilt that carry vocal effort, and
    drops the finer detail that mostly says whose voice it is; the front-end stays as it is.
    """
    x = layers.Reshape((frames, bands, 1))(x)
    x = layers.AveragePooling2D((1, pool), name="band_pool")(x)
    return layers.Reshape((frames, bands // pool))(x)


def ds_cnn(frames: int, bands: int, classes: int, width: float = 1.0, dropout: float = 0.3,
           band_norm: bool = False, mix_style: float = 0.0, stem: str = "1d", band_pool: int = 1,
           name: str = "emotune_ds_cnn") -> keras.Model:
    """Return a 1-D DS-CNN taking (frames, bands) log-mel windows to ``classes`` logits.

    A stride-2 convolution stem, five separable blocks (two of them stride 2), average and max
    pooling over time, dropout, one dense layer. ``width`` scales every layer: 1.0 is about 180 k
    parameters, 240 KB as int8; 0.7 is about 100 k (the shipped model is two of those).
    ``band_norm`` first subtracts each band's mean over the window: a fixed microphone or room
    colouring is a constant per band in the log-mel domain, so this removes it inside the model.
    ``mix_style`` puts a :class:`MixStyle` of that probability after the stem and the first block
    (training only: the exported model does not have it). ``stem="2d"`` replaces the first
    convolution with :func:`_patch_stem`. ``band_pool`` first averages each run of that many
    neighbouring bands (:func:`_pooled_bands`).
    """
    if stem not in STEMS:
        raise ValueError(f"stem must be one of {', '.join(STEMS)}, not {stem!r}")
    if band_pool < 1 or bands % band_pool:
        raise ValueError(f"band_pool {band_pool}: give a whole number of at least 1 that divides the {bands} bands")

    def w(n: int) -> int:
        return max(8, int(n * width))

    inputs = keras.Input((frames, bands), name="logmel")
    x = inputs
    if band_norm:
        x = layers.Subtract(name="band_norm")([x, keras.ops.mean(x, axis=1, keepdims=True)])
    if band_pool > 1:
        x, bands = _pooled_bands(x, frames, bands, band_pool), bands // band_pool
    if stem == "2d":
        x = _patch_stem(x, frames, bands, w(128), w)
    else:
        x = _unit(x, layers.Conv1D, w(128), 2)
    for i, (filters, stride) in enumerate(BLOCKS):
        if mix_style > 0 and i < 2:
            x = MixStyle(mix_style, name=f"mix_style_{i + 1}")(x)
        x = _unit(x, layers.SeparableConv1D, w(filters), stride)
    x = layers.Concatenate(name="pooled")([layers.GlobalAveragePooling1D()(x), layers.GlobalMaxPooling1D()(x)])
    x = layers.Dropout(dropout)(x)
    outputs = layers.Dense(classes, name="logits")(x)
    return keras.Model(inputs, outputs, name=name)


class MixStyle(layers.Layer):
    """In training, with probability ``p`` per batch, give every example's feature maps the mean and
    deviation over time, channel by channel, of a blend of its own and another example's of the
    batch (MixStyle, Zhou et al. 2021): the statistics carry much of who spoke, where, through what,
    and mixing them makes voices and rooms the corpora never had. The identity otherwise."""

    def __init__(self, p: float = 0.5, alpha: float = 0.1, **kwargs):
        super().__init__(**kwargs)
        self.p, self.alpha = p, alpha
        self.seeds = keras.random.SeedGenerator()  # drawn from the global seed: each member mixes anew

    def call(self, x, training=None):
        if not training:
            return x
        ops = keras.ops
        mean = ops.mean(x, axis=1, keepdims=True)
        std = ops.sqrt(ops.var(x, axis=1, keepdims=True) + 1e-5)
        n = ops.shape(x)[0]
        lam = keras.random.beta((n, 1, 1), self.alpha, self.alpha, seed=self.seeds)
        other = keras.random.shuffle(ops.arange(n), seed=self.seeds)
        mixed_mean = lam * mean + (1 - lam) * ops.take(mean, other, axis=0)
        mixed_std = lam * std + (1 - lam) * ops.take(std, other, axis=0)
        mixed = (x - mean) / std * mixed_std + mixed_mean
        return ops.where(keras.random.uniform((), seed=self.seeds) < self.p, mixed, x)


def schedule(steps: int, peak: float = 3e-3, hold_from: int | None = None,
             ) -> keras.optimizers.schedules.LearningRateSchedule:
    """Return the learning rate over ``steps``: a warm-up to ``peak`` over the first 5 %, then
    Keras's cosine decay over ``steps`` more (so the last step is still at about 0.6 % of the peak);
    with ``hold_from``, the rate stays from that step on where it was, for weights to be averaged
    over (:class:`WeightAverage`)."""
    cosine = keras.optimizers.schedules.CosineDecay(0.0, decay_steps=steps, warmup_target=peak,
                                                    warmup_steps=max(1, steps // 20))
    return cosine if hold_from is None else _Held(cosine, hold_from)


class _Held(keras.optimizers.schedules.LearningRateSchedule):
    """``schedule`` up to step ``at``, then its value there. (No ``get_config``: it is never saved;
    the model is exported without its optimizer.)"""

    def __init__(self, schedule, at: int):
        self.schedule, self.at = schedule, at

    def __call__(self, step):
        return self.schedule(keras.ops.minimum(step, self.at))


class WeightAverage:
    """The running mean of a model's weights over the snapshots :meth:`take` is given
    (stochastic weight averaging, Izmailov et al. 2018): a flat region of the loss that the
    averaged weights sit in tends to hold for data the training never saw."""

    def __init__(self, model: keras.Model):
        self.model, self.mean, self.count = model, None, 0

    def take(self) -> None:
        """Take the model's weights as they are now into the mean."""
        now = self.model.get_weights()
        self.count += 1
        self.mean = now if self.mean is None else [m + (w - m) / self.count for m, w in zip(self.mean, now,
                                                                                             strict=True)]

    def apply(self, batches) -> None:
        """Give the model the mean weights, then measure its batch-norm statistics afresh as the
        mean over ``batches`` of (x, ...) tuples (those of the averaged weights, not any snapshot's)."""
        if self.mean is None:
            raise ValueError("no weights were taken to average")
        self.model.set_weights(self.mean)
        norms = [layer for layer in self.model.layers if isinstance(layer, layers.BatchNormalization)]
        momentum = [layer.momentum for layer in norms]
        for layer in norms:
            layer.moving_mean.assign(keras.ops.zeros_like(layer.moving_mean))
            layer.moving_variance.assign(keras.ops.ones_like(layer.moving_variance))
        for k, (x, *_) in enumerate(batches):
            for layer in norms:
                layer.momentum = k / (k + 1)  # a plain mean over the batches
            self.model(x, training=True)
        for layer, m in zip(norms, momentum, strict=True):
            layer.momentum = m


def ensemble(members: list[keras.Model]) -> keras.Model:
    """Return one model whose logits are the mean of the ``members``' logits: one file, one call."""
    inputs = keras.Input(members[0].inputs[0].shape[1:], name="logmel")
    outputs = layers.Average(name="logits")([member(inputs) for member in members])
    return keras.Model(inputs, outputs, name="emotune_ensemble")


class GradientReversal(layers.Layer):
    """The identity going forward; going back, the gradient times ``-scale``.

    Put between a network's features and a head that tells the corpora apart, it makes the head
    learn to tell them apart while the features beneath learn to hide which corpus spoke
    (domain-adversarial training, Ganin et al. 2016). It exists only in training.
    """

    def __init__(self, scale: float = 1.0, **kwargs):
        super().__init__(**kwargs)
        self.scale = scale

    def call(self, x):
        import tensorflow as tf

        @tf.custom_gradient
        def reverse(x):
            return tf.identity(x), lambda dy: -self.scale * dy

        return reverse(x)


def adversarial(model: keras.Model, classes: int, scale: float) -> keras.Model:
    """Return a training model with ``model``'s logits and, behind a gradient reversal, an adversary
    that tells ``classes`` apart from the same pooled features (which corpus spoke, or which speaker).

    The two share every layer up to the pooled features, so training this trains ``model``, which
    is what ships (the adversary is left behind).
    """
    pooled = model.get_layer("pooled").output
    x = GradientReversal(scale, name="reverse")(pooled)
    x = layers.Dense(64, activation="relu", name="adversary_hidden")(x)
    told = layers.Dense(classes, name="adversary")(x)
    return keras.Model(model.inputs, [model.outputs[0], told], name=f"{model.name}_adversarial")


def hinted(model: keras.Model, dims: int) -> keras.Model:
    """Return a training model with ``model``'s logits and a linear head that tells ``dims`` values
    (a teacher's embedding of the utterance) from the same pooled features.

    Like :func:`adversarial`, training this trains ``model``, which ships without the head.
    """
    voice = layers.Dense(dims, name="hint")(model.get_layer("pooled").output)
    return keras.Model(model.inputs, [model.outputs[0], voice], name=f"{model.name}_hinted")
