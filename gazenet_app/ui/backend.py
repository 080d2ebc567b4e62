"""What the worker needs from the Qt-free layers, behind one class the tests can replace with fakes.

`PipelineBackend` imports core/model_zoo/detect/track/pipeline lazily, inside the worker's thread, so the
window never loads MXNet. `WorkerOptions` are the plain settings the window sends to the worker.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, replace
from typing import Any, Dict, List, Optional

import numpy as np

from gazenet_app.core.types import FaceBox, FaceResult, FrameResult, HeadPose
from gazenet_app.detect.registry import DEFAULT_DETECTOR

__all__ = ["WorkerOptions", "PipelineBackend", "ReviewSource", "mirror_result", "NO_MODEL_MESSAGE"]

log = logging.getLogger(__name__)

NO_MODEL_MESSAGE = (
    "No pose model installed: running face detection only. How to get one: Model ▸ Load weights… "
    "(a gazenet .json + .params, or an original Hopenet .pkl), or put NAME.json + NAME.params in the user model "
    "folder (`gazenet models` lists what is installed)."
)


@dataclass(frozen=True)
class WorkerOptions:
    """Settings the worker applies between frames."""

    detector: str = DEFAULT_DETECTOR
    preset: Optional[str] = None
    detector_threshold: Optional[float] = None
    model: Optional[str] = None  # initial model name or path; None = the store's default, if any
    device: str = "cpu"
    smoothing: bool = False
    smooth_min_cutoff: float = 1.0
    smooth_beta: float = 0.05
    detect_every: int = 1
    show_cube: bool = False
    show_text: bool = True
    mirror: bool = False
    realtime: bool = True  # keep files in real time (frames skipped when slower); False = every frame
    precision: str = "auto"  # auto, fp32, fused or int8 (as `--precision`)
    sequence: bool = False  # a folder of photos is one video (tracking, smoothing) instead of independent images

    def as_dict(self) -> Dict[str, Any]:
        """The options as a plain dict."""
        return asdict(self)

    def pipeline_config(self):
        """The `pipeline.PipelineConfig` of these options (what the CLI's flags give for the same settings)."""
        from gazenet_app.pipeline import PipelineConfig

        return PipelineConfig(model=self.model, precision=self.precision, device=self.device,
                              detector=self.detector, preset=self.preset,
                              detector_threshold=self.detector_threshold, detect_every=self.detect_every,
                              smoothing=self.smoothing, smooth_min_cutoff=self.smooth_min_cutoff,
                              smooth_beta=self.smooth_beta, sequence=self.sequence)


def mirror_result(result: FrameResult) -> FrameResult:
    """The result as seen in the horizontally mirrored frame: boxes flipped, yaw and roll negated."""
    w = float(result.shape[1])

    def flip_box(b: FaceBox) -> FaceBox:
        lm = None
        if b.landmarks is not None:
            pts = [(w - x, y) for x, y in b.landmarks]
            # image-left/right order is kept: left eye <-> right eye, mouth left <-> mouth right swap places
            lm = (pts[1], pts[0], pts[2], pts[4], pts[3]) if len(pts) == 5 else tuple(pts)
        return replace(b, x1=w - b.x2, x2=w - b.x1, landmarks=lm)

    def flip_pose(p: Optional[HeadPose]) -> Optional[HeadPose]:
        return None if p is None else HeadPose(-p.yaw, p.pitch, -p.roll)

    faces = tuple(replace(f, box=flip_box(f.box), pose=flip_pose(f.pose), pose_raw=flip_pose(f.pose_raw))
                  for f in result.faces)
    return replace(result, faces=faces)


def _model_summary(info) -> Dict[str, Any]:
    """name, backbone, input size and the headline evaluation of a store entry (`model_zoo.store.ModelInfo`)."""
    card = info.card
    evals = [f"{dataset} {metric} {entry['value']:.2f}"
             for dataset, metrics in card.eval.items() for metric, entry in metrics.items()]
    return {"name": info.name, "backbone": card.backbone, "input_size": card.input_size,
            "eval": "; ".join(evals[:2]), "default": bool(card.default)}


class ReviewSource:
    """Stands in for the pipeline while reviewing: a frame's faces come from an annotation file."""

    def __init__(self, annotations: Dict[Any, List[FaceResult]], path: str,
                 meta: Optional[Dict[str, Any]] = None) -> None:
        self.annotations = annotations
        self.path = path
        self.meta = dict(meta or {})  # the file's sidecar: which model and detector wrote it
        self._by_index: Dict[int, List[FaceResult]] = {}
        sources = {key[0] for key in annotations}
        self._single_source = len(sources) <= 1
        for (_, index), faces in annotations.items():
            self._by_index.setdefault(int(index), []).extend(faces)

    def process(self, frame) -> FrameResult:
        """The file's faces for this frame (none when the file has no row for it)."""
        faces = self.annotations.get((frame.source, frame.index))
        if faces is None and self._single_source:
            faces = self._by_index.get(frame.index)
        h, w = frame.rgb.shape[:2]
        return FrameResult(frame.index, frame.timestamp_ms, frame.source, tuple(faces or ()),
                           {"review": 0.0}, (h, w))

    def reset(self) -> None:
        """Nothing to forget: the file is the truth."""

    def describe(self) -> Dict[str, Any]:
        """The reviewed file and the model and detector its sidecar names."""
        return {"review": self.path, "model": _name_of(self.meta.get("model")),
                "detector": _name_of(self.meta.get("detector"))}


def _name_of(entry: Any) -> Optional[str]:
    """A sidecar's model/detector entry (a name, or a dict with one) as a name."""
    if isinstance(entry, dict):
        entry = entry.get("name") or entry.get("detector")
    return str(entry) if entry else None


class PipelineBackend:
    """The real layers: sources, detectors, pose models, the pipeline, overlays, writers (imported lazily)."""

    def __init__(self) -> None:
        self._tracker = None

    # sources
    def open_source(self, spec: Any):
        """A FrameSource for a path, list of paths, folder or camera (raises SourceError).

        A camera may come as {"camera": index, "size": (w, h) or None, "fps": n or None}.
        """
        from gazenet_app.core.video import open_source
        if isinstance(spec, dict):
            source = open_source(int(spec["camera"]))
            source.configure(size=spec.get("size"), fps=spec.get("fps"))
            return source
        return open_source(spec)

    # models
    def default_model(self) -> Optional[str]:
        """The store's default pose model name (the CLI's rule), or None when there is none."""
        from gazenet_app.model_zoo.store import default_model_name
        return default_model_name()

    def catalog(self) -> Dict[str, Any]:
        """What the menus offer: installed pose models (card summaries), the detectors that can run here (built
        once to find out: a detector without its weights is left out), presets, GPU availability."""
        from gazenet_app.detect.registry import get_detector_list, get_preset_list
        models: List[Dict[str, Any]] = []
        try:
            from gazenet_app.model_zoo.store import list_models
            for info in list_models(kind="pose"):
                models.append(_model_summary(info))
        except ModuleNotFoundError:
            pass
        gpus = 0
        try:
            import mxnet as mx
            gpus = mx.context.num_gpus()
        except Exception:  # noqa: BLE001 - no CUDA runtime is the normal case
            gpus = 0
        return {"models": models, "detectors": [n for n in get_detector_list() if self.can_run_detector(n)],
                "presets": get_preset_list(), "gpus": gpus}

    def can_run_detector(self, name: str) -> bool:
        """True when the detector `name` can be built here (its weights are installed)."""
        from gazenet_app.core.errors import GazenetError
        try:
            self.make_detector(name, None, None)
        except (GazenetError, ValueError) as e:
            log.info("detector %s is not offered: %s", name, e)
            return False
        return True

    def no_model_message(self) -> str:
        """What to tell the user when no pose model is installed."""
        from gazenet_app.model_zoo.store import HOW_TO_GET_A_MODEL, list_models
        if list_models(kind="pose"):  # installed, but none is the default: the CLI's message
            from gazenet_app.model_zoo.pose import no_default_message
            return f"{no_default_message()} (Model menu); running face detection only."
        return f"{NO_MODEL_MESSAGE} From the command line: {HOW_TO_GET_A_MODEL}."

    def load_pose_model(self, name_or_path: str, device: str, precision: Optional[str] = None):
        """A loaded PoseEstimator (`model_zoo.pose.load_pose_model`, the CLI's loader; precision None:
        $GAZENET_PRECISION, else auto); raises ModelNotFoundError/ModelLoadError/CardError."""
        from gazenet_app.model_zoo.pose import load_pose_model
        return load_pose_model(name_or_path, device=device, precision=precision)

    def model_name(self, model, requested: str) -> str:
        """The display name of a loaded model: the model chosen, not the fused/int8 export it runs as (the
        precision is shown beside it)."""
        from gazenet_app.model_zoo.model_card import ModelCard

        card = getattr(model, "card", None)
        base = card.mode_of if isinstance(card, ModelCard) else None
        return str(base or getattr(model, "name", None) or requested)

    def model_info(self, model) -> Dict[str, Any]:
        """The model's card as a dict (`ModelCard.to_dict()`: for About's `dialogs._card_html` and the status
        bar); a stand-in model's card dict is copied; {} without a card."""
        from gazenet_app.model_zoo.model_card import ModelCard

        card = getattr(model, "card", None)
        if card is None:
            return {}
        return card.to_dict() if isinstance(card, ModelCard) else dict(card)

    # detection and pipeline
    def make_detector(self, name: str, preset: Optional[str], threshold: Optional[float]):
        """A detector from the registry (`pipeline.build_detector`)."""
        from gazenet_app.pipeline import PipelineConfig, build_detector
        return build_detector(PipelineConfig(detector=name, preset=preset, detector_threshold=threshold))

    def make_pipeline(self, detector, model, options: WorkerOptions, previous=None):
        """`pipeline.build_pipeline` of the options around this detector and model (None: detection only),
        with one tracker kept across rebuilds so face ids stay."""
        from dataclasses import replace as _replace

        from gazenet_app.pipeline import build_pipeline
        cfg = _replace(options.pipeline_config(), estimate_pose=model is not None)
        pipeline = build_pipeline(cfg, detector=detector, pose_model=model, tracker=self._tracker)
        self._tracker = pipeline.tracker
        return pipeline

    # output
    def draw(self, rgb: np.ndarray, result: FrameResult, show_cube: bool, show_text: bool) -> np.ndarray:
        """The frame with boxes, ids, axes and numbers drawn by core/draw.py (the CLI's overlays)."""
        from gazenet_app.core.draw import draw_frame_result
        return draw_frame_result(rgb, result, show_cube=show_cube, show_text=show_text)

    def annotate_file(self, spec: Any, options: WorkerOptions, csv_path: Optional[str],
                      video_path: Optional[str] = None, progress=None, should_stop=None, pipeline=None,
                      resume: bool = False):
        """Run core's annotation loop over one input with a pipeline built from `options`; its AnnotateSummary."""
        from pathlib import Path

        from gazenet_app.pipeline import AnnotateOutputs, annotate
        if pipeline is None:
            pipeline = self.build_pipeline(options)
        outputs = AnnotateOutputs(csv=Path(csv_path) if csv_path else None,
                                  video=Path(video_path) if video_path else None, show_cube=options.show_cube,
                                  meta={"written_by": "gazenet-app"})
        source = self.open_source(spec)
        try:
            return annotate(source, pipeline, outputs, progress=progress, should_stop=should_stop, resume=resume)
        finally:
            source.close()

    def build_pipeline(self, options: WorkerOptions):
        """A fresh pipeline of `options` (`pipeline.build_pipeline`; detection only when no model is installed),
        for work outside the worker."""
        from dataclasses import replace as _replace

        from gazenet_app.pipeline import build_pipeline
        return build_pipeline(_replace(options.pipeline_config(), require_model=False))

    def make_review(self, csv_path: str) -> ReviewSource:
        """The annotations of a CSV written by `gazenet annotate` or the app."""
        from gazenet_app.core.results import read_annotations, read_sidecar
        from gazenet_app.ui.recording import sidecar_of
        side = sidecar_of(csv_path)
        try:
            meta = read_sidecar(side) if side is not None else {}
        except (OSError, ValueError):
            meta = {}
        return ReviewSource(read_annotations(csv_path), str(csv_path), meta)

    def make_recorder(self, path: str, meta: Dict[str, Any], smoothing: bool, source: Any = None):
        """An incremental writer (CSV, or JSON Lines for .jsonl) plus its provenance sidecar; refuses a path that
        is one of the files of `source` (the open input)."""
        from gazenet_app.core.outputs_guard import source_files
        from gazenet_app.ui.recording import Recorder
        return Recorder(path, meta, smoothing, inputs=source_files(source) if source is not None else ())
