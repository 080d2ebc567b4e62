"""Writers: partial + atomic rename, exact rows, resume (cut line, no duplicates), video.

Permission errors, a full disk and failed renames are tried in tests/faults/test_exports.py.
"""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from gazenet_app.core.errors import ExportError
from gazenet_app.core.results import (CSV_COLUMNS, FORMAT_VERSION, CsvWriter, JsonlWriter, OutputSet, VideoWriter,
                                      partial_path, read_annotations, read_jsonl, read_sidecar, resume_writers,
                                      sidecar_path)
from gazenet_app.core.types import FaceBox, FaceResult, FrameResult, HeadPose
from gazenet_app.core.video import Frame


def frame_result(i: int, n_faces: int = 2, source: str = "clip.avi") -> FrameResult:
    faces = tuple(FaceResult(k, FaceBox(10.0 + i, 20.0, 50.0 + i, 60.5, 0.93), HeadPose(10.0 + k, -5.25, 1.5),
                             HeadPose(11.0 + k, -5.0, 1.0), k == 0) for k in range(n_faces))
    return FrameResult(i, i * 40.0, source, faces, {"total": 1.0}, (240, 320))


def test_paths():
    assert partial_path("a/out.csv").name == "out.csv.partial"
    assert partial_path("a/out.jsonl").name == "out.jsonl.partial"
    assert partial_path("a/out.avi").name == "out.partial.avi"
    assert sidecar_path("a/out.csv").name == "out.meta.json"


def test_csv_rows_are_exact_and_renamed_on_close(tmp_path):
    out = tmp_path / "o.csv"
    w = CsvWriter(out)
    w.open()
    w.write(frame_result(0))
    assert (tmp_path / "o.csv.partial").exists() and not out.exists()
    # flushed per frame: the rows are on disk before close
    assert (tmp_path / "o.csv.partial").read_text().count("\n") == 3
    w.write(frame_result(1, n_faces=0))
    w.close()
    assert not (tmp_path / "o.csv.partial").exists()
    lines = out.read_text().splitlines()
    assert lines[0] == ",".join(CSV_COLUMNS)
    assert lines[1] == "clip.avi,0,0.000,0,10.00,20.00,50.00,60.50,0.9300,10.000,-5.250,1.500,true,false"
    assert lines[2] == "clip.avi,0,0.000,1,10.00,20.00,50.00,60.50,0.9300,11.000,-5.250,1.500,false,false"
    assert len(lines) == 3 and w.rows_written == 2 and w.frames_written == 2


def test_smoothing_columns_and_missing_pose(tmp_path):
    out = tmp_path / "o.csv"
    r = FrameResult(3, 120.0, "x.png", (FaceResult(4, FaceBox(0, 0, 1, 1, 0.5), None, None, False),))
    with CsvWriter(out, smoothing=True) as w:
        w.write(frame_result(0, 1))
        w.write(r)
    lines = out.read_text().splitlines()
    assert lines[0].endswith(",pose_valid,tracked_only,yaw_raw,pitch_raw,roll_raw")
    assert lines[1].endswith(",10.000,-5.250,1.500,true,false,11.000,-5.000,1.000")
    assert lines[2] == "x.png,3,120.000,4,0.00,0.00,1.00,1.00,0.5000,,,,false,false,,,"


def test_read_annotations_round_trip(tmp_path):
    out = tmp_path / "o.csv"
    with CsvWriter(out, smoothing=True) as w:
        for i in range(3):
            w.write(frame_result(i))
    ann = read_annotations(out)
    assert sorted(ann) == [("clip.avi", 0), ("clip.avi", 1), ("clip.avi", 2)]
    f = ann[("clip.avi", 1)][1]
    assert f.face_id == 1 and f.box.as_tuple() == (11.0, 20.0, 51.0, 60.5) and f.box.score == 0.93
    assert f.pose == HeadPose(11.0, -5.25, 1.5) and f.pose_raw == HeadPose(12.0, -5.0, 1.0) and not f.pose_valid
    (tmp_path / "x.csv").write_text("a,b\n1,2\n")
    with pytest.raises(ExportError, match="not a gazenet CSV: missing columns source, frame"):
        read_annotations(tmp_path / "x.csv")


