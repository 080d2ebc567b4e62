"""The frame pipeline and the one annotation loop (Qt-free; the CLI, the app and the bench all use them).

`PipelineConfig` (frozen) holds every setting and `build_pipeline(cfg)` is the one place that assembles
detector + pose model + tracker + smoother, with each default (detector, precision, default model) taken from
the module that owns it.

`Pipeline.process(frame)`: detector -> canonical boxes -> tracker (face ids) -> crops with the pose model's
crop preset -> ONE batched pose forward for all faces -> smoother -> `FrameResult` with per-stage timings (ms).

`annotate(source, pipeline, outputs, ...)`: validate, open, loop, finish: walks a source through the pipeline
and writes every frame through a `core.results.OutputSet` (CSV, JSON Lines, annotated video, sidecar).
Stopping (should_stop, Ctrl-C, an error) closes the writers without finishing them, so the rows stay in the
`.partial` files and `resume=True` continues after the last complete frame without duplicate rows.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional

import numpy as np

from gazenet_app import __version__
from gazenet_app.core.errors import DetectorError, ExportError, GazenetError
from gazenet_app.core.protocols import Detector, PoseModel, Smoother, Tracker
from gazenet_app.core.outputs_guard import input_identity, source_files
from gazenet_app.core.results import OutputSet, sidecar_path
from gazenet_app.core.transforms import CropPreset, crop_face, expand_box, get_crop_preset
from gazenet_app.core.types import FaceBox, FaceResult, FrameResult, HeadPose
from gazenet_app.core.video import Frame, FrameSource
from gazenet_app.detect.registry import DEFAULT_DETECTOR

__all__ = [
    "PipelineConfig",
    "build_pipeline",
    "build_detector",
    "Pipeline",
    "POSE_VALID_LIMIT",
    "CONVENTION",
    "AnnotateOutputs",
    "AnnotateSummary",
    "annotate",
]

log = logging.getLogger(__name__)

#: |angle| at or beyond this (degrees) is outside what a 66-bin Hopenet can express (bins end at +-99):
#: the expectation saturates there, e.g. for a head seen from behind; such poses are marked invalid.
POSE_VALID_LIMIT = 97.0

CONVENTION = ("degrees, Hopenet's convention: yaw > 0 turns the nose toward image-left, pitch > 0 looks up, "
              "roll > 0 tilts the head clockwise on screen; R = Rx(-pitch) @ Ry(yaw) @ Rz(roll) "
              "(gazenet_app.core.geometry)")


@dataclass(frozen=True)
class PipelineConfig:
    """Everything that decides what a pipeline computes; `build_pipeline(cfg)` turns it into one.

    `model`: a pose model name or path (None: the default model); `precision`: `auto`, `fp32`, `fused` or
    `int8` (None: `$GAZENET_PRECISION`, else auto; `model_zoo.modes`); `device`: `cpu` or `gpu:N`;
    `detector` / `preset` / `detector_threshold`: the face detector (`detect.registry`); `detect_every`: run
    it on every Nth frame and follow the faces in between; `tracking`: keep face ids from frame to frame
    (False: every frame on its own); `smoothing` (+ One-Euro `smooth_min_cutoff`, `smooth_beta`);
    `sequence`: a list or folder of images is the frames of one video (False: independent photos, no face
    carried from one to the next); `estimate_pose` False: detect and track only (no pose model);
    `require_model`: False lets a pipeline detect and track only when no pose model is installed at all (the
    app), True raises ModelNotFoundError saying how to get one.
    """

    model: Optional[str] = None
    precision: Optional[str] = None
    device: str = "cpu"
    detector: str = DEFAULT_DETECTOR
    preset: Optional[str] = None
    detector_threshold: Optional[float] = None
    detect_every: int = 1
    tracking: bool = True
    smoothing: bool = False
    smooth_min_cutoff: float = 1.0
    smooth_beta: float = 0.05
    sequence: bool = False
    estimate_pose: bool = True
    require_model: bool = True


def _ms(t0: float) -> float:
    return (time.perf_counter() - t0) * 1000.0


class Pipeline:
    """Frame -> tracked, smoothed face poses; one batched pose forward per frame.

    Built by `build_pipeline(cfg)`; the components are the `core.protocols` interfaces. `pose_model` None
    detects and tracks only (every pose None and `pose_valid` false: the app with no model installed).
    `detect_every`: run the detector on every Nth frame and let the tracker follow faces in between.
    `tracking` False or, unless `sequence`, a frame from another file than the last (the images of a folder)
    starts with no tracks: each photo is read on its own.
    """

    def __init__(self, detector: Detector, pose_model: Optional[PoseModel], tracker: Optional[Tracker] = None,
                 smoother: Optional[Smoother] = None, detect_every: int = 1,
                 valid_limit: float = POSE_VALID_LIMIT, *, tracking: bool = True, sequence: bool = False) -> None:
        if detect_every < 1:
            raise ValueError(f"detect_every must be >= 1, got {detect_every}")
        self.detector = detector
        self.pose_model = pose_model
        self.tracker: Tracker = tracker if tracker is not None else _default_tracker()
        self.smoother = smoother
        self.detect_every = int(detect_every)
        self.valid_limit = float(valid_limit)
        self.tracking = bool(tracking)
        self.sequence = bool(sequence)
        preset = pose_model.crop_preset if pose_model is not None else "gazenet"
        self.crop_preset: CropPreset = get_crop_preset(preset) if isinstance(preset, str) else preset
        self.input_size = int(pose_model.input_size) if pose_model is not None else 224
        self._count = 0
        self._live_ids: set = set()
        self._last_source: Optional[str] = None
        #: Added to the tracker's ids (a resumed annotation continues after the ids already written).
        self.id_offset = 0

    def reset(self) -> None:
        """Forget tracks, smoothing state and the detection cadence (a new source or a seek)."""
        self.tracker.reset()
        if self.smoother is not None:
            self.smoother.reset()
        self._live_ids = set()
        self._count = 0
        self._last_source = None

    def links_frames(self, source: FrameSource) -> bool:
        """True when faces are followed from frame to frame of `source` (a video, a camera, or `sequence`)."""
        return self.tracking and (self.sequence or source.kind != "images")

    def _detect(self, rgb: np.ndarray) -> Optional[List[FaceBox]]:
        if self._count % self.detect_every != 0:
            return None
        return [self.detector.to_canonical(b) for b in self.detector.detect(rgb)]

    def _is_valid(self, pose: HeadPose) -> bool:
        return all(np.isfinite(v) and abs(v) < self.valid_limit for v in pose.as_tuple())

    def _estimate(self, rgb: np.ndarray, tracks: list, timing: Dict[str, float]) -> list:
        """Crop every tracked face and run ONE batched pose forward: a (yaw, pitch, roll) row per track."""
        if self.pose_model is None:
            return [None] * len(tracks)
        t0 = time.perf_counter()
        regions = [expand_box(t.box.as_tuple(), self.crop_preset) for t in tracks]
        crops = (np.stack([crop_face(rgb, r, self.input_size) for r in regions]) if regions
                 else np.zeros((0, self.input_size, self.input_size, 3), np.uint8))
        timing["crop"] = _ms(t0)

        t0 = time.perf_counter()
        angles = (np.asarray(self.pose_model.predict_crops(crops), dtype=np.float64).reshape(-1, 3)
                  if len(tracks) else np.zeros((0, 3)))
        timing["pose"] = _ms(t0)
        return list(angles)

    def process(self, frame: Frame) -> FrameResult:
        """Detect, track, crop, estimate (one batch), smooth: the frame's `FrameResult`."""
        if not self.tracking or (not self.sequence and self._last_source not in (None, frame.source)):
            self.reset()  # a photo of its own: nothing carried over from the previous one
        self._last_source = frame.source
        rgb = frame.rgb
        timing: Dict[str, float] = {}
        t_all = time.perf_counter()

        t0 = time.perf_counter()
        boxes = self._detect(rgb)
        timing["detect"] = _ms(t0)

        t0 = time.perf_counter()
        tracks = list(self.tracker.update(rgb, boxes))
        timing["track"] = _ms(t0)

        angles = self._estimate(rgb, tracks, timing)

        t0 = time.perf_counter()
        faces = []
        t_s = frame.timestamp_ms / 1000.0
        for track, ang in zip(tracks, angles):
            raw = HeadPose(float(ang[0]), float(ang[1]), float(ang[2])) if ang is not None else None
            valid = raw is not None and self._is_valid(raw)
            pose, box = raw, track.box
            if self.smoother is not None and valid:
                pose, box = self.smoother.smooth(int(track.face_id) + self.id_offset, t_s, raw, track.box)
            if track.det_score != box.score:
                box = replace(box, score=float(track.det_score))
            faces.append(FaceResult(int(track.face_id) + self.id_offset, box, pose, raw, valid,
                                    bool(track.tracked_only)))
        ids = {f.face_id for f in faces}
        if self.smoother is not None and self._live_ids - ids:
            self.smoother.forget(sorted(self._live_ids - ids))
        self._live_ids = ids
        timing["smooth"] = _ms(t0)
        timing["total"] = _ms(t_all)
        self._count += 1
        return FrameResult(frame.index, frame.timestamp_ms, frame.source, tuple(faces), timing,
                           (int(rgb.shape[0]), int(rgb.shape[1])))

    def describe(self) -> dict:
        """Provenance for sidecars, each component stating its own: model, detector, tracker, smoothing."""
        return {"gazenet_version": __version__,
                "model": self.pose_model.describe() if self.pose_model is not None else None,
                "detector": self.detector.metadata(), "detect_every": self.detect_every,
                "tracker": self.tracker.describe(), "tracking": self.tracking,
                "smoothing": self.smoother.describe() if self.smoother is not None else None,
                "sequence": self.sequence, "crop_preset": self.crop_preset.name,
                "pose_valid_limit_deg": self.valid_limit, "convention": CONVENTION}


