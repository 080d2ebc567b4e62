"""Overlays: stable distinct colours, a copy not the input, Hopenet's axis colours, scaling with frame size."""

from __future__ import annotations

import numpy as np
import pytest

from gazenet_app.core.draw import AXIS_COLORS, draw_frame_result, face_color, overlay_scale
from gazenet_app.core.geometry import pose_axes_2d
from gazenet_app.core.types import FaceBox, FaceResult, FrameResult, HeadPose


def result_with(pose, box=FaceBox(200, 140, 320, 260, 0.9), valid=True, tracked=False, h=480, w=640):
    return FrameResult(0, 0.0, "x", (FaceResult(3, box, pose, pose, valid, tracked),), {}, (h, w))


def test_face_colors_are_stable_and_distinct():
    colors = [face_color(i) for i in range(12)]
    assert colors == [face_color(i) for i in range(12)]
    assert len(set(colors)) == 12
    assert all(len(c) == 3 and all(isinstance(v, int) and 0 <= v <= 255 for v in c) for c in colors)
    # neighbouring ids differ clearly
    assert all(sum(abs(a - b) for a, b in zip(colors[i], colors[i + 1])) > 60 for i in range(11))


def test_returns_a_copy():
    rgb = np.full((480, 640, 3), 128, np.uint8)
    out = draw_frame_result(rgb, result_with(HeadPose(0, 0, 0)))
    assert out is not rgb and (rgb == 128).all() and not (out == 128).all()


@pytest.mark.parametrize("pose", [HeadPose(0, 0, 0), HeadPose(30, -20, 10), HeadPose(-45, 15, -25)])
def test_axes_have_hopenets_colours_along_the_projected_directions(pose):
    rgb = np.zeros((480, 640, 3), np.uint8)
    box = FaceBox(200, 140, 320, 260, 0.9)
    out = draw_frame_result(rgb, result_with(pose, box), show_text=False)
    pts = pose_axes_2d(pose.yaw, pose.pitch, pose.roll, box.center, box.height / 2)
    for tip, color in zip(pts[1:], AXIS_COLORS):
        if np.hypot(*(tip - pts[0])) < 20:
            continue  # the axis points at the camera: too short to sample
        x, y = (pts[0] + 0.75 * (tip - pts[0])).round().astype(int)
        assert tuple(out[y, x]) == color, (pose, color)


def test_axis_length_is_half_the_box_height():
    box = FaceBox(100, 100, 180, 300, 0.9)  # height 200 -> axes 100 px
    out = draw_frame_result(np.zeros((480, 640, 3), np.uint8), result_with(HeadPose(0, 0, 0), box), show_text=False)
    cx, cy = (int(v) for v in box.center)
    red = np.where((out[cy] == AXIS_COLORS[0]).all(axis=1))[0]
    assert red.min() <= cx + 6 and red.max() == pytest.approx(cx + 100, abs=2)


def test_overlays_scale_with_frame_size():
    assert overlay_scale((480, 640)) == 1.0 and overlay_scale((1080, 1920)) == 3.0

    def red_thickness(h, w, k):
        box = FaceBox(100 * k, 100 * k, 220 * k, 220 * k, 0.9)
        out = draw_frame_result(np.zeros((h, w, 3), np.uint8), result_with(HeadPose(0, 0, 0), box, h=h, w=w),
                                show_text=False)
        x = int(box.center[0] + box.height / 4)
        return int((out[:, x] == AXIS_COLORS[0]).all(axis=1).sum())

    assert red_thickness(1080, 1920, 3) >= 2 * red_thickness(480, 640, 1)


def test_text_cube_invalid_and_tracked():
    rgb = np.zeros((480, 640, 3), np.uint8)
    pose = HeadPose(20, 10, 5)
    plain = draw_frame_result(rgb, result_with(pose), show_text=False)
    text = draw_frame_result(rgb, result_with(pose))
    cube = draw_frame_result(rgb, result_with(pose), show_cube=True, show_text=False)
    assert (text[100:138] != plain[100:138]).any()  # label above the box
    assert (cube != plain).sum() > 50
    invalid = draw_frame_result(rgb, result_with(pose, valid=False), show_text=False)
    assert not any((invalid == c).all(axis=2).any() for c in AXIS_COLORS)  # no axes for an invalid pose
    solid = draw_frame_result(rgb, result_with(None), show_text=False)
    dashed = draw_frame_result(rgb, result_with(None, tracked=True), show_text=False)
    assert 0 < (dashed != 0).any(axis=2).sum() < (solid != 0).any(axis=2).sum()


def test_faces_near_the_border_do_not_fail():
    rgb = np.zeros((120, 160, 3), np.uint8)
    box = FaceBox(-30, -20, 40, 50, 0.9)
    out = draw_frame_result(rgb, result_with(HeadPose(80, 60, 40), box, h=120, w=160), show_cube=True)
    assert out.shape == rgb.shape


def test_label_never_shows_minus_zero():
    from gazenet_app.core.draw import _label_text
    from gazenet_app.core.types import FaceBox, FaceResult, HeadPose

    face = FaceResult(face_id=3, box=FaceBox(0, 0, 10, 10, 0.9), pose=HeadPose(-0.4, 12.6, -0.2),
                      pose_raw=None, pose_valid=True, tracked_only=False)
    assert _label_text(face, True).endswith("y+0 p+13 r+0")
