#!/usr/bin/env python
"""Build the shipped fast modes of a pose model: NAME_fused and NAME_int8 (format symbol), offline.

    python scripts/build_fast_modes.py --model NAME --data DATASET [--data DATASET2] [-o models/]

- int8 is calibrated (naive, full quantization) on crops of the *train* split of the datasets (labels.csv
  folders written by `gazenet data label|synth`); the installed app never calibrates;
- the accuracy cost of each mode is its MAE minus the fp32 model's MAE on the *validation* split, measured with
  the exported files loaded back exactly as the app loads them (`mae_delta_deg`, per angle in `mae_delta`);
- batch-1 latency of fp32 and each mode is measured in the same run (paired rounds) and written to the cards,
  so `gazenet_app.model_zoo.modes.choose_mode` can pick the fastest mode within 0.3 deg MAE.
Test-split rows (the held-out set) are never read. Each export gets its own card, beside the fp32 model unless
-o says otherwise. Needs the training extras only for reading the datasets (`gazenet_app.training.readers`).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

log = logging.getLogger("build_fast_modes")

__all__ = ["main", "build_parser", "load_crops", "mae"]


def build_parser() -> argparse.ArgumentParser:
    """The script's arguments."""
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--model", default=None, help="the fp32 model (name or card path; default: the default model)")
    p.add_argument("--data", action="append", required=True, metavar="DATASET",
                   help="a labels.csv folder (repeatable): train rows calibrate, val rows measure the cost")
    p.add_argument("-o", "--output", default=None, metavar="DIR",
                   help="where the exports and their cards go (default: beside the fp32 model's card)")
    p.add_argument("--modes", default="fused,int8", help="exports to build (default fused,int8)")
    p.add_argument("--calib", type=int, default=256, help="train crops used for int8 calibration (default 256)")
    p.add_argument("--val-limit", type=int, default=0, help="use at most N val crops (0: all)")
    p.add_argument("--rounds", type=int, default=30, help="paired timing rounds at batch 1 (default 30)")
    p.add_argument("--seed", type=int, default=0, help="seed of the calibration sample")
    p.add_argument("--force", action="store_true", help="overwrite existing exports")
    p.add_argument("--json", default=None, help="also write the report as JSON here")
    return p


def load_crops(datasets: Sequence[str], split: str, size: int, preset: str, limit: int = 0,
               seed: int = 0) -> Dict[str, Any]:
    """uint8 crops (the model's crop preset at its input size), labels and provenance of one split."""
    from gazenet_app.training.augment import eval_crop
    from gazenet_app.training.readers import read_labels_csv

    if split == "test":
        raise ValueError("the test split is held out: never calibrate or tune on it")
    tables = [read_labels_csv(d, split=split) for d in datasets]
    refs = [(t, i) for t in tables for i in range(len(t))]
    if not refs:
        raise SystemExit(f"error: no {split} rows in {', '.join(datasets)}")
    if limit and len(refs) > limit:
        pick = np.random.RandomState(seed).choice(len(refs), size=limit, replace=False)
        refs = [refs[i] for i in sorted(pick)]
    crops = np.stack([eval_crop(t.load_image(i), t.boxes[i], size, preset) for t, i in refs])
    poses = np.stack([t.poses[i] for t, i in refs]).astype(np.float64)
    return {"crops": crops, "poses": poses, "n": len(refs), "split": split, "data": [str(d) for d in datasets]}


def mae(pred: np.ndarray, true: np.ndarray) -> Dict[str, float]:
    """MAE per angle and their mean (degrees)."""
    err = np.abs(np.asarray(pred, np.float64) - np.asarray(true, np.float64))
    out = {k: float(err[:, i].mean()) for i, k in enumerate(("yaw", "pitch", "roll"))}
    out["mean"] = float(np.mean([out["yaw"], out["pitch"], out["roll"]]))
    return out


def _predict(est, crops: np.ndarray, batch: int = 32) -> np.ndarray:
    return np.concatenate([est.predict_crops(crops[i:i + batch]) for i in range(0, len(crops), batch)])


def _build(base_info, precision: str, calib_input: np.ndarray):
    """The fp32 net loaded afresh and turned into `precision` (fused or int8)."""
    from gazenet_app.model_zoo.pose import load_pose_model
    from gazenet_app.model_zoo.precision import optimize_net

    est = load_pose_model(base_info)
    s = est.input_size
    shape = (1, s, s, 3) if est.card.normalization_in_graph else (1, 3, s, s)
    return optimize_net(est.net, precision, shape, calib=calib_input if precision == "int8" else None)


def _mode_card(base_card: Dict[str, Any], precision: str, extra: Dict[str, Any]) -> Dict[str, Any]:
    from gazenet_app.model_zoo.modes import mode_model_name

    card = {k: v for k, v in base_card.items() if k not in ("default", "symbol_sha256", "extra", "eval")}
    card.update(name=mode_model_name(base_card["name"], precision), format="symbol", precision=precision,
                params_sha256="0" * 64, eval={},
                source=f"{precision} export of {base_card['name']} (params sha256 {base_card['params_sha256']}) "
                       "by scripts/build_fast_modes.py",
                description=f"{base_card['name']} as {precision} (oneDNN); the accuracy cost against fp32 on the "
                            "validation split is extra.mae_delta_deg")
    card["extra"] = extra
    return card


