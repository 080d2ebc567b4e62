"""Hopenet bins <-> degrees, Euler angles <-> rotation matrices, and projected 3D pose axes.

Rotation convention: R = Rx(-pitch) @ Ry(yaw) @ Rz(roll) maps head coordinates into OpenCV camera
coordinates (x right, y down, z away from the camera). The head frame is the camera frame for a frontal
face: x toward image-right, y toward the chin, z from the face into the head, so the nose points along -z.
With this R, yaw > 0 turns the nose toward image-left, pitch > 0 looks up, roll > 0 is clockwise on
screen: Hopenet's convention (see gazenet_app.core.types), and the axes drawn match its `draw_axis`.
"""

from __future__ import annotations

from typing import Tuple

import numpy as np

__all__ = [
    "NUM_BINS",
    "BIN_WIDTH",
    "ANGLE_OFFSET",
    "bin_edges",
    "angle_to_bin",
    "softmax",
    "decode_bins",
    "euler_to_matrix",
    "matrix_to_euler",
    "pose_axes_2d",
    "pose_cube_2d",
    "CUBE_EDGES",
    "wrap_degrees",
]

#: Hopenet's binning: 66 bins of 3 degrees covering [-99, +99).
NUM_BINS = 66
BIN_WIDTH = 3.0
ANGLE_OFFSET = 99.0


def bin_edges(bins: int = NUM_BINS, width: float = BIN_WIDTH, offset: float = ANGLE_OFFSET) -> np.ndarray:
    """The bins+1 bin edges: -offset, -offset+width, ..., as Hopenet's `range(-99, 102, 3)`."""
    return -offset + width * np.arange(bins + 1, dtype=np.float64)


def angle_to_bin(angle, bins: int = NUM_BINS, width: float = BIN_WIDTH,
                 offset: float = ANGLE_OFFSET) -> np.ndarray:
    """Bin index of each angle (Hopenet's `np.digitize(angle, edges) - 1`), clipped to [0, bins-1]."""
    idx = np.floor((np.asarray(angle, dtype=np.float64) + offset) / width).astype(np.int64)
    return np.clip(idx, 0, bins - 1)


def softmax(logits: np.ndarray, axis: int = -1) -> np.ndarray:
    """Numerically stable softmax."""
    z = np.asarray(logits, dtype=np.float64)
    z = z - z.max(axis=axis, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=axis, keepdims=True)


def decode_bins(logits: np.ndarray, width: float = BIN_WIDTH, offset: float = ANGLE_OFFSET) -> np.ndarray:
    """Angle = width * sum_i softmax(z)_i * i - offset, over the last axis (Hopenet's expectation)."""
    p = softmax(logits, axis=-1)
    idx = np.arange(p.shape[-1], dtype=np.float64)
    return width * (p * idx).sum(axis=-1) - offset


def _rx(a: float) -> np.ndarray:
    c, s = np.cos(a), np.sin(a)
    return np.array([[1.0, 0.0, 0.0], [0.0, c, -s], [0.0, s, c]])


def _ry(a: float) -> np.ndarray:
    c, s = np.cos(a), np.sin(a)
    return np.array([[c, 0.0, s], [0.0, 1.0, 0.0], [-s, 0.0, c]])


def _rz(a: float) -> np.ndarray:
    c, s = np.cos(a), np.sin(a)
    return np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])


def euler_to_matrix(yaw: float, pitch: float, roll: float) -> np.ndarray:
    """Rotation matrix (3x3) of a head pose in degrees: R = Rx(-pitch) @ Ry(yaw) @ Rz(roll)."""
    y, p, r = np.radians([yaw, pitch, roll])
    return _rx(-p) @ _ry(y) @ _rz(r)


def matrix_to_euler(R: np.ndarray) -> Tuple[float, float, float]:
    """(yaw, pitch, roll) in degrees of a rotation matrix; inverse of `euler_to_matrix` for |yaw| < 90."""
    R = np.asarray(R, dtype=np.float64)
    yaw = np.arcsin(np.clip(R[0, 2], -1.0, 1.0))
    if abs(R[0, 2]) < 1.0 - 1e-9:
        pitch = np.arctan2(R[1, 2], R[2, 2])
        roll = np.arctan2(-R[0, 1], R[0, 0])
    else:  # gimbal lock: yaw = +-90, put everything into pitch
        pitch = np.arctan2(-R[2, 1], R[1, 1]) * np.sign(R[0, 2])
        roll = 0.0
    return tuple(float(v) for v in np.degrees([yaw, pitch, roll]))


def wrap_degrees(angle):
    """Map angles to [-180, 180)."""
    return (np.asarray(angle, dtype=np.float64) + 180.0) % 360.0 - 180.0


def pose_axes_2d(yaw: float, pitch: float, roll: float, center: Tuple[float, float],
                 size: float) -> np.ndarray:
    """Image points (4x2) of the origin and the tips of the X (red), Y (green), Z (blue, nose) axes.

    Orthographic projection, as Hopenet's `draw_axis`: origin at `center`, axis length `size`.
    """
    R = euler_to_matrix(yaw, pitch, roll)
    cx, cy = center
    tips = [R[:2, 0], R[:2, 1], -R[:2, 2]]
    pts = [(cx, cy)] + [(cx + size * t[0], cy + size * t[1]) for t in tips]
    return np.asarray(pts, dtype=np.float64)


_CUBE = np.array([[x, y, z] for z in (-1, 1) for y in (-1, 1) for x in (-1, 1)], dtype=np.float64)
#: Index pairs of the cube's 12 edges (corners as in `_CUBE`).
CUBE_EDGES: Tuple[Tuple[int, int], ...] = tuple(
    (i, j) for i in range(8) for j in range(i + 1, 8) if np.abs(_CUBE[i] - _CUBE[j]).sum() == 2)


def pose_cube_2d(yaw: float, pitch: float, roll: float, center: Tuple[float, float],
                 size: float) -> np.ndarray:
    """Image points (8x2) of a cube of side `size` around the head, rotated by the pose (orthographic)."""
    R = euler_to_matrix(yaw, pitch, roll)
    pts = (_CUBE * (size / 2.0)) @ R.T
    return pts[:, :2] + np.asarray(center, dtype=np.float64)

