"""`gazenet detect`: boxes per image, JSON and drawn copies, clear errors."""

from __future__ import annotations

import argparse
import json

import cv2
import numpy as np
import pytest

from gazenet_app.cli import detect as detect_cmd
from gazenet_app.core.errors import SourceError


def _parse(argv):
    parser = argparse.ArgumentParser(prog="gazenet")
    detect_cmd.add_parser(parser.add_subparsers(dest="command"))
    return parser.parse_args(["detect", *argv])


def test_detect_blank_folder_json_and_save(tmp_path, capsys):
    imgs = tmp_path / "imgs"
    imgs.mkdir()
    for i in range(2):
        cv2.imwrite(str(imgs / f"blank {i}.png"), np.full((120, 160, 3), 90, np.uint8))
    (imgs / "notes.txt").write_text("not an image")
    out = tmp_path / "boxes.json"
    args = _parse([str(imgs), "--detector", "cascade", "--preset", "live", "--json", str(out),
                   "--save", str(tmp_path / "drawn")])
    assert detect_cmd.run(args) == 0
    doc = json.loads(out.read_text())
    assert doc["detector"]["detector"] == "cascade" and len(doc["images"]) == 2
    assert all(r["faces"] == [] for r in doc["images"])
    assert sorted(p.name for p in (tmp_path / "drawn").iterdir()) == ["blank 0.png", "blank 1.png"]
    assert "0 faces in 2 images" in capsys.readouterr().out


def test_detect_missing_input_and_empty_folder(tmp_path):
    with pytest.raises(SourceError, match="image not found"):
        detect_cmd.run(_parse([str(tmp_path / "nope.jpg")]))
    with pytest.raises(SourceError, match="no images in folder"):
        detect_cmd.run(_parse([str(tmp_path)]))


def test_unknown_detector_is_refused_by_the_parser():
    with pytest.raises(SystemExit):
        _parse(["x.jpg", "--detector", "dlib"])


@pytest.mark.shared
def test_detect_shared_photo_prints_boxes(faces_dir, tmp_path, capsys):
    out = tmp_path / "b.json"
    assert detect_cmd.run(_parse([str(faces_dir / "ulfd_13.jpg"), "--json", str(out), "--canonical"])) == 0
    doc = json.loads(out.read_text())
    faces = doc["images"][0]["faces"]
    assert len(faces) == 2 and all(len(f["landmarks"]) == 5 for f in faces)
    x1, y1, x2, y2 = faces[0]["box"]
    assert x2 - x1 == pytest.approx(y2 - y1, abs=0.05)  # canonical boxes are square
    assert "ulfd_13.jpg: 2 faces" in capsys.readouterr().out
