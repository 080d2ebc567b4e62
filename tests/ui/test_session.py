"""Issue 18's defects seen through the Session and its workers: precision, stale display, real-time skipping,
the batch queue (close, cancel, resume), detectors that cannot run."""

from __future__ import annotations

import csv
import shutil
import threading
import time

import pytest

from gazenet_app.ui.backend import PipelineBackend, WorkerOptions
from gazenet_app.ui.worker import ModelStatus

from .conftest import FakeBackend


def _rows(path):
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))


def test_precision_is_shown_and_chosen(qtbot, make_window):
    """Defect 4: the precision picked is the one loaded, and the picker and status bar say which."""
    window = make_window()
    picker, session = window.picker, window.session
    assert session.state.precision == "int8" and picker.precision.currentText() == "auto (int8)"
    assert [picker.precision.itemData(i) for i in range(picker.precision.count())] == ["auto", "fp32", "fused",
                                                                                      "int8"]
    with qtbot.waitSignal(session.state_changed, timeout=10000, check_params_cb=lambda s: s.precision == "fp32"):
        picker.precision.activated.emit(picker.precision.findData("fp32"))
    assert picker.precision.currentData() == "fp32" and "(fp32)" in window.status_labels["model"].text()
    with qtbot.waitSignal(session.state_changed, timeout=10000, check_params_cb=lambda s: s.model == "other-pose"):
        picker.model.activated.emit(picker.model.findData("other-pose"))
    assert session.state.precision == "fp32" and picker.model.currentData() == "other-pose"  # no jump back
    assert session.backend.loaded[-1] == ("other-pose", "fp32")


def test_detector_change_on_a_still_image_updates_the_shown_result(qtbot, make_window, tmp_path):
    """Defect 5: paused on an image, a new detector (or none) re-processes it: table and overlay follow."""
    from fixtures.clips import synthetic_frames
    from gazenet_app.core.video import write_image
    image = write_image(tmp_path / "still.png", synthetic_frames(1)[0])
    from fixtures.fakes import code_boxes
    boxes = {"current": 2}
    backend = FakeBackend(detector_boxes=lambda rgb: code_boxes(rgb)[: boxes["current"]])
    window = make_window(backend=backend)
    with qtbot.waitSignal(window.session.ended, timeout=10000):
        window.open_source(str(image))
    qtbot.waitUntil(lambda: window.face_table.rowCount() == 2)
    boxes["current"] = 1
    with qtbot.waitSignal(window.session.result_added, timeout=10000) as again:
        window.picker.detector.activated.emit(window.picker.detector.findData("fake2"))
    assert len(again.args[0].faces) == 1 and again.args[0].index == 0
    qtbot.waitUntil(lambda: window.face_table.rowCount() == 1)
    with qtbot.waitSignal(window.session.result_added, timeout=10000) as unloaded:
        window.picker.model.activated.emit(window.picker.model.findData(""))
    assert all(f.pose is None for f in unloaded.args[0].faces)
    qtbot.waitUntil(lambda: window.face_table.item(0, 1).text() == "—")
    window.timeline.redraw()
    assert len(window.timeline.series(1)) == 1  # the same frame replaced its point, not added one


def test_error_banner_clears_when_a_later_load_succeeds(qtbot, make_window, tmp_path):
    """Defect 5: a red 'could not load' banner goes once another model loads; the picker shows the truth."""
    window = make_window()
    broken = tmp_path / "broken.params"
    broken.write_bytes(b"junk")
    with qtbot.waitSignal(window.session.events.failed, timeout=10000):
        window.set_model(str(broken))
    qtbot.waitUntil(lambda: window.banner.isVisibleTo(window) and window.banner.kind == "error")
    assert window.picker.model.currentData() == "fake-pose"
    with qtbot.waitSignal(window.session.state_changed, timeout=10000,
                          check_params_cb=lambda s: s.model == "other-pose"):
        window.set_model("other-pose")
    assert window.banner.kind == "" and not window.banner.isVisibleTo(window)


def test_only_detectors_that_can_run_are_offered(monkeypatch):
    """Defect 5: a detector without installed weights is not listed."""
    from gazenet_app.core.errors import ModelNotFoundError
    backend = PipelineBackend()

    def make_detector(name, preset, threshold):
        if name == "ssh":
            raise ModelNotFoundError("no trained SSH detector is installed")
        return object()

    monkeypatch.setattr(backend, "make_detector", make_detector)
    detectors = backend.catalog()["detectors"]
    assert "ssh" not in detectors and {"mtcnn", "cascade"} <= set(detectors)


