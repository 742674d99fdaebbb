"""The int8 TFLite emotion model, checked against its card, in LiteRT (or tflite_runtime)."""

from __future__ import annotations

import numpy as np

from .card import ModelCard
from .errors import ModelError
from .features import Utterance, stretched
from .statistics import blended


def _interpreter_class():
    """Return LiteRT's Interpreter, else tflite_runtime's (which needs numpy<2)."""
    try:
        from ai_edge_litert.interpreter import Interpreter
    except ImportError:
        try:
            from tflite_runtime.interpreter import Interpreter
        except ImportError:
            raise ModelError(
                "no TFLite runtime: pip install ai-edge-litert (or tflite-runtime with numpy<2)"
            ) from None
    return Interpreter


def softmax(logits: np.ndarray) -> np.ndarray:
    """Return the softmax of the last axis of ``logits``."""
    e = np.exp(logits - logits.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


class EmotionModel:
    """A TFLite model that maps front-end windows to emotion scores.

    At load it checks the model against its card: one input of shape (1, frames, nfilt[, 1]), one
    output with a score per label. Quantization scale and zero point are read from the model.

    >>> from device import audio, card, features
    >>> shipped = card.load()
    >>> windows = features.extract(audio.load("samples/03-01-02-02-01-01-18.flac"), shipped.frontend).windows
    >>> windows.shape                               # (windows, frames, mel bands)
    (1, 300, 64)
    >>> scores = EmotionModel(shipped).scores(windows)
    >>> shipped.labels[scores.argmax()], scores.shape
    ('calm', (8,))
    """

    def __init__(self, card: ModelCard, threads: int = 1):
        path = card.model_path
        card.verify()
        try:
            self._interpreter = _interpreter_class()(model_path=str(path), num_threads=threads)
            self._interpreter.allocate_tensors()
        except (ValueError, RuntimeError, OSError) as exc:
            raise ModelError(f"model {path} cannot be loaded: {exc}") from None
        self.card = card
        self._input = self._interpreter.get_input_details()[0]
        self._output = self._interpreter.get_output_details()[0]
        self._check(path)

    def _check(self, path) -> None:
        fe = self.card.frontend
        shape = tuple(self._input["shape"])
        if shape[:3] != (1, fe.frames, fe.nfilt) or any(d != 1 for d in shape[3:]):
            raise ModelError(f"model {path} takes input {shape}, its card says (1, {fe.frames}, {fe.nfilt})")
        outputs = int(np.prod(self._output["shape"]))
        if outputs != len(self.card.labels):
            raise ModelError(f"model {path} gives {outputs} scores, its card has {len(self.card.labels)} labels")

    @property
    def quantized(self) -> bool:
        return self._input["dtype"] != np.float32

    def _quantize(self, window: np.ndarray) -> np.ndarray:
        dtype = self._input["dtype"]
        scale, zero = self._input["quantization"]
        if dtype == np.float32:
            return window.astype(np.float32)
        info = np.iinfo(dtype)
        return np.clip(np.round(window / scale + zero), info.min, info.max).astype(dtype)

    def _logits(self, window: np.ndarray) -> np.ndarray:
        self._interpreter.set_tensor(self._input["index"], self._quantize(window).reshape(self._input["shape"]))
        self._interpreter.invoke()
        out = self._interpreter.get_tensor(self._output["index"]).reshape(-1)
        scale, zero = self._output["quantization"]
        return (out.astype(np.float32) - zero) * scale if scale else out.astype(np.float32)

    def scores(self, windows: np.ndarray) -> np.ndarray:
        """Return one probability per label for ``windows`` (n, frames, nfilt), averaged over n."""
        return softmax(np.stack([self._logits(w) for w in windows])).mean(axis=0)

    def answer(self, utterance: Utterance, stretch: float = 0.0) -> np.ndarray:
        """Return one probability per label for an ``utterance``: the model's scores for its windows
        (each also heard stretched by ``1 ± stretch``, :func:`~device.features.stretched`), blended
        with the card's statistics head where it has one (:mod:`device.statistics`)."""
        scores = self.scores(stretched(utterance.windows, stretch, self.card.frontend))
        return blended(scores, self.card.statistics, utterance.statistics)
