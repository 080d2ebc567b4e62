"""`gazenet bench [--json PATH]`: speed against the original PyTorch Hopenet, end-to-end FPS and memory, one run.

Rows (paired, interleaved rounds on the same input; warm-up excluded; medians): (a) a PyTorch Hopenet of the
original layout (ResNet-50, 224 px, random weights), (b) gazenet fp32 with the same weights, (c) fused (oneDNN),
(d) int8, (e) the default model (or `--model`) in fp32 and its shipped fused/int8 exports. Then the pipeline
(decode -> detect -> crop -> pose -> track -> draw) on 640x480 clips with one and five real faces, detecting
every frame and every N frames, and the peak RSS of `gazenet annotate` over a long clip (`--long FRAMES`) and
of the app's headless run. The figures depend on the machine and its load: the table states both.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import tempfile
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

from gazenet_app import usable_cpus
from gazenet_app.cli.common import add_json_arg
from gazenet_app.detect.registry import DEFAULT_DETECTOR
from gazenet_app.model_zoo.modes import PRECISION_CHOICES

__all__ = ["add_parser", "run", "parse_batches", "parse_stand_in"]

log = logging.getLogger(__name__)

_MODES = ("torch", "fp32", "fused", "int8")


def _positive(text: str) -> int:
    v = int(text)
    if v < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {v}")
    return v


def parse_batches(text: str) -> Tuple[int, ...]:
    """`1,8,32` -> (1, 8, 32) (argparse type)."""
    try:
        out = tuple(int(t) for t in text.split(",") if t.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"batches must be integers separated by commas, got {text!r}") from None
    if not out or any(b < 1 for b in out):
        raise argparse.ArgumentTypeError(f"batches must be positive, got {text!r}")
    return out


def parse_stand_in(text: str) -> Tuple[str, int, str]:
    """`mobilenetv2:112:int8` -> (backbone, input size, mode) (argparse type)."""
    parts = text.split(":")
    if len(parts) != 3 or parts[0] not in ("mobilenetv2", "resnet50") or parts[2] not in ("fp32", "fused", "int8"):
        raise argparse.ArgumentTypeError(f"--stand-in is BACKBONE:SIZE:MODE (mobilenetv2|resnet50, fp32|fused|int8), "
                                         f"got {text!r}")
    try:
        size = int(parts[1])
    except ValueError:
        raise argparse.ArgumentTypeError(f"--stand-in size must be an integer, got {parts[1]!r}") from None
    if size < 32:
        raise argparse.ArgumentTypeError(f"--stand-in size must be >= 32, got {size}")
    return parts[0], size, parts[2]


def _default_faces_dir() -> Path:
    return Path(__file__).resolve().parents[3] / "shared" / "data" / "faces"


def add_parser(subparsers) -> argparse.ArgumentParser:
    """Register the `bench` subcommand."""
    p = subparsers.add_parser(
        "bench", help="measure speed against the original PyTorch Hopenet, end-to-end FPS and memory",
        description="Time per-face latency (batch 1) and throughput (larger batches) of the PyTorch reference "
                    "Hopenet and gazenet's fp32 / fused / int8 modes in paired rounds of one run, the default "
                    "model's modes, the end-to-end pipeline on 640x480 clips with one and five faces, and peak "
                    "memory. Close other programs first: the figures follow the machine's load.")
    p.add_argument("--model", metavar="NAME_OR_PATH", default=None,
                   help="the model of the default-model rows (default: the installed default model, if any)")
    p.add_argument("--backbone", choices=("resnet50", "mobilenetv2"), default="resnet50",
                   help="architecture of the same-architecture rows (default resnet50, the original's)")
    p.add_argument("--input-size", type=_positive, default=224, metavar="PX",
                   help="input size of the same-architecture rows (default 224, the original's)")
    p.add_argument("--modes", default=",".join(_MODES),
                   help=f"same-architecture rows to run, comma separated (default {','.join(_MODES)})")
    p.add_argument("--batches", type=parse_batches, default=(1, 8, 32), metavar="1,8,32",
                   help="batch sizes (default 1,8,32; 1 gives the per-face latency)")
    p.add_argument("--rounds", type=_positive, default=30, help="timed rounds at batch 1 (fewer for larger "
                                                               "batches; default 30)")
    p.add_argument("--warmup", type=int, default=3, metavar="N", help="untimed calls per candidate and batch (default 3)")
    p.add_argument("--burst", type=_positive, default=2, metavar="N",
                   help="timed calls per candidate and round, after one untimed call that refills the caches the "
                        "previous candidate evicted; the round's value is their median (default 2; 1: one cold call)")
    p.add_argument("--threads", type=_positive, default=None, metavar="N",
                   help="threads for both frameworks: OMP_NUM_THREADS (MXNet) and torch.set_num_threads "
                        "(default: OMP_NUM_THREADS if set, else all usable cores)")
    p.add_argument("--calib", type=_positive, default=32, metavar="N",
                   help="calibration inputs for the same-architecture int8 row (random weights; default 32)")
    p.add_argument("--no-reference", action="store_true", help="skip the same-architecture rows (and torch)")
    p.add_argument("--no-pipeline", action="store_true", help="skip the end-to-end rows")
    p.add_argument("--no-memory", action="store_true", help="skip the memory figures")
    p.add_argument("--no-app-memory", action="store_true", help="skip the app's memory figure (Qt)")
    p.add_argument("--faces", metavar="DIR", default=None,
                   help="photos to cut the clip's faces from (default ../shared/data/faces beside the checkout)")
    p.add_argument("--frames", type=_positive, default=150, help="frames of each end-to-end clip (default 150)")
    p.add_argument("--warmup-frames", type=int, default=10, metavar="N",
                   help="first frames of each clip not counted (default 10)")
    p.add_argument("--detect-every", type=_positive, default=5, metavar="N",
                   help="the every-N-frames detection rows use this N (default 5); every frame is always run")
    p.add_argument("--detector", default=DEFAULT_DETECTOR,
                   help=f"face detector of the end-to-end rows (default {DEFAULT_DETECTOR})")
    p.add_argument("--preset", default="live", help="detector preset of the end-to-end rows (default live)")
    p.add_argument("--precision", choices=PRECISION_CHOICES, default="auto",
                   help="mode of the default model in the end-to-end rows (default auto: the fastest within "
                        "0.3 deg MAE)")
    p.add_argument("--stand-in", type=parse_stand_in, default=("mobilenetv2", 112, "int8"),
                   metavar="BACKBONE:SIZE:MODE",
                   help="when no model is installed, the end-to-end and memory rows use a random-weight model of "
                        "this shape, labelled as a stand-in (default mobilenetv2:112:int8)")
    p.add_argument("--long", type=_positive, default=300, metavar="FRAMES",
                   help="frames of the annotate memory clip (default 300; the documented figure uses 10000)")
    p.add_argument("--app-frames", type=_positive, default=150, metavar="FRAMES",
                   help="frames of the app memory clip (default 150)")
    p.add_argument("--workdir", metavar="DIR", default=None,
                   help="where the clips and scratch models go (default: a temporary folder, removed after)")
    add_json_arg(p, help="write the results as JSON to PATH")
    p.set_defaults(func=run)
    return p


def _set_threads(n: Optional[int]) -> Tuple[Optional[int], bool]:
    """Apply the thread count before MXNet loads; returns (count, whether MXNet will honour it)."""
    mxnet_loaded = "mxnet" in sys.modules
    before = os.environ.get("OMP_NUM_THREADS")
    if n is None:
        env = os.environ.get("OMP_NUM_THREADS")
        n = int(env) if env and env.isdigit() else usable_cpus()
    if mxnet_loaded and before != str(n):
        log.warning("MXNet was already loaded: OMP_NUM_THREADS=%s cannot take effect for it", n)
        return n, False
    os.environ["OMP_NUM_THREADS"] = str(n)
    return n, True


def _resolve_base(spec: Optional[str]):
    """(fp32 ModelInfo, note): the model of the default-model rows, or (None, why not)."""
    from gazenet_app.model_zoo.store import default_model_name, resolve_model

    if spec is None:
        spec = default_model_name()
        if spec is None:
            return None, ("no default model is installed (and none was named with --model): the default-model rows "
                          "are not measured")
    info = resolve_model(spec)
    base = info.card.mode_of
    if base is not None:
        info = resolve_model(base)
    return info, None


def _stand_in(shape: Tuple[str, int, str], folder: Path, calib_rgb) -> Path:
    """Write a random-weight pose model of `shape` (fp32 or its fused/int8 export); returns its card path."""
    import mxnet as mx
    import numpy as np

    from gazenet_app.benchmark.networks import network_input
    from gazenet_app.model_zoo.card import pose_card, validate_card
    from gazenet_app.model_zoo.hopenet import get_hopenet
    from gazenet_app.model_zoo.precision import optimize_net
    from gazenet_app.model_zoo.weights_io import save_model

    backbone, size, mode = shape
    mx.random.seed(0)
    net = get_hopenet(backbone, input_size=size)
    card = pose_card(f"standin_{backbone}_{size}_{mode}", backbone, size,
                     fmt="params" if mode == "fp32" else "symbol", precision=mode,
                     training={"data": "none", "license": "none (random weights: a speed stand-in)", "epochs": 0},
                     source="gazenet bench: random weights standing in for a model that is not installed")
    calib = network_input(validate_card(card), np.asarray(calib_rgb))
    net = optimize_net(net, mode, (1, 3, size, size), calib=calib)
    return save_model(net, card, folder)


def _calibration_crops(patches, size: int, n: int = 32):
    """uint8 crops of the clip's faces (and shifted copies) for the stand-in's int8 calibration."""
    import cv2
    import numpy as np

    rng = np.random.RandomState(0)
    crops = []
    for i in range(n):
        p = patches[i % len(patches)]
        h, w = p.shape[:2]
        d = int(0.1 * min(h, w))
        x0, y0 = rng.randint(0, d + 1), rng.randint(0, d + 1)
        crops.append(cv2.resize(p[y0:h - d + y0, x0:w - d + x0], (size, size), interpolation=cv2.INTER_AREA))
    return np.stack(crops)


def _clip_context(args, base, tmp: Path, notes: List[str]) -> Tuple[Optional[dict], Optional[str]]:
    """(face patches + the pose model of the end-to-end and memory runs, None) or (None, why there is no clip)."""
    from gazenet_app.benchmark.clips import face_patches
    from gazenet_app.core.errors import SourceError
    from gazenet_app.model_zoo.pose import load_pose_model

    faces_dir = Path(args.faces) if args.faces else _default_faces_dir()
    try:
        patches = face_patches(faces_dir, 5)
    except SourceError as exc:
        return None, f"no clip: {exc} (the clips are cut from ../shared/data/faces; pass --faces DIR)"
    if base is not None:
        model = load_pose_model(base.card_path, precision=args.precision)
        label = model.name
        model_spec = str(model.info.card_path) if model.info else None
    else:
        card_path = _stand_in(args.stand_in, tmp / "models", _calibration_crops(patches, args.stand_in[1]))
        model = load_pose_model(card_path)
        label = f"{model.name} (stand-in: random weights, no model installed)"
        model_spec = str(card_path)
        notes.append(f"the end-to-end and memory rows use {model.name}, a random-weight stand-in of that shape, "
                     "because no model is installed; speed does not depend on the weights, but re-run with the "
                     "shipped model")
    return {"patches": patches, "model_spec": model_spec, "model": label, "estimator": model}, None


def _pipeline_rows(args, ctx: Optional[dict], why: Optional[str], tmp: Path, notes: List[str]) -> List[dict]:
    """End-to-end rows: one and five faces, detection every frame and every N frames."""
    from gazenet_app.benchmark.clips import write_face_clip
    from gazenet_app.benchmark.endtoend import pipeline_fps
    from gazenet_app.pipeline import PipelineConfig, build_detector

    cadences = [1] + ([args.detect_every] if args.detect_every != 1 else [])
    if ctx is None:
        return [{"faces": n, "fps": None, "mode": None, "detect_every": k, "preset": args.preset, "skipped": why}
                for n in (1, 5) for k in cadences]
    model, label, patches = ctx["estimator"], ctx["model"], ctx["patches"]
    detector = build_detector(PipelineConfig(detector=args.detector, preset=args.preset))
    rows = []
    for n in (1, 5):
        clip = write_face_clip(tmp / f"faces{n}.avi", patches[:n], frames=args.frames)
        for k in cadences:
            r = pipeline_fps(clip, detector, model, detect_every=k, warmup=args.warmup_frames)
            rows.append({"faces": n, "fps": r["fps"], "mode": model.card.precision, "detect_every": k,
                         "preset": args.preset, "detector": args.detector, "model": label,
                         "input": model.input_size, "frames": r["frames"], "warmup_frames": r["warmup_frames"],
                         "faces_per_frame_median": r["faces_per_frame_median"],
                         "stage_ms_median": r["stage_ms_median"]})
            log.info("end to end, %d face(s), detect every %d: %.1f FPS", n, k, r["fps"])
            if r["faces_per_frame_median"] != n:
                notes.append(f"the {n}-face clip gave a median of {r['faces_per_frame_median']} faces per frame "
                             f"(detect every {k}): the detector missed or added faces")
    return rows


def _memory(args, ctx: Optional[dict], why: Optional[str], tmp: Path) -> Dict[str, Any]:
    """Peak RSS of `gazenet annotate` over a --long clip and of the app's headless run."""
    from gazenet_app.benchmark.clips import write_face_clip
    from gazenet_app.benchmark.memory import annotate_command, app_command, child_env, peak_rss

    out: Dict[str, Any] = {}
    if ctx is None:
        reason = why
        return {"annotate": {"frames": args.long, "skipped": reason},
                "app": {"frames": args.app_frames, "skipped": reason}}
    env = child_env(OMP_NUM_THREADS=os.environ.get("OMP_NUM_THREADS", ""))
    clip = write_face_clip(tmp / "long.avi", ctx["patches"][:1], frames=args.long)
    log.info("memory: gazenet annotate over %d frames", args.long)
    r = peak_rss(annotate_command(str(clip), str(tmp / "long.csv"), ctx["model_spec"], preset=args.preset,
                                  detect_every=args.detect_every), env=env)
    r.update(frames=args.long, model=ctx["model"], command=f"gazenet annotate CLIP({args.long} frames, 1 face) "
             f"-o OUT.csv --preset {args.preset} --detect-every {args.detect_every}")
    out["annotate"] = r
    if args.no_app_memory:
        out["app"] = {"frames": args.app_frames, "skipped": "--no-app-memory"}
        return out
    import importlib.util

    if importlib.util.find_spec("PySide6") is None:
        out["app"] = {"frames": args.app_frames, "skipped": "PySide6 is not installed"}
        return out
    app_clip = write_face_clip(tmp / "app.avi", ctx["patches"][:1], frames=args.app_frames)
    log.info("memory: the app's headless run over %d frames", args.app_frames)
    r = peak_rss(app_command(str(app_clip), str(tmp / "app.csv"), ctx["model_spec"]),
                 env=child_env(OMP_NUM_THREADS=os.environ.get("OMP_NUM_THREADS", ""), QT_QPA_PLATFORM="offscreen"))
    r.update(frames=args.app_frames, model=ctx["model"],
             note="python -m gazenet_app --smoke-test: the window and worker play the clip, then the smoke test "
                  "re-runs the annotation loop to compare (default detector preset)")
    out["app"] = r
    return out


