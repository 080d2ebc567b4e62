"""Why renders at 60-90 degrees did not teach real profiles: one model read on both, and on real profiles cropped
with other boxes.

Prints, for |yaw| 75-90 (|pitch| <= 30): the mean |yaw| read and the yaw MAE on (a) renders of validation faces
(`gazenet data synth` rows of the val split: the face mesh only, no ears, skull or hair) and (b) real Pointing'04
profiles of the validation persons 07-09 with their mapped boxes, then with the box scaled (x0.8, x1.25) and shifted a
sixth of its side toward the nose or the back of the head. If the renders read right while the real profiles read
low whatever the box, the gap is appearance (what the renders lack), not the crop. Usage:
    python scripts/profile_gap.py --model hopenet_mnv2_96 [--data ~/.cache/gazenet/data] [--shared ../shared]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from gazenet_app.model_zoo.pose import load_pose_model
from gazenet_app.training import pointing04
from gazenet_app.training.model_eval import predict_table
from gazenet_app.training.readers import read_labels_csv


def _row(name: str, pred: np.ndarray, true: np.ndarray) -> str:
    ok = np.isfinite(pred[:, 0])
    err = np.abs(pred[ok, 0] - true[ok, 0])
    return f"{name:58s} {int(ok.sum()):5d} {np.abs(pred[ok, 0]).mean():9.1f} {err.mean():8.2f}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default=None)
    ap.add_argument("--data", default=str(Path.home() / ".cache/gazenet/data"))
    ap.add_argument("--shared", default=str(Path(__file__).resolve().parents[1].parent / "shared"))
    ap.add_argument("--renders", type=int, default=600, help="render rows read (the first N at 75-90 of val)")
    a = ap.parse_args()
    model = load_pose_model(a.model)
    print(f"model {model.name}; |yaw| 75-90, |pitch| <= 30, validation identities only")
    print(f"{'faces (boxes)':58s} {'n':>5s} {'mean|yaw|':>9s} {'yaw MAE':>8s}")
    synth = read_labels_csv(Path(a.data).expanduser() / "mtfl_train_synth11", split="val")
    big = (np.abs(synth.poses[:, 0]) >= 75) & (np.abs(synth.poses[:, 1]) <= 30)
    synth = synth.subset(np.nonzero(big)[0][: a.renders])
    print(_row("renders (canonical boxes)", predict_table(model, synth), synth.poses))
    real = pointing04.read_pointing04(Path(a.shared) / "data/pose/pointing04", "val", max_abs_pitch=30)
    real = real.subset(np.abs(real.poses[:, 0]) >= 75)
    print(_row("Pointing'04 profiles (mapped boxes)", predict_table(model, real), real.poses))
    base = real.boxes.copy()
    side = base[:, 2] - base[:, 0]
    nose = -np.sign(real.poses[:, 0])  # yaw > 0: the nose points toward image-left
    for name, scale, shift in (("x0.8", 0.8, 0.0), ("x1.25", 1.25, 0.0), ("shifted toward the nose", 1.0, 1 / 6),
                               ("shifted toward the back of the head", 1.0, -1 / 6)):
        cx = (base[:, 0] + base[:, 2]) / 2 + shift * side * nose
        cy = (base[:, 1] + base[:, 3]) / 2
        h = scale * side / 2
        real.boxes = np.stack([cx - h, cy - h, cx + h, cy + h], axis=1).astype(np.float32)
        print(_row(f"Pointing'04 profiles ({name})", predict_table(model, real), real.poses))


if __name__ == "__main__":
    main()
