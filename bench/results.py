"""Write benchmark figures into the README's results table, one row per measured quantity.

A row is ``| what | figure | target | command |``; a row whose *what* is already in the table is
replaced, a new one is added at the end of the table. Everything else in the README is left alone.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

README = Path(__file__).resolve().parent.parent / "README.md"
HEADER = "| what | figure | target | command |"


def parser(doc: str) -> argparse.ArgumentParser:
    """Return a benchmark's argument parser: its docstring's first line, and ``--no-readme``."""
    p = argparse.ArgumentParser(description=doc.splitlines()[0])
    p.add_argument("--no-readme", action="store_true", help="print only; leave README.md alone")
    return p


def row(what: str, figure: str, target: str, command: str) -> str:
    return f"| {what} | {figure} | {target} | `{command}` |"


def update(rows: list[str], readme: Path = README) -> None:
    """Put ``rows`` into the results table of ``readme`` (replacing rows with the same *what*)."""
    lines = readme.read_text(encoding="utf-8").splitlines()
    try:
        start = lines.index(HEADER) + 2  # past the header and its |---| line
    except ValueError:
        raise SystemExit(f"{readme}: no results table (a line {HEADER!r})") from None
    end = start
    while end < len(lines) and lines[end].startswith("|"):
        end += 1
    table = lines[start:end]
    for new in rows:
        key = new.split("|")[1].strip()
        same = [i for i, old in enumerate(table) if old.split("|")[1].strip() == key]
        if same:
            table[same[0]] = new
        else:
            table.append(new)
    readme.write_text("\n".join(lines[:start] + table + lines[end:]) + "\n", encoding="utf-8")


@contextmanager
def panels(path: Path, count: int, height: float = 4.5) -> Iterator[list]:
    """Yield ``count`` side-by-side matplotlib axes (6 inches wide each); on leaving, the figure is
    written to ``path`` as a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, count, figsize=(6 * count, height), squeeze=False)
    try:
        yield list(axes[0])
        fig.tight_layout()
        path.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(path, dpi=110)
    finally:
        plt.close(fig)
