"""The audio front-end: log-mel filterbank features, the one implementation device and training share.

Every parameter is a field of :class:`FrontEnd`, which the model card stores beside the model, so
the features a model was trained on are exactly the ones it is fed on the Pi.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from python_speech_features import fbank
from python_speech_features.base import hz2mel, mel2hz

from .endpoint import EndpointParams, Segment, find_speech
from .errors import NoSpeech
from .voice import Voice


@dataclass(frozen=True)
class FrontEnd:
    """Parameters of the front-end. Times in seconds, frequencies in Hz."""

    sample_rate: int = 16000
    winlen: float = 0.025
    """Analysis window (Hamming)."""
    winstep: float = 0.010
    """Hop between windows: one feature frame per step."""
    nfilt: int = 64
    """Mel filters: the feature vector's length."""
    nfft: int = 512
    lowfreq: float = 50.0
    highfreq: float = 8000.0
    preemph: float = 0.97
    frames: int = 300
    """Frames in one model input window (``frames * winstep`` seconds)."""
    hop_frames: int = 150
    """Hop between windows when the speech is longer than one window."""
    max_windows: int = 4
    """Most windows classified for one utterance (their scores are averaged)."""
    normalisation: str = "utterance"
    """``utterance``: each utterance to zero mean, unit variance (:func:`normalise`); ``listener``: each
    frame minus the listener's reference spectrum (:class:`~device.voice.Voice`)."""
    voice_prior: tuple[float, ...] = ()
    """With ``listener``: the mean training speaker's spectral shape (zero mean over the bands)."""
    dynamics_prior: tuple[float, ...] = ()
    """With a card's statistics head: the mean training speaker's :func:`dynamics` (2 x nfilt), what a
    box that has heard nobody takes its listener's to be; empty on cards without one."""
    denoise: float = 0.0
    """Spectral subtraction (:func:`denoised`): this many times each band's noise, as the whole
    recording's quietest frames have it (:func:`noise_floor`, at the end-pointer's floor
    percentile), is taken off the speech; 0: off."""
    endpoint: EndpointParams = field(default_factory=EndpointParams)

    def __post_init__(self):
        if self.normalisation not in NORMALISATIONS:
            raise ValueError(f"normalisation {self.normalisation!r}: use one of {', '.join(NORMALISATIONS)}")
        if self.denoise < 0:
            raise ValueError(f"denoise {self.denoise:g}: a share of the noise floor, 0 (off) or more")

    @property
    def listener(self) -> bool:
        """Whether the model hears speech relative to its listener's voice."""
        return self.normalisation == "listener"

    def voice(self) -> Voice:
        """Return a fresh :class:`~device.voice.Voice` (nothing heard yet) for this front-end."""
        return Voice(np.asarray(self.voice_prior or np.zeros(self.nfilt), dtype=np.float32),
                     dynamics_prior=np.asarray(self.dynamics_prior) if self.dynamics_prior else None)

    def to_dict(self) -> dict:
        out = {k: v for k, v in self.__dict__.items()  # older cards: as they were
               if k not in ("endpoint", "voice_prior", "dynamics_prior") and not (k == "denoise" and not v)}
        if self.listener:
            out["voice_prior"] = [round(float(v), 5) for v in self.voice_prior]
        if self.dynamics_prior:
            out["dynamics_prior"] = [round(float(v), 5) for v in self.dynamics_prior]
        return {**out, "endpoint": self.endpoint.to_dict()}

    @classmethod
    def from_dict(cls, data: dict) -> FrontEnd:
        data = dict(data)
        endpoint = EndpointParams(**data.pop("endpoint", {}))
        data["voice_prior"] = tuple(data.get("voice_prior", ()))
        data["dynamics_prior"] = tuple(data.get("dynamics_prior", ()))
        return cls(**data, endpoint=endpoint)


NORMALISATIONS = ("utterance", "listener")

STRETCH = 0.1
"""How far the box stretches each utterance's spectrum both ways before it asks the model
(:func:`stretched`): it answers the mean of the utterance as heard, and as heard from a voice 10 %
lower and 10 % higher in formants. On the validation folds of three models it raised a settled
box's leave-one-corpus-out mean and held-out speakers every time, by about a point or less, and
left the answers a little less sure (docs/speech-model.md: how the box decides from the scores)."""

MAX_STRETCH = 0.3
"""The most a stretch may be (a setting or ``--stretch``): beyond it a voice is no longer one the
model was trained on (training stretches by up to 0.1)."""


