"""Per-track musical features from an excerpt: the cues of arousal and valence, and timbre.

Music-emotion research (Juslin & Laukka 2004; Eerola & Vuoskoski 2013; the MIRtoolbox of
Lartillot & Toiviainen 2007) ties arousal to level, tempo, event density and attack, and valence
to mode (major/minor), brightness and timbre. :func:`analyse` measures those from mono samples
with numpy and scipy only, in well under a second for a 30 s excerpt:

=============== ======================================================================== ========
feature         how                                                                      unit
=============== ======================================================================== ========
loudness_db     RMS level of the excerpt                                                 dBFS
dynamics_db     spread of the frame levels: 95th minus 10th percentile of loud frames    dB
tempo_bpm       autocorrelation of the onset envelope (and at twice the lag), near 120   BPM
onset_rate      peaks of the onset envelope (spectral flux of log mel bands)             per s
centroid_hz     spectral centroid, mean over loud frames                                 Hz
brightness      share of spectral energy above 1500 Hz (MIRtoolbox's "brightness")       0..1
flatness        spectral flatness (1 noise, 0 pure tones), mean over loud frames         0..1
mode            Krumhansl-Schmuckler on the chroma of spectral peaks: best major key     -1..1
                correlation minus best minor
key             the best-correlated key, e.g. "A minor" (for people, not clustering)
mfcc_mean/std   13 mel-frequency cepstral coefficients, mean and deviation over frames
mfcc_delta_std  deviation of the MFCCs' frame-to-frame change (regression over ±2 frames)
contrast_mean   spectral contrast per octave band (below 200 Hz, 200-400, ... 3.2-6.4k,  dB
/std            6.4-8 kHz): level of the band's loudest 2 % of bins over its quietest
                2 % (Jiang et al. 2002, as librosa's ``spectral_contrast``), mean and
                deviation over loud frames
=============== ======================================================================== ========

Contrast and the MFCCs' spread tell the sustained, noisy spectrum of distorted, shouted music
(low contrast, little change) from the clear peaks of tonal, articulated music: on real songs
they carry most of what separates joyful from angry energetic music (see
:mod:`training.music_model`).

::

    f = analyse(samples)          # mono float32 at 22050 Hz
    f.tempo_bpm, f.mode, f.key    # (137.8, 0.31, 'E major')

(``tests/test_track_features.py`` runs it on signals of known tempo, level, mode and brightness.)
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from scipy.fft import dct, rfft
from scipy.ndimage import maximum_filter1d, median_filter, uniform_filter1d

from device.errors import AudioError

FEATURES_VERSION = 6
"""Bump when a change here alters the numbers: cached features of older versions are recomputed."""

PITCH_CLASSES = ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")
# Krumhansl & Kessler (1982) probe-tone profiles, tonic first.
MAJOR_PROFILE = np.array([6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88])
MINOR_PROFILE = np.array([6.33, 2.68, 3.52, 5.38, 2.60, 3.53, 2.54, 4.75, 3.98, 2.69, 3.34, 3.17])


@dataclass(frozen=True)
class AnalysisSettings:
    """How features are measured. Rates in Hz, sizes in samples, levels in dBFS."""

    rate: int = 22050
    """Analysis sample rate: the excerpt is resampled to it (everything of interest is below 11 kHz)."""
    frame: int = 2048
    hop: int = 512
    """About 43 frames per second at 22050 Hz."""
    mels: int = 40
    mfccs: int = 13
    chroma_frame: int = 8192
    """Long frames (2.7 Hz bins) so that low notes fall into the right pitch class."""
    chroma_range: tuple[float, float] = (60.0, 2100.0)
    chroma_peak_db: float = 10.0
    """How far a spectral peak must stand above its neighbourhood (±20 bins, ±54 Hz, geometric mean)
    to count as a tone for chroma; drums and noise, whose energy is spread out, do not."""
    brightness_cutoff: float = 1500.0
    band_limit: float = 8000.0
    """Spectral features (centroid, brightness, flatness, contrast) look only below this: files
    sampled at 16 kHz and low-bitrate MP3s hold nothing above it, and their music is the same."""
    contrast_edges: tuple[float, ...] = (200.0, 400.0, 800.0, 1600.0, 3200.0, 6400.0)
    """Borders (Hz) of the spectral-contrast bands; below the first and from the last to
    ``band_limit`` are bands too."""
    contrast_quantile: float = 0.02
    """Share of a band's bins that make its peak and its valley."""
    delta_width: int = 2
    """Frames each side in the MFCC delta regression."""
    tempo_range: tuple[float, float] = (55.0, 200.0)
    tempo_prior: float = 120.0
    """Centre of the log-normal preference among candidate tempi (one octave wide), as in librosa."""
    onset_threshold_db: float = 1.5
    """Mean rise over mel bands (dB) that an onset must exceed above the local median of the envelope."""
    silence_db: float = -60.0
    """Frames quieter than this are left out of the averages; an excerpt all below it is silent."""

    def key(self) -> str:
        """Return a string that changes whenever the features would: the cache's version key."""
        return f"v{FEATURES_VERSION}:" + ",".join(f"{k}={v}" for k, v in sorted(asdict(self).items()))


