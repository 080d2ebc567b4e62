"""Real checks of head-pose labels or predictions (behind `gazenet evaluate`).

Everything scores a `poses` mapping (row path -> (yaw, pitch, roll)) against the rows of a labels.csv, so the
teacher's labels (the csv's own angles) and a model's predictions are scored on the same faces: each result
names its subset and n.
- AFLW (held-out MTFL test faces with a human 5-class pose): Spearman of yaw with the class, 5-class agreement
  with class boundaries fitted on the train split, yaw sign errors on turned classes, per-class yaw medians.
- UMIST: per-sequence Spearman of yaw along each head-turn sequence, frames without an answer.
- Roll against the eye line of the human five landmarks.
- Panoptic: the visible true-angle frame (n=1, a sanity check of the sign convention).
- Render read-back: held-out faces rendered at known offsets, read back by the teacher.
"""

from __future__ import annotations

import csv
import re
from pathlib import Path
from typing import Callable, Dict, List, Mapping, Optional, Sequence, Tuple

import numpy as np

__all__ = [
    "Poses",
    "poses_from_rows",
    "fit_class_boundaries",
    "classify_yaw",
    "aflw_checks",
    "roll_vs_eye_line",
    "umist_checks",
    "panoptic_check",
    "render_readback",
    "format_report",
]

Poses = Mapping[str, Tuple[float, float, float]]
#: MTFL pose classes: 1 left profile, 2 left, 3 frontal, 4 right, 5 right profile (1/2: nose toward image-left).
CLASSES = (1, 2, 3, 4, 5)


def poses_from_rows(rows: Sequence[Mapping[str, str]]) -> Dict[str, Tuple[float, float, float]]:
    """The labels.csv's own angles as a poses mapping (path -> (yaw, pitch, roll))."""
    return {r["path"]: (float(r["yaw"]), float(r["pitch"]), float(r["roll"])) for r in rows}


def _spearman(a, b) -> float:
    from scipy.stats import spearmanr

    if len(a) < 3:
        return float("nan")
    return float(spearmanr(a, b).correlation)


def _class_rows(rows, poses):
    out = [(r, poses[r["path"]]) for r in rows if (r.get("pose_class") or "").strip() and r["path"] in poses]
    cls = np.array([int(r["pose_class"]) for r, _ in out], dtype=int)
    yaw = np.array([p[0] for _, p in out], dtype=float)
    return out, cls, yaw


def fit_class_boundaries(cls: np.ndarray, yaw: np.ndarray) -> np.ndarray:
    """Four yaw thresholds (decreasing) between classes 1|2|3|4|5.

    Each minimises the error rate of its two neighbouring classes, each class weighted equally (MTFL's frontal
    class is 5x the others; counting raw errors would push the boundaries into the small classes).
    """
    th = []
    for k in range(1, 5):
        a, b = yaw[cls == k], yaw[cls == k + 1]       # class k has larger yaw than class k+1
        if len(a) == 0 or len(b) == 0:
            raise ValueError(f"no faces of class {k if len(a) == 0 else k + 1} to fit a boundary")
        cand = np.unique(np.concatenate([a, b]))
        errs = [np.mean(a < c) + np.mean(b >= c) for c in cand]
        th.append(float(cand[int(np.argmin(errs))]))
    return np.array(th)


def classify_yaw(yaw: np.ndarray, thresholds: np.ndarray) -> np.ndarray:
    """MTFL class (1..5) of yaws under fitted thresholds."""
    yaw = np.asarray(yaw, dtype=float)
    cls = np.full(yaw.shape, 5, dtype=int)
    for k in range(4, 0, -1):
        cls[yaw >= thresholds[k - 1]] = k
    return cls


def aflw_checks(rows: Sequence[Mapping[str, str]], poses: Poses, train_rows: Optional[Sequence] = None,
                train_poses: Optional[Poses] = None) -> Dict:
    """Class-based checks on rows with a human pose class that `poses` answers (the stated subset)."""
    out, cls, yaw = _class_rows(rows, poses)
    n_class = sum(1 for r in rows if (r.get("pose_class") or "").strip())
    res: Dict = {"subset": "rows with a human pose class and an answer", "n": int(len(out)),
                 "n_with_class": n_class}
    if not len(out):
        return res
    res["spearman_yaw_class"] = _spearman(yaw, cls)
    turned_left = cls <= 2
    turned_right = cls >= 4
    wrong = (turned_left & (yaw <= 0)) | (turned_right & (yaw >= 0))
    res["sign_errors"] = {"n_turned": int(turned_left.sum() + turned_right.sum()),
                          "wrong": int(wrong.sum()),
                          "wrong_profile_classes": int((yaw[cls == 1] <= 0).sum() + (yaw[cls == 5] >= 0).sum()),
                          # how far past zero the wrong ones are: a -0.2 on a face a human called "left" is
                          # a tie with the frontal class, a -20 is a mirrored answer
                          "wrong_abs_yaw": sorted(round(float(abs(v)), 2) for v in yaw[wrong])}
    res["per_class"] = {str(c): {"n": int((cls == c).sum()),
                                 "median_yaw": float(np.median(yaw[cls == c])) if (cls == c).any() else None}
                        for c in CLASSES}
    if train_rows is not None:
        tp = train_poses if train_poses is not None else poses_from_rows(train_rows)
        _, tcls, tyaw = _class_rows(train_rows, tp)
        th = fit_class_boundaries(tcls, tyaw)
        pred = classify_yaw(yaw, th)
        recall = [float((pred[cls == c] == c).mean()) for c in CLASSES if (cls == c).any()]
        res["class_agreement"] = {"thresholds_fitted_on_train": [round(float(t), 2) for t in th],
                                  "n_train": int(len(tcls)), "accuracy": float((pred == cls).mean()),
                                  "balanced_accuracy": float(np.mean(recall)),
                                  "within_one_class": float((np.abs(pred - cls) <= 1).mean())}
    return res


