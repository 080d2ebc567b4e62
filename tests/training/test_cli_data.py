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
