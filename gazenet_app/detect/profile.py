"""Profile-face proposals: OpenCV's Haar profile cascade on the frame and its mirror (both facing directions).

MTCNN's P-Net rarely proposes a face turned 75-90 degrees, so the MTCNN detector asks this cascade for
candidate squares there and keeps only those its own O-Net confirms (gazenet_app.detect.mtcnn). The cascade
runs on the grey frame without histogram equalisation (equalising lost a third of UMIST's profiles, measured
by scripts/profile_detection.py's sets) and on a copy no larger than `max_side`, so its cost stays bounded.
"""

from __future__ import annotations

import os

import cv2
import numpy as np

from gazenet_app.core.errors import DetectorError

__all__ = ["ProfileCascade", "square_boxes"]


class ProfileCascade:
    """Square candidate boxes of profile faces from haarcascade_profileface.xml, run on the frame and its mirror."""

    def __init__(self, min_face: int, max_side: int = 640, scale_factor: float = 1.1, min_neighbors: int = 2) -> None:
        path = os.path.join(cv2.data.haarcascades, "haarcascade_profileface.xml")
        self._clf = cv2.CascadeClassifier(path)
        if self._clf.empty():
            raise DetectorError(f"OpenCV cascade {path} could not be loaded (opencv-python-headless installs it)")
        self.min_face = int(min_face)
        self.max_side = int(max_side)
        self.scale_factor = float(scale_factor)
        self.min_neighbors = int(min_neighbors)

    def candidates(self, rgb: np.ndarray) -> np.ndarray:
        """(N, 4) square (x1, y1, x2, y2) boxes in `rgb`'s pixels, each centred on a cascade hit."""
        grey = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
        h, w = grey.shape
        factor = min(1.0, self.max_side / float(max(h, w)))
        if factor < 1.0:
            grey = cv2.resize(grey, (max(1, int(round(w * factor))), max(1, int(round(h * factor)))),
                              interpolation=cv2.INTER_AREA)
        s = max(1, int(round(self.min_face * factor)))
        found = []
        for mirrored in (False, True):
            img = np.ascontiguousarray(grey[:, ::-1]) if mirrored else grey
            rects = np.asarray(self._clf.detectMultiScale(img, scaleFactor=self.scale_factor,
                                                          minNeighbors=self.min_neighbors, minSize=(s, s)),
                               dtype=np.float64).reshape(-1, 4)
            if mirrored and len(rects):
                rects[:, 0] = img.shape[1] - rects[:, 0] - rects[:, 2]
            found.append(rects)
        rects = np.concatenate(found, axis=0) / factor
        return square_boxes(np.column_stack([rects[:, :2], rects[:, :2] + rects[:, 2:]]))


def square_boxes(boxes: np.ndarray) -> np.ndarray:
    """The square of each (x1, y1, x2, y2) box's longer side, same centre."""
    boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    cx, cy = (boxes[:, 0] + boxes[:, 2]) / 2.0, (boxes[:, 1] + boxes[:, 3]) / 2.0
    half = np.maximum(boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1]) / 2.0
    return np.column_stack([cx - half, cy - half, cx + half, cy + half])
