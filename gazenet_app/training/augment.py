"""Online augmentation: random crop margin around the model's crop preset, flip, blur, down-scaling, colour.

Every crop goes through `core.transforms.expand_box` + `crop_face`, so the test crop (`eval_crop`, the
preset with scale 1) is exactly what `gazenet predict` and `gazenet evaluate` feed the model.
Flipping mirrors the image: yaw and roll change sign, pitch does not, and the left/right landmarks swap
(eyes 0<->1, mouth corners 3<->4) so "left eye" stays the image-left eye.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Optional, Tuple

import cv2
import numpy as np

from gazenet_app.core.transforms import CropPreset, crop_face, expand_box, get_crop_preset

__all__ = [
    "AugmentConfig",
    "FLIP_ORDER",
    "flip_labels",
    "flip_landmarks",
    "landmarks_in_crop",
    "crop_region",
    "eval_crop",
    "augment_sample",
]

#: Index permutation of the five landmarks under a horizontal flip.
FLIP_ORDER = (1, 0, 2, 4, 3)


@dataclass(frozen=True)
class AugmentConfig:
    """Online augmentation settings (all probabilities per sample).

    margin_scale: the preset's expansion is multiplied by a factor drawn from this range (Hopenet draws
    k in [0.2, 0.4] around a k=0.2 test crop, i.e. (1.0, 2.0); the default also covers tighter boxes, as a
    detector's box mapped onto the canonical box can be). shift: centre jitter as a fraction of the box side.
    shao_margin: when set, Shao et al.'s box-margin adjustment: a uniform margin m drawn from (lo, hi) on
    every side of the box instead of the preset's (train and test then both use a margin, test the mean).
    downscale_min: the smallest side (px) a down-scaled crop passes through before going back up.
    """

    size: int = 112
    preset: str = "gazenet"
    margin_scale: Tuple[float, float] = (0.7, 1.6)
    shift: float = 0.05
    flip_p: float = 0.5
    blur_p: float = 0.15
    blur_sigma: Tuple[float, float] = (0.5, 1.6)
    downscale_p: float = 0.25
    downscale_min: int = 16
    color_p: float = 0.5
    gray_p: float = 0.1
    shao_margin: Optional[Tuple[float, float]] = None

    def to_dict(self) -> dict:
        """Plain dict (for run configs and model cards)."""
        return asdict(self)


def flip_landmarks(landmarks: np.ndarray, width: float) -> np.ndarray:
    """Landmarks (5, 2) of an image mirrored across its width: x -> width - x, left/right swapped."""
    lm = np.asarray(landmarks, dtype=np.float32).reshape(5, 2).copy()
    lm[:, 0] = width - lm[:, 0]
    return lm[list(FLIP_ORDER)]


def flip_labels(pose: np.ndarray) -> np.ndarray:
    """Pose (yaw, pitch, roll) of the mirrored image: yaw and roll negated; a 4th column, the signed human
    turn class (`pack.turn_from_class`), is negated like yaw."""
    p = np.asarray(pose, dtype=np.float32).copy()
    p[..., 0] *= -1.0
    p[..., 2] *= -1.0
    if p.shape[-1] > 3:
        p[..., 3] *= -1.0
    return p


def crop_region(box, preset: CropPreset, scale: float = 1.0, shift=(0.0, 0.0),
                shao_margin: Optional[float] = None) -> Tuple[float, float, float, float]:
    """The crop region of a box: the preset (times `scale`) or a uniform Shao margin, shifted by a fraction
    of the box side."""
    x1, y1, x2, y2 = (float(v) for v in box)
    if shao_margin is not None:
        w, h = x2 - x1, y2 - y1
        region = (x1 - shao_margin * w, y1 - shao_margin * h, x2 + shao_margin * w, y2 + shao_margin * h)
        if preset.square:
            cx, cy = (region[0] + region[2]) / 2.0, (region[1] + region[3]) / 2.0
            s = max(region[2] - region[0], region[3] - region[1]) / 2.0
            region = (cx - s, cy - s, cx + s, cy + s)
    else:
        region = expand_box((x1, y1, x2, y2), preset, scale)
    side = max(x2 - x1, y2 - y1)
    dx, dy = shift[0] * side, shift[1] * side
    return (region[0] + dx, region[1] + dy, region[2] + dx, region[3] + dy)


def landmarks_in_crop(landmarks: Optional[np.ndarray], region, size: int) -> Optional[np.ndarray]:
    """Five landmarks (image pixels) in the pixels of a `size` crop of `region`; None when missing or not finite."""
    if landmarks is None or not np.isfinite(landmarks).all():
        return None
    lm = np.asarray(landmarks, dtype=np.float32).reshape(5, 2).copy()
    lm[:, 0] = (lm[:, 0] - region[0]) * size / (region[2] - region[0])
    lm[:, 1] = (lm[:, 1] - region[1]) * size / (region[3] - region[1])
    return lm


def eval_crop(rgb: np.ndarray, box, size: int, preset: str = "gazenet",
              shao_margin: Optional[float] = None) -> np.ndarray:
    """The deterministic test crop of a face box (the model's preset at scale 1)."""
    return crop_face(rgb, crop_region(box, get_crop_preset(preset), shao_margin=shao_margin), size)


def augment_sample(rgb: np.ndarray, box, pose, rng: np.random.Generator, cfg: AugmentConfig,
                   landmarks: Optional[np.ndarray] = None):
    """One augmented training crop: returns (crop uint8 size x size x 3, pose (3,) float32, landmarks in crop
    pixels (5, 2) or None)."""
    preset = get_crop_preset(cfg.preset)
    scale = float(rng.uniform(*cfg.margin_scale))
    shift = rng.uniform(-cfg.shift, cfg.shift, size=2) if cfg.shift > 0 else (0.0, 0.0)
    margin = float(rng.uniform(*cfg.shao_margin)) if cfg.shao_margin is not None else None
    region = crop_region(box, preset, scale, shift, margin)
    size = cfg.size
    crop = crop_face(rgb, region, size)
    pose = np.asarray(pose, dtype=np.float32).copy()
    lm = landmarks_in_crop(landmarks, region, size)
    if rng.random() < cfg.flip_p:
        crop = np.ascontiguousarray(crop[:, ::-1])
        pose = flip_labels(pose)
        if lm is not None:
            lm = flip_landmarks(lm, size)
    if rng.random() < cfg.downscale_p and cfg.downscale_min < size:
        small = int(rng.integers(cfg.downscale_min, size))
        crop = cv2.resize(cv2.resize(crop, (small, small), interpolation=cv2.INTER_AREA), (size, size),
                          interpolation=cv2.INTER_LINEAR)
    if rng.random() < cfg.blur_p:
        crop = cv2.GaussianBlur(crop, (0, 0), float(rng.uniform(*cfg.blur_sigma)))
    if rng.random() < cfg.gray_p:
        g = cv2.cvtColor(crop, cv2.COLOR_RGB2GRAY)
        crop = np.repeat(g[:, :, None], 3, axis=2)
    if rng.random() < cfg.color_p:
        alpha = float(rng.uniform(0.7, 1.3))
        beta = float(rng.uniform(-25, 25))
        crop = cv2.convertScaleAbs(crop, alpha=alpha, beta=beta)
    return crop, pose, lm
