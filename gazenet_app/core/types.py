"""Plain, immutable values that cross every layer (and the Qt thread boundary).

Sign convention (Hopenet's, used everywhere in gazenet; angles in degrees):
- yaw   > 0: the nose turns toward image-left (the subject turns to their right);
- pitch > 0: the face looks up;
- roll  > 0: the head tilts clockwise on screen.
Boxes are pixel coordinates (x1, y1, x2, y2) in the frame, x to the right, y down. Frames are RGB uint8.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Optional, Tuple

__all__ = ["FaceBox", "HeadPose", "FaceResult", "FrameResult", "Landmarks5"]

#: Five landmarks as ((x, y) * 5): left eye, right eye, nose, mouth left, mouth right (image left/right).
Landmarks5 = Tuple[Tuple[float, float], ...]


@dataclass(frozen=True)
class FaceBox:
    """A detected face: box, detector score and optional five landmarks."""

    x1: float
    y1: float
    x2: float
    y2: float
    score: float = 1.0
    landmarks: Optional[Landmarks5] = None

    @property
    def width(self) -> float:
        return self.x2 - self.x1

    @property
    def height(self) -> float:
        return self.y2 - self.y1

    @property
    def center(self) -> Tuple[float, float]:
        return ((self.x1 + self.x2) / 2.0, (self.y1 + self.y2) / 2.0)

    def as_tuple(self) -> Tuple[float, float, float, float]:
        return (self.x1, self.y1, self.x2, self.y2)

    def scaled(self, factor: float) -> "FaceBox":
        """The same box (and landmarks) in a frame resized by `factor`."""
        lm = None
        if self.landmarks is not None:
            lm = tuple((x * factor, y * factor) for x, y in self.landmarks)
        return replace(self, x1=self.x1 * factor, y1=self.y1 * factor,
                       x2=self.x2 * factor, y2=self.y2 * factor, landmarks=lm)


@dataclass(frozen=True)
class HeadPose:
    """Yaw, pitch, roll in degrees, in the convention of this module's docstring."""

    yaw: float
    pitch: float
    roll: float

    def as_tuple(self) -> Tuple[float, float, float]:
        return (self.yaw, self.pitch, self.roll)


@dataclass(frozen=True)
class FaceResult:
    """One face in one frame: its track id, canonical box and (smoothed) pose, with the raw pose."""

    face_id: int
    box: FaceBox
    pose: Optional[HeadPose]
    pose_raw: Optional[HeadPose] = None
    pose_valid: bool = True
    tracked_only: bool = False  # box carried by the tracker while the detector missed the face


@dataclass(frozen=True)
class FrameResult:
    """Everything the pipeline knows about one frame; `timing` holds stage -> milliseconds."""

    index: int
    timestamp_ms: float
    source: str
    faces: Tuple[FaceResult, ...] = ()
    timing: dict = field(default_factory=dict)
    shape: Tuple[int, int] = (0, 0)  # (height, width) of the frame
