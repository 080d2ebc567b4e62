"""Pointing'04 (Gourier, Hall, Crowley 2004): real faces with nominal yaw/pitch up to full profile.

The database's `labels.csv` gives per photo the person, the nominal yaw (pan) and pitch (tilt) in gazenet's
convention and the database's own face box (tighter than gazenet's canonical box). This module
- splits by person: 01-06 `train`, 07-09 `val` (the database's train persons, held out by person for model
  choice), 10-12 `test` (the database's held-out split: never trained or tuned on; `write_training_set` refuses it);
- maps the database's box onto the canonical box with one `BoxMapping` fitted on train persons only
  (`fit_box_mapping`: MTCNN's landmark box against the database box on near-frontal photos, medians);
- has no roll label (people held their heads upright): roll is NaN, and the loss masks it;
- reports errors per |yaw| band (`band_report`), the way the set's own README asks.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Sequence, Tuple, Union

import numpy as np

from gazenet_app.core.errors import GazenetError
from gazenet_app.core.types import FaceBox
from gazenet_app.detect.base import BoxMapping
from gazenet_app.training.dataset_format import ALL_COLUMNS, LABELS_NAME, write_labels
from gazenet_app.training.readers import PoseTable, _table

__all__ = [
    "SOURCE",
    "CITATION",
    "TERMS",
    "SPLIT_PERSONS",
    "BOX_MAPPING",
    "YAW_BANDS",
    "person_split",
    "read_pointing04",
    "fit_box_mapping",
    "write_training_set",
    "band_report",
    "format_band_report",
    "evaluate_model",
    "card_metrics",
]

SOURCE = "pointing04"
CITATION = ("N. Gourier, D. Hall, J. L. Crowley. Estimating Face Orientation from Robust Detection of Salient Facial "
            "Features. Proc. Pointing 2004, ICPR Workshop on Visual Observation of Deictic Gestures, Cambridge, UK.")
TERMS = "Pointing'04 (persons 01-09 only): any use, provided the article is cited: " + CITATION

#: Persons per split: validation persons are the database's train persons held out by person for model choice.
SPLIT_PERSONS: Dict[str, Tuple[int, ...]] = {"train": (1, 2, 3, 4, 5, 6), "val": (7, 8, 9), "test": (10, 11, 12)}

#: Database box -> canonical box, fitted by `fit_box_mapping` on train persons 01-06 (the 300 photos with |yaw|,
#: |pitch| <= 30 that MTCNN `accurate` finds); reproduce with `gazenet data pointing04 DIR --fit-mapping`.
BOX_MAPPING = BoxMapping(dx=-0.005, dy=0.038, scale=1.352)

#: |yaw| bands of the reports (the issue's table; the database has yaw in 15 degree steps).
YAW_BANDS: Tuple[Tuple[str, float, float], ...] = (("0", 0, 0), ("15-30", 15, 30), ("45-60", 45, 60),
                                                   ("75", 75, 75), ("90", 90, 90))


class Pointing04Error(GazenetError):
    """The Pointing'04 folder is missing or malformed, or a held-out person was asked for training."""


def person_split(person: int) -> str:
    """The split a person belongs to (train, val or test)."""
    for split, persons in SPLIT_PERSONS.items():
        if person in persons:
            return split
    raise Pointing04Error(f"Pointing'04 person {person} is in no split (persons 01-12 are known)")


