"""Honest tracking: a carried box that is no longer on a face ends its track; a nested box is not a new face."""

from __future__ import annotations

from typing import List, Sequence

import numpy as np
import pytest

from gazenet_app.core.types import FaceBox
from gazenet_app.track.assignment import inside_fraction
from gazenet_app.track.evidence import ONET_THRESHOLD, FaceCheck, OnetFaceCheck, get_face_check
from gazenet_app.track.tracker import FaceTracker


class ScriptedCheck:
    """A `FaceCheck` answering a scripted score per call; records the boxes it was asked about."""

    name = "scripted"
    threshold = 0.5

    def __init__(self, answers: Sequence[float]) -> None:
        self.answers = list(answers)
        self.asked: List[list] = []

    def scores(self, rgb, boxes):
        self.asked.append([tuple(round(v) for v in b) for b in boxes])
        return np.array([self.answers.pop(0) for _ in boxes])

    def describe(self) -> dict:
        return {"check": self.name}


def _frame(centres, size=(240, 320)):
    """A dark frame with a textured 60 px square at each centre (something for the follower to follow)."""
    f = np.random.default_rng(1).integers(0, 40, size=size + (3,)).astype(np.uint8)
    for k, (cx, cy) in enumerate(centres):
        f[cy - 30:cy + 30, cx - 30:cx + 30] = np.random.default_rng(10 + k).integers(80, 255, (60, 60, 3))
    return f


def _box(cx, cy, half=30, score=0.9):
    return FaceBox(cx - half, cy - half, cx + half, cy + half, score)


def test_inside_fraction():
    a = np.array([[10, 10, 20, 20], [0, 0, 10, 10], [5, 5, 5, 9]])
    b = np.array([[0, 0, 30, 30], [15, 10, 40, 20]])
    np.testing.assert_allclose(inside_fraction(a, b), [[1.0, 0.5], [1.0, 0.0], [0.0, 0.0]])  # empty box: 0


def test_a_carried_box_that_loses_its_face_ends_the_track():
    check = ScriptedCheck([0.9, 0.8, 0.1])
    assert isinstance(check, FaceCheck)
    tr = FaceTracker(face_check=check, max_missed=10)
    assert tr.update(_frame([(100, 120)]), [_box(100, 120)])[0].face_id == 1
    assert check.asked == []  # a detected face is not checked
    assert tr.update(_frame([(104, 120)]), None)[0].tracked_only
    assert check.asked == []  # nor a face followed where the detector did not run
    for x in (108, 112):  # missed detections: followed, checked, still a face
        tracks = tr.update(_frame([(x, 120)]), [])
        assert [(t.face_id, t.tracked_only) for t in tracks] == [(1, True)]
        assert tracks[0].box.center[0] == pytest.approx(x, abs=3)
    assert tr.update(_frame([(116, 120)]), []) == []  # the check says the face is gone: the track ends
    assert len(check.asked) == 3 and check.asked[-1] == [(86, 90, 146, 150)]
    assert tr.active_ids == []
    assert tr.update(_frame([(116, 120)]), [_box(116, 120)])[0].face_id == 2  # found again: a new track


def test_only_the_faces_that_fail_the_check_end():
    check = ScriptedCheck([0.9, 0.2])  # asked about both missed faces at once, in track order
    tr = FaceTracker(face_check=check)
    tr.update(_frame([(80, 80), (220, 160)]), [_box(80, 80), _box(220, 160)])
    tracks = tr.update(_frame([(80, 80), (220, 160)]), [])
    assert [(t.face_id, t.tracked_only) for t in tracks] == [(1, True)] and len(check.asked) == 1


def test_a_detection_inside_a_live_face_starts_no_track():
    tr = FaceTracker(face_check=None)
    tr.update(_frame([(150, 120)]), [_box(150, 120, half=50)])
    glasses = FaceBox(120, 100, 180, 125, 0.95)  # a false box over the glasses, inside the face's box
    tracks = tr.update(_frame([(150, 120)]), [_box(150, 120, half=50), glasses])
    assert [(t.face_id, t.tracked_only) for t in tracks] == [(1, False)]
    tracks = tr.update(_frame([(150, 120)]), [glasses])  # the face missed, only the glasses box found
    assert [t.face_id for t in tracks] == [1]
    # a box beside the face (not inside it) is a new face
    tracks = tr.update(_frame([(150, 120)]), [_box(150, 120, half=50), _box(270, 60, half=20)])
    assert [t.face_id for t in tracks] == [1, 2]


def test_a_track_inside_a_new_detection_takes_the_whole_face_and_keeps_its_id():
    tr = FaceTracker(face_check=None)
    glasses = FaceBox(120, 100, 180, 125, 0.92)  # found first, without the face around it
    assert tr.update(_frame([(150, 120)]), [glasses])[0].face_id == 1
    tracks = tr.update(_frame([(150, 120)]), [_box(150, 120, half=50, score=0.99)])
    assert [(t.face_id, t.tracked_only, t.box.as_tuple()) for t in tracks] == [
        (1, False, (100, 70, 200, 170))]


def test_onet_check_scores_non_faces_low():
    check = OnetFaceCheck()
    rgb = np.random.default_rng(0).integers(0, 255, (240, 320, 3), dtype=np.uint8)
    flat = np.full((240, 320, 3), 128, np.uint8)
    s = check.scores(rgb, [(10, 10, 110, 110), (-40, -40, 60, 60)])
    assert s.shape == (2,) and np.all((s >= 0) & (s < ONET_THRESHOLD))
    assert check.scores(flat, [(50, 50, 150, 150)])[0] < ONET_THRESHOLD
    assert check.scores(rgb, []).shape == (0,)


def test_face_check_settings():
    assert get_face_check(None) is None and get_face_check("none") is None
    assert isinstance(get_face_check("onet"), OnetFaceCheck)
    with pytest.raises(ValueError, match="unknown face check 'skin'; valid: onet, none"):
        get_face_check("skin")
    with pytest.raises(ValueError):
        OnetFaceCheck(threshold=1.5)
    with pytest.raises(ValueError):
        FaceTracker(nested_fraction=0.0)
    d = FaceTracker().describe()
    assert d["face_check"] == {"check": "onet", "threshold": ONET_THRESHOLD, "scale": 1.0}
    assert d["nested_fraction"] == 0.7 and FaceTracker(face_check=None).describe()["face_check"] is None


@pytest.mark.shared
def test_onet_keeps_real_full_profiles(shared_dir):
    """Pointing'04 train persons at |yaw| 90 (pitch 0), on their canonical boxes: no profile is rejected."""
    from gazenet_app.training.pointing04 import read_pointing04

    table = read_pointing04(shared_dir / "data/pose/pointing04", ("train", "val"), max_abs_pitch=0)
    profiles = np.nonzero(np.abs(table.poses[:, 0]) == 90)[0]
    assert len(profiles) >= 18
    check = OnetFaceCheck()
    for i in profiles:
        assert check.scores(table.load_image(int(i)), [tuple(table.boxes[i])])[0] >= ONET_THRESHOLD, table.paths[i]
