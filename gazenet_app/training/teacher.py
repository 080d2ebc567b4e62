"""The FaceMesh teacher: MediaPipe's 468 3D landmarks aligned to the canonical face give yaw/pitch/roll.

FaceMesh (static mode) returns x, y normalised to the image and z on the x scale, growing away from the
camera: in pixels that is OpenCV's camera frame under an orthographic view. A similarity (Umeyama/Procrustes)
fit `L ~ s R P + t` of the canonical vertices P (head frame, gazenet_app.training.facemesh) to the landmarks L
gives the head-to-camera rotation R, whose Euler angles in the project's convention
(gazenet_app.core.geometry.matrix_to_euler) are the label.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Tuple

import cv2
import numpy as np

from gazenet_app.core.errors import DependencyError
from gazenet_app.core.geometry import matrix_to_euler
from gazenet_app.training.facemesh import canonical_vertices, five_points

__all__ = ["MeshFit", "similarity_fit", "fit_pose", "five_point_rotation", "fuse_landmark_yaw", "FaceMeshTeacher",
           "TEACHER_INPUT_SIZE", "LANDMARK_YAW_WEIGHT"]

#: Weight of the human five landmarks' yaw in the label (chosen on the train split: docs/data.md "Teacher labels").
LANDMARK_YAW_WEIGHT = 0.7
#: Side (px) the teacher's input is resized to (FaceMesh was measured here on 256 px inputs).
TEACHER_INPUT_SIZE = 256


@dataclass(frozen=True)
class MeshFit:
    """A fitted face: `vertices` (468x3, input pixels, z away from the camera), `L ~ scale*R@P + t`."""

    vertices: np.ndarray
    rotation: np.ndarray
    scale: float
    translation: np.ndarray
    rms: float  # alignment residual divided by the scale (canonical units, ~cm)

    @property
    def pose(self) -> Tuple[float, float, float]:
        """(yaw, pitch, roll) in degrees, Hopenet's convention."""
        return matrix_to_euler(self.rotation)

    def five_points(self) -> np.ndarray:
        """The five landmarks (5x2, input pixels) from the mesh."""
        return five_points(self.vertices)[:, :2]


def similarity_fit(src: np.ndarray, dst: np.ndarray) -> Tuple[float, np.ndarray, np.ndarray]:
    """Umeyama: scale s, rotation R (det +1), translation t minimising sum |s R src_i + t - dst_i|^2."""
    src = np.asarray(src, dtype=np.float64)
    dst = np.asarray(dst, dtype=np.float64)
    mu_s, mu_d = src.mean(axis=0), dst.mean(axis=0)
    a, b = src - mu_s, dst - mu_d
    cov = b.T @ a / len(src)
    U, S, Vt = np.linalg.svd(cov)
    D = np.eye(3)
    if np.linalg.det(U) * np.linalg.det(Vt) < 0:
        D[2, 2] = -1.0
    R = U @ D @ Vt
    var_s = (a ** 2).sum() / len(src)
    s = float(np.trace(np.diag(S) @ D) / var_s)
    t = mu_d - s * R @ mu_s
    return s, R, t


def fit_pose(vertices: np.ndarray) -> MeshFit:
    """Align the canonical face to 468 landmarks (pixels, z away from the camera) and return the fit."""
    L = np.asarray(vertices, dtype=np.float64)[:468]
    P = canonical_vertices()
    s, R, t = similarity_fit(P, L)
    res = L - (s * P @ R.T + t)
    rms = float(np.sqrt((res ** 2).sum(axis=1).mean()) / max(s, 1e-9))
    return MeshFit(L, R, s, t, rms)