def _rows(data_dir: Path) -> List[Dict[str, str]]:
    path = data_dir / LABELS_NAME
    if not path.is_file():
        raise Pointing04Error(f"{data_dir}: no Pointing'04 labels.csv there (expected ../shared/data/pose/pointing04)")
    with open(path, newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    need = {"path", "person", "yaw", "pitch", "x1", "y1", "x2", "y2"}
    if not rows or need - set(rows[0]):
        raise Pointing04Error(f"{path}: not the Pointing'04 labels.csv (needs {', '.join(sorted(need))})")
    return rows


def read_pointing04(data_dir: Union[str, Path], split: Optional[Union[str, Sequence[str]]] = "test",
                    mapping: Optional[BoxMapping] = BOX_MAPPING, max_abs_pitch: Optional[float] = None) -> PoseTable:
    """The photos of `split` (train/val/test, several, or None for all) as a PoseTable: yaw/pitch nominal, roll NaN,
    boxes the database's mapped by `mapping` (None keeps the database's box, `box_kind` says which)."""
    data_dir = Path(data_dir)
    wanted = None if split is None else ({split} if isinstance(split, str) else set(split))
    unknown = (wanted or set()) - set(SPLIT_PERSONS)
    if unknown:
        raise Pointing04Error(f"unknown Pointing'04 split {', '.join(sorted(unknown))}; valid: train, val, test")
    rows = []
    for r in _rows(data_dir):
        person = int(r["person"])
        s = person_split(person)
        if wanted is not None and s not in wanted:
            continue
        yaw, pitch = float(r["yaw"]), float(r["pitch"])
        if max_abs_pitch is not None and abs(pitch) > max_abs_pitch:
            continue
        box = FaceBox(float(r["x1"]), float(r["y1"]), float(r["x2"]), float(r["y2"]), 1.0)
        if mapping is not None:
            box = mapping.apply(box)
        rows.append({"path": r["path"], "pose": (yaw, pitch, np.nan), "box": (box.x1, box.y1, box.x2, box.y2),
                     "source": SOURCE, "identity": f"person{person:02d}", "synthetic": False, "split": s})
    if not rows:
        raise Pointing04Error(f"{data_dir}: no Pointing'04 photos in split {split}")
    return _table(data_dir, rows, box_kind="canonical (mapped)" if mapping is not None else "pointing04",
                  format="pointing04")


def fit_box_mapping(data_dir: Union[str, Path], detector=None, max_abs_angle: float = 30.0) -> Tuple[BoxMapping, int]:
    """Fit the database box -> canonical box mapping on TRAIN persons' photos with |yaw|, |pitch| <= max_abs_angle:
    per photo the offset of MTCNN's landmark (canonical) box from the database box's centre and its side, both in
    units of sqrt(w * h) of the database box; the medians. Returns (mapping, photos matched)."""
    from gazenet_app.detect.nms import box_iou

    if detector is None:
        from gazenet_app.detect.registry import get_detector

        detector = get_detector("mtcnn", "accurate")
    table = read_pointing04(data_dir, "train", mapping=None)
    keep = (np.abs(table.poses[:, :2]) <= max_abs_angle).all(axis=1)
    samples = []
    for i in np.nonzero(keep)[0]:
        b = table.boxes[i]
        faces = [f for f in detector.detect(table.load_image(int(i))) if f.landmarks is not None]
        if not faces:
            continue
        iou = box_iou([f.as_tuple() for f in faces], [tuple(b)])[:, 0]
        if iou.max() < 0.3:
            continue
        c = detector.to_canonical(faces[int(iou.argmax())])
        s = float(np.sqrt((b[2] - b[0]) * (b[3] - b[1])))
        samples.append(((c.center[0] - (b[0] + b[2]) / 2) / s, (c.center[1] - (b[1] + b[3]) / 2) / s, c.width / s))
    if not samples:
        raise Pointing04Error("no train photo matched a detection: cannot fit the box mapping")
    med = np.median(np.array(samples), axis=0)
    return BoxMapping(*(round(float(v), 3) for v in med)), len(samples)


def write_training_set(data_dir: Union[str, Path], out_dir: Union[str, Path],
                       splits: Iterable[str] = ("train", "val")) -> Path:
    """A gazenet labels.csv (images referenced in place, by absolute path) of the train and val persons, roll
    empty-labelled (NaN); the held-out test persons are refused."""
    splits = list(splits)
    if "test" in splits:
        raise Pointing04Error("Pointing'04 persons 10-12 are the held-out test set: they are never written for "
                              "training (use `gazenet evaluate --dataset pointing04` to score them)")
    table = read_pointing04(data_dir, splits)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    rows = []
    for i in range(len(table)):
        yaw, pitch, _ = (float(v) for v in table.poses[i])
        x1, y1, x2, y2 = (float(v) for v in table.boxes[i])
        row = {c: "" for c in ALL_COLUMNS}
        row.update({"path": str(table.image_path(i).resolve()), "yaw": f"{yaw:.1f}", "pitch": f"{pitch:.1f}",
                    "roll": "nan", "x1": f"{x1:.2f}", "y1": f"{y1:.2f}", "x2": f"{x2:.2f}", "y2": f"{y2:.2f}",
                    "source": SOURCE, "identity": table.identity[i], "synthetic": "0", "split": table.split[i]})
        rows.append(row)
    write_labels(out_dir / LABELS_NAME, rows)
    return out_dir


def band_report(pred: np.ndarray, true: np.ndarray, found: Optional[np.ndarray] = None,
                max_abs_pitch: float = 30.0) -> Dict[str, Dict[str, float]]:
    """Per |yaw| band (and `all`, and `75-90`) over rows with |true pitch| <= max_abs_pitch: n, yaw and pitch MAE,
    the mean |yaw| read, and with `found` (bool per row) the share of photos where a face was found. Rows without
    an answer (NaN) count as not found and are left out of the errors."""
    pred, true = np.asarray(pred, dtype=np.float64), np.asarray(true, dtype=np.float64)
    found = np.isfinite(pred[:, 0]) if found is None else np.asarray(found, dtype=bool)
    sel = np.abs(true[:, 1]) <= max_abs_pitch
    ay = np.abs(true[:, 0])
    bands = list(YAW_BANDS) + [("75-90", 75, 90), ("all", 0, 90)]
    out: Dict[str, Dict[str, float]] = {}
    for name, lo, hi in bands:
        m = sel & (ay >= lo) & (ay <= hi)
        ok = m & np.isfinite(pred[:, 0])
        err = np.abs(pred[ok] - true[ok])
        out[name] = {"n": int(m.sum()), "answered": int(ok.sum()),
                     "found_share": float(found[m].mean()) if m.any() else float("nan"),
                     "yaw_mae": float(err[:, 0].mean()) if ok.any() else float("nan"),
                     "pitch_mae": float(err[:, 1].mean()) if ok.any() else float("nan"),
                     "mean_abs_yaw_read": float(np.abs(pred[ok, 0]).mean()) if ok.any() else float("nan")}
    return out


def format_band_report(title: str, report: Dict[str, Dict[str, float]]) -> str:
    """A text table of `band_report`, one row a band."""
    lines = [title, f"{'|yaw|':>7s} {'n':>5s} {'found':>7s} {'yaw MAE':>8s} {'pitch MAE':>10s} {'mean |yaw| read':>16s}"]
    for name, r in report.items():
        lines.append(f"{name:>7s} {r['n']:5d} {100 * r['found_share']:6.1f}% {r['yaw_mae']:8.2f} "
                     f"{r['pitch_mae']:10.2f} {r['mean_abs_yaw_read']:16.1f}")
    return "\n".join(lines)


def evaluate_model(model, data_dir: Union[str, Path], split: str = "test", detector=None,
                   batch_size: int = 64) -> Dict[str, Dict[str, Dict[str, float]]]:
    """Band reports of a pose model on one split: `given` (the database's boxes mapped onto the canonical box) and,
    with `detector`, `detected` (end to end: the detected face nearest the labelled one; none found = not found)."""
    from gazenet_app.training.model_eval import predict_table

    table = read_pointing04(data_dir, split)
    out = {"given": band_report(predict_table(model, table, batch_size), table.poses)}
    if detector is not None:
        pred = predict_table(model, table, batch_size, detector=detector)
        out["detected"] = band_report(pred, table.poses)
    return out


def card_metrics(reports: Dict[str, Dict[str, Dict[str, float]]]) -> Dict[str, Tuple[Optional[float], int]]:
    """Model-card metrics {name: (value, n)} of `evaluate_model`'s reports (|pitch| <= 30)."""
    metrics: Dict[str, Tuple[Optional[float], int]] = {}
    for boxes, report in reports.items():
        for band, r in report.items():
            key = band.replace("-", "_")
            metrics[f"{boxes}_yaw_mae_{key}"] = (r["yaw_mae"], r["answered"])
            metrics[f"{boxes}_mean_abs_yaw_{key}"] = (r["mean_abs_yaw_read"], r["answered"])
            if band == "all":
                metrics[f"{boxes}_pitch_mae_all"] = (r["pitch_mae"], r["answered"])
            if boxes == "detected":
                metrics[f"detected_found_share_{key}"] = (r["found_share"], r["n"])
    return metrics
