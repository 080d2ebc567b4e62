"""The annotation loop with fakes on the synthetic clip: rows, sidecar, stop/resume, errors, video.

A full disk, cut videos and lost cameras are tried in tests/faults/ (CLI and app).
"""

from __future__ import annotations

import csv
import json

import cv2
import pytest

from fixtures.clips import synthetic_frames
from fixtures.fakes import FakeSmoother, make_fake_pipeline
from gazenet_app.core.errors import ExportError, GazenetError
from gazenet_app.core.results import CSV_COLUMNS, RAW_COLUMNS, read_jsonl
from gazenet_app.core.video import Frame, FrameSource, open_source
from gazenet_app.pipeline import AnnotateOutputs, annotate


def rows_of(path):
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.reader(fh))


def run(clip, tmp_path, name="out", resume=False, pipeline=None, **kw):
    outputs = AnnotateOutputs(csv=tmp_path / f"{name}.csv", jsonl=tmp_path / f"{name}.jsonl")
    with open_source(clip) as src:
        return annotate(src, pipeline or make_fake_pipeline(), outputs, resume=resume, **kw), outputs


def test_full_run_writes_rows_sidecar_and_final_names(synthetic_clip, tmp_path):
    seen = []
    summary, out = run(synthetic_clip.path, tmp_path, progress=lambda d, t: seen.append((d, t)))
    assert summary.status == "complete" and summary.finished
    assert (summary.frames, summary.faces, summary.rows) == (30, 60, 60)
    assert seen[0] == (0, 30) and seen[-1] == (30, 30) and len(seen) == 31
    rows = rows_of(out.csv)
    assert tuple(rows[0]) == CSV_COLUMNS
    assert len(rows) == 61
    assert [int(r[1]) for r in rows[1:]] == [i for i in range(30) for _ in range(2)]
    assert {r[0] for r in rows[1:]} == {"synthetic.avi"}
    first = dict(zip(rows[0], rows[1]))
    assert first["x1"] == "41.00" and first["y2"] == "121.00" and first["det_score"] == "0.9000"
    assert first["pose_valid"] in ("true", "false")
    assert not out.csv.with_name("out.csv.partial").exists()
    recs = read_jsonl(out.jsonl)
    assert [r["frame"] for r in recs] == list(range(30)) and all(len(r["faces"]) == 2 for r in recs)
    meta = json.loads((tmp_path / "out.meta.json").read_text())
    assert meta["status"] == "complete" and meta["rows"] == 60 and meta["frames"] == 30
    assert meta["model"]["name"] == "fake-pose" and meta["model"]["params_sha256"] == "0" * 64
    assert meta["detector"]["detector"] == "fake" and meta["crop_preset"] == "gazenet"
    assert meta["smoothing"] is None and "Hopenet's convention" in meta["convention"]
    assert meta["source"]["frame_count"] == 30 and meta["outputs"] == {"csv": "out.csv", "jsonl": "out.jsonl"}


def test_start_end_stride(synthetic_clip, tmp_path):
    summary, out = run(synthetic_clip.path, tmp_path, start=3, end=20, stride=4)
    assert sorted({int(r[1]) for r in rows_of(out.csv)[1:]}) == [3, 7, 11, 15, 19]
    assert summary.frames == 5


def test_smoothing_adds_raw_columns(synthetic_clip, tmp_path):
    pipe = make_fake_pipeline(smoother=FakeSmoother())
    summary, out = run(synthetic_clip.path, tmp_path, pipeline=pipe, end=3)
    rows = rows_of(out.csv)
    assert tuple(rows[0]) == CSV_COLUMNS + RAW_COLUMNS
    r = dict(zip(rows[0], rows[1]))
    assert float(r["yaw"]) == pytest.approx(float(r["yaw_raw"]) / 2, abs=2e-3)
    assert json.loads((tmp_path / "out.meta.json").read_text())["smoothing"]["type"] == "fake"


def _data_rows(path):
    """Rows without face_id (ids restart after a resume), as comparable tuples."""
    rows = rows_of(path)
    fid = rows[0].index("face_id")
    return [tuple(v for i, v in enumerate(r) if i != fid) for r in rows[1:]]


def test_stop_keeps_partial_and_resume_completes_without_duplicates(synthetic_clip, tmp_path):
    ref, ref_out = run(synthetic_clip.path, tmp_path, name="ref")
    calls = {"n": 0}

    def stop():
        calls["n"] += 1
        return calls["n"] > 10

    summary, out = run(synthetic_clip.path, tmp_path, should_stop=stop)
    assert summary.status == "stopped" and summary.frames == 10
    part = tmp_path / "out.csv.partial"
    assert part.exists() and not out.csv.exists() and not out.jsonl.exists()
    assert len(rows_of(part)) == 1 + 20
    meta = json.loads((tmp_path / "out.meta.json").read_text())
    assert meta["status"] == "stopped" and set(meta["partials"]) == {"out.csv.partial", "out.jsonl.partial"}

    with pytest.raises(ExportError, match="exists from an interrupted run: pass --resume"):
        run(synthetic_clip.path, tmp_path)

    summary2, _ = run(synthetic_clip.path, tmp_path, resume=True)
    assert summary2.status == "complete"
    # the CSV cannot know whether frame 9 lost rows, so it restarts there; JSONL agrees to the same point
    assert summary2.resumed_after == 8 and summary2.first_frame == 9 and summary2.frames == 21
    assert _data_rows(out.csv) == _data_rows(ref_out.csv)
    rows = rows_of(out.csv)[1:]
    keys = [(r[1], r[3]) for r in rows]
    assert len(keys) == len(set(keys)) == 60
    assert min(int(r[3]) for r in rows if int(r[1]) >= 9) > max(int(r[3]) for r in rows if int(r[1]) < 9)
    assert [r["frame"] for r in read_jsonl(out.jsonl)] == list(range(30))
    assert not part.exists()
    with pytest.raises(ExportError, match="nothing to resume"):
        run(synthetic_clip.path, tmp_path, resume=True)


