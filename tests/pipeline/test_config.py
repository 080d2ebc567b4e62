"""PipelineConfig + build_pipeline (the one builder) and photos vs `sequence` (no face carried between photos)."""

from __future__ import annotations

from dataclasses import FrozenInstanceError

import numpy as np
import pytest

from fixtures.fakes import CarryingTracker, FakeDetector, FakePoseModel
from gazenet_app.core.errors import DetectorError, ModelNotFoundError
from gazenet_app.core.types import FaceBox
from gazenet_app.core.video import Frame, ImageSequenceSource
from gazenet_app.detect.registry import DEFAULT_DETECTOR
from gazenet_app.pipeline import PipelineConfig, build_pipeline

BOX = FaceBox(10, 10, 50, 50, 0.9)


def _frames(sources):
    return [Frame(i, i * 33.0, np.zeros((80, 80, 3), np.uint8), name) for i, name in enumerate(sources)]


def _detect_on_first_only():
    """A detector that finds the face only on its first call: every later box can only come from tracking."""
    calls = []

    def boxes(rgb):
        calls.append(1)
        return [BOX] if len(calls) == 1 else []
    return FakeDetector(boxes)


def test_config_is_frozen_and_its_defaults_are_the_owners():
    cfg = PipelineConfig()
    assert (cfg.detector, cfg.precision, cfg.model, cfg.sequence, cfg.tracking) == (DEFAULT_DETECTOR, None, None,
                                                                                  False, True)
    with pytest.raises(FrozenInstanceError):
        cfg.detect_every = 2


def test_build_uses_given_components_and_each_states_its_provenance():
    model = FakePoseModel()
    pipe = build_pipeline(PipelineConfig(detect_every=3, smoothing=True, smooth_beta=0.2),
                          detector=FakeDetector(), pose_model=model)
    assert pipe.pose_model is model and pipe.detect_every == 3
    meta = pipe.describe()
    assert meta["model"] == model.describe() and meta["detector"]["detector"] == "fake"
    assert meta["smoothing"]["pose"]["beta"] == 0.2 and meta["tracker"]["max_missed"] == 30
    assert meta["sequence"] is False


def test_build_detection_only_and_unknown_detector(monkeypatch, tmp_path):
    pipe = build_pipeline(PipelineConfig(estimate_pose=False), detector=FakeDetector(), pose_model=FakePoseModel())
    assert pipe.pose_model is None and pipe.describe()["model"] is None
    with pytest.raises(DetectorError, match="unknown detector"):
        build_pipeline(PipelineConfig(detector="nope"), pose_model=FakePoseModel())
    # nothing installed: the app detects only, the CLI says how to get a model
    import gazenet_app.model_zoo.store as store
    monkeypatch.setattr(store, "search_dirs", lambda: [(tmp_path, "user")])
    assert build_pipeline(PipelineConfig(require_model=False), detector=FakeDetector()).pose_model is None
    with pytest.raises(ModelNotFoundError, match="no pose model is installed"):
        build_pipeline(PipelineConfig(), detector=FakeDetector())


def test_photos_are_independent_by_default():
    pipe = build_pipeline(PipelineConfig(), detector=_detect_on_first_only(), pose_model=FakePoseModel(),
                          tracker=CarryingTracker())
    results = [pipe.process(f) for f in _frames(["a.jpg", "b.jpg", "c.jpg"])]
    assert [len(r.faces) for r in results] == [1, 0, 0]  # no face carried onto the next photo


def test_sequence_carries_faces_from_photo_to_photo():
    pipe = build_pipeline(PipelineConfig(sequence=True), detector=_detect_on_first_only(),
                          pose_model=FakePoseModel(), tracker=CarryingTracker())
    results = [pipe.process(f) for f in _frames(["a.jpg", "b.jpg", "c.jpg"])]
    assert [len(r.faces) for r in results] == [1, 1, 1]
    assert [r.faces[0].tracked_only for r in results] == [False, True, True]
    assert {r.faces[0].face_id for r in results} == {1}


def test_video_frames_are_tracked_and_tracking_off_drops_carried_faces():
    pipe = build_pipeline(PipelineConfig(), detector=_detect_on_first_only(), pose_model=FakePoseModel(),
                          tracker=CarryingTracker())
    assert [len(pipe.process(f).faces) for f in _frames(["clip.avi"] * 3)] == [1, 1, 1]
    pipe = build_pipeline(PipelineConfig(tracking=False), detector=_detect_on_first_only(),
                          pose_model=FakePoseModel(), tracker=CarryingTracker())
    assert [len(pipe.process(f).faces) for f in _frames(["clip.avi"] * 3)] == [1, 0, 0]


def test_links_frames_of_a_source(tmp_path):
    (tmp_path / "a.png").write_bytes(b"")
    images = ImageSequenceSource([tmp_path / "a.png", tmp_path / "b.png"])
    det, model = FakeDetector(), FakePoseModel()
    assert not build_pipeline(PipelineConfig(), detector=det, pose_model=model).links_frames(images)
    assert build_pipeline(PipelineConfig(sequence=True), detector=det, pose_model=model).links_frames(images)
