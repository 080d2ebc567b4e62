"""`gazenet detect IMAGES_OR_FOLDER`: face boxes per image, no pose model needed."""

from __future__ import annotations

import argparse
import logging
import sys
import time

__all__ = ["add_parser", "run"]

log = logging.getLogger(__name__)


def add_parser(subparsers) -> argparse.ArgumentParser:
    """Register the `detect` subcommand."""
    from gazenet_app.cli.common import add_detector_args, add_json_arg

    p = subparsers.add_parser("detect", help="find faces in images (no pose model needed)",
                              description="Print the face boxes found in each image; optionally save them "
                                          "as JSON and draw them on copies of the images.")
    p.add_argument("inputs", nargs="+", metavar="IMAGES_OR_FOLDER", help="image files and/or folders of images")
    add_detector_args(p)
    p.add_argument("--min-face", type=int, default=None, help="override the preset's smallest face (px)")
    p.add_argument("--weights", default=None, metavar="NAME_OR_PARAMS",
                   help="ssh only: trained weights (a .params from train-detector or an installed model name)")
    add_json_arg(p, help="write all boxes (and the detector's settings) to this JSON file")
    p.add_argument("--save", metavar="DIR", default=None, help="write each image with its boxes drawn here")
    p.add_argument("--canonical", action="store_true",
                   help="report gazenet's canonical face boxes instead of the detector's own")
    p.set_defaults(func=run)
    return p


def _draw(rgb, boxes):
    import cv2

    out = rgb.copy()
    t = max(1, int(round(max(rgb.shape[:2]) / 500)))
    for b in boxes:
        cv2.rectangle(out, (int(round(b.x1)), int(round(b.y1))), (int(round(b.x2)), int(round(b.y2))),
                      (0, 255, 0), t)
        for x, y in b.landmarks or ():
            cv2.circle(out, (int(round(x)), int(round(y))), t + 1, (255, 0, 0), -1)
    return out


def run(args: argparse.Namespace) -> int:
    """Detect faces in every image and print `path: N faces` plus one line per box."""
    from gazenet_app.cli.common import collect_images, make_output_dir, write_json_report
    from gazenet_app.core.errors import DetectorError
    from gazenet_app.cli.image_reader import readable_images
    from gazenet_app.core.video import write_image
    from gazenet_app.detect.registry import get_detector

    kw = {"min_face": args.min_face} if getattr(args, "min_face", None) else {}
    if args.detector == "ssh" and getattr(args, "weights", None):
        kw["model"] = args.weights
    try:
        detector = get_detector(args.detector, args.preset, **kw)
    except ValueError as e:
        raise DetectorError(str(e)) from None
    paths = collect_images(args.inputs)
    images, skipped = readable_images(paths)
    save = make_output_dir(args.save)
    records = []
    total, total_ms = 0, 0.0
    for _, path, rgb in images:  # an unreadable image among several is skipped with a note, as in annotate
        t0 = time.perf_counter()
        boxes = detector.detect(rgb)
        ms = (time.perf_counter() - t0) * 1000.0
        if args.canonical:
            boxes = [detector.to_canonical(b) for b in boxes]
        total += len(boxes)
        total_ms += ms
        sys.stdout.write(f"{path}: {len(boxes)} faces ({ms:.0f} ms)\n")
        for b in boxes:
            sys.stdout.write(f"  {b.x1:.1f} {b.y1:.1f} {b.x2:.1f} {b.y2:.1f} score={b.score:.3f}\n")
        records.append({"image": str(path), "width": int(rgb.shape[1]), "height": int(rgb.shape[0]),
                        "ms": round(ms, 2),
                        "faces": [{"box": [round(v, 2) for v in b.as_tuple()], "score": round(b.score, 4),
                                   "landmarks": ([[round(x, 2), round(y, 2)] for x, y in b.landmarks]
                                                 if b.landmarks else None)} for b in boxes]})
        if save is not None:
            write_image(save / (path.stem + ".png"), _draw(rgb, boxes))
    sys.stdout.write(f"{total} faces in {len(records)} images ({total_ms / max(len(records), 1):.0f} ms per image, "
                     f"detector {detector.name}/{detector.preset})\n")
    if args.json:
        write_json_report(args.json, {"detector": detector.metadata(), "canonical": bool(args.canonical),
                                      "images": records, "skipped": skipped})
    return 0
