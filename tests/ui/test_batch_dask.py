"""The batch queue on Dask (Preferences ▸ Batch queue ▸ Dask scheduler): `local` writes the in-process queue's
files and rows through `corpus.run_corpus` (a LocalCluster of 1 worker process with the tiny model and MTCNN); an
unreachable scheduler is one error line and the window goes on; closing during a run asks, then stops it like
Cancel and Resume finishes it from its partial; without `distributed` the field is disabled with the install
command; the setting persists; both modes name outputs `<output folder>/<clip stem>.csv`."""

from __future__ import annotations

import csv
import re
import socket

import pytest

from fixtures.clips import face_frames, write_clip
from gazenet_app.core.errors import DependencyError
from gazenet_app.ui.backend import PipelineBackend, WorkerOptions
from gazenet_app.ui.settings import AppSettings


def _rows(path):
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.reader(fh))


def _run(qtbot, batch, out_dir, timeout_ms: int, resume: bool = False) -> str:
    """Start (or Resume) the queue into `out_dir` and wait for its 'finished' status line."""
    batch.out_edit.setText(str(out_dir))
    with qtbot.waitSignal(batch.status_changed, timeout=timeout_ms,
                          check_params_cb=lambda text: text.startswith("finished")) as blocker:
        batch.start(resume=resume)
    return blocker.args[0]


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def two_face_clips(tmp_path, faces_dir):
    """clips/a.avi (6 frames) and clips/b.avi (8 frames) of the two drifting real faces."""
    frames, _ = face_frames(faces_dir, n=8)
    folder = tmp_path / "clips"
    folder.mkdir()
    return [write_clip(folder / "a.avi", frames[:6]), write_clip(folder / "b.avi", frames)]


@pytest.mark.slow
def test_local_dask_batch_writes_the_in_process_files_and_rows(qtbot, qsettings, two_face_clips, tiny_pose_model,
                                                               tmp_path):
    pytest.importorskip("distributed")
    from gazenet_app.ui.batch import BatchWindow

    settings = AppSettings(qsettings)
    options = WorkerOptions(model=str(tiny_pose_model), realtime=False)  # MTCNN, the detector's default preset
    batch = BatchWindow(PipelineBackend(), lambda: options, settings)
    qtbot.addWidget(batch)
    batch.add_paths([str(two_face_clips[0].parent)])
    status = _run(qtbot, batch, tmp_path / "in-process", 60000)
    assert status == "finished: 2 of 2 file(s) annotated" and "in this process" in batch.engine_label.text()

    settings.set_batch_preferences({"dask_scheduler": "local", "dask_workers": 1})
    status = _run(qtbot, batch, tmp_path / "dask", 120000)
    assert status == "finished: 2 of 2 file(s) annotated", status
    assert "1 worker processes" in batch.engine_label.text() and "2 complete" in batch.engine_label.text()
    assert [s for _, s, _ in sorted(batch.results)] == ["done", "done"] and batch.total_bar.value() == 2
    assert batch.file_bar.value() == batch.file_bar.maximum() == 14  # the frames of both clips
    rows = [batch.list.item(i).text() for i in range(2)]
    assert rows[0].startswith("a.avi — done: ") and rows[1].startswith("b.avi — done: "), rows
    for name in ("a", "b"):  # the same names and the same rows in both modes
        ours, theirs = _rows(tmp_path / "dask" / f"{name}.csv"), _rows(tmp_path / "in-process" / f"{name}.csv")
        assert len(ours) > 1 and ours == theirs
    summary = list(csv.DictReader(open(tmp_path / "dask" / "corpus.csv", newline="")))
    assert [(r["input"], r["status"]) for r in summary] == [("a", "complete"), ("b", "complete")]

    # Resume on Dask skips what is done, as the in-process queue does
    status = _run(qtbot, batch, tmp_path / "dask", 60000, resume=True)
    assert [s for _, s, _ in sorted(batch.results)] == ["skipped", "skipped"], status


@pytest.mark.slow
def test_closing_asks_then_stops_a_dask_batch_like_cancel_and_resume_finishes(qtbot, make_window, faces_dir,
                                                                             tiny_pose_model, tmp_path, monkeypatch):
    pytest.importorskip("distributed")
    from gazenet_app.ui.dialogs import FileDialogs

    answers = []
    monkeypatch.setattr(FileDialogs, "confirm", classmethod(lambda cls, parent, title, text: answers.pop(0)))
    frames, _ = face_frames(faces_dir, n=30)
    clip = write_clip(tmp_path / "long.avi", frames)  # the first progress event comes long before its end
    window = make_window()
    window.settings.set_batch_preferences({"dask_scheduler": "local", "dask_workers": 1})
    window.show_batch()
    batch = window.batch_window
    batch.options_provider = lambda: WorkerOptions(model=str(tiny_pose_model), realtime=False)
    batch.add_paths([str(clip)])
    batch.out_edit.setText(str(tmp_path / "out"))
    batch.start()
    def frames_done() -> int:
        found = re.search(r"annotating… (\d+) of 30 frames", batch.list.item(0).text())
        return int(found.group(1)) if found else 0

    qtbot.waitUntil(lambda: frames_done() >= 2, timeout=60000)
    answers.append(False)
    assert not window.close() and batch.is_running()
    answers.append(True)
    assert window.close()
    assert not batch.is_running() and not window.session.controller.is_running() and answers == []
    partial = tmp_path / "out" / "long.csv.partial"
    assert len(_rows(partial)) > 1 and not (tmp_path / "out" / "long.csv").exists()
    qtbot.waitUntil(lambda: [s for _, s, _ in batch.results] == ["cancelled"], timeout=5000)  # queued signals

    # the next session's Resume finishes the clip from its partial, on Dask again
    from gazenet_app.ui.batch import BatchWindow

    again = BatchWindow(PipelineBackend(), batch.options_provider, AppSettings(window.settings.q))
    qtbot.addWidget(again)
    again.add_paths([str(clip)])
    status = _run(qtbot, again, tmp_path / "out", 120000, resume=True)
    assert status == "finished: 1 of 1 file(s) annotated", status
    frames = sorted({int(r["frame"]) for r in csv.DictReader(open(tmp_path / "out" / "long.csv", newline=""))})
    assert frames == list(range(30)) and not partial.exists() and "30 frames annotated" not in again.engine_label.text()


