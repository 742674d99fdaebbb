"""``python -m device classify``: the emotion in each of a few recordings, as a table or JSON lines."""

from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path

from .card import DEFAULT_CARD
from .errors import EmotuneError
from .features import MAX_STRETCH, STRETCH
from .recognizer import Prediction, Recognizer
from .voice import BALANCE

log = logging.getLogger(__name__)


def add_parser(sub) -> argparse.ArgumentParser:
    p = sub.add_parser("classify", help="classify the emotion in speech recordings",
                       description="Classify the emotion in each FILE (WAV, FLAC, OGG; any rate). The files "
                                   "are heard as one listener's, like a box that has heard them all, in any "
                                   "order; --each hears every file alone, like a box's first press.")
    p.add_argument("files", nargs="+", metavar="FILE", type=Path)
    p.add_argument("--model", type=Path, default=DEFAULT_CARD, help="model card .json (or its .tflite)")
    p.add_argument("--json", action="store_true", help="one JSON object per file per line")
    p.add_argument("--each", action="store_true",
                   help="hear every file on its own, not relative to the voice of all of them")
    p.add_argument("--balance", type=float, default=BALANCE, metavar="SHARE",
                   help=f"the share of the model's usual answer to these files taken off each answer, as a box "
                        f"does (default {BALANCE}; 0: the model's scores as they are; not with --each)")
    p.add_argument("--stretch", type=float, default=STRETCH, metavar="SHARE",
                   help=f"also hear each file with its spectrum stretched by 1 - SHARE and 1 + SHARE and answer "
                        f"the mean, as a box does (default {STRETCH}; 0: heard once)")
    return p


def results(recognizer: Recognizer, files: list[Path]):
    """Yield (file, Prediction or error message) for each file; a bad file never stops the others."""
    for path in files:
        try:
            yield path, recognizer.classify_file(path)
        except EmotuneError as exc:
            yield path, str(exc)


def json_line(path: Path, result: Prediction | str) -> str:
    if isinstance(result, str):
        return json.dumps({"file": str(path), "emotion": None, "error": result})
    return json.dumps({"file": str(path), **result.to_dict()})


def table_row(path: Path, result: Prediction | str, width: int) -> str:
    if isinstance(result, str):
        return f"{str(path):<{width}}  {'—':<10} {'':>6} {'':>8}  {result}"
    return (f"{str(path):<{width}}  {result.emotion:<10} {result.confidence:>6.0%} "
            f"{result.total_ms:>6.1f}ms  {result.speech_seconds:.1f}s speech")


def main(args) -> int:
    if not 0 <= args.balance <= 1:
        raise EmotuneError(f"--balance {args.balance}: give a share between 0 and 1")
    if not 0 <= args.stretch <= MAX_STRETCH:
        raise EmotuneError(f"--stretch {args.stretch}: give a share between 0 and {MAX_STRETCH}")
    recognizer = Recognizer(args.model, balance=0.0 if args.each else args.balance, stretch=args.stretch)
    if not args.each and (heard := recognizer.settle(args.files)):
        log.info("heard as one listener: the voice of %d of %d files", heard, len(args.files))
    width = max(len(str(f)) for f in args.files)
    if not args.json:
        print(f"{'file':<{width}}  {'emotion':<10} {'conf':>6} {'latency':>8}")
    failed = False
    for path, result in results(recognizer, args.files):
        failed |= isinstance(result, str)
        print(json_line(path, result) if args.json else table_row(path, result, width), flush=True)
    return 1 if failed else 0
