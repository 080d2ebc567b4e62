"""Online augmentation: flip label handling, crops through the core presets, blur/down-scaling, determinism."""

from __future__ import annotations

import numpy as np

from gazenet_app.core.transforms import crop_face, expand_box, get_crop_preset
from gazenet_app.training.augment import (AugmentConfig, augment_sample, crop_region, eval_crop, flip_labels,
                                          flip_landmarks)
from fixtures.pose_dataset import draw_face

NO_AUG = dict(margin_scale=(1.0, 1.0), shift=0.0, flip_p=0.0, blur_p=0.0, downscale_p=0.0, color_p=0.0, gray_p=0.0)


def _face(yaw=30.0, pitch=10.0, roll=15.0):
    from gazenet_app.core.transforms import canonical_box_from_landmarks

    img, lm = draw_face(yaw, pitch, roll, size=64)
    b = canonical_box_from_landmarks(lm)
    return img, np.array([b.x1, b.y1, b.x2, b.y2]), lm, np.array([yaw, pitch, roll], np.float32)


def test_flip_negates_yaw_and_roll_and_swaps_landmarks():
    np.testing.assert_allclose(flip_labels(np.array([30.0, 10.0, 15.0])), [-30.0, 10.0, -15.0])
    lm = np.array([[10, 20], [30, 21], [20, 30], [12, 40], [28, 41]], dtype=np.float32)
    f = flip_landmarks(lm, 64)
    np.testing.assert_allclose(f[0], [64 - 30, 21])  # the new image-left eye is the old right eye, mirrored
    np.testing.assert_allclose(f[3], [64 - 28, 41])
    np.testing.assert_allclose(f[2], [64 - 20, 30])
    np.testing.assert_allclose(flip_landmarks(f, 64), lm)


def test_flipped_sample_is_the_face_drawn_with_mirrored_pose():
    img, box, lm, pose = _face()
    cfg = AugmentConfig(size=48, **{**NO_AUG, "flip_p": 1.0})
    crop, p, lm_c = augment_sample(img, box, pose, np.random.default_rng(0), cfg, lm)
    np.testing.assert_allclose(p, [-30.0, 10.0, -15.0])
    plain, _, lm_p = augment_sample(img, box, pose, np.random.default_rng(0), AugmentConfig(size=48, **NO_AUG), lm)
    np.testing.assert_array_equal(crop, plain[:, ::-1])
    assert lm_c[0, 0] < lm_c[1, 0]  # image-left eye still first
    # the mirrored image of a face drawn at (yaw, roll) looks like the face drawn at (-yaw, -roll)
    mirrored, _, _, _ = _face(-30.0, 10.0, -15.0)
    diff_flip = np.abs(img[:, ::-1].astype(int) - mirrored.astype(int)).mean()
    diff_same = np.abs(img.astype(int) - mirrored.astype(int)).mean()
    assert diff_flip < diff_same


def test_eval_crop_is_the_core_preset_crop():
    img, box, _, _ = _face()
    want = crop_face(img, expand_box(tuple(box), get_crop_preset("gazenet")), 40)
    np.testing.assert_array_equal(eval_crop(img, box, 40, "gazenet"), want)
    crop, _, _ = augment_sample(img, box, np.zeros(3), np.random.default_rng(0), AugmentConfig(size=40, **NO_AUG))
    np.testing.assert_array_equal(crop, want)


def test_margin_scale_and_shao_margin_change_the_region():
    box = (10.0, 10.0, 50.0, 50.0)
    p = get_crop_preset("gazenet")
    r1 = crop_region(box, p, 1.0)
    r2 = crop_region(box, p, 2.0)
    assert r2[2] - r2[0] > r1[2] - r1[0]
    np.testing.assert_allclose(r1, (4.0, 4.0, 56.0, 56.0))
    s = crop_region(box, p, shao_margin=0.25)
    np.testing.assert_allclose(s, (0.0, 0.0, 60.0, 60.0))
    shifted = crop_region(box, p, 1.0, shift=(0.1, -0.1))
    np.testing.assert_allclose(shifted, (8.0, 0.0, 60.0, 52.0))


def test_landmarks_follow_the_crop():
    img, box, lm, pose = _face(0, 0, 0)
    cfg = AugmentConfig(size=64, **NO_AUG)
    crop, _, lm_c = augment_sample(img, box, pose, np.random.default_rng(0), cfg, lm)
    x, y = np.round(lm_c[0]).astype(int)
    assert crop[y, x].max() < 60  # the eye is a dark dot


def test_blur_and_downscale_soften_and_are_seeded():
    img, box, lm, pose = _face()
    base = dict(NO_AUG)
    sharp, _, _ = augment_sample(img, box, pose, np.random.default_rng(0), AugmentConfig(size=48, **base))
    for opt in ({"blur_p": 1.0}, {"downscale_p": 1.0, "downscale_min": 8}):
        cfg = AugmentConfig(size=48, **{**base, **opt})
        soft, _, _ = augment_sample(img, box, pose, np.random.default_rng(0), cfg)
        grad = lambda a: np.abs(np.diff(a.astype(int), axis=1)).mean()  # noqa: E731
        assert grad(soft) < grad(sharp)
    cfg = AugmentConfig(size=48)
    a = augment_sample(img, box, pose, np.random.default_rng(5), cfg)[0]
    b = augment_sample(img, box, pose, np.random.default_rng(5), cfg)[0]
    np.testing.assert_array_equal(a, b)
