"""`gazenet data` without -o writes under GAZENET_DATA_DIR; errors are user-facing."""

import pytest

from gazenet_app.cli.main import main

pytest.importorskip("mediapipe")


def test_label_plain_images_default_output(tmp_path, monkeypatch, capsys):
    import cv2
    import numpy as np

    monkeypatch.setenv("GAZENET_DATA_DIR", str(tmp_path / "data"))
    img = tmp_path / "imgs"
    img.mkdir()
    cv2.imwrite(str(img / "grey.png"), np.full((64, 64, 3), 128, np.uint8))   # no face in it
    assert main(["data", "label", str(img), "--source-name", "toy"]) == 0
    out = tmp_path / "data" / "toy"
    assert (out / "labels.csv").is_file() and (out / "label_report.json").is_file()
    assert '"no_face": 1' in capsys.readouterr().out


def test_missing_source_is_a_clean_error(tmp_path, capsys):
    assert main(["data", "label", str(tmp_path / "nope.csv"), "-o", str(tmp_path / "o")]) == 2
    assert "error:" in capsys.readouterr().err


@pytest.mark.shared
def test_label_fuses_yaw_with_human_landmarks_only(tmp_path, shared_dir, capsys):
    """Real MTFL faces: the default label moves yaw toward the human landmarks'; pitch and roll stay FaceMesh's."""
    import json

    from gazenet_app.training.dataset_format import read_labels

    src = shared_dir / "data" / "faces_extra" / "mtfl_80px" / "labels.csv"
    base = ["data", "label", str(src), "--split", "train", "--limit", "6"]
    assert main(base + ["-o", str(tmp_path / "mesh"), "--landmark-yaw-weight", "0"]) == 0
    assert main(base + ["-o", str(tmp_path / "fused")]) == 0
    mesh, fused = read_labels(tmp_path / "mesh" / "labels.csv"), read_labels(tmp_path / "fused" / "labels.csv")
    report = json.loads((tmp_path / "fused" / "label_report.json").read_text())
    assert report["landmark_yaw_weight"] == 0.7 and report["yaw_fused_with_human_landmarks"] == len(fused) > 0
    assert [r["path"] for r in mesh] == [r["path"] for r in fused]
    assert all(a["pitch"] == b["pitch"] and a["roll"] == b["roll"] for a, b in zip(mesh, fused))
    moved = [abs(float(a["yaw"]) - float(b["yaw"])) for a, b in zip(mesh, fused)]
    assert max(moved) > 0.2 and max(moved) < 20
