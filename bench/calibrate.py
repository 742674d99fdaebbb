"""Benchmark of personal calibration (:mod:`device.calibration`) on people the model never heard.

A simulated person is every clip of one speaker of ``../shared/data`` scored by a validation model
that was trained without that speaker: the leave-one-corpus-out models for every speaker of the
corpus they left out (new voice, language and recording), the ``speakers`` fold's model for the
speakers it held out (new voice, known corpus). The person's clips are shuffled; the first N come
with the true emotion as corrections (the ``feel`` command), and UA (unweighted average recall over
the classes the person has) is measured on the rest, before and after calibration, as the device
decides: argmax over all eight labels. Each person is shuffled ``--repeats`` times. A model
whose front-end hears speech relative to the listener's voice hears each person as a box that has
settled on theirs (its voice is the mean of all their clips, as `classify` hears a set: no order),
and its answers are balanced against the model's usual answer for them as the box does
(``--balance``, a quarter: :meth:`device.voice.Voice.balance`); the corrections carry those answers.

    .venv/bin/python bench/calibrate.py        # prints the rows, draws bench/figures/calibrate.png, updates README.md

The scores are computed once per validation model (cached in ``bench/out/``).
"""

from __future__ import annotations

import hashlib
import json
import sys
import zlib
from collections import defaultdict
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import results  # noqa: E402
from device import card as cards  # noqa: E402
from device.calibration import Calibration, CalibrationSettings  # noqa: E402
from device.features import STRETCH  # noqa: E402
from device.recognizer import Recognizer  # noqa: E402
from device.voice import BALANCE, Voice  # noqa: E402

DATA = ROOT.parent / "shared" / "data"
VALIDATION = ROOT / "models" / "validation"
OUT = ROOT / "bench" / "out"
FIGURES = ROOT / "bench" / "figures"
COMMAND = ".venv/bin/python bench/calibrate.py"
CORRECTIONS = (10, 20, 40)
MIN_LEFT = 16
"""A person needs at least this many clips left after the corrections to be measured."""


def folds(validation: Path = VALIDATION) -> dict[str, tuple[Path, set[str]]]:
    """Return ``{fold: (card path, held-out speakers)}`` from the validation report in ``validation``
    (the checked-in one unless another run's folder is given)."""
    report = json.loads((validation / "emotune-ser.validation.json").read_text(encoding="utf-8"))
    return {name: (validation / f"{name}.json", set(fold["heldout_speakers"]))
            for name, fold in report["folds"].items()}


KEYS = ("speaker", "label", "scores", "path")


def fold_scores(name: str, card_path: Path, speakers: set[str]) -> dict:
    """Return (cached) ``{"speaker", "label", "scores", "path"}`` arrays of the fold's model on its held-out
    speakers, one row per clip with speech, as the box hears them (:data:`~device.features.STRETCH`)."""
    from training import corpora  # the corpus loaders: workstation code, like the rest of bench/

    model = cards.load(card_path)
    folder = OUT if card_path.parent == VALIDATION else OUT / card_path.parent.name  # another run: its own cache
    cache = folder / f"calibrate-{name}.npz"
    key = f"{model.fingerprint} {answers(model)} stretch {STRETCH}"
    if cache.exists():
        with np.load(cache) as z:
            if str(z["fingerprint"]) == key and "path" in z.files:
                return {k: z[k] for k in KEYS}
    rows = []
    for corpus in sorted({s.partition(":")[0] for s in speakers}):
        clips = [c for c in corpora.load(corpus, DATA / corpus) if c.speaker in speakers]
        for speaker in sorted({c.speaker for c in clips}):
            mine = [c for c in clips if c.speaker == speaker]
            recognizer = Recognizer(card_path, stretch=STRETCH)
            recognizer.settle(c.path for c in mine)  # the box has heard this person before, in no order
            rows += [(c.speaker, c.label, [p.scores[label] for label in model.labels], str(c.path))
                     for c, p in _classify_all(recognizer, mine)]
    data = {"speaker": np.array([r[0] for r in rows]), "label": np.array([r[1] for r in rows]),
            "scores": np.array([r[2] for r in rows], dtype=np.float32), "path": np.array([r[3] for r in rows])}
    folder.mkdir(parents=True, exist_ok=True)
    np.savez(cache, fingerprint=key, **data)
    return data


