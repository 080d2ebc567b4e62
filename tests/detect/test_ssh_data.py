"""WIDER-format reading/writing, the composite set, and the train-detector / evaluate-detector commands."""

from __future__ import annotations

import argparse
import json

import numpy as np
import pytest

from gazenet_app.training.ssh_data import (DetectionDataError, WiderDataset, WiderImage, build_composite,
                                           load_mtfl_train_faces, read_wider, write_wider)

WIDER_SAMPLE = """0--Parade/0_Parade_marchingband_1_849.jpg
1
449 330 122 149 0 0 0 0 0 0
0--Parade/0_Parade_Parade_0_904.jpg
0
0 0 0 0 0 0 0 0 0 0
1--Handshaking/1_Handshaking_1.jpg
2
10 20 30 40 2 0 0 0 0 0
5 5 4 4 2 0 0 1 0 0
"""


def test_read_wider_official_layout(tmp_path):
    f = tmp_path / "wider_face_train_bbx_gt.txt"
    f.write_text(WIDER_SAMPLE)
    items = read_wider(f)
    assert [i.path for i in items] == ["0--Parade/0_Parade_marchingband_1_849.jpg",
                                       "0--Parade/0_Parade_Parade_0_904.jpg", "1--Handshaking/1_Handshaking_1.jpg"]
    np.testing.assert_allclose(items[0].boxes, [[449, 330, 571, 479]])
    assert items[1].boxes.shape == (0, 4)
    assert items[2].ignore.tolist() == [False, True]
    out = write_wider(items, tmp_path / "again.txt")
    again = read_wider(out)
    for a, b in zip(items, again):
        assert a.path == b.path and np.allclose(a.boxes, b.boxes) and (a.ignore == b.ignore).all()


def test_malformed_and_missing(tmp_path):
    f = tmp_path / "bad.txt"
    f.write_text("a.jpg\ntwo\n")
    with pytest.raises(DetectionDataError, match="malformed WIDER annotation"):
        read_wider(f)
    with pytest.raises(DetectionDataError, match="not found"):
        read_wider(tmp_path / "none.txt")
    with pytest.raises(DetectionDataError, match="images folder not found"):
        WiderDataset(f, tmp_path / "images")


@pytest.mark.shared
def test_composite_uses_train_faces_only_and_boxes_hold_faces(shared_dir, tmp_path):
    mtfl = shared_dir / "data/faces_extra/mtfl_80px"
    train = load_mtfl_train_faces(mtfl, "train", limit=40)
    val = load_mtfl_train_faces(mtfl, "val", limit=40)
    assert len(train) == 40 and len(val) == 40
    ids = {img.tobytes() for img, _ in train}
    assert not any(img.tobytes() in ids for img, _ in val)  # the val composites use other faces
    summary = build_composite(tmp_path, mtfl, n_train=6, n_val=2, size=128, face_limit=30)
    assert summary["train"]["images"] == 6 and summary["train"]["faces"] > 0
    ds = WiderDataset(tmp_path / "wider_face_train_bbx_gt.txt", tmp_path / "images")
    rgb, boxes, ignore = ds[0]
    assert rgb.shape == (128, 128, 3) and boxes.shape[1] == 4 and not ignore.any()


def _cli(argv):
    from gazenet_app.cli import evaluate_detector, train_detector

    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="command")
    train_detector.add_parser(sub)
    evaluate_detector.add_parser(sub)
    args = p.parse_args(argv)
    mod = train_detector if args.command == "train-detector" else evaluate_detector
    return mod.run(args)


def test_train_then_evaluate_detector_commands(tmp_path, capsys, monkeypatch):
    rng = np.random.default_rng(0)
    import cv2

    (tmp_path / "images").mkdir()
    items = []
    for i in range(6):
        img = rng.integers(0, 255, size=(64, 64, 3)).astype(np.uint8)
        cv2.imwrite(str(tmp_path / "images" / f"{i}.png"), img)
        items.append(WiderImage(f"{i}.png", np.array([[10, 10, 40, 40.0]]), np.zeros(1, bool)))
    write_wider(items, tmp_path / "wider_face_train_bbx_gt.txt")
    write_wider(items[:2], tmp_path / "wider_face_val_bbx_gt.txt")
    run = tmp_path / "run"
    assert _cli(["train-detector", "--data", str(tmp_path), "-o", str(run), "--trunk", "tiny", "--pretrained",
                 "none", "--steps", "2", "--sizes", "64", "--batch-size", "2", "--name", "tiny_ssh"]) == 0
    report = json.loads((run / "report.json").read_text())
    assert report["steps"] == 2 and (run / "tiny_ssh.json").is_file() and (run / "ssh-000002.params").is_file()
    card = json.loads((run / "tiny_ssh.json").read_text())
    assert card["kind"] == "detector" and card["detector"]["trunk"] == "tiny"
    out = tmp_path / "eval.json"
    assert _cli(["evaluate-detector", "--data", str(tmp_path), "--detector", "ssh", "--weights",
                 str(run / "tiny_ssh.params"), "--trunk", "tiny", "--json", str(out)]) == 0
    res = json.loads(out.read_text())
    assert res["images"] == 2 and res["faces"] == 2 and 0.0 <= res["ap"] <= 1.0
    assert "ssh/accurate: AP@0.5" in capsys.readouterr().out
    # the written model loads by name through the registry once it sits in the user model folder
    from gazenet_app.detect.registry import get_detector

    monkeypatch.setenv("GAZENET_MODELS_DIR", str(run))
    det = get_detector("ssh", model="tiny_ssh")
    assert det.name == "ssh" and isinstance(det.detect(np.zeros((64, 64, 3), np.uint8)), list)
    with pytest.raises(SystemExit):
        _cli(["train-detector", "--data", str(tmp_path), "--sizes", "100"])


@pytest.mark.shared
def test_photo_backgrounds_avoid_faces(faces_dir, hand_boxes):
    from gazenet_app.training.ssh_data import photo_backgrounds

    crops = photo_backgrounds([faces_dir / "ulfd_19.jpg"], size=96, per_photo=5, seed=0)
    assert len(crops) == 5 and all(c.shape == (96, 96, 3) for c in crops)
    from gazenet_app.detect.registry import get_detector

    det = get_detector("mtcnn", "accurate", min_face=12)
    assert all(det.detect(c) == [] for c in crops)
