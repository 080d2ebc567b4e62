#!/usr/bin/env python
"""Does averaging each crop with its mirror image pay for a pose model? Measured on the *validation* split only.

    python scripts/flip_average_gain.py --model hopenet_mnv2_96 --data D/mtfl_train --data D/mtfl_train_synth

For each setting (off / on) it prints the MAE against the labels of the val rows (teacher angles on real faces,
render labels on synthetic ones) and, on the real val faces with a human 5-class pose, the Spearman |rho| of yaw
with the class and the yaw sign errors on turned classes, beside the teacher's own figures on the same faces.
The decision it supports is the card's `flip_average` (`gazenet train --export ... --flip-average`); the held-out
test split is never read. `--split train` scores training rows instead (does the student fit the classes it was
trained on as well as its teacher does?).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any, Dict, List, Optional

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def build_parser() -> argparse.ArgumentParser:
    """The script's arguments."""
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--model", default=None, help="pose model (name or card path; default: the default model)")
    p.add_argument("--data", action="append", required=True, metavar="DATASET",
                   help="a labels.csv folder (repeatable); only its val rows are read")
    p.add_argument("--split", default="val", choices=["val", "train"], help="rows to score (default val)")
    p.add_argument("--limit", type=int, default=0, help="at most N rows per dataset (seeded sample; 0: all)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", default=None, help="also write the figures as JSON here")
    return p


def _split_rows(folder: Path, limit: int, seed: int, split: str = "val") -> List[Dict[str, str]]:
    from gazenet_app.training.dataset_format import LABELS_NAME, read_labels

    if split == "test":
        raise ValueError("the test split is held out: never tune on it")
    rows = [r for r in read_labels(folder / LABELS_NAME) if r["split"] == split]
    if limit and len(rows) > limit:
        pick = np.sort(np.random.default_rng(seed).choice(len(rows), size=limit, replace=False))
        rows = [rows[i] for i in pick]
    return rows


def class_figures(rows: List[Dict[str, str]], yaw: np.ndarray) -> Dict[str, Any]:
    """|Spearman| of yaw with the human class and sign errors on turned classes, scored as `gazenet evaluate`
    scores them (`training.evaluate.aflw_checks`) on these rows."""
    from gazenet_app.training.evaluate import aflw_checks

    res = aflw_checks(rows, {r["path"]: (float(y), 0.0, 0.0) for r, y in zip(rows, yaw)})
    return {"n": res["n"], "abs_spearman_yaw_class": abs(res["spearman_yaw_class"]),
            "sign_errors_turned": res["sign_errors"]["wrong"], "n_turned": res["sign_errors"]["n_turned"]}


def main(argv: Optional[List[str]] = None) -> int:
    """Print (and optionally write) the figures with flip averaging off and on."""
    args = build_parser().parse_args(argv)
    from gazenet_app.model_zoo.pose import load_pose_model
    from gazenet_app.training.model_eval import _read_rgb, predict_boxes

    model = load_pose_model(args.model)
    report: Dict[str, Any] = {"model": model.name, "card_flip_average": bool(model.card.flip_average),
                              "split": args.split, "datasets": {}}
    for d in args.data:
        folder = Path(d).expanduser()
        rows = _split_rows(folder, args.limit, args.seed, args.split)
        if not rows:
            print(f"{folder}: no {args.split} rows, skipped")
            continue
        imgs = [_read_rgb(folder / r["path"]) for r in rows]
        boxes = [[float(r[k]) for k in ("x1", "y1", "x2", "y2")] for r in rows]
        true = np.array([[float(r[k]) for k in ("yaw", "pitch", "roll")] for r in rows])
        has_cls = np.array([bool((r.get("pose_class") or "").strip()) and r.get("synthetic") == "0" for r in rows])
        cls_rows = [r for r, c in zip(rows, has_cls) if c]
        entry: Dict[str, Any] = {"n": len(rows)}
        if has_cls.any():
            entry["teacher_on_class_faces"] = class_figures(cls_rows, true[has_cls, 0])
        for flip in (False, True):
            model.flip_average = flip
            pred = predict_boxes(model, imgs, boxes)
            err = np.abs(pred - true)
            res: Dict[str, Any] = {"mae": {k: float(v) for k, v in zip(("yaw", "pitch", "roll"), err.mean(axis=0))}}
            res["mae"]["mean"] = float(err.mean())
            if has_cls.any():
                res["class_faces"] = class_figures(cls_rows, pred[has_cls, 0])
            entry["flip_on" if flip else "flip_off"] = res
        report["datasets"][folder.name] = entry
        print(f"{folder.name} ({args.split}, n={len(rows)})")
        for key in ("flip_off", "flip_on"):
            r = entry[key]
            line = f"  {key:8s} MAE yaw {r['mae']['yaw']:.3f} pitch {r['mae']['pitch']:.3f} " \
                   f"roll {r['mae']['roll']:.3f} mean {r['mae']['mean']:.3f}"
            if "class_faces" in r:
                c = r["class_faces"]
                line += f" | class faces n={c['n']}: |rho| {c['abs_spearman_yaw_class']:.4f}, " \
                        f"sign errors {c['sign_errors_turned']}/{c['n_turned']}"
            print(line)
        if "teacher_on_class_faces" in entry:
            c = entry["teacher_on_class_faces"]
            print(f"  teacher  same class faces: |rho| {c['abs_spearman_yaw_class']:.4f}, "
                  f"sign errors {c['sign_errors_turned']}/{c['n_turned']}")
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