def answers(card) -> str:
    """Return what, beside the model file, makes a card's answers: a digest of its front-end and its
    statistics head (the same network with another head answers otherwise)."""
    head = card.statistics.to_dict() if card.statistics else None
    made = json.dumps([card.frontend.to_dict(), head], sort_keys=True)
    return hashlib.sha256(made.encode()).hexdigest()[:16]


def balanced(scores: np.ndarray, share: float) -> np.ndarray:
    """Return one listener's ``scores`` balanced by ``share`` against their mean, as a box that has
    answered them all does (:meth:`device.voice.Voice.balance`)."""
    voice = Voice(np.zeros(1))
    voice.answer_all(list(scores))
    return np.stack([voice.balance(s, share) for s in scores])


def by_listener(speakers: np.ndarray, scores: np.ndarray, share: float = BALANCE) -> np.ndarray:
    """Return ``scores`` with each speaker's balanced by ``share`` against that speaker's own (:func:`balanced`):
    one box per person, as the box decides."""
    out = np.empty_like(scores)
    for who in np.unique(speakers):
        rows = speakers == who
        out[rows] = balanced(scores[rows], share)
    return out


def _classify_all(recognizer: Recognizer, clips: list) -> list[tuple]:
    """Return ``(clip, prediction)`` for each clip the recognizer hears speech in."""
    out = []
    for clip in clips:
        try:
            out.append((clip, recognizer.classify_file(clip.path)))
        except Exception as exc:  # noqa: BLE001 - a clip without speech: left out, as the device would
            print(f"  skipped {clip.path}: {exc}", file=sys.stderr)
    return out


def ua(truth: list[str], predicted: list[str]) -> float:
    """Unweighted average recall over the classes present in ``truth``."""
    classes = sorted(set(truth))
    return float(np.mean([np.mean([p == c for t, p in zip(truth, predicted, strict=True) if t == c])
                          for c in classes]))


def person(labels: tuple[str, ...], truth: np.ndarray, scores: np.ndarray, n: int, rng: np.random.Generator,
           settings: CalibrationSettings) -> tuple[float, float] | None:
    """Return (UA before, UA after) for one shuffle of one person with ``n`` corrections, or None if too few clips."""
    if len(truth) < n + MIN_LEFT:
        return None
    order = rng.permutation(len(truth))
    learn, test = order[:n], order[n:]
    cal = Calibration(labels, settings)
    for i in learn:
        cal.learn(dict(zip(labels, scores[i], strict=True)), str(truth[i]))
    before = [labels[int(np.argmax(scores[i]))] for i in test]
    after = []
    for i in test:
        calibrated = cal.apply(dict(zip(labels, scores[i], strict=True)))
        after.append(max(calibrated, key=calibrated.get))
    return ua(list(truth[test]), before), ua(list(truth[test]), after)


def measure(settings: CalibrationSettings, repeats: int, seed: int,
            balance: float = BALANCE) -> dict[str, dict[int, list[tuple]]]:
    """Return ``{group: {N: [(speaker, before, after), ...]}}`` over every fold's held-out people."""
    labels = cards.load().labels
    out: dict[str, dict[int, list[tuple]]] = defaultdict(lambda: defaultdict(list))
    for name, (card_path, speakers) in folds().items():
        data = fold_scores(name, card_path, speakers)
        group = "new corpus (leave-one-corpus-out)" if name.startswith("loco-") else "new speaker, known corpus"
        for speaker in sorted(set(data["speaker"])):
            mask = data["speaker"] == speaker
            scores = balanced(data["scores"][mask], balance)
            for n in CORRECTIONS:
                pairs = [person(labels, data["label"][mask], scores, n,
                                np.random.default_rng([seed, r, n, zlib.crc32(str(speaker).encode())]), settings)
                         for r in range(repeats)]
                pairs = [p for p in pairs if p]
                if pairs:
                    out[group][n].append((str(speaker), float(np.mean([p[0] for p in pairs])),
                                          float(np.mean([p[1] for p in pairs]))))
    return out


