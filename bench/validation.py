"""The speech model's validation figures, from its report into the README's results table.

Nothing is measured here: ``python -m training ser-validate`` measured them (an hour of this
machine) into ``models/validation/emotune-ser.validation.json``, whose command every row carries.
This writes them as rows, so the README says what the checked-in report says (a test checks it).

    .venv/bin/python bench/validation.py        # prints the rows, updates README.md
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import results  # noqa: E402

REPORT = ROOT / "models" / "validation" / "emotune-ser.validation.json"
SETTLED, FIRST = "settled box", "first press"


def rows(report: dict) -> list[str]:
    """Return the results-table rows of a ``ser-validate`` report."""
    command, summary = report["command"], report["summary"]
    first = summary["loco_first_press_int8_ua"]
    out = [
        ("UA, int8, leave-one-corpus-out mean (each corpus over its own classes), settled box",
         f"{summary['loco_mean_ua']:.3f} (lowest {summary['loco_min_ua']:.3f})", "≥ 0.45, none < 0.35"),
        ("UA, int8, leave-one-corpus-out mean, first press (a box that has heard nobody)",
         f"{summary['loco_first_press_mean_ua']:.3f} ("
         + ", ".join(f"{name} {ua:.3f}" for name, ua in first.items()) + ")", ""),
    ]
    out += [(f"UA, int8, {name} left out (trained on the other corpora), {SETTLED}", f"{ua:.3f}", "≥ 0.35")
            for name, ua in summary["loco_int8_ua"].items()]
    speakers = report["folds"]["speakers"]
    actors = who(speakers, "ravdess")
    ravdess = speakers["corpora"].get("ravdess", {})
    noisy = next((k for k in ravdess if k.startswith("int8_white_")), None)
    pooled = "speakers_all_int8_clean_ua" in summary  # then the targets are on every actor's rows (below)
    if ravdess:
        out.append((f"UA, int8, new RAVDESS actors {actors}, clean, {SETTLED}", f"{ravdess['int8_clean']['ua']:.3f}",
                    "" if pooled else "≥ 0.68"))
        if noisy:
            snr = noisy.removeprefix("int8_white_").removesuffix("db")
            out.append((f"UA, int8, new RAVDESS actors {actors}, white noise {snr} dB SNR, {SETTLED}",
                        f"{ravdess[noisy]['ua']:.3f}", "" if pooled else "≥ 0.60"))
        if "int8_clean_first" in ravdess:
            out.append((f"UA, int8, new RAVDESS actors {actors}, clean, {FIRST}",
                        f"{ravdess['int8_clean_first']['ua']:.3f}", ""))
    out += [(f"UA, int8, held-out speakers of {name} in the speakers fold ({who(speakers, name)}), {SETTLED}",
             f"{m['int8_clean']['ua']:.3f}", "") for name, m in speakers["corpora"].items() if name != "ravdess"]
    out.append(("int8 accuracy drop from float, held-out speakers", f"{speakers['int8_drop_points']:+.2f} points",
                "≤ 1.5 points"))
    return [results.row(what, figure, target, command) for what, figure, target in out + every_speaker(report)]


def who(fold: dict, corpus: str) -> str:
    """Return the ids of the speakers of ``corpus`` the ``fold`` held out, e.g. ``01, 08, 11, 15``."""
    return ", ".join(s.partition(":")[2] for s in fold["heldout_speakers"] if s.startswith(f"{corpus}:"))


def every_speaker(report: dict) -> list[tuple[str, str, str]]:
    """Return (what, figure, target) of the held-out-speaker folds taken together, where the report
    has several (``--speaker-folds``): every speaker of every corpus scored by the fold that never
    heard them."""
    summary, folds = report["summary"], [f for name, f in report["folds"].items() if name.startswith("speakers")]
    if "speakers_all_int8_clean_ua" not in summary:
        return []
    actors = sum(s.startswith("ravdess:") for f in folds for s in f["heldout_speakers"])
    each = f"each held out once ({len(folds)} folds)"
    out = []
    for condition, what, target in (("int8_clean", f"clean, {SETTLED}", "≥ 0.68"),
                                    ("int8_white_10db", f"white noise 10 dB SNR, {SETTLED}", "≥ 0.60"),
                                    ("int8_clean_first", f"clean, {FIRST}", "")):
        if (found := summary.get(f"speakers_all_{condition}_ua")) is None:
            continue
        if "ravdess" in found:
            out.append((f"UA, int8, all {actors} RAVDESS actors, {each}, {what}", f"{found['ravdess']:.3f}", target))
        out.append((f"UA, int8, every speaker of every corpus, {each}, {what}: mean ({' / '.join(found)})",
                    f"{sum(found.values()) / len(found):.3f} ({' / '.join(f'{v:.3f}' for v in found.values())})",
                    ""))
    return out


def main() -> int:
    p = results.parser(__doc__)
    args = p.parse_args()
    found = rows(json.loads(REPORT.read_text(encoding="utf-8")))
    print("\n".join(found))
    if not args.no_readme:
        results.update(found)
    return 0


if __name__ == "__main__":
    sys.exit(main())
