"""Bins and decoding, Euler <-> matrix round trips, and the sign convention (held against Hopenet's draw_axis)."""

from __future__ import annotations

import numpy as np
import pytest

from gazenet_app.core.geometry import (ANGLE_OFFSET, BIN_WIDTH, NUM_BINS, angle_to_bin, bin_edges, decode_bins,
                                       euler_to_matrix, matrix_to_euler, pose_axes_2d, pose_cube_2d, wrap_degrees)


def hopenet_draw_axis(yaw, pitch, roll, tdx, tdy, size):
    """The tips of natanielruiz/deep-head-pose code/utils.py draw_axis (X, Y, Z), as written there."""
    pitch = pitch * np.pi / 180
    yaw = -(yaw * np.pi / 180)
    roll = roll * np.pi / 180
    x1 = size * (np.cos(yaw) * np.cos(roll)) + tdx
    y1 = size * (np.cos(pitch) * np.sin(roll) + np.cos(roll) * np.sin(pitch) * np.sin(yaw)) + tdy
    x2 = size * (-np.cos(yaw) * np.sin(roll)) + tdx
    y2 = size * (np.cos(pitch) * np.cos(roll) - np.sin(pitch) * np.sin(yaw) * np.sin(roll)) + tdy
    x3 = size * (np.sin(yaw)) + tdx
    y3 = size * (-np.cos(yaw) * np.sin(pitch)) + tdy
    return np.array([[x1, y1], [x2, y2], [x3, y3]])


def test_bins_are_hopenets():
    edges = bin_edges()
    assert (NUM_BINS, BIN_WIDTH, ANGLE_OFFSET) == (66, 3.0, 99.0)
    np.testing.assert_allclose(edges, np.arange(-99, 102, 3))
    assert angle_to_bin(-99.0) == 0 and angle_to_bin(-96.01) == 0 and angle_to_bin(-96.0) == 1
    assert angle_to_bin(98.9) == 65 and angle_to_bin(150.0) == 65 and angle_to_bin(-150.0) == 0


def test_decode_bins():
    logits = np.full((4, 66), -50.0)
    for row, i in enumerate((0, 10, 33, 65)):
        logits[row, i] = 50.0
    np.testing.assert_allclose(decode_bins(logits), [3 * i - 99 for i in (0, 10, 33, 65)], atol=1e-9)
    assert decode_bins(np.zeros(66)) == pytest.approx(3 * 32.5 - 99)  # uniform: the mean bin index
    two = np.full(66, -50.0)
    two[[20, 21]] = 50.0
    assert decode_bins(two) == pytest.approx(3 * 20.5 - 99)
    assert decode_bins(np.zeros((2, 3, 66))).shape == (2, 3)


def test_bin_centre_round_trip():
    centres = 3.0 * np.arange(66) - 99.0 + 1.5
    np.testing.assert_array_equal(angle_to_bin(centres), np.arange(66))


def test_euler_matrix_round_trip():
    rng = np.random.default_rng(1)
    for yaw, pitch, roll in rng.uniform([-89, -89, -89], [89, 89, 89], size=(200, 3)):
        R = euler_to_matrix(yaw, pitch, roll)
        np.testing.assert_allclose(R @ R.T, np.eye(3), atol=1e-12)
        assert np.linalg.det(R) == pytest.approx(1.0)
        np.testing.assert_allclose(matrix_to_euler(R), (yaw, pitch, roll), atol=1e-9)


def test_matrix_to_euler_gimbal_lock_gives_a_matrix_that_round_trips():
    R = euler_to_matrix(90.0, 20.0, 10.0)
    np.testing.assert_allclose(euler_to_matrix(*matrix_to_euler(R)), R, atol=1e-9)


def test_axes_match_hopenets_draw_axis():
    rng = np.random.default_rng(2)
    for yaw, pitch, roll in rng.uniform(-80, 80, size=(100, 3)):
        pts = pose_axes_2d(yaw, pitch, roll, (320.0, 240.0), 100.0)
        np.testing.assert_allclose(pts[0], (320.0, 240.0))
        np.testing.assert_allclose(pts[1:], hopenet_draw_axis(yaw, pitch, roll, 320.0, 240.0, 100.0), atol=1e-9)


@pytest.mark.parametrize("pose,axis,coord,sign", [
    ((30, 0, 0), 3, 0, -1),   # yaw > 0: the nose (Z) points toward image-left
    ((-30, 0, 0), 3, 0, +1),
    ((0, 30, 0), 3, 1, -1),   # pitch > 0: looking up, the nose points up the image
    ((0, 0, 30), 1, 1, +1),   # roll > 0: clockwise on screen, X (pointing right) dips down
    ((0, 0, 30), 2, 0, -1),   # ... and Y (pointing down) swings left
])
def test_sign_convention(pose, axis, coord, sign):
    pts = pose_axes_2d(*pose, center=(0.0, 0.0), size=1.0)
    assert np.sign(pts[axis][coord]) == sign


def test_frontal_axes():
    pts = pose_axes_2d(0, 0, 0, (10.0, 20.0), 5.0)
    np.testing.assert_allclose(pts, [[10, 20], [15, 20], [10, 25], [10, 20]], atol=1e-12)


def test_cube_is_centred_and_rotates():
    c = pose_cube_2d(25, -10, 5, (50.0, 60.0), 40.0)
    assert c.shape == (8, 2)
    np.testing.assert_allclose(c.mean(axis=0), (50.0, 60.0), atol=1e-9)
    flat = pose_cube_2d(0, 0, 0, (0.0, 0.0), 40.0)
    assert np.abs(flat).max() == pytest.approx(20.0)


def test_wrap_degrees():
    np.testing.assert_allclose(wrap_degrees([190.0, -190.0, 180.0, 0.0, 359.0]), [-170, 170, -180, 0, -1])
