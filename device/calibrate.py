"""``python -m device calibrate [--reset]``: what the box has learnt of its listener, or forget it.

Prints the corrections per emotion (and whether the calibration acts yet), the label biases and
the strongest weights it learnt, and, per emotion, how often each playlist was kept. ``--reset``
forgets it all: back to the shipped model and the map's order (as the ``forget`` command does).
Stop the daemon first (``systemctl stop emotune``): a running daemon keeps what it learnt in memory
and writes it again.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from . import card as cards
from . import config
from .errors import ConfigError
from .learning import Learning, learning_file


def add_parser(sub) -> argparse.ArgumentParser:
    p = sub.add_parser("calibrate", help="show or reset what the box learnt of its listener",
                       description=__doc__.splitlines()[0].split(": ", 1)[1])
    p.add_argument("--config", type=Path, metavar="FILE", help="settings naming the learning file")
    p.add_argument("--learning", type=Path, metavar="FILE", help="the learning file itself (overrides --config)")
    p.add_argument("--reset", action="store_true", help="forget every correction and playlist outcome")
    return p


def main(args) -> int:
    settings = config.load(args.config) if args.config else config.Settings()
    path = args.learning or learning_file(settings)
    if path is None:
        raise ConfigError("no learning file: [journal] path is empty and [learning] path is not set")
    if not path.exists():
        print(f"nothing learnt yet ({path} does not exist): the shipped model and the map's order")
        return 0
    learning = Learning.of_card(settings, cards.load(settings.model.path), path)
    if args.reset:
        learning.forget()
        print(f"forgot everything in {path}: the shipped model and the map's order")
        return 0
    cal = learning.calibration
    print(f"{len(cal.corrections)} correction(s) in {path}; the calibration is {cal.status()}")
    for emotion, n in sorted(cal.counts().items(), key=lambda kv: -kv[1]):
        print(f"  felt {emotion:<10} {n:>4}")
    if cal.ready:
        print("label biases (added to the model's log-probabilities" + ("" if cal.active else " once it acts") + "):")
        print("  " + "  ".join(f"{label} {b:+.2f}" for label, b in zip(cal.labels, cal.bias, strict=True)))
        leans = cal.leans()
        if leans:
            print("where it hears one label as another (the strongest weights):")
            for heard, meant, w in leans:
                print(f"  the model's {heard} {'counts toward' if w > 0 else 'counts against'} {meant} ({w:+.2f})")
    if learning.voice is not None:
        print(f"the listener's voice: {learning.voice.heard} utterance(s) heard"
              + (f" (it follows the last {learning.voice.horizon})" if learning.voice.heard else ""))
        if learning.voice.answers is not None:
            usual = sorted(zip(cal.labels, learning.voice.answers, strict=True), key=lambda kv: -kv[1])
            print("the model's usual answer for it (balanced against, by the share [learning] balance): "
                  + ", ".join(f"{label} {p:.0%}" for label, p in usual))
    lifts = learning.ranker.summary()
    print("playlists kept per emotion:" if lifts else "no playlist outcomes yet")
    for emotion, line in lifts.items():
        print(f"  {emotion:<10} {line}")
    return 0