@dataclass(frozen=True)
class TrackFeatures:
    """What :func:`analyse` measured; see the module's table for units."""

    loudness_db: float
    dynamics_db: float
    tempo_bpm: float
    onset_rate: float
    centroid_hz: float
    brightness: float
    flatness: float
    mode: float
    key: str
    mfcc_mean: tuple[float, ...]
    mfcc_std: tuple[float, ...]
    mfcc_delta_std: tuple[float, ...]
    contrast_mean: tuple[float, ...]
    contrast_std: tuple[float, ...]

    def to_dict(self) -> dict:
        return {k: (list(v) if isinstance(v, tuple) else v) for k, v in asdict(self).items()}

    @classmethod
    def from_dict(cls, data: dict) -> TrackFeatures:
        return cls(**{f.name: (tuple(data[f.name]) if isinstance(data[f.name], list) else data[f.name])
                      for f in fields(cls)})


def frames(x: np.ndarray, size: int, hop: int) -> np.ndarray:
    """Return a (n, size) read-only view of ``x`` cut into frames every ``hop`` samples (zero padded)."""
    if len(x) < size:
        x = np.pad(x, (0, size - len(x)))
    return sliding_window_view(x, size)[::hop]


def power_spectrum(x: np.ndarray, size: int, hop: int) -> np.ndarray:
    """Return the (n, size // 2 + 1) power spectrogram of ``x`` with a Hann window, in float32.

    scipy's FFT keeps single precision (numpy's would compute in double): twice as fast, and
    exact enough for levels read in dB.
    """
    spec = rfft(frames(np.asarray(x, dtype=np.float32), size, hop) * np.hanning(size).astype(np.float32), axis=1)
    return spec.real**2 + spec.imag**2


def mel_filters(bands: int, size: int, rate: int, low: float = 30.0, high: float = 8000.0) -> np.ndarray:
    """Return (bands, size // 2 + 1) triangular filters evenly spaced on the mel scale."""
    mel = np.linspace(2595 * np.log10(1 + low / 700), 2595 * np.log10(1 + high / 700), bands + 2)
    edges = 700 * (10 ** (mel / 2595) - 1)
    freqs = np.fft.rfftfreq(size, 1 / rate)
    lo, mid, hi = edges[:-2, None], edges[1:-1, None], edges[2:, None]
    return np.maximum(0, np.minimum((freqs - lo) / (mid - lo), (hi - freqs) / (hi - mid))).astype(np.float32)


