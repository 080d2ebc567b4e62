"""Pipeline with fake detector / pose model: one batched forward, crops, ids, validity, cadence, smoothing."""

from __future__ import annotations

import numpy as np
import pytest

from fixtures.fakes import FakeDetector, FakePoseModel, FakeSmoother
from gazenet_app.core.transforms import crop_face, expand_box, get_crop_preset
from gazenet_app.core.types import FaceBox
from gazenet_app.core.video import Frame
from gazenet_app.pipeline import POSE_VALID_LIMIT, Pipeline

BOXES = [FaceBox(10, 10, 50, 50, 0.9), FaceBox(100, 20, 140, 60, 0.8), FaceBox(200, 100, 260, 160, 0.7)]
COLORS = [(110, 120, 130), (150, 60, 90), (80, 140, 190)]


def painted_frame(index: int = 0) -> Frame:
    """A frame whose crop region around each canonical box is painted one colour (a face per colour)."""
    rgb = np.zeros((240, 320, 3), np.uint8)
    preset = get_crop_preset("gazenet")
    for b, c in zip(BOXES, COLORS):
        x1, y1, x2, y2 = expand_box((b.x1 + 1, b.y1 + 1, b.x2 + 1, b.y2 + 1), preset)
        m = 6  # crops shrunk more than 2x are area-filtered first: they read a few pixels past the region
        rgb[max(0, int(np.floor(y1)) - m):int(np.ceil(y2)) + m, max(0, int(np.floor(x1)) - m):int(np.ceil(x2)) + m] = c
    return Frame(index, index * 40.0, rgb, "clip.avi")


def test_one_batched_forward_for_all_faces():
    model = FakePoseModel(input_size=24)
    pipe = Pipeline(FakeDetector(lambda rgb: BOXES), model)
    result = pipe.process(painted_frame())
    assert model.batches == [(3, 24, 24, 3)]  # ONE call with the N crops
    assert len(result.faces) == 3
    assert result.shape == (240, 320)
    assert result.source == "clip.avi" and result.index == 0 and result.timestamp_ms == 0.0
    assert set(result.timing) == {"detect", "track", "crop", "pose", "smooth", "total"}
    assert all(v >= 0.0 for v in result.timing.values())


def test_each_face_gets_its_own_crop_and_canonical_box():
    pipe = Pipeline(FakeDetector(lambda rgb: BOXES), FakePoseModel(input_size=24))
    result = pipe.process(painted_frame())
    by_x = sorted(result.faces, key=lambda f: f.box.x1)
    for face, b, c in zip(by_x, BOXES, COLORS):
        assert face.box.as_tuple() == (b.x1 + 1, b.y1 + 1, b.x2 + 1, b.y2 + 1)  # to_canonical was applied
        assert face.box.score == pytest.approx(b.score)
        assert face.pose.as_tuple() == pytest.approx(tuple(v - 100.0 for v in c), abs=1e-6)
        assert face.pose_raw == face.pose and face.pose_valid and not face.tracked_only
    assert len({f.face_id for f in result.faces}) == 3


def test_crop_matches_the_presets_crop():
    seen = []

    class Recording(FakePoseModel):
        def predict_crops(self, crops):
            seen.append(crops.copy())
            return super().predict_crops(crops)

    frame = painted_frame()
    frame.rgb[:, :, 0] = np.arange(320, dtype=np.uint8)[None, :]  # position-dependent content
    box = BOXES[0]
    pipe = Pipeline(FakeDetector(lambda rgb: [box]), Recording(input_size=32, crop_preset="hopenet_video"))
    pipe.process(frame)
    region = expand_box((box.x1 + 1, box.y1 + 1, box.x2 + 1, box.y2 + 1), get_crop_preset("hopenet_video"))
    np.testing.assert_array_equal(seen[0][0], crop_face(frame.rgb, region, 32))


def test_no_face_means_no_forward():
    model = FakePoseModel()
    result = Pipeline(FakeDetector(lambda rgb: []), model).process(painted_frame())
    assert result.faces == () and model.batches == []


@pytest.mark.parametrize("angles,valid", [((10.0, -20.0, 5.0), True), ((96.9, 0.0, 0.0), True),
                                          ((POSE_VALID_LIMIT, 0.0, 0.0), False), ((0.0, -98.5, 0.0), False),
                                          ((0.0, 0.0, float("nan")), False)])
