"""The main window on a generated clip: frames, overlays, timelines, export, model/detector switching, errors."""

from __future__ import annotations

import csv

import numpy as np
import pytest

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