def five_point_rotation(landmarks: np.ndarray, fit: MeshFit, iterations: int = 20) -> np.ndarray:
    """Rotation of the canonical face's five points fitted (scaled orthographic) to 2D landmarks (5x2, the fit's px).

    Gauss-Newton on (rotation increment, log scale, 2D shift), started from the mesh fit: five points and six
    unknowns, so only a good start makes it well posed (300W-LP's labels come from such landmark fits).
    """
    L = np.asarray(landmarks, dtype=np.float64).reshape(5, 2)
    P5 = five_points(canonical_vertices())
    R = np.array(fit.rotation, dtype=np.float64)
    s, t = float(fit.scale), np.array(fit.translation[:2], dtype=np.float64)
    for _ in range(iterations):
        Q = P5 @ R.T
        r = (s * Q[:, :2] + t - L).ravel()
        J = np.zeros((10, 6))
        J[0::2, 0:3] = s * np.column_stack([np.zeros(5), Q[:, 2], -Q[:, 1]])   # d(omega x q)_x / d omega
        J[1::2, 0:3] = s * np.column_stack([-Q[:, 2], np.zeros(5), Q[:, 0]])   # d(omega x q)_y / d omega
        J[:, 3] = (s * Q[:, :2]).ravel()
        J[0::2, 4] = 1.0
        J[1::2, 5] = 1.0
        step = np.linalg.solve(J.T @ J + 1e-6 * s * s * np.eye(6), -J.T @ r)
        R = cv2.Rodrigues(step[:3])[0] @ R
        s *= float(np.exp(step[3]))
        t += step[4:]
        if np.abs(step[:3]).max() < 1e-7:
            break
    return R


def fuse_landmark_yaw(fit: MeshFit, landmarks: Optional[np.ndarray],
                      weight: float = LANDMARK_YAW_WEIGHT) -> Tuple[float, float, float]:
    """(yaw, pitch, roll): FaceMesh's pose with yaw moved `weight` of the way to the human landmarks' yaw.

    Five human points carry yaw (the nose against the eyes and mouth) but little pitch, so only yaw is fused;
    without landmarks (or weight 0) the pose is FaceMesh's own.
    """
    yaw, pitch, roll = fit.pose
    if landmarks is None or weight <= 0:
        return yaw, pitch, roll
    yaw5 = matrix_to_euler(five_point_rotation(landmarks, fit))[0]
    return (1.0 - weight) * yaw + weight * yaw5, pitch, roll


class FaceMeshTeacher:
    """MediaPipe FaceMesh in static mode + the canonical alignment; `fit(rgb)` -> `MeshFit` or None."""

    def __init__(self, min_detection_confidence: float = 0.5, input_size: int = TEACHER_INPUT_SIZE) -> None:
        try:
            from mediapipe.python.solutions.face_mesh import FaceMesh
        except ImportError as exc:
            raise DependencyError("the FaceMesh teacher needs mediapipe 0.10.21: run "
                                  "scripts/install_data_deps.sh") from exc
        self.input_size = int(input_size)
        self._mesh = FaceMesh(static_image_mode=True, max_num_faces=1, refine_landmarks=False,
                              min_detection_confidence=min_detection_confidence)

    def fit(self, rgb: np.ndarray) -> Optional[MeshFit]:
        """Fit the face in an RGB image (the face should fill a good part of it); None when none is found.

        The image is padded to a square and resized to `input_size`; vertices come back in the input's pixels.
        """
        img = np.asarray(rgb)
        if img.ndim == 2:
            img = cv2.cvtColor(img, cv2.COLOR_GRAY2RGB)
        h, w = img.shape[:2]
        side = max(h, w)
        canvas = np.zeros((side, side, 3), np.uint8)
        canvas[:h, :w] = img[:, :, :3]
        scale = self.input_size / side
        interp = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
        small = cv2.resize(canvas, (self.input_size, self.input_size), interpolation=interp)
        out = self._mesh.process(np.ascontiguousarray(small))
        if not out.multi_face_landmarks:
            return None
        lm = out.multi_face_landmarks[0].landmark
        v = np.array([(p.x, p.y, p.z) for p in lm[:468]], dtype=np.float64) * side
        return fit_pose(v)

    def close(self) -> None:
        """Release MediaPipe's graph."""
        self._mesh.close()

    def __enter__(self) -> "FaceMeshTeacher":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
