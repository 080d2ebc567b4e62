"""Model evaluation behind `gazenet evaluate --model`: a pose model's predictions on *given* boxes, scored.

Crops go through the model's own crop preset and input size (`core.transforms` via `training.augment`), from
the canonical boxes of a dataset's labels, so the detector does not blur the pose numbers (`detector=` for
end-to-end numbers). Results:
- `mae_report`: the paper's table (yaw, pitch, roll, mean MAE, n) for any labelled set,
- `teacher_agreement`: MAE against teacher labels on the faces where the teacher is metric (|yaw| <= 45),
- `umist_full_sequences`: UMIST head-turn sequences with *every* frame (the teacher misses the true profiles;
  the model must answer them too), per-sequence Spearman of yaw against the frame index,
- `panoptic_model`: the visible true-angle Panoptic frame (n=1),
- `card_eval`: the numbers as model-card `eval` entries (value, n, label_source, command).
The label checks of the data issue (`training.evaluate`) score the model's `Poses` the same way as the teacher's.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Dict, List, Mapping, Optional, Sequence, Tuple

import numpy as np

__all__ = [
    "predict_boxes",
    "predict_rows",
    "predict_table",
    "mae_report",
    "teacher_agreement",
    "umist_full_sequences",
    "panoptic_model",
    "format_mae_table",
    "card_eval",
    "update_card_eval",
]


def _read_rgb(path: Path) -> np.ndarray:
    import cv2

    bgr = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if bgr is None:
        from gazenet_app.core.errors import SourceError

        raise SourceError(f"cannot read image {path}")
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)


def predict_boxes(model, images: Sequence[np.ndarray], boxes: Sequence[Sequence[float]],
                  batch_size: int = 64) -> np.ndarray:
    """Angles (N, 3) of the faces in `boxes` (canonical x1,y1,x2,y2, one per image), cropped with the model's
    preset; rows with a non-finite box get NaN."""
    from gazenet_app.core.transforms import crop_face
    from gazenet_app.training.augment import crop_region

    out = np.full((len(images), 3), np.nan, dtype=np.float64)
    size = int(model.input_size)
    preset = model.crop_preset
    batch, idx = [], []
    for i, (img, box) in enumerate(zip(images, boxes)):
        if not np.all(np.isfinite(box)):
            continue
        batch.append(crop_face(img, crop_region(box, preset), size))
        idx.append(i)
        if len(batch) == batch_size:
            out[idx] = model.predict_crops(np.stack(batch))
            batch, idx = [], []
    if batch:
        out[idx] = model.predict_crops(np.stack(batch))
    return out


def predict_rows(model, rows: Sequence[Mapping[str, str]], root: Path, batch_size: int = 64
                 ) -> Dict[str, Tuple[float, float, float]]:
    """A `Poses` mapping (row path -> angles) of a labels.csv's rows, on their canonical boxes."""
    root = Path(root)
    out: Dict[str, Tuple[float, float, float]] = {}
    for start in range(0, len(rows), 512):
        chunk = rows[start:start + 512]
        imgs = [_read_rgb(root / r["path"]) for r in chunk]
        boxes = [[float(r[k]) for k in ("x1", "y1", "x2", "y2")] for r in chunk]
        pred = predict_boxes(model, imgs, boxes, batch_size)
        for r, p in zip(chunk, pred):
            if np.isfinite(p).all():
                out[r["path"]] = (float(p[0]), float(p[1]), float(p[2]))
    return out


def predict_table(model, table, batch_size: int = 64, detector=None) -> np.ndarray:
    """Angles (N, 3) of a `readers.PoseTable`: its boxes, or with `detector` the detected face nearest the
    labelled box (NaN when none is found)."""
    out = np.full((len(table), 3), np.nan)
    for start in range(0, len(table), 256):
        ids = range(start, min(start + 256, len(table)))
        imgs = [table.load_image(i) for i in ids]
        boxes = [table.boxes[i] for i in ids]
        if detector is not None:
            boxes = [_detected_box(detector, img, box) for img, box in zip(imgs, boxes)]
        out[list(ids)] = predict_boxes(model, imgs, boxes, batch_size)
    return out