def _default_tracker() -> Tracker:
    from gazenet_app.track.tracker import FaceTracker

    return FaceTracker()


def build_detector(cfg: PipelineConfig) -> Detector:
    """The face detector `cfg` names (`detect.registry`); an unknown name raises DetectorError."""
    from gazenet_app.detect.registry import get_detector

    kw = {} if cfg.detector_threshold is None else {"score_threshold": float(cfg.detector_threshold)}
    try:
        return get_detector(cfg.detector, preset=cfg.preset, **kw)
    except ValueError as e:  # an unknown name: one line for the user
        raise DetectorError(str(e)) from None


def _load_model(cfg: PipelineConfig) -> Optional[PoseModel]:
    """The pose model of `cfg`, or None for detection and tracking only (MXNet is imported only to load one)."""
    from gazenet_app.model_zoo.store import list_models

    if not cfg.estimate_pose or (cfg.model is None and not cfg.require_model and not list_models(kind="pose")):
        return None  # detection and tracking only
    from gazenet_app.model_zoo.pose import load_pose_model

    return load_pose_model(cfg.model, device=cfg.device, precision=cfg.precision)


def build_pipeline(cfg: PipelineConfig, *, detector: Optional[Detector] = None,
                   pose_model: Optional[PoseModel] = None, tracker: Optional[Tracker] = None) -> Pipeline:
    """The one way to get a pipeline (CLI, app, bench): `cfg`'s detector, pose model, tracker and smoother.

    A component passed in is used instead of building it (the app keeps its loaded model and its tracker's
    ids when a setting changes; with `cfg.estimate_pose` False no model is used). Raises DetectorError,
    ModelNotFoundError, ModelLoadError or CardError.
    """
    from gazenet_app.track.smoothing import OneEuroParams, PoseSmoother

    smoother = None
    if cfg.smoothing:
        smoother = PoseSmoother(pose=OneEuroParams(min_cutoff=cfg.smooth_min_cutoff, beta=cfg.smooth_beta,
                                                   d_cutoff=1.0))
    return Pipeline(detector if detector is not None else build_detector(cfg),
                    pose_model if pose_model is not None and cfg.estimate_pose else _load_model(cfg),
                    tracker=tracker, smoother=smoother, detect_every=cfg.detect_every,
                    tracking=cfg.tracking, sequence=cfg.sequence)


