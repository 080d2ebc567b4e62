"""Measure the tracker's face evidence (track/evidence.py) on real faces and on non-faces; choose its threshold.

A box the tracker carries without a detection is checked by MTCNN's O-Net; under the threshold the track ends.
This prints the O-Net face score per group of crops, with the share each threshold rejects:
- real faces: Pointing'04 TRAIN persons 01-09 (|pitch| <= 30) per |yaw| band up to full profile, on the
  database's box mapped to gazenet's canonical box (training/pointing04.py's BOX_MAPPING, fitted on train
  persons) and on a jittered copy (a carried box drifts: +-15% shift, +-15% size); MTFL's train web
  photos (net_7876) per MTFL pose class, on the canonical box of their five landmarks;
- non-faces: squares over the back-of-head panels of whenet_turn.jpg (top row 3 and 4, bottom row 1: hair, ear,
  neck, the blind behind), the boxes the tracker carries onto them when the panels are played as one sequence,
  and Pointing'04 background squares (wall, shirt, top of the head) away from the face box.
`--pose-model` adds the pose net's confidence (max softmax probability of its yaw bins) on the same crops, the
alternative evidence that was measured and not chosen. Persons 10-12 (held out) are never read.
Usage (from the repo root): PYTHONPATH=. python scripts/measure_track_evidence.py [--shared ../shared]
    [--pose-model hopenet_mnv2_96] [--thresholds 0.05 0.1 0.2 0.3]
"""

from __future__ import annotations

import argparse
import csv
import time
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

import cv2
import numpy as np

from gazenet_app.core.transforms import canonical_box_from_landmarks, crop_face, expand_box
from gazenet_app.core.video import read_image
from gazenet_app.track.evidence import ONET_THRESHOLD, OnetFaceCheck

Box = Tuple[float, float, float, float]
ROOT = Path(__file__).resolve().parents[1]

#: whenet_turn.jpg panels (row-major, 0-based) that show the back of the head: no face in them.
BACK_OF_HEAD_PANELS = (2, 3, 4)
YAW_BANDS = ((0, 0), (15, 30), (45, 60), (75, 75), (90, 90))
#: The threshold rule: the largest one that rejects no real face on its own box and at most this share of a
#: face group on jittered (drifted) boxes.
MAX_JITTERED_REJECTED = 0.02


def _seams(profile: np.ndarray, parts: int) -> List[int]:
    """Cut positions: the strongest edge within 10% of each nominal split of a 1-D edge profile."""
    n = len(profile) + 1
    cuts = [0]
    for k in range(1, parts):
        c, r = int(n * k / parts), int(0.1 * n / parts)
        cuts.append(c - r + int(np.argmax(profile[c - r:c + r])) + 1)
    return cuts + [n]


def whenet_panels(path: Path, rows: int = 2, cols: int = 4, size: Tuple[int, int] = (640, 720)) -> List[np.ndarray]:
    """The panels of a photo grid (whenet_turn.jpg: 2 x 4), row-major, cut at the seams between photos and
    resized (bilinear) to one (width, height): frames of one video (a tracker starts over when the frame size
    changes). On these frames MTCNN finds a false box over the glasses of the first (frontal) panel."""
    rgb = read_image(path)
    grey = rgb.astype(np.float32).mean(axis=2)
    ys = _seams(np.abs(np.diff(grey, axis=0)).mean(axis=1), rows)
    panels = []
    for r in range(rows):
        band = grey[ys[r]:ys[r + 1]]
        xs = _seams(np.abs(np.diff(band, axis=1)).mean(axis=0), cols)
        panels += [cv2.resize(rgb[ys[r]:ys[r + 1], xs[c]:xs[c + 1]], size, interpolation=cv2.INTER_LINEAR)
                   for c in range(cols)]
    return panels


def _square(cx: float, cy: float, side: float) -> Box:
    return (cx - side / 2, cy - side / 2, cx + side / 2, cy + side / 2)


def _jitter(box: Box, rng: np.random.Generator, amount: float = 0.15) -> Box:
    side = box[2] - box[0]
    dx, dy, ds = rng.uniform(-amount, amount, size=3)
    return _square((box[0] + box[2]) / 2 + dx * side, (box[1] + box[3]) / 2 + dy * side, side * (1 + ds))