def test_abort_keeps_partial(tmp_path):
    out = tmp_path / "o.csv"
    with pytest.raises(RuntimeError):
        with CsvWriter(out) as w:
            w.write(frame_result(0))
            raise RuntimeError("boom")
    assert not out.exists() and (tmp_path / "o.csv.partial").read_text().count("\n") == 3


def _interrupted(tmp_path, frames=5, cut=True):
    out_c, out_j = tmp_path / "o.csv", tmp_path / "o.jsonl"
    c, j = CsvWriter(out_c), JsonlWriter(out_j)
    c.open(), j.open()
    for i in range(frames):
        c.write(frame_result(i))
        j.write(frame_result(i))
    c.abort(), j.abort()
    if cut:  # a kill in the middle of writing the next frame
        with open(c.partial, "a") as fh:
            fh.write(f"clip.avi,{frames},200.000,0,1")
        with open(j.partial, "a") as fh:
            fh.write('{"source":"clip.avi","frame":')
    return CsvWriter(out_c), JsonlWriter(out_j)


def test_resume_drops_cut_line_and_reports_last_complete_frame(tmp_path):
    c, j = _interrupted(tmp_path)
    assert c.last_complete_frame() == (3, True)  # frame 4 may have lost rows: only <= 3 is sure
    assert j.last_complete_frame() == (4, True)
    assert j.max_face_id() == 1 and c.max_face_id() == 1
    last = resume_writers([c, j])
    assert last == 3
    for i in range(4, 8):
        c.write(frame_result(i))
        j.write(frame_result(i))
    c.close(), j.close()
    rows = [line.split(",") for line in (tmp_path / "o.csv").read_text().splitlines()[1:]]
    assert [(int(r[1]), int(r[3])) for r in rows] == [(i, k) for i in range(8) for k in (0, 1)]
    assert [r["frame"] for r in read_jsonl(tmp_path / "o.jsonl")] == list(range(8))


def test_resume_csv_alone(tmp_path):
    c, _ = _interrupted(tmp_path)
    assert resume_writers([c]) == 3
    c.abort()


def test_resume_jsonl_alone(tmp_path):
    _, j = _interrupted(tmp_path)
    assert resume_writers([j]) == 4
    j.abort()


def test_resume_with_no_rows_starts_over(tmp_path):
    c = CsvWriter(tmp_path / "o.csv")
    c.open()
    c.abort()
    c2 = CsvWriter(tmp_path / "o.csv")
    assert resume_writers([c2]) is None
    c2.write(frame_result(0))
    c2.close()
    assert (tmp_path / "o.csv").read_text().count("\n") == 3


def test_resume_refuses_other_columns(tmp_path):
    c, _ = _interrupted(tmp_path)
    with pytest.raises(ExportError, match="its columns do not match this run"):
        resume_writers([CsvWriter(tmp_path / "o.csv", smoothing=True)])


@pytest.mark.parametrize("ext,codec", [(".avi", "MJPG"), (".mp4", "mp4v")])
def test_video_writer(tmp_path, ext, codec):
    out = tmp_path / f"v{ext}"
    w = VideoWriter(out, fps=10)
    assert w.codec == codec
    for i in range(5):
        w.write(np.full((48, 64, 3), 20 * i, np.uint8))
    w.write(np.zeros((96, 128, 3), np.uint8))  # another size is resized to the first
    assert partial_path(out).exists() and not out.exists()
    w.close()
    cap = cv2.VideoCapture(str(out))
    assert int(cap.get(cv2.CAP_PROP_FRAME_COUNT)) == 6 and int(cap.get(cv2.CAP_PROP_FRAME_WIDTH)) == 64
    cap.release()
    assert w.describe() == {"path": f"v{ext}", "codec": codec, "fps": 10.0}


def test_video_writer_abort_leaves_readable_partial(tmp_path):
    w = VideoWriter(tmp_path / "v.avi")
    for _ in range(3):
        w.write(np.zeros((32, 32, 3), np.uint8))
    w.abort()
    cap = cv2.VideoCapture(str(tmp_path / "v.partial.avi"))
    assert cap.read()[0]
    cap.release()
    assert not (tmp_path / "v.avi").exists()


