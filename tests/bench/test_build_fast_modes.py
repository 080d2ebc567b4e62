"""scripts/build_fast_modes.py on a tiny dataset: exports with their cards, cost measured, picked by modes."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from fixtures.models import make_tiny_pose_model
from fixtures.scripts import load_script
from gazenet_app.model_zoo import modes, store
from gazenet_app.model_zoo.pose import load_pose_model



def _script():
    return load_script("build_fast_modes")


def _dataset(folder: Path, splits=("train",) * 6 + ("val",) * 4 + ("test",) * 2) -> Path:
    from gazenet_app.training.dataset_format import make_row, write_labels

    rng = np.random.RandomState(0)
    (folder / "images").mkdir(parents=True)
    rows = []
    lm = np.array([[40, 50], [72, 50], [56, 66], [44, 82], [68, 82]], np.float64)
    for i, split in enumerate(splits):
        img = cv2.resize(rng.randint(0, 255, (16, 16, 3)).astype(np.uint8), (128, 128))
        cv2.imwrite(str(folder / "images" / f"{i}.png"), img)
        rows.append(make_row(f"images/{i}.png", rng.uniform(-40, 40, 3), lm + rng.uniform(-3, 3, lm.shape),
                             "tiny", f"id{i}", False, split))
    write_labels(folder / "labels.csv", rows)
    return folder




def test_builds_fused_and_int8_with_cost_and_speed_in_their_cards(user_dir, tmp_path):
    make_tiny_pose_model(user_dir, name="m")
    data = _dataset(tmp_path / "data")
    report = tmp_path / "r.json"
    assert _script().main(["--model", "m", "--data", str(data), "--calib", "4", "--rounds", "2",
                           "--json", str(report)]) == 0
    base = store.resolve_model("m")
    found = modes.list_modes(base)
    assert set(found) == {"fp32", "fused", "int8"}
    for p in ("fused", "int8"):
        card = found[p].card
        assert card.format == "symbol" and card.precision == p and not card.default
        extra = card.extra
        assert card.mode_of == "m" and card.base_params_sha256 == base.card.params_sha256
        assert extra["val_n"] == 4  # the val rows only: test rows are never read
        assert extra["mae_delta_deg"] == pytest.approx(extra["val_mae"]["mean"] - extra["fp32_val_mae"]["mean"],
                                                       abs=1e-3)
        assert extra["ms_per_face"] > 0 and extra["fp32_ms_per_face"] > 0
    assert found["int8"].card.extra["calibration"]["split"] == "train"
    assert found["int8"].card.extra["calibration"]["n"] == 4
    assert abs(found["fused"].card.mae_delta_deg) < 1e-3  # fusion does not change the maths
    assert json.loads(report.read_text())["val_n"] == 4
    # the choice made from those cards, and the loaded model
    est = load_pose_model("m", precision="int8")
    assert est.card.precision == "int8" and est.predict_crops(np.zeros((2, 64, 64, 3), np.uint8)).shape == (2, 3)
    assert modes.choose_mode(modes.list_modes(store.resolve_model("m")), max_mae_delta=-1).name == "m"
    assert load_pose_model("m_fused").name == "m_fused"  # a named export is used as named


def test_stale_exports_are_ignored_and_existing_ones_kept(user_dir, tmp_path):
    make_tiny_pose_model(user_dir, name="m")
    data = _dataset(tmp_path / "data")
    script = _script()
    assert script.main(["--model", "m", "--data", str(data), "--modes", "fused", "--rounds", "1"]) == 0
    with pytest.raises(SystemExit, match="exists"):
        script.main(["--model", "m", "--data", str(data), "--modes", "fused"])
    make_tiny_pose_model(user_dir, name="m", seed=1)  # retrained weights: the fused export is now stale
    assert set(modes.list_modes(store.resolve_model("m"))) == {"fp32"}
    with pytest.raises(ValueError, match="held out"):
        script.load_crops([str(data)], "test", 64, "gazenet")
