"""``python -m training music-model``: train the music mood model on the 4Q dataset, with its card.

::

    python -m training music-model --data ../shared/data/music-4q --out models/emotune-music.json

analyses every excerpt as the playlists do (same features, same cache format, a progress bar),
cross-validates each regularisation of ``--c`` by artist (every fold count of ``--folds`` with
every seed of ``--seeds``), keeps the one with the best mean quadrant accuracy, fits it to all
songs (plus the synthetic anchors, below) and writes the model with its card to ``--out`` and
the cross-validated confusion matrix beside it (``emotune-music.confusion.png``).

*Synthetic anchors*: ``--synthetic N`` tracks per mood of :mod:`training.synthmusic` (other seeds
than the tests') join the training data, labelled with the quadrant they were made for. Bare
synthesised tones lie far outside real recordings in feature space (5 to 10 standard deviations
on contrast and MFCC spread), where a model of real songs alone guesses (it put 10 of 12 synthetic
test tracks in the wrong quadrant); the anchors teach it that corner without moving it among
real songs much (see the README). They are never scored: every figure is on real songs.
"""

from __future__ import annotations

import argparse
import logging
import shlex
from pathlib import Path

import numpy as np
from tqdm import tqdm

from . import music4q
from .music_cv import LABELS, cross_validate, fit, summary
from .music_model import DEFAULT_MODEL, feature_names, matrix
from .playlists import Settings, analyse_library
from .synthmusic import MOODS, make_library
from .track_features import FEATURES_VERSION, AnalysisSettings

log = logging.getLogger(__name__)

DEFAULT_CACHE = Path(__file__).resolve().parent.parent / "build" / "music-model" / "features-cache.json"
SYNTH_SEED = 7
"""Seed of the synthetic anchors (the tests' libraries use 0 and 1)."""
SYNTH_SECONDS = 30.0


def number_list(kind: type):
    """Return a parser of a comma-separated list of ``kind`` (``0.03,0.1``)."""

    def parse(text: str) -> tuple:
        try:
            values = tuple(kind(v) for v in text.split(","))
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected comma-separated {kind.__name__}s, not {text!r}") from None
        if not values or any(v <= 0 for v in values):
            raise argparse.ArgumentTypeError(f"expected positive values, not {text!r}")
        return values

    return parse


def add_parser(sub) -> argparse.ArgumentParser:
    p = sub.add_parser("music-model", help="train the music mood model (arousal/valence) on the 4Q dataset",
                       description=__doc__.splitlines()[0].split(": ", 1)[1])
    p.add_argument("--data", type=Path, required=True, help="the 4Q music emotion dataset (Q1..Q4, metadata.csv)")
    p.add_argument("--out", type=Path, default=DEFAULT_MODEL, help="the model and card to write (default %(default)s)")
    p.add_argument("--c", type=number_list(float), default=(0.03, 0.1, 0.3),
                   help="inverse L2 regularisations to compare (default 0.03,0.1,0.3)")
    p.add_argument("--folds", type=number_list(int), default=(5, 10), help="fold counts (default 5,10)")
    p.add_argument("--seeds", type=number_list(int), default=(1, 2, 3, 4, 5), help="seeds (default 1,2,3,4,5)")
    p.add_argument("--synthetic", type=int, default=24,
                   help="synthetic anchor tracks per mood added to the training data, 0 for none (default %(default)s)")
    p.add_argument("--jobs", type=int, default=2, help="processes analysing excerpts (default %(default)s)")
    p.add_argument("--cache", type=Path, default=DEFAULT_CACHE, help="feature cache (default %(default)s)")
    return p


def songs_and_inputs(args: argparse.Namespace, analysis: AnalysisSettings) -> tuple[list[music4q.Song], np.ndarray]:
    """Return the songs whose excerpt could be analysed and their model inputs (tracks, inputs)."""
    songs = music4q.load(args.data)
    if not songs:
        raise ValueError(f"{args.data} holds none of the excerpts metadata.csv lists")
    data = analyse_library(Settings(library=args.data, out=args.cache.parent, jobs=max(1, args.jobs),
                                    cache=args.cache, analysis=analysis))
    for path, reason in data.skipped:
        log.warning("left out %s: %s", path, reason)
    features = {t.path: f for t, f in zip(data.tracks, data.features, strict=True)}
    songs = [s for s in songs if s.path in features]
    return songs, matrix([features[s.path] for s in songs])