def test_pose_valid_flags_angles_at_the_bin_limits(angles, valid):
    pipe = Pipeline(FakeDetector(lambda rgb: BOXES[:1]), FakePoseModel(angles=[angles]))
    face = pipe.process(painted_frame()).faces[0]
    assert face.pose_valid is valid


def textured_frame(index: int) -> Frame:
    """A still, textured frame (something for an image-following tracker to follow)."""
    rgb = np.random.default_rng(0).integers(0, 255, (240, 320, 3), dtype=np.uint8)
    return Frame(index, index * 40.0, rgb, "clip.avi")


def test_detect_every_n_frames():
    det = FakeDetector(lambda rgb: BOXES[:1])
    pipe = Pipeline(det, FakePoseModel(), detect_every=3)
    for i in range(7):
        result = pipe.process(textured_frame(i))
        assert len(result.faces) == 1, i  # the tracker carries the face between detections
    assert det.calls == 3  # frames 0, 3, 6
    pipe.reset()
    pipe.process(textured_frame(7))
    assert det.calls == 4  # a reset starts the cadence again


def test_ids_are_stable_over_frames():
    def moving(i):
        return lambda rgb: [FaceBox(10 + 2 * i, 10, 50 + 2 * i, 50, 0.9), FaceBox(200 - i, 100, 260 - i, 160, 0.9)]

    det = FakeDetector()
    pipe = Pipeline(det, FakePoseModel())
    ids = []
    for i in range(5):
        det.boxes_for = moving(i)
        res = pipe.process(painted_frame(i))
        ids.append({round(f.box.x1 - 2 * i if f.box.x1 < 100 else f.box.x1 + i): f.face_id for f in res.faces})
    assert all(d == ids[0] for d in ids) and len(set(ids[0].values())) == 2


def test_smoother_gets_valid_poses_and_forgets_lost_faces():
    smoother = FakeSmoother()
    det = FakeDetector(lambda rgb: BOXES[:2])
    pipe = Pipeline(det, FakePoseModel(input_size=24), smoother=smoother)
    res = pipe.process(painted_frame(1))
    assert [t for _, t in smoother.calls] == [0.04, 0.04]
    for f in res.faces:
        assert f.pose.as_tuple() == pytest.approx(tuple(v / 2 for v in f.pose_raw.as_tuple()))
    gone = {f.face_id for f in res.faces}
    det.boxes_for = lambda rgb: []
    for i in range(2, 40):  # long enough for any tracker to drop the faces
        if not pipe.process(painted_frame(i)).faces:
            break
    assert set(smoother.forgotten) == gone


def test_id_offset_shifts_ids():
    pipe = Pipeline(FakeDetector(lambda rgb: BOXES[:1]), FakePoseModel())
    pipe.id_offset = 7
    assert pipe.process(painted_frame()).faces[0].face_id >= 7


def test_describe_is_provenance():
    pipe = Pipeline(FakeDetector(), FakePoseModel(crop_preset="hopenet_video"), smoother=FakeSmoother(),
                    detect_every=2)
    d = pipe.describe()
    assert d["model"]["name"] == "fake-pose" and d["model"]["params_sha256"] == "0" * 64
    assert d["detector"]["detector"] == "fake" and d["detector"]["preset"] == "test"
    assert d["crop_preset"] == "hopenet_video" and d["detect_every"] == 2
    assert d["smoothing"] == {"type": "fake", "factor": 0.5}
    assert "yaw > 0 turns the nose toward image-left" in d["convention"]
    assert d["gazenet_version"]


def test_bad_detect_every():
    with pytest.raises(ValueError, match="detect_every"):
        Pipeline(FakeDetector(), FakePoseModel(), detect_every=0)


def test_pipeline_without_pose_model_gives_boxes_and_ids_only():
    """No model installed: detection and tracking still run, every pose is None and marked invalid."""
    from gazenet_app.core.types import FaceBox
    from gazenet_app.core.video import Frame
    from gazenet_app.pipeline import Pipeline

    class OneFace:
        name = "one"

        def detect(self, rgb):
            return [FaceBox(10, 10, 50, 50, 0.9)]

        def to_canonical(self, box):
            return box

        def metadata(self):
            return {"detector": self.name}

    pipe = Pipeline(OneFace(), None)
    res = pipe.process(Frame(0, 0.0, np.zeros((80, 80, 3), np.uint8), "x"))
    assert len(res.faces) == 1
    face = res.faces[0]
    assert face.pose is None and face.pose_raw is None and face.pose_valid is False
    assert "pose" not in res.timing
    assert pipe.describe()["model"] is None
