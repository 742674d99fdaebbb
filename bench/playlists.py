"""Benchmark of ``python -m training playlists``: tracks per minute, cold and with a warm cache.

The library is synthetic music (:mod:`training.synthmusic`, the four moods in turn) of 3-minute
stereo tracks in compressed formats (FLAC, Ogg Vorbis, MP3 in turn, at 44.1 and 48 kHz), generated
once into ``bench/out/library`` (a few minutes; later runs reuse it). Each figure is the wall time
of a real ``python -m training playlists`` process, start-up, clustering, plot and writing included:

- *cold*: no feature cache, every track decoded and analysed;
- *warm*: the same command again on the unchanged library, everything from the cache.

Then the same on a library of ``--big`` tracks (default 1,000) made of hard links to the first
(each link is its own path, so its own cache entry and its own analysis): cold, which checks the
"1,000 tracks in 10 minutes" target directly, and the unchanged re-run of 1,000 tracks.

    .venv/bin/python bench/playlists.py                # prints the rows and writes them to README.md
    .venv/bin/python bench/playlists.py --big 0        # without the 1,000-track library
    .venv/bin/python bench/playlists.py --model-only   # only the mood model's rows, from its card
"""

from __future__ import annotations

import os
import re
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import results  # noqa: E402
from training.synthmusic import make_library  # noqa: E402

OUT = ROOT / "bench" / "out"
COMMAND = ".venv/bin/python bench/playlists.py"
FORMATS = ("flac", "ogg", "mp3")
RATES = (44100, 48000)


def linked_library(source: Path, root: Path, count: int) -> Path:
    """Make ``root`` a library of ``count`` hard links (copies where links fail) to the tracks of ``source``."""
    tracks = sorted(p for p in source.rglob("*") if p.is_file())
    if root.exists() and sum(1 for p in root.rglob("*") if p.is_file()) == count:
        return root
    shutil.rmtree(root, ignore_errors=True)
    for i in range(count):
        original = tracks[i % len(tracks)]
        link = root / f"disc{i // 100:02d}" / f"{i:04d}-{original.name}"
        link.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.link(original, link)
        except OSError:
            shutil.copy2(original, link)
    return root


def children_cpu() -> float:
    """Return the CPU seconds (user + system) of the finished child processes so far."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def load() -> float:
    """Return the 1-minute load average: other work on the machine stretches wall times."""
    return os.getloadavg()[0]


def tree_rss(pid: int) -> int:
    """Return the resident memory (bytes) of process ``pid`` and all its descendants, from /proc."""
    parent: dict[int, int] = {}
    rss: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue  # the process ended meanwhile
        parent[int(stat.parent.name)] = int(fields[1])
        rss[int(stat.parent.name)] = int(fields[21]) * resource.getpagesize()
    tree, grown = {pid}, True
    while grown:
        more = {p for p, pp in parent.items() if pp in tree} - tree
        tree |= more
        grown = bool(more)
    return sum(rss.get(p, 0) for p in tree)


def run(library: Path, out: Path, jobs: int) -> tuple[float, float, int, int]:
    """Run the command once; return its wall and CPU time (s, all its processes), how many tracks
    it analysed (not from the cache) and the peak resident memory of all its processes together
    (bytes, sampled every 50 ms)."""
    command = [sys.executable, "-m", "training", "playlists", "--library", str(library), "--out", str(out),
               "--jobs", str(jobs)]
    start, cpu = time.perf_counter(), children_cpu()
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    peak = 0
    while process.poll() is None:
        peak = max(peak, tree_rss(process.pid))
        time.sleep(0.05)
    stdout, stderr = process.communicate()
    seconds, cpu = time.perf_counter() - start, children_cpu() - cpu
    if process.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{stderr[-3000:]}")
    fresh = re.search(r"\((\d+) analysed now", stdout)
    if fresh is None:
        raise SystemExit(f"no summary in the output:\n{stdout[-2000:]}")
    return seconds, cpu, int(fresh.group(1)), peak


def cold_and_warm(library: Path, out: Path, jobs: int, count: int) -> tuple[float, float, float, float, int]:
    """Return wall and CPU times (s) of a cold run and of an unchanged re-run of ``library``, and the
    cold run's peak memory (bytes, all processes)."""
    shutil.rmtree(out, ignore_errors=True)
    cold, cold_cpu, fresh, peak = run(library, out, jobs)
    if fresh != count:
        raise SystemExit(f"cold run analysed {fresh} of {count} tracks")
    before = load()
    warm, warm_cpu, fresh, _ = run(library, out, jobs)
    if fresh != 0:
        raise SystemExit(f"the unchanged re-run analysed {fresh} tracks instead of none")
    print(f"{count} tracks: cold {cold:.1f} s wall, {cold_cpu:.1f} s CPU ({60 * count / cold:.0f} tracks/min, "
          f"{cold_cpu / count:.3f} CPU s/track, peak RSS {peak / 2**20:.0f} MB); warm {warm:.2f} s wall, "
          f"{warm_cpu:.2f} s CPU; load average {before:.1f}", flush=True)
    return cold, cold_cpu, warm, warm_cpu, peak