def synthetic_anchors(args: argparse.Namespace, analysis: AnalysisSettings) -> tuple[np.ndarray, list[str]]:
    """Return the inputs and quadrants of ``--synthetic`` tracks per mood, made (once) beside the cache."""
    if args.synthetic <= 0:
        return np.zeros((0, len(feature_names(analysis)))), []
    root = args.cache.parent / "synthetic"
    tracks = make_library(root, tracks_per_mood=args.synthetic, seconds=SYNTH_SECONDS, formats=("flac", "ogg", "mp3"),
                          rates=(44100, 22050, 48000, 16000), seed=SYNTH_SEED, jobs=max(1, args.jobs))
    data = analyse_library(Settings(library=root, out=root, jobs=max(1, args.jobs), analysis=analysis,
                                    cache=args.cache.with_name("synthetic-cache.json")))
    mood = {t.path: t.mood for t in tracks}
    return matrix(data.features), [music4q.quadrant(MOODS[mood[t.path]].arousal, MOODS[mood[t.path]].valence)
                                   for t in data.tracks]


def card(args: argparse.Namespace, songs: list[music4q.Song], validation: dict, chosen: float) -> dict:
    """Return the card: what the model is, what it learnt from, how it was checked, the command."""
    counts = {q: sum(s.quadrant == q for s in songs) for q in LABELS}
    return {
        "name": "emotune-music",
        "model": f"multinomial logistic regression (scikit-learn, L2, C={chosen:g}) on standardised features; "
                 "arousal and valence are the expected position of the quadrant probabilities",
        "feature_extractor": {"module": "training.track_features", "version": FEATURES_VERSION,
                              "implementation": "numpy/scipy (no librosa)"},
        "training": {
            "data": "4Q music emotion dataset, the half in shared/data/music-4q", "citation": music4q.CITATION,
            "licence": music4q.LICENCE, "clips": len(songs), "artists": len({s.artist for s in songs}),
            "per_quadrant": counts, "quadrants": dict(music4q.QUADRANT_MOODS),
            "synthetic_anchors": {"per_mood": args.synthetic, "seconds": SYNTH_SECONDS, "seed": SYNTH_SEED,
                                  "module": "training.synthmusic", "scored": False},
            "command": "python -m training " + shlex.join(getattr(args, "argv", ["music-model"])),
        },
        "validation": validation,
        "metrics": validation["by_c"][str(chosen)],
    }


def train(args: argparse.Namespace) -> dict:
    """Analyse, cross-validate, fit and write; return the model file's content."""
    analysis = AnalysisSettings()
    songs, x = songs_and_inputs(args, analysis)
    extra = synthetic_anchors(args, analysis)
    quadrants, artists = [s.quadrant for s in songs], [s.artist for s in songs]
    by_c = {}
    for c in tqdm(args.c, desc="cross-validating", unit="C"):
        by_c[str(c)] = summary(cross_validate(x, quadrants, artists, c, args.folds, args.seeds, extra))
    chosen = max(args.c, key=lambda c: (by_c[str(c)]["quadrant_accuracy"]["mean"], -c))
    validation = {"method": "stratified K-fold grouped by artist (no artist on both sides), repeated",
                  "folds": list(args.folds), "seeds": list(args.seeds), "c_grid": list(args.c),
                  "chosen_by": "best mean quadrant accuracy over all repeats", "chosen_c": chosen, "by_c": by_c}
    model = fit(np.vstack([x, extra[0]]), quadrants + extra[1], chosen, feature_names(analysis), analysis.key(),
                card(args, songs, validation, chosen))
    model.save(args.out)
    from . import plots

    metrics = by_c[str(chosen)]
    plots.confusion(metrics["confusion"]["matrix"], [f"{q} {music4q.QUADRANT_MOODS[q]}" for q in LABELS],
                    f"music mood model, artist-grouped CV (mean of {len(metrics['repeats'])} repeats): "
                    f"quadrant {metrics['quadrant_accuracy']['mean']:.2f}", confusion_path(args.out))
    return model.to_dict()


def confusion_path(model: Path) -> Path:
    """Return where the confusion picture of the model at ``model`` goes: beside it, ``NAME.confusion.png``."""
    return model.with_name(model.stem + ".confusion.png")


def report(doc: dict, out: Path) -> str:
    """Return the summary printed at the end."""
    m = doc["metrics"]

    def pm(stat: dict) -> str:
        return f"{stat['mean']:.3f} ± {stat['std']:.3f}"

    lines = [f"wrote {out} and {confusion_path(out).name} (C={doc['validation']['chosen_c']:g}, "
             f"{doc['training']['clips']} clips, {doc['training']['artists']} artists)",
             f"  artist-grouped CV over {len(m['repeats'])} repeats: quadrant {pm(m['quadrant_accuracy'])}, "
             f"valence sign {pm(m['valence_sign'])}, arousal sign {pm(m['arousal_sign'])}"]
    lines += [f"  recall {q} {music4q.QUADRANT_MOODS[q]:<5} {pm(m['recall'][q])}" for q in LABELS]
    return "\n".join(lines)


def main(args: argparse.Namespace) -> int:
    doc = train(args)
    print(report(doc, args.out))
    return 0
