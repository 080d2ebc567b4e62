"""`gazenet convert CHECKPOINT [-o NAME|DIR|PATH.json] [--backbone] [--verify]`: a Hopenet .pkl -> a gazenet model.

Reads the PyTorch checkpoint without torch, loads it into the Gluon Hopenet (shapes checked), writes
NAME.params + NAME.json (card with sha256) into the user model folder or where `-o` says.
"""

from __future__ import annotations

import argparse
import logging
import os
from pathlib import Path
from typing import Optional, Tuple

from gazenet_app.cli.common import add_json_arg, add_output_arg, write_json_report
from gazenet_app.core.transforms import CROP_PRESETS

__all__ = ["add_parser", "run", "output_location"]

log = logging.getLogger(__name__)

#: Hopenet backbones (kept here, not imported from model_zoo, so `gazenet --help` does not load MXNet).
_BACKBONES = ("mobilenetv2", "resnet50")


def add_parser(subparsers) -> argparse.ArgumentParser:
    """Register the `convert` subcommand."""
    p = subparsers.add_parser(
        "convert", help="convert an original Hopenet PyTorch checkpoint into a gazenet model",
        description="Convert a Hopenet checkpoint (.pkl/.pth, legacy or zip PyTorch format; torch not needed) "
                    "into NAME.params + NAME.json in the user model folder (or where -o says).")
    p.add_argument("checkpoint", metavar="CHECKPOINT", help="e.g. hopenet_robust_alpha1.pkl")
    add_output_arg(p, help="a model NAME (written to the user model folder), a folder, or a path DIR/NAME.json "
                           "(default: the checkpoint's file name in the user model folder)")
    p.add_argument("--backbone", choices=_BACKBONES, default=None,
                   help="the checkpoint's backbone (default: read from its parameter names)")
    p.add_argument("--input-size", type=_input_size, default=None, metavar="PX",
                   help="input crop size written to the card (default: 224 for resnet50, 112 for mobilenetv2)")
    p.add_argument("--crop", choices=sorted(CROP_PRESETS), default=None,
                   help="crop preset written to the card (default: hopenet_test, the original's crop)")
    p.add_argument("--verify", action="store_true",
                   help="also run the checkpoint in a reference PyTorch network and compare the logits "
                        "(needs torch: pip install -c constraints.txt '.[convert]')")
    p.add_argument("--force", action="store_true", help="overwrite a model of the same name")
    add_json_arg(p, help="write a JSON report (paths, sha256, verification) to PATH")
    p.set_defaults(func=run)
    return p


