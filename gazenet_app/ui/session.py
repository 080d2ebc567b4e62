"""`Session`: the app's state without widgets (napari's ViewerModel under a thin window).

It owns the pipeline worker and keeps what the window shows: every FrameResult, the processing rate, errors and
notices, the source, the worker's state and catalog, review mode, export and the persisted options. The window
connects to its signals and calls its methods; nothing here draws, and tests drive it without a window.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from dataclasses import replace
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QImage

from gazenet_app.core.types import FrameResult
from gazenet_app.core.video import classify_paths
from gazenet_app.ui.backend import PipelineBackend, WorkerOptions
from gazenet_app.ui.batch import BatchJob, BatchRunner
from gazenet_app.ui.qthreading import WorkerThread, error_text
from gazenet_app.ui.recording import export_results, video_for_annotations
from gazenet_app.ui.settings import AppSettings
from gazenet_app.ui.worker import ModelStatus, PipelineWorker, SourceInfo, WorkerController, WorkerState

__all__ = ["Session", "PERSISTED_OPTIONS", "Notice", "plan_open"]

log = logging.getLogger(__name__)

#: Option keys persisted in the settings (as options/KEY), with their types; saved once the worker applied them.
#: The preset is saved only when the user picks one (webcams otherwise get 'live' for as long as they play).
PERSISTED_OPTIONS = {"detector": str, "preset": str, "detector_threshold": float, "device": str, "smoothing": bool,
                     "smooth_min_cutoff": float, "smooth_beta": float, "show_cube": bool, "show_text": bool,
                     "realtime": bool, "detect_every": int, "precision": str, "sequence": bool}

#: (text, kind): kind "error" (red), "notice" (amber), or "" with no text to hide the banner.
Notice = Tuple[str, str]


def plan_open(paths: Sequence[str]) -> Tuple[Any, Optional[str]]:
    """What to do with dropped/chosen paths: (the source to open or None, an annotation CSV to review or None).

    A folder wins, then a video, then the image(s) (several become one list); an unknown file is tried only when
    no CSV came with it.
    """
    kinds = classify_paths(paths)
    images = kinds["images"]
    spec = (kinds["folders"][:1] or kinds["videos"][:1]
            or ([images[0] if len(images) == 1 else images] if images else [])
            or (kinds["other"][:1] if not kinds["csv"] else []))
    return (spec[0] if spec else None), (kinds["csv"][0] if kinds["csv"] else None)


class Session(QObject):
    """One running app session: the worker, its results and state, errors, export and review."""

    source_opened = Signal(object)  # SourceInfo
    result_added = Signal(object)  # FrameResult (every one, in arrival order)
    state_changed = Signal(object)  # WorkerState
    catalog_changed = Signal(object)  # dict
    notice_changed = Signal(str, str)  # text, kind ("" hides the banner)
    status_message = Signal(str, int)  # text, milliseconds to show it
    ended = Signal(str)  # "" at a normal end, else why the stream stopped
    export_finished = Signal(str, str)  # status (done, failed, cancelled), message

    def __init__(self, backend: Optional[PipelineBackend] = None, options: Optional[WorkerOptions] = None,
                 settings: Optional[AppSettings] = None, overrides: Optional[Dict[str, Any]] = None,
                 parent: Optional[QObject] = None) -> None:
        super().__init__(parent)
        self.settings = settings or AppSettings()
        self.options = replace(options or self.saved_options(), **(overrides or {}))
        self.backend = backend or PipelineBackend()
        self.worker = PipelineWorker(self.backend, self.options)
        self.controller = WorkerController(self.worker, self)
        self.events = self.controller.events
        self.source_info: Optional[SourceInfo] = None
        self.state: Optional[WorkerState] = None
        self.catalog: Dict[str, Any] = {"models": [], "detectors": [], "presets": [], "gpus": 0}
        self.results: Dict[tuple, FrameResult] = {}  # (source, frame) -> result: everything processed
        self.frames_received = 0
        self.errors: List[str] = []
        self.last_result: Optional[FrameResult] = None
        self.ended_reason: Optional[str] = None
        self.notice: Notice = ("", "")
        self._arrivals: deque = deque(maxlen=60)
        self._export: Optional[WorkerThread] = None
        ev = self.events
        ev.source_opened.connect(self._on_source_opened)
        ev.frame_processed.connect(self._on_frame)
        ev.state_changed.connect(self._on_state)
        ev.catalog_ready.connect(self._on_catalog)
        ev.end_of_stream.connect(self._on_end)
        ev.message.connect(self._on_message)
        ev.failed.connect(self.report_error)

    # settings --------------------------------------------------------------------------------------------------
    def saved_options(self) -> WorkerOptions:
        """The options saved by the last session (defaults where nothing was saved)."""
        defaults = WorkerOptions()
        values: Dict[str, Any] = {}
        for key, kind in PERSISTED_OPTIONS.items():
            default = getattr(defaults, key)
            value = self.settings.get(f"options/{key}", default, kind)
            values[key] = value if value != "" else default
        return WorkerOptions(model=self.settings.get("options/model", None, str) or None, **values)

    def _persist(self, state: WorkerState) -> None:
        """Save what the worker applied (a detector that failed to build is never saved)."""
        for key in PERSISTED_OPTIONS:
            if key == "preset" or (key == "detector" and state.detector is None):
                continue
            self.settings.set(f"options/{key}", state.options.get(key))
        if state.model_status is ModelStatus.LOADED and state.model:
            self.settings.set("options/model", state.model)
        elif state.model_status is ModelStatus.UNLOADED:
            self.settings.set("options/model", None)

    # commands --------------------------------------------------------------------------------------------------
    def start(self) -> None:
        """Start the worker's thread (it builds the detector and loads the model there)."""
        self.controller.start()

    def set_options(self, **changes: Any) -> None:
        """Change worker options (WorkerOptions fields, or model=NAME_OR_PATH / "" for detection only)."""
        if changes.get("model"):
            self.status_message.emit(f"loading model {changes['model']}…", 0)
        if "preset" in changes:
            self.settings.set("options/preset", changes["preset"])  # the user's choice (see PERSISTED_OPTIONS)
        self.controller.set_options(**changes)

    def open(self, spec: Any, record_to: Optional[str] = None, play: bool = True) -> None:
        """Open a path, a list of image paths, a folder or a camera ('cam:N', or {"camera": N, ...}).

        Unless the user chose a detector preset, webcams get the 'live' preset and files the detector's default.
        """
        camera = isinstance(spec, (int, dict)) or (isinstance(spec, str) and spec.startswith("cam:"))
        if not self.settings.get("options/preset", None, str):
            wanted = "live" if camera else None
            current = self.state.options.get("preset") if self.state else self.options.preset
            if wanted != current:
                self.controller.set_options(preset=wanted)
        self.controller.open_source(spec, record_to=record_to, play=play)

    def review(self, csv_path: str, source_pending: bool = False) -> None:
        """Show an annotation CSV over the open source (or one being opened), else over the input its sidecar
        names when that file is found."""
        if not source_pending and self.source_info is None:
            video = video_for_annotations(csv_path)
            if video is None:
                self.report_error(f"open the video of {Path(csv_path).name} first, then review the annotations")
                return
            self.open(video)
        self.controller.load_review(csv_path)

    def stop_review(self) -> None:
        """Leave review mode: the pipeline runs again."""
        self.controller.stop_review()

    def take_image(self) -> Optional[Tuple[int, QImage]]:
        """The newest image the worker drew, or None (latest wins: older ones were dropped)."""
        return self.worker.latest.take()

    def fps(self) -> Optional[float]:
        """Frames processed per second over the last arrivals (None when idle for 2 s or too few)."""
        if len(self._arrivals) < 2 or time.monotonic() - self._arrivals[-1] > 2.0:
            return None
        span = self._arrivals[-1] - self._arrivals[0]
        return (len(self._arrivals) - 1) / span if span > 0 else None

    def batch_options(self) -> WorkerOptions:
        """The options batch jobs and exports use: the worker's current ones, every frame, its model."""
        opts = dict(self.state.options) if self.state else self.options.as_dict()
        opts["realtime"] = False
        if self.state is not None:
            opts["model"] = self.state.model
        return WorkerOptions(**opts)

    def export(self, path: str) -> int:
        """Write everything processed so far (ordered by frame) with the CLI's columns and a sidecar; rows."""
        if not self.results:
            self.report_error("nothing processed yet: open and play an input first")
            return 0
        meta = dict(self.state.provenance) if self.state else {}
        smoothing = bool(self.state and self.state.options.get("smoothing"))
        meta["smoothing_on"] = smoothing
        try:
            rows = export_results(path, self.results.values(), meta, smoothing=smoothing)
        except Exception as e:  # noqa: BLE001 - shown to the user, the session goes on
            self.report_error(f"export failed: {error_text(e)}")
            return 0
        self.status_message.emit(f"exported {rows} rows of {len(self.results)} frames to {path}", 8000)
        return rows

    def export_video(self, path: str) -> bool:
        """Write the open file with its overlays to `path` in the background (the batch queue is untouched)."""
        info = self.source_info
        if info is None or info.live or not isinstance(info.spec, str):
            self.report_error("open a video or image file first (webcams are recorded with Record)")
            return False
        if self._export is not None:
            self.report_error("an annotated video is already being written")
            return False
        runner = BatchRunner(self.backend, self.batch_options(), [BatchJob(info.spec, None, str(path))])
        runner.events.progress.connect(
            lambda _, done, total: self.status_message.emit(f"writing {Path(path).name}: frame {done}"
                                                            + (f" of {total}" if total else ""), 0))
        runner.events.file_done.connect(self._on_export_done)
        runner.events.finished.connect(self._on_export_finished)
        self._export = WorkerThread(runner, "gazenet-export", self)
        self._export.start("run")
        return True

    def _on_export_done(self, _: int, status: str, message: str) -> None:
        if status == "done":
            self.status_message.emit(f"annotated video written: {message}", 8000)
        else:
            self.report_error(f"annotated video not written: {message}")
        self.export_finished.emit(status, message)

    def _on_export_finished(self) -> None:
        if self._export is not None:
            self._export.stop()
            self._export.deleteLater()
        self._export = None

    def shutdown(self) -> bool:
        """Stop the export and the worker (closing the source and any recording); True when both stopped."""
        ok = self._export is None or self._export.stop()
        return self.controller.stop() and ok

    # worker -> session -----------------------------------------------------------------------------------------
    def report_error(self, text: str) -> None:
        """Record an error and show it (a failed command also re-syncs the views with the worker's state)."""
        log.warning("%s", text)
        self.errors.append(text)
        self._set_notice(text, "error")
        self.status_message.emit(text.splitlines()[0], 10000)
        if self.state is not None:
            self.state_changed.emit(self.state)

    def _set_notice(self, text: str, kind: str) -> None:
        self.notice = (text, kind)
        self.notice_changed.emit(text, kind)

    def _clear_error(self) -> None:
        if self.notice[1] == "error":
            self._set_notice("", "")

    def _on_source_opened(self, info: SourceInfo) -> None:
        self.source_info = info
        self.results.clear()
        self.last_result = None
        self.ended_reason = None
        self.frames_received = 0
        self._arrivals.clear()
        self._clear_error()  # a new source: old errors no longer apply (the no-model notice stays)
        self.source_opened.emit(info)

    def _on_frame(self, result: FrameResult) -> None:
        self.frames_received += 1
        self.results[(result.source, result.index)] = result
        self.last_result = result
        self._arrivals.append(time.monotonic())
        self.result_added.emit(result)

    def _on_state(self, state: WorkerState) -> None:
        old, self.state = self.state, state
        if old is not None and (state.model, state.detector) != (old.model, old.detector) \
                and state.detector is not None:
            self._clear_error()  # a later load or detector change succeeded: the old error is over
        if state.model_status is ModelStatus.NONE_INSTALLED:
            self._set_notice(state.model_note, "notice")
        elif self.notice[1] == "notice":
            self._set_notice("", "")
        self._persist(state)
        self.state_changed.emit(state)

    def _on_catalog(self, catalog: Dict[str, Any]) -> None:
        self.catalog = catalog
        self.catalog_changed.emit(catalog)

    def _on_end(self, reason: str) -> None:
        self.ended_reason = reason
        if reason:
            self.report_error(reason)
        else:
            self.status_message.emit("end of the input", 5000)
        self.ended.emit(reason)

    def _on_message(self, text: str) -> None:
        log.info("%s", text)
        self.status_message.emit(text.splitlines()[0], 8000)
