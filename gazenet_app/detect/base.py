"""The face-detector interface: detect(rgb) -> FaceBoxes in frame coordinates, and the canonical box.

Every detector downscales a frame whose longer side exceeds its preset's `max_side` before detecting and maps
the boxes back, so a 4K frame costs what a `max_side` frame costs. `to_canonical` turns a detector's own box
into gazenet's canonical face box (gazenet_app.core.transforms.canonical_box_from_landmarks): from the five
landmarks when the box has them, otherwise through the detector's `BoxMapping`, fitted by measurement against
MTCNN's landmark boxes on the shared photos (scripts/fit_box_mapping.py).
"""

from __future__ import annotations

import abc
from dataclasses import asdict, dataclass, replace
from typing import Dict, List, Optional

import cv2
import numpy as np

from gazenet_app.core.errors import DetectorError
from gazenet_app.core.transforms import canonical_box_from_landmarks
from gazenet_app.core.types import FaceBox

__all__ = ["DetectorPreset", "BoxMapping", "FaceDetector", "check_frame", "clip_box"]


@dataclass(frozen=True)
class DetectorPreset:
    """Named detector settings: smallest face (pixels in the detector's frame), longest side, score cut."""

    name: str
    min_face: int
    max_side: int
    score_threshold: float
    description: str = ""


@dataclass(frozen=True)
class BoxMapping:
    """Detector box -> canonical square: centre shifted by (dx, dy) * box size, side = scale * box size.

    Box size is sqrt(w * h) of the detector's box.
    """

    dx: float = 0.0
    dy: float = 0.0
    scale: float = 1.0

    def apply(self, box: FaceBox) -> FaceBox:
        """The canonical square box of a detector box without landmarks."""
        cx, cy = box.center
        size = float(np.sqrt(max(box.width, 1e-6) * max(box.height, 1e-6)))
        cx, cy = cx + self.dx * size, cy + self.dy * size
        h = self.scale * size / 2.0
        return replace(box, x1=cx - h, y1=cy - h, x2=cx + h, y2=cy + h)


def check_frame(rgb: np.ndarray) -> np.ndarray:
    """The frame as a contiguous HxWx3 uint8 array; anything else raises DetectorError."""
    if not isinstance(rgb, np.ndarray) or rgb.ndim != 3 or rgb.shape[2] != 3:
        shape = getattr(rgb, "shape", None)
        raise DetectorError(f"a detector needs an HxWx3 RGB frame, got shape {shape}")
    if rgb.shape[0] < 1 or rgb.shape[1] < 1:
        raise DetectorError(f"empty frame of shape {rgb.shape}")
    if rgb.dtype != np.uint8:
        rgb = np.clip(rgb, 0, 255).astype(np.uint8)
    return np.ascontiguousarray(rgb)


def clip_box(box: FaceBox, width: int, height: int) -> FaceBox:
    """The box clipped to the frame (landmarks unchanged)."""
    return replace(box, x1=float(min(max(box.x1, 0.0), width)), y1=float(min(max(box.y1, 0.0), height)),
                   x2=float(min(max(box.x2, 0.0), width)), y2=float(min(max(box.y2, 0.0), height)))


class FaceDetector(abc.ABC):
    """A face detector with a preset; subclasses implement `_detect` on the (downscaled) frame."""

    #: Registry name of the detector family.
    name: str = ""
    #: Presets of this detector, by name; the registry picks `default_preset` when none is given.
    presets: Dict[str, DetectorPreset] = {}
    default_preset: str = "accurate"
    #: Box -> canonical box for boxes without landmarks.
    box_mapping: BoxMapping = BoxMapping()

    def __init__(self, preset: Optional[str] = None, *, min_face: Optional[int] = None,
                 max_side: Optional[int] = None, score_threshold: Optional[float] = None) -> None:
        name = preset or self.default_preset
        if name not in self.presets:
            raise DetectorError(f"unknown preset {name!r} for detector {self.name!r}; "
                                f"valid: {', '.join(sorted(self.presets))}")
        p = self.presets[name]
        over = {k: v for k, v in (("min_face", min_face), ("max_side", max_side),
                                  ("score_threshold", score_threshold)) if v is not None}
        if over:
            p = replace(p, **over)
        if p.max_side < 32 or p.min_face < 1:
            raise DetectorError(f"invalid detector settings: max_side={p.max_side}, min_face={p.min_face}")
        self._preset = p

    @property
    def preset(self) -> str:
        """The preset's name."""
        return self._preset.name

    @property
    def settings(self) -> DetectorPreset:
        """The preset's values, with any overrides applied."""
        return self._preset

    def detect(self, rgb: np.ndarray) -> List[FaceBox]:
        """Faces in an RGB frame, in frame coordinates, best score first."""
        rgb = check_frame(rgb)
        h, w = rgb.shape[:2]
        factor = min(1.0, self._preset.max_side / float(max(h, w)))
        small = rgb
        if factor < 1.0:
            size = (max(1, int(round(w * factor))), max(1, int(round(h * factor))))
            small = cv2.resize(rgb, size, interpolation=cv2.INTER_AREA)
        boxes = self._kept(self._detect(small))
        if factor < 1.0:
            boxes = [b.scaled(1.0 / factor) for b in boxes]
        boxes = [clip_box(b, w, h) for b in boxes]
        boxes = [b for b in boxes if b.width >= 1.0 and b.height >= 1.0]
        return sorted(boxes, key=lambda b: -b.score)

    @abc.abstractmethod
    def _detect(self, rgb: np.ndarray) -> List[FaceBox]:
        """Faces in a frame no larger than max_side (coordinates of that frame)."""

    def _kept(self, boxes: List[FaceBox]) -> List[FaceBox]:
        """The boxes that pass the preset's score cut (a detector that cuts its own boxes overrides this)."""
        return [b for b in boxes if b.score >= self._preset.score_threshold]

    def to_canonical(self, box: FaceBox) -> FaceBox:
        """gazenet's canonical face box for one of this detector's boxes (landmarks if it has them)."""
        if box.landmarks is not None:
            return canonical_box_from_landmarks(box.landmarks, box.score)
        return self.box_mapping.apply(box)

    def metadata(self) -> dict:
        """Provenance for sidecars and model cards: detector name, preset values, box mapping."""
        return {"detector": self.name, "preset": self._preset.name, "settings": asdict(self._preset),
                "box_mapping": asdict(self.box_mapping)}
