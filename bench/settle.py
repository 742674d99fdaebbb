"""Benchmark of how a box settles on a new voice (the ``listener`` front-end, :mod:`device.voice`).

A simulated person is every clip of one speaker the validation models never heard (as in
``bench/calibrate.py``: the leave-one-corpus-out models for the corpus they left out, the
``speakers`` fold's model for the speakers it held out). Their clips, shuffled, are the presses
of one box, in order: each is heard relative to the box's :class:`~device.voice.Voice` as it is at
that press and then taken into it, exactly as the daemon does. UA (over the classes present,
argmax over all eight labels as the device decides) is pooled over people for each stage of the
box's life: the first press, presses 2-5, 6-10, 11-20, 21-50 and 51-60. It is measured for the
shipped share of answer balancing (:data:`~device.voice.BALANCE`: a quarter of the model's usual
answer for this listener taken off each answer) and for others, 0 (none) included. (How fast the
listener's mean takes over, ``prior_weight``, was measured the same way: 2, 5 and 10 differ by less
than 1.5 points at every stage; 5 is shipped.)

    .venv/bin/python bench/settle.py          # prints the rows, draws bench/figures/settle.png, updates README.md
"""

from __future__ import annotations

import sys
import zlib
from collections import defaultdict
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import results  # noqa: E402
from bench.calibrate import DATA, FIGURES, folds, ua  # noqa: E402
from device import audio  # noqa: E402
from device import card as cards  # noqa: E402
from device.endpoint import Segment  # noqa: E402
from device.errors import NoSpeech  # noqa: E402
from device.features import STRETCH, speech_features, utterance  # noqa: E402
from device.model import EmotionModel  # noqa: E402
from device.voice import BALANCE  # noqa: E402

COMMAND = ".venv/bin/python bench/settle.py"
STAGES = ((1, 1), (2, 5), (6, 10), (11, 20), (21, 50), (51, 60))
"""Press numbers (first, last) of each stage of a box's life. Every person has about 60 clips or
more (a RAVDESS actor 60), so every stage weighs the same people the same; later presses are not scored."""
SHARES = (0.0, BALANCE, 0.5)


def stage_name(first: int, last: int) -> str:
    return str(first) if first == last else f"{first}-{last}"


def people(card_path: Path, speakers: set[str]) -> dict[str, tuple[list[str], list[tuple[np.ndarray, Segment]]]]:
    """Return ``{speaker: (labels, (raw log-mel features, where the speech was))}`` of every clip
    with speech (the front-end before any reference comes off: it does not depend on the voice)."""
    from training import corpora  # the corpus loaders: workstation code, like the rest of bench/

    fe = cards.load(card_path).frontend
    out: dict[str, tuple[list[str], list[tuple[np.ndarray, Segment]]]] = {}
    for corpus in sorted({s.partition(":")[0] for s in speakers}):
        for clip in (c for c in corpora.load(corpus, DATA / corpus) if c.speaker in speakers):
            try:
                found = speech_features(audio.load(clip.path, fe.sample_rate), fe)
            except NoSpeech:
                continue  # as the device would: nothing to classify, nothing heard
            labels, raw = out.setdefault(clip.speaker, ([], []))
            labels.append(clip.label)
            raw.append(found)
    return out


def presses(model: EmotionModel, raw: list[tuple[np.ndarray, Segment]], order: np.ndarray, share: float) -> list[int]:
    """Return the label index the box answers at each press, hearing ``raw[order]`` in turn, as
    :meth:`device.recognizer.Recognizer.classify` does for a listening box."""
    fe = model.card.frontend
    voice = fe.voice()
    answers = []
    for i in order:
        heard = utterance(*raw[i], fe, voice)
        scores = model.answer(heard, STRETCH)
        answers.append(int(np.argmax(voice.balance(scores, share))))
        voice.hear(heard.spectrum, heard.dynamics)
        voice.answer(scores)
    return answers


def measure(repeats: int, seed: int) -> dict[str, dict[float, dict[str, float]]]:
    """Return ``{group: {share: {stage: UA}}}`` pooled over every fold's held-out people."""
    pooled: dict = defaultdict(lambda: defaultdict(lambda: defaultdict(lambda: ([], []))))
    for name, (card_path, speakers) in folds().items():
        model = EmotionModel(cards.load(card_path))
        if not model.card.frontend.listener:
            raise SystemExit(f"bench: {card_path} does not hear speech relative to a listener: nothing to settle")
        group = "new corpus (leave-one-corpus-out)" if name.startswith("loco-") else "new speaker, known corpus"
        print(f"{name}: {len(speakers)} people", file=sys.stderr)
        for speaker, (labels, raw) in people(card_path, speakers).items():
            for r in range(repeats):
                order = np.random.default_rng([seed, r, zlib.crc32(speaker.encode())]).permutation(len(raw))
                for share in SHARES:
                    heard = order[: STAGES[-1][1]]
                    for press, (i, answer) in enumerate(zip(heard, presses(model, raw, heard, share),
                                                            strict=True), 1):
                        first, last = next(s for s in STAGES if s[0] <= press <= s[1])
                        truth, said = pooled[group][share][stage_name(first, last)]
                        truth.append(labels[i])
                        said.append(model.card.labels[answer])
    return {group: {a: {stage: ua(*pairs) for stage, pairs in stages.items()} for a, stages in by_a.items()}
            for group, by_a in pooled.items()}


def plot(found: dict, path: Path) -> None:
    with results.panels(path, len(found), height=4.2) as axes:
        for ax, (group, by_share) in zip(axes, found.items(), strict=True):
            for share, stages in by_share.items():
                ax.plot(list(stages), list(stages.values()), marker="o",
                        label=f"answers balanced by {share:g}" + (" (shipped)" if share == BALANCE else ""))
            ax.set(xlabel="press", ylabel="UA (argmax over eight labels)", title=group)
            ax.legend()


def main() -> int:
    p = results.parser(__doc__)
    p.add_argument("--repeats", type=int, default=20, help="shuffles per person (the first presses are few clips)")
    p.add_argument("--seed", type=int, default=1)
    args = p.parse_args()
    if not DATA.is_dir():
        raise SystemExit(f"bench: no corpora at {DATA}")
    found = measure(args.repeats, args.seed)
    rows = []
    for group, by_share in found.items():
        for share, stages in by_share.items():
            figure = " / ".join(f"{v:.3f}" for v in stages.values())
            print(f"{group}, answers balanced by {share:g}: UA at presses {' / '.join(stages)}: {figure}")
            if share in (0.0, BALANCE):
                what = f"voice settling, {group}: UA at presses {' / '.join(stages)}"
                rows.append(results.row(what + ("" if share else ", answers not balanced"), figure,
                                        "rises with the presses" if share else "(reference)", COMMAND))
    plot(found, FIGURES / "settle.png")
    if not args.no_readme:
        results.update(rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
