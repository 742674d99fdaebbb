"""How a new RAVDESS actor's UA grows with the actors the model learnt from: a learning curve.

The RAVDESS targets (≥ 0.68 clean, ≥ 0.60 in white noise at 10 dB) are about voices the model never
heard. This asks what more voices of the same corpus would buy. From RAVDESS alone, sets of 5, 10
and 15 of its 20 actors (as many men as women, give or take one; each draw's smaller sets inside its
larger ones; two draws) and all 20 are each validated with the card's recipe and every actor held
out once (``ser-validate --folds speakers --speaker-folds 5``): each actor is scored by a fold that
learnt from the other four fifths of the set, so a set of N actors says what 0.8 N training actors
give a new one. The UA is the report's pooled figure (``speakers_all_*``, int8): clean and in white
noise as a settled box hears, and clean at the first press.

With ``--others`` each set is learnt beside every speaker of the four other corpora, as the card's
recipe learns (about 35 minutes a set; the set of all 20 is then the card's own validation), to see
how the other corpora change the curve.

A line through UA against log2(training actors) says how much each doubling of the voices buys, and
where it would reach the targets if it kept going (an extrapolation, not a measurement).

Sets of other sizes hold other actors, and actors differ more than the steps of the curve might.
Because each draw's sets are nested, the same actors can also be followed from set to set: the
actors of a draw's set of 5 (and of 10, and of 15) are scored by every larger set's folds too, as the
box decides (:func:`bench.calibrate.fold_scores`: settled, stretched, balanced by a quarter), so
those rows compare models only.

    .venv/bin/python bench/curve.py     # about 50 minutes on two cores; a set already validated is kept

Each set is a folder of links to the corpus's files under ``build/curve/``; nothing is copied.
"""

from __future__ import annotations

import json
import random
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import results  # noqa: E402
from bench.calibrate import DATA, FIGURES, VALIDATION, by_listener, fold_scores, folds, ua  # noqa: E402
from device import card as cards  # noqa: E402
from training.music_train import number_list  # noqa: E402

COMMAND = ".venv/bin/python bench/curve.py"
OUT = ROOT / "build" / "curve"
SIZES = (5, 10, 15, 20)
DRAWS = (1, 2)
FOLDS = 5
RECIPE = ("--members", "2", "--warp", "0.1", "--normalisation", "listener", "--statistics", "0.25")
"""The card's recipe (its command without the other corpora)."""
OTHERS = ("nemo", "savee", "tess", "turev-db")
CONDITIONS = {"clean, settled box": ("int8_clean", 0.68), "white noise 10 dB, settled box": ("int8_white_10db", 0.60),
              "clean, first press": ("int8_clean_first", None)}
"""Each condition's pooled figure in the report, and its target."""