@dataclass(frozen=True)
class Utterance:
    """The features of one utterance: model input windows and where the speech was."""

    windows: np.ndarray
    """float32 array (n_windows, frames, nfilt), each normalised and padded."""
    segment: Segment
    spectrum: np.ndarray
    """The mean over the speech of its features before any listener reference came off them
    (nfilt,): what a :class:`~device.voice.Voice` hears."""
    dynamics: np.ndarray
    """How much each band moves over the speech (2 x nfilt, :func:`dynamics`): the voice hears it too."""
    statistics: np.ndarray | None = None
    """With ``listener`` normalisation: the utterance's level, deviation and change per band (3 x
    nfilt), each minus the listener's usual, what a card's statistics head reads
    (:mod:`device.statistics`); None otherwise."""


def log_mel(samples: np.ndarray, fe: FrontEnd) -> np.ndarray:
    """Return the (frames, nfilt) float32 log-mel filterbank of mono ``samples`` at ``fe.sample_rate``."""
    energies, _ = fbank(
        samples, samplerate=fe.sample_rate, winlen=fe.winlen, winstep=fe.winstep, nfilt=fe.nfilt,
        nfft=fe.nfft, lowfreq=fe.lowfreq, highfreq=fe.highfreq, preemph=fe.preemph, winfunc=np.hamming,
    )
    return np.log(energies).astype(np.float32)


def normalise(feats: np.ndarray) -> np.ndarray:
    """Return ``feats`` shifted and scaled to zero mean and unit variance over the whole utterance.

    One mean and one deviation for all bands: loudness and microphone gain go, the spectral tilt
    and the energy contour that carry vocal effort stay.
    """
    return ((feats - feats.mean()) / (feats.std() + 1e-5)).astype(np.float32)


def fit(feats: np.ndarray, frames: int, offset: int | None = None) -> np.ndarray:
    """Return a (frames, nfilt) window of ``feats``: centred and zero padded if shorter, else cut.

    ``offset`` places a short utterance (or picks where a long one is cut); None centres it.
    """
    n = len(feats)
    out = np.zeros((frames, feats.shape[1]), dtype=np.float32)
    if n <= frames:
        at = (frames - n) // 2 if offset is None else offset
        out[at : at + n] = feats
    else:
        at = (n - frames) // 2 if offset is None else offset
        out[:] = feats[at : at + frames]
    return out


