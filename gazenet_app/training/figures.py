"""Figures of the data checks (matplotlib, Agg): label histograms, AFLW yaw per class, UMIST sequences."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Dict, List, Mapping, Sequence

import numpy as np

__all__ = ["label_histograms", "aflw_class_figure", "umist_figure", "evaluation_figures", "dataset_stats"]


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def dataset_stats(tables: Mapping[str, Sequence[Mapping[str, str]]]) -> Dict:
    """Counts per folder, split and real/synthetic, and angle ranges."""
    out = {}
    for name, rows in tables.items():
        d: Dict = {"rows": len(rows)}
        for r in rows:
            key = f"{r['split']}/{'synthetic' if r['synthetic'] == '1' else 'real'}"
            d[key] = d.get(key, 0) + 1
        if rows:
            a = np.array([[float(r["yaw"]), float(r["pitch"]), float(r["roll"])] for r in rows])
            d["yaw_range"] = [round(float(a[:, 0].min()), 1), round(float(a[:, 0].max()), 1)]
            d["abs_yaw_over_45"] = int((np.abs(a[:, 0]) > 45).sum())
        out[name] = d
    return out


def label_histograms(tables: Mapping[str, Sequence[Mapping[str, str]]], out: Path) -> Path:
    """Yaw / pitch / roll histograms of each table (train+val rows), one line per table."""
    plt = _plt()
    fig, axes = plt.subplots(1, 3, figsize=(12, 3.2))
    bins = np.arange(-99, 100, 3)
    for name, rows in tables.items():
        a = np.array([[float(r["yaw"]), float(r["pitch"]), float(r["roll"])] for r in rows
                      if r["split"] != "test"]).reshape(-1, 3)
        for k, ax in enumerate(axes):
            ax.hist(a[:, k], bins=bins, histtype="step", label=f"{name} (n={len(a)})")
    for ax, t in zip(axes, ("yaw", "pitch", "roll")):
        ax.set_xlabel(f"{t} (deg)")
        ax.set_yscale("log")
    axes[0].set_ylabel("images (log)")
    axes[0].legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(out, dpi=90)
    plt.close(fig)
    return Path(out)


def aflw_class_figure(rows: Sequence[Mapping[str, str]], out: Path) -> Path:
    """Yaw per MTFL human pose class (held-out AFLW faces)."""
    plt = _plt()
    data = [[float(r["yaw"]) for r in rows if r.get("pose_class") == str(c)] for c in range(1, 6)]
    fig, ax = plt.subplots(figsize=(6, 3.2))
    ax.boxplot(data, labels=[f"{c}\n(n={len(d)})" for c, d in zip(
        ("1 left prof.", "2 left", "3 frontal", "4 right", "5 right prof."), data)], showfliers=False)
    for i, d in enumerate(data):
        ax.scatter(np.full(len(d), i + 1) + np.random.default_rng(i).uniform(-0.2, 0.2, len(d)), d, s=2, alpha=0.2)
    ax.axhline(0, color="grey", lw=0.5)
    ax.set_ylabel("teacher yaw (deg)")
    ax.set_title("held-out MTFL-AFLW: teacher yaw per human pose class", fontsize=9)
    fig.tight_layout()
    fig.savefig(out, dpi=90)
    plt.close(fig)
    return Path(out)


def umist_figure(rows: Sequence[Mapping[str, str]], out: Path) -> Path:
    """Teacher yaw along each UMIST head-turn sequence (frame index; missing = no answer)."""
    plt = _plt()
    seqs: Dict[str, List] = {}
    for r in rows:
        m = re.search(r"s(\d+)_(\d+)\.", r.get("orig", "") or "")
        if m:
            seqs.setdefault(m.group(1), []).append((int(m.group(2)), float(r["yaw"])))
    fig, ax = plt.subplots(figsize=(6, 3.2))
    for s, items in sorted(seqs.items()):
        items.sort()
        ax.plot([i for i, _ in items], [y for _, y in items], marker=".", lw=0.8, ms=3)
    ax.set_xlabel("frame in sequence (profile -> frontal)")
    ax.set_ylabel("teacher yaw (deg)")
    ax.set_title(f"UMIST: {len(seqs)} head-turn sequences", fontsize=9)
    fig.tight_layout()
    fig.savefig(out, dpi=90)
    plt.close(fig)
    return Path(out)


def evaluation_figures(tables: Mapping[str, Sequence[Mapping[str, str]]], out_dir: Path) -> List[Path]:
    """The figures that fit the evaluated tables (AFLW rows, UMIST rows)."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    files = []
    aflw = [r for rows in tables.values() for r in rows if r["source"] == "mtfl_aflw"]
    if aflw:
        files.append(aflw_class_figure(aflw, out_dir / "data_aflw_yaw_by_class.png"))
    umist = [r for rows in tables.values() for r in rows if r["source"] == "umist"]
    if umist:
        files.append(umist_figure(umist, out_dir / "data_umist_sequences.png"))
    return files
