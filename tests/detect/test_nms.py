"""NMS and IoU against brute-force references."""

from __future__ import annotations

import numpy as np
import pytest

from gazenet_app.detect.nms import box_ios, box_iou, nms, suppress_nested


def _iou_ref(a, b):
    iw = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    ih = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = iw * ih
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def _nms_ref(boxes, scores, thr):
    order = sorted(range(len(boxes)), key=lambda i: (-scores[i], i))
    keep = []
    for i in order:
        if all(_iou_ref(boxes[i], boxes[k]) <= thr for k in keep):
            keep.append(i)
    return keep


def _random_boxes(rng, n):
    xy = rng.uniform(0, 100, size=(n, 2))
    wh = rng.uniform(5, 40, size=(n, 2))
    return np.hstack([xy, xy + wh])


@pytest.mark.parametrize("seed", range(5))
def test_iou_matches_reference(seed):
    rng = np.random.default_rng(seed)
    a, b = _random_boxes(rng, 7), _random_boxes(rng, 5)
    ref = np.array([[_iou_ref(x, y) for y in b] for x in a])
    np.testing.assert_allclose(box_iou(a, b), ref, atol=1e-12)


@pytest.mark.parametrize("seed", range(10))
@pytest.mark.parametrize("thr", [0.3, 0.5])
def test_nms_matches_brute_force(seed, thr):
    rng = np.random.default_rng(seed)
    boxes = _random_boxes(rng, 60)
    scores = np.round(rng.uniform(size=60), 1)  # ties on purpose
    assert list(nms(boxes, scores, thr)) == _nms_ref(boxes, scores, thr)


def test_nms_edge_cases():
    assert nms(np.zeros((0, 4)), np.zeros(0)).shape == (0,)
    boxes = np.array([[0, 0, 10, 10], [1, 1, 11, 11], [50, 50, 60, 60]], float)
    assert list(nms(boxes, [0.5, 0.9, 0.1], 0.3)) == [1, 2]
    assert list(nms(boxes, [0.5, 0.9, 0.1], 0.3, top_k=1)) == [1]


def test_box_ios_is_one_for_a_box_inside_another_and_zero_apart():
    big, inner, apart = [0, 0, 100, 100], [20, 20, 40, 50], [200, 200, 210, 210]
    ios = box_ios(np.array([big, inner, apart]), np.array([big, inner, apart]))
    assert ios[0, 1] == pytest.approx(1.0) and ios[1, 0] == pytest.approx(1.0)
    assert ios[0, 2] == 0.0 and ios[2, 2] == pytest.approx(1.0)
    assert box_ios(np.array([[0, 0, 10, 10]]), np.array([[5, 0, 15, 10]]))[0, 0] == pytest.approx(0.5)


def test_suppress_nested_drops_the_inner_box_whatever_its_position_in_the_list():
    face, glasses, other = [100, 100, 200, 220], [110, 120, 190, 160], [300, 100, 380, 200]
    assert suppress_nested(np.array([glasses, face, other])).tolist() == [1, 2]
    assert suppress_nested(np.array([face, glasses, other])).tolist() == [0, 2]
    # neighbours that only touch (a crowd) both stay; a box half inside another stays at the 0.6 default
    half_in = [150, 100, 250, 220]
    assert suppress_nested(np.array([face, half_in])).tolist() == [0, 1]
    assert suppress_nested(np.zeros((0, 4))).tolist() == []


def test_suppress_beside_drops_a_small_box_against_a_bigger_face_only():
    from gazenet_app.detect.nms import suppress_beside

    face = [100, 100, 200, 200]
    ear = [205, 130, 240, 175]        # a third of the face's side, just right of it
    far = [300, 130, 335, 175]        # the same size, a face's width away: a small face of its own
    neighbour = [100, 205, 185, 290]  # against the face but nearly as big: another person
    boxes = np.array([ear, face, far, neighbour], dtype=float)
    assert suppress_beside(boxes).tolist() == [1, 2, 3]
    assert suppress_beside(boxes, reach=0.0).tolist() == [0, 1, 2, 3]  # not reaching the face: kept
    assert suppress_beside(np.zeros((0, 4))).tolist() == []