def test_video_writer_rejects_other_extensions(tmp_path):
    with pytest.raises(ExportError, match=r"use \.avi \(MJPG\) or \.mp4 \(mp4v\)"):
        VideoWriter(tmp_path / "v.mkv")


def _frame(i: int) -> Frame:
    return Frame(i, i * 40.0, np.full((48, 64, 3), 10 * i, np.uint8), "clip.avi")


def test_output_set_open_write_finish_one_sidecar(tmp_path):
    out = OutputSet(csv=tmp_path / "o.csv", jsonl=tmp_path / "o.jsonl", video=tmp_path / "o.avi",
                    meta={"command": "test"})
    assert out.open() == 0
    side = read_sidecar(tmp_path / "o.meta.json")
    assert side["status"] == "running" and side["format_version"] == FORMAT_VERSION and side["command"] == "test"
    for i in range(3):
        out.write(_frame(i), frame_result(i))
    out.finish("complete")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["o.avi", "o.csv", "o.jsonl", "o.meta.json"]
    side = read_sidecar(tmp_path / "o.meta.json")
    assert (side["status"], side["frames"], side["rows"], side["faces"]) == ("complete", 3, 6, 6)
    assert side["outputs"]["csv"] == "o.csv" and side["outputs"]["video"]["codec"] == "MJPG"
    with pytest.raises(ValueError, match="unknown status"):
        out.finish("done")


def test_output_set_resumes_after_the_last_complete_frame(tmp_path):
    out = OutputSet(csv=tmp_path / "o.csv", jsonl=tmp_path / "o.jsonl", video=tmp_path / "o.avi")
    out.open(start=2, stride=2)
    for i in (2, 4, 6):
        out.write(_frame(i), frame_result(i))
    out.finish("interrupted")
    assert read_sidecar(tmp_path / "o.meta.json")["partials"] == ["o.csv.partial", "o.jsonl.partial",
                                                                    "o.partial.avi"]
    again = OutputSet(csv=tmp_path / "o.csv", jsonl=tmp_path / "o.jsonl", video=tmp_path / "o.avi")
    with pytest.raises(ExportError, match="pass --resume"):
        again.open(start=2, stride=2)
    # the CSV's last frame (6) may have lost rows: frames up to 4 are sure, 6 is next; the video keeps 2 frames
    assert again.open(resume=True, start=2, stride=2) == 6 and again.resumed_after == 5
    assert again.video.frames_written == 2 and again.next_face_id() == 2
    again.write(_frame(6), frame_result(6))
    again.finish("complete")
    assert sorted({k[1] for k in read_annotations(tmp_path / "o.csv")}) == [2, 4, 6]
    cap = cv2.VideoCapture(str(tmp_path / "o.avi"))
    assert int(cap.get(cv2.CAP_PROP_FRAME_COUNT)) == 3
    cap.release()


def test_tracked_only_column_round_trip(tmp_path):
    carried = FaceResult(3, FaceBox(1.0, 2.0, 30.0, 40.0, 0.9), HeadPose(1.0, 2.0, 3.0), None, True, True)
    detected = FaceResult(4, FaceBox(5.0, 6.0, 35.0, 46.0, 0.8), HeadPose(4.0, 5.0, 6.0), None, True, False)
    w = CsvWriter(tmp_path / "o.csv")
    w.open()
    w.write(FrameResult(0, 0.0, "a.jpg", (carried, detected)))
    w.close()
    header, first, second = (tmp_path / "o.csv").read_text().splitlines()
    assert header.endswith(",pose_valid,tracked_only") and first.endswith(",true,true")
    assert second.endswith(",true,false")
    faces = read_annotations(tmp_path / "o.csv")[("a.jpg", 0)]
    assert [f.tracked_only for f in faces] == [True, False]
    # a format-1 file (no tracked_only column) still reads, as detected
    old = tmp_path / "old.csv"
    old.write_text("\n".join(",".join(r.split(",")[:-1]) for r in (header, first)) + "\n")
    assert [f.tracked_only for f in read_annotations(old)[("a.jpg", 0)]] == [False]
