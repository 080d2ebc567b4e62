"""The detector interface: frame checks, downscaling of huge frames, canonical boxes, registry."""

from __future__ import annotations

import numpy as np
import pytest

from gazenet_app.core.errors import DetectorError
from gazenet_app.core.types import FaceBox
from gazenet_app.detect.base import BoxMapping, DetectorPreset, FaceDetector
from gazenet_app.detect.registry import DEFAULT_DETECTOR, get_detector, get_detector_list


class _Recorder(FaceDetector):
    name = "recorder"
    presets = {"accurate": DetectorPreset("accurate", 20, 640, 0.5)}
    box_mapping = BoxMapping(dx=0.0, dy=0.1, scale=1.2)

    def __init__(self, **kw):
        super().__init__(**kw)
        self.seen = []

    def _detect(self, rgb):
        self.seen.append(rgb.shape)
        h, w = rgb.shape[:2]
        lm = ((w * 0.4, h * 0.4), (w * 0.6, h * 0.4), (w * 0.5, h * 0.5), (w * 0.42, h * 0.6), (w * 0.58, h * 0.6))
        return [FaceBox(w * 0.25, h * 0.25, w * 0.75, h * 0.75, 0.9, lm), FaceBox(0, 0, 10, 10, 0.1)]


def test_huge_frame_is_downscaled_and_boxes_mapped_back():
    det = _Recorder()
    boxes = det.detect(np.zeros((3000, 4000, 3), np.uint8))
    assert det.seen == [(480, 640, 3)]
    assert len(boxes) == 1  # the 0.1 box is under the preset's score threshold
    b = boxes[0]
    assert b.as_tuple() == pytest.approx((1000, 750, 3000, 2250), abs=1e-6)
    assert b.landmarks[0] == pytest.approx((1600, 1200), abs=1e-6)


def test_small_frame_is_not_resized():
    det = _Recorder()
    det.detect(np.zeros((100, 200, 3), np.uint8))
    assert det.seen == [(100, 200, 3)]


def test_overrides_and_bad_preset():
    det = _Recorder(max_side=320, min_face=10)
    assert det.settings.max_side == 320 and det.settings.min_face == 10 and det.preset == "accurate"
    with pytest.raises(DetectorError, match="unknown preset 'turbo'.*accurate"):
        _Recorder(preset="turbo")


@pytest.mark.parametrize("bad", [np.zeros((10, 10), np.uint8), np.zeros((10, 10, 4), np.uint8),
                                 np.zeros((0, 10, 3), np.uint8), "not an image"])
def test_bad_frames_raise_detector_error(bad):
    with pytest.raises(DetectorError):
        _Recorder().detect(bad)


def test_to_canonical_uses_landmarks_then_mapping():
    det = _Recorder()
    with_lm, = det.detect(np.zeros((100, 100, 3), np.uint8))
    c = det.to_canonical(with_lm)
    assert c.width == pytest.approx(c.height)
    assert c.center == pytest.approx((50.0, 50.0))  # between eye centre (y 40) and mouth centre (y 60)
    assert c.width == pytest.approx(48.0)  # 2.4 x eye-mouth distance
    no_lm = FaceBox(10, 20, 30, 40, 0.8)
    m = det.to_canonical(no_lm)
    assert m.center == pytest.approx((20.0, 32.0)) and m.width == pytest.approx(24.0) and m.score == 0.8


def test_metadata_names_the_preset():
    meta = _Recorder().metadata()
    assert meta["detector"] == "recorder" and meta["settings"]["max_side"] == 640


def test_registry():
    assert DEFAULT_DETECTOR == "mtcnn"
    assert {"mtcnn", "cascade"} <= set(get_detector_list())
    assert get_detector_list() == sorted(get_detector_list())
    with pytest.raises(ValueError, match="unknown detector 'nope'; valid: .*cascade.*mtcnn"):
        get_detector("nope")
    d = get_detector("CASCADE", "live")
    assert d.name == "cascade" and d.preset == "live"
