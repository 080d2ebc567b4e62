"""`gazenet evaluate`: real checks of head-pose labels (a labels.csv's own angles) on held-out faces."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from gazenet_app.cli.common import write_json_report

__all__ = ["add_parser", "run"]


def add_parser(subparsers) -> argparse.ArgumentParser:
    """Register `evaluate`."""
    p = subparsers.add_parser(
        "evaluate", help="score head-pose labels on held-out faces (AFLW classes, UMIST sequences, Panoptic)",
        description="Score the angles of labels.csv files written by `gazenet data label`: MTFL-AFLW test rows get "
                    "the class checks (Spearman, 5-class agreement with boundaries fitted on --train-labels, sign "
                    "errors, per-class medians) and roll vs the eye line; UMIST rows the per-sequence Spearman.")
    p.add_argument("labels", nargs="*", help="labels.csv files (or their folders)")
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
    # model evaluation (training issue): the same checks on a model's predictions, plus the paper's MAE table
    m = p.add_argument_group("model evaluation")
    m.add_argument("--model", default=None, metavar="NAME_OR_PATH",
                   help="score this pose model's predictions (on the labels' canonical boxes) instead of the "
                        "labels' own angles; adds the MAE table (yaw, pitch, roll, mean, n) against the labels")
    m.add_argument("--dataset", default=None, metavar="FORMAT",
                   help="also evaluate on a dataset in another format: labels, 300w_lp, aflw2000, biwi, pointing04 "
                        "(with --data-dir; the |angle| > 99 filter applies; pointing04 reports per |yaw| band)")
    m.add_argument("--data-dir", default=None, metavar="DIR", help="the --dataset folder")
    m.add_argument("--split", default="test", choices=["test", "val", "train"],
                   help="pointing04: persons 10-12 (test, held out; the default), 07-09 (val) or 01-06 (train)")
    m.add_argument("--labels-file", default=None, metavar="PATH",
                   help="biwi: the FSA-Net/Biwi+ label .npz joined with the image folder --data-dir")
    m.add_argument("--no-filter", action="store_true", help="keep samples with |angle| > 99 (--dataset)")
    m.add_argument("--detect", nargs="?", const="mtcnn", default=None, metavar="DETECTOR",
                   help="--dataset: detect faces (end to end) instead of the given boxes (default detector mtcnn)")
    m.add_argument("--umist-dir", default=None, metavar="DIR",
                   help="UMIST originals for the full-sequence check of a model (default: ../shared's)")
    m.add_argument("--update-card", action="store_true",
                   help="write the model's numbers into its card's eval, with label sources and this command")
    m.add_argument("--batch-size", type=int, default=64)
    return p


def _csv(path: str) -> Path:
    p = Path(path)
    return p / "labels.csv" if p.is_dir() else p


def _command(args) -> str:
    """The command line that reproduces this evaluation (for the model card)."""
    import shlex

    parts = ["gazenet", "evaluate"] + list(args.labels)
    for flag, value in (("--model", args.model), ("--train-labels", args.train_labels), ("--panoptic", args.panoptic),
                        ("--dataset", args.dataset), ("--data-dir", args.data_dir),
                        ("--labels-file", args.labels_file), ("--detect", args.detect),
                        ("--umist-dir", args.umist_dir),
                        ("--split", args.split if (args.dataset or "").lower() == "pointing04" else None)):
        if value:
            parts += [flag, str(value)]
    if args.no_filter:
        parts.append("--no-filter")
    home = str(Path.home()) + "/"

    def quote(part: str) -> str:  # the home folder as ~/ (left unquoted so a shell expands it)
        return "~/" + shlex.quote(part[len(home):]) if part.startswith(home) else shlex.quote(part)

    return " ".join(quote(str(p)) for p in parts)


def run(args) -> int:
    """Evaluate; prints a report, optionally writes JSON and figures."""
    from gazenet_app.core.errors import SourceError
    from gazenet_app.training import evaluate as ev
    from gazenet_app.training.dataset_format import read_labels
    from gazenet_app.training.paths import data_dir

    results = {}
    model = None
    if args.model:
        from gazenet_app.model_zoo.pose import load_pose_model
        from gazenet_app.training import model_eval as mev

        # the loader every command uses (precision auto, or $GAZENET_PRECISION); numbers written into a card are
        # the card's own weights', so --update-card runs fp32
        model = load_pose_model(args.model, precision="fp32" if args.update_card else None)
        print(f"model {model.name}: precision {model.precision}, device {model.device}")
        card_eval, mae_tables = {}, {}
        command = _command(args)
    elif args.update_card or args.dataset:
        raise SourceError("--update-card and --dataset evaluate a model: add --model NAME")
    if not args.labels and not args.dataset and not args.panoptic and not args.render_check:
        raise SourceError("nothing to evaluate: give labels.csv files, --dataset with --data-dir, or --panoptic")
    train_rows = None
    train_path = Path(args.train_labels) if args.train_labels else data_dir() / "mtfl_train" / "labels.csv"
    if train_path.is_file():
        train_rows = [r for r in read_labels(_csv(str(train_path))) if r["split"] == "train"]
    tables = {}
    printed = {}  # results already printed in their own format (JSON only)
    for spec in args.labels:
        path = _csv(spec)
        if not path.is_file():
            raise SourceError(f"{path}: no labels.csv there")
        rows = read_labels(path)
        tables[str(path)] = rows
        poses = ev.poses_from_rows(rows)
        if model is not None:
            labels_poses = poses
            poses = mev.predict_rows(model, rows, path.parent, args.batch_size)
            name = path.parent.name
            pred = np.array([poses.get(r["path"], (np.nan,) * 3) for r in rows], dtype=np.float64)
            true = np.array([labels_poses[r["path"]] for r in rows], dtype=np.float64)
            src = "synthetic" if all(r["synthetic"] == "1" for r in rows) else "teacher"
            mae_tables[f"{name} (vs {src})"] = mev.mae_report(pred, true, f"all rows vs {src} labels")
            if src == "synthetic":  # renders of held-out faces: the large poses the teacher cannot label
                big = np.abs(true[:, 0]) >= 60
                if big.any():
                    rep = mev.mae_report(pred[big], true[big], "render labels with 60 <= |yaw| <= 90")
                    mae_tables[f"{name} (|yaw| 60-90)"] = rep
                    card_eval.setdefault(name, {}).update(mev.card_eval(name, {
                        f"mae_vs_synthetic_yaw60_90_{k}": (rep[k], rep["n"]) for k in ("yaw", "pitch", "roll", "mean")},
                        src, command).get(name, {}))
            agree = mev.teacher_agreement(rows, poses) if src == "teacher" else None
            if agree is not None:
                mae_tables[f"{name} (teacher |yaw|<=45)"] = agree
            card_eval.setdefault(name, {}).update(mev.card_eval(name, {
                f"mae_vs_{src}_{k}": (mae_tables[f"{name} (vs {src})"][k], mae_tables[f"{name} (vs {src})"]["n"])
                for k in ("yaw", "pitch", "roll", "mean")}, src, command).get(name, {}))
            if agree is not None:
                card_eval.setdefault(name, {}).update(mev.card_eval(name, {
                    f"mae_vs_teacher_yaw45_{k}": (agree[k], agree["n"]) for k in ("yaw", "pitch", "roll", "mean")},
                    "teacher", command).get(name, {}))
        real = [r for r in rows if r["synthetic"] != "1"]  # human classes and eye lines belong to real photos
        aflw = [r for r in real if r["source"] == "mtfl_aflw"]
        if aflw:
            results[f"aflw ({path.parent.name})"] = ev.aflw_checks(aflw, poses, train_rows)
            results[f"roll_vs_eye_line ({path.parent.name})"] = ev.roll_vs_eye_line(aflw, poses)
            if model is not None:
                a, rl = results[f"aflw ({path.parent.name})"], results[f"roll_vs_eye_line ({path.parent.name})"]
                ca = a.get("class_agreement") or {}
                card_eval.setdefault(path.parent.name, {}).update(mev.card_eval(path.parent.name, {
                    "spearman_yaw_class": (abs(a.get("spearman_yaw_class") or 0.0) or None, a["n"]),
                    "yaw_sign_errors_turned": (a.get("sign_errors", {}).get("wrong"),
                                               a.get("sign_errors", {}).get("n_turned", 0)),
                    "class_balanced_accuracy": (ca.get("balanced_accuracy"), a["n"]),
                    "roll_vs_eye_line_mae": (rl.get("mae"), rl.get("n", 0))}, "human", command).get(
                        path.parent.name, {}))
        umist = [r for r in rows if r["source"] == "umist"]
        if umist:
            results[f"umist ({path.parent.name})"] = ev.umist_checks(umist, poses)
            if model is not None:
                from gazenet_app.training.paths import shared_data_dir

                udir = Path(args.umist_dir) if args.umist_dir else (
                    shared_data_dir() / "faces_extra" / "face_databases_yuzhounh" / "UMIST")
                if udir.is_dir():
                    full = mev.umist_full_sequences(model, umist, path.parent, udir, args.batch_size)
                    results[f"umist full sequences ({path.parent.name})"] = full
                    card_eval.update(mev.card_eval("umist_sequences", {
                        "median_abs_spearman_all_frames": (full["median_abs_spearman"], full["frames"]),
                        "min_abs_spearman_all_frames": (full["min_abs_spearman"], full["frames"])}, "true",
                        command))
        if real and not aflw and not umist:
            results[f"roll_vs_eye_line ({path.parent.name})"] = ev.roll_vs_eye_line(real, poses)
    if args.dataset and not args.data_dir:
        raise SourceError("--dataset needs --data-dir DIR")
    detector = None
    if args.dataset and args.detect:  # end to end: the dataset's faces as the detector finds them
        from gazenet_app.detect.registry import get_detector

        detector = get_detector(args.detect)
    if args.dataset and args.dataset.lower() == "pointing04":
        from gazenet_app.training import pointing04

        reports = pointing04.evaluate_model(model, args.data_dir, args.split, detector, args.batch_size)
        printed[f"pointing04 ({args.split})"] = reports
        for boxes, report in reports.items():
            what = "the database's boxes mapped onto the canonical box" if boxes == "given" else (
                f"detected by {args.detect}")
            print(pointing04.format_band_report(f"Pointing'04 {args.split} persons, |pitch| <= 30, {what}:", report))
        card_eval.update(mev.card_eval(f"pointing04_{args.split}", pointing04.card_metrics(reports),
                                       "true (nominal)", command))
    elif args.dataset:
        from gazenet_app.training.readers import filter_pose_range, read_dataset

        kw = {"labels": args.labels_file} if args.labels_file else {}
        table = read_dataset(args.dataset, args.data_dir, **kw)
        dropped = 0
        if not args.no_filter:
            table, dropped = filter_pose_range(table)
        pred = mev.predict_table(model, table, args.batch_size, detector=detector)
        rep = mev.mae_report(pred, table.poses, "|angle| <= 99" if not args.no_filter else "all rows")
        rep["dropped_by_filter"] = dropped
        rep["boxes"] = f"detected ({args.detect})" if detector else f"given ({table.box_kind})"
        mae_tables[f"{args.dataset} ({Path(args.data_dir).name})"] = rep
        src = "true" if args.dataset.lower() in ("aflw2000", "biwi", "300w_lp") else "teacher"
        card_eval.update(mev.card_eval(args.dataset.lower(), {
            f"mae_{k}": (rep[k], rep["n"]) for k in ("yaw", "pitch", "roll", "mean")}, src, command))
    if args.panoptic and model is not None:
        pan = mev.panoptic_model(model, Path(args.panoptic))
        results["panoptic (model)"] = pan
        if pan.get("abs_error"):
            card_eval.update(mev.card_eval("panoptic_frame", {
                f"abs_error_{k}": (v, 1) for k, v in zip(("yaw", "pitch", "roll"), pan["abs_error"])}, "true",
                command))
    elif args.panoptic:
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
    results.update(printed)
    if model is not None:
        print("\nMAE (degrees) of model " + model.name + " on given boxes:")
        print(mev.format_mae_table(mae_tables))
        results["mae"] = mae_tables
        results["card_eval"] = card_eval
        if args.update_card:
            from gazenet_app.model_zoo.store import resolve_model

            print(f"updated {mev.update_card_eval(resolve_model(args.model), card_eval)}")
    if args.figures:
        from gazenet_app.training.figures import evaluation_figures

        for f in evaluation_figures(tables, Path(args.figures)):
            print(f"wrote {f}")
    if args.json:
        write_json_report(args.json, results)
    return 0
