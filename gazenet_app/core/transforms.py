"""The canonical face box, named crop presets and crop/resize/normalise: one preprocessing for all.

Training, evaluation, prediction, the app and exports crop through these functions, so a model's
`crop` preset (named in its card) means the same thing everywhere.

Canonical face box: a square centred between the eye centre and the mouth centre, of side
max(2.4 * eye-to-mouth distance, 1.5 * landmark extent in x and y); it spans brow to chin on a frontal face
and keeps its size as the head turns (eye-mouth distance does not shrink with yaw or roll). Detectors map
their own boxes onto it (see gazenet_app.detect).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, Optional, Sequence, Tuple

import cv2
import numpy as np

from gazenet_app.core.types import FaceBox

__all__ = [
    "CropPreset",
    "CROP_PRESETS",
    "get_crop_preset",
    "canonical_box_from_landmarks",
    "expand_box",
    "crop_face",
    "normalize",
    "IMAGENET_MEAN",
    "IMAGENET_STD",
]

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)

#: Canonical box: side = max(EYE_MOUTH_SCALE * eye-mouth distance, EXTENT_SCALE * landmark extent).
EYE_MOUTH_SCALE = 2.4
EXTENT_SCALE = 1.5


def canonical_box_from_landmarks(landmarks: Sequence[Sequence[float]], score: float = 1.0) -> FaceBox:
    """The canonical (square) face box of five landmarks: left eye, right eye, nose, mouth l/r."""
    lm = np.asarray(landmarks, dtype=np.float64).reshape(5, 2)
    eye_c = lm[0:2].mean(axis=0)
    mouth_c = lm[3:5].mean(axis=0)
    center = (eye_c + mouth_c) / 2.0
    d = float(np.linalg.norm(mouth_c - eye_c))
    extent = lm.max(axis=0) - lm.min(axis=0)
    side = max(EYE_MOUTH_SCALE * d, EXTENT_SCALE * float(extent.max()), 1.0)
    h = side / 2.0
    return FaceBox(center[0] - h, center[1] - h, center[0] + h, center[1] + h, score,
                   tuple((float(x), float(y)) for x, y in lm))


@dataclass(frozen=True)
class CropPreset:
    """How a face box becomes the network's crop: expand each side by a fraction of the box size.

    `square` makes the expanded region square (longer side, same centre) so the face keeps its aspect.
    """

    name: str
    left: float
    right: float
    top: float
    bottom: float
    square: bool
    description: str = ""


CROP_PRESETS: Dict[str, CropPreset] = {
    p.name: p
    for p in (
        CropPreset("hopenet_video", 0.5, 0.5, 0.75, 0.25, False,
                   "The original test_on_video rule on a detector box: widen by w/2 each side, "
                   "3h/4 above, h/4 below; not square."),
        CropPreset("hopenet_test", 0.12, 0.12, 0.40, 0.12, False,
                   "The original AFLW2000 test crop (k=0.2) on a landmark box: 0.6k each side and "
                   "below, 2k above."),
        CropPreset("gazenet", 0.15, 0.15, 0.15, 0.15, True,
                   "gazenet's crop: the canonical square box widened by 15% on each side "
                   "(1.3x), square, so turned heads keep their outline."),
    )
}


def get_crop_preset(name: str) -> CropPreset:
    """The named crop preset; an unknown name raises ValueError listing the valid ones."""
    try:
        return CROP_PRESETS[name]
    except KeyError:
        raise ValueError(f"unknown crop preset {name!r}; valid: {', '.join(sorted(CROP_PRESETS))}") from None


def expand_box(box: Tuple[float, float, float, float], preset: CropPreset,
               scale: float = 1.0) -> Tuple[float, float, float, float]:
    """The crop region of a box under a preset; `scale` multiplies the expansion (training jitter)."""
    x1, y1, x2, y2 = box
    w, h = x2 - x1, y2 - y1
    x1, x2 = x1 - preset.left * scale * w, x2 + preset.right * scale * w
    y1, y2 = y1 - preset.top * scale * h, y2 + preset.bottom * scale * h
    if preset.square:
        cx, cy = (x1 + x2) / 2.0, (y1 + y2) / 2.0
        s = max(x2 - x1, y2 - y1) / 2.0
        x1, y1, x2, y2 = cx - s, cy - s, cx + s, cy + s
    return (x1, y1, x2, y2)


def crop_face(rgb: np.ndarray, region: Tuple[float, float, float, float], size: int,
              border: int = cv2.BORDER_CONSTANT) -> np.ndarray:
    """Crop `region` (may leave the frame; outside is black) and resize to size x size.

    One bilinear warp, sub-pixel exact; a region more than 2x larger than the crop is first shrunk by an
    integer factor with area averaging (a warp samples only 4 pixels per output pixel, so a big face shrunk
    straight to the network's input would alias into a sharp, noisy crop unlike anything seen in training).
    """
    x1, y1, x2, y2 = (float(v) for v in region)
    sx = size / max(x2 - x1, 1e-6)
    sy = size / max(y2 - y1, 1e-6)
    k = int(1.0 / max(sx, sy))
    if k >= 2:
        # the pixels the warp reads (+ one shrunk pixel each side), padded where the region leaves the frame,
        # area-shrunk by k
        h, w = rgb.shape[:2]
        ix1, iy1 = int(np.floor(x1)) - k, int(np.floor(y1)) - k
        nx = -(-(int(np.ceil(x2)) + k - ix1) // k) * k
        ny = -(-(int(np.ceil(y2)) + k - iy1) // k) * k
        sub = rgb[max(iy1, 0):min(iy1 + ny, h), max(ix1, 0):min(ix1 + nx, w)]
        pads = (max(-iy1, 0), max(iy1 + ny - h, 0), max(-ix1, 0), max(ix1 + nx - w, 0))
        if sub.size == 0:
            sub = np.zeros((ny, nx) + rgb.shape[2:], rgb.dtype)
        elif any(pads):
            sub = cv2.copyMakeBorder(sub, *pads, border, value=0)
        rgb = cv2.resize(sub, (nx // k, ny // k), interpolation=cv2.INTER_AREA)
        # pixel centres: source x maps to (x - ix1 + 0.5) / k - 0.5 in the shrunk image
        x1, x2 = (x1 - ix1 + 0.5) / k - 0.5, (x2 - ix1 + 0.5) / k - 0.5
        y1, y2 = (y1 - iy1 + 0.5) / k - 0.5, (y2 - iy1 + 0.5) / k - 0.5
        sx, sy = size / max(x2 - x1, 1e-6), size / max(y2 - y1, 1e-6)
    M = np.array([[sx, 0.0, -x1 * sx], [0.0, sy, -y1 * sy]], dtype=np.float64)
    return cv2.warpAffine(rgb, M, (size, size), flags=cv2.INTER_LINEAR, borderMode=border)


def normalize(crops: np.ndarray, mean: Optional[Sequence[float]] = IMAGENET_MEAN,
              std: Optional[Sequence[float]] = IMAGENET_STD) -> np.ndarray:
    """uint8 NHWC RGB -> float32 NCHW, scaled to [0, 1] then (x - mean) / std per channel."""
    x = np.asarray(crops, dtype=np.float32) / 255.0
    if x.ndim == 3:
        x = x[None]
    if mean is not None:
        x = (x - np.asarray(mean, dtype=np.float32)) / np.asarray(std, dtype=np.float32)
    return np.ascontiguousarray(x.transpose(0, 3, 1, 2))