# ------------------------------------------------------------------------------------------------------
# The annotation loop
# ------------------------------------------------------------------------------------------------------

@dataclass
class AnnotateOutputs:
    """Where `annotate` writes: CSV (the main output), JSON Lines, annotated video; sidecar next to the first."""

    csv: Optional[Path] = None
    jsonl: Optional[Path] = None
    video: Optional[Path] = None
    sidecar: Optional[Path] = None
    show_cube: bool = False
    meta: Dict[str, Any] = field(default_factory=dict)  # extra provenance (e.g. the command line)

    def main_path(self) -> Path:
        """The output the sidecar is named after."""
        for p in (self.csv, self.jsonl, self.video):
            if p is not None:
                return Path(p)
        raise ExportError("no output given: pass a CSV, JSON Lines or video path")

    def sidecar_file(self) -> Path:
        """`OUT.meta.json` next to the main output unless given."""
        return Path(self.sidecar) if self.sidecar else sidecar_path(self.main_path())

    def output_set(self, smoothing: bool, video_fps: float, meta: Dict[str, Any]) -> OutputSet:
        """The `core.results.OutputSet` writing these files (`meta`: the run's provenance, then `self.meta`)."""
        return OutputSet(self.csv, self.jsonl, self.video, self.sidecar_file(), smoothing=smoothing,
                         video_fps=video_fps, show_cube=self.show_cube, meta={**meta, **self.meta})