def frame_levels(x: np.ndarray, size: int, hop: int) -> np.ndarray:
    """Return the RMS level in dBFS of each frame (floored at -120 dB)."""
    power = np.concatenate([[0.0], np.cumsum(x.astype(np.float64) ** 2)])
    starts = np.arange(max(1, 1 + (len(x) - size) // hop)) * hop
    ends = np.minimum(starts + size, len(x))
    mean = (power[ends] - power[starts]) / np.maximum(ends - starts, 1)
    return 10 * np.log10(np.maximum(mean, 1e-12))


def onset_envelope(mel_db: np.ndarray) -> np.ndarray:
    """Return the spectral flux: the mean rise (dB) over bands from each frame to the next."""
    rise = np.maximum(0.0, np.diff(mel_db, axis=0, prepend=mel_db[:1]))
    return rise.mean(axis=1)


def onset_rate(envelope: np.ndarray, fps: float, threshold_db: float) -> float:
    """Return onsets per second: envelope peaks (local maxima within ±70 ms) above the local median.

    The median over half a second, unlike the mean, is not lifted by strong beats nearby, so the
    softer off-beat notes between them count too.
    """
    local_max = maximum_filter1d(envelope, size=max(3, int(0.14 * fps)) | 1)
    local_median = median_filter(envelope, size=max(3, int(0.5 * fps)) | 1)
    peaks = (envelope == local_max) & (envelope > local_median + threshold_db)
    return float(peaks.sum() / (len(envelope) / fps))


def tempo(envelope: np.ndarray, fps: float, settings: AnalysisSettings) -> float:
    """Return the tempo in BPM: the best lag of the onset envelope's autocorrelation.

    A candidate lag scores its autocorrelation plus half that at twice the lag, so that a slow
    piece whose notes fall on every other beat (a pulse below the tempo range) is heard at its
    beat instead of at some chance alignment of unrelated notes. Scores are weighted by a
    log-normal prior (one octave wide, centred on ``settings.tempo_prior``) that settles the
    usual half/double tempo ambiguity.
    """
    e = envelope - envelope.mean()
    n = len(e)
    spectrum = np.fft.rfft(e, 2 * n)
    ac = np.fft.irfft(spectrum.real**2 + spectrum.imag**2)[:n]
    lo, hi = settings.tempo_range
    lags = np.arange(max(1, int(np.ceil(60 * fps / hi))), min((n - 1) // 2, int(60 * fps / lo)) + 1)
    if len(lags) < 3 or ac[0] <= 0:
        return settings.tempo_prior
    weight = np.exp(-0.5 * np.log2(60 * fps / lags / settings.tempo_prior) ** 2)
    score = (ac[lags] + 0.5 * ac[2 * lags]) / ac[0] * weight
    i = int(np.argmax(score))
    lag = float(lags[i])
    if 0 < i < len(lags) - 1:  # parabolic interpolation between lags
        a, b, c = score[i - 1 : i + 2]
        if a - 2 * b + c < 0:
            lag += float(np.clip(0.5 * (a - c) / (a - 2 * b + c), -0.5, 0.5))
    return float(np.clip(60 * fps / lag, lo, hi))


def deltas(x: np.ndarray, width: int) -> np.ndarray:
    """Return the per-frame slope of each column of ``x`` (frames, coefficients): a least-squares
    regression over ``width`` frames each side, edges repeated (HTK's deltas)."""
    padded = np.pad(x, ((width, width), (0, 0)), mode="edge")
    n = len(x)
    slope = sum(k * (padded[width + k : width + k + n] - padded[width - k : width - k + n])
                for k in range(1, width + 1))
    return slope / (2 * sum(k * k for k in range(1, width + 1)))


def spectral_contrast(power: np.ndarray, freqs: np.ndarray, edges: tuple[float, ...],
                      quantile: float) -> np.ndarray:
    """Return (frames, len(edges) + 1) contrast in dB: per band, the mean power of its loudest
    ``quantile`` of bins over that of its quietest."""
    bounds = (0.0, *edges, float("inf"))  # the last band ends where ``freqs`` do
    out = np.empty((len(power), len(bounds) - 1), dtype=np.float32)
    for b, (lo, hi) in enumerate(zip(bounds[:-1], bounds[1:], strict=True)):
        band = power[:, (freqs >= lo) & (freqs < hi)]
        m = max(1, int(round(quantile * band.shape[1])))
        ordered = np.partition(band, (m - 1, band.shape[1] - m), axis=1)
        peak, valley = ordered[:, -m:].mean(axis=1), ordered[:, :m].mean(axis=1)
        out[:, b] = 10 * np.log10((peak + 1e-12) / (valley + 1e-12))
    return out


def tonal_peaks(power: np.ndarray, peak_db: float, width: int = 41) -> np.ndarray:
    """Return ``power`` (frames, bins) with all but its tonal peaks zeroed.

    A tonal peak is a local maximum over 5 bins that stands ``peak_db`` above the geometric mean
    of the ``width`` bins around it (a mean of dB values: like a median, hardly lifted by the
    peak itself, and ten times cheaper). Notes are such peaks; a kick drum's sweep or a snare's
    noise is spread over many bins and would otherwise pull the chroma toward whatever pitch
    class the drum's energy happens to fall in.
    """
    log_power = np.log(power + 1e-20)
    baseline = uniform_filter1d(log_power, width, axis=1, mode="nearest")
    peak = (power == maximum_filter1d(power, 5, axis=1)) & (log_power > baseline + peak_db * np.log(10) / 10)
    return np.where(peak, power, 0.0)


def chroma(x: np.ndarray, settings: AnalysisSettings) -> np.ndarray:
    """Return the 12 pitch-class strengths (C first) of the tonal peaks, each frame normalised, averaged."""
    power = power_spectrum(x, settings.chroma_frame, settings.chroma_frame // 2)
    freqs = np.fft.rfftfreq(settings.chroma_frame, 1 / settings.rate)
    lo, hi = settings.chroma_range
    bins = np.flatnonzero((freqs >= lo) & (freqs <= hi))
    margin = 20  # the peaks' neighbourhood reaches this far beyond the range
    first, last = max(0, bins[0] - margin), min(power.shape[1], bins[-1] + margin + 1)
    tonal = tonal_peaks(power[:, first:last], settings.chroma_peak_db, 2 * margin + 1)[:, bins - first]
    pitch_class = (np.round(12 * np.log2(freqs[bins] / 440.0)).astype(int) + 9) % 12
    per_class = np.sqrt(tonal) @ (pitch_class[:, None] == np.arange(12)).astype(np.float32)
    per_class /= np.maximum(per_class.max(axis=1, keepdims=True), 1e-12)
    return per_class.mean(axis=0)


def key_and_mode(profile: np.ndarray) -> tuple[str, float]:
    """Return the best key ("A minor") and mode: best major correlation minus best minor, in [-1, 1]."""
    with np.errstate(invalid="ignore", divide="ignore"):
        major = [np.corrcoef(profile, np.roll(MAJOR_PROFILE, k))[0, 1] for k in range(12)]
        minor = [np.corrcoef(profile, np.roll(MINOR_PROFILE, k))[0, 1] for k in range(12)]
    if not np.all(np.isfinite(major + minor)):  # a flat profile: no key at all
        return "none", 0.0
    best_major, best_minor = int(np.argmax(major)), int(np.argmax(minor))
    mode = float(np.clip(major[best_major] - minor[best_minor], -1, 1))
    key = f"{PITCH_CLASSES[best_major]} major" if mode >= 0 else f"{PITCH_CLASSES[best_minor]} minor"
    return key, mode


def analyse(samples: np.ndarray, settings: AnalysisSettings = AnalysisSettings()) -> TrackFeatures:
    """Return the features of mono float ``samples`` at ``settings.rate`` Hz.

    Raises :class:`~device.errors.AudioError` if the excerpt is silent (below
    ``settings.silence_db`` throughout): there is nothing to place on the mood plane.
    """
    s = settings
    x = np.asarray(samples, dtype=np.float32)
    levels = frame_levels(x, s.frame, s.hop)
    loud = levels > s.silence_db
    if not loud.any():
        raise AudioError(f"the excerpt is silent (below {s.silence_db:g} dBFS throughout)")
    power = power_spectrum(x, s.frame, s.hop)[: len(levels)]
    freqs = np.fft.rfftfreq(s.frame, 1 / s.rate).astype(np.float32)
    power, freqs = power[:, freqs < s.band_limit], freqs[freqs < s.band_limit]
    total = power.sum(axis=1) + 1e-20
    mel = power @ mel_filters(s.mels, s.frame, s.rate, high=s.band_limit)[:, : len(freqs)].T
    mel_db = 10 * np.log10(np.maximum(mel, mel.max() * 1e-8 + 1e-20))
    cepstrum = dct(np.log(np.maximum(mel, 1e-10)), type=2, norm="ortho", axis=1)[loud, : s.mfccs]
    envelope = onset_envelope(mel_db)
    fps = s.rate / s.hop
    key, mode = key_and_mode(chroma(x, s))
    geometric = np.exp(np.log(power[loud] + 1e-20).mean(axis=1))
    contrast = spectral_contrast(power[loud], freqs, s.contrast_edges, s.contrast_quantile)
    return TrackFeatures(
        loudness_db=float(10 * np.log10(max(float(np.mean(x.astype(np.float64) ** 2)), 1e-12))),
        dynamics_db=float(np.percentile(levels[loud], 95) - np.percentile(levels[loud], 10)),
        tempo_bpm=tempo(envelope, fps, s),
        onset_rate=onset_rate(envelope, fps, s.onset_threshold_db),
        centroid_hz=float(((power[loud] @ freqs) / total[loud]).mean()),
        brightness=float(power[:, freqs > s.brightness_cutoff].sum() / total.sum()),
        flatness=float((geometric / (total[loud] / power.shape[1])).mean()),
        mode=mode,
        key=key,
        mfcc_mean=tuple(float(v) for v in cepstrum.mean(axis=0)),
        mfcc_std=tuple(float(v) for v in cepstrum.std(axis=0)),
        mfcc_delta_std=tuple(float(v) for v in deltas(cepstrum, s.delta_width).std(axis=0)),
        contrast_mean=tuple(float(v) for v in contrast.mean(axis=0)),
        contrast_std=tuple(float(v) for v in contrast.std(axis=0)),
    )
