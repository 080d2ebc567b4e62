"""Following one face in the image while the detector misses it (turned to profile, blurred, occluded).

Three followers behind one interface, `init(grey, box)` then `follow(grey) -> box or None` (None: lost):
- `FlowFollower`: Lucas-Kanade optical flow of corner points inside the box with a forward-backward
  check; the box moves by the median flow and scales by the median change of point distances; it is lost when
  too few points survive (2-4 ms per face on the UMIST clip).
- `TemplateFollower` (the tracker's default): normalised cross-correlation of the last box's patch (blended
  toward each new match) in a window around it; lost when the best correlation falls under a threshold.
  As accurate as flow on the UMIST turns, with and without zoom, at under 1 ms per face.
- `MilFollower`: OpenCV's TrackerMIL (the only learned tracker in headless OpenCV); slower, and it reports
  success almost always, so it cannot tell when the face is gone (~25 ms per face).
scripts/measure_followers.py compares them on a UMIST head turn (docs/detection.md has its figures).
"""

from __future__ import annotations

import abc
from typing import Dict, Optional, Tuple, Type

import cv2
import numpy as np

__all__ = ["Follower", "FlowFollower", "TemplateFollower", "MilFollower", "FOLLOWERS", "get_follower"]

Box = Tuple[float, float, float, float]


def _clip_box(box: Box, w: int, h: int) -> Optional[Box]:
    x1, y1, x2, y2 = max(0.0, box[0]), max(0.0, box[1]), min(float(w), box[2]), min(float(h), box[3])
    if x2 - x1 < 4 or y2 - y1 < 4:
        return None
    return (x1, y1, x2, y2)


class Follower(abc.ABC):
    """Follows one box from frame to frame on greyscale images."""

    name = ""

    @abc.abstractmethod
    def init(self, grey: np.ndarray, box: Box) -> None:
        """Start (or restart) from a known box in this frame."""

    @abc.abstractmethod
    def follow(self, grey: np.ndarray) -> Optional[Box]:
        """The box in the next frame, or None when the face is lost."""


class FlowFollower(Follower):
    """Median LK optical flow of corners in the box, forward-backward checked."""

    name = "flow"

    def __init__(self, max_points: int = 60, min_points: int = 6, fb_error: float = 1.0) -> None:
        self.max_points, self.min_points, self.fb_error = max_points, min_points, fb_error
        self._grey: Optional[np.ndarray] = None
        self._box: Optional[Box] = None

    def init(self, grey: np.ndarray, box: Box) -> None:
        self._grey, self._box = grey, box

    def _points(self, grey: np.ndarray, box: Box) -> np.ndarray:
        x1, y1, x2, y2 = (int(round(v)) for v in box)
        mask = np.zeros(grey.shape, np.uint8)
        # the inner part of the box: the face, not the background at its corners
        mx, my = (x2 - x1) // 8, (y2 - y1) // 8
        mask[y1 + my:y2 - my, x1 + mx:x2 - mx] = 255
        side = max(1.0, min(x2 - x1, y2 - y1))
        pts = cv2.goodFeaturesToTrack(grey, self.max_points, 0.01, max(2.0, side / 20.0), mask=mask)
        return np.zeros((0, 1, 2), np.float32) if pts is None else pts.astype(np.float32)

    def follow(self, grey: np.ndarray) -> Optional[Box]:
        if self._grey is None or self._box is None:
            return None
        h, w = grey.shape[:2]
        box = _clip_box(self._box, w, h)
        if box is None:
            return None
        p0 = self._points(self._grey, box)
        if len(p0) < self.min_points:
            return None
        side = max(box[2] - box[0], box[3] - box[1])
        lk = dict(winSize=(max(9, int(side / 6) | 1),) * 2, maxLevel=3,
                  criteria=(cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_COUNT, 20, 0.03))
        p1, st1, _ = cv2.calcOpticalFlowPyrLK(self._grey, grey, p0, None, **lk)
        if p1 is None:
            return None
        p0r, st2, _ = cv2.calcOpticalFlowPyrLK(grey, self._grey, p1, None, **lk)
        fb = np.linalg.norm((p0 - p0r).reshape(-1, 2), axis=1)
        good = (st1.reshape(-1) == 1) & (st2.reshape(-1) == 1) & (fb < self.fb_error)
        if good.sum() < self.min_points:
            return None
        a, b = p0.reshape(-1, 2)[good], p1.reshape(-1, 2)[good]
        dx, dy = np.median(b - a, axis=0)
        i, j = np.triu_indices(len(a), 1)
        da = np.linalg.norm(a[i] - a[j], axis=1)
        db = np.linalg.norm(b[i] - b[j], axis=1)
        ok = da > 1e-3
        s = float(np.clip(np.median(db[ok] / da[ok]), 0.8, 1.25)) if ok.any() else 1.0
        cx, cy = (self._box[0] + self._box[2]) / 2 + dx, (self._box[1] + self._box[3]) / 2 + dy
        hw, hh = s * (self._box[2] - self._box[0]) / 2, s * (self._box[3] - self._box[1]) / 2
        new = (cx - hw, cy - hh, cx + hw, cy + hh)
        if _clip_box(new, w, h) is None:
            return None
        self._grey, self._box = grey, new
        return new


