"""The batch queue: annotate several clips one after another, as fast as possible, each to its own CSV.

A `BatchRunner` on its own QThread runs core's annotation loop file by file (fresh pipeline per file, the
window's detector/model/options); cancelling stops between frames: finished files stay complete, the file being
written keeps its `.partial` for `gazenet annotate --resume`.
"""

from __future__ import annotations

import logging
import threading
import traceback
from pathlib import Path
from typing import Callable, List, Optional

from PySide6.QtCore import QObject, Qt, QThread, Signal, Slot
from PySide6.QtWidgets import (QFileDialog, QHBoxLayout, QLabel, QLineEdit, QListWidget, QListWidgetItem,
                               QProgressBar, QPushButton, QVBoxLayout, QWidget)

from gazenet_app.core.errors import GazenetError
from gazenet_app.ui.backend import PipelineBackend, WorkerOptions
from gazenet_app.ui.dialogs import FileDialogs

__all__ = ["BatchRunner", "BatchWindow", "output_path_for"]

log = logging.getLogger(__name__)

_VIDEO_EXT = {".avi", ".mp4", ".mov", ".mkv", ".webm", ".m4v", ".mpg", ".mpeg", ".wmv"}


def output_path_for(clip: str, out_dir: str) -> str:
    """`out_dir/<clip stem>.csv` (stems made unique by the caller's order are not needed: one CSV per clip)."""
    return str(Path(out_dir) / (Path(clip).stem + ".csv"))


class BatchRunner(QObject):
    """Annotates a list of inputs in its thread; progress and results as signals; `cancel` from any thread."""

    file_started = Signal(int, str)
    progress = Signal(int, int, int)  # file index, frames done, frames total (0 unknown)
    file_done = Signal(int, str, str)  # file index, status, message (output path or error)
    finished = Signal()

    def __init__(self, backend: PipelineBackend, options: WorkerOptions, jobs: List[tuple]) -> None:
        super().__init__()
        self.backend = backend
        self.options = options
        self.jobs = jobs  # (input, csv path or None, video path or None)
        self.cancelled = threading.Event()

    def cancel(self) -> None:
        """Stop before the next frame (thread-safe)."""
        self.cancelled.set()

    @Slot()
    def run(self) -> None:
        """Annotate every job; each failure is reported and the queue goes on."""
        pipeline = None
        try:
            for i, (spec, csv_path, video_path) in enumerate(self.jobs):
                if self.cancelled.is_set():
                    self.file_done.emit(i, "cancelled", "not started")
                    continue
                self.file_started.emit(i, str(spec))
                try:
                    if pipeline is None:
                        pipeline = self.backend.build_pipeline(self.options)
                    else:
                        pipeline.reset()
                    summary = self.backend.annotate_file(
                        spec, self.options, csv_path, video_path, pipeline=pipeline,
                        progress=lambda done, total, i=i: self.progress.emit(i, int(done), int(total or 0)),
                        should_stop=self.cancelled.is_set)
                    if summary.complete:
                        note = f" ({summary.ended_early})" if summary.ended_early else ""
                        self.file_done.emit(i, "done", f"{summary.rows} rows, {summary.frames} frames → "
                                                       f"{csv_path or video_path}{note}")
                    else:
                        self.file_done.emit(i, "cancelled", f"stopped after {summary.frames} frames; the partial "
                                                            "file is kept for --resume")
                except GazenetError as e:
                    self.file_done.emit(i, "failed", str(e))
                except Exception as e:  # noqa: BLE001 - one bad file never stops the queue
                    log.error("batch %s:\n%s", spec, traceback.format_exc())
                    self.file_done.emit(i, "failed", f"{type(e).__name__}: {e}")
        finally:
            self.finished.emit()


