"""`gazenet evaluate-detector`: average precision (IoU 0.5) of any registered detector on a WIDER-format set."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

__all__ = ["add_parser", "run"]

log = logging.getLogger("gazenet.evaluate_detector")


def add_parser(subparsers) -> argparse.ArgumentParser:
    """Register `evaluate-detector`."""
    from gazenet_app.cli.common import add_detector_args, add_json_arg

    p = subparsers.add_parser(
        "evaluate-detector", help="AP@0.5 of a face detector on a WIDER-FACE-format set",
        description="Run a detector over the images of a WIDER-format annotation file and report AP at IoU 0.5 "
                    "(greedy matching by score, `invalid` boxes ignored), faces found, misses, false positives "
                    "and ms per image.")
    p.add_argument("--data", required=True, metavar="DIR",
                   help="folder with wider_face_<split>_bbx_gt.txt and images/ (or give --annotations)")
    p.add_argument("--split", default="val", help="which annotation file: wider_face_<split>_bbx_gt.txt")
    p.add_argument("--annotations", default=None, metavar="FILE", help="an explicit bbx_gt file")
    add_detector_args(p)
    p.add_argument("--weights", default=None, metavar="NAME_OR_PARAMS",
                   help="SSH only: trained weights (.params from train-detector, or an installed model name)")
    p.add_argument("--trunk", default=None, help="SSH only: the trunk of a bare .params (default mobilenetv2)")
    p.add_argument("--raw-boxes", action="store_true",
                   help="match the detector's own boxes (default: its canonical boxes, which the composite "
                        "set's true boxes are)")
    p.add_argument("--score-threshold", type=float, default=None, help="override the preset's score cut")
    p.add_argument("--iou", type=float, default=0.5)
    p.add_argument("--limit", type=int, default=None, help="only the first N images")
    add_json_arg(p)
    return p


def run(args: argparse.Namespace) -> int:
    """Evaluate and print one line of figures (and the JSON report when asked)."""
    from gazenet_app.cli.common import write_json_report
    from gazenet_app.core.errors import DetectorError
    from gazenet_app.detect.registry import get_detector
    from gazenet_app.training.ssh_data import WiderDataset
    from gazenet_app.training.ssh_evaluation import evaluate_detector

    data = Path(args.data).expanduser()
    ann = Path(args.annotations) if args.annotations else data / f"wider_face_{args.split}_bbx_gt.txt"
    ds = WiderDataset(ann, data / "images")
    kw = {}
    if args.detector == "ssh":
        kw = {"model": args.weights, "trunk": args.trunk}
    if args.score_threshold is not None:
        kw["score_threshold"] = args.score_threshold
    try:
        det = get_detector(args.detector, args.preset, **kw)
    except ValueError as e:
        raise DetectorError(str(e)) from None
    res = evaluate_detector(det, ds, canonical=not args.raw_boxes, iou_threshold=args.iou, limit=args.limit)
    res.update({"detector": det.metadata(), "annotations": str(ann)})
    sys.stdout.write(f"{det.name}/{det.preset}: AP@{args.iou:g} {res['ap']:.3f} on {res['images']} images "
                     f"({res['faces']} faces): found {res['found']}, missed {res['misses']}, false positives "
                     f"{res['false_positives']}, {res['ms_per_image']:.0f} ms per image\n")
    if args.json:
        write_json_report(args.json, res)
    return 0
