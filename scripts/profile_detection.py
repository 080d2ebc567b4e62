"""Does the default detector find sideways faces, and at what cost in false positives? Figures for docs/detection.md.

- Pointing'04 (|pitch| <= 30, or up to `--max-pitch`; `--split train` = persons 01-09, `test` = the held-out
  persons 10-12): share of photos where a face is found, per |yaw| band. Found: a box covering >= half of the
  database's face box, of 0.5-3x its size (the database box is the tight front of the face; detectors box the
  whole face). "Other boxes": boxes that find nothing (each photo shows one person).
- UMIST (380 images, each upscaled 2x and centred on a 300x300 grey canvas): found = a box centred on the photo.
- whenet_turn.jpg as its 2x4 panels: boxes per panel; the full profile is panel 6 (bottom row, second), the
  back of the head panels 3, 4 and 5.
- Group photos (../shared/data/faces/*.jpg): boxes of the detector that no box of MTCNN alone (the paper's
  P/R/O cuts, no second pass, no profile stage: the detector before the profile work) overlaps; `--crops DIR`
  writes each one (with context) for judging by eye.
Usage: PYTHONPATH=. python scripts/profile_detection.py [--split train|test] [--max-pitch 90] [--preset accurate]
       [--crops DIR] [--profile-score F] [--profile-neighbours N] [--profile-max-side PX] [--steps P,R,O]
       [--second-steps P,R,O|none]   (the settings sweep of docs/detection.md)
"""

from __future__ import annotations

import argparse
import csv
import time
from collections import Counter
from multiprocessing import Pool
from pathlib import Path
from typing import Optional

import cv2
import numpy as np

from gazenet_app.core.video import read_image
from gazenet_app.detect.nms import box_ios
from gazenet_app.detect.registry import get_detector

BANDS = {0: "0", 15: "15-30", 30: "15-30", 45: "45-60", 60: "45-60", 75: "75", 90: "90"}
BACK_OF_HEAD_PANELS = (3, 4, 5)
PROFILE_PANEL = 6


def make_detector(preset: str, baseline: bool, overrides: Optional[dict] = None):
    """The default detector (with `overrides` of MtcnnDetector's settings: the sweep of docs/detection.md), or
    MTCNN alone as it was before the profile stage (the paper's P/R/O cuts)."""
    if baseline:
        return get_detector("mtcnn", preset, profile=False, second_pass=False, steps_threshold=(0.6, 0.7, 0.7))
    return get_detector(None, preset, **(overrides or {}))


def covers(box, truth) -> bool:
    """A detection finds the database's face box: covers half of it, at 0.5-3x its size."""
    iw = max(0.0, min(box[2], truth[2]) - max(box[0], truth[0]))
    ih = max(0.0, min(box[3], truth[3]) - max(box[1], truth[1]))
    area = (truth[2] - truth[0]) * (truth[3] - truth[1])
    ratio = np.sqrt(max(box[2] - box[0], 0) * max(box[3] - box[1], 0) / area)
    return iw * ih >= 0.5 * area and 0.5 <= ratio <= 3.0


def umist_canvas(path: Path) -> np.ndarray:
    """The UMIST protocol: the grey photo upscaled 2x, centred on a 300x300 canvas of grey 128, as RGB."""
    g = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
    g = cv2.resize(g, (g.shape[1] * 2, g.shape[0] * 2), interpolation=cv2.INTER_CUBIC)
    canvas = np.full((300, 300), 128, np.uint8)
    y0, x0 = (300 - g.shape[0]) // 2, (300 - g.shape[1]) // 2
    canvas[y0:y0 + g.shape[0], x0:x0 + g.shape[1]] = g
    return np.ascontiguousarray(np.dstack([canvas] * 3))


_worker_detector = None


def _init_worker(preset: str, baseline: bool, overrides: dict) -> None:
    global _worker_detector
    _worker_detector = make_detector(preset, baseline, overrides)