def summarise(found: dict) -> list[str]:
    """Return the printed lines and README rows' figures: mean gain, worst person, per group and N."""
    lines = []
    for group, by_n in found.items():
        for n, people in sorted(by_n.items()):
            gains = np.array([a - b for _, b, a in people]) * 100
            worst = min(people, key=lambda p: p[2] - p[1])
            lines.append(f"{group}, N={n}: {len(people)} people, UA {np.mean([b for _, b, _ in people]):.3f} -> "
                         f"{np.mean([a for _, _, a in people]):.3f} ({gains.mean():+.1f} points; worst "
                         f"{worst[0]} {100 * (worst[2] - worst[1]):+.1f}; {int((gains >= -1).sum())} of "
                         f"{len(people)} no worse than -1)")
    return lines


def plot(found: dict, path: Path) -> None:
    with results.panels(path, len(found)) as axes:
        for ax, (group, by_n) in zip(axes, found.items(), strict=True):
            for n, people in sorted(by_n.items()):
                ax.scatter([b for _, b, _ in people], [a for _, _, a in people], label=f"N = {n}", s=18)
            ax.plot([0, 1], [0, 1], color="grey", lw=0.8)
            ax.set(xlabel="UA before (shipped model)", ylabel="UA after calibration", title=group, xlim=(0, 1),
                   ylim=(0, 1))
            ax.legend()


def main() -> int:
    p = results.parser(__doc__)
    p.add_argument("--repeats", type=int, default=20,
                   help="shuffles per person (5 left each person's figure about 2 points noisy)")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--prior", type=float, default=CalibrationSettings.prior)
    p.add_argument("--max-bias", type=float, default=CalibrationSettings.max_bias)
    p.add_argument("--weight-prior", type=float, default=CalibrationSettings.weight_prior)
    p.add_argument("--max-weight", type=float, default=CalibrationSettings.max_weight,
                   help="bound of each weight (0: biases only)")
    p.add_argument("--margin", type=int, default=CalibrationSettings.margin)
    p.add_argument("--balance", type=float, default=BALANCE,
                   help="share of answer balancing before the corrections (0: the model's own scores)")
    args = p.parse_args()
    if not DATA.is_dir():
        raise SystemExit(f"bench: no corpora at {DATA}")
    settings = CalibrationSettings(prior=args.prior, max_bias=args.max_bias, weight_prior=args.weight_prior,
                                   max_weight=args.max_weight, margin=args.margin)
    found = measure(settings, args.repeats, args.seed, args.balance)
    for line in summarise(found):
        print(line)
    FIGURES.mkdir(exist_ok=True)
    plot(found, FIGURES / "calibrate.png")
    shipped = settings == CalibrationSettings() and args.balance == BALANCE
    if not args.no_readme and shipped:
        rows = []
        for group, by_n in found.items():
            for n, people in sorted(by_n.items()):
                gain = 100 * np.mean([a - b for _, b, a in people])
                worst = 100 * min(a - b for _, b, a in people)
                fine = sum(100 * (a - b) >= -1 for _, b, a in people)
                rows.append(results.row(f"calibration, {group}, N = {n} corrections ({len(people)} people)",
                                        f"UA {np.mean([b for _, b, _ in people]):.3f} -> "
                                        f"{np.mean([a for _, _, a in people]):.3f} ({gain:+.1f} points, worst "
                                        f"person {worst:+.1f}, {fine} of {len(people)} no worse than -1)",
                                        "+5 points at N = 20, none worse than -1" if n == 20 else "", COMMAND))
        results.update(rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