def test_a_saved_detector_that_cannot_run_is_replaced_and_not_saved_again(qtbot, make_window, qsettings):
    """Defect 5: the saved 'ssh' falls back to the default with a message in user words; the fallback is saved."""
    from gazenet_app.ui.main_window import MainWindow
    qsettings.setValue("options/detector", "gone")
    window = MainWindow(backend=FakeBackend(), settings=qsettings, start=False,
                        overrides={"realtime": False})
    qtbot.addWidget(window)
    failures = []
    window.session.events.failed.connect(failures.append)
    window.session.start()
    try:
        qtbot.waitUntil(lambda: window.session.state is not None and len(failures) == 2, timeout=10000)
        # the fake backend has no mtcnn either: the default cannot run, so there is no detector at all
        assert "'gone' chosen last time is not installed on this computer; using mtcnn" in failures[0]
        assert "cannot run on this computer: frames are shown without faces" in failures[1]
        assert not any("model=" in f for f in failures)
        assert window.session.state.detector is None
        assert window.picker.detector.currentText() == "none"
        assert window.status_labels["detector"].text() == "detector: none"
        assert qsettings.value("options/detector") == "gone"  # a detector that never ran is not saved
    finally:
        assert window.shutdown()


def test_no_model_notice_is_a_typed_state(qtbot, make_window):
    window = make_window(backend=FakeBackend(models=(), default=None))
    assert window.session.state.model_status is ModelStatus.NONE_INSTALLED
    qtbot.waitUntil(lambda: window.banner.kind == "notice")


class _SlowDetectorBackend(FakeBackend):
    """Every detection takes `delay` seconds (processing slower than the clip)."""

    def __init__(self, delay: float, **kw) -> None:
        super().__init__(**kw)
        self.delay = delay

    def make_detector(self, name, preset, threshold):
        det = super().make_detector(name, preset, threshold)
        inner = det.boxes_for

        def slow(rgb):
            time.sleep(self.delay)  # the work being slow, not the test waiting
            return inner(rgb)

        det.boxes_for = slow
        return det


def test_real_time_skips_frames_when_processing_is_slower(qtbot, make_window, synthetic_clip):
    """Defect 7: 'Real time' keeps the clip's speed by skipping frames, and the status bar says so."""
    backend = _SlowDetectorBackend(delay=2.0 / synthetic_clip.fps)  # two frame periods per frame
    window = make_window(backend=backend, options=WorkerOptions(detector="fake", realtime=True))
    messages = []
    window.session.status_message.connect(lambda text, ms: messages.append(text))
    t0 = time.monotonic()
    with qtbot.waitSignal(window.session.ended, timeout=20000):
        window.open_source(str(synthetic_clip.path))
    elapsed = time.monotonic() - t0
    clip_s = synthetic_clip.frames / synthetic_clip.fps
    assert window.session.frames_received < synthetic_clip.frames * 0.75
    assert elapsed < clip_s * 1.5  # in slow motion it would take twice the clip's length
    assert any("frames skipped" in m for m in messages)
    assert window.transport.speed.currentText() == "Real time"


def _batch_clips(tmp_path, clip, n=2):
    folder = tmp_path / "clips"
    folder.mkdir()
    for i in range(n):
        shutil.copy(clip.path, folder / f"c{i}.avi")
    return folder


def test_batch_cancel_counts_nothing_done_and_resume_finishes(qtbot, make_window, synthetic_clip, tmp_path):
    """Defect 3: a cancel with 0 of 2 done leaves Overall at 0; Resume finishes the partial file and the rest."""
    gate = threading.Event()
    backend = _SlowDetectorBackend(delay=0.01)
    window = make_window(backend=backend)
    window.show_batch()
    batch = window.batch_window
    batch.add_paths([str(_batch_clips(tmp_path, synthetic_clip))])
    batch.out_edit.setText(str(tmp_path / "out"))
    progressed = []

    def cancel_after_five(i, done, total):
        progressed.append(done)
        if done == 5 and not gate.is_set():
            gate.set()
            batch.cancel()

    with qtbot.waitSignal(batch.status_changed, timeout=20000, check_params_cb=lambda t: t.startswith("finished")):
        batch.start()
        batch.ctl.events.progress.connect(cancel_after_five)
    assert [s for _, s, _ in batch.results] == ["cancelled", "cancelled"]
    assert batch.total_bar.value() == 0
    assert (tmp_path / "out" / "c0.csv.partial").exists() and not (tmp_path / "out" / "c0.csv").exists()
    with qtbot.waitSignal(batch.status_changed, timeout=20000, check_params_cb=lambda t: t.startswith("finished")):
        batch.resume_button.click()
    assert [s for _, s, _ in batch.results] == ["done", "done"]
    assert batch.total_bar.value() == 2
    for name in ("c0", "c1"):
        frames = sorted({int(r["frame"]) for r in _rows(tmp_path / "out" / f"{name}.csv")})
        assert frames == list(range(synthetic_clip.frames))


