"""Full-integer int8 quantization of a trained Keras model, and writing it with its card."""

from __future__ import annotations

import logging
import tempfile
from dataclasses import replace
from pathlib import Path

import numpy as np
import tensorflow as tf

from device.card import ModelCard, fingerprint

log = logging.getLogger(__name__)


def to_int8_tflite(model, representative: np.ndarray) -> bytes:
    """Return ``model`` as an int8 TFLite flatbuffer (int8 input and output, int8 kernels).

    ``representative`` (n, frames, bands) windows calibrate the activation ranges.
    """
    with tempfile.TemporaryDirectory() as saved:
        model.export(saved, format="tf_saved_model", verbose=False)
        converter = tf.lite.TFLiteConverter.from_saved_model(saved)
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        converter.representative_dataset = lambda: ([w[None].astype(np.float32)] for w in representative)
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
        converter.inference_input_type = tf.int8
        converter.inference_output_type = tf.int8
        return converter.convert()


def write(flatbuffer: bytes, card: ModelCard, card_path: Path) -> ModelCard:
    """Write the model and its card (the model file named in the card, beside it); return the card."""
    card_path = Path(card_path)
    card_path.parent.mkdir(parents=True, exist_ok=True)
    (card_path.parent / card.model_file).write_bytes(flatbuffer)
    card = replace(card, fingerprint=fingerprint(flatbuffer, card.labels))
    card.save(card_path)
    log.info("wrote %s (%d bytes) and its card %s", card.model_file, len(flatbuffer), card_path)
    from device.card import load

    return load(card_path)
