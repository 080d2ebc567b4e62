"""The interfaces the pipeline needs from the layers below it, as `typing.Protocol`s (structural: no base class).

`detect` and `track` implement them (`detect.base.FaceDetector`, `track.tracker.FaceTracker`,
`track.smoothing.PoseSmoother`), `model_zoo.pose.PoseEstimator` implements `PoseModel`, and the tests' fakes
implement them too. Each component states its own provenance (`metadata()` / `describe()`) for the sidecars.
"""

from __future__ import annotations

from typing import Any, Dict, Iterable, List, Optional, Protocol, Sequence, Tuple, Union

import numpy as np

from gazenet_app.core.transforms import CropPreset
from gazenet_app.core.types import FaceBox, HeadPose

__all__ = ["Detector", "TrackedFace", "Tracker", "Smoother", "PoseModel"]


class Detector(Protocol):
    """Finds faces: `detect(rgb)` in frame coordinates, `to_canonical(box)` for the pose crop, `metadata()`."""

    def detect(self, rgb: np.ndarray) -> List[FaceBox]: ...

    def to_canonical(self, box: FaceBox) -> FaceBox: ...

    def metadata(self) -> Dict[str, Any]: ...


class TrackedFace(Protocol):
    """One face of one frame as the tracker reports it."""

    face_id: int
    box: FaceBox
    tracked_only: bool
    det_score: float


class Tracker(Protocol):
    """Stable face ids: `update(rgb, boxes)` (`boxes` None: the detector did not run, follow the faces)."""

    def update(self, rgb: np.ndarray, boxes: Optional[Sequence[FaceBox]]) -> Sequence[TrackedFace]: ...

    def reset(self) -> None: ...

    def describe(self) -> Dict[str, Any]: ...


class Smoother(Protocol):
    """Per-face temporal smoothing of pose and box; `forget` drops ended faces, `reset` all of them."""

    def smooth(self, face_id: int, t_s: float, pose: Optional[HeadPose],
               box: Optional[FaceBox]) -> Tuple[Optional[HeadPose], Optional[FaceBox]]: ...

    def forget(self, ids: Iterable[int]) -> None: ...

    def reset(self) -> None: ...

    def describe(self) -> Dict[str, Any]: ...


class PoseModel(Protocol):
    """A loaded pose network: square crops of `input_size` cut with `crop_preset` in, (N, 3) degrees out."""

    name: str
    input_size: int
    crop_preset: Union[CropPreset, str]

    def predict_crops(self, crops: np.ndarray) -> np.ndarray: ...

    def describe(self) -> Dict[str, Any]: ...