def _detected_box(detector, img: np.ndarray, box) -> np.ndarray:
    faces = [detector.to_canonical(f) for f in detector.detect(img)]
    if not faces:
        return np.full(4, np.nan)
    if np.all(np.isfinite(box)):
        c = np.array([(box[0] + box[2]) / 2, (box[1] + box[3]) / 2])
        f = min(faces, key=lambda f: float(np.hypot((f.x1 + f.x2) / 2 - c[0], (f.y1 + f.y2) / 2 - c[1])))
    else:
        f = max(faces, key=lambda f: (f.x2 - f.x1) * (f.y2 - f.y1))
    return np.array([f.x1, f.y1, f.x2, f.y2])


def mae_report(pred: np.ndarray, true: np.ndarray, subset: str = "all rows") -> Dict:
    """The paper's table: MAE of yaw, pitch, roll and their mean over rows the model answered; n, unanswered."""
    pred = np.asarray(pred, dtype=np.float64).reshape(-1, 3)
    true = np.asarray(true, dtype=np.float64).reshape(-1, 3)
    ok = np.isfinite(pred).all(axis=1)
    err = np.abs(pred[ok] - true[ok])
    res = {"subset": subset, "n": int(ok.sum()), "unanswered": int((~ok).sum())}
    for i, k in enumerate(("yaw", "pitch", "roll")):
        res[k] = float(err[:, i].mean()) if len(err) else None
    res["mean"] = float(np.mean(err)) if len(err) else None
    return res


def teacher_agreement(rows: Sequence[Mapping[str, str]], poses: Mapping[str, Tuple[float, float, float]],
                      max_abs_yaw: float = 45.0) -> Dict:
    """MAE of the model against teacher labels on the rows whose teacher |yaw| <= max_abs_yaw."""
    sel = [r for r in rows if abs(float(r["yaw"])) <= max_abs_yaw]
    pred = np.array([poses.get(r["path"], (np.nan,) * 3) for r in sel], dtype=np.float64).reshape(-1, 3)
    true = np.array([[float(r["yaw"]), float(r["pitch"]), float(r["roll"])] for r in sel]).reshape(-1, 3)
    return mae_report(pred, true, subset=f"teacher |yaw| <= {max_abs_yaw:g}")


def _spearman(a, b) -> float:
    from scipy.stats import spearmanr

    if len(a) < 3:
        return float("nan")
    return float(spearmanr(a, b).correlation)