def test_closing_during_a_batch_asks_then_stops_at_once(qtbot, make_window, synthetic_clip, tmp_path,
                                                        monkeypatch):
    """Defect 3: closing asks first; 'No' keeps everything running, 'Yes' stops like Cancel (no 10 s freeze)."""
    from gazenet_app.ui.dialogs import FileDialogs
    answers = []
    monkeypatch.setattr(FileDialogs, "confirm", classmethod(lambda cls, parent, title, text: answers.pop(0)))
    window = make_window(backend=_SlowDetectorBackend(delay=0.05))
    window.show_batch()
    batch = window.batch_window
    batch.add_paths([str(_batch_clips(tmp_path, synthetic_clip))])
    batch.out_edit.setText(str(tmp_path / "out"))
    with qtbot.waitSignal(batch.list.model().dataChanged, timeout=10000):
        batch.start()
    answers.append(False)
    assert not window.close() and batch.is_running() and window.session.controller.is_running()
    answers.append(True)
    t0 = time.monotonic()
    assert window.close()
    assert time.monotonic() - t0 < 2.0
    assert not batch.is_running() and not window.session.controller.is_running()
    assert answers == []


def test_closing_without_a_batch_does_not_ask(qtbot, make_window, monkeypatch):
    from gazenet_app.ui.dialogs import FileDialogs
    monkeypatch.setattr(FileDialogs, "confirm", classmethod(lambda cls, *a: pytest.fail("asked")))
    window = make_window()
    window.show_batch()
    assert window.close()


def test_cascade_warns_in_its_tooltip(qtbot):
    """Defect 11: the Haar cascade is offered with a warning (eyes and chins boxed, slow)."""
    from PySide6.QtCore import Qt
    from gazenet_app.ui.model_picker import ModelPicker
    from gazenet_app.ui.worker import WorkerState
    picker = ModelPicker()
    qtbot.addWidget(picker)
    picker.set_catalog({"models": [], "detectors": ["cascade", "mtcnn"], "gpus": 0})
    picker.set_state(WorkerState(None, {}, "cascade", "cpu", False, True, {"precision": "auto"}))
    tip = picker.detector.itemData(picker.detector.findData("cascade"), Qt.ItemDataRole.ToolTipRole)
    assert "comparison only" in tip and "eye" in tip and "1 s a frame" in tip
    assert picker.detector.toolTip() == tip and not picker.device.isVisible()


def test_sequence_toggle_reaches_the_pipeline(qtbot, make_window):
    """Issue 16: a folder of photos is independent images unless View > Treat a folder as one video is on."""
    window = make_window()
    assert not window.act_sequence.isChecked() and not window.session.worker.options.sequence
    with qtbot.waitSignal(window.session.state_changed, timeout=10000,
                          check_params_cb=lambda s: s.options["sequence"]):
        window.act_sequence.trigger()
    assert window.session.worker._pipeline.sequence  # the pipeline the worker runs is built with it
    assert window.settings.get("options/sequence", False, bool)


@pytest.mark.slow
def test_real_store_precision_of_a_copied_model(qtbot, tmp_path):
    """Defect 4 with the real loader: a copy of the shipped fp32 weights loads as fp32 when fp32 is chosen,
    named after the model chosen (not its int8 export), while auto says which export it picked."""
    from pathlib import Path

    from fixtures.workers import worker_controllers
    models = Path(__file__).resolve().parents[2] / "models"
    if not (models / "hopenet_mnv2_96_int8.json").exists():
        pytest.skip("the shipped model and its int8 export are needed")
    for suffix in (".json", ".params"):
        shutil.copy(models / f"hopenet_mnv2_96{suffix}", tmp_path / f"hopenet_mnv2_96{suffix}")
    copy = str(tmp_path / "hopenet_mnv2_96.params")
    gen = worker_controllers(qtbot, PipelineBackend, timeout=60000)
    start = next(gen)
    ctl = start(options=WorkerOptions(detector="cascade", model=copy, precision="fp32", realtime=False))
    with qtbot.waitSignal(ctl.events.state_changed, timeout=60000,
                          check_params_cb=lambda s: s.options["precision"] == "fp32") as got:
        ctl.set_options(smoothing=False)
    assert got.args[0].model == "hopenet_mnv2_96" and got.args[0].precision == "fp32"
    with qtbot.waitSignal(ctl.events.state_changed, timeout=60000,
                          check_params_cb=lambda s: s.options["precision"] == "auto") as auto:
        ctl.set_options(precision="auto")
    assert auto.args[0].model == "hopenet_mnv2_96" and auto.args[0].precision in ("int8", "fused", "fp32")
    with pytest.raises(StopIteration):
        next(gen)
