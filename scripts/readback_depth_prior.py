#!/usr/bin/env python
"""Would a shape prior make face-profiling renders read back closer to their labels? Train faces only.

    python scripts/readback_depth_prior.py --data D/mtfl_train --n 200 --lam 1 0.5 0

Each source face (|yaw|, |pitch| <= 15 by its label, real, from the *train* split's folder) is rendered at one
yaw offset uniform in +-45 with its fitted mesh's head-frame depth blended toward the canonical face's:
z = lam * z_fitted + (1 - lam) * z_canonical (lam 1 = the renderer as shipped; the texture is the same for every
lam). FaceMesh reads each render back, as `gazenet evaluate --render-check` does; printed per lam: yaw MAE, the MAE
for targets within +-45 (the teacher's metric range), and MAE / signed error by |target yaw| band.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path
from typing import List, Optional

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main(argv: Optional[List[str]] = None) -> int:
    """Print the read-back figures for each depth blend."""
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--data", required=True,
                   help="a `gazenet data label` folder of train faces (labels.csv, meshes.npz)")
    p.add_argument("--n", type=int, default=200, help="source faces (default 200)")
    p.add_argument("--lam", type=float, nargs="+", default=[1.0, 0.5, 0.0])
    p.add_argument("--seed", type=int, default=5)
    args = p.parse_args(argv)

    import cv2

    from gazenet_app.core.geometry import euler_to_matrix, matrix_to_euler
    from gazenet_app.training.dataset_format import LABELS_NAME, MESHES_NAME, read_labels
    from gazenet_app.training.evaluate import yaw_error_bands
    from gazenet_app.training.facemesh import canonical_vertices
    from gazenet_app.training.render import build_head, render_head
    from gazenet_app.training.teacher import TEACHER_INPUT_SIZE, FaceMeshTeacher

    folder = Path(args.data).expanduser()
    rows = [r for r in read_labels(folder / LABELS_NAME) if r["split"] != "test" and r["synthetic"] == "0"
            and abs(float(r["yaw"])) <= 15 and abs(float(r["pitch"])) <= 15]
    if not rows:
        print(f"{folder}: no train faces within 15 degrees", file=sys.stderr)
        return 2
    meshes = np.load(folder / MESHES_NAME)
    by_path = {str(q): i for i, q in enumerate(meshes["path"])}
    rng = np.random.default_rng(args.seed)
    pick = [rows[i] for i in rng.choice(len(rows), size=min(args.n, len(rows)), replace=False)]
    offsets = rng.uniform(-45, 45, size=len(pick))
    canon_z = canonical_vertices()[:, 2]
    reads = {lam: [] for lam in args.lam}
    with FaceMeshTeacher() as teacher:
        for r, off in zip(pick, offsets):
            i = by_path[r["path"]]
            rgb = cv2.cvtColor(cv2.imread(str(folder / r["path"])), cv2.COLOR_BGR2RGB)
            V = meshes["vertices"][i].astype(np.float64)
            R, s, t = meshes["rotation"][i], float(meshes["scale"][i]), meshes["translation"][i]
            texture = build_head(V, R, s, t).texcoords
            Q = (V[:468] - t) @ R / s
            for lam in args.lam:
                Qb = Q.copy()
                Qb[:, 2] = lam * Q[:, 2] + (1.0 - lam) * canon_z
                Vb = V.copy()
                Vb[:468] = s * Qb @ R.T + t
                head = dataclasses.replace(build_head(Vb, R, s, t), texcoords=texture)
                img, _, R_label = render_head(rgb, head, euler_to_matrix(float(off), 0.0, 0.0))
                fit = teacher.fit(cv2.resize(img, (TEACHER_INPUT_SIZE,) * 2, interpolation=cv2.INTER_LINEAR))
                if fit is not None:
                    reads[lam].append((matrix_to_euler(R_label)[0], fit.pose[0]))
    for lam in args.lam:
        if not reads[lam]:
            print(f"lam {lam:g}: the teacher found no face in any render")
            continue
        a = np.array(reads[lam])
        target, err = a[:, 0], a[:, 1] - a[:, 0]
        within = np.abs(target) <= 45
        bands = yaw_error_bands(target, err, ((0, 15), (15, 30), (30, 45), (45, 90)))
        print(f"lam {lam:g}: answered {len(a)} of {len(pick)}, yaw MAE {np.abs(err).mean():.3f}, "
              f"targets within 45: {np.abs(err[within]).mean():.3f} (n {within.sum()}) | "
              + " | ".join(f"{k}: n {b['n']}, MAE {b['mae_yaw']:.2f}, signed {b['mean_signed_yaw_error']:+.2f}"
                           for k, b in bands.items()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
