"""PipelineWorker on its QThread: never-dropped results, latest-wins images, commands between frames.

Broken inputs and weights, lost cameras, full disks and exceptions mid-clip are tried in tests/faults/."""

from __future__ import annotations

import csv

import numpy as np
import pytest
from PySide6.QtGui import QImage

from gazenet_app.core.types import FaceBox, FaceResult, FrameResult, HeadPose
from gazenet_app.ui.backend import WorkerOptions, mirror_result
from fixtures.workers import worker_controllers
from gazenet_app.ui.worker import LatestImage, PipelineWorker, WorkerController


@pytest.fixture
def controller(qtbot, fake_backend):
    """A started worker without a window (nothing takes its images unless a test does)."""
    yield from worker_controllers(qtbot, lambda: fake_backend, timeout=10000)


def test_latest_image_mailbox():
    box = LatestImage()
    assert box.take() is None
    assert box.put(0, QImage()) is True  # empty -> notify
    assert box.put(1, QImage()) is False  # still pending -> no second notification, the stale one dropped
    assert box.dropped == 1
    index, _ = box.take()
    assert index == 1 and not box.pending()


def test_results_never_dropped_images_latest_wins(qtbot, controller, synthetic_clip):
    ctl = controller()
    results = []
    ctl.events.frame_processed.connect(results.append)
    notified = []
    ctl.events.image_ready.connect(lambda: notified.append(1))  # nobody takes the image: the window "hangs"
    with qtbot.waitSignal(ctl.events.end_of_stream, timeout=20000):
        ctl.open_source(str(synthetic_clip.path))
    qtbot.waitUntil(lambda: len(results) == synthetic_clip.frames)
    assert [r.index for r in results] == list(range(synthetic_clip.frames))
    assert len(notified) == 1  # one notification, never a queue of stale images
    assert ctl.worker.latest.dropped >= synthetic_clip.frames - 2
    index, image = ctl.worker.latest.take()
    assert image.width() == synthetic_clip.size[0]


def test_switch_model_and_detector_while_playing(qtbot, controller, synthetic_clip):
    ctl = controller(options=WorkerOptions(detector="fake", realtime=True))  # paced: still playing below
    errors = []
    ctl.events.failed.connect(errors.append)
    with qtbot.waitSignal(ctl.events.frame_processed, timeout=10000):
        ctl.open_source(str(synthetic_clip.path))
    with qtbot.waitSignal(ctl.events.state_changed, timeout=10000,
                          check_params_cb=lambda s: s.model == "other-pose"):
        ctl.set_options(model="other-pose")
    with qtbot.waitSignal(ctl.events.state_changed, timeout=10000,
                          check_params_cb=lambda s: s.detector == "fake2"):
        ctl.set_options(detector="fake2")
    with qtbot.waitSignal(ctl.events.state_changed, timeout=10000,
                          check_params_cb=lambda s: s.options["smoothing"]):
        ctl.set_options(smoothing=True)
    with qtbot.waitSignal(ctl.events.frame_processed, timeout=10000) as after:
        ctl.seek(0)  # a frame with the new settings whether or not the clip has ended meanwhile
    assert after.args[0].faces and after.args[0].faces[0].pose is not None
    assert errors == []