def pointing_samples(shared: Path, rng) -> Tuple[Dict[str, list], list]:
    """Face crops per |yaw| band (mapped and jittered boxes) and background squares, as (rgb, box) pairs."""
    from gazenet_app.training.pointing04 import read_pointing04

    # persons 01-09 (the database's train persons: this reader's train + val), boxes mapped to canonical ones
    table = read_pointing04(shared / "data/pose/pointing04", ("train", "val"), max_abs_pitch=30)
    faces: Dict[str, list] = {}
    background = []
    for i in range(len(table)):
        rgb = table.load_image(i)
        box = tuple(float(v) for v in table.boxes[i])
        yaw = abs(int(round(float(table.poses[i, 0]))))
        band = next(f"{a}-{b}" if a != b else f"{a}" for a, b in YAW_BANDS if a <= yaw <= b)
        faces.setdefault(f"pointing04 |yaw| {band}", []).append((rgb, box))
        faces.setdefault(f"pointing04 |yaw| {band} jittered", []).append((rgb, _jitter(box, rng)))
        h, w = rgb.shape[:2]
        side = box[2] - box[0]
        for _ in range(20):  # one background square per photo, clear of the face box
            cx, cy = rng.uniform(side / 2, w - side / 2), rng.uniform(side / 2, h - side / 2)
            bg = _square(cx, cy, side)
            if bg[2] < box[0] or bg[0] > box[2] or bg[3] < box[1] or bg[1] > box[3]:
                background.append((rgb, bg))
                break
    return faces, background


def mtfl_samples(shared: Path, per_class: int, rng) -> Dict[str, list]:
    """MTFL train web photos (net_7876), up to `per_class` per pose class, on their landmarks' canonical box."""
    root = shared / "data/faces_extra/mtfl_80px"
    with open(root / "labels.csv", newline="") as f:
        # net_7876/_* files carry landmarks shifted off the face (docs/data.md): their boxes would miss it
        rows = [r for r in csv.DictReader(f) if r["split"] == "train" and r["path"].startswith("net_7876/")
                and not r["path"].startswith("net_7876/_")]
    names = {"1": "left profile", "2": "left", "3": "frontal", "4": "right", "5": "right profile"}
    out: Dict[str, list] = {}
    for cls, name in names.items():
        picked = [r for r in rows if r["pose_class"] == cls]
        for i in rng.permutation(len(picked))[:per_class]:
            r = picked[i]
            lm = [(float(r[f"x_{k}"]), float(r[f"y_{k}"])) for k in ("leye", "reye", "nose", "lmouth", "rmouth")]
            out.setdefault(f"mtfl train {name}", []).append(
                (read_image(root / r["path"]), canonical_box_from_landmarks(lm).as_tuple()))
    return out


def whenet_samples(panels: Sequence[np.ndarray], detector) -> Dict[str, list]:
    """Non-face squares over the back-of-head panels, and the boxes the tracker carries over the sequence."""
    from gazenet_app.track.tracker import FaceTracker

    grid = []
    for i in BACK_OF_HEAD_PANELS:
        p = panels[i]
        h, w = p.shape[:2]
        for frac in (0.4, 0.55, 0.7):
            side = frac * w
            for cx in np.linspace(side / 2, w - side / 2, 4):
                for cy in np.linspace(side / 2, h - side / 2, 4):
                    grid.append((p, _square(cx, cy, side)))
    tracker = FaceTracker(face_check=None)  # no evidence: see which boxes following alone carries on
    carried, detected = [], []
    for i, p in enumerate(panels):
        boxes = [detector.to_canonical(b) for b in detector.detect(p)]
        for t in tracker.update(p, boxes):
            if t.tracked_only and i in BACK_OF_HEAD_PANELS:
                carried.append((p, t.box.as_tuple()))
            elif not t.tracked_only:
                detected.append((p, t.box.as_tuple()))
    return {"whenet MTCNN detections": detected, "whenet back-of-head, carried box": carried,
            "whenet back-of-head squares": grid}


def pose_confidence(model, samples: Sequence[Tuple[np.ndarray, Box]]) -> np.ndarray:
    """Max softmax probability of the pose net's yaw bins on each sample's model crop."""
    crops = np.stack([crop_face(rgb, expand_box(box, model.crop_preset), model.input_size) for rgb, box in samples])
    yaw = model.predict_logits(crops)[:, 0].astype(np.float64)
    p = np.exp(yaw - yaw.max(axis=1, keepdims=True))
    return (p / p.sum(axis=1, keepdims=True)).max(axis=1)