def roll_vs_eye_line(rows: Sequence[Mapping[str, str]], poses: Poses, max_abs_yaw: float = 45.0) -> Dict:
    """Roll against the angle of the human eye line (image-left eye -> image-right eye; y down = clockwise).

    Subset: rows with human landmarks (not re-cut from the mesh) and |yaw| <= max_abs_yaw (the eye line tilts
    with yaw x pitch beyond that).
    """
    sel = [r for r in rows if r.get("landmarks_from", "human") != "mesh" and r["path"] in poses
           and abs(poses[r["path"]][0]) <= max_abs_yaw]
    if not sel:
        return {"n": 0}
    eye = np.array([np.degrees(np.arctan2(float(r["ly2"]) - float(r["ly1"]), float(r["lx2"]) - float(r["lx1"])))
                    for r in sel])
    roll = np.array([poses[r["path"]][2] for r in sel])
    err = roll - eye
    return {"subset": f"human landmarks, |yaw| <= {max_abs_yaw:g}", "n": len(sel),
            "mae": float(np.abs(err).mean()), "median_abs": float(np.median(np.abs(err))),
            "bias": float(err.mean()), "spearman": _spearman(roll, eye)}


def umist_checks(rows: Sequence[Mapping[str, str]], poses: Poses, frames_per_sequence: int = 19) -> Dict:
    """Per head-turn sequence (UMIST subject): Spearman of yaw with the frame index, frames with no answer."""
    seqs: Dict[str, List[Tuple[int, float]]] = {}
    for r in rows:
        m = re.search(r"s(\d+)_(\d+)\.", r.get("orig", "") or "")
        if not m or r["path"] not in poses:
            continue
        seqs.setdefault(m.group(1), []).append((int(m.group(2)), poses[r["path"]][0]))
    per = {}
    for s, items in sorted(seqs.items()):
        items.sort()
        idx = [i for i, _ in items]
        yaw = [y for _, y in items]
        per[s] = {"answered": len(items), "unanswered": frames_per_sequence - len(items),
                  "spearman": _spearman(idx, yaw), "yaw_first": yaw[0], "yaw_last": yaw[-1]}
    rhos = np.array([v["spearman"] for v in per.values() if np.isfinite(v["spearman"])])
    return {"sequences": len(per), "frames": frames_per_sequence * len(per),
            "unanswered": int(sum(v["unanswered"] for v in per.values())),
            "median_abs_spearman": float(np.median(np.abs(rhos))) if len(rhos) else None,
            "min_abs_spearman": float(np.min(np.abs(rhos))) if len(rhos) else None,
            "per_sequence": per}


def panoptic_check(panoptic_dir: Path, predict: Callable[[np.ndarray], Optional[Tuple[float, float, float]]],
                   camera: str = "00_00") -> Dict:
    """The true-angle Panoptic frame where the face is visible (n=1): its labels' yaw sign is flipped."""
    import cv2

    from gazenet_app.core.transforms import crop_face

    with open(Path(panoptic_dir) / "labels.csv", newline="") as fh:
        row = next(r for r in csv.DictReader(fh, delimiter=";") if r["image"].startswith(camera))
    rgb = cv2.cvtColor(cv2.imread(str(Path(panoptic_dir) / row["image"])), cv2.COLOR_BGR2RGB)
    x, y, w = float(row["x_min"]), float(row["y_min"]), float(row["w"])
    cx, cy = x + w / 2, y + float(row["h"]) / 2
    crop = crop_face(rgb, (cx - w, cy - w, cx + w, cy + w), 256)
    truth = (-float(row["yaw"]), float(row["pitch"]), float(row["roll"]))
    pred = predict(crop)
    res = {"image": row["image"], "n": 1, "truth_hopenet_convention": [round(v, 2) for v in truth]}
    if pred is None:
        res["answer"] = None
    else:
        res["answer"] = [round(float(v), 2) for v in pred]
        res["abs_error"] = [round(abs(float(a) - b), 2) for a, b in zip(pred, truth)]
    return res


