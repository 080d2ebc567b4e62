"""Canonical face box, crop presets, crops and normalisation."""

from __future__ import annotations

import numpy as np
import pytest

from gazenet_app.core.transforms import (CROP_PRESETS, IMAGENET_MEAN, IMAGENET_STD, canonical_box_from_landmarks,
                                         crop_face, expand_box, get_crop_preset, normalize)

FRONTAL = ((40.0, 50.0), (60.0, 50.0), (50.0, 60.0), (42.0, 70.0), (58.0, 70.0))


def rotate(points, deg, center):
    a = np.radians(deg)
    R = np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])
    return (np.asarray(points) - center) @ R.T + center


def test_canonical_box_is_the_documented_square():
    b = canonical_box_from_landmarks(FRONTAL, score=0.7)
    assert b.width == pytest.approx(b.height)
    assert b.center == pytest.approx((50.0, 60.0))  # between eye centre (50, 50) and mouth centre (50, 70)
    assert b.width == pytest.approx(max(2.4 * 20.0, 1.5 * 20.0))
    assert b.score == 0.7 and b.landmarks == FRONTAL


def test_canonical_box_keeps_its_size_under_roll_and_yaw():
    base = canonical_box_from_landmarks(FRONTAL)
    rolled = canonical_box_from_landmarks(rotate(FRONTAL, 30, np.array([50.0, 60.0])))
    assert rolled.width == pytest.approx(base.width) and rolled.center == pytest.approx(base.center)
    turned = np.array(FRONTAL)
    turned[:, 0] = 50 + (turned[:, 0] - 50) * 0.4  # yaw squeezes x only
    assert canonical_box_from_landmarks(turned).width == pytest.approx(base.width)


def test_crop_presets():
    box = (100.0, 100.0, 200.0, 200.0)
    assert expand_box(box, get_crop_preset("hopenet_video")) == pytest.approx((50, 25, 250, 225))
    assert expand_box(box, get_crop_preset("hopenet_test")) == pytest.approx((88, 60, 212, 212))
    assert expand_box(box, get_crop_preset("gazenet")) == pytest.approx((85, 85, 215, 215))
    # square presets square a tall box around its centre
    x1, y1, x2, y2 = expand_box((0.0, 0.0, 50.0, 100.0), get_crop_preset("gazenet"))
    assert x2 - x1 == pytest.approx(y2 - y1) == pytest.approx(130.0) and (x1 + x2) / 2 == pytest.approx(25.0)
    # scale multiplies the expansion (training jitter)
    assert expand_box(box, get_crop_preset("hopenet_video"), scale=0.0) == pytest.approx(box)
    assert set(CROP_PRESETS) >= {"hopenet_video", "hopenet_test", "gazenet"}
    with pytest.raises(ValueError, match="unknown crop preset 'nope'; valid: gazenet, hopenet_test, hopenet_video"):
        get_crop_preset("nope")


def test_crop_face_inside_and_outside_the_frame():
    rgb = np.zeros((100, 120, 3), np.uint8)
    rgb[20:60, 30:70] = (200, 100, 50)
    crop = crop_face(rgb, (30.0, 20.0, 70.0, 60.0), 40)
    assert crop.shape == (40, 40, 3) and (crop == (200, 100, 50)).all()
    edge = crop_face(rgb, (-40.0, -40.0, 40.0, 40.0), 16)  # half outside: black there
    assert (edge[:7, :7] == 0).all()
    whole = crop_face(rgb, (0.0, 0.0, 120.0, 100.0), 60)  # the whole frame, x0.5 and x0.6
    assert tuple(whole[25, 25]) == (200, 100, 50) and tuple(whole[5, 5]) == (0, 0, 0)
    assert tuple(whole[25, 45]) == (0, 0, 0)  # x = 90 in the frame is outside the painted square


def test_crop_face_shrinks_big_regions_without_aliasing():
    # 1-px stripes: an area-averaged 8x shrink is flat grey; point sampling would keep whole stripes
    rgb = np.zeros((800, 800, 3), np.uint8)
    rgb[:, ::2] = 255
    crop = crop_face(rgb, (0.0, 0.0, 800.0, 800.0), 100)
    inner = crop[2:-2, 2:-2]  # (the outermost pixels blend with the black beyond the frame)
    assert abs(float(inner.mean()) - 127.5) < 2 and inner.std() < 3
    # geometry is the same as a plain warp: a square lands where it should, also half outside the frame
    img = np.zeros((600, 600, 3), np.uint8)
    img[200:400, 100:300] = 255
    crop = crop_face(img, (100.0, 200.0, 500.0, 600.0), 40)  # 10x: the square fills the top-left quarter
    assert crop[5:15, 5:15].min() == 255 and crop[25:, :].max() == 0 and crop[:, 25:].max() == 0
    out = crop_face(img, (-300.0, -100.0, 500.0, 700.0), 40)  # 20x, a third of the region outside
    assert out[:, :14].max() == 0 and out[17:23, 21:24].min() > 200
    none = crop_face(img, (1000.0, 1000.0, 1400.0, 1400.0), 20)  # entirely outside: black, no error
    assert none.shape == (20, 20, 3) and none.max() == 0


def test_normalize():
    crops = np.zeros((2, 4, 4, 3), np.uint8)
    crops[..., 0] = 255
    x = normalize(crops)
    assert x.shape == (2, 3, 4, 4) and x.dtype == np.float32 and x.flags.c_contiguous
    assert x[0, 0, 0, 0] == pytest.approx((1.0 - IMAGENET_MEAN[0]) / IMAGENET_STD[0], rel=1e-6)
    assert x[0, 1, 0, 0] == pytest.approx(-IMAGENET_MEAN[1] / IMAGENET_STD[1], rel=1e-6)
    raw = normalize(crops[0], mean=None)
    assert raw.shape == (1, 3, 4, 4) and raw.max() == 1.0
