"""Synthetic music with a known mood: small libraries for the tests, the benchmark and the demo.

Each :class:`Mood` fixes the cues that music-emotion research ties to arousal and valence: tempo,
level, note density and attack (arousal); major or minor key, register and timbre brightness
(valence). A track is a chord progression with bass, a random melody (chord tones on the beat, scale
steps between) and, for the energetic moods, drums. Every track is seeded, so a library is the same on every machine.

Make a demo library of 4 moods x 3 tracks of 20 s in FLAC, Ogg Vorbis, MP3 and WAV::

    from training.synthmusic import make_library
    tracks = make_library("demo-music", tracks_per_mood=3, seconds=20)

or from the shell: ``python -m training.synthmusic demo-music --tracks-per-mood 3 --seconds 20``.
"""

from __future__ import annotations

import argparse
import logging
import multiprocessing
import sys
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import soundfile

log = logging.getLogger(__name__)

MAJOR_SCALE = (0, 2, 4, 5, 7, 9, 11)
MINOR_SCALE = (0, 2, 3, 5, 7, 8, 11)  # harmonic minor: the raised 7th leads to the tonic


@dataclass(frozen=True)
class Mood:
    """The musical cues of one mood. Levels in dBFS (RMS), times in seconds, pitches in MIDI notes."""

    name: str
    arousal: int
    """The quadrant it is meant for: +1 energetic, -1 calm."""
    valence: int
    """+1 positive, -1 negative."""
    tempo: float
    """Beats per minute."""
    level_db: float
    """RMS level of the mix."""
    minor: bool
    tonic: int
    """MIDI note of the chords' root; the melody plays an octave above, the bass an octave below."""
    rolloff: float
    """Harmonic h has amplitude h**-rolloff: 1 is bright and buzzy, 3 is dark and soft."""
    notes_per_beat: float
    attack: float
    drums: bool
    drive: float = 0.0
    """Distortion of the chords and bass (tanh soft clipping at this gain; 0 is clean), as an
    overdriven guitar: its dense odd harmonics make the spectrum loud, flat and unvarying."""
    reverb: float = 0.3
    """Level of the room's reverberation against the dry sound (a 1.2 s decay of filtered noise):
    real recordings are never the bare, silent-between-notes tones of a synthesiser."""


MOODS: dict[str, Mood] = {
    m.name: m
    for m in (
        Mood("happy", +1, +1, tempo=138, level_db=-12, minor=False, tonic=64, rolloff=1.0, notes_per_beat=2,
             attack=0.004, drums=True),
        Mood("angry", +1, -1, tempo=150, level_db=-12, minor=True, tonic=43, rolloff=2.6, notes_per_beat=2,
             attack=0.004, drums=True, drive=12.0),
        Mood("calm", -1, +1, tempo=66, level_db=-30, minor=False, tonic=64, rolloff=1.15, notes_per_beat=0.5,
             attack=0.08, drums=False),
        Mood("sad", -1, -1, tempo=58, level_db=-30, minor=True, tonic=45, rolloff=3.0, notes_per_beat=0.5,
             attack=0.12, drums=False),
    )
}
"""The four quadrants of the arousal/valence plane, one mood each."""

FORMATS: dict[str, tuple[str, str]] = {
    "flac": ("FLAC", "PCM_16"),
    "ogg": ("OGG", "VORBIS"),
    "opus": ("OGG", "OPUS"),
    "mp3": ("MP3", "MPEG_LAYER_III"),
    "wav": ("WAV", "PCM_16"),
}
"""File suffix -> libsndfile (format, subtype) used to write it."""

OPUS_RATES = (8000, 12000, 16000, 24000, 48000)


@dataclass(frozen=True)
class SynthTrack:
    """One generated file: where it is (relative to the library root) and what it was made to be."""

    path: str
    mood: str
    format: str
    rate: int
    seconds: float
    number: int = 0
    """Its number among the tracks of its mood (the ``NN`` of ``mood-NN``)."""


