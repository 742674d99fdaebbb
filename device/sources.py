"""Where the microphone's audio comes from: a real input device, or a recording played as one.

Both give the :class:`~device.mic.Mic` worker the same two things: :meth:`probe` (is it there?)
and :meth:`blocks` (mono float32 blocks of :data:`BLOCK_SECONDS`, until the worker stops
reading); both raise :class:`MicError` saying what is wrong. :func:`source_for` picks one from
``[audio]``.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from . import audio
from .config import AudioSettings
from .errors import AudioError

log = logging.getLogger(__name__)

BLOCK_SECONDS = 0.1


class MicError(Exception):
    """The input device is missing or failed (internal: the mic emits it as MicFailed)."""


def source_for(settings: AudioSettings) -> FileSource | DeviceSource:
    """``[audio] input_file``'s recording when set, else the input device."""
    return FileSource(settings) if settings.input_file else DeviceSource(settings)


class FileSource:
    """``input_file`` as the microphone: fed in blocks at ``input_speed`` times real time, then silence.

    A folder gives its audio files in turn (sorted by name), one per recording.
    """

    def __init__(self, settings: AudioSettings):
        self.settings = settings
        self._cache: tuple[str, float, np.ndarray] | None = None
        self._turn = 0  # the next recording of a folder

    @property
    def name(self) -> str:
        return f"file {self.settings.input_file}"

    def probe(self, failed: bool) -> None:
        self._load(self._recording(advance=False), self.settings.sample_rate)

    def blocks(self, rate: int, cancel: threading.Event) -> Iterator[np.ndarray]:
        return self._file_blocks(self._recording(advance=True), rate, cancel)

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
        if self._cache is None or self._cache[:2] != (path, mtime):
            try:
                self._cache = (path, mtime, audio.load(path, rate, self.settings.max_seconds + 1))
            except AudioError as exc:
                raise MicError(str(exc)) from None
        return self._cache[2]

    def _file_blocks(self, path: str, rate: int, cancel: threading.Event) -> Iterator[np.ndarray]:
        samples = self._load(path, rate)
        n = int(BLOCK_SECONDS * rate)
        speed = self.settings.input_speed
        silence = np.zeros(n, np.float32)
        for start in range(0, int(self.settings.max_seconds * rate) + n, n):
            if speed > 0 and cancel.wait(BLOCK_SECONDS / speed):
                return  # paced like a microphone; a cancel ends it at once
            block = samples[start : start + n]
            yield block if len(block) == n else np.concatenate([block, silence[: n - len(block)]])


class DeviceSource:
    """The input device of ``[audio] device`` (PortAudio, through sounddevice), mono at the given rate."""

    def __init__(self, settings: AudioSettings):
        self.settings = settings

    @property
    def name(self) -> str:
        return f"input device {self.settings.device or '(default)'}"

    def blocks(self, rate: int, cancel: threading.Event) -> Iterator[np.ndarray]:
        return self._device_blocks(rate)

    def _device(self):
        device = self.settings.device
        return int(device) if device.isdigit() else (device or None)

    def _sounddevice(self):
        try:
            import sounddevice
        except OSError as exc:  # PortAudio library missing
            raise MicError(f"PortAudio is not available ({exc}); install libportaudio2") from None
        return sounddevice

    def probe(self, failed: bool) -> None:
        sd = self._sounddevice()
        try:
            if failed:  # PortAudio lists devices once; look again for a re-plugged USB mic
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
