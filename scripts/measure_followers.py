"""Compare the trackers' followers on a UMIST head turn (frontal -> profile -> frontal) padded into a frame.

Prints, per follower: frames with exactly one track of id 1, frames carried by following, the worst error
of the box centre against the pasted face's known motion (px), ms per follow step, and how many frames a
track survives after the face is removed. Usage (from the repo root):
    PYTHONPATH=. python scripts/measure_followers.py [--shared ../shared]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from gazenet_app.core.video import read_image
from gazenet_app.detect.registry import get_detector
from gazenet_app.track.tracker import FaceTracker


def umist_turn_clip(umist: Path, subject: str = "s01", size=(240, 320), step: int = 4, zoom: float = 0.0):
    """Frames (RGB) and the pasted image's top-left per frame: frontal -> profile -> frontal, moving right."""
    order = list(range(19, 0, -1)) + list(range(2, 20))
    rng = np.random.default_rng(0)
    import cv2
    bg = cv2.GaussianBlur(rng.integers(0, 255, size=size + (3,), dtype=np.uint8), (0, 0), 3)
    bg = cv2.normalize(bg, None, 60, 200, cv2.NORM_MINMAX)
    frames, offsets = [], []
    for i, k in enumerate(order):
        face = read_image(umist / f"{subject}_{k:02d}.png")
        if zoom:
            face = cv2.resize(face, None, fx=1 + zoom * i, fy=1 + zoom * i, interpolation=cv2.INTER_LINEAR)
        x0 = 40 + step * i - face.shape[1] // 2 + 46
        y0 = 60 + int(round(10 * np.sin(i / 5.0))) - face.shape[0] // 2 + 56
        f = bg.copy()
        f[y0:y0 + face.shape[0], x0:x0 + face.shape[1]] = face
        frames.append(f)
        offsets.append((x0 + face.shape[1] / 2, y0 + face.shape[0] / 2))
    return frames, np.array(offsets, float), bg


def run(follower, frames, offsets, bg, det):
    tr = FaceTracker(follower=follower)
    ok, carried, errs, ms = 0, 0, [], []
    ref = None
    for f, off in zip(frames, offsets):
        boxes = det.detect(f)
        t0 = time.perf_counter()
        tracks = tr.update(f, boxes)
        if not boxes:
            ms.append((time.perf_counter() - t0) * 1000)
        if len(tracks) == 1 and tracks[0].face_id == 1:
            ok += 1
            carried += tracks[0].tracked_only
            c = np.array(tracks[0].box.center) - off
            ref = c if ref is None else ref
            errs.append(float(np.linalg.norm(c - ref)))
    gone = 0
    while tr.update(bg, det.detect(bg)) and gone < 100:
        gone += 1
    return ok, carried, max(errs) if errs else float("nan"), float(np.mean(ms)) if ms else 0.0, gone


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--shared", default=str(Path(__file__).resolve().parents[1].parent / "shared"))
    a = ap.parse_args()
    umist = Path(a.shared) / "data/faces_extra/face_databases_yuzhounh/UMIST"
    det = get_detector("mtcnn", "accurate")
    for subject, zoom in (("s01", 0.0), ("s02", 0.0), ("s01", 0.02)):
        frames, offsets, bg = umist_turn_clip(umist, subject, size=(300, 400), zoom=zoom)
        print(f"UMIST {subject}, zoom {zoom} per frame: {len(frames)} frames, detector finds a face in "
              f"{sum(bool(det.detect(f)) for f in frames)}")
        print("follower   frames-with-id-1  carried  worst-centre-err-px  ms/follow  frames-alive-after-gone")
        for follower in ("flow", "template", "mil", None):
            ok, carried, err, ms, gone = run(follower, frames, offsets, bg, det)
            print(f"{str(follower):9s}  {ok:3d}/{len(frames):<3d}           {carried:3d}      {err:6.1f}"
                  f"               {ms:5.1f}      {gone}")


if __name__ == "__main__":
    main()
