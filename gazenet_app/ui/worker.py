"""`PipelineWorker`: a QObject on its own QThread that owns the source, detector and pose model.

The thread boundary carries values only. Per-frame results travel on `frame_processed(FrameResult)`, a queued
signal that never drops anything (timelines, recording and export depend on every one). The image to show goes
through a `LatestImage` slot: the worker overwrites it and emits `image_ready` only when the window has taken the
previous one, so a window that falls behind skips stale images instead of queueing them. Every command (open,
play, seek, options, model, recording, shutdown) is a queued slot call, so it runs between two frames. Every
exception raised in a slot is caught and emitted as `failed(str)`; the last good state is kept.
"""

from __future__ import annotations

import functools
import logging
import threading
import time
import traceback
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Callable, Dict, Optional, Tuple

from PySide6.QtCore import QObject, QThread, QTimer, Signal, Slot
from PySide6.QtGui import QImage

from gazenet_app.core.errors import GazenetError
from gazenet_app.core.types import FrameResult
from gazenet_app.ui.backend import PipelineBackend, WorkerOptions, mirror_result
from gazenet_app.ui.qimage import ndarray_to_qimage

__all__ = ["PipelineWorker", "WorkerController", "WorkerEvents", "LatestImage", "SourceInfo", "WorkerState", "OpenRequest"]

log = logging.getLogger(__name__)

#: Threads that did not stop in time (kept referenced: destroying a running QThread aborts the process).
_STUCK: list = []


@dataclass(frozen=True)
class SourceInfo:
    """What the window needs to know about the opened source."""

    name: str
    kind: str
    fps: Optional[float]
    frame_count: Optional[int]
    live: bool  # a camera: no seeking, rolling timelines
    spec: Any = None


@dataclass(frozen=True)
class OpenRequest:
    """Open `spec`; optionally start recording to `record_to` before its first frame; play or stay paused."""

    spec: Any
    record_to: Optional[str] = None
    play: bool = True


@dataclass(frozen=True)
class WorkerState:
    """The worker's active configuration, for the status bar and menus."""

    model: Optional[str]
    model_info: Dict[str, Any]
    detector: str
    device: str
    playing: bool
    realtime: bool
    options: Dict[str, Any] = field(default_factory=dict)
    recording: Optional[str] = None
    review: Optional[str] = None
    provenance: Dict[str, Any] = field(default_factory=dict)


