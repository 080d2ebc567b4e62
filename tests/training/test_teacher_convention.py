"""The teacher's angle convention: synthetic posed meshes, the similarity fit, and the true-angle Panoptic frame."""

import csv

import numpy as np
import pytest

from gazenet_app.core.geometry import euler_to_matrix
from gazenet_app.training.facemesh import canonical_vertices, five_points
from gazenet_app.training.teacher import fit_pose, similarity_fit


def _posed(yaw, pitch, roll, s=3.0, t=(64.0, 64.0, 10.0)):
    return s * canonical_vertices() @ euler_to_matrix(yaw, pitch, roll).T + np.asarray(t)


def test_similarity_fit_recovers_transform():
    rng = np.random.default_rng(1)
    P = rng.normal(size=(50, 3))
    R = euler_to_matrix(20, -10, 5)
    s, R2, t = similarity_fit(P, 2.5 * P @ R.T + [1, 2, 3])
    assert s == pytest.approx(2.5)
    np.testing.assert_allclose(R2, R, atol=1e-9)
    np.testing.assert_allclose(t, [1, 2, 3], atol=1e-9)


@pytest.mark.parametrize("pose", [(30, 0, 0), (-45, 10, -5), (10, -25, 20), (0, 0, 0)])
def test_fit_pose_reads_back_the_pose(pose):
    fit = fit_pose(_posed(*pose))
    np.testing.assert_allclose(fit.pose, pose, atol=1e-6)
    assert fit.rms < 1e-6


def test_sign_convention_in_the_image():
    """yaw > 0: nose toward image-left; pitch > 0: nose up; roll > 0: clockwise (image-right eye lower)."""
    front = five_points(_posed(0, 0, 0))
    left = five_points(_posed(30, 0, 0))
    assert left[2, 0] < front[2, 0] - 1.0
    up = five_points(_posed(0, 20, 0))
    assert up[2, 1] < front[2, 1] - 1.0
    cw = five_points(_posed(0, 0, 15))
    assert cw[1, 1] > cw[0, 1] + 1.0
    # the five points are image-left eye, image-right eye, nose, mouth left, mouth right on a frontal face
    assert front[0, 0] < front[2, 0] < front[1, 0] and front[3, 0] < front[4, 0]
    assert front[0, 1] < front[2, 1] < front[3, 1]


@pytest.mark.shared
def test_panoptic_frame_matches_true_angles(shared_dir):
    """FaceMesh teacher on the visible true-angle CMU Panoptic frame (its yaw has the opposite sign)."""
    pytest.importorskip("mediapipe")
    import cv2

    from gazenet_app.core.transforms import crop_face
    from gazenet_app.training.teacher import FaceMeshTeacher

    folder = shared_dir / "data" / "pose" / "panoptic_opal23_samples"
    with open(folder / "labels.csv", newline="") as fh:
        row = next(r for r in csv.DictReader(fh, delimiter=";") if r["image"].startswith("00_00"))
    rgb = cv2.cvtColor(cv2.imread(str(folder / row["image"])), cv2.COLOR_BGR2RGB)
    x, y, w, h = (float(row[k]) for k in ("x_min", "y_min", "w", "h"))
    cx, cy = x + w / 2, y + h / 2
    crop = crop_face(rgb, (cx - w, cy - w, cx + w, cy + w), 256)
    with FaceMeshTeacher() as teacher:
        fit = teacher.fit(crop)
    assert fit is not None
    truth = (-float(row["yaw"]), float(row["pitch"]), float(row["roll"]))
    np.testing.assert_allclose(fit.pose, truth, atol=4.0)
    assert np.sign(fit.pose[0]) == np.sign(truth[0]) and np.sign(fit.pose[2]) == np.sign(truth[2])


@pytest.mark.parametrize("pose", [(25, -8, 4), (-40, 12, -6), (5, 0, 15)])
def test_five_point_rotation_recovers_the_pose_from_an_off_start(pose):
    """Exact five points of a posed face, the fit started 8 deg off in yaw and 5 in pitch: back to the pose."""
    from gazenet_app.core.geometry import matrix_to_euler
    from gazenet_app.training.teacher import MeshFit, five_point_rotation

    s, t = 3.0, np.array([64.0, 64.0, 10.0])
    pts = five_points(_posed(*pose, s=s, t=t))[:, :2]
    start = MeshFit(np.zeros((468, 3)), euler_to_matrix(pose[0] + 8, pose[1] - 5, pose[2]), 2.7, t + [2, -1, 0], 0.0)
    np.testing.assert_allclose(matrix_to_euler(five_point_rotation(pts, start)), pose, atol=1e-4)


def test_fuse_landmark_yaw_moves_only_yaw_by_the_weight():
    from gazenet_app.training.teacher import fuse_landmark_yaw

    fit = fit_pose(_posed(10, -6, 3))
    marks = five_points(_posed(30, -6, 3))[:, :2]          # the human points say yaw 30
    assert fuse_landmark_yaw(fit, marks, 0.0) == pytest.approx(fit.pose)
    assert fuse_landmark_yaw(fit, None, 0.7) == pytest.approx(fit.pose)
    yaw, pitch, roll = fuse_landmark_yaw(fit, marks, 0.7)
    assert yaw == pytest.approx(0.3 * 10 + 0.7 * 30, abs=0.5)   # the 5-point fit is not exactly (30,-6,3): free pitch
    assert (pitch, roll) == pytest.approx(fit.pose[1:])
    assert fuse_landmark_yaw(fit, marks, 1.0)[0] == pytest.approx(30, abs=0.7)