class TemplateFollower(Follower):
    """Normalised cross-correlation of the last box's patch within a window twice its size."""

    name = "template"

    def __init__(self, min_score: float = 0.5, update: float = 0.3) -> None:
        self.min_score, self.update = min_score, update
        self._tpl: Optional[np.ndarray] = None
        self._box: Optional[Box] = None

    def init(self, grey: np.ndarray, box: Box) -> None:
        h, w = grey.shape[:2]
        b = _clip_box(box, w, h)
        self._box = box
        if b is None:
            self._tpl = None
            return
        x1, y1, x2, y2 = (int(round(v)) for v in b)
        self._tpl = grey[y1:y2, x1:x2].astype(np.float32)

    def follow(self, grey: np.ndarray) -> Optional[Box]:
        if self._tpl is None or self._box is None or self._tpl.size == 0:
            return None
        h, w = grey.shape[:2]
        th, tw = self._tpl.shape
        cx, cy = (self._box[0] + self._box[2]) / 2, (self._box[1] + self._box[3]) / 2
        sx1, sy1 = int(max(0, cx - tw)), int(max(0, cy - th))
        sx2, sy2 = int(min(w, cx + tw)), int(min(h, cy + th))
        win = grey[sy1:sy2, sx1:sx2].astype(np.float32)
        if win.shape[0] < th or win.shape[1] < tw:
            return None
        res = cv2.matchTemplate(win, self._tpl, cv2.TM_CCOEFF_NORMED)
        _, score, _, (mx, my) = cv2.minMaxLoc(res)
        if not np.isfinite(score) or score < self.min_score:
            return None
        x1, y1 = sx1 + mx, sy1 + my
        new = (float(x1), float(y1), float(x1 + tw), float(y1 + th))
        patch = grey[y1:y1 + th, x1:x1 + tw].astype(np.float32)
        self._tpl = (1 - self.update) * self._tpl + self.update * patch
        # keep the caller's box size (the template's may be clipped at the frame edge)
        bw, bh = self._box[2] - self._box[0], self._box[3] - self._box[1]
        ncx, ncy = (new[0] + new[2]) / 2, (new[1] + new[3]) / 2
        self._box = (ncx - bw / 2, ncy - bh / 2, ncx + bw / 2, ncy + bh / 2)
        return self._box


def _seed_c_rand() -> None:
    """Start the C library's rand() from a fixed state. TrackerMIL draws its samples with rand() (not OpenCV's
    RNG, which cv2.setRNGSeed resets): without this the same clip is followed differently depending on how many
    boxes were followed before in the process (measured: a box read 111 or 83 px on the same frame)."""
    libc = _c_library()
    if libc is not None:
        libc.srand(1)


def _c_library():
    """The process's C library through ctypes (None where it cannot be found)."""
    import ctypes
    import sys

    try:
        return ctypes.cdll.ucrtbase if sys.platform == "win32" else ctypes.CDLL(None)
    except (OSError, AttributeError):
        return None


class MilFollower(Follower):
    """OpenCV's TrackerMIL on the greyscale frame (converted to 3 channels)."""

    name = "mil"

    def __init__(self) -> None:
        self._tracker = None

    def init(self, grey: np.ndarray, box: Box) -> None:
        h, w = grey.shape[:2]
        b = _clip_box(box, w, h)
        if b is None:
            self._tracker = None
            return
        _seed_c_rand()
        self._tracker = cv2.TrackerMIL_create()
        rect = (int(b[0]), int(b[1]), max(1, int(b[2] - b[0])), max(1, int(b[3] - b[1])))
        self._tracker.init(cv2.cvtColor(grey, cv2.COLOR_GRAY2BGR), rect)

    def follow(self, grey: np.ndarray) -> Optional[Box]:
        if self._tracker is None:
            return None
        ok, (x, y, bw, bh) = self._tracker.update(cv2.cvtColor(grey, cv2.COLOR_GRAY2BGR))
        if not ok or bw < 4 or bh < 4:
            return None
        return (float(x), float(y), float(x + bw), float(y + bh))


FOLLOWERS: Dict[str, Type[Follower]] = {c.name: c for c in (FlowFollower, TemplateFollower, MilFollower)}


def get_follower(name: str) -> Follower:
    """A new follower by name (flow, template, mil); ValueError lists the valid names."""
    try:
        return FOLLOWERS[name.lower()]()
    except KeyError:
        raise ValueError(f"unknown follower {name!r}; valid: {', '.join(sorted(FOLLOWERS))}") from None
