"""`gazenet evaluate`: real checks of head-pose labels (a labels.csv's own angles) on held-out faces."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

__all__ = ["add_parser", "run"]


def add_parser(subparsers) -> argparse.ArgumentParser:
    """Register `evaluate`."""
    p = subparsers.add_parser(
        "evaluate", help="score head-pose labels on held-out faces (AFLW classes, UMIST sequences, Panoptic)",
        description="Score the angles of labels.csv files written by `gazenet data label`: MTFL-AFLW test rows get "
                    "the class checks (Spearman, 5-class agreement with boundaries fitted on --train-labels, sign "
                    "errors, per-class medians) and roll vs the eye line; UMIST rows the per-sequence Spearman.")
    p.add_argument("labels", nargs="+", help="labels.csv files (or their folders)")
    p.add_argument("--train-labels", default=None,
                   help="labels.csv of the train split for the class boundaries (default: the data dir's "
                        "mtfl_train/labels.csv when present)")
    p.add_argument("--panoptic", default=None, metavar="DIR",
                   help="also run the FaceMesh teacher on the true-angle Panoptic frame in DIR")
    p.add_argument("--render-check", default=None, metavar="FOLDER",
                   help="render faces of this labelled folder at known yaw offsets and read them back with the "
                        "teacher (use the held-out test folder)")
    p.add_argument("--render-n", type=int, default=50)
    p.add_argument("--render-max-offset", type=float, default=45.0)
    p.add_argument("--figures", default=None, metavar="DIR", help="write PNG figures here")
    p.add_argument("--json", default=None, help="write all results as JSON here")
    return p


def _csv(path: str) -> Path:
    p = Path(path)
    return p / "labels.csv" if p.is_dir() else p


def run(args) -> int:
    """Evaluate; prints a report, optionally writes JSON and figures."""
    from gazenet_app.core.errors import SourceError
    from gazenet_app.training import evaluate as ev
    from gazenet_app.training.dataset_format import read_labels
    from gazenet_app.training.paths import data_dir

    results = {}
    train_rows = None
    train_path = Path(args.train_labels) if args.train_labels else data_dir() / "mtfl_train" / "labels.csv"
    if train_path.is_file():
        train_rows = [r for r in read_labels(_csv(str(train_path))) if r["split"] == "train"]
    tables = {}
    for spec in args.labels:
        path = _csv(spec)
        if not path.is_file():
            raise SourceError(f"{path}: no labels.csv there")
        rows = read_labels(path)
        tables[str(path)] = rows
        poses = ev.poses_from_rows(rows)
        aflw = [r for r in rows if r["source"] == "mtfl_aflw"]
        if aflw:
            results[f"aflw ({path.parent.name})"] = ev.aflw_checks(aflw, poses, train_rows)
            results[f"roll_vs_eye_line ({path.parent.name})"] = ev.roll_vs_eye_line(aflw, poses)
        umist = [r for r in rows if r["source"] == "umist"]
        if umist:
            results[f"umist ({path.parent.name})"] = ev.umist_checks(umist, poses)
        if not aflw and not umist:
            results[f"roll_vs_eye_line ({path.parent.name})"] = ev.roll_vs_eye_line(rows, poses)
    if args.panoptic:
        from gazenet_app.training.teacher import FaceMeshTeacher

        with FaceMeshTeacher() as teacher:
            def predict(crop):
                fit = teacher.fit(crop)
                return None if fit is None else fit.pose

            results["panoptic (teacher)"] = ev.panoptic_check(Path(args.panoptic), predict)
    if args.render_check:
        results["render_readback"] = ev.render_readback(Path(args.render_check), n=args.render_n,
                                                        max_offset=args.render_max_offset)
    print(ev.format_report(results))
    if args.figures:
        from gazenet_app.training.figures import evaluation_figures

        for f in evaluation_figures(tables, Path(args.figures)):
            print(f"wrote {f}")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2, default=float) + "\n")
    return 0
