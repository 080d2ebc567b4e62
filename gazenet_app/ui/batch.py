"""The batch queue: annotate several clips one after another, as fast as possible, each to its own CSV.

A `BatchRunner` (the app's one worker pattern, see qthreading) runs core's annotation loop file by file (one
pipeline for the queue, reset per file; the window's detector/model/options). Cancelling stops between frames:
finished files stay complete, the file being written keeps its `.partial`, and Resume finishes it later.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, List, Optional

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QFileDialog, QHBoxLayout, QLabel, QLineEdit, QListWidget, QListWidgetItem,
                               QProgressBar, QPushButton, QVBoxLayout, QWidget)

from gazenet_app.core.results import partial_path
from gazenet_app.core.video import VIDEO_EXTENSIONS
from gazenet_app.ui.backend import PipelineBackend, WorkerOptions
from gazenet_app.ui.dialogs import FileDialogs
from gazenet_app.ui.qthreading import WorkerBase, WorkerSignals, WorkerThread, error_text

__all__ = ["BatchJob", "BatchRunner", "BatchWindow", "output_path_for"]

log = logging.getLogger(__name__)

def output_path_for(clip: str, out_dir: str) -> str:
    """`out_dir/<clip stem>.csv`: one CSV per clip."""
    return str(Path(out_dir) / (Path(clip).stem + ".csv"))


@dataclass(frozen=True)
class BatchJob:
    """One input and its outputs; `resume` continues from the outputs' `.partial` files when there are any."""

    spec: str
    csv: Optional[str] = None
    video: Optional[str] = None
    resume: bool = False


class BatchSignals(WorkerSignals):
    """Progress of a batch (declared once; delivered in the GUI thread)."""

    file_started = Signal(int, str)
    progress = Signal(int, int, int)  # file index, frames done, frames total (0 unknown)
    file_done = Signal(int, str, str)  # file index, status (done, failed, cancelled, skipped), message


class BatchRunner(WorkerBase):
    """Annotates a list of jobs in its thread: one command, `run`; `request_stop` from any thread cancels."""

    COMMANDS = frozenset({"run", "shutdown"})
    FINAL = frozenset({"run", "shutdown"})
    signals_class = BatchSignals

    def __init__(self, backend: PipelineBackend, options: WorkerOptions, jobs: List[BatchJob]) -> None:
        super().__init__()
        self.backend = backend
        self.options = options
        self.jobs = list(jobs)

    def cancel(self) -> None:
        """Stop before the next frame (thread-safe)."""
        self.request_stop()

    def run(self) -> None:
        """Annotate every job; each failure is reported and the queue goes on."""
        pipeline = None
        for i, job in enumerate(self.jobs):
            if self.abort.is_set():
                self.events.file_done.emit(i, "cancelled", "not started")
                continue
            if job.resume and _finished(job):
                self.events.file_done.emit(i, "skipped", "already annotated")
                continue
            self.events.file_started.emit(i, job.spec)
            try:
                if pipeline is None:
                    pipeline = self.backend.build_pipeline(self.options)
                else:
                    pipeline.reset()
                summary = self.backend.annotate_file(
                    job.spec, self.options, job.csv, job.video, pipeline=pipeline, resume=job.resume,
                    progress=lambda done, total, i=i: self.events.progress.emit(i, int(done), int(total or 0)),
                    should_stop=self.abort.is_set)
            except Exception as e:  # noqa: BLE001 - one bad file never stops the queue
                log.warning("batch %s: %s", job.spec, error_text(e), exc_info=True)
                self.events.file_done.emit(i, "failed", error_text(e))
                continue
            if summary.complete:
                note = f" ({summary.ended_early})" if summary.ended_early else ""
                self.events.file_done.emit(i, "done", f"{summary.rows} rows, {summary.frames} frames → "
                                                      f"{job.csv or job.video}{note}")
            else:
                self.events.file_done.emit(i, "cancelled", f"stopped after {summary.frames} frames; Resume "
                                                           "finishes it")


def _finished(job: BatchJob) -> bool:
    """True when every output of `job` exists and none is left half-written."""
    outputs = [Path(p) for p in (job.csv, job.video) if p]
    return bool(outputs) and all(p.exists() and not partial_path(p).exists() for p in outputs)


