"""Figures for docs/detection.md: per detector and preset, faces found / missed / false positives on the
hand-checked photos (tests/fixtures/hand_boxes.py), faces found on all shared photos, and ms per 640x480 frame.

A detection is a hit when it overlaps a hand-checked box with IoU >= 0.4 (detectors draw their boxes
differently: MTCNN's are taller than the cascades' squares); detections centred in an `ignore` region count
neither way. Usage (from the repo root):
    PYTHONPATH=.:tests python scripts/detector_figures.py [--shared ../shared] [--detectors mtcnn cascade]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import cv2
import numpy as np

from fixtures.hand_boxes import HAND_BOXES
from gazenet_app.core.video import read_image
from gazenet_app.detect.registry import get_detector, get_detector_list, get_preset_list
from gazenet_app.training.ssh_evaluation import match_detections


def frame_640x480(rgb: np.ndarray) -> np.ndarray:
    """The photo letterboxed into a 640x480 frame."""
    h, w = rgb.shape[:2]
    s = min(640 / w, 480 / h)
    small = cv2.resize(rgb, (int(w * s), int(h * s)), interpolation=cv2.INTER_AREA)
    out = np.zeros((480, 640, 3), np.uint8)
    out[:small.shape[0], :small.shape[1]] = small
    return out


def ms_per_frame(det, frame: np.ndarray, runs: int = 10) -> float:
    det.detect(frame)
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        det.detect(frame)
        times.append((time.perf_counter() - t0) * 1000)
    return float(np.median(times))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--shared", default=str(Path(__file__).resolve().parents[1].parent / "shared"))
    ap.add_argument("--detectors", nargs="*", default=[d for d in get_detector_list() if d != "ssh"])
    ap.add_argument("--iou", type=float, default=0.4)
    ap.add_argument("--ssh", default=None, metavar="PARAMS", help="also measure SSH with these trained weights")
    a = ap.parse_args()
    faces = Path(a.shared) / "data/faces"
    photos = {p.name: read_image(p) for p in sorted(faces.iterdir())}
    one_face = frame_640x480(photos["whenet_mov_001_007585.jpeg"])
    five_faces = frame_640x480(photos["ulfd_19.jpg"])
    n_true = sum(len(v["faces"]) for v in HAND_BOXES.values())
    print(f"hand-checked: {len(HAND_BOXES)} photos, {n_true} faces; all shared photos: {len(photos)}")
    ref = get_detector("mtcnn", "accurate")
    ref_boxes = {k: [ref.to_canonical(b).as_tuple() for b in ref.detect(v)] for k, v in photos.items()}
    print("| detector | preset | found | missed | false pos. | faces on all 24 photos | of them matching "
          "MTCNN-accurate | ms/photo (24) | ms 640x480, 1 face | ms 640x480, 5 faces |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    runs = [(n, p, {}) for n in a.detectors for p in get_preset_list()]
    if a.ssh:
        runs += [("ssh", p, {"model": a.ssh}) for p in get_preset_list()]
    for name, preset, kw in runs:
            det = get_detector(name, preset, **kw)
            found = missed = fp = 0
            for photo, truth in HAND_BOXES.items():
                boxes = det.detect(photos[photo])
                r = match_detections([b.as_tuple() for b in boxes], [b.score for b in boxes], truth["faces"],
                                     truth["ignore"], a.iou)
                found, missed, fp = found + r.found, missed + r.misses, fp + r.false_positives
            total, agree, elapsed = 0, 0, 0.0
            for key, rgb in photos.items():
                t0 = time.perf_counter()
                boxes = det.detect(rgb)
                elapsed += time.perf_counter() - t0
                total += len(boxes)
                r = match_detections([det.to_canonical(b).as_tuple() for b in boxes], [b.score for b in boxes],
                                     ref_boxes[key], (), a.iou)
                agree += r.found
            per_photo = elapsed * 1000 / len(photos)
            print(f"| {name} | {preset} | {found}/{n_true} | {missed} | {fp} | {total} | {agree} | {per_photo:.0f} "
                  f"| {ms_per_frame(det, one_face):.1f} | {ms_per_frame(det, five_faces):.1f} |")


if __name__ == "__main__":
    main()
