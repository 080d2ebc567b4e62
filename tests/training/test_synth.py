"""Synthesis end to end on a tiny labelled folder: flat-yaw targets, determinism, resume, no test mixing."""

import numpy as np
import pytest

from gazenet_app.core.errors import GazenetError
from gazenet_app.core.geometry import euler_to_matrix
from gazenet_app.training.dataset_format import make_row, read_labels, write_labels
from gazenet_app.training.synth import SynthConfig, sample_targets

pytest.importorskip("mediapipe")


def _labelled_folder(root, splits=("train", "val", "train")):
    import cv2

    from gazenet_app.training.facemesh import canonical_vertices, five_points

    (root / "images").mkdir(parents=True)
    rows, verts, rots, scales, trans = [], [], [], [], []
    rng = np.random.default_rng(0)
    for i, split in enumerate(splits):
        pose = (8.0 * i, -5.0, 3.0)
        R = euler_to_matrix(*pose)
        s, t = 3.0, np.array([64.0, 62.0, 0.0])
        v = s * canonical_vertices() @ R.T + t
        img = cv2.GaussianBlur(rng.integers(0, 255, (128, 128, 3), dtype=np.uint8), (7, 7), 2)
        rel = f"images/{i:06d}.jpg"
        cv2.imwrite(str(root / rel), img)
        rows.append(make_row(rel, pose, five_points(v)[:, :2], "toy", f"toy:{i}", False, split))
        verts.append(v)
        rots.append(R)
        scales.append(s)
        trans.append(t)
    write_labels(root / "labels.csv", rows)
    np.savez(root / "meshes.npz", path=np.array([r["path"] for r in rows]), vertices=np.array(verts),
             rotation=np.array(rots), scale=np.array(scales), translation=np.array(trans))
    return root


def test_targets_are_flat_in_yaw_and_in_range():
    cfg = SynthConfig(yaw_range=90, pitch_range=30, roll_range=20)
    t = sample_targets(np.random.default_rng(0), 20000, cfg)
    assert np.abs(t[:, 0]).max() <= 90 and np.abs(t[:, 1]).max() <= 30 and np.abs(t[:, 2]).max() <= 20
    hist, _ = np.histogram(t[:, 0], bins=6, range=(-90, 90))
    assert hist.min() > 0.9 * hist.mean()


def test_synth_deterministic_resumable_and_cli(tmp_path):
    from gazenet_app.cli.main import main

    src = _labelled_folder(tmp_path / "src")
    out = tmp_path / "out"
    args = ["data", "synth", str(src / "labels.csv"), "-o", str(out), "--per-face", "3", "--chunk", "1",
            "--seed", "5", "--no-progress"]
    assert main(args) == 0
    first = read_labels(out / "labels.csv")
    assert len(first) == 9 and all(r["synthetic"] == "1" for r in first)
    assert {r["split"] for r in first} == {"train", "val"}
    for r in first:
        assert (out / r["path"]).is_file()
        assert r["split"] == ("val" if r["identity"] == "toy:1" else "train")
    # resume: a missing chunk is redone, finished ones are kept, result identical
    (out / "parts" / "part_00001.csv").unlink()
    assert main(args) == 0
    assert read_labels(out / "labels.csv") == first
    # same seed elsewhere: same labels; another seed: different
    assert main(args[:4] + [str(tmp_path / "again")] + args[5:]) == 0
    assert read_labels(tmp_path / "again" / "labels.csv") == first
    other = args[:4] + [str(tmp_path / "other")] + args[5:-2] + ["6", "--no-progress"]
    assert main(other) == 0
    assert read_labels(tmp_path / "other" / "labels.csv") != first
    # a resume with another configuration is refused
    assert main(args[:-2] + ["7", "--no-progress"]) == 2


def test_synth_refuses_mixing_test_rows(tmp_path):
    from gazenet_app.training.synth import synthesize

    src = _labelled_folder(tmp_path / "src", splits=("train", "test"))
    with pytest.raises(GazenetError, match="test"):
        synthesize(src / "labels.csv", tmp_path / "out", SynthConfig(per_face=1), progress=False)


def test_render_label_is_the_target_when_the_source_label_is_not_the_mesh_fit():
    """A source whose label yaw was fused away from its mesh fit still yields renders labelled exactly the target."""
    from gazenet_app.core.geometry import matrix_to_euler
    from gazenet_app.training.facemesh import canonical_vertices
    from gazenet_app.training.render import build_head
    from gazenet_app.training.synth import render_at, source_rotation

    R_mesh = euler_to_matrix(4.0, -3.0, 2.0)
    v = 3.0 * canonical_vertices() @ R_mesh.T + [64.0, 62.0, 0.0]
    head = build_head(v, R_mesh, 3.0, np.array([64.0, 62.0, 0.0]))
    img = np.random.default_rng(0).integers(0, 255, (128, 128, 3), dtype=np.uint8)
    row = make_row("x.jpg", (9.5, -3.0, 2.0), np.zeros((5, 2)), "toy", "toy:0", False, "train")
    R_src = source_rotation(row)
    np.testing.assert_allclose(matrix_to_euler(R_src), (9.5, -3.0, 2.0), atol=1e-3)   # csv keeps 3 decimals
    for target in [(60.0, 10.0, -5.0), (-85.0, -20.0, 15.0)]:
        rgb, lm, label, off = render_at(img, head, R_src, target)
        np.testing.assert_allclose(label, target, atol=1e-9)
        np.testing.assert_allclose(euler_to_matrix(*off) @ R_src, euler_to_matrix(*target), atol=1e-9)
        assert rgb.shape == img.shape and lm.shape == (5, 2)


def test_render_readback_reports_errors_by_offset_and_by_target(tmp_path, monkeypatch):
    """The read-back groups its errors by |offset| and by the render's |target yaw| (the teacher is metric only
    up to ~45 degrees); a reader that always answers frontal is off by exactly each render's target."""
    from gazenet_app.training import evaluate, teacher

    folder = _labelled_folder(tmp_path / "src", splits=("test",) * 3)  # source yaws 0, 8, 16: two within 15

    class FrontalReader:
        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

        def fit(self, image):
            class Fit:
                pose = (0.0, 0.0, 0.0)
            return Fit()

    monkeypatch.setattr(teacher, "FaceMeshTeacher", FrontalReader)
    res = evaluate.render_readback(folder, n=2, max_offset=45.0, seed=3)
    assert res["answered"] == 2 and res["unanswered"] == 0
    bands = res["by_abs_target"]
    assert sum(b["n"] for b in bands.values()) == 2
    for name, b in bands.items():
        lo, hi = (float(v) for v in name.split("-"))
        assert lo <= b["mae_yaw"] < hi  # |error| = |target| for a frontal reader
        assert b["mean_signed_yaw_error"] == pytest.approx(-b["mae_yaw"])
    within = [b for name, b in bands.items() if float(name.split("-")[1]) <= 45]
    assert res["n_target_within_45"] == sum(b["n"] for b in within)
    if within:
        assert res["mae_yaw_target_within_45"] == pytest.approx(
            sum(b["mae_yaw"] * b["n"] for b in within) / sum(b["n"] for b in within))
    assert res["mae_yaw"] == pytest.approx(np.mean([b["mae_yaw"] for b in bands.values() for _ in range(b["n"])]))