class LatestImage:
    """A one-item mailbox between threads: `put` overwrites, `take` empties; counts the images dropped."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._item: Optional[Tuple[int, QImage]] = None
        self.dropped = 0

    def put(self, index: int, image: QImage) -> bool:
        """Store the newest image; True when the mailbox was empty (the reader must be notified)."""
        with self._lock:
            was_empty = self._item is None
            if not was_empty:
                self.dropped += 1
            self._item = (index, image)
            return was_empty

    def take(self) -> Optional[Tuple[int, QImage]]:
        """The newest (frame index, image), or None if nothing new arrived."""
        with self._lock:
            item, self._item = self._item, None
            return item

    def pending(self) -> bool:
        """True while an image waits to be taken."""
        with self._lock:
            return self._item is not None


def _guarded(method: Callable) -> Callable:
    """Run a worker slot, turning any exception into `failed(message)` (user errors without a traceback)."""

    @functools.wraps(method)
    def wrapper(self: "PipelineWorker", *args, **kwargs):
        try:
            return method(self, *args, **kwargs)
        except GazenetError as e:
            log.warning("%s: %s", method.__name__, e)
            self.failed.emit(str(e))
        except ValueError as e:  # registries reject unknown names with ValueError listing the valid ones
            log.warning("%s: %s", method.__name__, e)
            self.failed.emit(str(e))
        except Exception as e:  # noqa: BLE001 - the worker must survive anything and report it
            log.error("%s failed:\n%s", method.__name__, traceback.format_exc())
            self.failed.emit(f"{type(e).__name__}: {e}")
        return None

    return wrapper


class PipelineWorker(QObject):
    """Owns source + pipeline in its thread; driven by queued slot calls, reports through signals."""

    source_opened = Signal(object)  # SourceInfo
    frame_processed = Signal(object)  # FrameResult, every one
    image_ready = Signal()  # take the newest image with `latest.take()`
    state_changed = Signal(object)  # WorkerState
    catalog_ready = Signal(object)  # dict: models, detectors, presets, gpus
    playing_changed = Signal(bool)
    end_of_stream = Signal(str)  # "" at a normal end, else why the stream stopped
    message = Signal(str)  # information for the status bar
    failed = Signal(str)
    stopped = Signal()  # shutdown finished; the thread quits right after

    def __init__(self, backend: Optional[PipelineBackend] = None, options: Optional[WorkerOptions] = None) -> None:
        super().__init__()
        self.backend = backend or PipelineBackend()
        self.options = options or WorkerOptions()
        self.latest = LatestImage()
        self.abort = threading.Event()  # set from any thread; checked once per frame
        self._timer: Optional[QTimer] = None
        self._source = None
        self._source_info: Optional[SourceInfo] = None
        self._iter = None
        self._detector = None
        self._model = None
        self._model_name: Optional[str] = None
        self._pipeline = None
        self._review = None
        self._review_path: Optional[str] = None
        self._recorder = None
        self._recording_path: Optional[str] = None
        self._playing = False
        self._last_frame = None
        self._last_result: Optional[FrameResult] = None
        self._published_index: Optional[int] = None
        self.frames_done = 0

    # lifecycle -----------------------------------------------------------------------------------------------
    @Slot()
    @_guarded
    def initialize(self) -> None:
        """Build the timer in the worker's thread, then the detector and the pose model (none is fine)."""
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self._tick)
        try:
            self.catalog_ready.emit(self.backend.catalog())
            self._build_initial_detector()
            self._load_initial_model()
            self._rebuild_pipeline()
        finally:
            self._emit_state()  # the window learns the state even when something above failed

    def _build_initial_detector(self) -> None:
        """The saved detector, else the default one, else none (frames play without faces)."""
        default = WorkerOptions().detector
        for attempt in (0, 1):
            try:
                self._build_detector()
                return
            except (GazenetError, ValueError) as e:
                if attempt == 1 or self.options.detector == default:
                    self._detector = None
                    self.failed.emit(f"{e} (no face detector: frames are shown without faces)")
                    return
                self.failed.emit(f"{e}; using {default} instead")
                self.options = replace(self.options, detector=default, preset=None, detector_threshold=None)

    def _load_initial_model(self) -> None:
        name = self.options.model or self.backend.default_model()
        if name is None:
            self.message.emit(self.backend.no_model_message())
            return
        try:
            self._model = self.backend.load_pose_model(name, self.options.device)
            self._model_name = self.backend.model_name(self._model, name)
        except GazenetError as e:
            self._model, self._model_name = None, None
            self.failed.emit(f"{e} (running detection only)")

    @Slot()
    def shutdown(self) -> None:
        """Stop playing, close the source and any recording, then quit the thread."""
        try:
            self.abort.set()
            self._set_playing(False)
            if self._timer is not None:
                timer, self._timer = self._timer, None
                timer.stop()
                timer.setParent(None)  # destroyed here, in its own thread (Qt timers die where they live)
                del timer
            self._close_recorder()
            self._close_source()
        except Exception as e:  # noqa: BLE001
            log.error("shutdown: %s", e)
            self.failed.emit(f"while stopping: {e}")
        finally:
            self.stopped.emit()
            QThread.currentThread().quit()  # the worker's own thread: its event loop ends after this slot

    # sources -------------------------------------------------------------------------------------------------
    @Slot(object)
    @_guarded
    def open_source(self, spec: Any) -> None:
        """Close the current source, open `spec` (path, list of paths, camera, or an OpenRequest) and play."""
        request = spec if isinstance(spec, OpenRequest) else OpenRequest(spec)
        spec = request.spec
        self.abort.clear()
        source = self.backend.open_source(spec)  # raises SourceError; the current source stays open then
        self._close_recorder()
        self._close_source()
        self._review, self._review_path = None, None
        self._source = source
        self._iter = iter(source)
        if self._pipeline is not None:
            self._pipeline.reset()
        live = source.frame_count is None
        self._source_info = SourceInfo(source.name, getattr(source, "kind", "source"), source.fps,
                                       source.frame_count, live, spec)
        self._last_frame, self._last_result = None, None
        self._published_index = None
        self.frames_done = 0
        self.source_opened.emit(self._source_info)
        for note in getattr(source, "notes", []):
            self.message.emit(note)
        if request.record_to:
            self.start_recording(request.record_to)
        if request.play:
            self._set_playing(True)
        else:
            self.step()

    @Slot()
    @_guarded
    def close_source(self) -> None:
        """Stop and release the current source."""
        self._set_playing(False)
        self._close_recorder()
        self._close_source()

    def _close_source(self) -> None:
        if self._source is not None:
            src, self._source, self._iter = self._source, None, None
            src.close()

    # playback ------------------------------------------------------------------------------------------------
    @Slot()
    @_guarded
    def play(self) -> None:
        """Process frames continuously (paced by the source's rate unless `realtime` is off)."""
        if self._source is None:
            return
        if self._iter is None:  # ended: start again from the beginning for files
            self._restart()
        self._set_playing(True)

    @Slot()
    @_guarded
    def pause(self) -> None:
        """Stop after the current frame."""
        self._set_playing(False)

    @Slot()
    @_guarded
    def toggle_play(self) -> None:
        """Play if paused, pause if playing."""
        if self._playing:
            self._set_playing(False)
        else:
            self.play()

    @Slot()
    @_guarded
    def step(self) -> None:
        """Pause and process exactly one more frame."""
        self._set_playing(False)
        if self._source is None:
            return
        if self._iter is None:
            self.end_of_stream.emit("")
            return
        self._process_next(force_image=True)

    @Slot(int)
    @_guarded
    def seek(self, index: int) -> None:
        """Jump to frame `index` and show it (files only); playback continues if it was playing."""
        if self._source is None or self._source_info is None or self._source_info.live:
            return
        n = self._source_info.frame_count
        if n is not None:
            index = max(0, min(int(index), n - 1))
        self._source.seek(index)
        self._iter = iter(self._source)
        if self._pipeline is not None:
            self._pipeline.reset()  # tracks and smoothing do not carry across a jump
        if not self._playing:
            self._process_next(force_image=True)

    def _restart(self) -> None:
        if self._source_info is not None and not self._source_info.live:
            self._source.seek(0)
            self._iter = iter(self._source)
            if self._pipeline is not None:
                self._pipeline.reset()

    def _set_playing(self, playing: bool) -> None:
        playing = bool(playing and self._source is not None and self._iter is not None)
        changed = playing != self._playing
        self._playing = playing
        if playing:
            self._schedule(0)
        elif self._timer is not None:
            self._timer.stop()
        if changed:
            self.playing_changed.emit(playing)
            self._emit_state()

    def _schedule(self, delay_ms: int) -> None:
        if self._timer is not None and self._playing:
            self._timer.start(max(0, int(delay_ms)))

    @Slot()
    def _tick(self) -> None:
        if not self._playing or self.abort.is_set():
            return
        try:
            started = time.monotonic()
            processed = self._process_next(force_image=False)
        except Exception as e:  # noqa: BLE001 - report, stop playing, keep the last good state
            log.error("frame failed:\n%s", traceback.format_exc())
            self._set_playing(False)
            self.failed.emit(str(e) if isinstance(e, GazenetError) else f"{type(e).__name__}: {e}")
            return
        if not processed:
            return
        delay = 0.0
        fps = self._source_info.fps if self._source_info else None
        if self.options.realtime and fps and not self._source_info.live:
            delay = 1000.0 / fps - (time.monotonic() - started) * 1000.0
        self._schedule(int(max(0.0, delay)))

    def _process_next(self, force_image: bool) -> bool:
        """Read, process, emit one frame; False at the end of the stream."""
        try:
            frame = next(self._iter)
        except StopIteration:
            frame = None
        if frame is None:
            reason = getattr(self._source, "error", None) or ""
            self._iter = None
            self._set_playing(False)
            if self._last_frame is not None and self._published_index != self._last_frame.index:
                self._publish_image(self._last_frame, self._last_result)  # the final frame is always shown
            self.end_of_stream.emit(reason)
            return False
        self._handle_frame(frame, force_image)
        return True

    def _handle_frame(self, frame, force_image: bool) -> None:
        t0 = time.perf_counter()
        if self._review is not None:
            result = self._review.process(frame)
        elif self._pipeline is not None:
            result = self._pipeline.process(frame)
        else:
            h, w = frame.rgb.shape[:2]
            result = FrameResult(frame.index, frame.timestamp_ms, frame.source, (), {}, (h, w))
        timing = dict(result.timing)
        timing["total"] = (time.perf_counter() - t0) * 1000.0
        result = replace(result, timing=timing)
        if self._recorder is not None:
            self._recorder.write(result)
        self._last_frame, self._last_result = frame, result
        self.frames_done += 1
        self.frame_processed.emit(result)
        # Draw only when the window has taken the previous image: a stale image is never even drawn.
        if force_image or not self.latest.pending():
            self._publish_image(frame, result)
        else:
            self.latest.dropped += 1

    def _publish_image(self, frame, result: Optional[FrameResult]) -> None:
        rgb = frame.rgb
        if result is not None:
            if self.options.mirror:
                rgb = rgb[:, ::-1]
                result = mirror_result(result)
            # Mirrored text would show the mirrored angles: the window's face table shows the true ones.
            rgb = self.backend.draw(rgb, result, show_cube=self.options.show_cube,
                                    show_text=self.options.show_text and not self.options.mirror)
        elif self.options.mirror:
            rgb = rgb[:, ::-1]
        self._published_index = frame.index
        if self.latest.put(frame.index, ndarray_to_qimage(rgb, copy=True)):
            self.image_ready.emit()

    # configuration -------------------------------------------------------------------------------------------
    @Slot(object)
    @_guarded
    def set_options(self, changes: Dict[str, Any]) -> None:
        """Apply option changes between frames; a model that fails to load leaves the previous one active.

        `model` is a registry name or a weights path ("" unloads the model: detection only).
        """
        changes = dict(changes)
        model = changes.pop("model", None)
        unknown = set(changes) - set(WorkerOptions.__dataclass_fields__)
        if unknown:
            raise ValueError(f"unknown worker options: {', '.join(sorted(unknown))}")
        old = self.options
        new = replace(old, **changes)
        if (new.detector, new.preset, new.detector_threshold) != (old.detector, old.preset,
                                                                 old.detector_threshold):
            detector = self.backend.make_detector(new.detector, new.preset, new.detector_threshold)
            self._detector = detector
        if new.device != old.device and self._model_name is not None and model is None:
            model = self._model_name
        self.options = new
        if model == "":
            self._model, self._model_name = None, None  # detection only
            self.message.emit("pose model unloaded: running face detection only")
        elif model is not None:
            self._load_model(model)
        self._rebuild_pipeline()
        self._emit_state()
        if not self._playing and self._last_frame is not None:
            self._publish_image(self._last_frame, self._last_result)

    def _load_model(self, name_or_path: str) -> None:
        try:
            model = self.backend.load_pose_model(name_or_path, self.options.device)
        except Exception as e:  # noqa: BLE001 - the previous model stays active
            active = self._model_name or "none (detection only)"
            reason = str(e) if isinstance(e, GazenetError) else f"{type(e).__name__}: {e}"
            raise GazenetError(f"could not load {name_or_path}: {reason}\nThe active model is still {active}.") \
                from None
        self._model = model
        self._model_name = self.backend.model_name(model, name_or_path)
        self.message.emit(f"model {self._model_name} loaded")

    def _build_detector(self) -> None:
        self._detector = self.backend.make_detector(self.options.detector, self.options.preset,
                                                    self.options.detector_threshold)

    def _rebuild_pipeline(self) -> None:
        if self._detector is None:
            self._pipeline = None  # frames still play, without faces
            return
        old = self._pipeline
        self._pipeline = self.backend.make_pipeline(self._detector, self._model, self.options, previous=old)

    def _emit_state(self) -> None:
        info = self.backend.model_info(self._model) if self._model is not None else {}
        self.state_changed.emit(WorkerState(
            model=self._model_name, model_info=info, detector=self.options.detector, device=self.options.device,
            playing=self._playing, realtime=self.options.realtime, options=self.options.as_dict(),
            recording=self._recording_path, review=self._review_path, provenance=self.describe()))

    def describe(self) -> Dict[str, Any]:
        """Provenance of the active pipeline (for sidecars)."""
        meta = self._pipeline.describe() if self._pipeline is not None and hasattr(self._pipeline, "describe") \
            else {}
        meta = dict(meta)
        meta.setdefault("model", self._model_name)
        meta.setdefault("detector", self.options.detector)
        if self._source is not None and hasattr(self._source, "describe"):
            meta["input"] = self._source.describe()
        return meta

    # review and recording --------------------------------------------------------------------------------------
    @Slot(str)
    @_guarded
    def load_review(self, csv_path: str) -> None:
        """Draw the open source's overlays from an annotation CSV instead of running the pipeline."""
        self._review = self.backend.make_review(csv_path)
        self._review_path = str(csv_path)
        self._restart()
        self._emit_state()
        self.message.emit(f"reviewing {Path(csv_path).name}: overlays and timelines come from the file")
        if self._source is not None:
            self._set_playing(True)

    @Slot()
    @_guarded
    def stop_review(self) -> None:
        """Go back to running the pipeline."""
        self._review, self._review_path = None, None
        self._emit_state()

    @Slot(str)
    @_guarded
    def start_recording(self, path: str) -> None:
        """Write every processed frame's rows to `path` (CSV or .jsonl), flushed frame by frame."""
        self._close_recorder()
        self._recorder = self.backend.make_recorder(path, self.describe(), smoothing=self.options.smoothing)
        self._recording_path = str(path)
        self._emit_state()
        self.message.emit(f"recording to {path}")

    @Slot()
    @_guarded
    def stop_recording(self) -> None:
        """Finish the recording file (atomic rename of the partial file)."""
        path = self._recording_path
        self._close_recorder()
        if path:
            self.message.emit(f"recording saved to {path}")

    def _close_recorder(self) -> None:
        if self._recorder is not None:
            rec, self._recorder = self._recorder, None
            self._recording_path = None
            rec.close()
            self._emit_state()


