"""Pictures as PNG: an evaluation's confusion matrix, and a music library's mood playlists on the plane."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from . import moodmap  # noqa: E402
from .cluster import Clustering  # noqa: E402


def confusion(matrix: Sequence[Sequence[int]], labels: Sequence[str], title: str, path: Path) -> Path:
    """Draw the confusion ``matrix`` (rows truth) normalised per row, with counts, to ``path``."""
    m = np.asarray(matrix, dtype=float)
    rows = m / np.maximum(m.sum(axis=1, keepdims=True), 1)
    fig, ax = plt.subplots(figsize=(6.4, 5.6), dpi=110)
    ax.imshow(rows, cmap="Blues", vmin=0, vmax=1)
    ax.set_xticks(range(len(labels)), labels, rotation=45, ha="right")
    ax.set_yticks(range(len(labels)), labels)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(title, fontsize=10)
    for i in range(len(labels)):
        for j in range(len(labels)):
            if m[i, j]:
                ax.text(j, i, int(m[i, j]), ha="center", va="center", fontsize=8,
                        color="white" if rows[i, j] > 0.5 else "black")
    return _save(fig, path)


def mood_plane(result: Clustering, title: str, path: Path) -> Path:
    """Draw tracks (dots), clusters (named), emotions (grey) and the lift target on the plane, to ``path``."""
    fig, ax = plt.subplots(figsize=(7, 7), dpi=110)
    ax.axhline(0, color="0.85", lw=0.8)
    ax.axvline(0, color="0.85", lw=0.8)
    (calm, happy) = moodmap.GOOD
    ax.plot([calm.valence, happy.valence], [calm.arousal, happy.arousal], color="tab:green", lw=6, alpha=0.25,
            solid_capstyle="round", label="lift target (calm to happy)")
    for emotion, p in moodmap.EMOTIONS.items():
        ax.scatter(p.valence, p.arousal, marker="x", color="0.5", s=30)
        ax.annotate(emotion, (p.valence, p.arousal), textcoords="offset points", xytext=(4, -10), color="0.4",
                    fontsize=8)
    colours = plt.get_cmap("tab10")
    for n, c in enumerate(result.clusters):
        m = list(c.members)
        ax.scatter(result.valence[m], result.arousal[m], s=12, alpha=0.5, color=colours(n % 10))
        ax.scatter(c.valence, c.arousal, s=160, color=colours(n % 10), edgecolor="black", zorder=3)
        ax.annotate(f"{c.name} ({len(m)})", (c.valence, c.arousal), textcoords="offset points", xytext=(8, 6),
                    fontsize=9, weight="bold")
    ax.set(xlim=(-1.05, 1.05), ylim=(-1.05, 1.05), xlabel="valence (negative - positive)",
           ylabel="arousal (calm - energetic)", title=title, aspect="equal")
    ax.legend(loc="lower right", fontsize=8)
    return _save(fig, path)


def _save(fig, path: Path) -> Path:
    """Lay out ``fig``, write it to ``path`` and free it; return ``path``."""
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path
