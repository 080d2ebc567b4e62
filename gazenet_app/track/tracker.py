"""Face tracks across frames: stable ids by IoU assignment, and faces followed in the image when missed.

`FaceTracker.update(rgb, boxes)` matches this frame's detections to the live tracks (maximum total IoU, the
Hungarian method in numpy; no scipy). A detection nobody claims starts a new track. A track whose face the
detector missed is followed in the image (template matching by default, chosen by measurement: see follower.py) and reported with
`tracked_only=True`; it ends after `max_missed` missed detections in a row, at once when the follower
loses the face (the face is really gone), or at once when the face check (evidence.py: MTCNN's O-Net on the
carried box by default) says the box is no longer on a face (a head turned away, a box drifted onto a wall).
`update(rgb, None)` means the detector did not run on this frame (detect every N frames): every track is
followed, no miss is counted and no check is run (the next detection frame checks what is still missed).
A detection that lies inside a live track's box (at least `nested_fraction` of its area: a false box over the
glasses, a second box on one face) is not a new face and starts no track; the other way round, a missed track
whose box lies inside a new detection takes that detection (the same face, now found whole) and keeps its id.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Dict, List, Optional, Sequence, Union

import cv2
import numpy as np

from gazenet_app.core.types import FaceBox
from gazenet_app.track.assignment import inside_fraction, iou_matrix, match_by_iou
from gazenet_app.track.evidence import FaceCheck, get_face_check
from gazenet_app.track.follower import Follower, get_follower

__all__ = ["Track", "FaceTracker"]


@dataclass(frozen=True)
class Track:
    """One face in one frame: its id, box, whether the box came from following, and the detection score."""

    face_id: int
    box: FaceBox
    tracked_only: bool
    det_score: float


class _State:
    __slots__ = ("face_id", "box", "missed", "follower", "det_score", "hits")

    def __init__(self, face_id: int, box: FaceBox, follower: Optional[Follower]) -> None:
        self.face_id, self.box, self.follower = face_id, box, follower
        self.missed, self.det_score, self.hits = 0, box.score, 1


class FaceTracker:
    """Stable face ids across frames; a missed face is followed for at most `max_missed` detections.

    `follower`: "template" (default), "flow", "mil", or None (keep the last box unchanged while missed).
    `face_check`: "onet" (default), a `FaceCheck`, or None: the evidence a missed face's carried box must pass.
    `nested_fraction`: share of a detection's area inside a live track's box from which it is not a new face.
    """

    def __init__(self, iou_threshold: float = 0.3, max_missed: int = 30, follower: Optional[str] = "template",
                 max_tracks: int = 64, face_check: Union[str, FaceCheck, None] = "onet",
                 nested_fraction: float = 0.7) -> None:
        if not 0.0 < iou_threshold < 1.0:
            raise ValueError(f"iou_threshold must be in (0, 1), got {iou_threshold}")
        if max_missed < 0:
            raise ValueError(f"max_missed must be >= 0, got {max_missed}")
        if not 0.0 < nested_fraction <= 1.0:
            raise ValueError(f"nested_fraction must be in (0, 1], got {nested_fraction}")
        if follower is not None:
            get_follower(follower)  # validate the name now
        self.iou_threshold, self.max_missed, self.follower_name = iou_threshold, max_missed, follower
        self.max_tracks = max_tracks
        self.face_check = get_face_check(face_check) if isinstance(face_check, (str, type(None))) else face_check
        self.nested_fraction = float(nested_fraction)
        self._tracks: List[_State] = []
        self._next_id = 1
        self._grey: Optional[np.ndarray] = None

    def reset(self) -> None:
        """Forget every track; ids start again at 1."""
        self._tracks = []
        self._next_id = 1
        self._grey = None

    @property
    def active_ids(self) -> List[int]:
        """Ids of the live tracks."""
        return [t.face_id for t in self._tracks]

    def describe(self) -> dict:
        """Settings for sidecars."""
        return {"iou_threshold": self.iou_threshold, "max_missed": self.max_missed,
                "follower": self.follower_name, "nested_fraction": self.nested_fraction,
                "face_check": self.face_check.describe() if self.face_check is not None else None}

    def _new_follower(self, grey: np.ndarray, box: FaceBox) -> Optional[Follower]:
        if self.follower_name is None:
            return None
        f = get_follower(self.follower_name)
        f.init(grey, box.as_tuple())
        return f

    def update(self, rgb: np.ndarray, boxes: Optional[Sequence[FaceBox]]) -> List[Track]:
        """Tracks for this frame, in id order; `boxes=None` when the detector did not run on it."""
        grey = cv2.cvtColor(np.ascontiguousarray(rgb), cv2.COLOR_RGB2GRAY) if rgb is not None else None
        if grey is not None and self._grey is not None and grey.shape != self._grey.shape:
            self.reset()  # a new source with another frame size: old tracks mean nothing here
        detected = boxes is not None
        boxes = list(boxes or ())
        matched: Dict[int, FaceBox] = {}
        unclaimed = list(range(len(boxes)))
        if self._tracks and boxes:
            tb = np.array([t.box.as_tuple() for t in self._tracks])
            db = np.array([b.as_tuple() for b in boxes])
            for ti, di in match_by_iou(iou_matrix(tb, db), self.iou_threshold):
                matched[ti] = boxes[di]
                unclaimed.remove(di)
            # a track's box lying inside an unclaimed detection was a part of that face (e.g. a box over the
            # glasses found before the whole face): the face keeps the track's id and takes the whole box
            free = [ti for ti in range(len(self._tracks)) if ti not in matched]
            if free and unclaimed:
                inside = inside_fraction(tb[free], db[unclaimed])
                taken = set()
                for fi, ui in match_by_iou(inside, self.nested_fraction):
                    matched[free[fi]] = boxes[unclaimed[ui]]
                    taken.add(unclaimed[ui])
                unclaimed = [di for di in unclaimed if di not in taken]
        out: List[Track] = []
        alive: List[_State] = []
        carried: List[int] = []  # positions in `alive` of boxes followed over a missed detection
        for ti, t in enumerate(self._tracks):
            if ti in matched:
                b = matched[ti]
                t.box, t.missed, t.det_score, t.hits = b, 0, b.score, t.hits + 1
                if grey is not None and t.follower is not None:
                    t.follower.init(grey, b.as_tuple())
                alive.append(t)
                out.append(Track(t.face_id, b, False, b.score))
                continue
            if detected:
                t.missed += 1
                if t.missed > self.max_missed:
                    continue
            new_box = t.box
            if t.follower is not None and grey is not None:
                followed = t.follower.follow(grey)
                if followed is None:
                    continue  # the follower lost the face: it is really gone
                shift = np.array(followed) - np.array(t.box.as_tuple())
                lm = None
                if t.box.landmarks is not None:
                    dx, dy = (shift[0] + shift[2]) / 2, (shift[1] + shift[3]) / 2
                    lm = tuple((x + dx, y + dy) for x, y in t.box.landmarks)
                new_box = replace(t.box, x1=followed[0], y1=followed[1], x2=followed[2], y2=followed[3],
                                  landmarks=lm)
            t.box = new_box
            if detected and self.face_check is not None and rgb is not None:
                carried.append(len(alive))
            alive.append(t)
            out.append(Track(t.face_id, new_box, True, t.det_score))
        if carried:  # a missed face's box must still be on a face, or the track ends
            scores = self.face_check.scores(rgb, [alive[i].box.as_tuple() for i in carried])
            gone = {i for i, sc in zip(carried, scores) if not sc >= self.face_check.threshold}
            alive = [t for i, t in enumerate(alive) if i not in gone]
            out = [tr for i, tr in enumerate(out) if i not in gone]
        if alive and unclaimed:  # a detection inside a live face's box is not a new face
            inside = inside_fraction(np.array([boxes[di].as_tuple() for di in unclaimed]),
                                     np.array([t.box.as_tuple() for t in alive]))
            unclaimed = [di for di, row in zip(unclaimed, inside) if row.max() < self.nested_fraction]
        for di in unclaimed:
            if len(alive) >= self.max_tracks:
                break
            b = boxes[di]
            t = _State(self._next_id, b, self._new_follower(grey, b) if grey is not None else None)
            self._next_id += 1
            alive.append(t)
            out.append(Track(t.face_id, b, False, b.score))
        self._tracks = alive
        self._grey = grey
        return sorted(out, key=lambda tr: tr.face_id)