@dataclass
class AnnotateSummary:
    """What an annotation run did."""

    frames: int = 0
    faces: int = 0
    rows: int = 0
    status: str = "complete"  # complete | ended_early | stopped | interrupted | failed
    finished: bool = False  # outputs at final names: status in core.results.FINAL_STATUSES, or a camera stopped
    ended_early: Optional[str] = None
    resumed_after: Optional[int] = None
    first_frame: Optional[int] = None
    last_frame: Optional[int] = None
    elapsed_s: float = 0.0
    outputs: Dict[str, str] = field(default_factory=dict)
    notes: List[str] = field(default_factory=list)


def annotate(source: FrameSource, pipeline: Pipeline, outputs: AnnotateOutputs, *, start: int = 0,
             end: Optional[int] = None, stride: int = 1, resume: bool = False,
             progress: Optional[Callable[[int, Optional[int]], None]] = None,
             should_stop: Optional[Callable[[], bool]] = None,
             on_result: Optional[Callable[[Frame, FrameResult], None]] = None) -> AnnotateSummary:
    """Run `pipeline` over `source` and write every frame's results incrementally (a `core.results.OutputSet`).

    `progress(done, total)` after each frame; `should_stop()` is checked before each frame (True: stop and
    keep the partials for `resume`; for a live source such as a camera, stopping or Ctrl-C finishes the
    outputs instead, since there is nothing to resume); `on_result(frame, result)` sees every result.
    Returns a summary; raises `ExportError` for output problems (rows written so far stay in the partials)
    and re-raises KeyboardInterrupt after keeping the partials.
    """
    if stride < 1:
        raise GazenetError(f"--stride must be >= 1, got {stride}")
    if start < 0 or (end is not None and end <= start):
        raise GazenetError(f"empty frame range: start={start}, end={end}")
    t_begin = time.perf_counter()
    live = source.frame_count is None  # a camera cannot be resumed: stopping it finishes the outputs
    files = source_files(source)
    out = outputs.output_set(pipeline.smoother is not None, (source.fps or 30.0) / stride,
                             {**pipeline.describe(), "source": source.describe(),
                              "input": input_identity(files, source.frame_count),
                              "range": {"start": start, "end": end, "stride": stride}})
    first = out.open(resume, start, stride, inputs=files)
    pipeline.reset()
    # tracks restart here: new ids continue after those already written, so an id never names two faces
    pipeline.id_offset = out.next_face_id() if out.resumed_after is not None and pipeline.links_frames(source) else 0
    total = source.frame_count
    if total is not None:
        total = max(0, ((total if end is None else min(end, total)) - first + stride - 1) // stride)
    if progress is not None:
        progress(0, total)
    status, final = "complete", None
    try:
        for frame in (source.frames(first, end, stride) if end is None or first < end else ()):
            if should_stop is not None and should_stop():
                status, final = "stopped", live
                break
            result = pipeline.process(frame)
            out.write(frame, result)
            if on_result is not None:
                on_result(frame, result)
            if progress is not None:
                progress(out.frames, total)
        else:
            status = "ended_early" if source.ended_early else "complete"
    except KeyboardInterrupt:
        status, final = ("stopped", True) if live else ("interrupted", False)  # a camera's record is whole
        if not live:
            out.finish(status, final, notes=source.notes, ended_early=None)
            raise
    except BaseException:
        out.finish("failed", notes=source.notes, ended_early=None)
        raise
    out.finish(status, final, notes=source.notes, ended_early=source.error if status == "ended_early" else None)
    return AnnotateSummary(out.frames, out.faces, out.rows, out.status, out.finished,
                           source.error if status == "ended_early" else None, out.resumed_after, first,
                           out.last_frame, time.perf_counter() - t_begin, out.paths(), out.notes)