def umist_full_sequences(model, rows: Sequence[Mapping[str, str]], root: Path, umist_dir: Path,
                         batch_size: int = 64) -> Dict:
    """Every frame of every UMIST sequence: labelled frames on their rows' boxes; frames the teacher missed
    (the true profiles) cut from the original the way `gazenet data label` cuts a face without landmarks
    (the whole image padded square, 128 px) with the box of the nearest labelled frame of the same sequence.
    Per sequence: Spearman of the model's yaw with the frame index."""
    import cv2

    from gazenet_app.core.transforms import crop_face

    root, umist_dir = Path(root), Path(umist_dir)
    by_orig = {}
    for r in rows:
        m = re.search(r"(s\d+)_(\d+)\.", r.get("orig", "") or "")
        if m:
            by_orig[(m.group(1), int(m.group(2)))] = r
    size = None
    seqs: Dict[str, List[Tuple[int, Path]]] = {}
    for p in sorted(umist_dir.glob("s*_*.png")):
        m = re.match(r"(s\d+)_(\d+)\.png$", p.name)
        if m:
            seqs.setdefault(m.group(1), []).append((int(m.group(2)), p))
    per, missing_answered, n_missing, n_frames = {}, 0, 0, 0
    for s, frames in sorted(seqs.items()):
        labelled = [(i, by_orig[(s, i)]) for i, _ in frames if (s, i) in by_orig]
        if not labelled:
            continue
        imgs, boxes, idxs, was_missing = [], [], [], []
        for i, p in frames:
            if (s, i) in by_orig:
                r = by_orig[(s, i)]
                img = _read_rgb(root / r["path"])
                size = img.shape[0]
                box = [float(r[k]) for k in ("x1", "y1", "x2", "y2")]
                was_missing.append(False)
            else:
                rgb = _read_rgb(p)
                hh, ww = rgb.shape[:2]
                h = max(hh, ww) / 2.0
                img = crop_face(rgb, (ww / 2 - h, hh / 2 - h, ww / 2 + h, hh / 2 + h), size or 128,
                                border=cv2.BORDER_REPLICATE)
                near = min(labelled, key=lambda t: abs(t[0] - i))[1]
                box = [float(near[k]) for k in ("x1", "y1", "x2", "y2")]
                was_missing.append(True)
            imgs.append(img)
            boxes.append(box)
            idxs.append(i)
        pred = predict_boxes(model, imgs, boxes, batch_size)
        ok = np.isfinite(pred[:, 0])
        n_frames += len(frames)
        n_missing += int(sum(was_missing))
        missing_answered += int(sum(1 for w, o in zip(was_missing, ok) if w and o))
        per[s[1:]] = {"frames": len(frames), "answered": int(ok.sum()), "teacher_missed": int(sum(was_missing)),
                  "spearman": _spearman(np.array(idxs)[ok], pred[ok, 0]),
                  "yaw_first": float(pred[0, 0]), "yaw_last": float(pred[-1, 0])}
    rhos = np.array([v["spearman"] for v in per.values() if np.isfinite(v["spearman"])])
    return {"subset": "every UMIST frame (teacher-missed profiles included)", "sequences": len(per),
            "frames": n_frames, "teacher_missed": n_missing, "model_answered_teacher_missed": missing_answered,
            "median_abs_spearman": float(np.median(np.abs(rhos))) if len(rhos) else None,
            "min_abs_spearman": float(np.min(np.abs(rhos))) if len(rhos) else None,
            "per_sequence": per}


def panoptic_model(model, panoptic_dir: Path, detector=None) -> Dict:
    """The Panoptic check (training.evaluate.panoptic_check) with the model on a detected canonical box."""
    from gazenet_app.training.evaluate import panoptic_check

    if detector is None:
        from gazenet_app.detect.registry import get_detector

        detector = get_detector("mtcnn")

    def predict(crop: np.ndarray) -> Optional[Tuple[float, float, float]]:
        box = _detected_box(detector, crop, (np.nan,) * 4)
        if not np.isfinite(box).all():
            return None
        return tuple(float(v) for v in predict_boxes(model, [crop], [box])[0])

    return panoptic_check(Path(panoptic_dir), predict)


def format_mae_table(results: Mapping[str, Dict]) -> str:
    """The paper's table for results made by `mae_report`."""
    lines = [f"{'dataset':32s} {'yaw':>7s} {'pitch':>7s} {'roll':>7s} {'mean':>7s} {'n':>7s}"]
    for name, r in results.items():
        f = lambda v: f"{v:7.2f}" if isinstance(v, (int, float)) and v is not None else f"{'-':>7s}"  # noqa: E731
        lines.append(f"{name[:32]:32s} {f(r.get('yaw'))} {f(r.get('pitch'))} {f(r.get('roll'))} "
                     f"{f(r.get('mean'))} {r.get('n', 0):7d}")
    return "\n".join(lines)


def card_eval(dataset: str, metrics: Mapping[str, Tuple[Optional[float], int]], label_source: str,
              command: str) -> Dict[str, Dict[str, Dict]]:
    """Card `eval` entries {dataset: {metric: {value, n, label_source, command}}} (None values left out)."""
    entries = {m: {"value": round(float(v), 4), "n": int(n), "label_source": label_source, "command": command}
               for m, (v, n) in metrics.items() if v is not None and n and np.isfinite(v)}
    return {dataset: entries} if entries else {}


def update_card_eval(model_info, card_eval_entries: Mapping[str, Mapping[str, Dict]]) -> Path:
    """Write the entries into the model's card (validated; the weights' checksum is untouched)."""
    from gazenet_app.model_zoo.card import load_card, with_eval, write_card

    path = Path(model_info.card_path)
    return write_card(with_eval(load_card(path), card_eval_entries), path)