def actors(size: int, draw: int) -> list[int]:
    """Return ``size`` of RAVDESS's actors (odd numbers are men, even women): the first of a seeded
    order of each, men first on draw 1 and women on draw 2, so a draw's sets are nested.

    >>> actors(5, 1), actors(20, 2) == list(range(1, 21))
    ([10, 13, 17, 18, 19], True)
    """
    rng = random.Random(draw)
    men, women = [a for a in range(1, 21) if a % 2], [a for a in range(1, 21) if not a % 2]
    rng.shuffle(men)
    rng.shuffle(women)
    first, second = (men, women) if draw == 1 else (women, men)
    return sorted(first[: (size + 1) // 2] + second[: size // 2])


def linked(size: int, draw: int, corpus: Path = DATA / "ravdess") -> Path:
    """Return a folder in RAVDESS's layout holding links to the files of :func:`actors` only."""
    out = OUT / f"ravdess-{size}-{draw}"
    for actor in actors(size, draw):
        folder = out / f"Actor_{actor:02d}"
        folder.mkdir(parents=True, exist_ok=True)
        for clip in sorted((corpus / folder.name).iterdir()):
            if not (folder / clip.name).exists():
                (folder / clip.name).symlink_to(clip.resolve())
    return out


@dataclass(frozen=True)
class Curve:
    """One learning curve: the sets of RAVDESS actors it validates, and whether the four other
    corpora, in full, are learnt beside them (the card's recipe) or RAVDESS is learnt alone."""

    others: bool = False
    sizes: tuple[int, ...] = SIZES
    draws: tuple[int, ...] = DRAWS

    @property
    def sets(self) -> list[tuple[int, int]]:
        """Return (actors, draw) of every set (all 20 actors are one set, whatever the draw)."""
        return [(size, draw) for size in self.sizes for draw in (self.draws if size < 20 else self.draws[:1])]

    @property
    def learnt(self) -> str:
        return "five corpora (the card's recipe)" if self.others else "RAVDESS alone"

    def folder(self, size: int, draw: int) -> Path:
        """Return where a set's validation is: all 20 actors beside the other corpora is the card's own."""
        if self.others and size == 20:
            return VALIDATION
        return OUT / f"out{'5' if self.others else ''}-{size}-{draw}"

    def validated(self, size: int, draw: int) -> dict:
        """Return the ``ser-validate`` report of one set, running it where it is missing or unfinished."""
        report = self.folder(size, draw) / "emotune-ser.validation.json"
        if self.folder(size, draw) != VALIDATION and not finished(report):
            corpora = [f"ravdess={linked(size, draw)}"] + [f"{c}={DATA / c}" for c in OTHERS if self.others]
            subprocess.run([sys.executable, "-m", "training", "ser-validate",
                            *(a for c in corpora for a in ("--corpus", c)), *RECIPE, "--folds", "speakers",
                            "--speaker-folds", str(FOLDS), "--out", str(report), "--resume"], cwd=ROOT, check=True)
        return json.loads(report.read_text())

    def decided(self, size: int, draw: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Return (speaker, label, answer) of every RAVDESS clip of a set, each answered as the box
        decides by the held-out-speaker fold that held its actor out."""
        speaker, label, answer = [], [], []
        for name, (card, held) in folds(self.folder(size, draw)).items():
            actors_held = sorted(who for who in held if who.startswith("ravdess:"))
            if not name.startswith("speakers") or not actors_held:
                continue
            heard, labels = fold_scores(name, card, held), cards.load(card).labels  # cached for all it held out
            mine = np.isin(heard["speaker"], actors_held)
            speaker.append(heard["speaker"][mine])
            label.append(heard["label"][mine])
            answer.append(np.array(labels)[by_listener(heard["speaker"], heard["scores"]).argmax(axis=1)][mine])
        return np.concatenate(speaker), np.concatenate(label), np.concatenate(answer)

    def followed(self) -> dict[int, dict[int, list[float]]]:
        """Return ``{actors in the test set: {training actors: [UA of each draw]}}``: each draw's set
        of that many actors, scored by the folds of its own set and of every larger one."""
        answered = {(size, draw): self.decided(size, draw) for size, draw in self.sets}
        out: dict[int, dict[int, list[float]]] = {}
        for test in self.sizes[:-1]:
            for draw in self.draws:
                held = [f"ravdess:{a:02d}" for a in actors(test, draw)]
                for size in (s for s in self.sizes if s >= test):
                    speaker, label, answer = answered[size, draw if size < 20 else self.draws[0]]
                    mine = np.isin(speaker, held)
                    scores = out.setdefault(test, {}).setdefault(training(size), [])
                    scores.append(ua(list(label[mine]), list(answer[mine])))
        return out

    def rows(self) -> tuple[list[str], dict]:
        """Return the README rows of this curve, and each condition's (points, intercept, slope, target)."""
        found = {(size, draw): self.validated(size, draw) for size, draw in self.sets}
        rows, lines = [], {}
        for name, (condition, target) in CONDITIONS.items():
            points = [(training(size), pooled(r, condition)) for (size, _), r in found.items()]
            intercept, slope = doubling(points)
            lines[name] = (points, intercept, slope, target)
            trains = sorted({n for n, _ in points})
            each = [[u for n, u in points if n == train] for train in trains]
            reach = (f", {target:.2f} at about {2 ** ((target - intercept) / slope):.0f} actors"
                     if target and slope > 0 else "")
            rows.append(results.row(
                f"UA, int8, new RAVDESS actors (every actor of each set held out once), {name}, trained on "
                f"{self.learnt} with {' / '.join(map(str, trains))} RAVDESS actors",
                " / ".join(map(spread, each)) + f"; {100 * slope:+.1f} points a doubling{reach}", "",
                self.command))
        for test, scored in self.followed().items():
            draws = "mean of two draws" if len(self.draws) > 1 else "one draw"
            rows.append(results.row(f"UA, int8, the same {test} RAVDESS actors, as the box decides, trained on "
                                    f"{self.learnt} with {' / '.join(map(str, scored))} RAVDESS actors ({draws})",
                                    " / ".join(spread(u) for u in scored.values()), "", self.command))
        return rows, lines

    @property
    def command(self) -> str:
        """Return the command that measures this curve."""
        options = ["--others"] if self.others else []
        if self.sizes != SIZES:
            options += ["--sizes", ",".join(map(str, self.sizes))]
        if self.draws != DRAWS:
            options += ["--draws", ",".join(map(str, self.draws))]
        return " ".join([COMMAND, *options])


def finished(report: Path) -> bool:
    """Whether ``report`` holds every held-out-speaker fold of this bench's recipe (then it is kept as it is)."""
    if not report.is_file():
        return False
    doc = json.loads(report.read_text())
    names = {"speakers", *(f"speakers-{k}" for k in range(2, FOLDS + 1))}
    return " ".join(RECIPE) in doc["command"] and names <= set(doc["folds"])


def spread(found: list[float]) -> str:
    """Return the mean of one figure's draws, and each draw's where there are several.

    >>> spread([0.5]), spread([0.5, 0.6])
    ('0.500', '0.550 (0.500, 0.600)')
    """
    each = f" ({', '.join(f'{u:.3f}' for u in found)})" if len(found) > 1 else ""
    return f"{np.mean(found):.3f}{each}"


def training(size: int) -> int:
    """Return how many actors each fold of a set of ``size`` learns from."""
    return round(size * (FOLDS - 1) / FOLDS)


def pooled(report: dict, condition: str) -> float:
    """Return the RAVDESS actors' UA in ``condition``, each scored by the fold that held them out."""
    return report["summary"][f"speakers_all_{condition}_ua"]["ravdess"]


def doubling(points: list[tuple[int, float]]) -> tuple[float, float]:
    """Return (intercept, slope) of a least-squares line through (training actors, UA) in log2 of actors.

    >>> doubling([(4, 0.4), (8, 0.5), (16, 0.6)])
    (0.2, 0.1)
    """
    x, y = np.log2([n for n, _ in points]), np.array([u for _, u in points])
    slope, intercept = np.polyfit(x, y, 1)
    return round(float(intercept), 6), round(float(slope), 6)


def main() -> int:
    p = results.parser(__doc__)
    p.add_argument("--others", action="store_true",
                   help="learn the four other corpora in full beside each set (the card's recipe; about 35 minutes "
                        "a set; all 20 actors is the card's own validation)")
    p.add_argument("--sizes", type=number_list(int), default=SIZES, help="sets of this many actors, comma-separated, "
                   "ending with 20")
    p.add_argument("--draws", type=number_list(int), default=DRAWS, help="which draws of each size")
    args = p.parse_args()
    if not DATA.is_dir():
        raise SystemExit(f"bench: no corpora at {DATA}")
    if args.sizes[-1] != 20 or list(args.sizes) != sorted(args.sizes):
        raise SystemExit(f"--sizes {','.join(map(str, args.sizes))}: give sizes in order, ending with 20")
    curve = Curve(args.others, args.sizes, args.draws)
    rows, lines = curve.rows()
    print("\n".join(rows))
    plot(lines, FIGURES / f"curve{'-five' if args.others else ''}.png", curve.learnt)
    if not args.no_readme:
        results.update(rows)
    return 0


def plot(lines: dict, path: Path, learnt: str) -> None:
    """Draw each condition's UA against training actors, its line and its target."""
    with results.panels(path, 1) as (ax,):
        for (name, (points, intercept, slope, target)), colour in zip(lines.items(), ("C0", "C1", "C2"), strict=True):
            ax.scatter([n for n, _ in points], [u for _, u in points], color=colour, label=name)
            span = np.array([4, 64])
            ax.plot(span, intercept + slope * np.log2(span), color=colour, linestyle=":")
            if target:
                ax.axhline(target, color=colour, linewidth=0.8, linestyle="--")
        ax.set_xscale("log", base=2)
        ax.set_xlabel("RAVDESS actors the model learnt from")
        ax.set_ylabel("UA on new actors (int8)")
        ax.set_title(f"learnt from {learnt}\n(dotted: a line through the points; dashed: the targets)", fontsize=10)
        ax.legend()


if __name__ == "__main__":
    raise SystemExit(main())
