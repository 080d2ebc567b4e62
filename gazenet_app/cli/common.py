"""Flags shared by every subcommand (same names everywhere) and the builders they feed.

`--model NAME_OR_PATH`, `--detector NAME`, `--preset NAME`, `--device cpu|gpu:0[,gpu:1...]`,
`-o/--output PATH` (the main output), `--json PATH` (a JSON report). Builders import heavy modules lazily.
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path
from typing import TYPE_CHECKING, List, Optional, Union

from gazenet_app.core.devices import parse_devices
from gazenet_app.core.errors import ExportError
from gazenet_app.detect.registry import DEFAULT_DETECTOR
from gazenet_app.model_zoo.modes import PRECISION_CHOICES

if TYPE_CHECKING:
    from gazenet_app.pipeline import PipelineConfig

__all__ = [
    "add_model_arg",
    "add_detector_args",
    "add_device_arg",
    "add_output_arg",
    "add_json_arg",
    "parse_device",
    "add_sequence_arg",
    "pipeline_config",
    "build_detector",
    "build_pipeline",
    "write_json_report",
    "collect_images",
    "make_output_dir",
]

log = logging.getLogger("gazenet_app.cli")

def parse_device(text: str) -> str:
    """Validate `cpu` or `gpu:0[,gpu:1...]` (argparse type, `core.devices.parse_devices`); returns it normalised."""
    try:
        return ",".join(parse_devices(text))
    except ValueError as e:
        raise argparse.ArgumentTypeError(f"invalid device: {e}") from None


def _detector_choices():
    try:
        from gazenet_app.detect.registry import get_detector_list, get_preset_list
    except (ModuleNotFoundError, ImportError):
        return None, None
    return list(get_detector_list()), list(get_preset_list())


def add_model_arg(parser: argparse.ArgumentParser) -> None:
    """`--model NAME_OR_PATH` (default: the store's default model) and `--precision`."""
    parser.add_argument("--model", metavar="NAME_OR_PATH", default=None,
                        help="pose model: an installed name (see `gazenet models`) or a card .json path "
                             "(default: the default installed model)")
    parser.add_argument("--precision", default=None, choices=PRECISION_CHOICES,
                        help="pose network precision: auto (default, or $GAZENET_PRECISION) picks the fastest "
                             "shipped export within 0.3 deg MAE of fp32 on the validation split")


def add_detector_args(parser: argparse.ArgumentParser) -> None:
    """`--detector NAME` and `--preset NAME`."""
    names, presets = _detector_choices()
    parser.add_argument("--detector", default=DEFAULT_DETECTOR, choices=names,
                        help=f"face detector (default: {DEFAULT_DETECTOR})")
    parser.add_argument("--preset", default=None, choices=presets,
                        help="detector preset, e.g. accurate (small faces) or live (speed); "
                             "default: the detector's own")


def add_sequence_arg(parser: argparse.ArgumentParser) -> None:
    """`--sequence`: a folder or list of images is the frames of one video (default: independent photos)."""
    parser.add_argument("--sequence", action="store_true",
                        help="treat a folder or list of images as the frames of one video: faces are tracked "
                             "from one image to the next (default: every image is read on its own)")


def add_device_arg(parser: argparse.ArgumentParser) -> None:
    """`--device cpu|gpu:0[,gpu:1...]`."""
    parser.add_argument("--device", default="cpu", type=parse_device, metavar="{cpu,gpu:0[,gpu:1...]}",
                        help="where the pose network runs: cpu (default) or gpu:0[,gpu:1...]")


def add_output_arg(parser: argparse.ArgumentParser, required: bool = False, help: str = "main output") -> None:
    """`-o/--output PATH`."""
    parser.add_argument("-o", "--output", metavar="PATH", required=required, default=None, help=help)


def add_json_arg(parser: argparse.ArgumentParser, help: str = "also write a JSON report here") -> None:
    """`--json PATH`."""
    parser.add_argument("--json", metavar="PATH", default=None, help=help)


def pipeline_config(args: argparse.Namespace, **overrides) -> PipelineConfig:
    """The `PipelineConfig` of the shared flags (`--model`, `--precision`, `--device`, `--detector`, `--preset`,
    `--sequence`); `overrides` set the rest (smoothing, detect_every, ...)."""
    from gazenet_app.pipeline import PipelineConfig

    fields = {"model": getattr(args, "model", None), "precision": getattr(args, "precision", None),
              "device": getattr(args, "device", "cpu"), "preset": getattr(args, "preset", None),
              "sequence": bool(getattr(args, "sequence", False))}
    if getattr(args, "detector", None):
        fields["detector"] = args.detector
    fields.update(overrides)
    return PipelineConfig(**fields)


def build_detector(args: argparse.Namespace):
    """The detector named by `--detector` / `--preset` (`pipeline.build_detector`)."""
    from gazenet_app.pipeline import build_detector as build

    return build(pipeline_config(args))


def build_pipeline(args: argparse.Namespace, smoothing: bool = False, detect_every: int = 1):
    """The command's pipeline: `pipeline.build_pipeline` of the flags' `PipelineConfig`."""
    from gazenet_app.pipeline import build_pipeline as build

    return build(pipeline_config(args, smoothing=smoothing, detect_every=detect_every),
                 detector=build_detector(args))


def collect_images(inputs: List[str]) -> List[Path]:
    """Image paths from files and folders (a folder gives its images, non-images skipped with a note);
    SourceError for a missing input or a folder without images."""
    from gazenet_app.core.errors import SourceError
    from gazenet_app.core.video import ImageSequenceSource, open_source

    paths: List[Path] = []
    for item in inputs:
        p = Path(item)
        if p.is_dir():
            src = open_source(p)  # SourceError when it holds no image
            if not isinstance(src, ImageSequenceSource):  # pragma: no cover - folders are image sequences
                raise SourceError(f"{p} is not a folder of images")
            for note in src.notes:
                log.info(note)
            paths.extend(src.paths)
        elif p.is_file():
            paths.append(p)
        else:
            raise SourceError(f"image not found: {p}")
    return paths


def make_output_dir(path: Optional[str]) -> Optional[Path]:
    """Create `--save DIR` up front (ExportError when it cannot be); None when not asked for."""
    if not path:
        return None
    out = Path(path)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise ExportError(f"cannot create folder {out}: {e.strerror or e}") from None
    return out


def write_json_report(path: Union[str, Path], doc: dict) -> Path:
    """Write a JSON report atomically (core.results' sidecar writer); ExportError when it cannot be written."""
    from gazenet_app.core.results import write_sidecar

    return write_sidecar(path, doc)
