"""Benchmark of the playlist ranker (:mod:`device.ranker`): does the box learn which playlist lifts its listener?

A simulated listener with hidden preferences drives the real :class:`~device.machine.Machine` and
:class:`~device.ranker.Ranker` through 200 presses: each press the box hears one of the eight
emotions (as the model would say it), plays the playlist the ranker puts first among those the map
allows, and the listener either listens on (past ``outcome_seconds``: a Tick) or skips within
seconds (the ``next`` command). For each emotion the listener secretly likes one allowed playlist
(skipped with probability ``--skip-liked``) and skips the others with probability
``--skip-other``; which one is liked is drawn per listener, so it is the map's first only by chance.
Reported: the skip rate per block of 20 presses, averaged over ``--listeners`` listeners.

    .venv/bin/python bench/feedback.py        # prints the rows, draws bench/figures/feedback.png, updates README.md
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import results  # noqa: E402
from device.actions import Play  # noqa: E402
from device.events import Classified, Command, PlayerStatus, Pressed, Tick, UtteranceReady  # noqa: E402
from device.machine import Machine  # noqa: E402
from device.ranker import Ranker  # noqa: E402

FIGURES = ROOT / "bench" / "figures"
COMMAND = ".venv/bin/python bench/feedback.py"
MAP = {  # a lift map as `python -m training playlists` writes for a library of five playlists
    "neutral": ["moderate-neutral", "calm-bright", "energetic-bright"],
    "calm": ["calm-bright", "moderate-neutral"],
    "happy": ["energetic-bright", "moderate-neutral"],
    "sad": ["calm-dark", "calm-bright", "moderate-neutral"],
    "angry": ["energetic-dark", "moderate-neutral", "calm-bright"],
    "fearful": ["energetic-dark", "calm-dark", "calm-bright"],
    "disgust": ["energetic-dark", "moderate-neutral"],
    "surprised": ["energetic-bright", "moderate-neutral"],
}
PRESSES, BLOCK = 200, 20


def listener_run(seed: int, skip_liked: float, skip_other: float) -> np.ndarray:
    """Return one listener's 200 outcomes (True = skipped) with the real machine and ranker."""
    rng = np.random.default_rng(seed)
    liked = {emotion: str(rng.choice(allowed)) for emotion, allowed in MAP.items()}
    machine = Machine(MAP, ranker=Ranker(seed=seed), outcome_seconds=60.0)
    skipped, t = [], 0.0
    for _ in range(PRESSES):
        emotion = str(rng.choice(list(MAP)))
        machine.handle(Pressed(), t)
        machine.handle(UtteranceReady(np.zeros(1, np.float32)), t + 1)
        actions = machine.handle(Classified(emotion, 0.9, {emotion: 0.9}, 1.5, at=1e9 + t), t + 2)
        playing = next(a for a in actions if isinstance(a, Play)).playlists[0]
        machine.handle(PlayerStatus(True, playing), t + 2.5)
        skip = rng.random() < (skip_liked if playing == liked[emotion] else skip_other)
        machine.handle(Command("next") if skip else Tick(), t + (10 if skip else 70))
        skipped.append(skip)
        t += 600.0
    return np.array(skipped)


def plot(blocks: np.ndarray, path: Path) -> None:
    with results.panels(path, 1, height=4) as (ax,):
        x = np.arange(1, len(blocks) + 1) * BLOCK
        ax.plot(x, blocks, marker="o")
        ax.set(xlabel="presses", ylabel=f"skip rate (block of {BLOCK})", ylim=(0, 1),
               title="the ranker learning a listener's playlists")


def main() -> int:
    p = results.parser(__doc__)
    p.add_argument("--listeners", type=int, default=50)
    p.add_argument("--skip-liked", type=float, default=0.1)
    p.add_argument("--skip-other", type=float, default=0.7)
    args = p.parse_args()
    runs = np.stack([listener_run(seed, args.skip_liked, args.skip_other) for seed in range(args.listeners)])
    blocks = runs.reshape(len(runs), -1, BLOCK).mean(axis=(0, 2))
    first, last = runs[:, :40].mean(), runs[:, -40:].mean()
    print("skip rate per block of 20 presses:", " ".join(f"{b:.2f}" for b in blocks))
    print(f"first 40 presses {first:.2f}, last 40 {last:.2f} ({last / first:.0%} of the first)")
    FIGURES.mkdir(exist_ok=True)
    plot(blocks, FIGURES / "feedback.png")
    if not args.no_readme:
        results.update([
            results.row(f"ranker: skip rate, first 40 → last 40 of 200 presses ({args.listeners} simulated listeners, "
                        f"liked playlist skipped {args.skip_liked:.0%}, others {args.skip_other:.0%})",
                        f"{first:.2f} → {last:.2f} ({last / first:.0%} of the first); per 20: "
                        + " ".join(f"{b:.2f}" for b in blocks), "last 40 ≤ half the first 40", COMMAND),
        ])
    return 0


if __name__ == "__main__":
    sys.exit(main())
