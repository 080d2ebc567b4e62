"""Pointing'04: the reader on a tiny set the test writes, the person split (test persons refused for training), the
box mapping, roll masking in the loss and the metric, fixed source shares in the epoch draw, and the band report."""

from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from gazenet_app.detect.base import BoxMapping
from gazenet_app.training import pointing04 as p04

COLUMNS = ["path", "person", "series", "index", "yaw", "pitch", "x1", "y1", "x2", "y2", "split"]


def write_tiny_set(root: Path, persons=(1, 7, 10), yaws=(0, 45, -90), pitches=(0, 60)) -> Path:
    """A Pointing'04-shaped folder: one 96x72 JPEG per (person, yaw, pitch), box 30..60 x 20..50."""
    import cv2

    rng = np.random.default_rng(0)
    rows = []
    for person in persons:
        folder = root / f"Person{person:02d}"
        folder.mkdir(parents=True, exist_ok=True)
        for k, (yaw, pitch) in enumerate((y, p) for y in yaws for p in pitches):
            name = f"Person{person:02d}/person{person:02d}1{k:02d}{pitch:+d}{yaw:+d}.jpg"
            cv2.imwrite(str(root / name), rng.integers(0, 255, (72, 96, 3), dtype=np.uint8))
            rows.append({"path": name, "person": person, "series": 1, "index": k, "yaw": yaw, "pitch": pitch,
                         "x1": 30.0, "y1": 20.0, "x2": 60.0, "y2": 50.0,
                         "split": "test" if person >= 10 else "train"})
    with open(root / "labels.csv", "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=COLUMNS)
        w.writeheader()
        w.writerows(rows)
    return root


@pytest.fixture
def tiny_set(tmp_path: Path) -> Path:
    return write_tiny_set(tmp_path / "pointing04")


def test_split_by_person(tiny_set):
    assert [p04.person_split(p) for p in (1, 6, 7, 9, 10, 12)] == ["train", "train", "val", "val", "test", "test"]
    test = p04.read_pointing04(tiny_set)  # held-out persons are the default: evaluation
    assert set(test.identity) == {"person10"} and set(test.split) == {"test"}
    both = p04.read_pointing04(tiny_set, ["train", "val"])
    assert set(both.identity) == {"person01", "person07"}
    assert len(p04.read_pointing04(tiny_set, None)) == 18
    with pytest.raises(p04.Pointing04Error, match="unknown"):
        p04.read_pointing04(tiny_set, "everything")


def test_reader_angles_roll_unlabelled_and_box_mapped(tiny_set):
    t = p04.read_pointing04(tiny_set, "train", mapping=BoxMapping(dx=0.1, dy=-0.2, scale=2.0))
    assert np.isnan(t.poses[:, 2]).all()
    assert sorted(set(t.poses[:, 0].tolist())) == [-90.0, 0.0, 45.0]
    # database box 30..60 x 20..50: centre (45, 35), size 30 -> centre (48, 29), side 60
    np.testing.assert_allclose(t.boxes[0], [18.0, -1.0, 78.0, 59.0], atol=1e-4)
    raw = p04.read_pointing04(tiny_set, "train", mapping=None)
    np.testing.assert_allclose(raw.boxes[0], [30.0, 20.0, 60.0, 50.0])
    assert raw.box_kind == "pointing04" and t.box_kind.startswith("canonical")
    assert t.load_image(0).shape == (72, 96, 3)
    low = p04.read_pointing04(tiny_set, "train", max_abs_pitch=30)
    assert (np.abs(low.poses[:, 1]) <= 30).all() and len(low) == 3


def test_training_set_refuses_test_persons(tiny_set, tmp_path):
    with pytest.raises(p04.Pointing04Error, match="held-out"):
        p04.write_training_set(tiny_set, tmp_path / "out", splits=("train", "test"))
    out = p04.write_training_set(tiny_set, tmp_path / "out")
    from gazenet_app.training.readers import read_labels_csv

    t = read_labels_csv(out)
    assert set(t.split) == {"train", "val"} and "person10" not in t.identity
    assert np.isnan(t.poses[:, 2]).all() and set(t.source) == {p04.SOURCE}
    assert t.load_image(0).shape == (72, 96, 3)  # images referenced in place


def test_box_mapping_fit_uses_train_persons_only(tiny_set):
    from gazenet_app.core.types import FaceBox

    seen = []

    class Detector:  # a canonical box centred 3 px lower and 1.5x the side of the database box
        def detect(self, rgb):
            seen.append(rgb.shape)
            return [FaceBox(30.0, 20.0, 60.0, 50.0, 0.99, landmarks=np.zeros((5, 2)))]

        def to_canonical(self, f):
            return FaceBox(22.5, 15.5, 67.5, 60.5, f.score)

    mapping, n = p04.fit_box_mapping(tiny_set, detector=Detector(), max_abs_angle=30)
    assert n == 1 and len(seen) == 1  # person 01 at yaw 0, pitch 0 only: persons 07 and 10 are never read
    assert mapping == BoxMapping(dx=0.0, dy=0.1, scale=1.5)


def test_loss_masks_unlabelled_roll():
    import mxnet as mx

    from gazenet_app.training.losses import HopenetLoss

    logits = mx.nd.random.normal(shape=(2, 3, 66))
    labelled = mx.nd.array([[10.0, 5.0, 3.0], [-40.0, 0.0, 0.0]])
    unlabelled = mx.nd.array([[10.0, 5.0, np.nan], [-40.0, 0.0, np.nan]])
    no_roll = HopenetLoss(alpha=2.0, angle_weights=(1.0, 1.0, 0.0))(logits, labelled).asnumpy()
    loss = HopenetLoss(alpha=2.0)
    loss.hybridize()
    logits.attach_grad()
    with mx.autograd.record():
        out = loss(logits, unlabelled)
    out.backward()
    np.testing.assert_allclose(out.asnumpy(), no_roll, rtol=1e-5)
    grad = logits.grad.asnumpy()
    assert np.isfinite(grad).all() and not grad[:, 2].any() and grad[:, 0].any()


def test_mae_table_skips_unlabelled_roll():
    from gazenet_app.training.trainer import mae_table

    pred = np.array([[10.0, 0.0, 5.0], [0.0, 2.0, 5.0]])
    true = np.array([[0.0, 0.0, np.nan], [0.0, 0.0, 1.0]])
    t = mae_table(pred, true)
    assert t["yaw"] == 5.0 and t["pitch"] == 1.0 and t["roll"] == 4.0 and t["n"] == 2
    assert t["mean"] == pytest.approx(10.0 / 3)


def test_source_share_of_the_epoch_draw():
    from gazenet_app.training.pack import _mixed_order
    from gazenet_app.training.readers import DatasetError

    n = 10000
    real = np.zeros(n, dtype=bool)
    real[:1000] = True  # 1000 real rows, 100 of them the named source
    src = np.zeros(n, dtype=bool)
    src[:100] = True
    order = _mixed_order(np.random.default_rng(0), real, 0.3, [(src, 0.25)])
    share_src = src[order].mean()
    share_other_real = (real & ~src)[order].mean()
    assert abs(share_src - 0.25) < 0.02
    assert abs(share_other_real - 0.75 * 0.3) < 0.02
    uniform = _mixed_order(np.random.default_rng(0), real, None, [(src, 0.5)])
    assert abs(src[uniform].mean() - 0.5) < 0.02
    with pytest.raises(DatasetError):
        _mixed_order(np.random.default_rng(0), real, 0.3, [(np.zeros(n, dtype=bool), 0.2)])


def test_band_report():
    true = np.array([[0, 0], [15, 0], [-30, 15], [60, 0], [75, 0], [-90, 0], [90, 0], [90, 60]], dtype=float)
    pred = np.array([[1, 2], [20, 1], [-20, 10], [50, 0], [70, 3], [-80, 0], [np.nan, np.nan], [0, 0]])
    r = p04.band_report(pred, true)
    assert r["all"]["n"] == 7  # |pitch| 60 left out
    assert r["90"]["n"] == 2 and r["90"]["answered"] == 1 and r["90"]["found_share"] == 0.5
    assert r["90"]["yaw_mae"] == 10.0 and r["90"]["mean_abs_yaw_read"] == 80.0
    assert r["15-30"]["yaw_mae"] == 7.5 and r["15-30"]["pitch_mae"] == 3.0
    assert r["75-90"]["n"] == 3 and r["75-90"]["yaw_mae"] == pytest.approx(7.5)
    text = p04.format_band_report("t", r)
    assert "75-90" in text and "50.0%" in text
    m = p04.card_metrics({"given": r, "detected": r})
    assert m["given_yaw_mae_75_90"] == (pytest.approx(7.5), 2)
    assert m["detected_found_share_90"] == (0.5, 2)


def test_cli_data_and_evaluate(tiny_set, tmp_path, tiny_pose_model):
    out = tmp_path / "ds"
    cmd = [sys.executable, "-m", "gazenet_app.cli.main"]
    r = subprocess.run(cmd + ["data", "pointing04", str(tiny_set), "-o", str(out)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert (out / "labels.csv").is_file()
    r = subprocess.run(cmd + ["evaluate", "--model", str(tiny_pose_model), "--dataset", "pointing04", "--data-dir",
                              str(tiny_set), "--json", str(tmp_path / "e.json")], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert "Pointing'04 test persons" in r.stdout and "75-90" in r.stdout
    import json

    ev = json.loads((tmp_path / "e.json").read_text())["card_eval"]["pointing04_test"]
    assert ev["given_yaw_mae_all"]["n"] == 3 and ev["given_yaw_mae_all"]["label_source"] == "true (nominal)"
