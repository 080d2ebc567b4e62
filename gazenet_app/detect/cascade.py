"""OpenCV Haar cascades (frontal + profile, both profile directions): the dependency-free second detector.

No landmarks, so `to_canonical` uses a box mapping fitted against MTCNN's landmark boxes on the shared photos
(scripts/fit_box_mapping.py prints it). Scores are a logistic of the cascade's last-stage weight.
"""

from __future__ import annotations

import os
from typing import Dict, List, Optional

import cv2
import numpy as np

from gazenet_app.core.errors import DetectorError
from gazenet_app.core.types import FaceBox
from gazenet_app.detect.base import BoxMapping, DetectorPreset, FaceDetector
from gazenet_app.detect.nms import nms

__all__ = ["CascadeDetector", "CASCADE_PRESETS"]

CASCADE_PRESETS: Dict[str, DetectorPreset] = {
    p.name: p for p in (
        DetectorPreset("accurate", min_face=20, max_side=1024, score_threshold=0.0,
                       description="frontal + both profile cascades, faces from 20 px in frames up to 1024 px"),
        DetectorPreset("live", min_face=40, max_side=320, score_threshold=0.0,
                       description="frontal + profile cascades on the frame downscaled to 320 px, faces "
                                   "from 40 px there"),
    )
}


def _load(name: str) -> "cv2.CascadeClassifier":
    path = os.path.join(cv2.data.haarcascades, name)
    clf = cv2.CascadeClassifier(path)
    if clf.empty():
        raise DetectorError(f"OpenCV cascade {path} could not be loaded (opencv-python-headless installs it)")
    return clf


class CascadeDetector(FaceDetector):
    """Haar frontal (+ optional profile, run on the frame and its mirror) cascades merged by NMS."""

    name = "cascade"
    presets = CASCADE_PRESETS
    #: Fitted on the shared photos against MTCNN's canonical boxes (scripts/fit_box_mapping.py: 387 boxes;
    #: median IoU with them 0.70 unmapped -> 0.85 mapped).
    box_mapping = BoxMapping(dx=0.007, dy=0.071, scale=0.848)

    def __init__(self, preset: Optional[str] = None, *, profile: bool = True, scale_factor: float = 1.1,
                 min_neighbors: int = 4, nms_threshold: float = 0.3, **kw) -> None:
        super().__init__(preset, **kw)
        self._frontal = _load("haarcascade_frontalface_default.xml")
        self._profile = _load("haarcascade_profileface.xml") if profile else None
        self._scale_factor = float(scale_factor)
        self._min_neighbors = int(min_neighbors)
        self._nms_threshold = float(nms_threshold)

    def _run(self, clf: "cv2.CascadeClassifier", grey: np.ndarray) -> tuple:
        s = self.settings.min_face
        rects, _, weights = clf.detectMultiScale3(grey, scaleFactor=self._scale_factor,
                                                  minNeighbors=self._min_neighbors, minSize=(s, s),
                                                  outputRejectLevels=True)
        rects = np.asarray(rects, dtype=np.float64).reshape(-1, 4)
        weights = np.asarray(weights, dtype=np.float64).reshape(-1)
        return rects, weights

    def _detect(self, rgb: np.ndarray) -> List[FaceBox]:
        grey = cv2.equalizeHist(cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY))
        w = grey.shape[1]
        parts = [self._run(self._frontal, grey)]
        if self._profile is not None:
            parts.append(self._run(self._profile, grey))
            r, s = self._run(self._profile, np.ascontiguousarray(grey[:, ::-1]))
            if len(r):
                r = r.copy()
                r[:, 0] = w - r[:, 0] - r[:, 2]
            parts.append((r, s))
        rects = np.concatenate([p[0] for p in parts], axis=0)
        weights = np.concatenate([p[1] for p in parts], axis=0)
        if rects.shape[0] == 0:
            return []
        xyxy = np.column_stack([rects[:, 0], rects[:, 1], rects[:, 0] + rects[:, 2], rects[:, 1] + rects[:, 3]])
        scores = 1.0 / (1.0 + np.exp(-weights))
        keep = nms(xyxy, scores, self._nms_threshold)
        return [FaceBox(*map(float, xyxy[i]), float(scores[i])) for i in keep]

    def metadata(self) -> dict:
        """Provenance: preset values plus the cascade settings."""
        meta = super().metadata()
        meta.update({"profile": self._profile is not None, "scale_factor": self._scale_factor,
                     "min_neighbors": self._min_neighbors, "opencv": cv2.__version__})
        return meta
