"""The main window on a generated clip: frames, overlays, timelines, export, model/detector switching, errors."""

from __future__ import annotations

import csv

import numpy as np
import pytest
from PySide6.QtCore import Qt

from gazenet_app.core.results import CSV_COLUMNS


def _play_to_end(qtbot, window, spec, timeout=20000):
    with qtbot.waitSignal(window.controller.events.end_of_stream, timeout=timeout) as blocker:
        window.open_source(str(spec))
    return blocker.args[0]


def test_video_frames_overlays_timelines_export(qtbot, make_window, synthetic_clip, tmp_path):
    window = make_window()
    reason = _play_to_end(qtbot, window, synthetic_clip.path)
    assert reason == ""
    qtbot.waitUntil(lambda: window.session.frames_received == synthetic_clip.frames)
    # every frame's result arrived, in order, with the fake detector's two faces
    indices = sorted(i for _, i in window.session.results)
    assert indices == list(range(synthetic_clip.frames))
    assert all(len(r.faces) == 2 for r in window.session.results.values())
    # overlays are drawn: the shown image differs from the raw frame where the boxes are
    qtbot.waitUntil(lambda: window.view.image() is not None)
    image = window.view.image()
    assert (image.width(), image.height()) == synthetic_clip.size
    # one timeline point per frame per face
    window.timeline.redraw()
    assert window.timeline.face_ids() == sorted({f.face_id for r in window.session.results.values() for f in r.faces})
    for face_id in window.timeline.face_ids():
        series = window.timeline.series(face_id)
        assert len(series) == synthetic_clip.frames
        assert np.all(np.isfinite(series[:, 2:]))
    # export writes one row per face per frame, the CLI's columns, and a sidecar
    out = tmp_path / "export.csv"
    rows = window.export(str(out))
    assert rows == 2 * synthetic_clip.frames
    with open(out, newline="") as fh:
        reader = csv.DictReader(fh)
        assert tuple(reader.fieldnames) == CSV_COLUMNS
        got = list(reader)
    assert len(got) == rows
    assert [int(r["frame"]) for r in got[::2]] == list(range(synthetic_clip.frames))
    assert (tmp_path / "export.meta.json").exists()
    assert window.session.errors == []


def test_overlay_pixels_come_from_core_draw(qtbot, make_window, synthetic_clip):
    from fixtures.clips import synthetic_frames
    window = make_window()
    with qtbot.waitSignal(window.controller.events.image_ready, timeout=10000):
        window.controller.open_source(str(synthetic_clip.path), play=False)
    qtbot.waitUntil(lambda: window.view.image() is not None)
    image = window.view.image()
    shown = np.array([[image.pixelColor(x, y).getRgb()[:3] for x in range(image.width())]
                      for y in range(0, image.height(), 4)], dtype=np.int16)
    raw = synthetic_frames(1)[0][::4].astype(np.int16)
    changed = np.abs(shown - raw).max(axis=2) > 60
    assert changed.sum() > 50  # boxes/axes/labels were drawn over the frame
    assert changed.mean() < 0.5  # ... not a different picture


def test_step_and_seek(qtbot, make_window, synthetic_clip):
    window = make_window()
    with qtbot.waitSignal(window.controller.events.frame_processed, timeout=10000) as first:
        window.controller.open_source(str(synthetic_clip.path), play=False)
    assert first.args[0].index == 0
    with qtbot.waitSignal(window.controller.events.frame_processed, timeout=10000) as step:
        window.controller.step()
    assert step.args[0].index == 1
    with qtbot.waitSignal(window.controller.events.frame_processed, timeout=10000) as seek:
        window.controller.seek(20)
    assert seek.args[0].index == 20
    # clicking the timeline asks for a seek to the nearest stored frame
    window.timeline.redraw()
    with qtbot.waitSignal(window.controller.events.frame_processed, timeout=10000) as click:
        window.timeline.seek_requested.emit(window.timeline.frame_at(1.2))
    assert click.args[0].index == 1