def _pointing04_row(job):
    path, truth = job
    boxes = [b.as_tuple() for b in _worker_detector.detect(read_image(path))]
    return any(covers(b, truth) for b in boxes), sum(not covers(b, truth) for b in boxes)


def pointing04(preset: str, baseline: bool, overrides: dict, root: Path, split: str, jobs: int,
               max_pitch: int = 30) -> None:
    rows = [r for r in csv.DictReader(open(root / "labels.csv")) if r["split"] == split
            and abs(int(r["pitch"])) <= max_pitch]
    work = [(root / r["path"], [float(r[k]) for k in ("x1", "y1", "x2", "y2")]) for r in rows]
    with Pool(jobs, initializer=_init_worker, initargs=(preset, baseline, overrides)) as pool:
        results = pool.map(_pointing04_row, work, chunksize=8)
    n, found, other = Counter(), Counter(), 0
    for r, (hit, extra) in zip(rows, results):
        band = BANDS[abs(int(r["yaw"]))]
        n[band] += 1
        found[band] += hit
        other += extra
    print(f"\nPointing'04 split {split}, |pitch| <= {max_pitch} ({len(rows)} photos): face found per true |yaw| band")
    print("| |yaw| | " + " | ".join(BANDS[k] for k in (0, 15, 45, 75, 90)) + " | other boxes |")
    print("|---|---|---|---|---|---|---|")
    cells = [f"{found[b]}/{n[b]} ({100.0 * found[b] / n[b]:.1f}%)" for b in ("0", "15-30", "45-60", "75", "90")]
    print("| found | " + " | ".join(cells) + f" | {other} |")


def umist(det, folder: Path) -> None:
    paths = sorted(folder.glob("s*_*.png"))
    missed = []
    for p in paths:
        boxes = det.detect(umist_canvas(p))
        if not any(56 <= (b.x1 + b.x2) / 2 <= 244 and 38 <= (b.y1 + b.y2) / 2 <= 262 for b in boxes):
            missed.append(p.stem)
    print(f"\nUMIST: face found in {len(paths) - len(missed)}/{len(paths)} "
          f"({100.0 * (len(paths) - len(missed)) / len(paths):.1f}%); missed: {' '.join(missed)}")


