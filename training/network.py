"""A compact depthwise-separable ConvNet for log-mel windows, sized for a Raspberry Pi."""

from __future__ import annotations

import keras
from keras import layers


def _block(x, filters: int, stride: int):
    x = layers.DepthwiseConv2D(3, strides=stride, padding="same", use_bias=False)(x)
    x = layers.BatchNormalization()(x)
    x = layers.ReLU()(x)
    x = layers.Conv2D(filters, 1, use_bias=False)(x)
    x = layers.BatchNormalization()(x)
    return layers.ReLU()(x)


def ds_cnn(frames: int, bands: int, classes: int, width: float = 1.0, dropout: float = 0.3) -> keras.Model:
    """Return a DS-CNN taking (frames, bands, 1) windows to ``classes`` logits.

    A 5x5 stem with stride 2, six depthwise-separable blocks (three of them stride 2), global
    average pooling. ``width`` scales every layer: 1.0 is about 90 k parameters.
    """
    def w(n: int) -> int:
        return max(8, int(n * width))

    inputs = keras.Input((frames, bands, 1), name="logmel")
    x = layers.Conv2D(w(32), 5, strides=2, padding="same", use_bias=False)(inputs)
    x = layers.BatchNormalization()(x)
    x = layers.ReLU()(x)
    for filters, stride in ((64, 2), (64, 1), (128, 2), (128, 1), (192, 2), (192, 1)):
        x = _block(x, w(filters), stride)
    x = layers.GlobalAveragePooling2D()(x)
    x = layers.Dropout(dropout)(x)
    outputs = layers.Dense(classes, name="logits")(x)
    return keras.Model(inputs, outputs, name="emotune_ds_cnn")
