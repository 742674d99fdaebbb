"""Benchmark of ``python -m device classify`` on a set of recordings, as someone evaluating it runs it.

A set is every held-out recording of one corpus (one studio, microphone and cast): for each
leave-one-corpus-out model the corpus it never heard, for each held-out-speaker fold's model the
speakers it held out, corpus by corpus (the folds' sets of a corpus are then scored together).
Each set is classified five ways, through the device's :class:`~device.recognizer.Recognizer`
exactly as ``classify`` does:

- **each file alone** (``classify --each``): a box's first press, the card's ``clean_first``;
- **as one set** (``classify``, the default): every file relative to the voice of the whole set
  (:meth:`Recognizer.settle`), in any order, its answers balanced against the set's usual answer
  (``--balance``, a quarter by default);
- **per speaker**: one ``classify`` per speaker's files, as a box that has settled on that person;
- both again with ``--balance 0``: the model's scores as they are (the card's ``clean`` is per
  speaker without balancing).

UA is over the classes each corpus has (argmax among them), as on the card.

    .venv/bin/python bench/sets.py          # prints the rows, updates README.md
"""

from __future__ import annotations

import sys
from collections import defaultdict
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import results  # noqa: E402
from bench.calibrate import DATA, folds  # noqa: E402
from device.errors import EmotuneError  # noqa: E402
from device.recognizer import Recognizer  # noqa: E402
from device.voice import BALANCE  # noqa: E402

COMMAND = ".venv/bin/python bench/sets.py"
WAYS = {"each file alone": ("alone", 0.0), "as one set": ("set", BALANCE), "per speaker": ("speaker", BALANCE),
        "as one set, not balanced": ("set", 0.0), "per speaker, not balanced": ("speaker", 0.0)}
"""Each way: how the files are grouped into listeners, and the share of answer balancing."""


def answers(card_path: Path, paths: list[Path], settle_on: list[list[Path]] | None,
            balance: float = 0.0) -> dict[Path, np.ndarray | None]:
    """Return every path's scores in the card's label order (None: no speech), hearing each group of
    ``settle_on`` as one listener's (None: every file alone), answers balanced by ``balance``."""
    recognizer = Recognizer(card_path, balance=balance)
    out: dict[Path, np.ndarray | None] = {}
    for group in settle_on or [paths]:
        if settle_on is not None:
            recognizer.settle(group)
        for path in group:
            try:
                out[path] = np.array(list(recognizer.classify_file(path).scores.values()))
            except EmotuneError:
                out[path] = None
    return out


def corpus_ua(truth: list[str], scores: list[np.ndarray | None]) -> float:
    """UA over the classes present in ``truth``, each answer the best of those classes as the card's
    figures decide it (:func:`training.evaluate.predict`; no speech counts as wrong), unrounded."""
    from training import evaluate
    from training.corpora import LABELS

    labels = np.array([LABELS.index(t) for t in truth])
    classes = sorted(set(labels))
    predicted = evaluate.predict(lambda s: s, scores, classes)
    return float(np.mean([np.mean(predicted[labels == c] == c) for c in classes]))


def measure() -> dict[str, dict[str, dict[str, float]]]:
    """Return ``{group: {corpus: {way: UA}}}``: "leave-one-corpus-out" (each corpus by the fold that
    left it out) and "held-out speakers" (each corpus's held-out speakers of every ``speakers`` fold
    together, each scored by the fold that held them out)."""
    from training import corpora  # the corpus loaders: workstation code, like the rest of bench/

    heard: dict = defaultdict(lambda: defaultdict(lambda: defaultdict(lambda: ([], []))))
    for name, (card_path, speakers) in folds().items():
        group = "leave-one-corpus-out" if name.startswith("loco-") else "held-out speakers"
        for corpus in sorted({s.partition(":")[0] for s in speakers}):
            clips = [c for c in corpora.load(corpus, DATA / corpus) if c.speaker in speakers]
            paths = [c.path for c in clips]
            by_speaker: dict[str, list[Path]] = defaultdict(list)
            for c in clips:
                by_speaker[c.speaker].append(c.path)
            truth = [c.label for c in clips]
            groups = {"alone": None, "set": [paths], "speaker": list(by_speaker.values())}
            row = {}
            for way, (grouping, share) in WAYS.items():
                scores = answers(card_path, paths, groups[grouping], share)
                row[way] = corpus_ua(truth, [scores[p] for p in paths])
                heard[group][corpus][way][0].extend(truth)
                heard[group][corpus][way][1].extend(scores[p] for p in paths)
            print(f"{name} on {corpus} ({len(clips)} clips): "
                  + ", ".join(f"{way} {v:.3f}" for way, v in row.items()), file=sys.stderr, flush=True)
    return {group: {corpus: {way: corpus_ua(*heard[group][corpus][way]) for way in WAYS}
                    for corpus in sorted(heard[group])} for group in heard}


def main() -> int:
    p = results.parser(__doc__)
    args = p.parse_args()
    if not DATA.is_dir():
        raise SystemExit(f"bench: no corpora at {DATA}")
    found = measure()
    rows = []
    for group, table in found.items():
        corpora_named = " / ".join(table)
        for way in WAYS:
            values = [row[way] for row in table.values()]
            figure = f"{np.mean(values):.3f} ({' / '.join(f'{v:.3f}' for v in values)})"
            print(f"classify, {group}, {way}: mean ({corpora_named}) {figure}")
            rows.append(results.row(f"classify a set of recordings, {group}, {way}: int8 UA mean "
                                    f"({corpora_named})", figure,
                                    "≥ each file alone" if way == "as one set" else "(reference)", COMMAND))
    if not args.no_readme:
        results.update(rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
