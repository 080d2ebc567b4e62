"""The label checks behind `gazenet evaluate`, on small hand-made tables."""

import numpy as np
import pytest

from gazenet_app.training.dataset_format import make_row
from gazenet_app.training.evaluate import (aflw_checks, classify_yaw, fit_class_boundaries, poses_from_rows,
                                           roll_vs_eye_line, umist_checks)

LM = np.array([[40.0, 50.0], [80.0, 50.0], [60.0, 70.0], [45.0, 85.0], [75.0, 85.0]])
CENTRES = {1: 40.0, 2: 20.0, 3: 0.0, 4: -20.0, 5: -40.0}


def _rows(noise=3.0, seed=0, n=30, split="test"):
    rng = np.random.default_rng(seed)
    rows = []
    for c, y in CENTRES.items():
        for i in range(n):
            rows.append(make_row(f"images/{c}_{i}.jpg", (y + rng.normal(0, noise), 0.0, 0.0), LM, "mtfl_aflw",
                                 f"a:{c}{i}", False, split, pose_class=str(c)))
    return rows


def test_class_boundaries_and_classification():
    cls = np.repeat([1, 2, 3, 4, 5], 20)
    yaw = np.repeat([40.0, 20.0, 0.0, -20.0, -40.0], 20)
    th = fit_class_boundaries(cls, yaw)
    assert list(classify_yaw(yaw, th)) == list(cls)
    assert np.all(np.diff(th) < 0)


def test_aflw_checks_clean_and_with_a_sign_error():
    rows = _rows()
    train = _rows(seed=1, split="train")
    res = aflw_checks(rows, poses_from_rows(rows), train)
    assert res["n"] == 150 and res["spearman_yaw_class"] < -0.9
    assert res["sign_errors"]["wrong"] == 0
    assert res["per_class"]["1"]["median_yaw"] == pytest.approx(40.0, abs=3)
    assert res["class_agreement"]["accuracy"] > 0.95
    poses = poses_from_rows(rows)
    poses[rows[0]["path"]] = (-10.0, 0.0, 0.0)     # a class-1 face read as turned the other way
    del poses[rows[-1]["path"]]                    # an unanswered face leaves the subset
    res2 = aflw_checks(rows, poses, train)
    assert res2["sign_errors"]["wrong"] == 1 and res2["sign_errors"]["wrong_profile_classes"] == 1
    assert res2["sign_errors"]["wrong_abs_yaw"] == [10.0] and res["sign_errors"]["wrong_abs_yaw"] == []
    assert res2["n"] == 149 and res2["n_with_class"] == 150


def test_roll_vs_eye_line_sign():
    lm = LM.copy()
    lm[1, 1] += 40 * np.tan(np.radians(10))       # image-right eye lower: clockwise, roll +10
    rows = [make_row("a.jpg", (0, 0, 10.0), lm, "mtfl_aflw", "a", False, "test")]
    res = roll_vs_eye_line(rows, poses_from_rows(rows))
    assert res["n"] == 1 and res["mae"] < 0.1
    res = roll_vs_eye_line(rows, {"a.jpg": (0, 0, -10.0)})
    assert res["mae"] == pytest.approx(20.0, abs=0.1)


def test_umist_sequences():
    rows = []
    for s, sign in ((1, 1), (2, -1)):
        for k in range(1, 20, 2):                  # 10 of 19 frames answered
            rows.append(make_row(f"images/{s}_{k}.jpg", (sign * (90 - 4 * k), 0, 0), LM, "umist", f"umist:s{s}",
                                 False, "test", orig=f"UMIST/s{s:02d}_{k:02d}.png"))
    res = umist_checks(rows, poses_from_rows(rows))
    assert res["sequences"] == 2 and res["unanswered"] == 18
    assert res["median_abs_spearman"] == pytest.approx(1.0)
    assert res["per_sequence"]["01"]["spearman"] == pytest.approx(-1.0)
