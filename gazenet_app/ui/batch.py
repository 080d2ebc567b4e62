"""The batch queue: annotate several clips, as fast as possible, each to `<output folder>/<clip stem>.csv`.

A `BatchRunner` (the app's one worker pattern, see qthreading) runs core's annotation loop file by file (one
pipeline for the queue, reset per file; the window's detector/model/options). Cancelling stops between frames:
finished files stay complete, the file being written keeps its `.partial`, and Resume finishes it later.

With a Dask scheduler in Preferences (`local`, an address or a scheduler file) a `DaskBatchRunner` runs the same
queue through `corpus.run_corpus`, the code path of `gazenet annotate-corpus` (one task per clip, the model
loaded once per worker, resume from `.partial` files, failed clips recorded and skipped), with the same output
names (plus the run's `corpus.csv`) and the same rows, progress, Cancel and Resume.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable, Dict, List, Optional, Set, Tuple

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QFileDialog, QHBoxLayout, QLabel, QLineEdit, QListWidget, QListWidgetItem,
                               QProgressBar, QPushButton, QVBoxLayout, QWidget)

from gazenet_app.core.errors import GazenetError
from gazenet_app.core.results import FINAL_STATUSES, partial_path
from gazenet_app.core.video import VIDEO_EXTENSIONS
from gazenet_app.corpus import (ClusterInfo, ClusterSpec, CorpusItem, CorpusJob, CorpusProgress, ItemResult,
                                run_corpus)
from gazenet_app.ui.backend import PipelineBackend, WorkerOptions
from gazenet_app.ui.dialogs import FileDialogs, dask_missing
from gazenet_app.ui.qthreading import WorkerBase, WorkerSignals, WorkerThread, error_text

__all__ = ["BatchJob", "QueueRunner", "BatchRunner", "DaskBatchRunner", "BatchWindow", "output_path_for",
           "queue_outputs", "cluster_spec"]

log = logging.getLogger(__name__)

#: How long closing the window waits for a batch to stop: a Dask run lets its tasks keep their partials and
#: shuts its local cluster down (corpus.engine.STOP_GRACE_S at most, usually a few seconds).
STOP_MS = {False: 10000, True: 60000}


def output_path_for(clip: str, out_dir: str) -> str:
    """`out_dir/<clip stem>.csv`: one CSV per clip (in-process and on Dask alike)."""
    return str(Path(out_dir) / (Path(clip).stem + ".csv"))


def queue_outputs(clips: List[str], out_dir: str) -> List[str]:
    """Each clip's CSV (`output_path_for`); GazenetError when two clips would write the same file."""
    outputs = [output_path_for(c, out_dir) for c in clips]
    seen: Dict[str, str] = {}
    for clip, out in zip(clips, outputs):
        if out in seen:
            raise GazenetError(f"{Path(seen[out]).name} and {Path(clip).name} would both write {out}: queue clips "
                               f"with different names, or run them in two batches")
        seen[out] = clip
    return outputs


def cluster_spec(scheduler: str, workers: int = 0) -> Optional[ClusterSpec]:
    """Where the queue runs, from Preferences: None in this process ("" ), a LocalCluster of `workers`
    processes ("local"; 0: one per usable core; its dashboard on any free port), else a Dask scheduler's address
    or scheduler file."""
    text = scheduler.strip()
    if not text:
        return None
    if text.lower() == "local":
        return ClusterSpec(workers=workers or None, dashboard_address=":0")
    return ClusterSpec(scheduler=text)


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
    frames = Signal(int, int)  # frames done, frames total over every file (Dask runs)
    engine = Signal(str)  # what the queue runs on, once it is up (Dask runs)


class QueueRunner(WorkerBase):
    """What both runners share: one command, `run`, over a list of jobs; `cancel` from any thread."""

    COMMANDS = frozenset({"run", "shutdown"})
    FINAL = frozenset({"run", "shutdown"})
    signals_class = BatchSignals

    def __init__(self, options: WorkerOptions, jobs: List[BatchJob]) -> None:
        super().__init__()
        self.options = options
        self.jobs = list(jobs)

    def cancel(self) -> None:
        """Stop before the next frame (thread-safe)."""
        self.request_stop()


class BatchRunner(QueueRunner):
    """Annotates the jobs one after another in its thread with one pipeline from the backend."""

    def __init__(self, backend: PipelineBackend, options: WorkerOptions, jobs: List[BatchJob]) -> None:
        super().__init__(options, jobs)
        self.backend = backend

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
            if summary.status in FINAL_STATUSES:
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