@pytest.mark.slow
def test_real_layers_switch_detector_and_model_while_playing(qtbot, qsettings, face_clip, tiny_pose_model,
                                                             tmp_path):
    """The real backend: MTCNN + a tiny Gluon model, then Haar cascade and a broken weights file mid-clip."""
    from gazenet_app.ui.backend import WorkerOptions
    from gazenet_app.ui.main_window import MainWindow
    window = MainWindow(options=WorkerOptions(realtime=True, model=str(tiny_pose_model)), settings=qsettings)
    qtbot.addWidget(window)
    try:
        qtbot.waitUntil(lambda: window.session.state is not None, timeout=60000)
        assert window.session.state.model == tiny_pose_model.stem
        assert {"mtcnn", "cascade"} <= set(window.session.catalog["detectors"])
        with qtbot.waitSignal(window.controller.events.frame_processed, timeout=30000,
                              check_params_cb=lambda r: len(r.faces) > 0) as got:
            window.open_source(str(face_clip.path))
        assert got.args[0].faces[0].pose is not None
        with qtbot.waitSignal(window.controller.events.state_changed, timeout=30000,
                              check_params_cb=lambda s: s.detector == "cascade"):
            window.set_option("detector", "cascade")
        broken = tmp_path / "broken.params"
        broken.write_bytes(b"junk" * 100)
        with qtbot.waitSignal(window.controller.events.failed, timeout=30000) as failed:
            window.set_model(str(broken))
        assert "still " + tiny_pose_model.stem in failed.args[0]
        window.controller.set_options(realtime=False)
        qtbot.waitUntil(lambda: window.session.ended_reason is not None, timeout=120000)
        assert window.session.ended_reason == ""
        assert window.session.state.model == tiny_pose_model.stem
        assert len(window.session.errors) == 1
    finally:
        assert window.shutdown()


def _paused_on(qtbot, window, clip, index):
    with qtbot.waitSignal(window.controller.events.frame_processed, timeout=10000):
        window.controller.open_source(str(clip.path), play=False)
    with qtbot.waitSignal(window.controller.events.frame_processed, timeout=10000,
                          check_params_cb=lambda r: r.index == index):
        window.controller.seek(index)


def test_one_frame_numbering_everywhere(qtbot, make_window, synthetic_clip, tmp_path):
    """Defect 2: after a seek to frame 20 the label, the timeline cursor and the CSV all say 20."""
    window = make_window()
    _paused_on(qtbot, window, synthetic_clip, 20)
    qtbot.waitUntil(lambda: window.transport.label.text().startswith("frame 20 of 0–29"))
    window.timeline.redraw()
    assert window.timeline._cursors[0].value() == 20
    assert window.transport.slider.value() == 20
    out = tmp_path / "f.csv"
    window.export(str(out))
    with open(out, newline="") as fh:
        assert {int(r["frame"]) for r in csv.DictReader(fh)} == {0, 20}


def test_transport_keys_step_back_home_end(qtbot, make_window, synthetic_clip):
    """Defect 8: Left/',' step back, Right/'.' forward, Home/End jump; F11, F1 and Ctrl+, are bound."""
    from PySide6.QtGui import QKeySequence
    window = make_window()
    assert [k.toString() for k in window.act_step_back.shortcuts()] == ["Left", ","]
    assert [k.toString() for k in window.act_step.shortcuts()] == ["Right", "."]
    assert window.act_fullscreen.shortcut() == QKeySequence("F11")
    assert window.act_help.shortcut() == QKeySequence("F1")
    assert window.act_prefs.shortcut() == QKeySequence("Ctrl+,")  # StandardKey.Preferences is empty on Linux
    _paused_on(qtbot, window, synthetic_clip, 20)
    for action, expected in ((window.act_step_back, 19), (window.act_step, 20), (window.act_first, 0),
                             (window.act_last, synthetic_clip.frames - 1)):
        with qtbot.waitSignal(window.controller.events.frame_processed, timeout=10000) as got:
            action.trigger()
        assert got.args[0].index == expected