def windows(feats: np.ndarray, fe: FrontEnd) -> np.ndarray:
    """Return the model input windows (n, frames, nfilt) covering normalised ``feats``.

    Speech up to one window long gives one centred window; longer speech gives windows every
    ``hop_frames``, at most ``max_windows`` of them, centred on the utterance.
    """
    n = len(feats)
    if n <= fe.frames:
        return fit(feats, fe.frames)[None]
    count = min(fe.max_windows, 1 + -(-(n - fe.frames) // fe.hop_frames))
    span = fe.frames + (count - 1) * fe.hop_frames
    first = max(0, (n - span) // 2)
    starts = [min(first + i * fe.hop_frames, n - fe.frames) for i in range(count)]
    return np.stack([feats[s : s + fe.frames] for s in starts])


def warp_bands(windows: np.ndarray, factor: float, fe: FrontEnd) -> np.ndarray:
    """Return log-mel ``windows`` (..., frames, nfilt) as a voice whose spectrum is stretched by
    ``factor`` along frequency would give them (vocal tract length perturbation, Jaitly & Hinton
    2013): each band takes the value the filterbank had at its centre frequency divided by
    ``factor``, read between the bands' centres (the edge bands repeat beyond the filterbank).
    Formants and harmonics move, timing does not. Training stretches every window by a fresh
    factor; the box hears each utterance a little stretched both ways as well (:data:`STRETCH`)."""
    bands = windows.shape[-1]
    step = (hz2mel(fe.highfreq) - hz2mel(fe.lowfreq)) / (bands + 1)
    centres = hz2mel(fe.lowfreq) + step * np.arange(1, bands + 1)
    source = np.clip((hz2mel(mel2hz(centres) / factor) - centres[0]) / step, 0, bands - 1)
    low = np.minimum(source.astype(int), bands - 2)
    frac = (source - low).astype(np.float32)
    return windows[..., low] * (1 - frac) + windows[..., low + 1] * frac


def stretched(windows: np.ndarray, share: float, fe: FrontEnd) -> np.ndarray:
    """Return ``windows`` (n, frames, nfilt) followed by the same windows stretched by ``1 - share``
    and ``1 + share`` (:func:`warp_bands`): 3n windows, or the n as they are where ``share`` is 0."""
    if not share:
        return windows
    return np.concatenate([windows, warp_bands(windows, 1 - share, fe), warp_bands(windows, 1 + share, fe)])


def speech_features(samples: np.ndarray, fe: FrontEnd) -> tuple[np.ndarray, Segment]:
    """Return the log-mel features of the speech in ``samples`` and where it was.

    With ``utterance`` normalisation they are normalised (:func:`normalise`); with ``listener`` they
    are as measured, and :func:`relative` takes the listener's reference off them.
    Raises :class:`~device.errors.NoSpeech` if the end-pointer finds no speech.
    """
    segment = find_speech(samples, fe.sample_rate, fe.endpoint)
    if segment is None:
        raise NoSpeech("no speech found in the recording")
    feats = log_mel(segment.cut(samples), fe)
    if fe.denoise:
        feats = denoised(feats, noise_floor(samples, fe), fe.denoise)
    return (feats if fe.listener else normalise(feats)), segment


DENOISE_FLOOR = 0.1
"""Spectral subtraction leaves at least this share of each band's energy (-10 dB): no holes."""


def noise_floor(samples: np.ndarray, fe: FrontEnd) -> np.ndarray:
    """Return each band's noise energy in ``samples`` (nfilt,): its percentile over all the frames that
    the end-pointer takes its floor at (``fe.endpoint.floor_percentile``, the 10th)."""
    return np.exp(np.percentile(log_mel(samples, fe), fe.endpoint.floor_percentile, axis=0))


def denoised(feats: np.ndarray, noise: np.ndarray, share: float) -> np.ndarray:
    """Return log-mel ``feats`` with ``share`` times the ``noise`` energy taken off each band, but never
    below :data:`DENOISE_FLOOR` of what was there (power spectral subtraction, Berouti et al. 1979).

    >>> feats = np.log(np.array([[10.0, 1.0], [2.0, 1.0]], dtype=np.float32))
    >>> np.exp(denoised(feats, noise=np.array([1.0, 1.0]), share=1.0)).round(2)
    array([[9. , 0.1],
           [1. , 0.1]], dtype=float32)
    """
    power = np.exp(feats.astype(np.float64))
    return np.log(np.maximum(power - share * noise, DENOISE_FLOOR * power)).astype(np.float32)


def spectrum(feats: np.ndarray) -> np.ndarray:
    """Return the mean log-mel spectrum of a recording's speech frames: what a :class:`Voice` hears."""
    return feats.mean(axis=0)


def dynamics(feats: np.ndarray) -> np.ndarray:
    """Return how much each band of log-mel ``feats`` moves over the speech (2 x nfilt): its deviation
    over the frames, then its mean absolute change from one frame to the next. Neither depends on
    the level, so neither changes when a reference comes off the frames."""
    change = np.abs(np.diff(feats, axis=0)).mean(axis=0) if len(feats) > 1 else np.zeros(feats.shape[1])
    return np.concatenate([feats.std(axis=0), change]).astype(np.float32)


def relative(feats: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """Return log-mel ``feats`` relative to a reference spectrum (the ``listener`` normalisation)."""
    return (feats - reference).astype(np.float32)


def extract(samples: np.ndarray, fe: FrontEnd, voice: Voice | None = None) -> Utterance:
    """Return the model input for mono ``samples`` at ``fe.sample_rate``: the one path to the model.

    With ``listener`` normalisation the frames are taken relative to ``voice`` (None: a voice
    that has heard nothing yet), and so are the utterance's statistics (:attr:`Utterance.statistics`);
    ``voice`` itself is left as it was (see :meth:`Voice.hear`).
    """
    return utterance(*speech_features(samples, fe), fe, voice)


def utterance(feats: np.ndarray, segment: Segment, fe: FrontEnd, voice: Voice | None = None) -> Utterance:
    """Return the model input for the speech features ``feats`` found at ``segment`` (as
    :func:`speech_features` gives them), heard relative to ``voice`` as :func:`extract` hears them."""
    heard, moves, statistics = spectrum(feats), dynamics(feats), None
    if fe.listener:
        voice = voice or fe.voice()
        reference = voice.reference(heard)
        feats = relative(feats, reference)
        statistics = np.concatenate([heard - reference, moves - voice.usual_dynamics()])
    return Utterance(windows(feats, fe), segment, heard, moves, statistics)