def test_cut_line_in_partial_is_dropped_on_resume(synthetic_clip, tmp_path):
    ref, ref_out = run(synthetic_clip.path, tmp_path, name="ref")
    outputs = AnnotateOutputs(csv=tmp_path / "out.csv")
    n = {"k": 0}

    def stop():
        n["k"] += 1
        return n["k"] > 6

    with open_source(synthetic_clip.path) as src:
        annotate(src, make_fake_pipeline(), outputs, should_stop=stop)
    part = tmp_path / "out.csv.partial"
    with open(part, "a", encoding="utf-8") as fh:
        fh.write("synthetic.avi,6,400.000,0,46.0")  # a row cut by a kill
    with open_source(synthetic_clip.path) as src:
        summary = annotate(src, make_fake_pipeline(), outputs, resume=True)
    assert summary.resumed_after == 4
    assert _data_rows(outputs.csv) == _data_rows(ref_out.csv)


def test_interrupt_keeps_rows_and_reraises(synthetic_clip, tmp_path):
    pipe = make_fake_pipeline(interrupt_at_call=7)
    with pytest.raises(KeyboardInterrupt):
        run(synthetic_clip.path, tmp_path, pipeline=pipe)
    assert len(rows_of(tmp_path / "out.csv.partial")) == 1 + 14
    assert not (tmp_path / "out.csv").exists()
    assert json.loads((tmp_path / "out.meta.json").read_text())["status"] == "interrupted"


def test_annotated_video_and_its_resume(synthetic_clip, tmp_path):
    outputs = AnnotateOutputs(csv=tmp_path / "o.csv", video=tmp_path / "o.avi")
    n = {"k": 0}

    def stop():
        n["k"] += 1
        return n["k"] > 12

    with open_source(synthetic_clip.path) as src:
        annotate(src, make_fake_pipeline(), outputs, should_stop=stop)
    part = tmp_path / "o.partial.avi"
    cap = cv2.VideoCapture(str(part))
    assert int(cap.get(cv2.CAP_PROP_FRAME_COUNT)) == 12  # released on stop: readable
    cap.release()
    with open_source(synthetic_clip.path) as src:
        annotate(src, make_fake_pipeline(), outputs, resume=True)
    assert not part.exists()
    cap = cv2.VideoCapture(str(tmp_path / "o.avi"))
    count = 0
    while cap.read()[0]:
        count += 1
    cap.release()
    assert count == 30
    meta = json.loads((tmp_path / "o.meta.json").read_text())
    assert meta["outputs"]["video"] == {"path": "o.avi", "codec": "MJPG", "fps": 15.0}


def test_bad_ranges(synthetic_clip, tmp_path):
    with pytest.raises(GazenetError, match="stride"):
        run(synthetic_clip.path, tmp_path, stride=0)
    with pytest.raises(GazenetError, match="empty frame range"):
        run(synthetic_clip.path, tmp_path, start=5, end=5)


def test_folder_source_rows_name_each_file(tmp_path, synthetic_clip):
    folder = tmp_path / "imgs"
    folder.mkdir()
    for i, f in enumerate(synthetic_frames(4)):
        cv2.imwrite(str(folder / f"f_{i}.png"), cv2.cvtColor(f, cv2.COLOR_RGB2BGR))
    (folder / "notes.txt").write_text("not an image")
    summary, out = run(folder, tmp_path)
    assert [(r[0], r[1]) for r in rows_of(out.csv)[1::2]] == [(f"f_{i}.png", str(i)) for i in range(4)]
    assert any("notes.txt" in n for n in summary.notes)


class LiveSource(FrameSource):
    """A camera-like source (no length): `n` frames, then it stops delivering (like an unplugged camera)."""

    kind = "camera"

    def __init__(self, n: int) -> None:
        super().__init__("cam:9")
        self._frames = synthetic_frames(n)

    def _read(self):
        if self._pos >= len(self._frames):
            self.error = "camera 9 stopped delivering frames"
            return None
        return Frame(self._pos, self._pos * 33.3, self._frames[self._pos], self.name)


def test_live_source_stopped_by_the_user_finishes_outputs(tmp_path):
    outputs = AnnotateOutputs(csv=tmp_path / "cam.csv")
    summary = annotate(LiveSource(20), make_fake_pipeline(interrupt_at_call=5), outputs)
    assert summary.status == "stopped" and summary.finished and summary.frames == 5
    assert len(rows_of(tmp_path / "cam.csv")) == 1 + 10 and not (tmp_path / "cam.csv.partial").exists()
    meta = json.loads((tmp_path / "cam.meta.json").read_text())
    assert meta["status"] == "stopped" and meta["source"]["kind"] == "camera"
