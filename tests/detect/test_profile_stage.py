"""The MTCNN detector's merge step and profile stage: which candidates are confirmed, kept or suppressed."""

from __future__ import annotations

import numpy as np
import pytest

from gazenet_app.detect.mtcnn import MTCNN_STEPS, PROFILE_CLEARANCE, SECOND_PASS_STEPS, MtcnnDetector
from gazenet_app.detect.profile import ProfileCascade


def _points(boxes: np.ndarray) -> np.ndarray:
    """Five landmarks per box (10, N), at the box centre: enough for FaceBox."""
    cx, cy = (boxes[:, 0] + boxes[:, 2]) / 2, (boxes[:, 1] + boxes[:, 3]) / 2
    return np.concatenate([np.tile(cx, (5, 1)), np.tile(cy, (5, 1))])


class _Stub:
    """Replaces the three MTCNN stages, the cascade and O-Net with fixed boxes; records the MTCNN passes' cuts and
    counts the cascade's calls. `second_boxes`: what a pass with other cuts than the first finds."""

    def __init__(self, det: MtcnnDetector, mtcnn_boxes, candidates, onet_score: float = 0.99,
                 second_boxes=()) -> None:
        self.mtcnn = np.array(mtcnn_boxes, dtype=float).reshape(-1, 5)
        self.second = np.array(second_boxes, dtype=float).reshape(-1, 5)
        self.cand = np.array(candidates, dtype=float).reshape(-1, 4)
        self.cascade_calls = 0
        self.passes = []
        self.confirmed = None
        det._stages = self._stages
        if det._profile is not None:
            det._profile.candidates = self._candidates
        det._confirm = lambda rgb, c: self._confirm(c, onet_score)

    def _stages(self, rgb, steps):
        self.passes.append(tuple(steps))
        boxes = self.mtcnn if len(self.passes) == 1 else self.second
        return boxes, _points(boxes)

    def _candidates(self, rgb):
        self.cascade_calls += 1
        return self.cand

    def _confirm(self, cand, score):
        self.confirmed = cand
        boxes = np.column_stack([cand, np.full(len(cand), score)])
        return boxes, _points(boxes)


FRAME = np.zeros((480, 640, 3), np.uint8)
FACE = [100, 100, 200, 220, 0.99]


def test_a_box_over_the_glasses_inside_a_face_is_not_a_second_face():
    det = MtcnnDetector("accurate", profile=True)
    _Stub(det, [FACE, [110, 120, 190, 160, 0.995]], [])
    boxes = det.detect(FRAME)
    assert [b.as_tuple() for b in boxes] == [(100.0, 100.0, 200.0, 220.0)]


def test_an_ear_beside_a_face_is_not_a_second_face():
    det = MtcnnDetector("accurate", profile=True)
    _Stub(det, [FACE, [205, 140, 240, 185, 0.95]], [])
    assert [b.as_tuple() for b in det.detect(FRAME)] == [(100.0, 100.0, 200.0, 220.0)]
    assert det.metadata()["beside"] == {"side_ratio": 0.5, "reach": 0.25}


def test_accurate_confirms_only_candidates_outside_mtcnns_faces():
    det = MtcnnDetector("accurate")
    profile = [400, 150, 500, 250]
    stub = _Stub(det, [FACE], [[105, 105, 195, 205], profile])
    boxes = det.detect(FRAME)
    assert stub.confirmed.tolist() == [profile]  # the candidate on MTCNN's face never reaches O-Net
    assert sorted(b.as_tuple() for b in boxes) == [(100.0, 100.0, 200.0, 220.0), (400.0, 150.0, 500.0, 250.0)]


def test_a_candidate_onet_rejects_is_dropped_by_the_presets_score_cut():
    det = MtcnnDetector("accurate")
    _Stub(det, [], [[400, 150, 500, 250]], onet_score=0.5)
    assert det.detect(FRAME) == []


def test_a_profile_candidate_onet_confirms_is_kept_from_the_lower_profile_cut():
    from gazenet_app.detect.mtcnn import PROFILE_SCORE

    det = MtcnnDetector("accurate")
    score = (PROFILE_SCORE + det.settings.score_threshold) / 2  # under the preset's cut, over the profile one
    _Stub(det, [[40, 40, 120, 130, score]], [[400, 150, 500, 250]], onet_score=score)
    boxes = det.detect(FRAME)
    assert [b.as_tuple() for b in boxes] == [(400.0, 150.0, 500.0, 250.0)]  # MTCNN's own box at that score is not
    assert det.metadata()["profile_stage"]["score_threshold"] == PROFILE_SCORE


def test_live_runs_the_profile_stage_only_on_frames_without_a_face():
    det = MtcnnDetector("live")
    stub = _Stub(det, [[40, 40, 120, 130, 0.99]], [[200, 60, 280, 140]])
    assert len(det.detect(FRAME[:240, :320])) == 1 and stub.cascade_calls == 0
    stub.mtcnn = np.zeros((0, 5))
    assert len(det.detect(FRAME[:240, :320])) == 1 and stub.cascade_calls == 1


