"""The synthesis montage: source faces rendered at yaw -90..90 and at the pitch range, axes and labels drawn."""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional, Sequence, Tuple

import cv2
import numpy as np

from gazenet_app.core.draw import draw_axes
from gazenet_app.core.types import HeadPose
from gazenet_app.training.dataset_format import LABELS_NAME, MESHES_NAME, read_labels
from gazenet_app.training.render import build_head
from gazenet_app.training.synth import render_at, source_rotation

__all__ = ["MONTAGE_YAWS", "montage_columns", "write_montage"]

MONTAGE_YAWS = (-90, -60, -30, 0, 30, 60, 90)


def montage_columns(pitch_range: float) -> List[Tuple[float, float]]:
    """Target (yaw, pitch) per column: the yaw sweep at pitch 0, then +-pitch_range at yaw 0 and yaw +-45."""
    p = float(pitch_range)
    return [(y, 0.0) for y in MONTAGE_YAWS] + [(0.0, p), (0.0, -p), (45.0, p), (-45.0, -p)]


def _text(img: np.ndarray, s: str, y: int, color) -> None:
    cv2.putText(img, s, (3, y), cv2.FONT_HERSHEY_SIMPLEX, 0.36, (0, 0, 0), 2, cv2.LINE_AA)
    cv2.putText(img, s, (3, y), cv2.FONT_HERSHEY_SIMPLEX, 0.36, color, 1, cv2.LINE_AA)


def write_montage(labels: Path, out: Path, faces: int = 6, seed: int = 0, pitch_range: float = 30.0,
                  read_back: bool = True, rows_idx: Optional[Sequence[int]] = None) -> Path:
    """Render `faces` near-frontal faces of a labelled folder at the montage columns into a PNG.

    Each tile: top = target yaw/pitch, axes of the label drawn at the face; bottom = what the FaceMesh teacher
    reads back (`t:none` when it finds no face), when `read_back`.
    """
    folder = Path(labels).parent if Path(labels).suffix == ".csv" else Path(labels)
    rows = read_labels(folder / LABELS_NAME)
    meshes = np.load(folder / MESHES_NAME)
    by_path = {str(p): i for i, p in enumerate(meshes["path"])}
    if rows_idx is None:
        cand = [i for i, r in enumerate(rows)
                if abs(float(r["yaw"])) <= 12 and abs(float(r["pitch"])) <= 12 and r["split"] != "test"]
        rng = np.random.default_rng(seed)
        rows_idx = sorted(rng.choice(cand, size=min(faces, len(cand)), replace=False).tolist())
    teacher = None
    if read_back:
        from gazenet_app.training.teacher import FaceMeshTeacher

        teacher = FaceMeshTeacher()
    grid = []
    try:
        for ri in rows_idx:
            r = rows[ri]
            mi = by_path[r["path"]]
            rgb = cv2.cvtColor(cv2.imread(str(folder / r["path"])), cv2.COLOR_BGR2RGB)
            head = build_head(meshes["vertices"][mi], meshes["rotation"][mi], float(meshes["scale"][mi]),
                              meshes["translation"][mi])
            src = rgb.copy()
            _text(src, f"src {float(r['yaw']):+.0f}/{float(r['pitch']):+.0f}", 11, (255, 255, 0))
            tiles = [src]
            R_src = source_rotation(r)
            for yaw, pitch in montage_columns(pitch_range):
                img, lm, _, _ = render_at(rgb, head, R_src, (yaw, pitch, 0.0))
                tile = img.copy()
                if teacher is not None:
                    fit = teacher.fit(cv2.resize(img, (256, 256), interpolation=cv2.INTER_LINEAR))
                    back = "t:none" if fit is None else f"t:{fit.pose[0]:+.0f}/{fit.pose[1]:+.0f}"
                    _text(tile, back, tile.shape[0] - 4, (0, 255, 255))
                c = lm.mean(axis=0)
                draw_axes(tile, HeadPose(yaw, pitch, 0.0), (float(c[0]), float(c[1])), 24.0, 1)
                _text(tile, f"{yaw:+.0f}/{pitch:+.0f}", 11, (255, 255, 0))
                tiles.append(tile)
            grid.append(np.concatenate(tiles, axis=1))
    finally:
        if teacher is not None:
            teacher.close()
    mont = np.concatenate(grid, axis=0)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    _write_png(out, mont)
    return out


def _write_png(path: Path, rgb: np.ndarray) -> None:
    """A 256-colour PNG (the montage goes into docs/: ~0.3 MB instead of ~2 MB; Pillow comes with the data deps)."""
    try:
        from PIL import Image
    except ImportError:  # Pillow missing: a full-colour PNG
        cv2.imwrite(str(path), cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
        return
    Image.fromarray(rgb).quantize(colors=256, method=Image.Quantize.MEDIANCUT).save(str(path), optimize=True)
