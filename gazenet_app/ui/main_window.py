"""The main window: a thin view over a `Session` (layout, actions, dialogs); it holds no results or state.

The session owns the worker and everything it reports; the window shows it (video, timelines, Faces table,
status bar, banner) and turns user input into session commands.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Dict, Optional, Sequence

from PySide6.QtCore import QSettings, Qt, QTimer, QUrl
from PySide6.QtGui import QDesktopServices, QIcon
from PySide6.QtWidgets import QMainWindow, QMenu, QSizePolicy, QSplitter, QVBoxLayout, QWidget

from gazenet_app import __version__
from gazenet_app.core.types import FrameResult
from gazenet_app.ui.actions import build_actions, build_menus, shortcut_html
from gazenet_app.ui.backend import PipelineBackend, WorkerOptions
from gazenet_app.ui.dialogs import (AboutDialog, CameraChoice, CameraDialog, FileDialogs, PreferencesDialog,
                                    about_html)
from gazenet_app.ui.logs import log_file_path, resource_path, third_party_licences
from gazenet_app.ui.model_picker import ModelPicker
from gazenet_app.ui.panels import (Banner, FacesTable, StatusLabels, TransportBar, fit_to_screen, frame_label,
                                   record_icon)
from gazenet_app.ui.session import Session, plan_open
from gazenet_app.ui.settings import BATCH_PREFERENCES, AppSettings
from gazenet_app.ui.timeline import TimelineWidget
from gazenet_app.ui.video_view import VideoView
from gazenet_app.ui.worker import SourceInfo, WorkerState

__all__ = ["MainWindow"]


class MainWindow(QMainWindow):
    """gazenet's window: video view, transport, timelines, Faces table, menus and status bar."""

    def __init__(self, backend: Optional[PipelineBackend] = None, options: Optional[WorkerOptions] = None,
                 settings: Optional[QSettings] = None, start: bool = True,
                 overrides: Optional[Dict[str, Any]] = None) -> None:
        super().__init__()
        self.settings = AppSettings(settings)
        self.session = Session(backend, options, self.settings, overrides, parent=self)
        self.controller = self.session.controller
        self.images_shown = 0
        self.last_image_index = -1
        self._camera: Optional[CameraChoice] = None
        self._mirror_from_camera = False
        self._closing = False
        self.batch_window = None
        self.setWindowTitle("gazenet")
        self.setAcceptDrops(True)
        icon = resource_path("gazenet.svg") or resource_path("gazenet.png")
        if icon is not None:
            self.setWindowIcon(QIcon(str(icon)))
        self._build_ui()
        self.actions_by_name = build_actions(self)
        for name, action in self.actions_by_name.items():
            setattr(self, f"act_{name}", action)  # window.act_play, ... for menus, tests and the toolbar
        self._build_menus()
        self._sync_checks(self.session.options.as_dict())
        self.act_seconds.setChecked(self.settings.get("view/seconds", False, bool))
        self._connect_session()
        geometry = self.settings.geometry()
        if geometry is None or not self.restoreGeometry(geometry):
            fit_to_screen(self)
        self._ui_timer = QTimer(self)
        self._ui_timer.setInterval(150)
        self._ui_timer.timeout.connect(self._refresh_panels)
        self._ui_timer.start()
        if start:
            self.session.start()

    # construction ---------------------------------------------------------------------------------------------
    def _build_ui(self) -> None:
        self.view = VideoView()
        self.banner = Banner()
        self.transport = TransportBar()
        self.transport.play_button.clicked.connect(lambda: self.controller.toggle_play())
        self.transport.back_button.clicked.connect(lambda: self.controller.step(-1))
        self.transport.step_button.clicked.connect(lambda: self.controller.step())
        self.transport.seek_requested.connect(self.controller.seek)
        self.transport.realtime_changed.connect(lambda on: self.session.set_options(realtime=on))
        self.transport.set_realtime(self.session.options.realtime)
        video_box = QWidget()
        vlayout = QVBoxLayout(video_box)
        vlayout.setContentsMargins(4, 4, 4, 0)
        vlayout.setSpacing(4)
        vlayout.addWidget(self.banner)
        vlayout.addWidget(self.view, 1)
        vlayout.addWidget(self.transport)
        self.timeline = TimelineWidget()
        self.timeline.seek_requested.connect(self.controller.seek)
        self.timeline.setMinimumHeight(180)
        self.face_table = FacesTable()  # beside the timelines: the video keeps the window's whole width
        self.bottom = QSplitter(Qt.Orientation.Horizontal)
        self.bottom.addWidget(self.timeline)
        self.bottom.addWidget(self.face_table)
        self.bottom.setStretchFactor(0, 1)
        self.bottom.setStretchFactor(1, 0)
        self.splitter = QSplitter(Qt.Orientation.Vertical)
        self.splitter.addWidget(video_box)
        self.splitter.addWidget(self.bottom)
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 2)
        for splitter in (self.splitter, self.bottom):
            splitter.setChildrenCollapsible(False)
        self.setCentralWidget(self.splitter)
        self.picker = ModelPicker()
        self.picker.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)  # overflow, never squeeze
        self.picker.changes_requested.connect(lambda changes: self.session.set_options(**changes))
        self.status_labels = StatusLabels(self.statusBar())

    def _build_menus(self) -> None:
        self.recent_menu = QMenu("Recent files", self)
        self._rebuild_recent()
        build_menus(self, self.actions_by_name, {"@recent": self.recent_menu})
        self.act_faces.setChecked(True)
        self.act_stop_review.setEnabled(False)
        toolbar = self.addToolBar("Main")
        toolbar.setObjectName("main_toolbar")
        toolbar.setMovable(False)
        self.act_record.setIcon(record_icon())
        for item in (self.act_open, self.act_webcam, None, self.picker, None, self.act_smoothing, self.act_mirror,
                     None, self.act_record):
            if item is None:
                toolbar.addSeparator()
            elif isinstance(item, QWidget):
                toolbar.addWidget(item)
            else:
                toolbar.addAction(item)

    def _rebuild_recent(self) -> None:
        self.recent_menu.clear()
        recent = self.settings.recent_files()
        for path in recent:
            self.recent_menu.addAction(path, lambda p=path: self.open_paths([p]))
        if recent:
            self.recent_menu.addSeparator()
            self.recent_menu.addAction("Clear", lambda: (self.settings.clear_recent(), self._rebuild_recent()))
        self.recent_menu.setEnabled(bool(recent))

    def _connect_session(self) -> None:
        s = self.session
        s.source_opened.connect(self._on_source_opened)
        s.result_added.connect(self.timeline.add_result)
        s.state_changed.connect(self._on_state_changed)
        s.catalog_changed.connect(self.picker.set_catalog)
        s.notice_changed.connect(self.banner.show_message)
        s.status_message.connect(lambda text, ms: self.statusBar().showMessage(text, ms))
        s.events.image_ready.connect(self._on_image_ready)
        s.events.playing_changed.connect(self.transport.set_playing)

    # session -> window ----------------------------------------------------------------------------------------
    def _on_source_opened(self, info: SourceInfo) -> None:
        unit = "s" if self.act_seconds.isChecked() else "frame"
        window = int((info.fps or 30.0) * 20) if info.live else max(16, info.frame_count or 600)
        self.timeline.configure(live=info.live, unit=unit, window=window)
        self.transport.configure(info.frame_count, info.live)
        self.setWindowTitle(f"{info.name} — gazenet")
        self.status_labels["source"].setText(f"{info.kind}: {info.name}")
        self.face_table.setRowCount(0)

    def _on_image_ready(self) -> None:
        item = self.session.take_image()
        if item is not None:
            self.last_image_index, image = item
            self.view.set_image(image)
            self.images_shown += 1

    def _on_state_changed(self, state: WorkerState) -> None:
        self.picker.set_state(state)
        self.status_labels.show_state(state)
        self.act_stop_review.setEnabled(bool(state.review))
        self._sync_checks(state.options)
        self.transport.set_realtime(bool(state.options.get("realtime", True)))
        self.act_record.blockSignals(True)
        self.act_record.setChecked(state.recording is not None)
        self.act_record.blockSignals(False)

    def _sync_checks(self, options: Dict[str, Any]) -> None:
        """Check the option toggles as the worker has them (without sending them back)."""
        for name in ("smoothing", "sequence", "cube", "text", "mirror"):
            key = {"cube": "show_cube", "text": "show_text"}.get(name, name)
            action = self.actions_by_name[name]
            action.blockSignals(True)
            action.setChecked(bool(options.get(key)))
            action.blockSignals(False)

    def _refresh_panels(self) -> None:
        result: Optional[FrameResult] = self.session.last_result
        self.status_labels.show_rates(self.session.fps(), result)
        if result is None:
            return
        info = self.session.source_info
        self.transport.show_position(result.index, frame_label(result.index, result.timestamp_ms / 1000.0,
                                                               None if info is None or info.live
                                                               else info.frame_count, info and info.fps))
        self.face_table.show_result(result)

    # commands -------------------------------------------------------------------------------------------------
    def set_seconds(self, seconds: bool) -> None:
        self.settings.set("view/seconds", seconds)
        self.timeline.set_unit("s" if seconds else "frame")

    def toggle_fullscreen(self, on: bool) -> None:
        self.showFullScreen() if on else self.showNormal()

    def set_option(self, key: str, value: Any) -> None:
        """Send one option to the worker (applied between frames; saved once applied)."""
        self.session.set_options(**{key: value})

    def set_model(self, name_or_path: Optional[str]) -> None:
        """Load a pose model by registry name or file; on failure the previous one stays active."""
        if name_or_path:
            self.session.set_options(model=name_or_path)

    def open_source(self, spec: Any) -> None:
        """Open a path, a list of image paths, a folder or a camera ('cam:N')."""
        camera = isinstance(spec, (int, dict)) or (isinstance(spec, str) and spec.startswith("cam:"))
        if not camera and self._mirror_from_camera:  # the camera's mirroring ends with it
            self._mirror_from_camera = False
            self.act_mirror.setChecked(False)
        self.session.open(spec)
        if isinstance(spec, str) and not camera:
            self.settings.add_recent(spec)
            self.settings.set("last_folder", str(Path(spec).parent if Path(spec).is_file() else spec))
            self._rebuild_recent()

    def open_paths(self, paths: Sequence[str]) -> None:
        """Open what was dropped or chosen: a folder, a video, image(s), and/or an annotation CSV to review."""
        spec, annotations = plan_open(paths)
        if spec is not None:
            self.open_source(spec)
        if annotations:
            self.review(annotations, opened=spec is not None)

    def _folder(self) -> str:
        return self.settings.get("last_folder", str(Path.home()), str)

    def ask_open(self) -> None:
        paths = FileDialogs.open_any(self, self._folder())
        if paths:
            self.open_paths(paths)

    def ask_open_folder(self) -> None:
        path = FileDialogs.open_folder(self, self._folder())
        if path:
            self.open_source(path)

    def ask_webcam(self) -> None:
        from gazenet_app.core.video import list_cameras
        self.statusBar().showMessage("looking for cameras…")
        choice = CameraDialog.ask(self, list_cameras(), self._camera)
        self.statusBar().clearMessage()
        if choice is not None:
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

    def review(self, csv_path: str, opened: bool = False) -> None:
        """Show an annotation CSV over its video: the one open (or just `opened`), else the one its sidecar names."""
        self.session.review(csv_path, source_pending=opened)

    def _ask_path(self, title: str, suffix: str, filters: str) -> Optional[str]:
        """Ask where to save, suggesting <source stem><suffix> in the last folder."""
        info = self.session.source_info
        stem = Path(info.name).stem if info else "gazenet"
        return FileDialogs.save_path(self, title, str(Path(self._folder()) / f"{stem}{suffix}"), filters)

    def ask_export(self, kind: str) -> None:
        path = self._ask_path("Export annotations", f".{kind}",
                              "CSV (*.csv)" if kind == "csv" else "JSON Lines (*.jsonl)")
        if path:
            self.session.export(path)

    def export(self, path: str) -> int:
        """Write everything processed so far; rows written."""
        return self.session.export(path)

    def ask_export_video(self) -> None:
        path = self._ask_path("Export annotated video", "_annotated.mp4", "Video (*.mp4 *.avi)")
        if path:
            self.session.export_video(path)

    def ask_export_plots(self) -> None:
        path = self._ask_path("Export timelines", "_timelines.png", "PNG (*.png)")
        if path and self.timeline.save_png(path):
            self.statusBar().showMessage(f"saved {path}", 6000)

    def ask_screenshot(self) -> None:
        path = self._ask_path("Save screenshot", f"_{max(0, self.last_image_index):06d}.png", "PNG (*.png)")
        if path:
            self.save_screenshot(path)

    def save_screenshot(self, path: str) -> bool:
        """Save the frame shown (with its overlays) as PNG."""
        image = self.view.image()
        ok = image is not None and image.save(path, "PNG")
        if ok:
            self.statusBar().showMessage(f"saved {path}", 6000)
        else:
            self.session.report_error(f"could not save {path}" if image is not None else "no frame to save yet")
        return bool(ok)

    def toggle_recording(self, on: bool) -> None:
        if not on:
            self.controller.stop_recording()
            return
        path = self._ask_path("Record annotations to", ".csv", "CSV (*.csv);;JSON Lines (*.jsonl)")
        if path:
            self.controller.start_recording(path)
        else:
            self.act_record.blockSignals(True)
            self.act_record.setChecked(False)
            self.act_record.blockSignals(False)

    def ask_load_weights(self) -> None:
        path = FileDialogs.open_weights(self, self.settings.get("weights_folder", self._folder(), str))
        if path:
            self.settings.set("weights_folder", str(Path(path).parent))
            self.set_model(path)

    def ask_preferences(self) -> None:
        """Preferences: worker options go to the worker (saved once applied), the batch queue's are saved here."""
        current = dict(self.session.state.options) if self.session.state else self.session.options.as_dict()
        current.update(self.settings.batch_preferences())
        changes = PreferencesDialog.ask(self, current, self.session.catalog.get("presets", []))
        if not changes:
            return
        self.settings.set_batch_preferences(changes)
        if self.batch_window is not None:
            self.batch_window.show_engine()
        options = {k: v for k, v in changes.items() if k not in BATCH_PREFERENCES}
        if options:
            self.session.set_options(**options)

    def show_batch(self) -> None:
        from gazenet_app.ui.batch import BatchWindow
        if self.batch_window is None:
            self.batch_window = BatchWindow(self.session.backend, self.session.batch_options, self.settings, self)
            self.batch_window.failed.connect(self.session.report_error)
        self.batch_window.show()
        self.batch_window.raise_()

    def show_help(self) -> None:
        AboutDialog.show_about(self, shortcut_html(), title="Keyboard shortcuts")

    def show_about(self) -> None:
        state = self.session.state
        notices = resource_path("THIRD_PARTY_NOTICES.md")
        AboutDialog.show_about(self, about_html(__version__, state.model if state else None,
                                                state.model_info if state else {}, third_party_licences(),
                                                str(log_file_path()), str(notices) if notices else None))

    def open_log(self) -> None:
        QDesktopServices.openUrl(QUrl.fromLocalFile(str(log_file_path())))

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
        """Stop any batch and the session's threads; True when every thread stopped."""
        if self._closing:
            return True
        self._closing = True
        self._ui_timer.stop()
        ok = self.batch_window is None or self.batch_window.stop()
        return self.session.shutdown() and ok

    def closeEvent(self, event) -> None:  # noqa: N802
        batch = self.batch_window
        if batch is not None and batch.is_running() and not FileDialogs.confirm(
                self, "Quit gazenet", "A batch is running. Stop it and quit? (Resume in the batch queue finishes "
                                      "the interrupted file later.)"):
            event.ignore()
            return
        self.settings.set("window/geometry", self.saveGeometry())
        self.settings.sync()
        self.shutdown()
        if batch is not None:
            batch.close()
        event.accept()