def test_profile_off_and_metadata():
    det = MtcnnDetector("accurate", profile=False)
    assert det.metadata()["profile_stage"] is None
    assert det.metadata()["second_pass_steps"] == list(SECOND_PASS_STEPS["accurate"])
    meta = MtcnnDetector("live").metadata()
    assert meta["profile_stage"]["where"] == "empty" and meta["steps_threshold"] == [0.6, 0.7, 0.7]
    assert meta["second_pass_steps"] is None


def test_the_lower_cuts_run_only_on_frames_where_the_papers_find_no_face():
    det = MtcnnDetector("accurate", profile=False)
    profile = [400, 150, 500, 250, 0.95]
    stub = _Stub(det, [FACE], [], second_boxes=[profile])
    assert [b.as_tuple() for b in det.detect(FRAME)] == [(100.0, 100.0, 200.0, 220.0)]
    assert stub.passes == [MTCNN_STEPS["accurate"]]  # a face found: no second pass, no box from lower cuts
    stub = _Stub(det, [], [], second_boxes=[profile])
    assert [b.as_tuple() for b in det.detect(FRAME)] == [(400.0, 150.0, 500.0, 250.0)]
    assert stub.passes == [MTCNN_STEPS["accurate"], SECOND_PASS_STEPS["accurate"]]
    assert SECOND_PASS_STEPS["accurate"][:2] < MTCNN_STEPS["accurate"][:2]


def test_no_second_pass_in_live_or_when_turned_off():
    for det in (MtcnnDetector("live", profile=False), MtcnnDetector("accurate", profile=False, second_pass=False)):
        stub = _Stub(det, [], [], second_boxes=[[400, 150, 500, 250, 0.95]])
        assert det.detect(FRAME[:240, :320]) == [] and len(stub.passes) == 1


def test_a_profile_candidate_under_a_face_is_its_neck_not_a_face():
    det = MtcnnDetector("accurate")
    side = np.sqrt(100 * 120)
    neck = [110, 220 + 0.1 * side, 190, 220 + 0.1 * side + 90]  # just below the chin: half of it within clearance
    far = [110, 220 + 0.6 * side, 190, 220 + 0.6 * side + 90]  # a face further down, clear of the face's head
    assert 0.4 < PROFILE_CLEARANCE < 0.6
    stub = _Stub(det, [FACE], [neck, far])
    boxes = det.detect(FRAME)
    assert stub.confirmed.tolist() == [far]
    assert len(boxes) == 2


class _FakeCascade:
    """Answers the given rectangles call by call (frame first, then its mirror); records image and min sizes."""

    def __init__(self, *answers) -> None:
        self.answers, self.calls = list(answers), []

    def detectMultiScale(self, img, scaleFactor, minNeighbors, minSize):  # noqa: N802, N803 - OpenCV's names
        self.calls.append((img.shape, minSize))
        return np.array(self.answers.pop(0), dtype=float).reshape(-1, 4)


def test_cascade_candidates_map_mirror_and_downscale_back_to_frame_squares():
    rgb = np.zeros((400, 800, 3), np.uint8)
    cascade = ProfileCascade(min_face=40, max_side=400)
    cascade._clf = _FakeCascade([(10, 20, 30, 50)], [])  # in the 400x200 downscaled frame
    assert cascade.candidates(rgb).tolist() == [[0.0, 40.0, 100.0, 140.0]]  # centre (25, 45)*2, side 50*2
    assert cascade._clf.calls == [((200, 400), (20, 20))] * 2  # min face scaled with the frame
    cascade._clf = _FakeCascade([], [(10, 20, 30, 50)])  # found on the mirror: mirrored back into the frame
    assert cascade.candidates(rgb).tolist() == [[700.0, 40.0, 800.0, 140.0]]
    cascade._clf = _FakeCascade([], [])
    assert cascade.candidates(rgb).shape == (0, 4)


def test_profile_stage_settings_are_arguments_with_measured_defaults():
    from gazenet_app.detect.mtcnn import PROFILE_NEIGHBOURS, PROFILE_SCORE

    meta = MtcnnDetector("accurate").metadata()["profile_stage"]
    assert (meta["score_threshold"], meta["min_neighbors"]) == (PROFILE_SCORE, PROFILE_NEIGHBOURS)
    meta = MtcnnDetector("accurate", profile_score=0.75, profile_neighbours=3).metadata()["profile_stage"]
    assert (meta["score_threshold"], meta["min_neighbors"]) == (0.75, 3)
    assert MtcnnDetector("accurate", profile_score=0.95).metadata()["profile_stage"]["score_threshold"] == 0.9