def yaw_error_bands(angle: np.ndarray, yaw_err: np.ndarray, bands) -> Dict[str, Dict[str, float]]:
    """Yaw read errors grouped by |angle| (an offset or a target) in [lo, hi) bands: n, MAE and the mean error
    signed toward the angle (> 0: read as turned further); empty bands are left out."""
    angle, yaw_err = np.asarray(angle, dtype=np.float64), np.asarray(yaw_err, dtype=np.float64)
    a, signed = np.abs(angle), yaw_err * np.sign(angle)
    return {f"{lo}-{hi}": {"n": int(m.sum()), "mae_yaw": float(np.abs(yaw_err[m]).mean()),
                           "mean_signed_yaw_error": float(signed[m].mean())}
            for lo, hi in bands for m in [(a >= lo) & (a < hi)] if m.any()}


def render_readback(folder: Path, n: int = 50, max_offset: float = 45.0, seed: int = 0) -> Dict:
    """Render n faces of a labelled folder at known yaw offsets in +-max_offset, read them back with the teacher.

    Error = teacher(render) - (label of the render, i.e. R_offset @ R_teacher(source)); faces drawn with
    |source yaw| <= 15, so targets reach ~60. The teacher is metric only up to ~45 (it levels off beyond), so the
    errors are also given by the render's |target yaw| (`by_abs_target`) and for the renders whose target stays
    within +-45 (`mae_yaw_target_within_45`): render fidelity apart from the reader's own saturation.
    """
    import cv2

    from gazenet_app.core.geometry import euler_to_matrix, matrix_to_euler
    from gazenet_app.training.dataset_format import LABELS_NAME, MESHES_NAME, read_labels
    from gazenet_app.training.render import build_head, render_head
    from gazenet_app.training.teacher import TEACHER_INPUT_SIZE, FaceMeshTeacher

    folder = Path(folder)
    rows = read_labels(folder / LABELS_NAME)
    meshes = np.load(folder / MESHES_NAME)
    by_path = {str(p): i for i, p in enumerate(meshes["path"])}
    rng = np.random.default_rng(seed)
    cand = [r for r in rows if abs(float(r["yaw"])) <= 15 and abs(float(r["pitch"])) <= 15]
    pick = [cand[i] for i in rng.choice(len(cand), size=min(n, len(cand)), replace=False)]
    errs, offs, targets, missed = [], [], [], 0
    with FaceMeshTeacher() as teacher:
        for r in pick:
            i = by_path[r["path"]]
            rgb = cv2.cvtColor(cv2.imread(str(folder / r["path"])), cv2.COLOR_BGR2RGB)
            head = build_head(meshes["vertices"][i], meshes["rotation"][i], float(meshes["scale"][i]),
                              meshes["translation"][i])
            off = float(rng.uniform(-max_offset, max_offset))
            R_off = euler_to_matrix(off, 0.0, 0.0)
            img, _, R_label = render_head(rgb, head, R_off)
            big = cv2.resize(img, (TEACHER_INPUT_SIZE, TEACHER_INPUT_SIZE), interpolation=cv2.INTER_LINEAR)
            fit = teacher.fit(big)
            if fit is None:
                missed += 1
                continue
            target = matrix_to_euler(R_label)
            errs.append(np.subtract(fit.pose, target))
            offs.append(off)
            targets.append(target[0])
    e = np.abs(np.array(errs)).reshape(-1, 3)
    yaw_err = np.array(errs).reshape(-1, 3)[:, 0]
    offs_a = np.abs(np.array(offs))
    big_off = offs_a > 30
    signed = yaw_err * np.sign(np.array(offs))  # > 0: read as turned further
    by_offset = yaw_error_bands(np.array(offs), yaw_err, ((0, 15), (15, 30), (30, 45)))
    tgt_a = np.abs(np.array(targets))
    by_target = yaw_error_bands(np.array(targets), yaw_err, ((0, 15), (15, 30), (30, 45), (45, 90)))
    within = tgt_a <= 45
    return {"subset": f"{folder.name}: faces with |yaw|,|pitch| <= 15, yaw offsets uniform in +-{max_offset:g}",
            "n": len(pick), "answered": len(errs), "unanswered": missed,
            "mae_yaw": float(e[:, 0].mean()) if len(e) else None,
            "mae_pitch": float(e[:, 1].mean()) if len(e) else None,
            "mae_roll": float(e[:, 2].mean()) if len(e) else None,
            "mae_yaw_offsets_over_30": float(e[big_off, 0].mean()) if big_off.any() else None,
            "n_offsets_over_30": int(big_off.sum()),
            "mean_signed_yaw_error_over_30": float(signed[big_off].mean()) if big_off.any() else None,
            "by_abs_offset": by_offset,
            "mae_yaw_target_within_45": float(e[within, 0].mean()) if within.any() else None,
            "n_target_within_45": int(within.sum()),
            "by_abs_target": by_target}


def format_report(results: Mapping[str, Dict]) -> str:
    """Readable text of an evaluation's results (the JSON keeps everything)."""
    lines = []
    for name, res in results.items():
        lines.append(f"[{name}]")
        for k, v in res.items():
            if k == "per_sequence":
                v = ", ".join(f"s{s}: rho {d['spearman']:+.2f} ({d['answered']} frames)" for s, d in v.items())
            elif isinstance(v, float):
                v = f"{v:.3f}"
            lines.append(f"  {k}: {v}")
    return "\n".join(lines)