def whenet_panels(det, path: Path) -> None:
    rgb = read_image(path)
    h, w = rgb.shape[:2]
    counts = Counter()
    for b in det.detect(rgb):
        cx, cy = (b.x1 + b.x2) / 2, (b.y1 + b.y2) / 2
        counts[int(cy // (h / 2)) * 4 + int(cx // (w / 4)) + 1] += 1
    print(f"\nwhenet_turn.jpg boxes per panel (1-4 top row, 5-8 bottom): "
          + " ".join(f"{i}:{counts[i]}" for i in range(1, 9)))
    print(f"full profile (panel {PROFILE_PANEL}) found: {counts[PROFILE_PANEL] > 0}; boxes on the back-of-head "
          f"panels {BACK_OF_HEAD_PANELS}: {sum(counts[i] for i in BACK_OF_HEAD_PANELS)}")


def group_photos(det, base, folder: Path, crops: Path = None) -> None:
    total = total_base = 0
    new, seconds, seconds_base = [], 0.0, 0.0
    photos = sorted(folder.glob("*.jpg"))
    for p in photos:
        rgb = read_image(p)
        t0 = time.perf_counter()
        boxes = np.array([b.as_tuple() for b in det.detect(rgb)]).reshape(-1, 4)
        t1 = time.perf_counter()
        ref = np.array([b.as_tuple() for b in base.detect(rgb)]).reshape(-1, 4)
        seconds, seconds_base = seconds + t1 - t0, seconds_base + time.perf_counter() - t1
        total, total_base = total + len(boxes), total_base + len(ref)
        unmatched = boxes if not len(ref) else boxes[box_ios(boxes, ref).max(axis=1) < 0.3] if len(boxes) else boxes
        for b in unmatched:
            new.append((p.name, b))
            if crops is not None:
                crops.mkdir(parents=True, exist_ok=True)
                x1, y1, x2, y2 = (int(v) for v in b)
                m = (x2 - x1) // 2
                tile = cv2.cvtColor(rgb[max(0, y1 - m):y2 + m, max(0, x1 - m):x2 + m].copy(), cv2.COLOR_RGB2BGR)
                cv2.rectangle(tile, (x1 - max(0, x1 - m), y1 - max(0, y1 - m)),
                              (x2 - max(0, x1 - m), y2 - max(0, y1 - m)), (0, 0, 255), 1)
                cv2.imwrite(str(crops / f"{p.stem}_{x1}_{y1}.png"), tile)
    print(f"\ngroup photos ({folder}/*.jpg): {total} boxes, MTCNN alone {total_base}; "
          f"{len(new)} boxes with no MTCNN-alone box overlapping them (judge them by eye: --crops); "
          f"ms per photo {1000 * seconds / len(photos):.0f}, MTCNN alone {1000 * seconds_base / len(photos):.0f}:")
    for name, b in new:
        print(f"  {name} ({b[0]:.0f}, {b[1]:.0f}, {b[2]:.0f}, {b[3]:.0f})")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--shared", default=str(Path(__file__).resolve().parents[1].parent / "shared"))
    ap.add_argument("--split", choices=("train", "test"), default="train")
    ap.add_argument("--preset", default="accurate")
    ap.add_argument("--sets", default="pointing04,umist,whenet,group", help="comma-separated subset to run")
    ap.add_argument("--baseline", action="store_true", help="measure MTCNN alone instead of the default detector")
    ap.add_argument("--jobs", type=int, default=1, help="processes for Pointing'04 (same figures, sooner)")
    ap.add_argument("--max-pitch", type=int, default=30, help="Pointing'04 photos up to this |pitch| (90: all)")
    ap.add_argument("--crops", type=Path, default=None, help="write the group photos' unmatched boxes here")
    ap.add_argument("--profile-score", type=float, help="O-Net cut for profile-stage faces (default PROFILE_SCORE)")
    ap.add_argument("--profile-neighbours", type=int, help="Haar cascade neighbours (default PROFILE_NEIGHBOURS)")
    ap.add_argument("--profile-max-side", type=int,
                    help="size of the copy the cascade scans (default PROFILE_MAX_SIDE)")
    ap.add_argument("--steps", help="P,R,O-Net score cuts, e.g. 0.6,0.7,0.7 (default: the preset's MTCNN_STEPS)")
    ap.add_argument("--second-steps", help="the second pass's P,R,O-Net cuts on frames where the first finds no face, "
                                           "or 'none' (default: the preset's SECOND_PASS_STEPS)")
    a = ap.parse_args()
    overrides = {k: v for k, v in (("profile_score", a.profile_score), ("profile_neighbours", a.profile_neighbours),
                                   ("profile_max_side", a.profile_max_side),
                                   ("steps_threshold", a.steps and [float(x) for x in a.steps.split(",")]))
                 if v is not None}
    if a.second_steps == "none":
        overrides["second_pass"] = False
    elif a.second_steps:
        overrides["second_steps"] = [float(x) for x in a.second_steps.split(",")]
    data = Path(a.shared) / "data"
    base = make_detector(a.preset, True)
    det = make_detector(a.preset, a.baseline, overrides)
    print(f"detector: {det.metadata()}")
    sets = a.sets.split(",")
    t0 = time.perf_counter()
    if "pointing04" in sets:
        pointing04(a.preset, a.baseline, overrides, data / "pose/pointing04", a.split, a.jobs, a.max_pitch)
    if "umist" in sets:
        umist(det, data / "faces_extra/face_databases_yuzhounh/UMIST")
    if "whenet" in sets:
        whenet_panels(det, data / "faces/whenet_turn.jpg")
    if "group" in sets:
        group_photos(det, base, data / "faces", a.crops)
    print(f"\n({time.perf_counter() - t0:.0f} s)")


if __name__ == "__main__":
    main()