def midi_hz(note: float) -> float:
    """Return the frequency in Hz of MIDI ``note`` (69 is A4 = 440 Hz)."""
    return 440.0 * 2.0 ** ((note - 69) / 12)


def tone(note: float, seconds: float, rate: int, mood: Mood) -> np.ndarray:
    """Return one note: harmonics up to 5 kHz with ``mood.rolloff``, attack then exponential decay."""
    t = np.arange(int(seconds * rate)) / rate
    f0 = midi_hz(note)
    # One period drawn once (harmonics quieter than -60 dB left out), then read at the note's pitch.
    audible = int(1000 ** (1 / mood.rolloff))
    harmonics = np.arange(1, max(1, min(audible, int(min(5000.0, rate / 2 - 100) / f0))) + 1)
    period = np.arange(2048) / 2048
    table = (harmonics[:, None] ** -mood.rolloff * np.sin(2 * np.pi * np.outer(harmonics, period))).sum(axis=0)
    wave = table[(f0 * t * 2048).astype(np.int64) % 2048]
    envelope = np.minimum(1.0, t / mood.attack) * np.exp(-t / (0.35 * seconds + 0.05))
    return (wave * envelope).astype(np.float32)


def drum_hits(rate: int, mood: Mood, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Return the drum sounds: a kick (falling sine) for the beats, and for the off-beats hats
    (positive moods) or a dull low snare (negative moods)."""
    t = np.arange(int(0.18 * rate)) / rate
    kick = np.sin(2 * np.pi * (50 * t + 400 * 0.03 * (1 - np.exp(-t / 0.03)))) * np.exp(-t / 0.06)
    noise = rng.standard_normal(len(t))
    if mood.valence > 0:  # hats: the noise's difference is high-passed, short
        other = np.diff(noise, prepend=0.0) * np.exp(-t / 0.015) * 0.3
    else:  # a dull snare: the noise low-passed by a running mean
        other = np.convolve(noise, np.ones(8) / 8, mode="same") * np.exp(-t / 0.05) * 1.5
    return {"kick": kick.astype(np.float32), "other": other.astype(np.float32)}


def progression(minor: bool) -> list[tuple[int, ...]]:
    """Return four chords as semitone offsets from the tonic: I-IV-I-V or i-iv-i-V, root position.

    The tonic chord every other bar makes the key clear even in a short excerpt; in minor the
    dominant is major (its third the leading tone), as in most minor-key music, so that the key
    is not heard as its relative major, which has the same notes otherwise.
    """
    third = 3 if minor else 4
    return [(0, third, 7), (5, 5 + third, 12), (0, third, 7), (7, 11, 14)]


def render(mood: Mood, seconds: float, rate: int, seed: int) -> np.ndarray:
    """Return ``seconds`` of mono float32 music in ``mood`` at ``rate`` Hz, seeded by ``seed``.

    Tempo, key and level vary a little from seed to seed so that no two tracks are alike.
    """
    rng = np.random.default_rng(seed)
    tempo = mood.tempo * rng.uniform(0.94, 1.06)
    shift = int(rng.integers(-2, 3))
    beat = 60.0 / tempo
    n = int(seconds * rate)
    out = np.zeros(n + int(np.ceil(4 * beat * rate)) + rate, dtype=np.float32)  # room for the last bar
    cache: dict[tuple[int, float], np.ndarray] = {}

    def add(note: int, at: float, length: float, gain: float) -> None:
        key = (note, round(length, 3))
        if key not in cache:
            cache[key] = tone(note, length, rate, mood)
        start = int(at * rate)
        out[start : start + len(cache[key])] += gain * cache[key]

    scale = MINOR_SCALE if mood.minor else MAJOR_SCALE
    tonic = mood.tonic + shift
    bars = int(np.ceil(seconds / (4 * beat)))
    for bar in range(bars):
        chord = progression(mood.minor)[bar % 4]
        t0 = bar * 4 * beat
        for offset in chord:
            add(tonic + offset, t0, 4 * beat, 0.25)
        add(tonic + chord[0] - 12, t0, 4 * beat, 0.5)
    if mood.drive:
        out = np.tanh(mood.drive * out / max(float(np.abs(out).max()), 1e-9)).astype(np.float32)
    degree = 0  # the melody's place on the scale, counted in scale steps from the tonic
    for bar in range(bars):
        chord = progression(mood.minor)[bar % 4]
        t0 = bar * 4 * beat
        step = 1.0 / mood.notes_per_beat
        for i in range(int(4 * mood.notes_per_beat)):
            if i % 2 == 0:  # on the beat a tone of the chord, which makes the key unmistakable
                note = chord[int(rng.integers(3))] + 12 * int(rng.integers(2))
                degree = 7 * (note // 12) + int(np.argmin([abs(note % 12 - d) for d in scale]))
            else:  # between, a step along the scale
                degree = int(np.clip(degree + rng.choice([-1, 1]), 0, 13))
                octave, index = divmod(degree, 7)
                note = 12 * octave + scale[index]
            add(tonic + 12 + note, t0 + i * step * beat, step * beat, 0.35)
    if mood.drums:
        hits = drum_hits(rate, mood, rng)
        for b in range(int(seconds / beat) + 1):
            at = int(b * beat * rate)
            out[at : at + len(hits["kick"])] += 0.9 * hits["kick"]
            at = int((b + 0.5) * beat * rate)
            out[at : at + len(hits["other"])] += hits["other"]
    out = out[:n]
    if mood.reverb:
        out = out + mood.reverb * room(out, rate, rng)
    level = mood.level_db + rng.uniform(-2, 2)
    out *= 10 ** (level / 20) / max(float(np.sqrt(np.mean(out**2))), 1e-9)
    return np.clip(out, -0.99, 0.99)


def room(x: np.ndarray, rate: int, rng: np.random.Generator, decay: float = 1.2) -> np.ndarray:
    """Return ``x`` reverberated: convolved with noise that falls by 60 dB in ``decay`` seconds,
    low-passed a little (walls absorb the highs), at the level of ``x``."""
    from scipy.signal import fftconvolve

    t = np.arange(int(decay * rate)) / rate
    response = np.convolve(rng.standard_normal(len(t)), np.ones(4) / 4, mode="same") * 10 ** (-3 * t / decay)
    wet = fftconvolve(x, response.astype(np.float32), mode="full")[: len(x)]
    return (wet * np.sqrt(np.mean(x**2)) / max(float(np.sqrt(np.mean(wet**2))), 1e-12)).astype(np.float32)


def write(path: Path, samples: np.ndarray, rate: int, fmt: str) -> Path:
    """Write ``samples`` ((n,) or (n, channels)) to ``path`` in ``fmt`` (a key of :data:`FORMATS`).

    Writes in blocks: libsndfile 1.2's Vorbis encoder crashes on one very large write.
    """
    major, subtype = FORMATS[fmt]
    channels = 1 if samples.ndim == 1 else samples.shape[1]
    path.parent.mkdir(parents=True, exist_ok=True)
    with soundfile.SoundFile(str(path), "w", rate, channels, format=major, subtype=subtype) as f:
        for i in range(0, len(samples), 65536):
            f.write(samples[i : i + 65536])
    return path


def tag(path: Path, title: str, artist: str, album: str) -> None:
    """Write title, artist and album tags where mutagen can (FLAC, Ogg, Opus, MP3; not WAV)."""
    import mutagen
    from mutagen.easyid3 import EasyID3

    if path.suffix == ".wav":
        return
    if path.suffix == ".mp3":
        tags = EasyID3()
        tags.update(title=title, artist=artist, album=album)
        tags.save(str(path))
        return
    audio = mutagen.File(str(path), easy=True)
    audio.update(title=title, artist=artist, album=album)
    audio.save()


def make_track(root: Path, track: SynthTrack, seed: int, channels: int = 2) -> SynthTrack:
    """Render ``track`` and write it, tagged, under ``root``; return it."""
    rate = track.rate if track.format != "opus" or track.rate in OPUS_RATES else 48000
    mono = render(MOODS[track.mood], track.seconds, rate, seed)
    # A little stereo: the right channel is delayed by 0.3 ms, as a spaced microphone pair hears it.
    samples = np.stack([mono, np.roll(mono, int(0.0003 * rate))], axis=1) if channels == 2 else mono
    path = write(root / track.path, samples, rate, track.format)
    tag(path, title=Path(track.path).stem, artist=f"emotune synth ({track.mood})", album="emotune demo")
    return replace(track, rate=rate)


def _make(task: tuple[Path, SynthTrack, int, int]) -> SynthTrack:
    return make_track(*task)


def plan(tracks_per_mood: int, seconds: float, formats: tuple[str, ...], rates: tuple[int, ...],
         moods: tuple[str, ...]) -> list[SynthTrack]:
    """Return the tracks of a library: formats and rates taken in turn, ``mood/mood-NN.ext`` paths."""
    out = []
    for mood in moods:
        for i in range(tracks_per_mood):
            fmt, rate = formats[i % len(formats)], rates[i % len(rates)]
            out.append(SynthTrack(f"{mood}/{mood}-{i:02d}.{fmt}", mood, fmt, rate, seconds, i))
    return out


def make_library(root: str | Path, tracks_per_mood: int = 3, seconds: float = 20.0,
                 formats: tuple[str, ...] = ("flac", "ogg", "mp3", "wav"),
                 rates: tuple[int, ...] = (44100, 22050, 48000), moods: tuple[str, ...] = tuple(MOODS),
                 channels: int = 2, seed: int = 0, jobs: int = 1) -> list[SynthTrack]:
    """Write a library of ``tracks_per_mood`` tracks per mood under ``root``; return what it wrote.

    Track ``i`` of a mood is in ``formats[i % len(formats)]`` at ``rates[i % len(rates)]`` Hz
    (Opus always at 48 kHz). An existing file is left as it is, so a second call is instant, and
    one asking for more tracks per mood only adds the new ones.
    ``jobs`` > 1 renders and encodes in that many processes.
    """
    root = Path(root)
    unknown = sorted(set(formats) - set(FORMATS)) + sorted(set(moods) - set(MOODS))
    if unknown:
        raise ValueError(f"unknown format or mood {unknown}; formats: {list(FORMATS)}, moods: {list(MOODS)}")
    tracks = plan(tracks_per_mood, seconds, formats, rates, moods)
    # A track's seed depends only on its mood and number, so a bigger library extends a smaller one.
    todo = [(root, t, seed * 100003 + list(MOODS).index(t.mood) * 1009 + t.number, channels)
            for t in tracks if not (root / t.path).exists()]
    if jobs > 1 and len(todo) > 1:
        with multiprocessing.get_context("fork").Pool(jobs) as pool:
            pool.map(_make, todo, chunksize=1)
    else:
        for task in todo:
            _make(task)
    log.info("library %s: %d tracks (%d new)", root, len(tracks), len(todo))
    return tracks


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m training.synthmusic", description=__doc__.splitlines()[0])
    p.add_argument("root", type=Path, help="directory to write the library into")
    p.add_argument("--tracks-per-mood", type=int, default=3)
    p.add_argument("--seconds", type=float, default=20.0)
    p.add_argument("--formats", default="flac,ogg,mp3,wav", help=f"comma-separated, of {','.join(FORMATS)}")
    p.add_argument("--jobs", type=int, default=1)
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    make_library(args.root, args.tracks_per_mood, args.seconds, tuple(args.formats.split(",")), jobs=args.jobs)
    return 0


if __name__ == "__main__":
    sys.exit(main())