def onet_scores(check: OnetFaceCheck, samples: Sequence[Tuple[np.ndarray, Box]]) -> np.ndarray:
    """The O-Net face score of each (rgb, box) sample."""
    return np.array([check.scores(rgb, [box])[0] for rgb, box in samples])


def table(groups: Dict[str, Tuple[str, np.ndarray, Optional[np.ndarray]]], thresholds: Sequence[float]) -> str:
    """Markdown table: per group n, O-Net p5 / median, share under each threshold, pose-net max prob median."""
    head = ["group", "kind", "n", "O-Net p5", "O-Net median"] + [f"< {t:g}" for t in thresholds]
    head += ["pose max-prob median"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for name, (kind, s, conf) in groups.items():
        cells = [name, kind, str(len(s)), f"{np.percentile(s, 5):.3f}", f"{np.median(s):.3f}"]
        cells += [f"{100 * np.mean(s < t):.1f}%" for t in thresholds]
        cells.append(f"{np.median(conf):.3f}" if conf is not None else "-")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: Optional[Sequence[str]] = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--shared", type=Path, default=ROOT.parent / "shared")
    ap.add_argument("--pose-model", default=None, help="also print this pose model's yaw-bin confidence")
    ap.add_argument("--mtfl-per-class", type=int, default=150)
    ap.add_argument("--thresholds", type=float, nargs="+", default=sorted({0.02, 0.05, 0.1, 0.2, 0.3, 0.5, ONET_THRESHOLD}))
    args = ap.parse_args(argv)
    if not (args.shared / "data").is_dir():
        print(f"error: no shared data at {args.shared}")
        return 2
    from gazenet_app.detect.registry import get_detector

    rng = np.random.default_rng(0)
    detector = get_detector("mtcnn", "accurate")
    faces, background = pointing_samples(args.shared, rng)
    faces.update(mtfl_samples(args.shared, args.mtfl_per_class, rng))
    whenet = whenet_samples(whenet_panels(args.shared / "data/faces/whenet_turn.jpg"), detector)
    model = None
    if args.pose_model:
        from gazenet_app.model_zoo.pose import load_pose_model

        model = load_pose_model(args.pose_model)
    check = OnetFaceCheck()
    groups = {}
    kinds = [(k, "face", v) for k, v in faces.items()]
    kinds += [("whenet MTCNN detections", "face", whenet["whenet MTCNN detections"])]
    kinds += [(k, "not a face", whenet[k]) for k in ("whenet back-of-head, carried box",
                                                       "whenet back-of-head squares")]
    kinds += [("pointing04 background squares", "not a face", background)]
    for name, kind, samples in kinds:
        if samples:
            conf = pose_confidence(model, samples) if model is not None else None
            groups[name] = (kind, onet_scores(check, samples), conf)
    print(table(groups, args.thresholds))
    face_s = np.concatenate([s for k, s, _ in groups.values() if k == "face"])
    non_s = np.concatenate([s for k, s, _ in groups.values() if k != "face"])
    for t in args.thresholds:
        print(f"threshold {t:g}: faces rejected {100 * np.mean(face_s < t):.2f}% of {len(face_s)}, "
              f"non-faces kept {100 * np.mean(non_s >= t):.2f}% of {len(non_s)}")
    rgb, box = faces["pointing04 |yaw| 0"][0]
    ms = []
    for _ in range(50):
        t0 = time.perf_counter()
        check.scores(rgb, [box])
        ms.append((time.perf_counter() - t0) * 1000)
    print(f"O-Net check: {np.median(ms):.2f} ms per box (median of 50, this machine)")
    ok = [t for t in args.thresholds
          if all(np.mean(s < t) <= (MAX_JITTERED_REJECTED if "jittered" in name else 0.0)
                 for name, (k, s, _) in groups.items() if k == "face")]
    print(f"rule (no real face rejected on its own box, at most {100 * MAX_JITTERED_REJECTED:g}% on a jittered "
          f"box): largest threshold {max(ok) if ok else None}; shipped ONET_THRESHOLD = {ONET_THRESHOLD:g}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
