"""labels.csv format: columns, round trip, validation; identity splits."""

import numpy as np
import pytest

from gazenet_app.core.transforms import canonical_box_from_landmarks
from gazenet_app.training.dataset_format import (LABEL_COLUMNS, make_row, read_labels, rows_to_arrays,
                                                 validate_rows, write_labels)
from gazenet_app.training.splits import assign_split, check_disjoint, identity_fraction

LM = np.array([[40.0, 50.0], [80.0, 50.0], [60.0, 70.0], [45.0, 85.0], [75.0, 85.0]])


def test_columns_are_the_documented_ones():
    assert LABEL_COLUMNS == (["path", "yaw", "pitch", "roll", "x1", "y1", "x2", "y2", "lx1", "lx2", "lx3", "lx4",
                              "lx5", "ly1", "ly2", "ly3", "ly4", "ly5", "source", "identity", "synthetic", "split"])


def test_round_trip(tmp_path):
    rows = [make_row("images/a.jpg", (10.5, -3.25, 2.0), LM, "mtfl_aflw", "aflw:x", False, "test", pose_class="4"),
            make_row("images/b.jpg", (-80.0, 20.0, -1.0), LM + 3, "mtfl_lfw_5590", "lfw:y", True, "train",
                     offset_yaw=-70.0)]
    n = write_labels(tmp_path / "labels.csv", rows)
    assert n == 2 and sorted(p.name for p in tmp_path.iterdir()) == ["labels.csv"]  # no temp file left
    back = read_labels(tmp_path / "labels.csv")
    header = (tmp_path / "labels.csv").read_text().splitlines()[0].split(",")
    assert header[:len(LABEL_COLUMNS)] == LABEL_COLUMNS
    arr = rows_to_arrays(back)
    np.testing.assert_allclose(arr["pose"], [[10.5, -3.25, 2.0], [-80.0, 20.0, -1.0]])
    np.testing.assert_allclose(arr["landmarks"][0], LM, atol=0.01)
    box = canonical_box_from_landmarks(LM)
    np.testing.assert_allclose(arr["box"][0], [box.x1, box.y1, box.x2, box.y2], atol=0.01)
    assert arr["synthetic"].tolist() == [False, True]
    assert back[0]["pose_class"] == "4" and back[1]["offset_yaw"] == "-70.000"
    validate_rows(back)


def test_validation_errors(tmp_path):
    good = make_row("images/a.jpg", (0, 0, 0), LM, "s", "i", False, "train")
    with pytest.raises(ValueError, match="split"):
        validate_rows([dict(good, split="holdout")])
    with pytest.raises(ValueError, match="synthetic"):
        validate_rows([dict(good, synthetic="yes")])
    with pytest.raises(ValueError, match="not found"):
        validate_rows([good], root=tmp_path)
    with pytest.raises(ValueError, match="unknown optional column"):
        make_row("a.jpg", (0, 0, 0), LM, "s", "i", False, "train", colour="red")
    (tmp_path / "bad.csv").write_text("path,yaw\nx,1\n")
    with pytest.raises(ValueError, match="missing columns"):
        read_labels(tmp_path / "bad.csv")


def test_splits_by_identity():
    assert assign_split("aflw:1", "test") == "test"
    ids = [f"lfw:person{i}" for i in range(2000)]
    splits = [assign_split(i, "train", val_fraction=0.1) for i in ids]
    assert splits == [assign_split(i, "train", val_fraction=0.1) for i in ids]  # stable
    assert 0.07 < splits.count("val") / len(ids) < 0.13
    assert identity_fraction("a", seed=0) != identity_fraction("a", seed=1)
    with pytest.raises(ValueError):
        assign_split("x", "holdout")
    rows = [{"source": "s", "identity": "p", "split": "train"}, {"source": "s", "identity": "p", "split": "val"}]
    with pytest.raises(ValueError, match="both"):
        check_disjoint(rows)
    check_disjoint(rows[:1] + [{"source": "t", "identity": "p", "split": "val"}])
