"""Inputs for the built app's smoke test: a short real-face clip and, when asked, a tiny pose model.

The clip is one real photo (default: the first of ../shared/data/faces that exists in PHOTOS) panned and zoomed
slowly over N frames, written as MJPG .avi (what OpenCV headless writes everywhere). The model is a 64 px
MobileNetV2 Hopenet with random weights and a valid card: it proves the bundled MXNet forward pass, the model
store and the pose columns of the CSV, not accuracy. It is written only into a folder the caller names, never
into models/ (nothing random ships). Prints one JSON line with what it wrote.

    python scripts/make_smoke_inputs.py --clip /tmp/smoke.avi [--photo PATH] [--model-dir DIR]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import List, Optional

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
FACES_DIR = ROOT.parent / "shared" / "data" / "faces"
#: Real photos tried in order: one frontal person, then two people (both found by MTCNN at 320x240).
PHOTOS = ("whenet_mov_001_007585.jpeg", "ulfd_13.jpg", "whenet_mov_012_022606.jpeg")
SMOKE_MODEL_NAME = "smoke_tiny_random"
CLIP_SIZE = (320, 240)


def default_photo() -> Optional[Path]:
    """The first photo of PHOTOS found in ../shared/data/faces, or None."""
    for name in PHOTOS:
        if (FACES_DIR / name).is_file():
            return FACES_DIR / name
    return None


def clip_frames(bgr: np.ndarray, n: int, size=CLIP_SIZE) -> List[np.ndarray]:
    """n BGR frames of `size`: the photo fitted inside, panning a few pixels and zooming ~5% over the clip."""
    w, h = size
    scale0 = min(w / bgr.shape[1], h / bgr.shape[0])
    frames = []
    for i in range(n):
        t = i / max(1, n - 1)
        s = scale0 * (1.0 + 0.05 * t)
        dx = (w - bgr.shape[1] * s) / 2 + 6 * np.sin(2 * np.pi * t)
        dy = (h - bgr.shape[0] * s) / 2 + 3 * t
        m = np.float32([[s, 0, dx], [0, s, dy]])
        frames.append(cv2.warpAffine(bgr, m, (w, h), flags=cv2.INTER_AREA, borderMode=cv2.BORDER_CONSTANT,
                                     borderValue=(90, 90, 90)))
    return frames


def write_clip(photo: Path, out: Path, n: int = 20, fps: float = 15.0) -> Path:
    """Write the smoke clip of `photo` to `out` (.avi, MJPG)."""
    bgr = cv2.imread(str(photo), cv2.IMREAD_COLOR)
    if bgr is None:
        raise SystemExit(f"error: cannot read the photo {photo}")
    frames = clip_frames(bgr, n)
    writer = cv2.VideoWriter(str(out), cv2.VideoWriter_fourcc(*"MJPG"), fps, CLIP_SIZE)
    if not writer.isOpened():
        raise SystemExit(f"error: cannot write {out}")
    for f in frames:
        writer.write(f)
    writer.release()
    return out


def write_tiny_model(out_dir: Path, name: str = SMOKE_MODEL_NAME, input_size: int = 64) -> Path:
    """A random-weight 64 px MobileNetV2 Hopenet with its card in `out_dir`; returns NAME.json."""
    import mxnet as mx

    from gazenet_app.model_zoo.card import pose_card
    from gazenet_app.model_zoo.hopenet import get_hopenet
    from gazenet_app.model_zoo.weights_io import save_model

    mx.random.seed(0)
    net = get_hopenet("mobilenetv2", input_size=input_size)
    card = pose_card(name, "mobilenetv2", input_size,
                     training={"data": "none", "license": "none (random weights)", "epochs": 0},
                     source="scripts/make_smoke_inputs.py: random weights for the bundle's smoke test")
    out_dir.mkdir(parents=True, exist_ok=True)
    return Path(save_model(net, card, out_dir))


def main(argv: Optional[List[str]] = None) -> int:
    """Write the clip (and the model); print what was written as JSON."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--clip", required=True, type=Path, help="output .avi")
    p.add_argument("--photo", type=Path, help=f"a real face photo (default: one of {FACES_DIR})")
    p.add_argument("--frames", type=int, default=20)
    p.add_argument("--model-dir", type=Path, help="also write the tiny random-weight pose model here")
    args = p.parse_args(argv)
    photo = args.photo or default_photo()
    if photo is None:
        print(f"error: no face photo: pass --photo, or put ../shared beside the checkout ({FACES_DIR})",
              file=sys.stderr)
        return 2
    report = {"clip": str(write_clip(photo, args.clip, args.frames)), "photo": str(photo), "frames": args.frames}
    if args.model_dir is not None:
        sys.path.insert(0, str(ROOT))
        card = write_tiny_model(args.model_dir)
        report.update(model=SMOKE_MODEL_NAME, model_card=str(card))
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