class DaskBatchRunner(QueueRunner):
    """Annotates the jobs' clips on a Dask cluster with `corpus.run_corpus`, each into its job's CSV.

    `run_corpus` blocks this runner's thread; its progress arrives on a Dask thread and leaves only through
    `events` (signals carrying ints and strings, queued to the GUI thread). `cancel` is its `should_stop`.
    """

    def __init__(self, options: WorkerOptions, jobs: List[BatchJob], out_dir: str, cluster: ClusterSpec) -> None:
        super().__init__(options, jobs)
        self.out_dir = Path(out_dir).resolve()  # the workers' working folders may differ from ours
        self.cluster = cluster
        self._index: Dict[str, int] = {}
        self._started: Set[int] = set()
        self._reported: Set[int] = set()
        self._lock = threading.Lock()

    def items(self) -> List[CorpusItem]:
        """One corpus item per job, named so that its CSV is the job's (`OUTDIR/<name>.csv`)."""
        return [CorpusItem(Path(job.spec).resolve(),
                           Path(job.csv).resolve().relative_to(self.out_dir).with_suffix("").as_posix())
                for job in self.jobs]

    def run(self) -> None:
        """Annotate every clip through `run_corpus`; a cluster or settings error fails the whole run (one line)."""
        items = self.items()
        self._index = {item.relative: i for i, item in enumerate(items)}
        if self.abort.is_set():
            for i in range(len(items)):
                self._report(i, "cancelled", "not started")
            return
        job = CorpusJob(replace(self.options.pipeline_config(), require_model=False), str(self.out_dir),
                        command="gazenet-app batch queue (Dask)")
        resume = any(j.resume for j in self.jobs)
        for i, item in enumerate(items):
            if not resume:  # Start overwrites, as in-process: an earlier attempt's partials are dropped
                for partial in job.partials(item):
                    partial.unlink()
            elif job.finished(item) is not None:
                self._report(i, "skipped", "already annotated")
        report = run_corpus(job, items, cluster=self.cluster, resume=resume, progress=self._on_progress,
                            should_stop=self.abort.is_set, on_cluster=self._on_cluster)
        for i, result in enumerate(report.results):
            self._report(i, *_queue_status(result, self.jobs[i].csv))
        self.events.engine.emit(f"{report.cluster}: {report.summary}")

    def _on_cluster(self, info: ClusterInfo) -> None:
        self.events.engine.emit(info.description + (f"; dashboard {info.dashboard}" if info.dashboard else ""))

    def _on_progress(self, p: CorpusProgress) -> None:
        """A Dask thread's progress: plain values onto the queued signals."""
        i = self._index.get(p.input)
        if i is None:
            return
        self.events.frames.emit(p.frames_done, p.frames_total)
        if p.result is not None:
            self._report(i, *_queue_status(p.result, self.jobs[i].csv))
            return
        with self._lock:  # emitted under the lock: a clip's rows are posted in order, `file_done` last
            if i in self._reported:
                return  # a late event of a clip already finished
            if i not in self._started:
                self._started.add(i)
                self.events.file_started.emit(i, self.jobs[i].spec)
            self.events.progress.emit(i, p.input_done, p.input_total)

    def _report(self, index: int, status: str, message: str) -> None:
        """`file_done` once per clip (the end of the run re-reports what progress already did)."""
        with self._lock:
            if index not in self._reported:
                self._reported.add(index)
                self.events.file_done.emit(index, status, message)


def _queue_status(result: ItemResult, csv: Optional[str]) -> Tuple[str, str]:
    """A corpus result as the queue's (status, message)."""
    if result.status in FINAL_STATUSES:
        note = f" ({result.reason})" if result.reason else ""
        return "done", f"{result.rows} rows, {result.frames} frames → {csv}{note}"
    if result.status == "failed":
        return "failed", result.reason
    if result.frames:
        return "cancelled", f"stopped after {result.frames} frames; Resume finishes it"
    return "cancelled", "not started"


