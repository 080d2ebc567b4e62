"""Widgets on their own: the ndarray->QImage conversion, the video view, the timelines (stress), settings."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtWidgets import QApplication

from gazenet_app.core.draw import draw_frame_result, face_color
from gazenet_app.core.types import FaceBox, FaceResult, FrameResult, HeadPose
from gazenet_app.ui.qimage import ndarray_to_qimage
from gazenet_app.ui.settings import MAX_RECENT, AppSettings
from gazenet_app.ui.timeline import SeriesBuffer, TimelineWidget
from gazenet_app.ui.video_view import VideoView


def test_qimage_rgb_grey_rgba_and_strided():
    rgb = np.zeros((5, 7, 3), np.uint8)
    rgb[1, 2] = (10, 20, 30)
    img = ndarray_to_qimage(rgb)
    assert (img.width(), img.height()) == (7, 5)
    assert img.pixelColor(2, 1).getRgb()[:3] == (10, 20, 30)
    grey = ndarray_to_qimage(np.full((4, 6), 77, np.uint8))
    assert grey.pixelColor(5, 3).getRgb()[:3] == (77, 77, 77)
    rgba = np.zeros((3, 3, 4), np.uint8)
    rgba[..., 3] = 255
    rgba[0, 0, :3] = (1, 2, 3)
    assert ndarray_to_qimage(rgba).pixelColor(0, 0).getRgb() == (1, 2, 3, 255)
    mirrored = rgb[:, ::-1]  # negative strides: converted, not misread
    assert ndarray_to_qimage(mirrored).pixelColor(4, 1).getRgb()[:3] == (10, 20, 30)


def test_qimage_copy_owns_pixels_and_view_borrows():
    rgb = np.zeros((4, 4, 3), np.uint8)
    owned = ndarray_to_qimage(rgb, copy=True)
    borrowed = ndarray_to_qimage(rgb, copy=False)
    rgb[0, 0] = (200, 100, 50)
    assert owned.pixelColor(0, 0).getRgb()[:3] == (0, 0, 0)
    assert borrowed.pixelColor(0, 0).getRgb()[:3] == (200, 100, 50)


@pytest.mark.parametrize("bad, err", [(np.zeros((4, 4, 3), np.float32), TypeError),
                                      (np.zeros((4, 4, 2), np.uint8), ValueError),
                                      (np.zeros((0, 4, 3), np.uint8), ValueError),
                                      (np.zeros((2, 4, 4, 3), np.uint8), ValueError),
                                      ([[1, 2]], TypeError)])
def test_qimage_rejects_bad_input(bad, err):
    with pytest.raises(err):
        ndarray_to_qimage(bad)


def test_video_view_keeps_aspect(qtbot):
    view = VideoView()
    qtbot.addWidget(view)
    view.resize(800, 400)
    assert view.image_rect().isEmpty()
    view.set_image(ndarray_to_qimage(np.zeros((240, 320, 3), np.uint8)))
    rect = view.image_rect()
    assert (rect.width(), rect.height()) == (533, 400)
    assert rect.x() == (800 - 533) // 2
    view.grab()  # paints without error


def test_series_buffer_ring_and_growth():
    ring = SeriesBuffer(16, bounded=True)
    for i in range(100):
        ring.append(i, i / 30, (i, -i, 0))
    view = ring.view()
    assert len(view) == 16 and view[0, 0] == 84 and view[-1, 0] == 99
    grow = SeriesBuffer(16, bounded=False)
    for i in range(100):
        grow.append(i, i / 30, (i, -i, 0))
    assert len(grow) == 100 and np.array_equal(grow.view()[:, 0], np.arange(100))
    grow.drop_frame(98)  # not the last frame: kept
    grow.drop_frame(99)
    assert len(grow) == 99 and grow.last_frame() == 98


def _result(i: int, n_faces: int, shape=(240, 320)) -> FrameResult:
    faces = []
    for k in range(n_faces):
        x = 20 + 90 * k
        pose = HeadPose(60 * np.sin(i / 30 + k), 30 * np.cos(i / 20), 10 * np.sin(i / 10))
        faces.append(FaceResult(k + 1, FaceBox(x, 60, x + 70, 140, 0.9), pose, pose))
    return FrameResult(i, i * 1000 / 30, "stress", tuple(faces), {"total": 1.0}, shape)


def test_timeline_gaps_and_colours(qtbot):
    tl = TimelineWidget()
    qtbot.addWidget(tl)
    tl.configure(live=False)
    tl.add_result(_result(0, 2))
    tl.add_result(_result(1, 1))  # face 2 missing: its line breaks
    tl.add_result(_result(2, 2))
    tl.redraw()
    s2 = tl.series(2)
    assert len(s2) == 3 and np.isnan(s2[1, 2]) and np.isfinite(s2[2, 2])
    pen = tl._curves[2][0].opts["pen"]
    assert pen.color().getRgb()[:3] == face_color(2)


def test_timeline_and_overlay_stress(qtbot):
    """Thousands of points through the plots and overlays (guards the PySide6 pin: 6.12.0 crashed here)."""
    tl = TimelineWidget(refresh_ms=1000)
    view = VideoView()
    qtbot.addWidget(tl)
    qtbot.addWidget(view)
    tl.resize(800, 300)
    view.resize(320, 240)
    tl.show()
    view.show()
    tl.configure(live=True, window=500)
    frame = np.full((240, 320, 3), 90, np.uint8)
    for i in range(1200):
        result = _result(i, 3)
        tl.add_result(result)
        if i % 25 == 0:
            view.set_image(ndarray_to_qimage(draw_frame_result(frame, result, show_cube=True)))
            tl.redraw()
            QApplication.processEvents()
    tl.redraw()
    assert tl.points_added == 3600
    assert all(len(tl.series(f)) == 500 for f in (1, 2, 3))
    assert tl.series(1)[-1, 1] == 1199
    tl.configure(live=False)
    for i in range(1000):
        tl.add_result(_result(i, 2))
    tl.redraw()
    tl.grab()
    view.grab()
    assert all(len(tl.series(f)) == 1000 for f in (1, 2))


def test_settings_recent_and_types(qsettings):
    s = AppSettings(qsettings)
    for i in range(MAX_RECENT + 3):
        s.add_recent(f"/clip{i}.avi")
    s.add_recent("/clip5.avi")
    recent = s.recent_files()
    assert recent[0] == "/clip5.avi" and len(recent) == MAX_RECENT and recent.count("/clip5.avi") == 1
    s.set("options/smoothing", True)
    s.set("options/detector_threshold", 0.8)
    s.sync()
    again = AppSettings(qsettings)
    assert again.get("options/smoothing", False, bool) is True
    assert again.get("options/detector_threshold", None, float) == pytest.approx(0.8)


def test_timeline_click_maps_to_the_nearest_frame(qtbot):
    from PySide6.QtCore import QPointF
    tl = TimelineWidget()
    qtbot.addWidget(tl)
    tl.resize(600, 300)
    tl.show()
    tl.configure(live=False)
    for i in range(0, 40, 2):
        tl.add_result(_result(i, 1))
    tl.redraw()
    QApplication.processEvents()
    plot = tl._plots[1]
    scene_pos = plot.vb.mapViewToScene(QPointF(13.2, 0.0))

    class Click:
        def scenePos(self):
            return scene_pos

    with qtbot.waitSignal(tl.seek_requested, timeout=2000) as sought:
        tl._on_click(Click())
    assert sought.args == [14]


def _clip_results(n: int, faces: int, fps: float = 15.0):
    for i in range(n):
        r = _result(i, faces)
        yield FrameResult(r.index, i * 1000 / fps, r.source, r.faces, r.timing, r.shape)


def test_timeline_unit_switch_redraws_the_same_points(qtbot):
    """Defect 1: switching to seconds keeps the data; a 10 s clip spans 0-10 s."""
    tl = TimelineWidget()
    qtbot.addWidget(tl)
    tl.resize(600, 300)
    tl.show()
    tl.configure(live=False)
    for r in _clip_results(150, 2):
        tl.add_result(r)
    tl.redraw()
    frames = tl.series(1).copy()
    tl.set_unit("s")
    seconds = tl.series(1)
    assert len(seconds) == 150 and np.array_equal(seconds[:, 1:], frames[:, 1:])
    assert seconds[0, 0] == 0 and seconds[-1, 0] == pytest.approx(149 / 15)
    curve_x, _ = tl._curves[1][0].getData()
    assert curve_x.max() == pytest.approx(149 / 15)
    tl._plots[0].vb.updateAutoRange()
    lo, hi = tl._plots[0].viewRange()[0]
    assert -1 < lo and hi < 11
    tl.set_unit("frame")
    assert tl.series(1)[-1, 0] == 149


def test_timeline_legend_lists_recent_faces_only(qtbot):
    """Defect 6: the legend sits outside the plots and names at most LEGEND_MAX recently seen faces."""
    tl = TimelineWidget()
    qtbot.addWidget(tl)
    tl.configure(live=False)
    for i in range(3):  # 52 faces at first ...
        tl.add_result(_result(i, 52))
    tl.redraw()
    assert len(tl.recent_faces()) == TimelineWidget.LEGEND_MAX
    assert "not seen lately" in tl.legend.text() and tl.legend.text().count("■") == TimelineWidget.LEGEND_MAX
    for i in range(3, 3 + TimelineWidget.RECENT_FRAMES + 5):  # ... then only two stay
        tl.add_result(_result(i, 2))
    tl.redraw()
    assert tl.recent_faces() == [1, 2] and tl.legend.text().count("■") == 2
    assert tl.legend.parent() is tl and tl._plots[0].legend is None  # not drawn over the curves


def test_timeline_single_image_markers_zoom_and_png(qtbot, tmp_path):
    """Defect 6: one frame shows as markers; the y axis zooms with the data; the plots export as PNG."""
    tl = TimelineWidget()
    qtbot.addWidget(tl)
    tl.resize(500, 300)
    tl.show()
    tl.configure(live=False)
    tl.add_result(_result(0, 1))
    tl.redraw()
    assert tl._curves[1][0].opts["symbol"] == "o"
    assert all(plot.vb.state["mouseEnabled"] == [True, True] for plot in tl._plots)
    for r in _clip_results(60, 1):
        tl.add_result(FrameResult(r.index, r.timestamp_ms, r.source, tuple(
            f.__class__(f.face_id, f.box, HeadPose(5 * np.sin(r.index / 5), 0, 0), f.pose_raw) for f in r.faces),
            r.timing, r.shape))
    tl.redraw()
    assert tl._curves[1][0].opts["symbol"] is None
    tl._plots[0].vb.updateAutoRange()
    lo, hi = tl._plots[0].viewRange()[1]
    assert hi - lo < 30  # +-5 degree moves fill the plot instead of a fixed +-99
    out = tmp_path / "plots.png"
    assert tl.save_png(str(out)) and out.stat().st_size > 1000
    assert tl._plots[0].ctrlMenu is not None and tl._plots[0].vb.menuEnabled()  # the context menu exports


def test_angles_never_read_minus_zero_and_frames_from_zero():
    from gazenet_app.ui.panels import format_angle, frame_label
    assert format_angle(-0.04) == "0.0" and format_angle(-0.06) == "-0.1" and format_angle(12.34) == "+12.3"
    assert frame_label(20, 20 / 25, 250, 25.0).startswith("frame 20 of 0–249")
    assert frame_label(7, 1.0, None, None).startswith("frame 7")


def test_qt_and_opencv_messages_stay_off_the_terminal(qtbot, tmp_path, caplog):
    """Defect 12: Qt's warnings go to the log; OpenCV's camera probing prints nothing."""
    import logging
    import subprocess
    import sys
    from pathlib import Path

    from PySide6.QtCore import qInstallMessageHandler, qWarning

    from gazenet_app.ui.logs import route_qt_messages
    previous = route_qt_messages()
    try:
        with caplog.at_level(logging.WARNING, logger="qt"):
            qWarning("QObject::connect(QStyleHints, QStyleHints): test")
    finally:
        qInstallMessageHandler(previous)
    assert any("QStyleHints" in r.getMessage() for r in caplog.records)
    root = Path(__file__).resolve().parents[2]
    code = ("from gazenet_app.ui.logs import quiet_native_logs; quiet_native_logs(); import cv2; "
            "cv2.VideoCapture(7).release()")
    proc = subprocess.run([sys.executable, "-c", code], cwd=str(root), capture_output=True, text=True, timeout=60,
                          env={"PYTHONPATH": str(root), "PATH": "/usr/bin:/bin", "QT_QPA_PLATFORM": "offscreen"})
    assert proc.returncode == 0 and "WARN" not in proc.stderr and "obsensor" not in proc.stderr, proc.stderr