def test_recording_is_incremental(qtbot, controller, synthetic_clip, tmp_path):
    ctl = controller()
    out = tmp_path / "rec.csv"
    with qtbot.waitSignal(ctl.events.frame_processed, timeout=10000):
        ctl.open_source(str(synthetic_clip.path), record_to=str(out), play=False)
    for _ in range(4):
        with qtbot.waitSignal(ctl.events.frame_processed, timeout=10000):
            ctl.step()
    partial = tmp_path / "rec.csv.partial"
    with open(partial, newline="") as fh:  # a crash now would keep the 5 frames shown so far
        frames = sorted({int(r["frame"]) for r in csv.DictReader(fh)})
    assert frames == [0, 1, 2, 3, 4]
    with qtbot.waitSignal(ctl.events.end_of_stream, timeout=20000):
        ctl.play()
    with qtbot.waitSignal(ctl.events.state_changed, timeout=10000, check_params_cb=lambda s: s.recording is None):
        ctl.stop_recording()
    with open(out, newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 2 * synthetic_clip.frames
    assert not partial.exists()
    assert (tmp_path / "rec.meta.json").exists()


def test_review_draws_from_the_file(qtbot, controller, synthetic_clip, tmp_path):
    ctl = controller()
    out = tmp_path / "ann.csv"
    with qtbot.waitSignal(ctl.events.end_of_stream, timeout=20000):
        ctl.open_source(str(synthetic_clip.path), record_to=str(out))
    with qtbot.waitSignal(ctl.events.state_changed, timeout=10000, check_params_cb=lambda s: s.recording is None):
        ctl.stop_recording()
    with open(out, newline="") as fh:
        rows = list(csv.DictReader(fh))
    for r in rows:  # edit the file: the review must show these, not recomputed angles
        r["yaw"] = "42.000"
    with open(out, "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    got = []
    ctl.events.frame_processed.connect(got.append)
    with qtbot.waitSignal(ctl.events.end_of_stream, timeout=20000):
        ctl.load_review(str(out))
    assert len(got) == synthetic_clip.frames
    assert all(f.pose.yaw == pytest.approx(42.0) for r in got for f in r.faces)
    assert all(len(r.faces) == 2 for r in got)


def test_close_while_playing_stops_thread_and_closes_source(qtbot, controller, synthetic_clip):
    ctl = controller(options=WorkerOptions(detector="fake", realtime=True))
    with qtbot.waitSignal(ctl.events.frame_processed, timeout=10000):
        ctl.open_source(str(synthetic_clip.path))
    source = ctl.worker._source
    assert ctl.stop()
    assert not ctl.thread.isRunning()
    assert ctl.worker._source is None and source._closed


def test_mirror_result_flips_boxes_and_signs():
    face = FaceResult(1, FaceBox(10, 20, 50, 80, 0.9), HeadPose(30, 10, -5), HeadPose(31, 11, -6))
    result = FrameResult(0, 0.0, "x", (face,), {}, (100, 200))
    m = mirror_result(result).faces[0]
    assert (m.box.x1, m.box.x2, m.box.y1, m.box.y2) == (150, 190, 20, 80)
    assert m.pose.as_tuple() == (-30, 10, 5)
    assert m.pose_raw.as_tuple() == (-31, 11, 6)
    assert mirror_result(mirror_result(result)) == result


def test_mirror_flips_the_view_not_the_results(qtbot, controller, synthetic_clip):
    from fixtures.clips import synthetic_frames
    ctl = controller(options=WorkerOptions(detector="fake", realtime=False, mirror=True, show_text=False))
    with qtbot.waitSignal(ctl.events.frame_processed, timeout=10000) as got:
        ctl.open_source(str(synthetic_clip.path), play=False)
    result = got.args[0]
    assert result.faces[0].box.x1 == pytest.approx(41.0)  # results keep the unmirrored frame's geometry
    qtbot.waitUntil(lambda: ctl.worker.latest.pending())
    _, image = ctl.worker.latest.take()
    w = image.width()
    top = np.array([[image.pixelColor(x, y).getRgb()[:3] for x in range(w)] for y in range(2, 6)], dtype=float)
    # frame 0's code block (8x64 px, black) is top-left in the source, so top-right in the mirrored view
    assert synthetic_frames(1)[0][2:6, 0:60].mean() < 30
    assert top[:, w - 60:].mean() < 40
    assert top[:, :60].mean() > 60


def test_window_modules_do_not_load_mxnet():
    """The window's modules import neither MXNet nor the CLI: only the worker's thread loads the model stack."""
    import subprocess
    import sys
    code = ("import sys; import gazenet_app.ui.main_window, gazenet_app.ui.app; "
            "bad = [m for m in ('mxnet', 'gazenet_app.cli', 'gazenet_app.training') if m in sys.modules]; "
            "print(bad); sys.exit(1 if bad else 0)")
    from pathlib import Path
    root = Path(__file__).resolve().parents[2]
    proc = subprocess.run([sys.executable, "-c", code], cwd=str(root), capture_output=True, text=True,
                          env={"PYTHONPATH": str(root), "QT_QPA_PLATFORM": "offscreen", "PATH": "/usr/bin:/bin"})
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_unloading_the_model_runs_detection_only(qtbot, controller, synthetic_clip):
    ctl = controller()
    with qtbot.waitSignal(ctl.events.state_changed, timeout=10000, check_params_cb=lambda s: s.model is None):
        ctl.set_options(model="")
    with qtbot.waitSignal(ctl.events.frame_processed, timeout=10000) as got:
        ctl.open_source(str(synthetic_clip.path), play=False)
    assert len(got.args[0].faces) == 2 and all(f.pose is None for f in got.args[0].faces)


def test_unknown_saved_detector_falls_back_to_the_default(qtbot, fake_backend):
    worker = PipelineWorker(fake_backend, WorkerOptions(detector="gone", realtime=False))
    ctl = WorkerController(worker)
    failures = []
    ctl.events.failed.connect(failures.append)
    with qtbot.waitSignal(ctl.events.state_changed, timeout=10000) as state:
        ctl.start()
    try:
        # the fake backend only knows fake/fake2, so the default (mtcnn) fails too: no detector, still a state
        assert state.args[0].detector is None and state.args[0].options["detector"] == "mtcnn"
        qtbot.waitUntil(lambda: len(failures) == 2)
        assert "gone" in failures[0] and "without faces" in failures[1]
    finally:
        assert ctl.stop()
