"""The default detector on real sideways faces (skip without ../shared): profiles found, nothing on the back
of a head. The full measurement is scripts/profile_detection.py (docs/detection.md)."""

from __future__ import annotations

import csv

import numpy as np
import pytest

from gazenet_app.core.video import read_image
from gazenet_app.detect.registry import get_detector

pytestmark = [pytest.mark.shared, pytest.mark.slow]


@pytest.fixture(scope="module")
def default_detector():
    return get_detector()


def _covers(box, truth) -> bool:
    iw = max(0.0, min(box[2], truth[2]) - max(box[0], truth[0]))
    ih = max(0.0, min(box[3], truth[3]) - max(box[1], truth[1]))
    return iw * ih >= 0.5 * (truth[2] - truth[0]) * (truth[3] - truth[1])


def test_full_profiles_of_train_persons_are_found(default_detector, shared_dir):
    """Person 01's +-90 and +-75 degree photos at pitch 0 (train split), both series: a box on each face."""
    root = shared_dir / "data" / "pose" / "pointing04"
    if not (root / "labels.csv").is_file():
        pytest.skip("Pointing'04 is not in ../shared")
    rows = [r for r in csv.DictReader(open(root / "labels.csv"))
            if r["person"] == "1" and r["pitch"] == "0" and abs(int(r["yaw"])) >= 75]
    assert len(rows) == 8
    for r in rows:
        truth = [float(r[k]) for k in ("x1", "y1", "x2", "y2")]
        boxes = default_detector.detect(read_image(root / r["path"]))
        assert any(_covers(b.as_tuple(), truth) for b in boxes), r["path"]
        assert len(boxes) == 1, r["path"]


def test_no_box_on_the_back_of_the_head_and_landmarks_on_every_box(default_detector, faces_dir):
    rgb = read_image(faces_dir / "whenet_turn.jpg")
    h, w = rgb.shape[:2]
    boxes = default_detector.detect(rgb)
    panels = [int((b.y1 + b.y2) / 2 // (h / 2)) * 4 + int((b.x1 + b.x2) / 2 // (w / 4)) + 1 for b in boxes]
    assert not {3, 4, 5} & set(panels)  # the back of the head, straight and past profile
    assert {1, 2, 7, 8} <= set(panels)
    for b in boxes:
        assert np.asarray(b.landmarks).shape == (5, 2)
