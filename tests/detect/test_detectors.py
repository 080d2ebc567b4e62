"""MTCNN and the cascades on the hand-checked shared photos (skip without ../shared)."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from gazenet_app.core.video import read_image
from gazenet_app.detect.registry import get_detector
from gazenet_app.training.ssh_evaluation import match_detections

pytestmark = pytest.mark.shared


@pytest.fixture(scope="module")
def mtcnn():
    return get_detector("mtcnn", "accurate")


def _match(det, faces_dir, name, truth, iou=0.4):
    boxes = det.detect(read_image(faces_dir / name))
    return match_detections([b.as_tuple() for b in boxes], [b.score for b in boxes], truth["faces"],
                            truth["ignore"], iou), boxes


@pytest.mark.parametrize("name", ["ulfd_13.jpg", "ulfd_19.jpg", "ulfd_2.jpg", "ulfd_12.jpg"])
def test_mtcnn_finds_the_hand_checked_faces(mtcnn, faces_dir, hand_boxes, name):
    res, boxes = _match(mtcnn, faces_dir, name, hand_boxes[name])
    assert res.misses == 0 and res.false_positives == 0
    for b in boxes:  # five landmarks inside each box
        lm = np.asarray(b.landmarks)
        assert lm.shape == (5, 2)
        assert (lm[:, 0] > b.x1 - 2).all() and (lm[:, 0] < b.x2 + 2).all()


def test_mtcnn_turned_heads_and_no_face(mtcnn, faces_dir, hand_boxes):
    res, _ = _match(mtcnn, faces_dir, "whenet_turn.jpg", hand_boxes["whenet_turn.jpg"])
    assert res.found >= 4 and res.false_positives == 0
    res, _ = _match(mtcnn, faces_dir, "whenet_mov_012_022606.jpeg", hand_boxes["whenet_mov_012_022606.jpeg"])
    assert res.false_positives == 0


def test_mtcnn_on_a_huge_frame_finds_the_same_faces(mtcnn, faces_dir, hand_boxes):
    rgb = read_image(faces_dir / "ulfd_13.jpg")
    big = cv2.resize(rgb, None, fx=8, fy=8, interpolation=cv2.INTER_LINEAR)  # 3600 x 2752
    boxes = mtcnn.detect(big)
    truth = [tuple(v * 8 for v in b) for b in hand_boxes["ulfd_13.jpg"]["faces"]]
    res = match_detections([b.as_tuple() for b in boxes], [b.score for b in boxes], truth, (), 0.5)
    assert res.found == 2 and res.false_positives == 0


def test_mtcnn_canonical_box_is_square_around_landmarks(mtcnn, faces_dir):
    b = mtcnn.detect(read_image(faces_dir / "ulfd_19.jpg"))[0]
    c = mtcnn.to_canonical(b)
    assert c.width == pytest.approx(c.height)
    lm = np.asarray(b.landmarks)
    assert (lm[:, 0] > c.x1).all() and (lm[:, 0] < c.x2).all() and (lm[:, 1] > c.y1).all()


def test_live_preset_finds_large_faces(faces_dir, hand_boxes):
    res, _ = _match(get_detector("mtcnn", "live"), faces_dir, "ulfd_2.jpg", hand_boxes["ulfd_2.jpg"])
    assert res.found == 4


def test_cascade_finds_frontal_faces(faces_dir, hand_boxes):
    res, boxes = _match(get_detector("cascade", "accurate"), faces_dir, "ulfd_19.jpg", hand_boxes["ulfd_19.jpg"])
    assert res.found == 5
    assert all(0.0 < b.score <= 1.0 and b.landmarks is None for b in boxes)


def test_blank_frame_has_no_faces(mtcnn):
    assert mtcnn.detect(np.full((240, 320, 3), 127, np.uint8)) == []
    assert get_detector("cascade").detect(np.full((240, 320, 3), 127, np.uint8)) == []