def run(args: argparse.Namespace) -> int:
    """Run the bench, print the table, write --json."""
    threads, applied = _set_threads(args.threads)

    from gazenet_app.benchmark.networks import (measure_candidates, model_candidates, reference_candidates,
                                                torch_threads)
    from gazenet_app.benchmark.report import bench_document, format_table, machine_info, thread_info
    from gazenet_app.core.errors import GazenetError

    modes = tuple(m.strip() for m in args.modes.split(",") if m.strip())
    bad = [m for m in modes if m not in _MODES]
    if bad:
        raise GazenetError(f"unknown --modes {', '.join(bad)}; valid: {', '.join(_MODES)}")
    machine = machine_info()
    notes: List[str] = ["figures are medians of paired, interleaved rounds after warm-up; a ratio is the median of "
                        "per-round ratios to the PyTorch row at the same batch",
                        "network rows time host array -> forward -> host array on network-ready input"]
    candidates = []
    with torch_threads(threads if not args.no_reference else None):
        if not args.no_reference:
            log.info("building the same-architecture rows (%s %d px)", args.backbone, args.input_size)
            candidates += reference_candidates(args.backbone, args.input_size, modes, calib=args.calib)
        base, why = _resolve_base(args.model)
        if base is None:
            notes.append(why)
            log.warning("%s", why)
        else:
            candidates += model_candidates(base)
        if "torch" in sys.modules:
            machine["torch"] = sys.modules["torch"].__version__
        rows = measure_candidates(candidates, batches=args.batches, rounds=args.rounds, warmup=args.warmup,
                                  burst=args.burst,
                                  progress=lambda m: log.info("timing %s", m)) if candidates else []
    pipeline: List[dict] = []
    memory: Dict[str, Any] = {}
    keep = args.workdir is not None
    tmpdir = Path(args.workdir) if keep else Path(tempfile.mkdtemp(prefix="gazenet-bench-"))
    tmpdir.mkdir(parents=True, exist_ok=True)
    try:
        if not args.no_pipeline or not args.no_memory:
            ctx, why = _clip_context(args, base, tmpdir, notes)
            if not args.no_pipeline:
                pipeline = _pipeline_rows(args, ctx, why, tmpdir, notes)
            if not args.no_memory:
                memory = _memory(args, ctx, why, tmpdir)
    finally:
        if not keep:
            import shutil

            shutil.rmtree(tmpdir, ignore_errors=True)
    settings = {"batches": list(args.batches), "rounds": args.rounds, "warmup": args.warmup, "burst": args.burst,
                "backbone": args.backbone, "input_size": args.input_size, "modes": list(modes),
                "detect_every": args.detect_every, "preset": args.preset, "detector": args.detector,
                "frames": args.frames, "long": args.long, "precision": args.precision,
                "command": "gazenet " + " ".join(sys.argv[1:]) if sys.argv else None}
    doc = bench_document(machine, thread_info(threads, applied), rows, pipeline, memory, settings, notes)
    sys.stdout.write(format_table(doc) + "\n")
    if args.json:
        from gazenet_app.cli.common import write_json_report

        write_json_report(args.json, doc)
    return 0
