"""Dataset readers: each format, written small by the tests, lands in the project's convention."""

from __future__ import annotations

import math

import cv2
import numpy as np
import pytest
from scipy.io import savemat

from gazenet_app.core.transforms import canonical_box_from_landmarks
from gazenet_app.training.readers import (DatasetError, biwi_angles_from_matrix, filter_pose_range, five_from_68,
                                          read_aflw2000, read_biwi, read_dataset, read_labels_csv, read_300w_lp,
                                          write_labels_csv)


def _pts68(cx=100.0, cy=110.0, s=40.0):
    rng = np.random.default_rng(3)
    pts = rng.uniform(-s, s, size=(68, 2)) + (cx, cy)
    pts[36:42] = (cx - 15, cy - 10)
    pts[42:48] = (cx + 15, cy - 10)
    pts[30] = (cx, cy + 5)
    pts[48], pts[54] = (cx - 12, cy + 20), (cx + 12, cy + 20)
    return pts


def _write_mat_sample(folder, name, pitch, yaw, roll, key="pt2d", pts=None):
    folder.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(folder / f"{name}.jpg"), np.zeros((200, 200, 3), np.uint8))
    pts = _pts68() if pts is None else pts
    arr = pts.T if key == "pt2d" else np.vstack([pts.T, np.zeros((1, len(pts)))])
    pose_para = np.array([[math.radians(pitch), math.radians(yaw), math.radians(roll), 0, 0, 0, 1.0]])
    savemat(str(folder / f"{name}.mat"), {"Pose_Para": pose_para, key: arr})


def test_300w_lp_reads_pitch_yaw_roll_radians_into_degrees(tmp_path):
    _write_mat_sample(tmp_path / "AFW", "AFW_1_0", pitch=10.0, yaw=-35.0, roll=5.0)
    _write_mat_sample(tmp_path / "AFW", "AFW_1_1", pitch=-20.0, yaw=80.0, roll=-2.0)
    t = read_300w_lp(tmp_path)
    assert len(t) == 2 and t.box_kind == "canonical"
    np.testing.assert_allclose(t.poses[0], [-35.0, 10.0, 5.0], atol=1e-4)  # yaw, pitch, roll
    np.testing.assert_allclose(t.poses[1], [80.0, -20.0, -2.0], atol=1e-4)
    five = five_from_68(_pts68())
    np.testing.assert_allclose(t.landmarks[0], five, atol=1e-4)
    b = canonical_box_from_landmarks(five)
    np.testing.assert_allclose(t.boxes[0], [b.x1, b.y1, b.x2, b.y2], atol=1e-3)
    assert t.paths[0] == "AFW/AFW_1_0.jpg" and t.identity[0] == "AFW_1" and t.synthetic.all()
    assert t.load_image(0).shape == (200, 200, 3)


def test_aflw2000_uses_pt3d_68_and_hopenet_filter(tmp_path):
    _write_mat_sample(tmp_path, "image00002", 1.0, 2.0, 3.0, key="pt3d_68")
    _write_mat_sample(tmp_path, "image00004", 120.0, 2.0, 3.0, key="pt3d_68")
    t = read_aflw2000(tmp_path)
    assert t.split == ["test", "test"]
    kept, dropped = filter_pose_range(t)
    assert (len(kept), dropped) == (1, 1)
    np.testing.assert_allclose(kept.poses[0], [2.0, 1.0, 3.0], atol=1e-4)
    # the filter's boundary: 99 is kept, 99.01 is not
    t.poses[:] = [[99.0, 0, 0], [0, -99.01, 0]]
    assert filter_pose_range(t)[1] == 1


def test_mat_without_landmarks_for_five_falls_back_to_landmark_box(tmp_path):
    pts = np.array([[50, 60], [90, 62], [70, 80], [-1, -1]] + [[60, 100]] * 17, dtype=float)  # AFLW 21, one hidden
    pts[7], pts[10], pts[14], pts[17], pts[19] = (55, 60), (85, 60), (70, 80), (-1, -1), (80, 95)
    _write_mat_sample(tmp_path, "x", 0, 0, 0, key="pt2d", pts=pts)
    t = read_mat_folder_any(tmp_path)
    assert t.box_kind == "mixed"
    assert np.isnan(t.landmarks[0]).all()
    np.testing.assert_allclose(t.boxes[0], [50, 60, 90, 100])