def _input_size(text: str) -> int:
    """argparse type: an input size of at least 32 px (ResNet-50 and MobileNetV2 downsample 32x)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid input size {text!r}: a number of pixels") from None
    if value < 32:
        raise argparse.ArgumentTypeError(f"input size {value} is too small: 32 px at least")
    return value


def output_location(output: Optional[str], checkpoint: str) -> Tuple[Path, str]:
    """(folder, model name) for `-o`: NAME -> user folder; DIR (existing or ending in /) -> DIR/stem;
    DIR/NAME.json or DIR/NAME -> DIR, NAME."""
    from gazenet_app.model_zoo.store import user_model_dir

    stem = Path(checkpoint).stem
    if not output:
        return user_model_dir(), stem
    seps = (os.sep,) + ((os.altsep,) if os.altsep else ())
    path = Path(output).expanduser()
    if path.is_dir() or output.endswith(seps):
        return path, stem
    if not any(s in output for s in seps) and not output.endswith(".json"):
        return user_model_dir(), output
    return path.parent, path.stem if path.suffix == ".json" else path.name


def _verify(net, checkpoint: str, backbone: str, input_size: int) -> dict:
    """Compare Gluon and reference-torch logits of the same weights on a random batch."""
    import mxnet as mx
    import numpy as np

    from gazenet_app.core.errors import ModelLoadError
    from gazenet_app.core.geometry import decode_bins
    from gazenet_app.model_zoo import torch_reference as tr
    from gazenet_app.model_zoo.weights_io import read_torch_checkpoint

    tnet = tr.TorchHopenet(backbone)
    state = {k: tr.torch.from_numpy(v) for k, v in read_torch_checkpoint(checkpoint).items()}
    missing, unexpected = tnet.load_state_dict(state, strict=False)
    if missing or unexpected:
        raise ModelLoadError(f"the reference {backbone} Hopenet does not fit {checkpoint}: missing {missing[:3]}, "
                             f"unexpected {unexpected[:3]}")
    x = np.random.RandomState(0).randn(2, 3, input_size, input_size).astype(np.float32)
    ref = tr.run_numpy(tnet, x)
    out = net(mx.nd.array(x)).asnumpy()
    rel = float(np.abs(out - ref).max() / max(np.abs(ref).max(), 1e-12))
    deg = float(np.abs(decode_bins(out) - decode_bins(ref)).max())
    if rel > 1e-4 or deg > 1e-3:
        raise ModelLoadError(f"verification failed: Gluon and torch logits differ by {rel:.2e} (relative), "
                             f"angles by {deg:.2e} degrees")
    return {"max_rel_logit_diff": rel, "max_angle_diff_deg": deg, "input_size": input_size, "batch": 2}


def run(args: argparse.Namespace) -> int:
    """Convert the checkpoint, write the model and its card, optionally verify against torch."""
    from gazenet_app.core.errors import ExportError
    from gazenet_app.model_zoo.card import load_card
    from gazenet_app.model_zoo.conversion import DEFAULT_CONVERTED_CROP, convert_hopenet_checkpoint
    from gazenet_app.model_zoo.weights_io import save_model

    folder, name = output_location(args.output, args.checkpoint)
    if (folder / f"{name}.json").exists() and not args.force:
        raise ExportError(f"a model named {name!r} already exists in {folder}; choose another -o NAME or --force")
    _refuse_shadowed_name(folder, name)
    net, card = convert_hopenet_checkpoint(args.checkpoint, name=name, backbone=args.backbone,
                                           input_size=args.input_size, crop=args.crop or DEFAULT_CONVERTED_CROP)
    report = {"checkpoint": str(args.checkpoint), "name": name, "backbone": card.backbone,
              "input_size": card.input_size, "crop": card.crop, "verify": None}
    if args.verify:
        net.hybridize(static_alloc=True, static_shape=True)
        # The weights do not depend on the input size: a 64 px check keeps the ResNet-50 comparison quick.
        report["verify"] = _verify(net, args.checkpoint, card.backbone, 64)
        log.info("verified against PyTorch: logits within %.1e (relative), angles within %.1e deg",
                 report["verify"]["max_rel_logit_diff"], report["verify"]["max_angle_diff_deg"])
    card_path = save_model(net, card, folder)  # a failed write is an ExportError and leaves no file behind
    saved = load_card(card_path)
    report.update(card=str(card_path), params=str(card_path.with_suffix(".params")),
                  params_sha256=saved.params_sha256)
    log.info("wrote model %r: %s (+ %s)", name, card_path, card_path.with_suffix(".params").name)
    log.info("use it with --model %s", name if folder == _user_dir() else card_path)
    if args.json:
        write_json_report(args.json, report)
    return 0


def _refuse_shadowed_name(folder: Path, name: str) -> None:
    """Refuse a name that a model found earlier in the search order already has: `--model NAME` would go on
    loading that one (for example the shipped default), not the converted weights."""
    from gazenet_app.core.errors import ExportError
    from gazenet_app.model_zoo.store import search_dirs

    dirs = [d for d, _ in search_dirs()]
    here = [i for i, d in enumerate(dirs) if d.resolve() == folder.resolve()]
    for earlier in dirs[: here[0]] if here else []:
        if (earlier / f"{name}.json").exists():
            raise ExportError(f"a model named {name!r} is already installed in {earlier}, which is searched first: "
                              f"`--model {name}` would go on loading that one; choose another -o NAME")


def _user_dir() -> Path:
    from gazenet_app.model_zoo.store import user_model_dir

    return user_model_dir()
