"""`gazenet predict IMG... [--save DIR] [--json PATH]`: yaw, pitch, roll of every face in images."""

from __future__ import annotations

import argparse
import logging
import sys

from gazenet_app.cli.common import (add_detector_args, add_device_arg, add_json_arg, add_model_arg,
                                    add_sequence_arg, collect_images, make_output_dir, write_json_report)

__all__ = ["add_parser", "run"]

log = logging.getLogger(__name__)


def add_parser(subparsers) -> argparse.ArgumentParser:
    """Register the `predict` subcommand."""
    p = subparsers.add_parser("predict", help="head pose of every face in images",
                              description="Print yaw, pitch and roll (degrees, Hopenet's convention) of every "
                                          "face in the images; optionally write the images with overlays.")
    p.add_argument("inputs", nargs="+", metavar="IMG", help="image files or folders of images")
    p.add_argument("--save", metavar="DIR", default=None,
                   help="write each image with boxes and pose axes drawn into DIR (as NAME_pose.jpg)")
    p.add_argument("--cube", action="store_true", help="draw a pose cube too (with --save)")
    add_model_arg(p)
    add_detector_args(p)
    add_device_arg(p)
    add_sequence_arg(p)
    add_json_arg(p, help="write the results as JSON to PATH")
    p.set_defaults(func=run)
    return p


def run(args: argparse.Namespace) -> int:
    """Estimate and print the pose of every face in every image."""
    from gazenet_app.cli.common import build_pipeline
    from gazenet_app.core.draw import draw_frame_result
    from gazenet_app.cli.image_reader import readable_images
    from gazenet_app.core.video import Frame, write_image

    paths = collect_images(args.inputs)
    images, skipped = readable_images(paths)  # a bad single image fails before the model loads
    save = make_output_dir(args.save)
    pipeline = build_pipeline(args)
    out = sys.stdout
    out.write(f"{'image':<28} {'face':>4} {'x1':>7} {'y1':>7} {'x2':>7} {'y2':>7} {'score':>6} "
              f"{'yaw':>7} {'pitch':>7} {'roll':>7}  valid\n")
    records, n_faces = [], 0
    for i, path, rgb in images:  # an unreadable image among several is skipped with a note, as in annotate
        result = pipeline.process(Frame(i, 0.0, rgb, str(path)))  # a new file: a new photo unless --sequence
        n_faces += len(result.faces)
        if not result.faces:
            out.write(f"{path.name:<28} no face\n")
        for f in result.faces:
            b, p = f.box, f.pose
            angles = (f"{p.yaw:7.1f} {p.pitch:7.1f} {p.roll:7.1f}" if p is not None else f"{'-':>7} " * 3)
            out.write(f"{path.name:<28} {f.face_id:>4} {b.x1:7.1f} {b.y1:7.1f} {b.x2:7.1f} {b.y2:7.1f} "
                      f"{b.score:6.3f} {angles}  {'yes' if f.pose_valid else 'no'}\n")
        records.append({"image": str(path), "width": int(rgb.shape[1]), "height": int(rgb.shape[0]),
                        "faces": [{"face_id": f.face_id, "box": [round(v, 2) for v in f.box.as_tuple()],
                                   "det_score": round(f.box.score, 4),
                                   "yaw": None if f.pose is None else round(f.pose.yaw, 3),
                                   "pitch": None if f.pose is None else round(f.pose.pitch, 3),
                                   "roll": None if f.pose is None else round(f.pose.roll, 3),
                                   "pose_valid": f.pose_valid} for f in result.faces],
                        "timing_ms": {k: round(v, 2) for k, v in result.timing.items()}})
        if save is not None:
            write_image(save / f"{path.stem}_pose.jpg", draw_frame_result(rgb, result, show_cube=args.cube))
    log.info("%d faces in %d images", n_faces, len(records))
    if args.json:
        write_json_report(args.json, {"provenance": pipeline.describe(), "images": records, "skipped": skipped})
    return 0
