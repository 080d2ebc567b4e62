"""App-level behaviour: no model installed, settings, drops, About, batch queue, the headless smoke test."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from pathlib import Path

import pytest

from gazenet_app.ui.backend import WorkerOptions
from gazenet_app.ui.main_window import MainWindow
from gazenet_app.core.video import classify_paths

from .conftest import FakeBackend

ROOT = Path(__file__).resolve().parents[2]


def test_starts_without_a_model_and_runs_detection_only(qtbot, make_window, synthetic_clip, tmp_path):
    backend = FakeBackend(models=(), default=None)
    window = make_window(backend=backend)
    qtbot.waitUntil(lambda: window.banner.kind == "notice")
    assert window.banner.text() == backend.no_model_message()  # typed state (ModelStatus), no text matching
    assert window.session.state.model is None
    assert "none (detection only)" in window.status_labels["model"].text()
    with qtbot.waitSignal(window.controller.events.end_of_stream, timeout=20000):
        window.open_source(str(synthetic_clip.path))
    qtbot.waitUntil(lambda: window.session.frames_received == synthetic_clip.frames)
    faces = [f for r in window.session.results.values() for f in r.faces]
    assert len(faces) == 2 * synthetic_clip.frames and all(f.pose is None for f in faces)
    out = tmp_path / "boxes.csv"
    assert window.export(str(out)) == len(faces)
    rows = list(csv.DictReader(open(out, newline="")))
    assert rows[0]["yaw"] == "" and rows[0]["pose_valid"] == "false" and float(rows[0]["x2"]) > 0


def test_options_persist_between_sessions(qtbot, make_window, qsettings):
    window = make_window()
    window.act_smoothing.setChecked(True)
    window.act_cube.setChecked(True)
    qtbot.waitUntil(lambda: window.session.state.options["smoothing"] and window.session.state.options["show_cube"])
    window.close()
    again = MainWindow(backend=FakeBackend(), settings=qsettings, start=False)
    qtbot.addWidget(again)
    assert again.session.options.smoothing and again.session.options.show_cube
    assert again.act_smoothing.isChecked()
    again.shutdown()


def test_classify_and_open_dropped_paths(qtbot, make_window, synthetic_clip, tmp_path):
    (tmp_path / "a.png").write_bytes(b"")
    kinds = classify_paths([str(tmp_path), str(synthetic_clip.path), str(tmp_path / "a.png"), "x.csv", "y.bin"])
    assert kinds == {"folders": [str(tmp_path)], "videos": [str(synthetic_clip.path)],
                     "images": [str(tmp_path / "a.png")], "csv": ["x.csv"], "other": ["y.bin"]}
    window = make_window()
    window.open_paths([str(tmp_path / "orphan.csv")])  # nothing open and no sidecar: a clear message
    assert "open the video of orphan.csv first" in window.session.errors[-1]
    with qtbot.waitSignal(window.controller.events.source_opened, timeout=10000) as opened:
        window.open_paths([str(synthetic_clip.path)])
    assert opened.args[0].frame_count == synthetic_clip.frames
    assert window.settings.recent_files()[0] == str(synthetic_clip.path)


def test_about_shows_version_model_and_licences(qtbot, make_window, monkeypatch):
    from gazenet_app import __version__
    from gazenet_app.ui.dialogs import AboutDialog
    shown = []
    monkeypatch.setattr(AboutDialog, "show_about", classmethod(lambda cls, parent, text: shown.append(text)))
    window = make_window()
    window.act_about.trigger()
    assert __version__ in shown[0] and "fake-pose" in shown[0] and "Apache-2.0" in shown[0]
    assert "gazenet-app.log" in shown[0] and "THIRD_PARTY_NOTICES.md" in shown[0]


def test_screenshot_and_close_while_playing(qtbot, make_window, synthetic_clip, tmp_path):
    window = make_window(options=WorkerOptions(detector="fake", realtime=True))
    with qtbot.waitSignal(window.controller.events.image_ready, timeout=10000):
        window.open_source(str(synthetic_clip.path))
    qtbot.waitUntil(lambda: window.view.image() is not None)
    assert window.save_screenshot(str(tmp_path / "shot.png"))
    assert (tmp_path / "shot.png").stat().st_size > 1000
    assert window.controller.is_running()
    window.close()
    assert not window.controller.thread.isRunning()
    assert window.session.worker._source is None


def test_batch_queue_annotates_each_clip(qtbot, make_window, synthetic_clip, tmp_path):
    import shutil
    clips = tmp_path / "clips"
    clips.mkdir()
    for name in ("one.avi", "two.avi"):
        shutil.copy(synthetic_clip.path, clips / name)
    (clips / "broken.avi").write_bytes(b"junk" * 50)
    window = make_window()
    window.show_batch()
    batch = window.batch_window
    batch.add_paths([str(clips)])
    assert len(batch.paths()) == 3
    batch.out_edit.setText(str(tmp_path / "out"))
    batch.start()
    qtbot.waitUntil(lambda: not batch.is_running() and len(batch.results) == 3, timeout=30000)
    status = {batch.paths()[i]: s for i, s, _ in batch.results}
    assert status[str(clips / "one.avi")] == "done" and status[str(clips / "two.avi")] == "done"
    assert status[str(clips / "broken.avi")] == "failed"  # one bad file never stops the queue
    for name in ("one", "two"):
        rows = list(csv.DictReader(open(tmp_path / "out" / f"{name}.csv", newline="")))
        assert len(rows) == 2 * synthetic_clip.frames
    assert batch.total_bar.value() == 3


def test_batch_cancel_before_start_writes_nothing(qtbot, fake_backend, qsettings, tmp_path, synthetic_clip):
    from gazenet_app.ui.batch import BatchJob, BatchRunner
    runner = BatchRunner(fake_backend, WorkerOptions(detector="fake"), [BatchJob(str(synthetic_clip.path),
                                                                                  str(tmp_path / "a.csv"))])
    done = []
    runner.events.file_done.connect(lambda i, s, m: done.append(s))
    runner.cancel()
    runner.run()  # synchronously: the logic without a thread
    assert done == ["cancelled"] and not (tmp_path / "a.csv").exists()


def test_smoke_test_in_process(qtbot, fake_backend, synthetic_clip, tmp_path):
    from gazenet_app.ui.smoke import run_smoke_test
    code, message = run_smoke_test(str(synthetic_clip.path), str(tmp_path / "smoke.csv"), timeout_s=60,
                                   options=WorkerOptions(detector="fake"), backend=fake_backend)
    assert code == 0, message
    assert "30 frames, 60 faces" in message and "60 rows identical" in message


def test_smoke_test_fails_without_faces(qtbot, synthetic_clip, tmp_path):
    from gazenet_app.ui.smoke import run_smoke_test
    code, message = run_smoke_test(str(synthetic_clip.path), str(tmp_path / "smoke.csv"), timeout_s=60,
                                   options=WorkerOptions(detector="fake"),
                                   backend=FakeBackend(detector_boxes=lambda rgb: []))
    assert code == 1 and "no face" in message


def test_compare_csv_catches_drift(tmp_path):
    from gazenet_app.ui.smoke import compare_csv
    head = "source,frame,timestamp_ms,face_id,x1,y1,x2,y2,det_score,yaw,pitch,roll,pose_valid\n"
    row = "c.avi,0,0.0,1,1,2,30,40,0.9,{yaw},1.0,2.0,true\n"
    a, b, c = tmp_path / "a.csv", tmp_path / "b.csv", tmp_path / "c.csv"
    a.write_text(head + row.format(yaw="10.0"))
    b.write_text(head + row.format(yaw="10.4"))
    c.write_text(head + row.format(yaw="10.6"))
    assert compare_csv(str(a), str(b))[0]
    ok, why = compare_csv(str(a), str(c))
    assert not ok and "yaw" in why


@pytest.mark.slow
def test_smoke_test_cli_with_real_detector_and_model(face_clip, tiny_pose_model, tmp_path):
    """`gazenet-app --smoke-test` end to end: MTCNN + a tiny real Gluon model, offscreen, in a fresh process."""
    env = dict(os.environ, PYTHONPATH=str(ROOT), QT_QPA_PLATFORM="offscreen",
               GAZENET_MODELS_DIR=str(tiny_pose_model.parent), HOME=str(tmp_path))
    out = tmp_path / "smoke.csv"
    proc = subprocess.run([sys.executable, "-m", "gazenet_app", "--smoke-test", str(face_clip.path), "-o", str(out),
                           "--model", str(tiny_pose_model), "--timeout", "240"],
                          cwd=str(ROOT), env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "smoke test passed" in proc.stdout
    rows = list(csv.DictReader(open(out, newline="")))
    assert len(rows) >= face_clip.frames  # two faces pasted per frame; at least one found in each
    assert all(r["yaw"] != "" for r in rows)
    bad = subprocess.run([sys.executable, "-m", "gazenet_app", "--smoke-test", str(tmp_path / "nope.avi"), "-o",
                          str(tmp_path / "x.csv"), "--timeout", "60"],
                         cwd=str(ROOT), env=env, capture_output=True, text=True, timeout=120)
    assert bad.returncode != 0 and "not found" in bad.stderr


def test_preferences_reach_the_worker_and_persist(qtbot, make_window, qsettings, monkeypatch):
    from gazenet_app.ui.dialogs import PreferencesDialog
    monkeypatch.setattr(PreferencesDialog, "ask", classmethod(
        lambda cls, parent, options, presets: {"smoothing": True, "smooth_beta": 0.5, "detect_every": 3}))
    window = make_window()
    window.act_prefs.trigger()
    qtbot.waitUntil(lambda: window.session.state.options["smooth_beta"] == 0.5 and window.session.state.options["detect_every"] == 3)
    assert window.session.state.options["smoothing"] and window.act_smoothing.isChecked()
    again = MainWindow(backend=FakeBackend(), settings=qsettings, start=False)
    qtbot.addWidget(again)
    assert again.session.options.smooth_beta == 0.5 and again.session.options.detect_every == 3
    again.shutdown()


def test_busy_or_missing_camera_is_a_message(qtbot, make_window, monkeypatch):
    from gazenet_app.ui.dialogs import CameraChoice, CameraDialog
    import gazenet_app.core.video as video
    monkeypatch.setattr(video, "list_cameras", lambda max_index=4: [7])
    monkeypatch.setattr(CameraDialog, "ask", classmethod(lambda cls, parent, cams, current=None:
                                                         CameraChoice(cams[0], (320, 240), 15, mirror=True)))
    window = make_window()
    with qtbot.waitSignal(window.controller.events.failed, timeout=20000) as failed:
        window.act_webcam.trigger()
    assert "camera 7" in failed.args[0]
    assert window.act_mirror.isChecked()
    qtbot.waitUntil(lambda: window.session.state.options["preset"] == "live")  # webcams default to the live preset
    assert window.controller.is_running()


def test_export_annotated_video_leaves_the_queue_alone(qtbot, make_window, synthetic_clip, tmp_path, monkeypatch):
    """Defect 10: the video export runs on its own (the batch queue keeps its clips) and writes no CSV."""
    from gazenet_app.ui.dialogs import FileDialogs
    (tmp_path / "out").mkdir()
    out = tmp_path / "out" / "annotated.avi"
    monkeypatch.setattr(FileDialogs, "save_path", classmethod(lambda cls, *a: str(out)))
    window = make_window()
    window.show_batch()
    window.batch_window.add_paths([str(synthetic_clip.path)])
    with qtbot.waitSignal(window.controller.events.end_of_stream, timeout=20000):
        window.open_source(str(synthetic_clip.path))
    with qtbot.waitSignal(window.session.export_finished, timeout=30000) as done:
        window.act_export_video.trigger()
    assert done.args[0] == "done", done.args
    import cv2
    cap = cv2.VideoCapture(str(out))
    assert int(cap.get(cv2.CAP_PROP_FRAME_COUNT)) == synthetic_clip.frames
    cap.release()
    assert sorted(p.name for p in out.parent.iterdir()) == ["annotated.avi", "annotated.meta.json"]
    assert window.batch_window.paths() == [str(synthetic_clip.path)] and not window.batch_window.results


def test_drop_and_shortcuts(qtbot, make_window, synthetic_clip):
    from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
    from PySide6.QtGui import QDropEvent, QKeySequence
    window = make_window()
    assert window.act_play.shortcut() == QKeySequence(Qt.Key.Key_Space)
    assert window.act_step.shortcut() == QKeySequence(Qt.Key.Key_Right)
    assert window.act_open.shortcut() == QKeySequence("Ctrl+O")
    assert window.act_quit.shortcut() == QKeySequence("Ctrl+Q")
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(synthetic_clip.path))])
    event = QDropEvent(QPointF(10, 10), Qt.DropAction.CopyAction, mime, Qt.MouseButton.NoButton,
                       Qt.KeyboardModifier.NoModifier)
    with qtbot.waitSignal(window.controller.events.source_opened, timeout=10000) as opened:
        window.dropEvent(event)
    assert opened.args[0].name == synthetic_clip.path.name


def test_files_after_a_webcam_drop_mirror_and_live_preset(qtbot, make_window, synthetic_clip):
    from gazenet_app.ui.dialogs import CameraChoice
    window = make_window()
    with qtbot.waitSignal(window.controller.events.failed, timeout=20000):
        window.open_camera(CameraChoice(9, None, None, mirror=True))
    qtbot.waitUntil(lambda: window.session.state.options["preset"] == "live" and window.session.state.options["mirror"])
    with qtbot.waitSignal(window.controller.events.source_opened, timeout=10000):
        window.open_source(str(synthetic_clip.path))
    qtbot.waitUntil(lambda: window.session.state.options["preset"] is None and not window.session.state.options["mirror"])
    assert not window.act_mirror.isChecked()


def test_csv_then_jsonl_exports_keep_both_sidecars_with_status(qtbot, make_window, synthetic_clip, tmp_path):
    """Defect 10: exporting CSV then JSON Lines under one base name keeps each export's sidecar, with status."""
    import json
    window = make_window()
    with qtbot.waitSignal(window.session.ended, timeout=20000):
        window.open_source(str(synthetic_clip.path))
    assert window.export(str(tmp_path / "a.csv")) == 2 * synthetic_clip.frames
    assert window.export(str(tmp_path / "a.jsonl")) == 2 * synthetic_clip.frames
    csv_side = json.loads((tmp_path / "a.meta.json").read_text())
    jsonl_side = json.loads((tmp_path / "a.jsonl.meta.json").read_text())
    assert csv_side["outputs"] == {"csv": "a.csv"} and jsonl_side["outputs"] == {"jsonl": "a.jsonl"}
    assert csv_side["status"] == jsonl_side["status"] == "complete"
    assert window.export(str(tmp_path / "a.csv")) > 0  # the CSV again: its own sidecar is replaced, not a third
    assert sorted(p.name for p in tmp_path.glob("a.*")) == ["a.csv", "a.jsonl", "a.jsonl.meta.json", "a.meta.json"]
