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

__all__ = ["MeshFit", "similarity_fit", "fit_pose", "FaceMeshTeacher", "TEACHER_INPUT_SIZE"]

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
