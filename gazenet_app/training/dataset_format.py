"""The training-data format: a folder of fixed-size images plus `labels.csv` (and `meshes.npz` for sources).

`labels.csv` columns, in this order (readers select by name; the optional columns may follow):
`path,yaw,pitch,roll,x1,y1,x2,y2,lx1..lx5,ly1..ly5,source,identity,synthetic,split`
- path: relative to the folder; yaw/pitch/roll: degrees, Hopenet's convention (gazenet_app.core.geometry);
- x1..y2: the canonical face box (gazenet_app.core.transforms.canonical_box_from_landmarks) in image pixels;
- lx/ly: left eye, right eye, nose, mouth left, mouth right (image-left/right), rotated with the face in renders;
- source: dataset name; identity: person where known, else the source image; synthetic: 0/1;
- split: train|val|test (test = held-out MTFL-AFLW faces or renders made from them; never train on it).
Optional: `pose_class` (MTFL human class 1..5, else empty), `orig` (the source image, relative to its dataset),
`teacher_rms` (FaceMesh alignment residual), `landmarks_from` (`human` or `mesh`: MTFL rows whose human landmarks
missed the face were re-cut around the mesh's five points), `offset_yaw,offset_pitch,offset_roll` (renders: the Euler
angles of the rotation offset applied).
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Dict, Iterable, List, Sequence

import numpy as np

from gazenet_app.core.atomic_files import write_atomic
from gazenet_app.core.transforms import canonical_box_from_landmarks

__all__ = [
    "LABEL_COLUMNS",
    "OPTIONAL_COLUMNS",
    "ALL_COLUMNS",
    "LABELS_NAME",
    "MESHES_NAME",
    "make_row",
    "write_labels",
    "read_labels",
    "rows_to_arrays",
    "validate_rows",
]

LABEL_COLUMNS: List[str] = (["path", "yaw", "pitch", "roll", "x1", "y1", "x2", "y2"]
                            + [f"lx{i}" for i in range(1, 6)] + [f"ly{i}" for i in range(1, 6)]
                            + ["source", "identity", "synthetic", "split"])
OPTIONAL_COLUMNS: List[str] = ["pose_class", "orig", "teacher_rms", "landmarks_from", "offset_yaw", "offset_pitch",
                                "offset_roll"]
ALL_COLUMNS: List[str] = LABEL_COLUMNS + OPTIONAL_COLUMNS
LABELS_NAME = "labels.csv"
MESHES_NAME = "meshes.npz"

_FLOAT_COLS = ["yaw", "pitch", "roll", "x1", "y1", "x2", "y2"] + [f"l{a}{i}" for a in "xy" for i in range(1, 6)]


def make_row(path: str, pose: Sequence[float], landmarks: np.ndarray, source: str, identity: str,
             synthetic: bool, split: str, **optional) -> Dict[str, str]:
    """One labels.csv row (strings) from a pose (yaw, pitch, roll) and five landmarks (5x2); box derived."""
    lm = np.asarray(landmarks, dtype=np.float64).reshape(5, 2)
    box = canonical_box_from_landmarks(lm)
    row = {"path": path, "yaw": f"{pose[0]:.3f}", "pitch": f"{pose[1]:.3f}", "roll": f"{pose[2]:.3f}",
           "x1": f"{box.x1:.2f}", "y1": f"{box.y1:.2f}", "x2": f"{box.x2:.2f}", "y2": f"{box.y2:.2f}",
           "source": source, "identity": identity, "synthetic": "1" if synthetic else "0", "split": split}
    for i in range(5):
        row[f"lx{i + 1}"] = f"{lm[i, 0]:.2f}"
        row[f"ly{i + 1}"] = f"{lm[i, 1]:.2f}"
    for k, v in optional.items():
        if k not in OPTIONAL_COLUMNS:
            raise ValueError(f"unknown optional column {k!r}; valid: {', '.join(OPTIONAL_COLUMNS)}")
        row[k] = "" if v is None else (f"{v:.3f}" if isinstance(v, float) else str(v))
    return row


def write_labels(path: Path, rows: Iterable[Dict[str, str]]) -> int:
    """Write rows to `path` atomically (`core.atomic_files`); returns the number of rows."""
    buf = io.StringIO(newline="")
    w = csv.DictWriter(buf, fieldnames=ALL_COLUMNS, restval="", extrasaction="raise")
    w.writeheader()
    n = 0
    for r in rows:
        w.writerow(r)
        n += 1
    write_atomic(path, buf.getvalue())
    return n


def read_labels(path: Path) -> List[Dict[str, str]]:
    """Rows of a labels.csv as dicts of strings; ValueError when required columns are missing."""
    with open(path, newline="") as fh:
        reader = csv.DictReader(fh)
        missing = [c for c in LABEL_COLUMNS if c not in (reader.fieldnames or [])]
        if missing:
            raise ValueError(f"{path}: not a gazenet labels.csv, missing columns {', '.join(missing)}")
        return list(reader)


def rows_to_arrays(rows: Sequence[Dict[str, str]]) -> Dict[str, np.ndarray]:
    """Numeric columns as float arrays: pose (N,3), box (N,4), landmarks (N,5,2); plus synthetic (N,) bool."""
    f = np.array([[float(r[c]) for c in _FLOAT_COLS] for r in rows], dtype=np.float64).reshape(-1, len(_FLOAT_COLS))
    lm = np.stack([f[:, 7:12], f[:, 12:17]], axis=-1)
    return {"pose": f[:, 0:3], "box": f[:, 3:7], "landmarks": lm,
            "synthetic": np.array([r["synthetic"] == "1" for r in rows], dtype=bool)}


def validate_rows(rows: Sequence[Dict[str, str]], root: Path = None) -> None:
    """Raise ValueError on a malformed row: bad numbers, split, synthetic flag, or (with root) missing image."""
    for i, r in enumerate(rows):
        if r["split"] not in ("train", "val", "test"):
            raise ValueError(f"row {i}: split {r['split']!r} is not train|val|test")
        if r["synthetic"] not in ("0", "1"):
            raise ValueError(f"row {i}: synthetic {r['synthetic']!r} is not 0|1")
        vals = [float(r[c]) for c in _FLOAT_COLS]
        if not all(np.isfinite(vals)):
            raise ValueError(f"row {i}: non-finite number")
        if not (float(r["x2"]) > float(r["x1"]) and float(r["y2"]) > float(r["y1"])):
            raise ValueError(f"row {i}: empty box")
        if root is not None and not (Path(root) / r["path"]).is_file():
            raise ValueError(f"row {i}: image {r['path']} not found under {root}")