def main(argv: Optional[List[str]] = None) -> int:
    """Build, verify and time the exports; returns 0 when every requested mode was written."""
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    from gazenet_app.benchmark.networks import network_input
    from gazenet_app.benchmark.timing import median, paired_rounds
    from gazenet_app.model_zoo.card import load_card, validate_card, write_card
    from gazenet_app.model_zoo.modes import mode_model_name
    from gazenet_app.model_zoo.pose import load_pose_model
    from gazenet_app.model_zoo.store import default_model_name, resolve_model
    from gazenet_app.model_zoo.weights_io import save_model

    spec = args.model or default_model_name()
    if spec is None:
        raise SystemExit("error: no default model is installed; name one with --model")
    base = resolve_model(spec)
    if base.card.mode_of is not None or base.card.precision != "fp32":
        raise SystemExit(f"error: {base.name} is already a {base.card.precision} export; give the fp32 model")
    modes = [m.strip() for m in args.modes.split(",") if m.strip()]
    bad = [m for m in modes if m not in ("fused", "int8")]
    if bad:
        raise SystemExit(f"error: unknown modes {bad}; valid: fused, int8")
    out_dir = Path(args.output) if args.output else base.card_path.parent
    for m in modes:
        target = out_dir / f"{mode_model_name(base.name, m)}.json"
        if target.exists() and not args.force:
            raise SystemExit(f"error: {target} exists; pass --force to rebuild it")

    fp32 = load_pose_model(base)
    size, preset = fp32.input_size, fp32.card.crop
    log.info("reading crops: %d train (calibration), val (accuracy cost) from %s", args.calib, ", ".join(args.data))
    calib = load_crops(args.data, "train", size, preset, limit=args.calib, seed=args.seed)
    val = load_crops(args.data, "val", size, preset, limit=args.val_limit, seed=args.seed)
    pred32 = _predict(fp32, val["crops"])
    mae32 = mae(pred32, val["poses"])
    log.info("fp32 %s: val MAE %.3f deg (n=%d)", base.name, mae32["mean"], val["n"])
    calib_input = network_input(fp32.card, calib["crops"])

    built = {}
    for m in modes:
        t0 = time.perf_counter()
        net = _build(base, m, calib_input)
        extra = {"mode_of": base.name, "base_params_sha256": base.card.params_sha256}
        card_path = save_model(net, _mode_card(base.card.to_dict(), m, extra), out_dir)
        est = load_pose_model(resolve_model(card_path))  # exactly what ships, loaded as the app loads it
        pred = _predict(est, val["crops"])
        cost = mae(pred, val["poses"])
        built[m] = {"card": card_path, "est": est, "mae": cost, "build_s": time.perf_counter() - t0,
                    "agreement": {"mean_abs_diff_deg": float(np.abs(pred - pred32).mean()),
                                  "max_abs_diff_deg": float(np.abs(pred - pred32).max())}}
        log.info("%s: val MAE %.3f deg (cost %+.3f), mean |diff| to fp32 %.3f deg", m, cost["mean"],
                 cost["mean"] - mae32["mean"], built[m]["agreement"]["mean_abs_diff_deg"])

    x = network_input(fp32.card, val["crops"][:1])
    import mxnet as mx

    nets = {"fp32": fp32.net, **{m: b["est"].net for m, b in built.items()}}
    times = paired_rounds({k: (lambda n=n: n(mx.nd.array(x)).asnumpy()) for k, n in nets.items()},
                          args.rounds, warmup=3)
    ms = {k: 1000.0 * median(v) for k, v in times.items()}
    threads = os.environ.get("OMP_NUM_THREADS")
    report: Dict[str, Any] = {"model": base.name, "fp32": {"val_mae": mae32, "ms_per_face": ms["fp32"]},
                              "val_n": val["n"], "calib_n": calib["n"], "data": val["data"], "modes": {}}
    for m, b in built.items():
        card = load_card(b["card"]).to_dict()
        card["extra"].update({
            "mae_delta_deg": round(b["mae"]["mean"] - mae32["mean"], 4),
            "mae_delta": {k: round(b["mae"][k] - mae32[k], 4) for k in ("yaw", "pitch", "roll")},
            "val_mae": {k: round(v, 4) for k, v in b["mae"].items()},
            "fp32_val_mae": {k: round(v, 4) for k, v in mae32.items()},
            "val_n": val["n"], "val_data": val["data"], "agreement_with_fp32": b["agreement"],
            "calibration": {"split": "train", "n": calib["n"], "data": calib["data"], "seed": args.seed,
                            "mode": "naive", "quantize_mode": "full"} if m == "int8" else None,
            "ms_per_face": round(ms[m], 3), "fp32_ms_per_face": round(ms["fp32"], 3),
            "timing": {"batch": 1, "rounds": args.rounds, "OMP_NUM_THREADS": threads,
                       "measured_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())},
            "command": "python scripts/build_fast_modes.py " + " ".join(argv if argv is not None else sys.argv[1:]),
        })
        write_card(validate_card(card), b["card"])
        report["modes"][m] = {"card": str(b["card"]), "mae_delta_deg": card["extra"]["mae_delta_deg"],
                              "ms_per_face": ms[m], "speedup_vs_fp32": ms["fp32"] / ms[m],
                              "agreement": b["agreement"], "build_s": round(b["build_s"], 1)}
    print(f"{'mode':6} {'ms/face':>8} {'x fp32':>7} {'MAE cost':>9}  card")
    print(f"{'fp32':6} {ms['fp32']:8.2f} {1.0:7.2f} {0.0:+9.3f}  {base.card_path}")
    for m, r in report["modes"].items():
        print(f"{m:6} {r['ms_per_face']:8.2f} {r['ms_per_face'] / ms['fp32']:7.2f} {r['mae_delta_deg']:+9.3f}  {r['card']}")
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=1, default=str) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
