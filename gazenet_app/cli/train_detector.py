"""`gazenet train-detector`: train SSH on a WIDER-FACE-format set (or build the composite set first).

Examples:
  gazenet train-detector --data ~/.cache/gazenet/data/ssh_composite --build-composite   # make it, then train
  gazenet train-detector --data DIR --steps 2000 -o runs/ssh --resume
  gazenet train-detector --data DIR -o runs/ssh --steps 0 --name ssh_mnv2   # newest checkpoint -> model + card
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from gazenet_app.cli.common import write_json_report

__all__ = ["add_parser", "run"]

log = logging.getLogger("gazenet.train_detector")


def _sizes(text: str):
    try:
        vals = tuple(int(v) for v in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected sizes like 224,256,288, got {text!r}") from None
    if not vals or any(v <= 0 or v % 32 for v in vals):
        raise argparse.ArgumentTypeError(f"sizes must be positive multiples of 32, got {text!r}")
    return vals


def add_parser(subparsers) -> argparse.ArgumentParser:
    """Register `train-detector`."""
    from gazenet_app.cli.common import add_output_arg

    p = subparsers.add_parser(
        "train-detector", help="train the SSH face detector on a WIDER-FACE-format set",
        description="Train SSH (MobileNetV2 trunk, ImageNet init) with OHEM per detection module. --data is a "
                    "folder holding wider_face_train_bbx_gt.txt (and optionally wider_face_val_bbx_gt.txt) and "
                    "images/. --build-composite first makes such a folder from MTFL's train split.",
        formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__.split("\n", 2)[2])
    p.add_argument("--data", required=True, metavar="DIR", help="WIDER-format folder")
    p.add_argument("--build-composite", action="store_true",
                   help="build the composite set into --data first (MTFL train split faces on backgrounds)")
    p.add_argument("--composite-images", type=int, nargs=2, default=(3000, 300), metavar=("TRAIN", "VAL"),
                   help="composite images to build (default 3000 300)")
    p.add_argument("--shared", default=None, metavar="DIR",
                   help="the shared data folder holding faces_extra/ (default ../shared/data)")
    p.add_argument("--background-photos", nargs="*", default=[], metavar="IMAGE",
                   help="photos whose face-free regions become half of the composite train backgrounds")
    add_output_arg(p, help="run folder for checkpoints (default: DATA/../ssh_run)")
    p.add_argument("--trunk", default="mobilenetv2", choices=["mobilenetv2", "vgg16", "tiny"])
    p.add_argument("--pretrained", default="imagenet", metavar="imagenet|none|PARAMS",
                   help="trunk init: ImageNet (MobileNetV2), none, or a .params of the same SSH to fine-tune")
    p.add_argument("--steps", type=int, default=1000)
    p.add_argument("--batch-size", type=int, default=8)
    p.add_argument("--lr", type=float, default=0.01)
    p.add_argument("--sizes", type=_sizes, default=(224, 256, 288), help="multi-scale input sides")
    p.add_argument("--frozen-blocks", type=int, default=4, help="MobileNetV2 blocks not trained (default 4)")
    p.add_argument("--checkpoint-every", type=int, default=100)
    p.add_argument("--eval-every", type=int, default=0, help="AP on the val split every N steps (0: at the end)")
    p.add_argument("--resume", action="store_true", help="continue from the newest checkpoint in the run folder")
    p.add_argument("--name", default=None, help="also save the final net as an installed-style model NAME "
                                                  "(NAME.params + NAME.json, kind detector) in the run folder")
    p.add_argument("--seed", type=int, default=0)
    return p


def run(args: argparse.Namespace) -> int:
    """Build data if asked, train, evaluate AP on the val split, optionally write a model card."""
    import json

    from gazenet_app.training.ssh_data import WiderDataset, build_composite
    from gazenet_app.training.ssh_train import SshTrainConfig, SshTrainer

    data = Path(args.data).expanduser()
    if args.build_composite:
        shared = Path(args.shared) if args.shared else Path(__file__).resolve().parents[3] / "shared" / "data"
        mtfl = shared / "faces_extra" / "mtfl_80px"
        summary = build_composite(data, mtfl, n_train=args.composite_images[0], n_val=args.composite_images[1],
                                  seed=args.seed, background_photos=args.background_photos)
        log.info("composite set in %s: %s", data, summary)
    train = WiderDataset(data / "wider_face_train_bbx_gt.txt", data / "images")
    val = None
    if (data / "wider_face_val_bbx_gt.txt").is_file():
        val = WiderDataset(data / "wider_face_val_bbx_gt.txt", data / "images")
    out = Path(args.output).expanduser() if args.output else data.parent / "ssh_run"
    cfg = SshTrainConfig(trunk=args.trunk, pretrained=args.pretrained, sizes=tuple(args.sizes),
                         batch_size=args.batch_size, steps=args.steps, lr=args.lr, frozen_blocks=args.frozen_blocks,
                         checkpoint_every=args.checkpoint_every, eval_every=args.eval_every, seed=args.seed)

    def val_ap(net) -> float:
        from gazenet_app.detect.ssh import SshDetector
        from gazenet_app.training.ssh_evaluation import evaluate_detector

        det = SshDetector(net=net, score_threshold=0.05, max_side=max(cfg.sizes), min_face=8)
        return round(evaluate_detector(det, val, limit=100)["ap"], 4)

    trainer = SshTrainer(cfg, train, out, val_fn=val_ap if val is not None else None, resume=args.resume)

    def progress(rec: dict) -> None:
        if rec["step"] % 10 == 0 or "val" in rec:
            log.info("step %d/%d size %d lr %.4f cls %.3f box %.3f%s (%.0f s)", rec["step"], cfg.steps,
                     rec["size"], rec["lr"], rec["cls"], rec["box"],
                     f" val AP {rec['val']:.3f}" if "val" in rec else "", rec["elapsed_s"])

    trainer.run(progress)
    report = {"run": str(out), "steps": trainer.step, "init": trainer.init_source}
    if val is not None:
        report["val_ap"] = val_ap(trainer.net)
        log.info("val AP@0.5 (first 100 val images): %.3f", report["val_ap"])
    if args.name:
        from gazenet_app.model_zoo.weights_io import save_model

        card = {"schema_version": 1, "kind": "detector", "name": args.name, "format": "params", "precision": "fp32",
                "architecture": f"ssh_{cfg.trunk}", "source": f"trained by gazenet train-detector ({out})",
                "training": {"data": f"WIDER-format set {data}", "license": "research use (MTFL faces)",
                             "steps": trainer.step},
                "eval": {}, "detector": {"trunk": cfg.trunk, "channels": list(trainer.net.channels),
                                         "box": "canonical"}}
        report["card"] = str(save_model(trainer.net, card, out))
    write_json_report(out / "report.json", report)
    print(json.dumps(report))
    return 0
