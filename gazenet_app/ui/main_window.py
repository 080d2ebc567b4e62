"""The main window: layout, menus, shortcuts and signal wiring. No pipeline logic lives here.

Everything heavy happens in the `PipelineWorker` thread; the window only sends commands (queued signals through
`WorkerController`) and shows what comes back: the newest image, every FrameResult (timelines, face table,
export), state and errors.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from dataclasses import replace
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence

from PySide6.QtCore import QSettings, Qt, QTimer, QUrl, Slot
from PySide6.QtGui import QAction, QActionGroup, QColor, QDesktopServices, QIcon, QKeySequence
from PySide6.QtWidgets import (QComboBox, QDockWidget, QFrame, QHBoxLayout, QHeaderView, QLabel, QMainWindow,
                               QSlider, QSplitter, QStyle, QTableWidget, QTableWidgetItem, QToolButton,
                               QVBoxLayout, QWidget)

from gazenet_app import __version__
from gazenet_app.core.draw import face_color
from gazenet_app.core.types import FrameResult
from gazenet_app.ui.backend import PipelineBackend, WorkerOptions
from gazenet_app.ui.dialogs import (AboutDialog, CameraChoice, CameraDialog, FileDialogs, PreferencesDialog,
                                    about_html)
from gazenet_app.ui.logs import log_file_path, resource_path, third_party_licences
from gazenet_app.ui.recording import export_results
from gazenet_app.ui.settings import AppSettings
from gazenet_app.ui.timeline import TimelineWidget
from gazenet_app.ui.video_view import VideoView
from gazenet_app.ui.worker import PipelineWorker, SourceInfo, WorkerController, WorkerState

__all__ = ["MainWindow", "classify_paths"]

log = logging.getLogger(__name__)

_VIDEO_EXT = {".avi", ".mp4", ".mov", ".mkv", ".webm", ".m4v", ".mpg", ".mpeg", ".wmv", ".flv", ".3gp", ".ts"}
_IMAGE_EXT = {".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp", ".ppm", ".pgm", ".jp2"}

# Option keys persisted in QSettings, with their types.
_PERSISTED = {"detector": str, "preset": str, "detector_threshold": float, "device": str, "smoothing": bool,
              "smooth_min_cutoff": float, "smooth_beta": float, "show_cube": bool, "show_text": bool,
              "realtime": bool, "detect_every": int}


def classify_paths(paths: Sequence[str]) -> Dict[str, List[str]]:
    """Split dropped/opened paths into folders, videos, images and annotation CSVs."""
    out: Dict[str, List[str]] = {"folders": [], "videos": [], "images": [], "csv": [], "other": []}
    for p in paths:
        path = Path(p)
        ext = path.suffix.lower()
        if path.is_dir():
            out["folders"].append(str(path))
        elif ext in _VIDEO_EXT:
            out["videos"].append(str(path))
        elif ext in _IMAGE_EXT:
            out["images"].append(str(path))
        elif ext == ".csv":
            out["csv"].append(str(path))
        else:
            out["other"].append(str(path))
    return out


def _fmt_time(seconds: float) -> str:
    seconds = max(0.0, seconds)
    m, s = divmod(seconds, 60.0)
    return f"{int(m):02d}:{s:05.2f}"


class Banner(QFrame):
    """A dismissable message strip above the video (errors in red, notices in amber)."""

    def __init__(self, parent: Optional[QWidget] = None) -> None:
        super().__init__(parent)
        self.label = QLabel()
        self.label.setWordWrap(True)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        close = QToolButton()
        close.setText("✕")
        close.setAutoRaise(True)
        close.clicked.connect(self.hide)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(10, 6, 6, 6)
        layout.addWidget(self.label, 1)
        layout.addWidget(close, 0, Qt.AlignmentFlag.AlignTop)
        self.kind = ""
        self.hide()

    def show_message(self, text: str, kind: str = "error") -> None:
        """Show `text`; kind 'error' or 'notice'."""
        self.kind = kind
        colors = {"error": ("#5c1f24", "#ffd7d9"), "notice": ("#4d3b0f", "#ffe9b0")}
        bg, fg = colors.get(kind, colors["notice"])
        self.setStyleSheet(f"Banner {{ background: {bg}; border-radius: 4px; }} QLabel {{ color: {fg}; }}")
        self.label.setText(text)
        self.show()

    def text(self) -> str:
        return self.label.text()


class MainWindow(QMainWindow):
    """gazenet's window: video view, transport, timelines, face table, menus and status bar."""

    def __init__(self, backend: Optional[PipelineBackend] = None, options: Optional[WorkerOptions] = None,
                 settings: Optional[QSettings] = None, start: bool = True,
                 overrides: Optional[Dict[str, Any]] = None) -> None:
        super().__init__()
        self.settings = AppSettings(settings)
        self.options = options or self._options_from_settings()
        if overrides:
            self.options = replace(self.options, **overrides)
        self.worker = PipelineWorker(backend, self.options)
        self.controller = WorkerController(self.worker, self)
        self.source_info: Optional[SourceInfo] = None
        self.state: Optional[WorkerState] = None
        self.catalog: Dict[str, Any] = {"models": [], "detectors": [], "presets": [], "gpus": 0}
        self.results: Dict[tuple, FrameResult] = {}  # (source, frame) -> result: everything processed
        self.frames_received = 0
        self.images_shown = 0
        self.errors: List[str] = []
        self.last_result: Optional[FrameResult] = None
        self.last_image_index = -1
        self.ended: Optional[str] = None
        self._arrivals: deque = deque(maxlen=60)
        self._camera: Optional[CameraChoice] = None
        self._mirror_from_camera = False
        self._closing = False
        self.batch_window = None

        self.setWindowTitle("gazenet")
        self.setAcceptDrops(True)
        icon = _app_icon()
        if icon is not None:
            self.setWindowIcon(icon)
        self._build_ui()
        self._build_actions()
        self._build_menus()
        self._connect_worker()
        geometry = self.settings.geometry()
        if geometry is not None:
            self.restoreGeometry(geometry)
        else:
            self.resize(1280, 860)
        self._ui_timer = QTimer(self)
        self._ui_timer.setInterval(150)
        self._ui_timer.timeout.connect(self._refresh_panels)
        self._ui_timer.start()
        if start:
            self.controller.start()

    # construction ---------------------------------------------------------------------------------------------
    def _options_from_settings(self) -> WorkerOptions:
        defaults = WorkerOptions()
        values = {}
        for key, kind in _PERSISTED.items():
            default = getattr(defaults, key)
            value = self.settings.get(f"options/{key}", default, kind)
            values[key] = value if value != "" else default
        model = self.settings.get("options/model", None, str)
        return WorkerOptions(model=model or None, **values)

    def _build_ui(self) -> None:
        self.view = VideoView()
        self.banner = Banner()

        self.play_button = QToolButton()
        self.play_button.setIcon(self.style().standardIcon(QStyle.StandardPixmap.SP_MediaPlay))
        self.play_button.setToolTip("Play / pause (Space)")
        self.play_button.clicked.connect(self.controller.toggle_play)
        self.step_button = QToolButton()
        self.step_button.setIcon(self.style().standardIcon(QStyle.StandardPixmap.SP_MediaSeekForward))
        self.step_button.setToolTip("Next frame (→)")
        self.step_button.clicked.connect(self.controller.step)
        self.seek_slider = QSlider(Qt.Orientation.Horizontal)
        self.seek_slider.setEnabled(False)
        self.seek_slider.sliderReleased.connect(lambda: self.controller.seek(self.seek_slider.value()))
        self.seek_slider.valueChanged.connect(self._on_slider_value)
        self.time_label = QLabel("--:--")
        self.time_label.setMinimumWidth(150)
        self.time_label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.speed_combo = QComboBox()
        self.speed_combo.addItem("Source speed", True)
        self.speed_combo.addItem("As fast as possible", False)
        self.speed_combo.setCurrentIndex(0 if self.options.realtime else 1)
        self.speed_combo.setToolTip("Play at the source's frame rate, or process every frame as fast as possible "
                                    "(annotating)")
        self.speed_combo.currentIndexChanged.connect(
            lambda _: self.set_option("realtime", bool(self.speed_combo.currentData())))

        transport = QHBoxLayout()
        transport.setContentsMargins(6, 2, 6, 2)
        transport.addWidget(self.play_button)
        transport.addWidget(self.step_button)
        transport.addWidget(self.seek_slider, 1)
        transport.addWidget(self.time_label)
        transport.addWidget(self.speed_combo)

        video_box = QWidget()
        vlayout = QVBoxLayout(video_box)
        vlayout.setContentsMargins(4, 4, 4, 0)
        vlayout.setSpacing(4)
        vlayout.addWidget(self.banner)
        vlayout.addWidget(self.view, 1)
        vlayout.addLayout(transport)

        self.timeline = TimelineWidget()
        self.timeline.seek_requested.connect(self.controller.seek)
        self.timeline.setMinimumHeight(220)

        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(video_box)
        splitter.addWidget(self.timeline)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 2)
        splitter.setChildrenCollapsible(False)
        self.setCentralWidget(splitter)
        self.splitter = splitter

        self.face_table = QTableWidget(0, 5)
        self.face_table.setHorizontalHeaderLabels(["face", "yaw", "pitch", "roll", "score"])
        self.face_table.verticalHeader().setVisible(False)
        self.face_table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.face_table.setSelectionMode(QTableWidget.SelectionMode.NoSelection)
        self.face_table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        dock = QDockWidget("Faces", self)
        dock.setObjectName("faces_dock")
        dock.setWidget(self.face_table)
        dock.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetMovable
                         | QDockWidget.DockWidgetFeature.DockWidgetFloatable)
        dock.setMinimumWidth(260)
        self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, dock)
        self.resizeDocks([dock], [300], Qt.Orientation.Horizontal)
        self.faces_dock = dock

        # model / detector pickers in a toolbar
        self.model_combo = QComboBox()
        self.model_combo.setMinimumContentsLength(18)
        self.model_combo.setToolTip("Pose model (registry); Model ▸ Load weights… for a file")
        self.model_combo.activated.connect(self._on_model_combo)
        self.detector_combo = QComboBox()
        self.detector_combo.setToolTip("Face detector")
        self.detector_combo.activated.connect(
            lambda _: self.set_option("detector", self.detector_combo.currentData()))

        bar = self.statusBar()
        self.status_labels: Dict[str, QLabel] = {}
        for key, tip in (("source", "Source"), ("model", "Pose model"), ("detector", "Face detector"),
                         ("device", "Device"), ("fps", "Frames per second processed"),
                         ("latency", "Pipeline time per frame")):
            label = QLabel("")
            label.setToolTip(tip)
            label.setContentsMargins(6, 0, 6, 0)
            bar.addPermanentWidget(label)
            self.status_labels[key] = label
        self.status_labels["source"].setText("no source")

    def _action(self, text: str, slot, shortcut=None, checkable: bool = False, tip: str = "") -> QAction:
        action = QAction(text, self)
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
        action.setCheckable(checkable)
        if tip:
            action.setStatusTip(tip)
        if checkable:
            action.toggled.connect(slot)
        else:
            action.triggered.connect(slot)
        self.addAction(action)  # shortcuts work even when the menu bar is hidden
        return action

    def _build_actions(self) -> None:
        a = self._action
        self.act_open = a("&Open…", self.ask_open, QKeySequence.StandardKey.Open,
                          tip="Open an image or a video")
        self.act_open_images = a("Open &image(s)…", self.ask_open_images)
        self.act_open_folder = a("Open &folder…", self.ask_open_folder)
        self.act_open_video = a("Open &video…", self.ask_open_video)
        self.act_webcam = a("&Webcam…", self.ask_webcam, "Ctrl+Shift+W")
        self.act_review = a("&Review annotations…", self.ask_review,
                            tip="Show an annotation CSV over its video (nothing recomputed)")
        self.act_quit = a("&Quit", self.close, QKeySequence.StandardKey.Quit)
        self.act_play = a("Play / pause", self.controller.toggle_play, Qt.Key.Key_Space)
        self.act_step = a("Next frame", self.controller.step, Qt.Key.Key_Right)
        self.act_export_csv = a("Export &CSV…", lambda: self.ask_export("csv"), "Ctrl+E")
        self.act_export_jsonl = a("Export &JSON Lines…", lambda: self.ask_export("jsonl"))
        self.act_export_video = a("Export annotated &video…", self.ask_export_video)
        self.act_screenshot = a("&Screenshot of the frame…", self.ask_screenshot, "Ctrl+Shift+S")
        self.act_record = a("&Record while playing", self.toggle_recording, "Ctrl+R", checkable=True,
                            tip="Write every processed frame's rows to a CSV as it plays")
        self.act_batch = a("&Batch annotate…", self.show_batch, "Ctrl+B")
        self.act_load_weights = a("&Load weights…", self.ask_load_weights, "Ctrl+L")
        self.act_smoothing = a("&Smoothing (One-Euro)", lambda on: self.set_option("smoothing", on),
                               checkable=True)
        self.act_smoothing.setChecked(self.options.smoothing)
        self.act_cube = a("Show &cube", lambda on: self.set_option("show_cube", on), checkable=True)
        self.act_cube.setChecked(self.options.show_cube)
        self.act_text = a("Show &numbers", lambda on: self.set_option("show_text", on), checkable=True)
        self.act_text.setChecked(self.options.show_text)
        self.act_mirror = a("&Mirror view", lambda on: self.set_option("mirror", on), checkable=True)
        self.act_seconds = a("Timeline in s&econds", self._on_unit, checkable=True)
        self.act_seconds.setChecked(self.settings.get("view/seconds", False, bool))
        self.act_prefs = a("&Preferences…", self.ask_preferences, QKeySequence.StandardKey.Preferences)
        self.act_about = a("&About gazenet", self.show_about)
        self.act_log = a("Open &log file", self.open_log)
        self.act_log_folder = a("Open log &folder", lambda: self.open_log(folder=True))

    def _build_menus(self) -> None:
        menu = self.menuBar()
        file_menu = menu.addMenu("&File")
        for act in (self.act_open, self.act_open_images, self.act_open_folder, self.act_open_video,
                    self.act_webcam):
            file_menu.addAction(act)
        self.recent_menu = file_menu.addMenu("Recent files")
        self._rebuild_recent()
        file_menu.addSeparator()
        file_menu.addAction(self.act_review)
        file_menu.addSeparator()
        file_menu.addAction(self.act_quit)

        play_menu = menu.addMenu("&Playback")
        play_menu.addAction(self.act_play)
        play_menu.addAction(self.act_step)

        export_menu = menu.addMenu("&Export")
        for act in (self.act_export_csv, self.act_export_jsonl, self.act_export_video, self.act_screenshot):
            export_menu.addAction(act)
        export_menu.addSeparator()
        export_menu.addAction(self.act_record)
        export_menu.addAction(self.act_batch)

        self.model_menu = menu.addMenu("&Model")
        self.model_group = QActionGroup(self)
        self.detector_menu = QActionGroup(self)
        self.device_group = QActionGroup(self)
        self._rebuild_model_menu()

        view_menu = menu.addMenu("&View")
        for act in (self.act_smoothing, self.act_cube, self.act_text, self.act_mirror, self.act_seconds):
            view_menu.addAction(act)
        view_menu.addSeparator()
        view_menu.addAction(self.faces_dock.toggleViewAction())
        view_menu.addSeparator()
        view_menu.addAction(self.act_prefs)

        help_menu = menu.addMenu("&Help")
        help_menu.addAction(self.act_about)
        help_menu.addAction(self.act_log)
        help_menu.addAction(self.act_log_folder)

        toolbar = self.addToolBar("Main")
        toolbar.setObjectName("main_toolbar")
        toolbar.setMovable(False)
        style = self.style()
        self.act_open.setIcon(style.standardIcon(QStyle.StandardPixmap.SP_DialogOpenButton))
        self.act_webcam.setIcon(style.standardIcon(QStyle.StandardPixmap.SP_ComputerIcon))
        self.act_record.setIcon(style.standardIcon(QStyle.StandardPixmap.SP_DialogSaveButton))
        toolbar.addAction(self.act_open)
        toolbar.addAction(self.act_webcam)
        toolbar.addSeparator()
        toolbar.addWidget(QLabel(" Model "))
        toolbar.addWidget(self.model_combo)
        toolbar.addWidget(QLabel("  Detector "))
        toolbar.addWidget(self.detector_combo)
        toolbar.addSeparator()
        toolbar.addAction(self.act_smoothing)
        toolbar.addAction(self.act_mirror)
        toolbar.addSeparator()
        toolbar.addAction(self.act_record)

    def _rebuild_recent(self) -> None:
        self.recent_menu.clear()
        recent = self.settings.recent_files()
        for path in recent:
            act = self.recent_menu.addAction(path)
            act.triggered.connect(lambda _=False, p=path: self.open_paths([p]))
        if recent:
            self.recent_menu.addSeparator()
            self.recent_menu.addAction("Clear", lambda: (self.settings.clear_recent(), self._rebuild_recent()))
        self.recent_menu.setEnabled(bool(recent))

    def _rebuild_model_menu(self) -> None:
        menu = self.model_menu
        menu.clear()
        for group in (self.model_group, self.detector_menu, self.device_group):
            for act in list(group.actions()):
                group.removeAction(act)
        active = self.state.model if self.state else None
        models = self.catalog.get("models", [])
        header = menu.addAction("Pose models" if models else "No pose model installed")
        header.setEnabled(False)
        self.model_combo.blockSignals(True)
        self.model_combo.clear()
        self.model_combo.addItem("none (detection only)", "")
        for m in models:
            bits = [str(x) for x in (m.get("backbone"), f"{m['input_size']}px" if m.get("input_size") else None)
                    if x]
            label = m["name"] + (f"  ({', '.join(bits)})" if bits else "")
            if m.get("eval"):
                label += f"  — {m['eval']}"
            act = menu.addAction(label)
            act.setCheckable(True)
            act.setChecked(m["name"] == active)
            act.triggered.connect(lambda _=False, n=m["name"]: self.set_model(n))
            self.model_group.addAction(act)
            self.model_combo.addItem(m["name"], m["name"])
            self.model_combo.setItemData(self.model_combo.count() - 1, label, Qt.ItemDataRole.ToolTipRole)
        if active and self.model_combo.findData(active) < 0:
            self.model_combo.addItem(Path(active).name, active)
        self.model_combo.setCurrentIndex(max(0, self.model_combo.findData(active or "")))
        self.model_combo.blockSignals(False)
        menu.addAction(self.act_load_weights)
        menu.addSeparator()
        det_menu = menu.addMenu("Detector")
        current_det = self.state.detector if self.state else self.options.detector
        self.detector_combo.blockSignals(True)
        self.detector_combo.clear()
        for name in self.catalog.get("detectors", []) or [self.options.detector]:
            act = det_menu.addAction(name)
            act.setCheckable(True)
            act.setChecked(name == current_det)
            act.triggered.connect(lambda _=False, n=name: self.set_option("detector", n))
            self.detector_menu.addAction(act)
            self.detector_combo.addItem(name, name)
        self.detector_combo.setCurrentIndex(max(0, self.detector_combo.findData(current_det)))
        self.detector_combo.blockSignals(False)
        dev_menu = menu.addMenu("Device")
        devices = ["cpu"] + [f"gpu:{i}" for i in range(int(self.catalog.get("gpus", 0) or 0))]
        current_dev = self.state.device if self.state else self.options.device
        for dev in devices:
            act = dev_menu.addAction(dev.upper())
            act.setCheckable(True)
            act.setChecked(dev == current_dev)
            act.triggered.connect(lambda _=False, d=dev: self.set_option("device", d))
            self.device_group.addAction(act)
        dev_menu.setEnabled(len(devices) > 1)

    def _connect_worker(self) -> None:
        w = self.worker
        w.source_opened.connect(self._on_source_opened)
        w.frame_processed.connect(self._on_frame_processed)
        w.image_ready.connect(self._on_image_ready)
        w.state_changed.connect(self._on_state_changed)
        w.catalog_ready.connect(self._on_catalog)
        w.playing_changed.connect(self._on_playing_changed)
        w.end_of_stream.connect(self._on_end_of_stream)
        w.message.connect(self._on_message)
        w.failed.connect(self._on_failed)

    # worker -> window ---------------------------------------------------------------------------------------
    @Slot(object)
    def _on_source_opened(self, info: SourceInfo) -> None:
        self.source_info = info
        self.results.clear()
        self.last_result = None
        self.ended = None
        self.frames_received = 0
        self._arrivals.clear()
        if self.banner.kind == "error":
            self.banner.hide()  # a new source: old errors no longer apply (the no-model notice stays)
        unit = "s" if self.act_seconds.isChecked() else "frame"
        window = int((info.fps or 30.0) * 20) if info.live else max(16, info.frame_count or 600)
        self.timeline.configure(live=info.live, unit=unit, window=window)
        n = info.frame_count or 0
        self.seek_slider.setEnabled(not info.live and n > 1)
        self.seek_slider.blockSignals(True)
        self.seek_slider.setRange(0, max(0, n - 1))
        self.seek_slider.setValue(0)
        self.seek_slider.blockSignals(False)
        self.step_button.setEnabled(True)
        self.setWindowTitle(f"{info.name} — gazenet")
        self.status_labels["source"].setText(f"{info.kind}: {info.name}")
        self._update_time_label(0, 0.0)

    @Slot(object)
    def _on_frame_processed(self, result: FrameResult) -> None:
        self.frames_received += 1
        self.results[(result.source, result.index)] = result
        self.last_result = result
        self.timeline.add_result(result)
        self._arrivals.append(time.monotonic())
        if not self.seek_slider.isSliderDown():
            self.seek_slider.blockSignals(True)
            self.seek_slider.setValue(result.index)
            self.seek_slider.blockSignals(False)

    @Slot()
    def _on_image_ready(self) -> None:
        item = self.worker.latest.take()
        if item is None:
            return
        index, image = item
        self.view.set_image(image)
        self.images_shown += 1
        self.last_image_index = index

    @Slot(object)
    def _on_state_changed(self, state: WorkerState) -> None:
        self.state = state
        self.status_labels["model"].setText(f"model: {state.model or 'none (detection only)'}")
        self.status_labels["detector"].setText(f"detector: {state.detector}")
        self.status_labels["device"].setText(state.device.upper())
        self.act_record.blockSignals(True)
        self.act_record.setChecked(state.recording is not None)
        self.act_record.blockSignals(False)
        self._rebuild_model_menu()

    @Slot(object)
    def _on_catalog(self, catalog: Dict[str, Any]) -> None:
        self.catalog = catalog
        self._rebuild_model_menu()

    @Slot(bool)
    def _on_playing_changed(self, playing: bool) -> None:
        icon = QStyle.StandardPixmap.SP_MediaPause if playing else QStyle.StandardPixmap.SP_MediaPlay
        self.play_button.setIcon(self.style().standardIcon(icon))

    @Slot(str)
    def _on_end_of_stream(self, reason: str) -> None:
        self.ended = reason
        if reason:
            self._on_failed(reason)
        else:
            self.statusBar().showMessage("end of the input", 5000)

    @Slot(str)
    def _on_message(self, text: str) -> None:
        log.info("%s", text)
        if text.startswith("No pose model installed"):
            self.banner.show_message(text, "notice")
        self.statusBar().showMessage(text.splitlines()[0], 8000)

    @Slot(str)
    def _on_failed(self, text: str) -> None:
        log.warning("%s", text)
        self.errors.append(text)
        self.banner.show_message(text, "error")
        self.statusBar().showMessage(text.splitlines()[0], 10000)

    # periodic panel refresh -----------------------------------------------------------------------------------
    def _refresh_panels(self) -> None:
        result = self.last_result
        if len(self._arrivals) >= 2:
            span = self._arrivals[-1] - self._arrivals[0]
            if span > 0 and time.monotonic() - self._arrivals[-1] < 2.0:
                self.status_labels["fps"].setText(f"{(len(self._arrivals) - 1) / span:5.1f} fps")
            else:
                self.status_labels["fps"].setText("")
        if result is None:
            return
        total = result.timing.get("total")
        if total is not None:
            parts = [f"{k} {v:.0f}" for k, v in result.timing.items() if k in ("detect", "pose")]
            self.status_labels["latency"].setText(f"{total:.0f} ms/frame" + (f" ({', '.join(parts)})"
                                                                          if parts else ""))
        self._update_time_label(result.index, result.timestamp_ms / 1000.0)
        self._fill_face_table(result)

    def _fill_face_table(self, result: FrameResult) -> None:
        table = self.face_table
        table.setRowCount(len(result.faces))
        for row, face in enumerate(sorted(result.faces, key=lambda f: f.face_id)):
            r, g, b = face_color(face.face_id)
            label = f"#{face.face_id}" + (" (tracked)" if face.tracked_only else "")
            values = [label]
            if face.pose is not None and face.pose_valid:
                values += [f"{face.pose.yaw:+.1f}°", f"{face.pose.pitch:+.1f}°", f"{face.pose.roll:+.1f}°"]
            else:
                values += ["—", "—", "—"]
            values.append(f"{face.box.score:.2f}")
            for col, text in enumerate(values):
                item = table.item(row, col)
                if item is None:
                    item = QTableWidgetItem()
                    table.setItem(row, col, item)
                item.setText(text)
                item.setTextAlignment(Qt.AlignmentFlag.AlignCenter)
                if col == 0:
                    item.setForeground(QColor(r, g, b))

    def _update_time_label(self, index: int, seconds: float) -> None:
        info = self.source_info
        if info is None:
            self.time_label.setText("--:--")
            return
        if info.live:
            self.time_label.setText(f"frame {index}  {_fmt_time(seconds)}")
            return
        n = info.frame_count or 0
        total = (n / info.fps) if info.fps else 0.0
        self.time_label.setText(f"{index + 1}/{n}  {_fmt_time(seconds)} / {_fmt_time(total)}")

    def _on_slider_value(self, value: int) -> None:
        # user clicks/keys on the slider (programmatic moves block signals; dragging seeks on release)
        if not self.seek_slider.isSliderDown():
            self.controller.seek(value)

    def _on_unit(self, seconds: bool) -> None:
        self.settings.set("view/seconds", seconds)
        self.timeline.set_unit("s" if seconds else "frame")

    # commands -------------------------------------------------------------------------------------------------
    def set_option(self, key: str, value: Any) -> None:
        """Send one option to the worker (applied between frames) and persist it."""
        if key in _PERSISTED:
            self.settings.set(f"options/{key}", value)
        self.controller.set_options(**{key: value})

    def ask_preferences(self) -> None:
        current = dict(self.state.options) if self.state else self.options.as_dict()
        changes = PreferencesDialog.ask(self, current, self.catalog.get("presets", []))
        if not changes:
            return
        for key, value in changes.items():
            if key in _PERSISTED:
                self.settings.set(f"options/{key}", value)
        if "smoothing" in changes:
            self.act_smoothing.blockSignals(True)
            self.act_smoothing.setChecked(bool(changes["smoothing"]))
            self.act_smoothing.blockSignals(False)
        self.controller.set_options(**changes)

    def set_model(self, name_or_path: Optional[str]) -> None:
        """Load a pose model by registry name or file; on failure the previous one stays active."""
        if not name_or_path:
            return
        self.statusBar().showMessage(f"loading model {name_or_path}…")
        self.controller.set_options(model=name_or_path)

    def _on_model_combo(self, index: int) -> None:
        name = self.model_combo.itemData(index)
        if name:
            self.set_model(name)
            self.settings.set("options/model", name)
        elif self.state is not None and self.state.model:
            self.controller.set_options(model="")  # detection only
            self.settings.set("options/model", None)

    def _prepare_for(self, camera: bool) -> None:
        """Webcams get the detector's 'live' preset unless the user picked one; the camera's mirroring ends with it."""
        if not self.settings.get("options/preset", None, str):
            wanted = "live" if camera else None
            current = self.state.options.get("preset") if self.state else self.options.preset
            if wanted != current:
                self.controller.set_options(preset=wanted)
        if not camera and self._mirror_from_camera:
            self._mirror_from_camera = False
            self.act_mirror.setChecked(False)

    def open_source(self, spec: Any) -> None:
        """Open a path, a list of image paths, a folder or a camera ('cam:N')."""
        camera = isinstance(spec, (int, dict)) or (isinstance(spec, str) and spec.startswith("cam:"))
        self._prepare_for(camera)
        self.controller.open_source(spec)
        if isinstance(spec, str) and not spec.startswith("cam:"):
            self.settings.add_recent(spec)
            self.settings.set("last_folder", str(Path(spec).parent if Path(spec).is_file() else spec))
            self._rebuild_recent()

    def open_paths(self, paths: Sequence[str]) -> None:
        """Open what was dropped or chosen: a folder, a video, image(s), or an annotation CSV to review."""
        kinds = classify_paths(paths)
        if kinds["folders"]:
            self.open_source(kinds["folders"][0])
        elif kinds["videos"]:
            self.open_source(kinds["videos"][0])
        elif kinds["images"]:
            self.open_source(kinds["images"][0] if len(kinds["images"]) == 1 else kinds["images"])
            if len(kinds["images"]) > 1:
                self.settings.set("last_folder", str(Path(kinds["images"][0]).parent))
        elif kinds["csv"]:
            self.review(kinds["csv"][0])
            return
        elif kinds["other"]:
            self.open_source(kinds["other"][0])
        if kinds["csv"]:
            self.review(kinds["csv"][0])

    def _folder(self) -> str:
        return self.settings.get("last_folder", str(Path.home()), str)

    def ask_open(self) -> None:
        paths = FileDialogs.open_any(self, self._folder())
        if paths:
            self.open_paths(paths)

    def ask_open_images(self) -> None:
        paths = FileDialogs.open_images(self, self._folder())
        if paths:
            self.open_paths(paths)

    def ask_open_folder(self) -> None:
        path = FileDialogs.open_folder(self, self._folder())
        if path:
            self.open_source(path)

    def ask_open_video(self) -> None:
        path = FileDialogs.open_video(self, self._folder())
        if path:
            self.open_source(path)

    def ask_webcam(self) -> None:
        from gazenet_app.core.video import list_cameras
        self.statusBar().showMessage("looking for cameras…")
        cameras = list_cameras()
        choice = CameraDialog.ask(self, cameras, self._camera)
        self.statusBar().clearMessage()
        if choice is None:
            return
        self.open_camera(choice)

    def open_camera(self, choice: CameraChoice) -> None:
        """Open a webcam with the chosen size/rate; mirroring follows the choice."""
        self._camera = choice
        self.act_mirror.setChecked(choice.mirror)
        self._mirror_from_camera = choice.mirror
        self.open_source({"camera": choice.index, "size": choice.size, "fps": choice.fps})

    def ask_review(self) -> None:
        path = FileDialogs.open_annotations(self, self._folder())
        if path:
            self.review(path)

    def review(self, csv_path: str) -> None:
        """Show an annotation CSV over its video: the open one, or the input named in its sidecar."""
        if self.source_info is None:
            video = _video_for_annotations(csv_path)
            if video is None:
                self._on_failed(f"open the video of {Path(csv_path).name} first, then review the annotations")
                return
            self.open_source(video)
        self.controller.load_review(csv_path)

    def ask_export(self, kind: str) -> None:
        if not self.results:
            self._on_failed("nothing processed yet: open and play an input first")
            return
        stem = Path(self.source_info.name).stem if self.source_info else "gazenet"
        suggested = str(Path(self._folder()) / f"{stem}.{kind}")
        filters = "CSV (*.csv)" if kind == "csv" else "JSON Lines (*.jsonl)"
        path = FileDialogs.save_path(self, "Export annotations", suggested, filters)
        if path:
            self.export(path)

    def export(self, path: str) -> int:
        """Write everything processed so far (ordered by frame) with the CLI's columns and sidecar; rows written."""
        meta = dict(self.state.provenance) if self.state else {}
        meta["smoothing_on"] = bool(self.state and self.state.options.get("smoothing"))
        try:
            rows = export_results(path, self.results.values(), meta,
                                  smoothing=bool(self.state and self.state.options.get("smoothing")))
        except Exception as e:  # noqa: BLE001 - shown to the user, the session goes on
            self._on_failed(f"export failed: {e}")
            return 0
        self.statusBar().showMessage(f"exported {rows} rows of {len(self.results)} frames to {path}", 8000)
        return rows

    def ask_export_video(self) -> None:
        info = self.source_info
        if info is None or info.live or not isinstance(info.spec, str):
            self._on_failed("open a video or image file first (webcams are recorded with Record)")
            return
        suggested = str(Path(self._folder()) / f"{Path(info.name).stem}_annotated.mp4")
        path = FileDialogs.save_path(self, "Export annotated video", suggested, "Video (*.mp4 *.avi)")
        if path:
            self.show_batch()
            self.batch_window.annotate_now([info.spec], video_path=path)

    def ask_screenshot(self) -> None:
        image = self.view.image()
        if image is None:
            self._on_failed("no frame to save yet")
            return
        stem = Path(self.source_info.name).stem if self.source_info else "frame"
        suggested = str(Path(self._folder()) / f"{stem}_{max(0, self.last_image_index):06d}.png")
        path = FileDialogs.save_path(self, "Save screenshot", suggested, "PNG (*.png)")
        if path:
            self.save_screenshot(path)

    def save_screenshot(self, path: str) -> bool:
        """Save the frame shown (with its overlays) as PNG."""
        image = self.view.image()
        ok = image is not None and image.save(path, "PNG")
        if ok:
            self.statusBar().showMessage(f"saved {path}", 6000)
        else:
            self._on_failed(f"could not save {path}")
        return bool(ok)

    def toggle_recording(self, on: bool) -> None:
        if not on:
            self.controller.stop_recording()
            return
        stem = Path(self.source_info.name).stem if self.source_info else "recording"
        suggested = str(Path(self._folder()) / f"{stem}.csv")
        path = FileDialogs.save_path(self, "Record annotations to", suggested, "CSV (*.csv);;JSON Lines (*.jsonl)")
        if not path:
            self.act_record.blockSignals(True)
            self.act_record.setChecked(False)
            self.act_record.blockSignals(False)
            return
        self.controller.start_recording(path)

    def ask_load_weights(self) -> None:
        path = FileDialogs.open_weights(self, self.settings.get("weights_folder", self._folder(), str))
        if path:
            self.settings.set("weights_folder", str(Path(path).parent))
            self.set_model(path)

    def show_batch(self) -> None:
        from gazenet_app.ui.batch import BatchWindow
        if self.batch_window is None:
            self.batch_window = BatchWindow(self.worker.backend, self.options_for_batch, self.settings, self)
        self.batch_window.show()
        self.batch_window.raise_()

    def options_for_batch(self) -> WorkerOptions:
        """The options batch jobs use: the window's current ones, never paced."""
        opts = dict(self.state.options) if self.state else self.options.as_dict()
        opts["realtime"] = False
        if self.state is not None:
            opts["model"] = self.state.model
        return WorkerOptions(**opts)

    def show_about(self) -> None:
        model = self.state.model if self.state else None
        card = self.state.model_info if self.state else {}
        notices = resource_path("THIRD_PARTY_NOTICES.md")
        AboutDialog.show_about(self, about_html(__version__, model, card, third_party_licences(),
                                                str(log_file_path()), str(notices) if notices else None))

    def open_log(self, folder: bool = False) -> None:
        path = log_file_path()
        QDesktopServices.openUrl(QUrl.fromLocalFile(str(path.parent if folder else path)))

    # Qt events ------------------------------------------------------------------------------------------------
    def dragEnterEvent(self, event) -> None:  # noqa: N802
        if event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:  # noqa: N802
        paths = [u.toLocalFile() for u in event.mimeData().urls() if u.isLocalFile()]
        if paths:
            self.open_paths(paths)
            event.acceptProposedAction()

    def shutdown(self) -> bool:
        """Stop the worker (and any batch) cleanly; True when every thread stopped."""
        if self._closing:
            return True
        self._closing = True
        self._ui_timer.stop()
        ok = True
        if self.batch_window is not None:
            ok = self.batch_window.stop() and ok
        ok = self.controller.stop() and ok
        return ok

    def closeEvent(self, event) -> None:  # noqa: N802
        self.settings.set("window/geometry", self.saveGeometry())
        self.settings.sync()
        self.shutdown()
        if self.batch_window is not None:
            self.batch_window.close()
        event.accept()


def _video_for_annotations(csv_path: str) -> Optional[str]:
    """The input named in an annotation CSV's sidecar, if it sits next to the CSV."""
    from gazenet_app.core.results import read_sidecar, sidecar_path
    side = sidecar_path(csv_path)
    if not side.exists():
        return None
    try:
        meta = read_sidecar(side)
    except (OSError, ValueError):
        return None
    src = meta.get("source") or meta.get("input") or {}
    name = src.get("name") if isinstance(src, dict) else src
    if not name:
        return None
    for candidate in (Path(name), Path(csv_path).parent / Path(name).name):
        if candidate.exists():
            return str(candidate)
    return None


def _app_icon() -> Optional[QIcon]:
    for name in ("gazenet.svg", "gazenet.png"):
        path = resource_path(name)
        if path is not None:
            return QIcon(str(path))
    return None
