"""Model evaluation mechanics with a stand-in model: UMIST sequences with teacher-missed frames, predictions on
given boxes through the model's preset."""

from __future__ import annotations

import cv2
import numpy as np

from gazenet_app.core.transforms import crop_face, expand_box, get_crop_preset
from gazenet_app.training.model_eval import predict_boxes, teacher_agreement, umist_full_sequences


class MeanModel:
    """Answers yaw = mean intensity of the crop (a stand-in with the PoseEstimator interface)."""

    input_size = 16
    crop_preset = get_crop_preset("gazenet")

    def __init__(self):
        self.seen = []

    def predict_crops(self, crops):
        self.seen.append(crops.copy())
        m = crops.reshape(len(crops), -1).mean(axis=1)
        return np.stack([m, np.zeros_like(m), np.zeros_like(m)], axis=1)


def test_predict_boxes_uses_the_model_preset_and_skips_missing_boxes():
    img = np.random.default_rng(0).integers(0, 255, (64, 64, 3), dtype=np.uint8)
    m = MeanModel()
    out = predict_boxes(m, [img, img], [(10, 10, 40, 40), (np.nan,) * 4])
    want = crop_face(img, expand_box((10, 10, 40, 40), m.crop_preset), 16)
    np.testing.assert_array_equal(m.seen[0][0], want)
    assert np.isnan(out[1]).all() and out[0, 0] == want.mean()


def test_umist_full_sequences_answers_teacher_missed_frames(tmp_path):
    orig = tmp_path / "UMIST"
    orig.mkdir()
    labelled = tmp_path / "umist"
    (labelled / "images").mkdir(parents=True)
    rows = []
    for i in range(1, 7):  # frames get brighter along the sequence
        img = np.full((112, 92, 3), 20 * i, dtype=np.uint8)
        cv2.imwrite(str(orig / f"s01_{i:02d}.png"), img)
        if i in (2, 3, 5):  # the teacher answered only these
            cv2.imwrite(str(labelled / "images" / f"{i}.png"), np.full((128, 128, 3), 20 * i, np.uint8))
            rows.append({"path": f"images/{i}.png", "x1": "32", "y1": "32", "x2": "96", "y2": "96",
                         "orig": f"UMIST/s01_{i:02d}.png", "yaw": "0", "pitch": "0", "roll": "0"})
    res = umist_full_sequences(MeanModel(), rows, labelled, orig)
    assert res["frames"] == 6 and res["teacher_missed"] == 3 and res["model_answered_teacher_missed"] == 3
    assert res["per_sequence"]["01"]["spearman"] == 1.0
    assert res["median_abs_spearman"] == 1.0


def test_teacher_agreement_keeps_the_metric_range():
    rows = [{"path": "a", "yaw": "10", "pitch": "0", "roll": "0"}, {"path": "b", "yaw": "60", "pitch": "0",
                                                                     "roll": "0"}]
    r = teacher_agreement(rows, {"a": (12.0, 1.0, -1.0), "b": (0.0, 0.0, 0.0)})
    assert r["n"] == 1 and r["yaw"] == 2.0 and r["mean"] == (2.0 + 1.0 + 1.0) / 3


def test_renders_get_the_large_pose_band_in_the_report_and_card(tmp_path, tiny_pose_model):
    import json

    from fixtures.pose_dataset import make_pose_dataset
    from gazenet_app.cli.main import main

    data = make_pose_dataset(tmp_path / "renders", n=40, max_angle=90.0, synthetic=True)
    out = tmp_path / "eval.json"
    assert main(["evaluate", str(data), "--model", str(tiny_pose_model), "--json", str(out)]) == 0
    rep = json.loads(out.read_text())
    from gazenet_app.training.dataset_format import read_labels

    n_big = sum(abs(float(r["yaw"])) >= 60 for r in read_labels(data / "labels.csv"))
    assert 0 < n_big < 40
    assert rep["mae"]["renders (|yaw| 60-90)"]["n"] == n_big and rep["mae"]["renders (vs synthetic)"]["n"] == 40
    card = rep["card_eval"]["renders"]
    assert card["mae_vs_synthetic_yaw60_90_yaw"]["n"] == n_big and card["mae_vs_synthetic_mean"]["n"] == 40
    assert card["mae_vs_synthetic_yaw60_90_yaw"]["label_source"] == "synthetic"
    assert not any(k.startswith("roll_vs_eye_line") for k in rep)  # renders have no human eye line