class WorkerEvents(QObject):
    """The worker's signals re-emitted in the thread that made the controller (the GUI thread).

    A plain Python callable connected straight to a worker signal runs in the worker's thread; connected here
    the delivery is queued and it runs in the GUI thread (pytest-qt's blockers need exactly that).
    """

    source_opened = Signal(object)
    frame_processed = Signal(object)
    image_ready = Signal()
    state_changed = Signal(object)
    catalog_ready = Signal(object)
    playing_changed = Signal(bool)
    end_of_stream = Signal(str)
    message = Signal(str)
    failed = Signal(str)
    stopped = Signal()

    NAMES = ("source_opened", "frame_processed", "image_ready", "state_changed", "catalog_ready",
             "playing_changed", "end_of_stream", "message", "failed", "stopped")

    def __init__(self, worker: "PipelineWorker", parent: Optional[QObject] = None) -> None:
        super().__init__(parent)
        for name in self.NAMES:
            getattr(worker, name).connect(getattr(self, name))


class WorkerController(QObject):
    """Lives in the GUI thread: starts the worker's thread, forwards commands as queued signals, stops it cleanly."""

    _open_source = Signal(object)
    _close_source = Signal()
    _play = Signal()
    _pause = Signal()
    _toggle = Signal()
    _step = Signal()
    _seek = Signal(int)
    _set_options = Signal(object)
    _load_review = Signal(str)
    _stop_review = Signal()
    _start_recording = Signal(str)
    _stop_recording = Signal()
    _shutdown = Signal()

    def __init__(self, worker: PipelineWorker, parent: Optional[QObject] = None) -> None:
        super().__init__(parent)
        self.worker = worker
        #: The worker's signals delivered in this (GUI) thread: connect plain callables here.
        self.events = WorkerEvents(worker, self)
        self.thread = QThread()
        self.thread.setObjectName("gazenet-pipeline")
        worker.moveToThread(self.thread)
        self.thread.started.connect(worker.initialize)
        self._open_source.connect(worker.open_source)
        self._close_source.connect(worker.close_source)
        self._play.connect(worker.play)
        self._pause.connect(worker.pause)
        self._toggle.connect(worker.toggle_play)
        self._step.connect(worker.step)
        self._seek.connect(worker.seek)
        self._set_options.connect(worker.set_options)
        self._load_review.connect(worker.load_review)
        self._stop_review.connect(worker.stop_review)
        self._start_recording.connect(worker.start_recording)
        self._stop_recording.connect(worker.stop_recording)
        self._shutdown.connect(worker.shutdown)
        self._stopped = False

    def start(self) -> None:
        """Start the worker's thread (the worker builds its detector and model there)."""
        self.thread.start()

    def is_running(self) -> bool:
        """True while the worker's thread runs."""
        return self.thread.isRunning()

    def open_source(self, spec: Any, record_to: Optional[str] = None, play: bool = True) -> None:
        """Open a path, a list of paths, a folder or a camera index ('cam:0'); optionally record from frame one."""
        self._open_source.emit(OpenRequest(spec, record_to, play))

    def close_source(self) -> None:
        self._close_source.emit()

    def play(self) -> None:
        self._play.emit()

    def pause(self) -> None:
        self._pause.emit()

    def toggle_play(self) -> None:
        self._toggle.emit()

    def step(self) -> None:
        self._step.emit()

    def seek(self, index: int) -> None:
        self._seek.emit(int(index))

    def set_options(self, **changes: Any) -> None:
        """Change options (WorkerOptions fields, or model=NAME_OR_PATH); applied between frames."""
        self._set_options.emit(changes)

    def load_review(self, csv_path: str) -> None:
        self._load_review.emit(str(csv_path))

    def stop_review(self) -> None:
        self._stop_review.emit()

    def start_recording(self, path: str) -> None:
        self._start_recording.emit(str(path))

    def stop_recording(self) -> None:
        self._stop_recording.emit()

    def stop(self, timeout_ms: int = 10000) -> bool:
        """Ask the worker to close everything and quit; wait for the thread. True when it stopped in time."""
        if self._stopped:
            return True
        self.worker.abort.set()
        if self.thread.isRunning():
            self._shutdown.emit()
            finished = self.thread.wait(timeout_ms)
        else:
            finished = True
        if not finished:
            # Stuck in a blocking read (a hung camera): never destroy a running QThread; keep it referenced.
            log.error("the pipeline thread did not stop within %d ms", timeout_ms)
            _STUCK.append((self.thread, self.worker))
            return False
        self._stopped = True
        # The thread is gone: anything still open (shutdown never ran) is closed from here.
        self.worker._close_recorder()
        self.worker._close_source()
        return True
