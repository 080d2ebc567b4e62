"""One-Euro filtering (Casiez et al., CHI 2012) of head-pose angles (wrap-aware) and face boxes, per face id.

The One-Euro filter is a low-pass whose cutoff rises with speed: `cutoff = min_cutoff + beta * |dx/dt|`.
Lower `min_cutoff` removes more jitter when the head is still; higher `beta` lags less when it moves;
`d_cutoff` smooths the speed estimate. Angles are filtered on the circle: each new angle is unwrapped next
to the last filtered one, so 179 -> -179 is a 2-degree step, not 358.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Dict, Iterable, Optional, Tuple

import numpy as np

from gazenet_app.core.types import FaceBox, HeadPose

__all__ = ["OneEuroFilter", "OneEuroParams", "PoseSmoother"]


@dataclass(frozen=True)
class OneEuroParams:
    """min_cutoff (Hz), beta (1/unit), d_cutoff (Hz) of a One-Euro filter."""

    min_cutoff: float = 1.0
    beta: float = 0.0
    d_cutoff: float = 1.0


def _alpha(cutoff: np.ndarray, dt: float) -> np.ndarray:
    tau = 1.0 / (2.0 * math.pi * np.asarray(cutoff, dtype=np.float64))
    return 1.0 / (1.0 + tau / dt)


class OneEuroFilter:
    """One-Euro filter over a vector; `period` (e.g. 360) makes it wrap-aware, values in [-period/2, period/2)."""

    def __init__(self, min_cutoff: float = 1.0, beta: float = 0.0, d_cutoff: float = 1.0,
                 period: Optional[float] = None) -> None:
        if min_cutoff <= 0 or d_cutoff <= 0 or beta < 0:
            raise ValueError(f"One-Euro needs min_cutoff > 0, d_cutoff > 0, beta >= 0; got "
                             f"{min_cutoff}, {d_cutoff}, {beta}")
        self.params = OneEuroParams(float(min_cutoff), float(beta), float(d_cutoff))
        self.period = period
        self.reset()

    def reset(self) -> None:
        """Forget the state: the next value passes through unchanged."""
        self._x: Optional[np.ndarray] = None
        self._dx: Optional[np.ndarray] = None
        self._t: Optional[float] = None

    def _wrap(self, x: np.ndarray) -> np.ndarray:
        p = self.period
        return (x + p / 2.0) % p - p / 2.0

    def __call__(self, t_s: float, x) -> np.ndarray:
        """The filtered value of x at time t_s (seconds; must increase, a repeated time returns the last value)."""
        x = np.asarray(x, dtype=np.float64)
        if self._x is None:
            self._x, self._dx, self._t = (self._wrap(x) if self.period else x.copy()), np.zeros_like(x), t_s
            return self._x.copy()
        dt = t_s - self._t
        if dt <= 0:
            return self._x.copy()
        if self.period:
            x = self._x + self._wrap(x - self._x)  # unwrap next to the last filtered value
        p = self.params
        dx = (x - self._x) / dt
        self._dx = self._dx + _alpha(p.d_cutoff, dt) * (dx - self._dx)
        cutoff = p.min_cutoff + p.beta * np.abs(self._dx)
        y = self._x + _alpha(cutoff, dt) * (x - self._x)
        if self.period:
            y = self._wrap(y)
        self._x, self._t = y, t_s
        return y.copy()


class PoseSmoother:
    """Per-face One-Euro filters: angles (wrap-aware, degrees) and box corners (pixels)."""

    def __init__(self, pose: OneEuroParams = OneEuroParams(min_cutoff=1.0, beta=0.05, d_cutoff=1.0),
                 box: OneEuroParams = OneEuroParams(min_cutoff=1.5, beta=0.02, d_cutoff=1.0)) -> None:
        self.pose_params, self.box_params = pose, box
        OneEuroFilter(pose.min_cutoff, pose.beta, pose.d_cutoff)  # validate now
        OneEuroFilter(box.min_cutoff, box.beta, box.d_cutoff)
        self._filters: Dict[int, Tuple[OneEuroFilter, OneEuroFilter]] = {}

    def describe(self) -> dict:
        """Settings for sidecars."""
        return {"filter": "one-euro", "pose": self.pose_params.__dict__, "box": self.box_params.__dict__}

    def smooth(self, face_id: int, t_s: float, pose: Optional[HeadPose],
               box: Optional[FaceBox]) -> Tuple[Optional[HeadPose], Optional[FaceBox]]:
        """Smoothed (pose, box) of one face at time t_s; a None input passes through as None."""
        if face_id not in self._filters:
            pp, bp = self.pose_params, self.box_params
            self._filters[face_id] = (OneEuroFilter(pp.min_cutoff, pp.beta, pp.d_cutoff, period=360.0),
                                      OneEuroFilter(bp.min_cutoff, bp.beta, bp.d_cutoff))
        fp, fb = self._filters[face_id]
        out_pose = None
        if pose is not None:
            y = fp(t_s, pose.as_tuple())
            out_pose = HeadPose(float(y[0]), float(y[1]), float(y[2]))
        out_box = None
        if box is not None:
            y = fb(t_s, box.as_tuple())
            lm = box.landmarks
            if lm is not None:
                dx = (y[0] + y[2] - box.x1 - box.x2) / 2.0
                dy = (y[1] + y[3] - box.y1 - box.y2) / 2.0
                lm = tuple((px + dx, py + dy) for px, py in lm)
            out_box = replace(box, x1=float(y[0]), y1=float(y[1]), x2=float(y[2]), y2=float(y[3]), landmarks=lm)
        return out_pose, out_box

    def forget(self, ids: Iterable[int]) -> None:
        """Drop the filters of faces whose tracks ended."""
        for i in ids:
            self._filters.pop(i, None)

    def reset(self) -> None:
        """Drop every face's filters."""
        self._filters.clear()
