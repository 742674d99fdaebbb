"""Benchmark of ``python -m device classify``: latency per utterance, peak memory, model size.

It also copies the accuracy figures from the shipped model's card into the README, with the
training command that produced them.

One real ``python -m device classify --json`` process classifies every recording of the RAVDESS
speakers its validation held out (the ``speakers`` fold on its card); its own per-file
``latency_ms`` (end-pointing + log-mel + windows, then inference, on one thread as on the Pi) give
the median, and the kernel's account of the child gives its peak resident memory.

    .venv/bin/python bench/classify.py            # prints the figures and writes them to README.md

A second run classifies one hour-long recording (a sample sentence every 10 s, made once into
``bench/out/``) to show that memory does not grow with the file (``Recognizer.classify_file``
reads only its first 30 s).
"""

from __future__ import annotations

import json
import resource
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import results, validation  # noqa: E402
from device import card  # noqa: E402
from training import corpora  # noqa: E402

RAVDESS = ROOT.parent / "shared" / "data" / "ravdess"
COMMAND = ".venv/bin/python bench/classify.py"


def heldout_files(model: card.ModelCard, root: Path) -> list[Path]:
    """Return the RAVDESS recordings of the speakers the validation's ``speakers`` fold held out."""
    fold = model.metrics.get("validation", {}).get("folds", {}).get("speakers", {})
    held = set(fold.get("heldout_speakers", model.training.get("heldout_speakers", [])))
    return [clip.path for clip in corpora.load("ravdess", root) if clip.speaker in held] if root.is_dir() else []


def classify(files: list[Path]) -> tuple[list[dict], float]:
    """Return the JSON lines of one ``python -m device classify`` run over ``files`` and its peak RSS in MB."""
    done = subprocess.run([sys.executable, "-m", "device", "classify", "--json", *map(str, files)], cwd=ROOT,
                          capture_output=True, text=True, timeout=600)
    lines = [json.loads(line) for line in done.stdout.splitlines()]
    return lines, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


def long_recording(minutes: int = 60, rate: int = 16000) -> Path:
    """Write (once) ``bench/out/long-<minutes>min.flac``: a sample sentence every 10 s; return its path."""
    import numpy as np
    import soundfile

    path = ROOT / "bench" / "out" / f"long-{minutes}min.flac"
    if path.exists():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    speech, _ = soundfile.read(ROOT / "samples" / "03-01-05-02-02-01-17.flac", dtype="float32")
    block = np.zeros(10 * rate, np.float32)
    block[: len(speech)] = speech
    tmp = path.with_suffix(".part.flac")
    with soundfile.SoundFile(tmp, "w", rate, 1, format="FLAC") as out:
        for _ in range(minutes * 6):
            out.write(block)
    tmp.rename(path)
    return path


def peak_rss_mb(command: list[str]) -> float:
    """Run ``command`` in a fresh watcher process; return the command's peak RSS in MB."""
    watcher = ("import resource, subprocess, sys; subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, "
               "check=True); print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)")
    done = subprocess.run([sys.executable, "-c", watcher, *command], cwd=ROOT, capture_output=True, text=True,
                          timeout=600, check=True)
    return int(done.stdout) / 1024


def main() -> int:
    p = results.parser(__doc__)
    p.add_argument("--data", type=Path, default=RAVDESS, help="RAVDESS 16 kHz FLAC tree")
    args = p.parse_args()
    model = card.load()
    files = heldout_files(model, args.data) or sorted((ROOT / "samples").glob("*.flac"))
    lines, rss = classify(files)
    latency = [line["latency_ms"] for line in lines if line.get("emotion")]
    if not latency:
        raise SystemExit("bench: the classify run gave no results")
    totals = [t["total"] for t in latency]
    median, p95 = statistics.median(totals), statistics.quantiles(totals, n=20)[-1]
    features = statistics.median(t["features"] for t in latency)
    size_kb = model.model_path.stat().st_size / 1024
    long_rss = peak_rss_mb([sys.executable, "-m", "device", "classify", str(long_recording())])
    print(f"{len(totals)} utterances: features+inference median {median:.2f} ms (features {features:.2f} ms), "
          f"p95 {p95:.2f} ms; classify peak RSS {rss:.0f} MB; model {size_kb:.0f} KB; "
          f"a 60-minute recording: peak RSS {long_rss:.0f} MB")
    if not args.no_readme:
        results.update([
            results.row("classify latency, median (features + inference, 1 thread)",
                        f"{median:.1f} ms (p95 {p95:.1f} ms, {len(totals)} utterances)", "≤ 15 ms", COMMAND),
            results.row("classify peak memory (RSS)", f"{rss:.0f} MB", "< 200 MB", COMMAND),
            results.row("classify peak memory, one 60-minute recording (RSS)", f"{long_rss:.0f} MB",
                        "< 200 MB, not growing with the file", COMMAND),
            results.row("int8 model size", f"{size_kb:.0f} KB", "≤ 300 KB", COMMAND),
            *validation.rows(model.metrics["validation"]),  # the card's figures, as bench/validation.py
        ])
    return 0


if __name__ == "__main__":
    sys.exit(main())