def test_unreachable_scheduler_is_one_error_line_and_the_window_goes_on(qtbot, make_window, synthetic_clip,
                                                                        tmp_path):
    pytest.importorskip("distributed")
    window = make_window()
    address = f"tcp://127.0.0.1:{_closed_port()}"
    window.settings.set_batch_preferences({"dask_scheduler": address})
    window.show_batch()
    batch = window.batch_window
    assert address in batch.engine_label.text()
    batch.add_paths([str(synthetic_clip.path)])
    status = _run(qtbot, batch, tmp_path / "out", 60000)
    errors = window.session.errors
    assert len(errors) == 1 and "\n" not in errors[0], errors
    assert errors[0].startswith(f"cannot reach the Dask scheduler at {address}")
    assert window.session.notice == (errors[0], "error") and errors[0] in status
    assert batch.start_button.isEnabled() and not batch.cancel_button.isEnabled()
    window.open_source(str(synthetic_clip.path))  # the app still works
    qtbot.waitUntil(lambda: window.session.frames_received > 0, timeout=20000)


def test_without_distributed_the_field_is_disabled_with_the_install_command(qtbot, qsettings, fake_backend,
                                                                           synthetic_clip, tmp_path, monkeypatch):
    from gazenet_app.corpus import cluster
    from gazenet_app.ui.batch import BatchWindow
    from gazenet_app.ui.dialogs import PreferencesDialog

    def missing():
        raise DependencyError(f"annotate-corpus needs Dask: {cluster.INSTALL_HINT}")

    monkeypatch.setattr(cluster, "import_distributed", missing)
    dialog = PreferencesDialog({"dask_scheduler": "local", "dask_workers": 2}, ["accurate"], None)
    qtbot.addWidget(dialog)
    for field in (dialog.dask_scheduler, dialog.dask_workers):
        assert not field.isEnabled() and cluster.INSTALL_HINT in field.toolTip()
    assert dialog.values()["dask_scheduler"] == "local" and dialog.values()["dask_workers"] == 2  # kept as saved
    # a setting saved before the extra was removed: Start says what to install, in one line
    settings = AppSettings(qsettings)
    settings.set_batch_preferences({"dask_scheduler": "local"})
    batch = BatchWindow(fake_backend, lambda: WorkerOptions(detector="fake"), settings)
    qtbot.addWidget(batch)
    batch.add_paths([str(synthetic_clip.path)])
    batch.out_edit.setText(str(tmp_path / "out"))
    with qtbot.waitSignal(batch.failed, timeout=5000) as failed:
        batch.start()
    assert cluster.INSTALL_HINT in failed.args[0] and "\n" not in failed.args[0] and not batch.is_running()


def test_the_dask_setting_is_saved_apart_from_the_worker_options(qtbot, make_window, qsettings, monkeypatch):
    from gazenet_app.ui.dialogs import PreferencesDialog

    monkeypatch.setattr(PreferencesDialog, "ask", classmethod(
        lambda cls, parent, options, presets: {"dask_scheduler": "local", "dask_workers": 3, "detect_every": 2}))
    window = make_window()
    window.show_batch()
    window.act_prefs.trigger()
    qtbot.waitUntil(lambda: window.session.state.options["detect_every"] == 2)
    assert AppSettings(qsettings).batch_preferences() == {"dask_scheduler": "local", "dask_workers": 3}
    assert "dask_scheduler" not in window.session.state.options and not window.session.errors
    assert "local Dask cluster" in window.batch_window.engine_label.text()


def test_two_clips_with_one_name_are_refused_before_anything_runs(qtbot, make_window, synthetic_clip, tmp_path):
    import shutil

    for folder in ("x", "y"):
        (tmp_path / folder).mkdir()
        shutil.copy(synthetic_clip.path, tmp_path / folder / "clip.avi")
    window = make_window()
    window.show_batch()
    batch = window.batch_window
    batch.add_paths([str(tmp_path / "x" / "clip.avi"), str(tmp_path / "y" / "clip.avi")])
    batch.out_edit.setText(str(tmp_path / "out"))
    with qtbot.waitSignal(batch.failed, timeout=5000) as failed:
        batch.start()
    assert "would both write" in failed.args[0] and window.session.errors == [failed.args[0]]
    assert not batch.is_running() and not (tmp_path / "out").exists()