class BatchWindow(QWidget):
    """A tool window: the queue, an output folder, per-file and overall progress, start, resume and cancel."""

    status_changed = Signal(str)  # the status line's new text ("finished: ..." when a run ends)
    failed = Signal(str)  # a run that could not start or broke off, in one line (the main window shows it)

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
        self.dask = False  # the run (last or current) is on Dask
        self.error: Optional[str] = None  # why the last run failed as a whole

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
        self.engine_label = QLabel()
        self.engine_label.setWordWrap(True)
        self.file_label = QLabel("Current file")
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
        layout.addWidget(self.engine_label)
        layout.addWidget(self.file_label)
        layout.addWidget(self.file_bar)
        layout.addWidget(QLabel("Overall"))
        layout.addWidget(self.total_bar)
        layout.addWidget(self.status)
        layout.addLayout(buttons)
        self.show_engine()

    def _set_status(self, text: str) -> None:
        self.status.setText(text)
        self.status_changed.emit(text)

    def show_engine(self) -> None:
        """Say where Start runs (Preferences ▸ Batch queue) and what it writes."""
        scheduler = self.settings.batch_preferences()["dask_scheduler"].strip()
        if not scheduler:
            self.engine_label.setText("Runs in this process: one CSV per clip, <output folder>/<clip name>.csv.")
            return
        where = "a local Dask cluster" if scheduler.lower() == "local" else f"the Dask scheduler {scheduler}"
        self.engine_label.setText(f"Runs on {where} (Preferences): one CSV per clip, <output folder>/<clip "
                                  f"name>.csv, and the run's summary <output folder>/corpus.csv.")

    def showEvent(self, event) -> None:  # noqa: N802
        self.show_engine()
        super().showEvent(event)

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
        prefs = self.settings.batch_preferences()
        cluster = cluster_spec(prefs["dask_scheduler"], prefs["dask_workers"])
        try:
            outputs = queue_outputs(paths, out_dir)
            missing = dask_missing() if cluster is not None else None
            if missing:
                raise GazenetError(missing)
        except GazenetError as e:
            self._set_status(f"not started: {e}")
            self.failed.emit(str(e))
            return
        jobs = [BatchJob(p, out, None, resume) for p, out in zip(paths, outputs)]
        self.results, self.error, self.dask = [], None, cluster is not None
        self.show_engine()
        self.total_bar.setRange(0, len(jobs))
        self.total_bar.setValue(0)
        self.file_bar.setRange(0, 0 if self.dask else 100)  # Dask: busy until the cluster reports frames
        self.file_bar.setValue(0)
        self.file_label.setText("Frames, all files" if self.dask else "Current file")
        runner = (DaskBatchRunner(self.options_provider(), jobs, out_dir, cluster) if self.dask
                  else BatchRunner(self.backend, self.options_provider(), jobs))
        runner.events.file_started.connect(self._on_file_started)
        runner.events.progress.connect(self._on_progress)
        runner.events.file_done.connect(self._on_file_done)
        runner.events.frames.connect(self._on_frames)
        runner.events.engine.connect(self.engine_label.setText)
        runner.events.failed.connect(self._on_failed)
        runner.events.finished.connect(self._on_finished)
        self.ctl = WorkerThread(runner, "gazenet-batch", self)
        for b in (self.start_button, self.resume_button, self.clear_button):
            b.setEnabled(False)
        self.cancel_button.setEnabled(True)
        where = " on Dask (starting…)" if self.dask else ""
        self._set_status(f"{'resuming' if resume else 'annotating'} {len(jobs)} file(s){where}…")
        self.ctl.start("run")

    def cancel(self) -> None:
        """Stop after the current frame; finished files stay, the current one can be resumed."""
        if self.ctl is not None:
            self.ctl.worker.request_stop()
            self._set_status("cancelling…")

    def stop(self, timeout_ms: Optional[int] = None) -> bool:
        """Cancel as the Cancel button does and wait for the thread (the main window closing)."""
        return self.ctl is None or self.ctl.stop(STOP_MS[self.dask] if timeout_ms is None else timeout_ms)

    def _on_file_started(self, index: int, path: str) -> None:
        item = self.list.item(index)
        if item is not None:
            item.setText(f"{Path(path).name} — annotating…")
        if not self.dask:
            self.file_bar.setRange(0, 0)

    def _on_progress(self, index: int, done: int, total: int) -> None:
        if self.dask:  # several clips at once: each row shows its own frames, the bar all of them
            item = self.list.item(index)
            if item is not None:
                path = item.data(Qt.ItemDataRole.UserRole)
                item.setText(f"{Path(path).name} — annotating… {done}" + (f" of {total} frames" if total else ""))
        elif total > 0:
            self.file_bar.setRange(0, total)
            self.file_bar.setValue(done)

    def _on_frames(self, done: int, total: int) -> None:
        if total > 0:
            self.file_bar.setRange(0, total)
            self.file_bar.setValue(done)

    def _on_failed(self, text: str) -> None:
        self.error = text
        self.failed.emit(text)

    def _on_file_done(self, index: int, status: str, message: str) -> None:
        self.results.append((index, status, message))
        item = self.list.item(index)
        if item is not None:
            path = item.data(Qt.ItemDataRole.UserRole)
            item.setText(f"{Path(path).name} — {status}: {message}")
        # Overall counts the files the queue is through with; cancelled ones are not done.
        self.total_bar.setValue(sum(1 for _, s, _ in self.results if s != "cancelled"))
        if self.file_bar.maximum() == 0 and not self.dask:
            self.file_bar.setRange(0, 1)
            self.file_bar.setValue(1 if status == "done" else 0)

    def _on_finished(self) -> None:
        done = sum(1 for _, s, _ in self.results if s in ("done", "skipped"))
        cancelled = sum(1 for _, s, _ in self.results if s == "cancelled")
        text = f"finished: {done} of {len(self.results)} file(s) annotated"
        if cancelled:
            text += f"; {cancelled} cancelled (Resume finishes them)"
        if self.error:
            text += f"; the batch stopped: {self.error}"
        if self.file_bar.maximum() == 0:
            self.file_bar.setRange(0, 1)
        self._set_status(text)
        if self.ctl is not None:
            self.ctl.stop()
            self.ctl.deleteLater()
        self.ctl = None
        for b in (self.start_button, self.resume_button, self.clear_button):
            b.setEnabled(True)
        self.cancel_button.setEnabled(False)
