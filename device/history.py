"""``python -m device history [--days N]``: the mood journal, with a small per-day summary."""

from __future__ import annotations

import argparse
import json
import sqlite3
from pathlib import Path

from . import card as cards
from . import config
from .errors import ConfigError
from .journal import Journal, since_days, summary
from .learning import Learning, learning_file

MAX_DAYS = 36600
"""A hundred years: ``--days`` beyond it is refused (it would reach before the epoch)."""


def days_arg(text: str) -> int:
    """``--days``: a whole number from 1 to :data:`MAX_DAYS`."""
    try:
        days = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number of days: {text!r}") from None
    if not 1 <= days <= MAX_DAYS:
        raise argparse.ArgumentTypeError(f"must be from 1 to {MAX_DAYS}, not {days}")
    return days


def add_parser(sub) -> argparse.ArgumentParser:
    p = sub.add_parser("history", help="print the mood journal with a per-day summary",
                       description="Print every recognition of the last N days, then one line per day.")
    p.add_argument("--days", type=days_arg, default=7, metavar="N",
                   help=f"today and the N-1 days before (default 7, at most {MAX_DAYS})")
    p.add_argument("--config", type=Path, metavar="FILE", help="settings naming the journal ([journal] path)")
    p.add_argument("--journal", type=Path, metavar="FILE", help="the journal file itself (overrides --config)")
    p.add_argument("--json", action="store_true", help="one JSON object per recognition, then per day")
    return p


def learnt(settings: config.Settings, journal: Path) -> dict | None:
    """What the box learnt (corrections, playlists kept), from the learning file beside ``journal``; None if none."""
    path = learning_file(settings, journal)
    if path is None or not path.is_file():
        return None
    return Learning.of_card(settings, cards.load(settings.model.path), path).summary()


def main(args) -> int:
    settings = config.load(args.config) if args.config else config.Settings()
    path = args.journal or Path(settings.journal.path)
    if not path.exists():
        raise ConfigError(f"no journal at {path} (the daemon creates it at its first recognition)")
    if not path.is_file():
        raise ConfigError(f"the journal {path} is not a file")
    try:
        with Journal(path) as journal:
            entries = journal.entries(since=since_days(args.days))
    except sqlite3.DatabaseError as exc:
        raise ConfigError(f"cannot read the journal {path}: {exc} (is it an emotune journal?)") from None
    days = summary(entries)
    learning = learnt(settings, path)
    if args.json:
        for e in entries:
            print(json.dumps({"at": e.when.isoformat(timespec="seconds"), "emotion": e.emotion,
                              "confidence": round(e.confidence, 3), "playlist": e.playlist, "outcome": e.outcome,
                              "scores": e.scores}))
        for d in days:
            print(json.dumps(d))  # summary() puts "day" first
        if learning:
            print(json.dumps({"learnt": learning}))
        return 0
    print(f"{'time':<19}  {'emotion':<10} {'conf':>5}  {'playlist':<20} outcome")
    for e in reversed(entries):
        print(f"{e.when.strftime('%Y-%m-%d %H:%M:%S'):<19}  {e.emotion:<10} {e.confidence:>5.0%}  "
              f"{e.playlist or '(none)':<20} {e.outcome or ''}")
    print()
    print(f"{'day':<10}  {'count':>5}  {'mostly':<10} {'conf':>5}  skipped stopped  emotions")
    for d in days:
        counts = ", ".join(f"{k} {v}" for k, v in sorted(d["counts"].items(), key=lambda kv: -kv[1]))
        print(f"{d['day']:<10}  {d['count']:>5}  {d['top']:<10} {d['mean_confidence']:>5.0%}  "
              f"{d['skipped']:>7} {d['stopped']:>7}  {counts}")
    if not entries:
        print(f"(no recognitions in the last {args.days} days)")
    if learning:
        print()
        print(f"learnt: {learning['corrections']} correction(s)"
              + ("" if learning["calibrating"] else " (the calibration is not acting)"))
        for emotion, line in learning["lifts"].items():
            print(f"  {emotion:<10} {line}")
    return 0