def test_help_fullscreen_faces_panel_and_copy(qtbot, make_window, synthetic_clip, monkeypatch):
    """Defect 8: F1 lists the shortcuts, F11 goes full screen, the Faces panel hides, its rows copy."""
    from PySide6.QtGui import QGuiApplication
    from gazenet_app.ui.dialogs import AboutDialog
    shown = []
    monkeypatch.setattr(AboutDialog, "show_about", classmethod(lambda cls, parent, text, title="": shown.append(text)))
    window = make_window()
    window.show()
    window.act_help.trigger()
    assert "Space" in shown[0] and "F11" in shown[0] and "Ctrl+C" in shown[0]
    window.act_fullscreen.trigger()
    qtbot.waitUntil(lambda: window.isFullScreen())
    window.act_fullscreen.trigger()
    qtbot.waitUntil(lambda: not window.isFullScreen())
    toggle = window.act_faces
    assert toggle.isEnabled() and toggle.isChecked() and toggle.shortcut().toString() == "Ctrl+Shift+F"
    toggle.trigger()
    qtbot.waitUntil(lambda: not window.face_table.isVisible())
    toggle.trigger()
    _paused_on(qtbot, window, synthetic_clip, 3)
    qtbot.waitUntil(lambda: window.face_table.rowCount() == 2)
    window.face_table.selectRow(1)
    qtbot.keyClick(window.face_table, "c", modifier=Qt.KeyboardModifier.ControlModifier)
    lines = QGuiApplication.clipboard().text().splitlines()
    assert lines[0].split("\t") == ["face", "yaw°", "pitch°", "roll°", "score"]
    assert len(lines) == 2 and lines[1].startswith("#2\t")


def test_review_mode_status_and_stop(qtbot, make_window, synthetic_clip, tmp_path):
    """Defect 8: in review the status bar names the reviewed file's model and detector; Stop review ends it."""
    window = make_window()
    out = tmp_path / "ann.csv"
    with qtbot.waitSignal(window.controller.events.end_of_stream, timeout=20000):
        window.controller.open_source(str(synthetic_clip.path), record_to=str(out))
    with qtbot.waitSignal(window.session.state_changed, timeout=10000, check_params_cb=lambda s: not s.recording):
        window.controller.stop_recording()
    assert not window.act_stop_review.isEnabled()
    with qtbot.waitSignal(window.session.state_changed, timeout=10000, check_params_cb=lambda s: bool(s.review)):
        window.review(str(out))
    assert window.status_labels["model"].text() == "reviewing ann.csv: model fake-pose"
    assert window.status_labels["detector"].text() == "detector: fake"
    assert window.act_stop_review.isEnabled()
    with qtbot.waitSignal(window.session.state_changed, timeout=10000, check_params_cb=lambda s: not s.review):
        window.act_stop_review.trigger()
    assert window.status_labels["model"].text().startswith("model: fake-pose")


def test_about_formats_the_model_card():
    """Defect 8: About shows the card as sections: terms of use (research use), data, evaluation, citations."""
    import json
    from pathlib import Path
    from gazenet_app.ui.dialogs import about_html
    card = json.loads((Path(__file__).resolve().parents[2] / "models" / "hopenet_mnv2_96.json").read_text())
    text = about_html("1.0", card["name"], card, "Qt: LGPL", "/tmp/x.log")
    assert "Terms of use" in text and "research use" in text and "Citations" in text and "Ruiz" in text
    assert "Evaluation (degrees)" in text and "{'" not in text  # no raw dicts


@pytest.mark.parametrize("size", [(800, 600), (1024, 700)])
def test_small_windows_give_the_space_to_the_video(qtbot, make_window, synthetic_clip, size):
    """Defect 9: at small sizes the Faces panel stays narrow, combos show whole names, ids are short."""
    window = make_window()
    window.resize(*size)
    window.show()
    _paused_on(qtbot, window, synthetic_clip, 1)
    qtbot.waitUntil(lambda: window.face_table.rowCount() == 2)
    assert window.view.width() >= 0.9 * size[0]  # the Faces table sits beside the timelines, not the video
    assert not window.face_table.horizontalScrollBar().isVisible()
    for combo in (window.picker.model, window.picker.detector, window.picker.precision, window.transport.speed):
        assert combo.width() >= combo.sizeHint().width() or not combo.isVisible()
    assert window.face_table.item(0, 0).text() in ("#1", "#1*")
    table = window.face_table
    for col in range(table.columnCount()):  # no cell cut ("+11.…"), even for the widest angle text
        widest = table.fontMetrics().horizontalAdvance("+123.4")
        assert table.columnWidth(col) >= widest, (col, table.columnWidth(col), widest)


def test_first_window_fits_the_screen_and_record_is_a_red_dot(qtbot, make_window):
    from PySide6.QtGui import QGuiApplication
    window = make_window()
    free = QGuiApplication.primaryScreen().availableGeometry()
    assert window.width() <= free.width() and window.height() <= free.height()
    image = window.act_record.icon().pixmap(32, 32).toImage()
    r, g, b, _ = image.pixelColor(16, 16).getRgb()
    assert r > 180 and g < 80 and b < 80
