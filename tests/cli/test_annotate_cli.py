"""`gazenet annotate` / `gazenet predict`: with fakes (exact rows), and end to end with the tiny random model and
the real MTCNN detector on a clip of real faces. Faults (SIGKILL + --resume, Ctrl-C, cut videos, broken or
unknown models, full disks) are tried in tests/faults/."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import cv2
import pytest

from fixtures.clips import synthetic_frames
from fixtures.fakes import make_fake_pipeline
from gazenet_app.cli.main import main


def rows_of(path):
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.reader(fh))


@pytest.fixture
def fake_cli(monkeypatch):
    """The CLI with its pipeline replaced by the fakes (no model, no detector)."""
    import gazenet_app.cli.common as common

    monkeypatch.setattr(common, "build_pipeline", lambda args, **kw: make_fake_pipeline())


def test_annotate_writes_csv_jsonl_video_and_summary(fake_cli, synthetic_clip, tmp_path, capsys):
    out = tmp_path / "o.csv"
    code = main(["annotate", str(synthetic_clip.path), "-o", str(out), "--jsonl", str(tmp_path / "o.jsonl"),
                 "--video", str(tmp_path / "o.avi"), "--json", str(tmp_path / "summary.json"), "--no-progress"])
    assert code == 0
    assert capsys.readouterr().out == f"30 frames, 60 faces, 60 rows -> {out}\n"
    assert len(rows_of(out)) == 61 and (tmp_path / "o.jsonl").exists() and (tmp_path / "o.avi").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["o.avi", "o.csv", "o.jsonl", "o.meta.json",
                                                         "summary.json"]
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["status"] == "complete" and summary["complete"] and summary["rows"] == 60
    meta = json.loads((tmp_path / "o.meta.json").read_text())
    assert meta["command"] == f"gazenet annotate {synthetic_clip.path} -o {out} --jsonl {tmp_path / 'o.jsonl'} " \
        f"--video {tmp_path / 'o.avi'} --json {tmp_path / 'summary.json'} --no-progress"
    assert meta["outputs"]["video"]["codec"] == "MJPG"


def test_annotate_range_flags(fake_cli, synthetic_clip, tmp_path):
    out = tmp_path / "o.csv"
    assert main(["annotate", str(synthetic_clip.path), "-o", str(out), "--start", "2", "--end", "12",
                 "--stride", "5", "--no-progress"]) == 0
    assert sorted({r[1] for r in rows_of(out)[1:]}) == ["2", "7"]


def test_annotate_existing_partial_needs_resume(fake_cli, synthetic_clip, tmp_path, capsys):
    (tmp_path / "o.csv.partial").write_text("source\n")
    assert main(["annotate", str(synthetic_clip.path), "-o", str(tmp_path / "o.csv"), "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "exists from an interrupted run: pass --resume" in err


def test_predict_with_fakes_prints_and_saves(fake_cli, tmp_path, capsys):
    paths = []
    for i, f in enumerate(synthetic_frames(2)):
        p = tmp_path / f"img {i}.png"
        cv2.imwrite(str(p), cv2.cvtColor(f, cv2.COLOR_RGB2BGR))
        paths.append(str(p))
    assert main(["predict", *paths, "--save", str(tmp_path / "out"), "--json", str(tmp_path / "r.json")]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["image", "face", "x1", "y1", "x2", "y2", "score", "yaw", "pitch", "roll", "valid"]
    assert len(lines) == 1 + 4 and lines[1].startswith("img 0.png")
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["img 0_pose.jpg", "img 1_pose.jpg"]
    report = json.loads((tmp_path / "r.json").read_text())
    assert [len(r["faces"]) for r in report["images"]] == [2, 2]
    assert report["provenance"]["model"]["name"] == "fake-pose"


# ---- real model and detector ---------------------------------------------------------------------------

def test_no_model_installed_says_how_to_get_one(tmp_path, capsys, user_dir, synthetic_clip):
    """With no shipped and no user model (`user_dir` hides the package's models), annotate says how to get one."""
    code = main(["annotate", str(synthetic_clip.path), "-o", str(tmp_path / "o.csv"), "--no-progress"])
    err = capsys.readouterr().err
    assert code == 2 and err.startswith("error: no pose model is installed")
    assert "gazenet convert" in err


def test_annotate_end_to_end_tiny_model_and_mtcnn(face_clip, tiny_pose_model, tmp_path, capsys):
    pytest.importorskip("gazenet_app.detect.mtcnn")
    out = tmp_path / "faces.csv"
    code = main(["annotate", str(face_clip.path), "-o", str(out), "--jsonl", str(tmp_path / "faces.jsonl"),
                 "--video", str(tmp_path / "faces.avi"), "--model", str(tiny_pose_model), "--no-progress"])
    assert code == 0, capsys.readouterr().err
    rows = rows_of(out)
    header, body = rows[0], rows[1:]
    assert tuple(header[:13]) == ("source", "frame", "timestamp_ms", "face_id", "x1", "y1", "x2", "y2",
                                  "det_score", "yaw", "pitch", "roll", "pose_valid")
    by_frame = {}
    for r in body:
        by_frame.setdefault(int(r[1]), []).append(dict(zip(header, r)))
    assert sorted(by_frame) == list(range(30))
    assert all(len(v) == 2 for v in by_frame.values())  # both pasted faces in every frame
    assert len({r["face_id"] for r in (dict(zip(header, r)) for r in body)}) == 2  # stable ids
    for i, faces in by_frame.items():
        for truth in face_clip.faces[i]:
            tx, ty = (truth[0] + truth[2]) / 2, (truth[1] + truth[3]) / 2
            d = min(abs((float(f["x1"]) + float(f["x2"])) / 2 - tx) + abs((float(f["y1"]) + float(f["y2"])) / 2 - ty)
                    for f in faces)
            assert d < 25, (i, truth)
        for f in faces:
            assert -99 <= float(f["yaw"]) <= 99 and f["source"] == "faces.avi"
    card = json.loads(Path(tiny_pose_model).read_text())
    meta = json.loads((tmp_path / "faces.meta.json").read_text())
    assert meta["status"] == "complete" and meta["rows"] == 60
    assert meta["model"]["name"] == card["name"] and meta["model"]["params_sha256"] == card["params_sha256"]
    assert meta["detector"]["detector"] == "mtcnn" and meta["detector"]["preset"] == "accurate"
    assert meta["crop_preset"] == card["crop"] and "Hopenet" in meta["convention"]
    assert meta["outputs"]["video"]["codec"] == "MJPG"
    cap = cv2.VideoCapture(str(tmp_path / "faces.avi"))
    assert int(cap.get(cv2.CAP_PROP_FRAME_COUNT)) == 30
    cap.release()


def test_predict_end_to_end(faces_dir, tiny_pose_model, tmp_path, capsys):
    pytest.importorskip("gazenet_app.detect.mtcnn")
    code = main(["predict", str(faces_dir / "ulfd_13.jpg"), "--model", str(tiny_pose_model),
                 "--save", str(tmp_path)])
    out = capsys.readouterr().out.splitlines()
    assert code == 0 and len(out) == 3 and all(line.startswith("ulfd_13.jpg") for line in out[1:])
    assert (tmp_path / "ulfd_13_pose.jpg").exists()


def test_annotate_smooth_and_detect_every_with_real_tracking(face_clip, tiny_pose_model, tmp_path, capsys):
    pytest.importorskip("gazenet_app.track.smoothing")
    out = tmp_path / "s.csv"
    code = main(["annotate", str(face_clip.path), "-o", str(out), "--model", str(tiny_pose_model), "--smooth",
                 "--detect-every", "3", "--end", "12", "--no-progress"])
    assert code == 0, capsys.readouterr().err
    rows = rows_of(out)
    assert rows[0][-3:] == ["yaw_raw", "pitch_raw", "roll_raw"]
    assert sorted({int(r[1]) for r in rows[1:]}) == list(range(12))
    assert len({r[3] for r in rows[1:]}) == 2  # the faces keep their ids between detections
    meta = json.loads((tmp_path / "s.meta.json").read_text())
    assert meta["smoothing"] and meta["detect_every"] == 3


def test_predict_folder_skips_non_images(fake_cli, tmp_path, capsys):
    folder = tmp_path / "in"
    folder.mkdir()
    cv2.imwrite(str(folder / "a.png"), cv2.cvtColor(synthetic_frames(1)[0], cv2.COLOR_RGB2BGR))
    (folder / "notes.txt").write_text("x")
    assert main(["predict", str(folder)]) == 0
    cap = capsys.readouterr()
    assert [line.split()[0] for line in cap.out.splitlines()[1:]] == ["a.png", "a.png"]
    assert "notes.txt" in cap.err
