"""scripts/flip_average_gain.py: val rows only, both settings measured, teacher figures on the same faces."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from fixtures.models import make_tiny_pose_model
from fixtures.scripts import load_script



def _script():
    return load_script("flip_average_gain")


def _dataset(folder: Path) -> Path:
    from gazenet_app.training.dataset_format import make_row, write_labels

    rng = np.random.RandomState(1)
    (folder / "images").mkdir(parents=True)
    lm = np.array([[40, 50], [72, 50], [56, 66], [44, 82], [68, 82]], np.float64)
    rows = []
    for i in range(12):
        split = "test" if i >= 10 else ("val" if i % 2 else "train")
        if split != "test":  # test images are never written: reading one would fail the run
            img = cv2.resize(rng.randint(0, 255, (16, 16, 3)).astype(np.uint8), (128, 128))
            cv2.imwrite(str(folder / "images" / f"{i}.png"), img)
        yaw = (-30.0, -10.0, 0.0, 10.0, 30.0)[i % 5]
        rows.append(make_row(f"images/{i}.png", (yaw, 0.0, 0.0), lm, "tiny", f"id{i}", False, split,
                             pose_class=str(5 - i % 5)))
    write_labels(folder / "labels.csv", rows)
    return folder


def test_both_settings_on_val_rows_only(user_dir, tmp_path, capsys):
    make_tiny_pose_model(user_dir, name="tiny_gain")
    data = _dataset(tmp_path / "data")
    out = tmp_path / "gain.json"
    assert _script().main(["--model", "tiny_gain", "--data", str(data), "--json", str(out)]) == 0
    doc = json.loads(out.read_text())
    entry = doc["datasets"]["data"]
    assert doc["split"] == "val" and entry["n"] == 5
    off, on = entry["flip_off"], entry["flip_on"]
    assert off["mae"]["mean"] != on["mae"]["mean"]  # random weights are not mirror-symmetric
    assert off["class_faces"]["n"] == on["class_faces"]["n"] == entry["teacher_on_class_faces"]["n"] == 5
    # the labels themselves are the "teacher" here: perfectly ordered with the class, no sign errors
    assert entry["teacher_on_class_faces"]["abs_spearman_yaw_class"] > 0.99
    assert entry["teacher_on_class_faces"]["sign_errors_turned"] == 0
    assert "flip_on" in capsys.readouterr().out


def test_train_split_scores_train_rows_and_test_is_refused(user_dir, tmp_path):
    make_tiny_pose_model(user_dir, name="tiny_gain")
    data = _dataset(tmp_path / "data")
    out = tmp_path / "gain.json"
    assert _script().main(["--model", "tiny_gain", "--data", str(data), "--split", "train", "--json", str(out)]) == 0
    doc = json.loads(out.read_text())
    assert doc["split"] == "train" and doc["datasets"]["data"]["n"] == 5
    with pytest.raises(SystemExit):  # argparse: the held-out split is not a choice
        _script().main(["--model", "tiny_gain", "--data", str(data), "--split", "test"])
