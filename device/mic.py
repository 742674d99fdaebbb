"""The microphone: record one utterance at a time, ended by the speech end-pointer or a time limit.

A recording starts with :meth:`Mic.start_capture` and ends when :func:`device.endpoint.find_speech`
sees ``silence_seconds`` of quiet after speech, when ``max_seconds`` have passed, or on
:meth:`Mic.stop_capture`. The utterance is emitted as :class:`~device.events.UtteranceReady`
(mono float32 at the model's rate). With ``[audio] input_file`` a recording replaces the
microphone: it is fed in blocks, at ``input_speed`` times real time, followed by silence, through the
same end-pointing path. ``input_file`` may also be a folder: each recording then takes its audio
files in turn (sorted by name), which is how the demo and the soak test speak many sentences.
Both sources are in :mod:`device.sources`; this module is the worker that records from one.

Opening or reading the device can fail (USB microphone unplugged, PortAudio missing): that is
emitted as :class:`~device.events.MicFailed`; the mic then checks again with exponential backoff
and emits :class:`~device.events.MicBack` when the device is there again. One worker thread does
all of this; no sounddevice exception leaves it.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable

import numpy as np

from . import audio
from .config import AudioSettings
from .endpoint import EndpointParams, find_speech
from .events import Event, MicBack, MicFailed, UtteranceReady
from .sources import MicError, source_for

log = logging.getLogger(__name__)

CHECK_EVERY = 2  # blocks between end-point checks


class Mic:
    """Records utterances from the input device (or ``input_file``) for the model, at ``rate`` Hz."""

    def __init__(self, settings: AudioSettings, emit: Callable[[Event], None], rate: int = 16000,
                 endpoint: EndpointParams = EndpointParams(), backoff: tuple[float, float] = (1.0, 30.0)):
        self.settings = settings
        self.emit = emit
        self.rate = rate
        self.endpoint = endpoint
        self.backoff = backoff
        self._requests: queue.Queue[str] = queue.Queue()
        self._cancel = threading.Event()
        self._finish = threading.Event()
        self._closing = threading.Event()
        self._thread: threading.Thread | None = None
        self._failed = False
        self.input = source_for(settings)

    # ------------------------------------------------------------ life cycle
    def start(self) -> Mic:
        """Start the worker; a missing device is reported (MicFailed) right away."""
        if self._thread is None:
            self._closing.clear()
            self._thread = threading.Thread(target=self._work, name="mic", daemon=True)
            self._thread.start()
            self._requests.put("probe")
        return self

    def close(self) -> None:
        self._closing.set()
        self._cancel.set()
        if self._thread is not None:
            self._requests.put("close")
            self._thread.join(5)
            self._thread = None

    def __enter__(self) -> Mic:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.close()

    # ------------------------------------------------------------ domain
    def start_capture(self) -> None:
        """Begin recording an utterance (answered by UtteranceReady or MicFailed)."""
        self._cancel.clear()
        self._finish.clear()
        self._requests.put("capture")

    def stop_capture(self, finish: bool = True) -> None:
        """End the recording now: ``finish`` = deliver what was heard, else throw it away."""
        (self._finish if finish else self._cancel).set()

    @property
    def source(self) -> str:
        return self.input.name

    # ------------------------------------------------------------ worker
    def _work(self) -> None:
        delay = self.backoff[0]
        while not self._closing.is_set():
            try:
                request = self._requests.get(timeout=delay if self._failed else None)
            except queue.Empty:
                request = "probe"
            if request == "close":
                break
            try:
                if request == "probe":
                    self.input.probe(self._failed)
                else:
                    self._capture()
                if self._failed:
                    log.info("microphone is back (%s)", self.source)
                    self._failed = False
                    self.emit(MicBack())
                delay = self.backoff[0]
            except MicError as exc:
                if not self._failed or request == "capture":
                    self.emit(MicFailed(str(exc)))
                self._failed = True
                log.warning("microphone failed: %s; checking again in %.0fs", exc, delay)
                delay = min(delay * 2, self.backoff[1])

    def _capture(self) -> None:
        s = self.settings
        rate = s.sample_rate
        blocks: list[np.ndarray] = []
        total, limit = 0, int(s.max_seconds * rate)
        quiet = int(s.silence_seconds * rate)
        for i, block in enumerate(self.input.blocks(rate, self._cancel)):
            if self._cancel.is_set() or self._closing.is_set():
                log.info("recording cancelled")
                return
            blocks.append(block)
            total += len(block)
            if self._finish.is_set() or total >= limit:
                break
            if i % CHECK_EVERY == CHECK_EVERY - 1:
                segment = find_speech(np.concatenate(blocks), rate, self.endpoint)
                if segment is not None and total - segment.end >= quiet:
                    break
        if self._cancel.is_set():
            log.info("recording cancelled")
            return
        samples = np.concatenate(blocks) if blocks else np.zeros(0, np.float32)
        log.info("recorded %.1fs from %s", len(samples) / rate, self.source)
        self.emit(UtteranceReady(audio.resample(samples, rate, self.rate)))
