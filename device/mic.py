"""The microphone: record one utterance at a time, ended by the speech end-pointer or a time limit.

A recording starts with :meth:`Mic.start_capture` and ends when :func:`device.endpoint.find_speech`
sees ``silence_seconds`` of quiet after speech, when ``max_seconds`` have passed, or on
:meth:`Mic.stop_capture`. The utterance is emitted as :class:`~device.events.UtteranceReady`
(mono float32 at the model's rate). With ``[audio] input_file`` a recording replaces the
microphone: it is fed in blocks, at ``input_speed`` times real time, followed by silence, through the
same end-pointing path. ``input_file`` may also be a folder: each recording then takes its audio
files in turn (sorted by name), which is how the demo and the soak test speak many sentences.

Opening or reading the device can fail (USB microphone unplugged, PortAudio missing): that is
emitted as :class:`~device.events.MicFailed`; the mic then checks again with exponential backoff
and emits :class:`~device.events.MicBack` when the device is there again. One worker thread does
all of this; no sounddevice exception leaves this module.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np

from . import audio
from .config import AudioSettings
from .endpoint import EndpointParams, find_speech
from .errors import AudioError
from .events import Event, MicBack, MicFailed, UtteranceReady

log = logging.getLogger(__name__)

BLOCK_SECONDS = 0.1
CHECK_EVERY = 2  # blocks between end-point checks


class MicError(Exception):
    """The input device is missing or failed (internal: becomes MicFailed)."""


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
        self._file_cache: tuple[str, float, np.ndarray] | None = None
        self._turn = 0  # the next recording of an input_file folder

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
        return f"file {self.settings.input_file}" if self.settings.input_file else \
            f"input device {self.settings.device or '(default)'}"

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
                    self._probe()
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
        for i, block in enumerate(self._blocks(rate)):
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

    def _blocks(self, rate: int) -> Iterator[np.ndarray]:
        if self.settings.input_file:
            return self._file_blocks(self._recording(advance=True), rate)
        return self._device_blocks(rate)

    # ------------------------------------------------------------ a recording as the microphone
    def _recording(self, advance: bool) -> str:
        """``input_file``, or, when it is a folder, its next audio file (the first one if not ``advance``)."""
        path = Path(self.settings.input_file)
        if not path.is_dir():
            return str(path)
        files = sorted(str(f) for f in path.iterdir() if f.suffix.lower() in audio.SUFFIXES)
        if not files:
            raise MicError(f"input_file {path}: a folder without audio files ({', '.join(sorted(audio.SUFFIXES))})")
        chosen = files[self._turn % len(files)]
        if advance:
            self._turn += 1
        return chosen

    def _load(self, path: str, rate: int) -> np.ndarray:
        try:
            mtime = Path(path).stat().st_mtime
        except OSError as exc:
            raise MicError(f"input_file {path}: {exc.strerror or exc}") from None
        if self._file_cache is None or self._file_cache[:2] != (path, mtime):
            try:
                self._file_cache = (path, mtime, audio.load(path, rate, self.settings.max_seconds + 1))
            except AudioError as exc:
                raise MicError(str(exc)) from None
        return self._file_cache[2]

    def _file_blocks(self, path: str, rate: int) -> Iterator[np.ndarray]:
        samples = self._load(path, rate)
        n = int(BLOCK_SECONDS * rate)
        speed = self.settings.input_speed
        silence = np.zeros(n, np.float32)
        for start in range(0, int(self.settings.max_seconds * rate) + n, n):
            if speed > 0 and self._cancel.wait(BLOCK_SECONDS / speed):
                return  # paced like a microphone; a cancel ends it at once
            block = samples[start : start + n]
            yield block if len(block) == n else np.concatenate([block, silence[: n - len(block)]])

    # ------------------------------------------------------------ a real microphone
    def _device(self):
        device = self.settings.device
        return int(device) if device.isdigit() else (device or None)

    def _sounddevice(self):
        try:
            import sounddevice
        except OSError as exc:  # PortAudio library missing
            raise MicError(f"PortAudio is not available ({exc}); install libportaudio2") from None
        return sounddevice

    def _probe(self) -> None:
        if self.settings.input_file:
            self._load(self._recording(advance=False), self.settings.sample_rate)
            return
        sd = self._sounddevice()
        try:
            if self._failed:  # PortAudio lists devices once; look again for a re-plugged USB mic
                sd._terminate()
                sd._initialize()
            sd.check_input_settings(device=self._device(), channels=1, dtype="float32",
                                    samplerate=self.settings.sample_rate)
        except Exception as exc:  # sounddevice raises PortAudioError, ValueError, ...
            raise MicError(f"no usable input device {self.settings.device or '(default)'!r}: {exc}") from None

    def _device_blocks(self, rate: int) -> Iterator[np.ndarray]:
        sd = self._sounddevice()
        blocks: queue.Queue[np.ndarray] = queue.Queue()

        def callback(indata, frames, time, status):  # PortAudio's thread: only hand the block over
            blocks.put(indata[:, 0].copy())

        try:
            stream = sd.InputStream(samplerate=rate, channels=1, dtype="float32", device=self._device(),
                                    blocksize=int(BLOCK_SECONDS * rate), callback=callback)
            stream.start()
        except Exception as exc:
            raise MicError(f"cannot open input device {self.settings.device or '(default)'!r}: {exc}") from None
        try:
            while True:
                try:
                    yield blocks.get(timeout=2.0)
                except queue.Empty:
                    raise MicError("the microphone sent no audio for 2s") from None
        finally:
            try:
                stream.close()
            except Exception as exc:
                log.warning("closing the input stream failed: %s", exc)
