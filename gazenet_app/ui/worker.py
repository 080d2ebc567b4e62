"""`PipelineWorker`: the worker (see qthreading) that owns the source, detector and pose model in its thread.

The thread boundary carries values only. Per-frame results travel on `frame_processed(FrameResult)`, a queued
signal that never drops anything (timelines, recording and export depend on every one). The image to show goes
through a `LatestImage` slot: the worker overwrites it and emits `image_ready` only when the window has taken the
previous one, so a window that falls behind skips stale images instead of queueing them. Every command (open,
play, seek, options, model, recording, shutdown) goes through `WorkerBase.execute`, so it runs between two
frames and any exception it raises becomes `failed(str)`; the last good state is kept.
"""

from __future__ import annotations

import enum
import logging
import threading
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Dict, Optional, Tuple

from PySide6.QtCore import QObject, QTimer, Signal, Slot
from PySide6.QtGui import QImage

from gazenet_app.core.errors import GazenetError
from gazenet_app.core.types import FrameResult
from gazenet_app.ui.backend import PipelineBackend, WorkerOptions, mirror_result
from gazenet_app.ui.qimage import ndarray_to_qimage
from gazenet_app.ui.qthreading import WorkerBase, WorkerSignals, WorkerThread, error_text

__all__ = ["PipelineWorker", "PipelineSignals", "WorkerController", "LatestImage", "SourceInfo", "WorkerState",
           "ModelStatus"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SourceInfo:
    """What the window needs to know about the opened source."""

    name: str
    kind: str
    fps: Optional[float]
    frame_count: Optional[int]
    live: bool  # a camera: no seeking, rolling timelines
    spec: Any = None


class ModelStatus(enum.Enum):
    """Why a pose model is, or is not, active (the window shows a notice for NONE_INSTALLED)."""

    LOADED = "loaded"
    NONE_INSTALLED = "none installed"
    UNLOADED = "unloaded"  # the user chose detection only
    FAILED = "failed"  # the start-up model did not load


@dataclass(frozen=True)
class WorkerState:
    """The worker's active configuration, for the status bar and menus."""

    model: Optional[str]
    model_info: Dict[str, Any]
    detector: Optional[str]  # None when no detector could be built (frames play without faces)
    device: str
    playing: bool
    realtime: bool
    options: Dict[str, Any] = field(default_factory=dict)
    recording: Optional[str] = None
    review: Optional[str] = None
    provenance: Dict[str, Any] = field(default_factory=dict)
    model_status: ModelStatus = ModelStatus.LOADED
    model_note: str = ""  # what to do about the model status, in the user's words

    @property
    def precision(self) -> Optional[str]:
        """The loaded model's precision (fp32, fused, int8), from its card."""
        value = self.model_info.get("precision")
        return str(value) if value else None


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


class PipelineSignals(WorkerSignals):
    """What the pipeline worker reports (declared once; delivered in the GUI thread)."""

    source_opened = Signal(object)  # SourceInfo
    frame_processed = Signal(object)  # FrameResult, every one
    image_ready = Signal()  # take the newest image with `worker.latest.take()`
    state_changed = Signal(object)  # WorkerState
    catalog_ready = Signal(object)  # dict: models, detectors, presets, gpus
    playing_changed = Signal(bool)
    end_of_stream = Signal(str)  # "" at a normal end, else why the stream stopped
    message = Signal(str)  # information for the status bar
    #: shutdown finished (the base's `finished`, under the name the window and tests use)
    stopped = WorkerSignals.finished


class PipelineWorker(WorkerBase):
    """Owns source + pipeline in its thread; driven by `execute` commands, reports through `events`."""

    COMMANDS = frozenset({"initialize", "shutdown", "open_source", "close_source", "play", "pause", "toggle_play",
                          "step", "seek", "set_options", "load_review", "stop_review", "start_recording",
                          "stop_recording"})
    signals_class = PipelineSignals

    #: How often (s) the "frames skipped to keep real time" note is repeated at most.
    SKIP_NOTE_EVERY_S = 2.0

    def __init__(self, backend: Optional[PipelineBackend] = None, options: Optional[WorkerOptions] = None) -> None:
        super().__init__()
        self.backend = backend or PipelineBackend()
        self.options = options or WorkerOptions()
        self.latest = LatestImage()
        self._timer: Optional[QTimer] = None
        self._source = None
        self._source_info: Optional[SourceInfo] = None
        self._iter = None
        self._detector = None
        self._model = None
        self._model_name: Optional[str] = None
        self._model_status = ModelStatus.LOADED
        self._pipeline = None
        self._review = None
        self._review_path: Optional[str] = None
        self._recorder = None
        self._recording_path: Optional[str] = None
        self._playing = False
        self._last_frame = None
        self._last_result: Optional[FrameResult] = None
        self._published_index: Optional[int] = None
        self._clock: Optional[Tuple[float, float]] = None  # (wall time, source ms) when real-time play started
        self._skipped = 0
        self._skip_noted = 0.0
        self.frames_done = 0

    # lifecycle -----------------------------------------------------------------------------------------------
    def initialize(self) -> None:
        """Build the timer in the worker's thread, then the detector and the pose model (none is fine)."""
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self._tick)
        try:
            self.events.catalog_ready.emit(self.backend.catalog())
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
                log.warning("detector %s: %s", self.options.detector, e)
                if attempt == 1 or self.options.detector == default:
                    self._detector = None
                    self.events.failed.emit(f"The face detector {self.options.detector!r} cannot run on this "
                                            "computer: frames are shown without faces.")
                    return
                self.events.failed.emit(f"The face detector {self.options.detector!r} chosen last time is not "
                                        f"installed on this computer; using {default} instead.")
                self.options = replace(self.options, detector=default, preset=None, detector_threshold=None)

    def _load_initial_model(self) -> None:
        name = self.options.model or self.backend.default_model()
        if name is None:
            self._model_status = ModelStatus.NONE_INSTALLED
            self.events.message.emit(self.backend.no_model_message())
            return
        try:
            self._model = self.backend.load_pose_model(name, self.options.device, self.options.precision)
            self._model_name = self.backend.model_name(self._model, name)
            self._model_status = ModelStatus.LOADED
        except GazenetError as e:
            self._model, self._model_name, self._model_status = None, None, ModelStatus.FAILED
            self.events.failed.emit(f"{e} (running detection only)")

    def close(self) -> None:
        """Stop playing, close any recording and the source (idempotent)."""
        self._set_playing(False)
        if self._timer is not None:
            timer, self._timer = self._timer, None
            timer.stop()
            timer.setParent(None)  # destroyed here, in its own thread (Qt timers die where they live)
            del timer
        self._close_recorder()
        self._close_source()

    # sources -------------------------------------------------------------------------------------------------
    def open_source(self, spec: Any, record_to: Optional[str] = None, play: bool = True) -> None:
        """Close the current source, open `spec` (path, list of paths, camera), optionally record, then play."""
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
        self._skipped = 0
        self.frames_done = 0
        self.events.source_opened.emit(self._source_info)
        for note in getattr(source, "notes", []):
            self.events.message.emit(note)
        if record_to:
            self.start_recording(record_to)
        if play:
            self._set_playing(True)
        else:
            self.step()

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
    def play(self) -> None:
        """Process frames continuously (paced by the source's rate unless `realtime` is off)."""
        if self._source is None:
            return
        if self._iter is None:  # ended: start again from the beginning for files
            self._restart()
        self._set_playing(True)

    def pause(self) -> None:
        """Stop after the current frame."""
        self._set_playing(False)

    def toggle_play(self) -> None:
        """Play if paused, pause if playing."""
        if self._playing:
            self._set_playing(False)
        else:
            self.play()

    def step(self, delta: int = 1) -> None:
        """Pause and show the frame `delta` frames after the current one (negative: back; files only)."""
        self._set_playing(False)
        if self._source is None:
            return
        if delta != 1:
            current = self._last_frame.index if self._last_frame is not None else 0
            self.seek(current + int(delta))
            return
        if self._iter is None:
            self.events.end_of_stream.emit("")
            return
        self._process_next(force_image=True)

    def seek(self, index: int) -> None:
        """Jump to frame `index` and show it (files only; -1 is the last frame); playing goes on if it was."""
        if self._source is None or self._source_info is None or self._source_info.live:
            return
        n = self._source_info.frame_count
        if n is not None:
            index = n - 1 if int(index) < 0 else max(0, min(int(index), n - 1))
        self._jump(index)
        if not self._playing:
            self._process_next(force_image=True)

    def _jump(self, index: int) -> None:
        self._source.seek(index)
        self._iter = iter(self._source)
        self._clock = None
        if self._pipeline is not None:
            self._pipeline.reset()  # tracks and smoothing do not carry across a jump

    def _restart(self) -> None:
        if self._source_info is not None and not self._source_info.live:
            self._jump(0)

    def _set_playing(self, playing: bool) -> None:
        playing = bool(playing and self._source is not None and self._iter is not None)
        changed = playing != self._playing
        self._playing = playing
        self._clock = None
        if playing:
            self._schedule(0)
        elif self._timer is not None:
            self._timer.stop()
        if changed:
            self.events.playing_changed.emit(playing)
            self._emit_state()

    def _schedule(self, delay_ms: int) -> None:
        if self._timer is not None and self._playing:
            self._timer.start(max(0, int(delay_ms)))

    @Slot()
    def _tick(self) -> None:
        if not self._playing or self.abort.is_set():
            return
        if self.guard(self._process_next, False) is None:  # failed: stop playing, keep the last good state
            self._set_playing(False)
            return
        if self._playing:
            self._schedule(self._real_time_delay_ms())

    def _paced(self) -> bool:
        info = self._source_info
        return bool(self.options.realtime and info is not None and info.fps and not info.live)

    def _real_time_delay_ms(self) -> float:
        """Wait until the next frame is due; when processing fell behind, skip frames to stay in real time."""
        if not self._paced() or self._last_frame is None:
            return 0.0
        now = time.monotonic()
        if self._clock is None:
            self._clock = (now, self._last_frame.timestamp_ms)
        wall0, ms0 = self._clock
        period_ms = 1000.0 / self._source_info.fps
        due = wall0 + (self._last_frame.timestamp_ms + period_ms - ms0) / 1000.0
        behind = int((now - due) * 1000.0 / period_ms)
        n = self._source_info.frame_count
        if behind >= 1 and n is not None and self._last_frame.index + 1 + behind < n:
            self._source.seek(self._last_frame.index + 1 + behind)
            self._iter = iter(self._source)
            self._skipped += behind
            if now - self._skip_noted >= self.SKIP_NOTE_EVERY_S:
                self._skip_noted = now
                self.events.message.emit(f"real time: {self._skipped} frames skipped so far (processing is "
                                         "slower than the clip; 'Every frame' processes them all)")
            return 0.0
        return max(0.0, (due - now) * 1000.0)

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
            self.events.end_of_stream.emit(reason)
            return False
        self._handle_frame(frame, force_image)
        return True

    def _handle_frame(self, frame, force_image: bool) -> None:
        result = self._process(frame)
        if self._recorder is not None:
            self._recorder.write(result)
        self._last_frame, self._last_result = frame, result
        self.frames_done += 1
        self.events.frame_processed.emit(result)
        # Draw only when the window has taken the previous image: a stale image is never even drawn.
        if force_image or not self.latest.pending():
            self._publish_image(frame, result)
        else:
            self.latest.dropped += 1

    def _process(self, frame) -> FrameResult:
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
        return replace(result, timing=timing)

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
            self.events.image_ready.emit()

    # configuration -------------------------------------------------------------------------------------------
    def set_options(self, **changes: Any) -> None:
        """Apply option changes between frames; a model that fails to load leaves the previous one active.

        `model` is a registry name or a weights path ("" unloads the model: detection only). While paused, the
        frame shown is processed again, so the image and the table never show another setting's faces.
        """
        model = changes.pop("model", None)
        unknown = set(changes) - set(WorkerOptions.__dataclass_fields__)
        if unknown:
            raise ValueError(f"unknown worker options: {', '.join(sorted(unknown))}")
        old = self.options
        new = replace(old, **changes)
        if (new.detector, new.preset, new.detector_threshold) != (old.detector, old.preset,
                                                                 old.detector_threshold):
            self._detector = self.backend.make_detector(new.detector, new.preset, new.detector_threshold)
        reload = (new.device, new.precision) != (old.device, old.precision)
        if reload and self._model_name is not None and model is None:
            model = self._model_name
        self.options = new
        if model == "":
            self._model, self._model_name, self._model_status = None, None, ModelStatus.UNLOADED
            self.events.message.emit("pose model unloaded: running face detection only")
        elif model is not None:
            self._load_model(model)
        self._rebuild_pipeline()
        self._emit_state()
        if not self._playing and self._last_frame is not None:
            self._refresh_shown_frame(changes.keys() | ({"model"} if model is not None else set()))

    #: Options that only change how a frame is drawn (everything else changes its result).
    _DRAW_ONLY = frozenset({"show_cube", "show_text", "mirror", "realtime", "sequence"})

    def _refresh_shown_frame(self, changed) -> None:
        """Show the paused frame with the new settings: processed again unless only the drawing changed."""
        if set(changed) - self._DRAW_ONLY:
            if self._pipeline is not None:
                self._pipeline.reset()
            self._last_result = self._process(self._last_frame)
            self.events.frame_processed.emit(self._last_result)
        self._publish_image(self._last_frame, self._last_result)

    def _load_model(self, name_or_path: str) -> None:
        try:
            model = self.backend.load_pose_model(name_or_path, self.options.device, self.options.precision)
        except Exception as e:  # noqa: BLE001 - the previous model stays active
            active = self._model_name or "none (detection only)"
            raise GazenetError(f"could not load {name_or_path}: {error_text(e)}\n"
                               f"The active model is still {active}.") from None
        self._model = model
        self._model_name = self.backend.model_name(model, name_or_path)
        self._model_status = ModelStatus.LOADED
        self.events.message.emit(f"model {self._model_name} loaded")

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
        note = self.backend.no_model_message() if self._model_status is ModelStatus.NONE_INSTALLED else ""
        self.events.state_changed.emit(WorkerState(
            model=self._model_name, model_info=info,
            detector=self.options.detector if self._detector is not None else None, device=self.options.device,
            playing=self._playing, realtime=self.options.realtime, options=self.options.as_dict(),
            recording=self._recording_path, review=self._review_path, provenance=self.describe(),
            model_status=self._model_status, model_note=note))

    def describe(self) -> Dict[str, Any]:
        """Provenance of the active pipeline (for sidecars)."""
        meta = self._pipeline.describe() if self._pipeline is not None and hasattr(self._pipeline, "describe") \
            else {}
        meta = dict(meta)
        meta.setdefault("model", self._model_name)
        meta.setdefault("detector", self.options.detector)
        if self._source is not None and hasattr(self._source, "describe"):
            meta["input"] = self._source.describe()
        if self._review is not None:
            meta["review_meta"] = self._review.describe()
        return meta

    # review and recording --------------------------------------------------------------------------------------
    def load_review(self, csv_path: str) -> None:
        """Draw the open source's overlays from an annotation CSV instead of running the pipeline."""
        self._review = self.backend.make_review(csv_path)
        self._review_path = str(csv_path)
        self._restart()
        self._emit_state()
        self.events.message.emit(f"reviewing {Path(csv_path).name}: overlays and timelines come from the file")
        if self._source is not None:
            self._set_playing(True)

    def stop_review(self) -> None:
        """Go back to running the pipeline (from the start of the input)."""
        self._review, self._review_path = None, None
        self._restart()
        self._emit_state()
        self.events.message.emit("review stopped: the pipeline runs again")

    def start_recording(self, path: str) -> None:
        """Write every processed frame's rows to `path` (CSV or .jsonl), flushed frame by frame."""
        self._close_recorder()
        self._recorder = self.backend.make_recorder(path, self.describe(), smoothing=self.options.smoothing,
                                                    source=self._source)
        self._recording_path = str(path)
        self._emit_state()
        self.events.message.emit(f"recording to {path}")

    def stop_recording(self) -> None:
        """Finish the recording file (atomic rename of the partial file)."""
        path = self._recording_path
        self._close_recorder()
        if path:
            self.events.message.emit(f"recording saved to {path}")

    def _close_recorder(self) -> None:
        if self._recorder is not None:
            rec, self._recorder = self._recorder, None
            self._recording_path = None
            rec.close()
            self._emit_state()


class WorkerController(WorkerThread):
    """GUI side of the pipeline worker: `send(command, *args)` (or `controller.<command>(...)`), `stop()`.

    The commands are the worker's `COMMANDS`; `controller.seek(20)` is `controller.send("seek", 20)`.
    """

    def __init__(self, worker: PipelineWorker, parent: Optional[QObject] = None) -> None:
        super().__init__(worker, "gazenet-pipeline", parent)

    def start(self) -> None:  # type: ignore[override]
        """Start the worker's thread; the worker builds its detector and model there."""
        super().start("initialize")

    def __getattr__(self, name: str):
        if name in PipelineWorker.COMMANDS and name not in ("initialize", "shutdown"):
            return lambda *args, **kwargs: self.send(name, *args, **kwargs)
        raise AttributeError(name)