def read_mat_folder_any(root):
    from gazenet_app.training.readers import read_mat_folder

    return read_mat_folder(root, "aflw2000")


def test_labels_csv_round_trip_and_split_filter(tmp_path, tiny_pose_dataset):
    t = read_labels_csv(tiny_pose_dataset)
    assert len(t) == 48 and set(t.split) == {"train", "val"}
    assert len(read_labels_csv(tiny_pose_dataset, split="val")) == 12
    out = write_labels_csv(t, tmp_path / "copy" / "labels.csv")
    t2 = read_labels_csv(out)
    np.testing.assert_allclose(t2.poses, t.poses, atol=1e-3)
    np.testing.assert_allclose(t2.boxes, t.boxes, atol=1e-2)
    np.testing.assert_allclose(t2.landmarks, t.landmarks, atol=1e-2)
    assert t2.identity == t.identity and t2.split == t.split
    assert read_dataset("labels", tiny_pose_dataset).paths == t.paths


def test_labels_csv_errors_are_clear(tmp_path):
    with pytest.raises(DatasetError, match="no labels.csv"):
        read_labels_csv(tmp_path)
    (tmp_path / "labels.csv").write_text("path,yaw\nx.png,1\n")
    with pytest.raises(DatasetError, match="lacks the columns"):
        read_labels_csv(tmp_path)
    with pytest.raises(ValueError, match="valid: 300w_lp, aflw2000, biwi, labels"):
        read_dataset("nope", tmp_path)


def _rz(a):
    return np.array([[math.cos(a), -math.sin(a), 0], [math.sin(a), math.cos(a), 0], [0, 0, 1]])


def _ry(a):
    return np.array([[math.cos(a), 0, math.sin(a)], [0, 1, 0], [-math.sin(a), 0, math.cos(a)]])


def _rx(a):
    return np.array([[1, 0, 0], [0, math.cos(a), -math.sin(a)], [0, math.sin(a), math.cos(a)]])


def test_biwi_matrix_conversion_inverts_hopenets_decomposition():
    """Hopenet's BIWI loader reads R_file^T = Rz(-roll) Ry(-yaw) Rx(pitch); we recover the three angles."""
    yaw, pitch, roll = 30.0, -12.0, 8.0
    r_t = _rz(math.radians(-roll)) @ _ry(math.radians(-yaw)) @ _rx(math.radians(pitch))
    got = biwi_angles_from_matrix(r_t.T)
    np.testing.assert_allclose(got, (yaw, pitch, roll), atol=1e-9)


def test_biwi_raw_layout_and_npz_labels(tmp_path):
    seq = tmp_path / "07"
    seq.mkdir()
    cv2.imwrite(str(seq / "frame_00003_rgb.png"), np.zeros((48, 64, 3), np.uint8))
    r_t = _rz(0.0) @ _ry(math.radians(-20.0)) @ _rx(0.0)
    (seq / "frame_00003_pose.txt").write_text(
        "\n".join(" ".join(f"{v:.6f}" for v in row) for row in r_t.T) + "\n\n10 20 900\n")
    t = read_biwi(tmp_path)
    assert len(t) == 1 and t.identity == ["07"] and t.box_kind == "none"
    np.testing.assert_allclose(t.poses[0], [20.0, 0.0, 0.0], atol=1e-4)
    np.savez(tmp_path / "biwi.npz", images=np.array(["07/frame_00003_rgb.png"]), ypr=np.array([[1.0, 2.0, 3.0]]),
             bbox=np.array([[10, 20, 30, 40]]))
    t2 = read_biwi(tmp_path, labels=tmp_path / "biwi.npz")
    np.testing.assert_allclose(t2.boxes[0], [10, 20, 40, 60])
    np.testing.assert_allclose(t2.poses[0], [1, 2, 3])


@pytest.mark.shared
def test_biwi_plus_labels_from_shared(shared_dir, tmp_path):
    npz = shared_dir / "data" / "pose" / "biwi_plus_labels" / "Biwi_FSA-Net.npz"
    t = read_biwi(tmp_path, labels=npz)
    assert len(t) == 13219
    kept, dropped = filter_pose_range(t)
    assert dropped == 0 and np.abs(kept.poses).max() <= 99
