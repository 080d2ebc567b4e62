"""Overlays on RGB frames: face boxes with ids, Hopenet's 3D axes, an optional pose cube and angle text.

`gazenet annotate`, `gazenet predict` and the app all draw through `draw_frame_result`, so they produce the
same pictures. Axes as the original Hopenet `draw_axis`: X red, Y green, Z blue (the nose direction), origin at
the box centre, length half the box height. Line widths and fonts scale with the frame size, so overlays read
the same at 640x480 and 1920x1080. Colours per face id come from `face_color` (the app's timelines reuse it).
"""

from __future__ import annotations

import colorsys
from typing import Optional, Tuple

import cv2
import numpy as np

from gazenet_app.core.geometry import CUBE_EDGES, pose_axes_2d, pose_cube_2d
from gazenet_app.core.types import FaceBox, FaceResult, FrameResult, HeadPose

__all__ = [
    "face_color",
    "overlay_scale",
    "draw_box",
    "draw_axes",
    "draw_cube",
    "draw_label",
    "draw_face",
    "draw_frame_result",
    "AXIS_COLORS",
]

RGB = Tuple[int, int, int]
#: X, Y, Z axis colours (RGB), as Hopenet's draw_axis.
AXIS_COLORS: Tuple[RGB, RGB, RGB] = ((255, 0, 0), (0, 255, 0), (0, 0, 255))
_GOLDEN = 0.618033988749895
_INVALID_COLOR: RGB = (160, 160, 160)


def face_color(face_id: Optional[int]) -> RGB:
    """A distinct, stable RGB colour per face id (golden-ratio hues); grey for no id."""
    if face_id is None or face_id < 0:
        return (200, 200, 200)
    h = (0.13 + face_id * _GOLDEN) % 1.0
    s = 0.85 if face_id % 2 == 0 else 0.65
    r, g, b = colorsys.hsv_to_rgb(h, s, 1.0)
    return (int(round(r * 255)), int(round(g * 255)), int(round(b * 255)))


def overlay_scale(shape: Tuple[int, ...]) -> float:
    """Size factor of overlays for a frame shape: 1.0 at 640x480, 3.0 at 1920x1080."""
    h, w = shape[:2]
    return max(0.5, max(h, w) / 640.0)


def _thickness(scale: float, base: float = 2.0) -> int:
    return max(1, int(round(base * scale)))


def _pt(p) -> Tuple[int, int]:
    return (int(round(float(p[0]))), int(round(float(p[1]))))


def draw_box(rgb: np.ndarray, box: FaceBox, color: RGB, thickness: int = 2, dashed: bool = False) -> None:
    """Draw a rectangle in place (dashed for boxes carried by the tracker)."""
    p1, p2 = _pt((box.x1, box.y1)), _pt((box.x2, box.y2))
    if not dashed:
        cv2.rectangle(rgb, p1, p2, color, thickness, cv2.LINE_AA)
        return
    dash = max(4, 4 * thickness)
    for (xa, ya), (xb, yb) in (((p1[0], p1[1]), (p2[0], p1[1])), ((p2[0], p1[1]), (p2[0], p2[1])),
                               ((p2[0], p2[1]), (p1[0], p2[1])), ((p1[0], p2[1]), (p1[0], p1[1]))):
        n = max(1, int(np.hypot(xb - xa, yb - ya) // dash))
        for i in range(0, n, 2):
            a = (int(xa + (xb - xa) * i / n), int(ya + (yb - ya) * i / n))
            b = (int(xa + (xb - xa) * (i + 1) / n), int(ya + (yb - ya) * (i + 1) / n))
            cv2.line(rgb, a, b, color, thickness, cv2.LINE_AA)


def draw_axes(rgb: np.ndarray, pose: HeadPose, center: Tuple[float, float], size: float,
              thickness: int = 2) -> None:
    """Hopenet's 3D axes in place: X red, Y green, Z blue, from `center`, length `size`."""
    pts = pose_axes_2d(pose.yaw, pose.pitch, pose.roll, center, size)
    origin = _pt(pts[0])
    for tip, color in zip(pts[1:], AXIS_COLORS):
        cv2.line(rgb, origin, _pt(tip), color, thickness, cv2.LINE_AA)


def draw_cube(rgb: np.ndarray, pose: HeadPose, center: Tuple[float, float], size: float, color: RGB,
              thickness: int = 1) -> None:
    """A pose cube of side `size` around `center`, rotated by the pose, in place."""
    pts = pose_cube_2d(pose.yaw, pose.pitch, pose.roll, center, size)
    for i, j in CUBE_EDGES:
        cv2.line(rgb, _pt(pts[i]), _pt(pts[j]), color, thickness, cv2.LINE_AA)


def draw_label(rgb: np.ndarray, text: str, origin: Tuple[float, float], color: RGB, scale: float) -> None:
    """Text on a dark box whose bottom-left is `origin` (moved inside the frame), in place."""
    font, fs = cv2.FONT_HERSHEY_SIMPLEX, 0.45 * scale
    th = _thickness(scale, 1.0)
    (tw, tht), base = cv2.getTextSize(text, font, fs, th)
    h, w = rgb.shape[:2]
    pad = max(2, int(round(2 * scale)))
    x = int(min(max(origin[0], 0), max(w - tw - 2 * pad, 0)))
    y = int(origin[1])
    if y - tht - base - 2 * pad < 0:
        y = tht + base + 2 * pad
    y = min(y, h)
    cv2.rectangle(rgb, (x, y - tht - base - 2 * pad), (x + tw + 2 * pad, y), (0, 0, 0), -1)
    cv2.putText(rgb, text, (x + pad, y - base - pad), font, fs, color, th, cv2.LINE_AA)


def _label_text(face: FaceResult, show_angles: bool) -> str:
    text = f"#{face.face_id}"
    if show_angles:
        if face.pose is None:
            text += " no pose"
        elif not face.pose_valid:
            text += " out of range"
        else:
            p = face.pose
            text += " " + " ".join(f"{k}{int(round(v)):+d}" for k, v in zip("ypr", (p.yaw, p.pitch, p.roll)))
    return text


def draw_face(rgb: np.ndarray, face: FaceResult, scale: float, show_cube: bool = False,
              show_text: bool = True) -> None:
    """One face's box, id, axes (if it has a valid pose), optional cube and text, in place."""
    color = face_color(face.face_id)
    t = _thickness(scale)
    box = face.box
    draw_box(rgb, box, color if face.pose_valid else _INVALID_COLOR, t, dashed=face.tracked_only)
    if face.pose is not None and face.pose_valid:
        size = max(box.height, 1.0) / 2.0
        if show_cube:
            draw_cube(rgb, face.pose, box.center, max(box.height, 1.0) * 0.9, color, max(1, t // 2))
        draw_axes(rgb, face.pose, box.center, size, t)
    draw_label(rgb, _label_text(face, show_text), (box.x1, box.y1 - t), color, scale)


def draw_frame_result(rgb: np.ndarray, result: FrameResult, show_cube: bool = False,
                      show_text: bool = True) -> np.ndarray:
    """A copy of the RGB frame with every face of `result` drawn on it."""
    out = np.ascontiguousarray(rgb).copy()
    scale = overlay_scale(out.shape)
    for face in result.faces:
        draw_face(out, face, scale, show_cube=show_cube, show_text=show_text)
    return out
