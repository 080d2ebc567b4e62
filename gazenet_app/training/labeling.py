"""`gazenet data label`: teacher-label real faces into the dataset format, keeping each face's fitted mesh.

Each face is cut out as a square region of `CANVAS_SCALE` x its canonical box (the face not tightly cropped),
resized to `size`; FaceMesh runs on the same region at 256 px. Faces the teacher is unsure of are dropped and
counted by reason: no face found, a mesh that disagrees with the human landmarks (another face, a failed fit),
or a poor alignment to the canonical face. Where the face has human landmarks, the label's yaw is fused with
theirs (`teacher.fuse_landmark_yaw`); the mesh fit itself is kept unchanged for synthesis.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Dict, List, Optional, Sequence

import cv2
import numpy as np

from gazenet_app.core.errors import SourceError
from gazenet_app.core.results import write_sidecar
from gazenet_app.core.transforms import canonical_box_from_landmarks, crop_face
from gazenet_app.training.dataset_format import LABELS_NAME, MESHES_NAME, make_row, write_labels
from gazenet_app.training.sources import SourceRecord
from gazenet_app.training.splits import assign_split
from gazenet_app.training.teacher import (LANDMARK_YAW_WEIGHT, TEACHER_INPUT_SIZE, FaceMeshTeacher, MeshFit,
                                          fuse_landmark_yaw)

__all__ = ["CANVAS_SCALE", "MAX_LANDMARK_ERROR", "MAX_FIT_RMS", "LabelReport", "face_region",
           "label_one", "label_records"]

#: The saved image covers CANVAS_SCALE x the canonical box side (box = half the image).
CANVAS_SCALE = 2.0
#: Drop a face when the mesh's five points are farther than this (mean, x eye-mouth distance) from the human ones.
MAX_LANDMARK_ERROR = 0.35
#: Drop a face whose alignment residual (canonical units, ~cm) is above this.
MAX_FIT_RMS = 0.9


@dataclass
class LabelReport:
    """Counts of a labelling run: answered faces and dropped ones by reason."""

    total: int = 0
    kept: int = 0
    relandmarked: int = 0
    landmark_yaw_weight: float = 0.0
    yaw_fused: int = 0
    dropped: Counter = field(default_factory=Counter)

    def as_dict(self) -> Dict:
        """Plain dict for JSON."""
        return {"total": self.total, "kept": self.kept, "landmarks_from_mesh": self.relandmarked,
                "landmark_yaw_weight": self.landmark_yaw_weight, "yaw_fused_with_human_landmarks": self.yaw_fused,
                "dropped": dict(self.dropped)}


def face_region(landmarks: Optional[np.ndarray], shape) -> tuple:
    """The square region saved for a face: CANVAS_SCALE x its canonical box, or the whole image padded."""
    if landmarks is not None:
        b = canonical_box_from_landmarks(landmarks)
        cx, cy = (b.x1 + b.x2) / 2.0, (b.y1 + b.y2) / 2.0
        h = (b.x2 - b.x1) * CANVAS_SCALE / 2.0
    else:
        hh, ww = shape[:2]
        cx, cy, h = ww / 2.0, hh / 2.0, max(hh, ww) / 2.0
    return (cx - h, cy - h, cx + h, cy + h)


def _read_rgb(path: Path) -> np.ndarray:
    bgr = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if bgr is None:
        raise SourceError(f"cannot read image {path}")
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)


def _label_region(teacher, rgb, landmarks, size):
    region = face_region(landmarks, rgb.shape)
    x1, y1, x2, y2 = region
    canvas = crop_face(rgb, region, size, border=cv2.BORDER_REPLICATE)
    big = crop_face(rgb, region, TEACHER_INPUT_SIZE, border=cv2.BORDER_REPLICATE)
    lm = None
    if landmarks is not None:
        lm = (np.asarray(landmarks, dtype=np.float64) - [x1, y1]) * (size / (x2 - x1))
    fit = teacher.fit(big)
    if fit is None:
        return canvas, None, lm, "no_face", region
    k = size / TEACHER_INPUT_SIZE
    fit = MeshFit(fit.vertices * k, fit.rotation, fit.scale * k, fit.translation * k, fit.rms)
    if fit.rms > MAX_FIT_RMS:
        return canvas, fit, lm, "poor_fit", region
    if lm is not None:
        d = np.linalg.norm(lm[3:5].mean(0) - lm[0:2].mean(0))
        err = np.linalg.norm(fit.five_points() - lm, axis=1).mean() / max(d, 1e-6)
        if err > MAX_LANDMARK_ERROR:
            return canvas, fit, lm, "landmark_mismatch", region
    return canvas, fit, lm, "", region


def label_one(teacher: FaceMeshTeacher, rgb: np.ndarray, landmarks: Optional[np.ndarray], size: int):
    """(canvas RGB, fit in canvas px or None, landmarks in canvas px or None, drop reason or '', relandmarked).

    When the human landmarks miss the face the mesh found (MTFL's `net_7876/_*` files carry y-shifted ones),
    the face is re-cut around the mesh's five points, which become its landmarks (`relandmarked` True).
    """
    canvas, fit, lm, reason, region = _label_region(teacher, rgb, landmarks, size)
    if reason != "landmark_mismatch":
        return canvas, fit, lm, reason, False
    x1, y1, x2, y2 = region
    mesh_lm = fit.five_points() * ((x2 - x1) / size) + [x1, y1]
    canvas, fit, lm, reason, _ = _label_region(teacher, rgb, mesh_lm, size)
    if reason:
        return canvas, fit, lm, "landmark_mismatch", True
    return canvas, fit, fit.five_points(), "", True


def label_records(records: Sequence[SourceRecord], out_dir: Path, size: int = 128, val_fraction: float = 0.1,
                  seed: int = 0, progress: Optional[Callable[[int], None]] = None,
                  landmark_yaw_weight: float = LANDMARK_YAW_WEIGHT) -> LabelReport:
    """Label records into out_dir (images/, labels.csv, meshes.npz, label_report.json); returns the counts.

    `landmark_yaw_weight`: share of the human landmarks' yaw in the label (0 = FaceMesh alone).
    """
    out_dir = Path(out_dir)
    (out_dir / "images").mkdir(parents=True, exist_ok=True)
    report = LabelReport(total=len(records), landmark_yaw_weight=float(landmark_yaw_weight))
    rows: List[Dict[str, str]] = []
    mesh_paths, verts, rots, scales, trans = [], [], [], [], []
    with FaceMeshTeacher() as teacher:
        for i, rec in enumerate(records):
            rgb = _read_rgb(rec.image)
            canvas, fit, lm, reason, relandmarked = label_one(teacher, rgb, rec.landmarks, size)
            if progress:
                progress(1)
            if reason:
                report.dropped[reason] += 1
                continue
            human = lm is not None and not relandmarked
            pose = fuse_landmark_yaw(fit, lm if human else None, landmark_yaw_weight)
            report.yaw_fused += int(human and landmark_yaw_weight > 0)
            if lm is None:
                lm = fit.five_points()
            rel = f"images/{i:06d}.jpg"
            cv2.imwrite(str(out_dir / rel), cv2.cvtColor(canvas, cv2.COLOR_RGB2BGR),
                        [cv2.IMWRITE_JPEG_QUALITY, 95])
            split = assign_split(rec.identity, rec.split, val_fraction, seed)
            rows.append(make_row(rel, pose, lm, rec.source, rec.identity, False, split,
                                 pose_class=rec.pose_class, orig=rec.orig, teacher_rms=fit.rms,
                                 landmarks_from="human" if human else "mesh"))
            mesh_paths.append(rel)
            verts.append(fit.vertices.astype(np.float32))
            rots.append(fit.rotation)
            scales.append(fit.scale)
            trans.append(fit.translation)
            report.kept += 1
            report.relandmarked += int(relandmarked)
    write_labels(out_dir / LABELS_NAME, rows)
    np.savez(out_dir / MESHES_NAME, path=np.asarray(mesh_paths), vertices=np.asarray(verts).reshape(-1, 468, 3),
             rotation=np.asarray(rots).reshape(-1, 3, 3), scale=np.asarray(scales),
             translation=np.asarray(trans).reshape(-1, 3))
    write_sidecar(out_dir / "label_report.json", report.as_dict())
    return report
