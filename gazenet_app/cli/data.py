"""`gazenet data label|synth|montage|pointing04|stats`: teacher labels for real faces, face profiling of large poses,
and Pointing'04's real profiles as a training set."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from gazenet_app.cli.common import write_json_report

__all__ = ["add_parser", "run"]


def add_parser(subparsers) -> argparse.ArgumentParser:
    """Register `data` and its sub-commands."""
    p = subparsers.add_parser("data", help="prepare training data (teacher labels, synthesis)",
                              description="Prepare head-pose training data. Needs scripts/install_data_deps.sh "
                                          "(mediapipe 0.10.21). Without -o, output goes to a named folder "
                                          "under $GAZENET_DATA_DIR or ~/.cache/gazenet/data/ (outside git).")
    sub = p.add_subparsers(dest="data_command", metavar="{label,synth,montage,pointing04,stats}")
    sub.required = True

    lab = sub.add_parser("label", help="teacher-label real faces (MTFL csv, UMIST/ORL csv, images)")
    lab.add_argument("source", help="MTFL labels.csv, the face databases' labels.csv, an image, a folder or a "
                                    ".txt list of images")
    lab.add_argument("-o", "--output", default=None,
                     help="output dataset folder (default: DATA_DIR/mtfl_train, mtfl_test, umist, ...)")
    lab.add_argument("--split", default="all", choices=["train", "test", "all"],
                     help="MTFL rows to take (test = the held-out AFLW faces; label them into their own folder)")
    lab.add_argument("--databases", default="UMIST", help="face-database csv: comma list (UMIST,ORL,IMM)")
    lab.add_argument("--source-name", default="images", help="source name for plain images")
    lab.add_argument("--size", type=int, default=128, help="saved image side (px)")
    lab.add_argument("--val-fraction", type=float, default=0.1, help="identities of the train split sent to val")
    lab.add_argument("--seed", type=int, default=0, help="seed of the identity split")
    lab.add_argument("--landmark-yaw-weight", type=float, default=None, metavar="W",
                     help="share of the human five landmarks' yaw in the label where a face has them "
                          "(default 0.7, chosen on the train split; 0 = FaceMesh alone)")
    lab.add_argument("--limit", type=int, default=0, help="label only the first N faces (0 = all)")
    lab.add_argument("--json", default=None, help="also write the report as JSON here")

    syn = sub.add_parser("synth", help="render labelled faces at new poses (300W-LP-style face profiling)")
    syn.add_argument("labels", help="labels.csv written by `gazenet data label` (meshes.npz beside it)")
    syn.add_argument("-o", "--output", default=None,
                     help="output dataset folder, resumable (default: DATA_DIR/<labels folder>_synth)")
    syn.add_argument("--per-face", type=int, default=8, help="renders per source face")
    syn.add_argument("--seed", type=int, default=0)
    syn.add_argument("--workers", type=int, default=1, help="processes")
    syn.add_argument("--max-source-yaw", type=float, default=30.0, help="use sources with |yaw| <= this")
    syn.add_argument("--max-source-pitch", type=float, default=25.0, help="use sources with |pitch| <= this")
    syn.add_argument("--yaw-range", type=float, default=90.0, help="target yaw uniform in +-this")
    syn.add_argument("--pitch-range", type=float, default=30.0, help="target pitch uniform in +-this")
    syn.add_argument("--roll-range", type=float, default=30.0, help="target roll uniform in +-this")
    syn.add_argument("--limit", type=int, default=0, help="use only the first N source faces (0 = all)")
    syn.add_argument("--chunk", type=int, default=100, help="source faces per resumable chunk")
    syn.add_argument("--no-progress", action="store_true")

    mon = sub.add_parser("montage", help="montage PNG of renders at yaw -90..90 and the pitch range, axes drawn")
    mon.add_argument("labels", help="labels.csv written by `gazenet data label`")
    mon.add_argument("-o", "--output", required=True, help="PNG path")
    mon.add_argument("--faces", type=int, default=6)
    mon.add_argument("--seed", type=int, default=0)
    mon.add_argument("--pitch-range", type=float, default=30.0)

    p04 = sub.add_parser("pointing04", help="Pointing'04 train persons as a training set (real profiles)")
    p04.add_argument("source", help="the Pointing'04 folder (../shared/data/pose/pointing04)")
    p04.add_argument("-o", "--output", default=None, help="output dataset folder (default: DATA_DIR/pointing04)")
    p04.add_argument("--fit-mapping", action="store_true",
                     help="only fit and print the database box -> canonical box mapping on train persons")

    st = sub.add_parser("stats", help="counts per split/real/synthetic and label histograms of dataset folders")
    st.add_argument("folders", nargs="+", help="dataset folders (or their labels.csv)")
    st.add_argument("--figure", default=None, help="write yaw/pitch/roll histograms (PNG) here")
    st.add_argument("--json", default=None)
    return p


def _progress(total: int, disable: bool = False):
    from tqdm import tqdm

    return tqdm(total=total, unit="face", dynamic_ncols=True, disable=disable)


def run(args) -> int:
    """Dispatch `gazenet data ...`; returns the exit code."""
    if args.data_command == "label":
        from gazenet_app.training.labeling import label_records
        from gazenet_app.training.sources import read_source

        from gazenet_app.training.paths import data_dir
        from gazenet_app.training.sources import detect_kind

        dbs = [d.strip() for d in args.databases.split(",") if d.strip()]
        records = read_source(Path(args.source), split=args.split, databases=dbs, source=args.source_name)
        if args.output is None:
            kind = detect_kind(Path(args.source))
            name = {"mtfl": f"mtfl_{args.split}", "facedb": "_".join(d.lower() for d in dbs)}.get(
                kind, args.source_name)
            args.output = str(data_dir() / name)
        if args.limit:
            records = records[: args.limit]
        weight = {} if args.landmark_yaw_weight is None else {"landmark_yaw_weight": args.landmark_yaw_weight}
        with _progress(len(records)) as bar:
            report = label_records(records, Path(args.output), size=args.size, val_fraction=args.val_fraction,
                                   seed=args.seed, progress=bar.update, **weight)
        print(json.dumps(report.as_dict()))
        print(f"labelled {report.kept} of {report.total} faces into {args.output}")
        if args.json:
            write_json_report(args.json, report.as_dict())
        return 0
    if args.data_command == "synth":
        from gazenet_app.training.paths import data_dir
        from gazenet_app.training.synth import SynthConfig, synthesize

        if args.output is None:
            src = Path(args.labels)
            args.output = str(data_dir() / f"{(src.parent if src.suffix == '.csv' else src).name}_synth")
        cfg = SynthConfig(per_face=args.per_face, seed=args.seed, max_source_yaw=args.max_source_yaw,
                          max_source_pitch=args.max_source_pitch, yaw_range=args.yaw_range,
                          pitch_range=args.pitch_range, roll_range=args.roll_range, chunk=args.chunk)
        summary = synthesize(Path(args.labels), Path(args.output), cfg, workers=args.workers, limit=args.limit,
                             progress=not args.no_progress)
        print(json.dumps(summary))
        return 0
    if args.data_command == "montage":
        from gazenet_app.training.montage import write_montage

        write_montage(Path(args.labels), Path(args.output), faces=args.faces, seed=args.seed,
                      pitch_range=args.pitch_range)
        print(f"wrote {args.output}")
        return 0
    if args.data_command == "pointing04":
        from gazenet_app.training import pointing04
        from gazenet_app.training.paths import data_dir

        if args.fit_mapping:
            mapping, n = pointing04.fit_box_mapping(Path(args.source))
            print(f"{mapping} from {n} train photos (module constant: {pointing04.BOX_MAPPING})")
            return 0
        out = pointing04.write_training_set(Path(args.source), Path(args.output) if args.output
                                            else data_dir() / "pointing04")
        print(f"wrote Pointing'04 persons 01-09 (train 01-06, val 07-09; roll unlabelled) to {out}")
        return 0
    if args.data_command == "stats":
        from gazenet_app.core.errors import SourceError
        from gazenet_app.training.dataset_format import read_labels
        from gazenet_app.training.figures import dataset_stats, label_histograms

        tables = {}
        for f in args.folders:
            p = Path(f)
            p = p / "labels.csv" if p.is_dir() else p
            if not p.is_file():
                raise SourceError(f"{p}: no labels.csv (a synthesis still running writes it every few chunks)")
            tables[p.parent.name] = read_labels(p)
        stats = dataset_stats(tables)
        print(json.dumps(stats, indent=2))
        if args.figure:
            print(f"wrote {label_histograms(tables, Path(args.figure))}")
        if args.json:
            write_json_report(args.json, stats)
        return 0
    raise ValueError(f"unknown data command {args.data_command!r}")