def model_rows(path: Path = ROOT / "models" / "emotune-music.json") -> list[str]:
    """Return the results rows of the music mood model's artist-grouped validation, from its card."""
    import json

    doc = json.loads(path.read_text(encoding="utf-8"))
    m, command = doc["metrics"], doc["training"]["command"]
    repeats = f"artist-grouped CV, {len(m['repeats'])} repeats, {doc['training']['clips']} real songs"

    def stat(s: dict) -> str:
        return f"{s['mean']:.3f} ± {s['std']:.3f}"

    recall = " / ".join(f"{m['recall'][q]['mean']:.2f}" for q in sorted(m["recall"]))
    return [
        results.row(f"music mood: quadrant accuracy ({repeats})", stat(m["quadrant_accuracy"]), "≥ 0.60", command),
        results.row(f"music mood: valence sign ({repeats})", stat(m["valence_sign"]), "≥ 0.68", command),
        results.row(f"music mood: arousal sign ({repeats})", stat(m["arousal_sign"]), "≥ 0.85", command),
        results.row("music mood: recall Q1 happy / Q2 angry / Q3 sad / Q4 calm", recall, "-", command),
    ]


def main() -> int:
    p = results.parser(__doc__)
    p.add_argument("--tracks", type=int, default=120, help="distinct generated tracks (default %(default)s)")
    p.add_argument("--big", type=int, default=1000, help="tracks of the linked library; 0 skips it")
    p.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    p.add_argument("--model-only", action="store_true", help="only the music mood model's rows (no timing)")
    args = p.parse_args()
    if args.model_only:
        rows = model_rows()
        print("\n".join(rows))
        if not args.no_readme:
            results.update(rows)
        return 0
    cores = os.cpu_count()
    library = OUT / "library"
    print(f"generating {args.tracks} tracks of 3 min into {library} (once) ...", flush=True)
    make_library(library, tracks_per_mood=max(1, args.tracks // 4), seconds=180.0, formats=FORMATS, rates=RATES,
                 jobs=args.jobs)
    count = 4 * max(1, args.tracks // 4)
    cold, cold_cpu, warm, _, peak = cold_and_warm(library, OUT / "playlists", args.jobs, count)
    where = f"{count} tracks of 3 min, FLAC/Ogg/MP3, {args.jobs} jobs on {cores} cores"
    rows = [
        results.row("playlists: cold analysis", f"{60 * count / cold:.0f} tracks/min wall ({where}; "
                    f"{cold_cpu / count:.2f} CPU s per track)", ">= 300 tracks/min on 2 cores", COMMAND),
        results.row("playlists: peak memory of the analysis (RSS, all processes)",
                    f"{peak / 2**20:.0f} MB ({args.jobs} jobs)", "<= 1 GB", COMMAND),
        results.row(f"playlists: unchanged re-run, {count} tracks", f"{warm:.1f} s", "-", COMMAND),
    ]
    if args.big:
        big = linked_library(library, OUT / f"library-{args.big}", args.big)
        cold, cold_cpu, warm, warm_cpu, _ = cold_and_warm(big, OUT / f"playlists-{args.big}", args.jobs, args.big)
        rows += [
            results.row(f"playlists: cold, {args.big} tracks", f"{cold / 60:.1f} min wall ({60 * args.big / cold:.0f} "
                        f"tracks/min, {args.jobs} jobs on {cores} cores)", "<= 10 min on 2 cores", COMMAND),
            results.row(f"playlists: unchanged re-run, {args.big} tracks", f"{warm:.1f} s wall, {warm_cpu:.1f} s CPU "
                        "(measured)", "<= 15 s on 2 cores", COMMAND),
        ]
    rows += model_rows()
    print("\n".join(rows))
    if not args.no_readme:
        results.update(rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
