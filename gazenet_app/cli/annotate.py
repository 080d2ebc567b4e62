"""`gazenet annotate INPUT -o OUT.csv`: walk a clip, image or folder and write per-face poses incrementally.

Rows go to `OUT.csv.partial` (and `OUT.jsonl.partial`, `OUT.partial.avi`) as frames are processed and are
renamed when the run completes; Ctrl-C or a kill keeps them, and the same command with `--resume` finishes the
job without duplicate rows. The provenance sidecar is `OUT.meta.json`.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from gazenet_app.cli.common import (add_detector_args, add_device_arg, add_json_arg, add_model_arg,
                                    add_output_arg, add_sequence_arg, write_json_report)

__all__ = ["add_parser", "add_annotation_args", "run"]

log = logging.getLogger(__name__)


def _positive(text: str) -> int:
    v = int(text)
    if v < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {v}")
    return v


def _non_negative(text: str) -> int:
    v = int(text)
    if v < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0, got {v}")
    return v


def add_annotation_args(p: argparse.ArgumentParser) -> None:
    """The pipeline and frame flags `annotate` shares with `annotate-corpus`: --model, --precision, --detector,
    --preset, --device, --stride, --detect-every, --smooth, --cube."""
    add_model_arg(p)
    add_detector_args(p)
    add_device_arg(p)
    p.add_argument("--stride", type=_positive, default=1, metavar="N", help="process every Nth frame (default 1)")
    p.add_argument("--detect-every", type=_positive, default=1, metavar="N",
                   help="run the detector every N processed frames, tracking in between (default 1)")
    p.add_argument("--smooth", action="store_true",
                   help="smooth angles and boxes per face (One-Euro); adds yaw_raw,pitch_raw,roll_raw")
    p.add_argument("--cube", action="store_true", help="draw pose cubes in the annotated video")


def add_parser(subparsers) -> argparse.ArgumentParser:
    """Register the `annotate` subcommand."""
    p = subparsers.add_parser(
        "annotate", help="annotate a video, image or folder: CSV / JSON Lines / annotated video",
        description="Write one CSV row per face and frame (source,frame,timestamp_ms,face_id,x1,y1,x2,y2,"
                    "det_score,yaw,pitch,roll,pose_valid,tracked_only; +yaw_raw,pitch_raw,roll_raw with --smooth), "
                    "flushed as produced into OUT.partial and renamed when done; a sidecar OUT.meta.json records "
                    "the provenance. Camera: INPUT cam:0.")
    p.add_argument("input", metavar="INPUT", help="video file, image, folder of images, or cam:N")
    add_output_arg(p, help="CSV output (OUT.csv)")
    p.add_argument("--jsonl", metavar="PATH", default=None, help="also write JSON Lines (one record per frame)")
    p.add_argument("--video", metavar="PATH", default=None,
                   help="also write an annotated video: .avi (MJPG) or .mp4 (mp4v)")
    add_annotation_args(p)
    p.add_argument("--start", type=_non_negative, default=0, metavar="N", help="first frame (default 0)")
    p.add_argument("--end", type=_positive, default=None, metavar="N", help="stop before this frame (default: the end)")
    add_sequence_arg(p)
    p.add_argument("--resume", action="store_true", help="continue an interrupted run from its .partial files")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    add_json_arg(p, help="write a JSON summary of the run to PATH")
    p.set_defaults(func=run)
    return p


def run(args: argparse.Namespace) -> int:
    """Annotate INPUT; 0 when complete, 130 when interrupted (rows kept for --resume)."""
    from dataclasses import asdict

    from gazenet_app.cli.common import build_pipeline
    from gazenet_app.core.errors import GazenetError
    from gazenet_app.core.results import FINAL_STATUSES
    from gazenet_app.core.video import open_source
    from gazenet_app.pipeline import AnnotateOutputs, annotate

    if not (args.output or args.jsonl or args.video):
        raise GazenetError("give an output: -o OUT.csv, --jsonl OUT.jsonl and/or --video OUT.avi")
    outputs = AnnotateOutputs(csv=Path(args.output) if args.output else None,
                              jsonl=Path(args.jsonl) if args.jsonl else None,
                              video=Path(args.video) if args.video else None, show_cube=args.cube,
                              meta={"command": " ".join(["gazenet", *getattr(args, "argv", [])])})
    source = open_source(args.input)  # a bad input fails before the model loads
    try:
        pipeline = build_pipeline(args, smoothing=args.smooth, detect_every=args.detect_every)
        bar = None
        if not args.no_progress:
            from tqdm import tqdm

            bar = tqdm(unit="frame", desc=Path(str(args.input)).name, file=sys.stderr, disable=None)

        def progress(done: int, total) -> None:
            if bar is None:
                return
            if total is not None and bar.total != total:
                bar.total = total
                bar.refresh()
            bar.update(done - bar.n)

        try:
            summary = annotate(source, pipeline, outputs, start=args.start, end=args.end, stride=args.stride,
                               resume=args.resume, progress=progress)
        except KeyboardInterrupt:
            if bar is not None:
                bar.close()
            kept = ", ".join(str(p) for p in (outputs.csv, outputs.jsonl) if p)
            sys.stderr.write(f"interrupted: the rows written so far are kept in the .partial files of {kept}; "
                             f"run the same command with --resume to finish\n")
            return 130
        finally:
            if bar is not None:
                bar.close()
    finally:
        source.close()
    if summary.ended_early:
        log.warning("the input ended early: %s; the outputs cover the frames before it", summary.ended_early)
    where = outputs.main_path()
    sys.stdout.write(f"{summary.frames} frames, {summary.faces} faces, {summary.rows} rows -> {where}"
                     + (f" (resumed after frame {summary.resumed_after})" if summary.resumed_after is not None
                        else "") + "\n")
    if args.json:
        doc = asdict(summary)
        doc["complete"] = summary.status in FINAL_STATUSES
        write_json_report(args.json, doc)
    return 0