class BatchWindow(QWidget):
    """A tool window: the queue, an output folder, per-file and overall progress, start and cancel."""

    def __init__(self, backend: PipelineBackend, options_provider: Callable[[], WorkerOptions], settings,
                 parent: Optional[QWidget] = None) -> None:
        super().__init__(parent, Qt.WindowType.Window)
        self.setWindowTitle("Batch annotate — gazenet")
        self.resize(640, 420)
        self.backend = backend
        self.options_provider = options_provider
        self.settings = settings
        self.thread: Optional[QThread] = None
        self.runner: Optional[BatchRunner] = None
        self.results: List[tuple] = []

        self.list = QListWidget()
        add = QPushButton("Add clips…")
        add.clicked.connect(self._ask_add)
        add_folder = QPushButton("Add folder…")
        add_folder.clicked.connect(self._ask_add_folder)
        clear = QPushButton("Clear")
        clear.clicked.connect(self.clear)
        self.out_edit = QLineEdit(settings.get("batch/out_dir", str(Path.home() / "gazenet-annotations"), str))
        browse = QPushButton("…")
        browse.clicked.connect(self._ask_out_dir)
        self.file_bar = QProgressBar()
        self.total_bar = QProgressBar()
        self.status = QLabel("Add clips, pick an output folder, then Start.")
        self.status.setWordWrap(True)
        self.start_button = QPushButton("Start")
        self.start_button.clicked.connect(self.start)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setEnabled(False)
        self.cancel_button.clicked.connect(self.cancel)

        row = QHBoxLayout()
        for w in (add, add_folder, clear):
            row.addWidget(w)
        row.addStretch(1)
        out_row = QHBoxLayout()
        out_row.addWidget(QLabel("Output folder"))
        out_row.addWidget(self.out_edit, 1)
        out_row.addWidget(browse)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.start_button)
        buttons.addWidget(self.cancel_button)
        layout = QVBoxLayout(self)
        layout.addLayout(row)
        layout.addWidget(self.list, 1)
        layout.addLayout(out_row)
        layout.addWidget(QLabel("Current file"))
        layout.addWidget(self.file_bar)
        layout.addWidget(QLabel("Overall"))
        layout.addWidget(self.total_bar)
        layout.addWidget(self.status)
        layout.addLayout(buttons)

    # queue
    def add_paths(self, paths: List[str]) -> None:
        """Add clips (folders add the videos they contain)."""
        for p in paths:
            path = Path(p)
            if path.is_dir():
                for child in sorted(path.iterdir()):
                    if child.suffix.lower() in _VIDEO_EXT:
                        self._add_item(str(child))
            else:
                self._add_item(str(path))

    def _add_item(self, path: str) -> None:
        item = QListWidgetItem(f"{Path(path).name} — queued")
        item.setData(Qt.ItemDataRole.UserRole, path)
        item.setToolTip(path)
        self.list.addItem(item)

    def clear(self) -> None:
        if self.is_running():
            return
        self.list.clear()

    def paths(self) -> List[str]:
        return [self.list.item(i).data(Qt.ItemDataRole.UserRole) for i in range(self.list.count())]

    def _ask_add(self) -> None:
        self.add_paths(FileDialogs.open_videos(self, self.settings.get("last_folder", str(Path.home()), str)))

    def _ask_add_folder(self) -> None:
        folder = FileDialogs.open_folder(self, self.settings.get("last_folder", str(Path.home()), str),
                                         "Add the clips of a folder")
        if folder:
            self.add_paths([folder])

    def _ask_out_dir(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Output folder", self.out_edit.text())
        if folder:
            self.out_edit.setText(folder)

    # running
    def is_running(self) -> bool:
        return self.thread is not None and self.thread.isRunning()

    def start(self) -> None:
        """Annotate every queued clip into the output folder."""
        paths = self.paths()
        if not paths or self.is_running():
            return
        out_dir = self.out_edit.text().strip()
        self.settings.set("batch/out_dir", out_dir)
        self._run([(p, output_path_for(p, out_dir), None) for p in paths])

    def annotate_now(self, inputs: List[str], video_path: Optional[str] = None) -> None:
        """Queue and start inputs right away (Export ▸ Annotated video uses this)."""
        if self.is_running():
            self.status.setText("a batch is already running")
            return
        self.list.clear()
        for p in inputs:
            self._add_item(p)
        csv = str(Path(video_path).with_suffix(".csv")) if video_path else None
        self._run([(p, csv, video_path) for p in inputs])

    def _run(self, jobs: List[tuple]) -> None:
        self.results = []
        self.total_bar.setRange(0, len(jobs))
        self.total_bar.setValue(0)
        self.file_bar.setValue(0)
        self.runner = BatchRunner(self.backend, self.options_provider(), jobs)
        self.thread = QThread()
        self.thread.setObjectName("gazenet-batch")
        self.runner.moveToThread(self.thread)
        self.thread.started.connect(self.runner.run)
        self.runner.finished.connect(self.thread.quit)
        self.runner.file_started.connect(self._on_file_started)
        self.runner.progress.connect(self._on_progress)
        self.runner.file_done.connect(self._on_file_done)
        self.thread.finished.connect(self._on_finished)
        self.start_button.setEnabled(False)
        self.cancel_button.setEnabled(True)
        self.status.setText(f"annotating {len(jobs)} file(s)…")
        self.thread.start()

    def cancel(self) -> None:
        """Stop after the current frame; finished files stay."""
        if self.runner is not None:
            self.runner.cancel()
            self.status.setText("cancelling…")

    def stop(self, timeout_ms: int = 10000) -> bool:
        """Cancel and wait for the thread (window closing)."""
        if self.thread is None:
            return True
        if self.runner is not None:
            self.runner.cancel()
        if self.thread.isRunning():
            return self.thread.wait(timeout_ms)
        return True

    def _on_file_started(self, index: int, path: str) -> None:
        item = self.list.item(index)
        if item is not None:
            item.setText(f"{Path(path).name} — annotating…")
        self.file_bar.setRange(0, 0)

    def _on_progress(self, index: int, done: int, total: int) -> None:
        if total > 0:
            self.file_bar.setRange(0, total)
            self.file_bar.setValue(done)

    def _on_file_done(self, index: int, status: str, message: str) -> None:
        self.results.append((index, status, message))
        item = self.list.item(index)
        if item is not None:
            path = item.data(Qt.ItemDataRole.UserRole)
            item.setText(f"{Path(path).name} — {status}: {message}")
        self.total_bar.setValue(len(self.results))
        if self.file_bar.maximum() == 0:
            self.file_bar.setRange(0, 1)
            self.file_bar.setValue(1 if status == "done" else 0)

    def _on_finished(self) -> None:
        done = sum(1 for _, s, _ in self.results if s == "done")
        self.status.setText(f"finished: {done} of {len(self.results)} file(s) annotated")
        self.start_button.setEnabled(True)
        self.cancel_button.setEnabled(False)
        if self.thread is not None:
            self.thread.deleteLater()
        self.thread = None
        if self.runner is not None:
            self.runner.deleteLater()
        self.runner = None
