"""scripts/teacher_limits.py: the subset spread of a rank correlation, on labels the test writes."""

from __future__ import annotations

import json

import numpy as np

from fixtures.scripts import load_script


def _script():
    return load_script("teacher_limits")


def test_subset_spread_brackets_the_all_faces_value(tmp_path):
    from gazenet_app.training.dataset_format import make_row, write_labels

    rng = np.random.default_rng(3)
    cls = rng.integers(1, 6, 400)
    yaw = (3 - cls) * 15.0 + rng.normal(0, 12, 400)  # class 1 = nose to image-left = positive yaw
    lm = np.array([[40, 50], [72, 50], [56, 66], [44, 82], [68, 82]], np.float64)
    rows = [make_row(f"images/{i}.jpg", (y, 0.0, 0.0), lm, "t", f"id{i}", False, "test", pose_class=str(c))
            for i, (y, c) in enumerate(zip(yaw, cls))]
    rows.append(make_row("images/x.jpg", (0.0, 0.0, 0.0), lm, "t", "x", False, "test"))  # no class: not used
    (tmp_path / "test").mkdir()
    write_labels(tmp_path / "test" / "labels.csv", rows)
    out = tmp_path / "limits.json"
    assert _script().main(["--test", str(tmp_path / "test"), "--subset", "100", "--draws", "200",
                           "--json", str(out)]) == 0
    s = json.loads(out.read_text())["rho_subsets"]
    assert s["n"] == 400 and 0.5 < s["all_faces"] < 0.95
    assert abs(s["mean"] - s["all_faces"]) < 0.02 and s["sd"] > 0.01
    assert s["p5"] < s["all_faces"] < s["p95"] <= s["max"]