class BatchWindow(QWidget):
    """A tool window: the queue, an output folder, per-file and overall progress, start, resume and cancel."""

    status_changed = Signal(str)  # the status line's new text ("finished: ..." when a run ends)

    def __init__(self, backend: PipelineBackend, options_provider: Callable[[], WorkerOptions], settings,
                 parent: Optional[QWidget] = None) -> None:
        super().__init__(parent, Qt.WindowType.Window)
        self.setWindowTitle("Batch annotate — gazenet")
        self.resize(640, 420)
        self.backend = backend
        self.options_provider = options_provider
        self.settings = settings
        self.ctl: Optional[WorkerThread] = None
        self.results: List[tuple] = []

        self.list = QListWidget()
        add = QPushButton("Add clips…")
        add.clicked.connect(self._ask_add)
        add_folder = QPushButton("Add folder…")
        add_folder.clicked.connect(self._ask_add_folder)
        self.clear_button = QPushButton("Clear")
        self.clear_button.clicked.connect(self.clear)
        self.out_edit = QLineEdit(settings.get("batch/out_dir", str(Path.home() / "gazenet-annotations"), str))
        browse = QPushButton("…")
        browse.clicked.connect(self._ask_out_dir)
        self.file_bar = QProgressBar()
        self.total_bar = QProgressBar()
        self.total_bar.setFormat("%v of %m files")
        self.status = QLabel("Add clips, pick an output folder, then Start.")
        self.status.setWordWrap(True)
        self.start_button = QPushButton("Start")
        self.start_button.setToolTip("Annotate every clip (existing outputs are overwritten)")
        self.start_button.clicked.connect(self.start)
        self.resume_button = QPushButton("Resume")
        self.resume_button.setToolTip("Finish cancelled or interrupted clips from their .partial files; "
                                      "skip clips already annotated")
        self.resume_button.clicked.connect(lambda: self.start(resume=True))
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setEnabled(False)
        self.cancel_button.clicked.connect(self.cancel)

        row = QHBoxLayout()
        for w in (add, add_folder, self.clear_button):
            row.addWidget(w)
        row.addStretch(1)
        out_row = QHBoxLayout()
        out_row.addWidget(QLabel("Output folder"))
        out_row.addWidget(self.out_edit, 1)
        out_row.addWidget(browse)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        for b in (self.start_button, self.resume_button, self.cancel_button):
            buttons.addWidget(b)
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

    def _set_status(self, text: str) -> None:
        self.status.setText(text)
        self.status_changed.emit(text)

    # queue
    def add_paths(self, paths: List[str]) -> None:
        """Add clips (folders add the videos they contain)."""
        for p in paths:
            path = Path(p)
            if path.is_dir():
                for child in sorted(path.iterdir()):
                    if child.suffix.lower() in VIDEO_EXTENSIONS:
                        self._add_item(str(child))
            else:
                self._add_item(str(path))

    def _add_item(self, path: str) -> None:
        item = QListWidgetItem(f"{Path(path).name} — queued")
        item.setData(Qt.ItemDataRole.UserRole, path)
        item.setToolTip(path)
        self.list.addItem(item)

    def clear(self) -> None:
        """Empty the queue (not while it runs)."""
        if not self.is_running():
            self.list.clear()

    def paths(self) -> List[str]:
        """The queued inputs, in order."""
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
        """True while a batch runs."""
        return self.ctl is not None and self.ctl.is_running()

    def start(self, resume: bool = False) -> None:
        """Annotate every queued clip into the output folder (`resume`: finish partial outputs, skip done ones)."""
        paths = self.paths()
        if not paths or self.is_running():
            return
        out_dir = self.out_edit.text().strip()
        self.settings.set("batch/out_dir", out_dir)
        jobs = [BatchJob(p, output_path_for(p, out_dir), None, resume) for p in paths]
        self.results = []
        self.total_bar.setRange(0, len(jobs))
        self.total_bar.setValue(0)
        self.file_bar.setValue(0)
        runner = BatchRunner(self.backend, self.options_provider(), jobs)
        runner.events.file_started.connect(self._on_file_started)
        runner.events.progress.connect(self._on_progress)
        runner.events.file_done.connect(self._on_file_done)
        runner.events.finished.connect(self._on_finished)
        self.ctl = WorkerThread(runner, "gazenet-batch", self)
        for b in (self.start_button, self.resume_button, self.clear_button):
            b.setEnabled(False)
        self.cancel_button.setEnabled(True)
        self._set_status(f"{'resuming' if resume else 'annotating'} {len(jobs)} file(s)…")
        self.ctl.start("run")

    def cancel(self) -> None:
        """Stop after the current frame; finished files stay, the current one can be resumed."""
        if self.ctl is not None:
            self.ctl.worker.request_stop()
            self._set_status("cancelling…")

    def stop(self, timeout_ms: int = 10000) -> bool:
        """Cancel as the Cancel button does and wait for the thread (the main window closing)."""
        return self.ctl is None or self.ctl.stop(timeout_ms)

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
        # Overall counts the files the queue is through with; cancelled ones are not done.
        self.total_bar.setValue(sum(1 for _, s, _ in self.results if s != "cancelled"))
        if self.file_bar.maximum() == 0:
            self.file_bar.setRange(0, 1)
            self.file_bar.setValue(1 if status == "done" else 0)

    def _on_finished(self) -> None:
        done = sum(1 for _, s, _ in self.results if s in ("done", "skipped"))
        cancelled = sum(1 for _, s, _ in self.results if s == "cancelled")
        text = f"finished: {done} of {len(self.results)} file(s) annotated"
        if cancelled:
            text += f"; {cancelled} cancelled (Resume finishes them)"
        self._set_status(text)
        if self.ctl is not None:
            self.ctl.stop()
            self.ctl.deleteLater()
        self.ctl = None
        for b in (self.start_button, self.resume_button, self.clear_button):
            b.setEnabled(True)
        self.cancel_button.setEnabled(False)
