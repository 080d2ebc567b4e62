"""Print PoseEstimator timings: exact batch sizes vs padding to power-of-two buckets, and switching sizes.

Random weights (speed only). Usage: PYTHONPATH=. python scripts/measure_pose_batching.py [--backbone resnet50]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np


def _model(backbone: str, size: int):
    from gazenet_app.core.transforms import IMAGENET_MEAN, IMAGENET_STD
    from gazenet_app.model_zoo.hopenet import get_hopenet
    from gazenet_app.model_zoo.pose import load_pose_model
    from gazenet_app.model_zoo.weights_io import save_model

    card = {"schema_version": 1, "kind": "pose", "name": f"bench_{backbone}", "format": "params",
            "precision": "fp32", "architecture": f"hopenet_{backbone}", "backbone": backbone, "input_size": size,
            "bins": 66, "bin_width": 3.0, "angle_offset": 99.0, "mean": list(IMAGENET_MEAN),
            "std": list(IMAGENET_STD), "color_order": "RGB", "normalization_in_graph": False, "crop": "gazenet",
            "training": {"data": "none", "license": "none"}, "eval": {}, "source": "random weights (timing only)"}
    folder = Path(tempfile.mkdtemp())
    return load_pose_model(save_model(get_hopenet(backbone, input_size=size), card, folder))


def _ms(fn, reps: int) -> float:
    fn()
    t = time.perf_counter()
    for _ in range(reps):
        fn()
    return (time.perf_counter() - t) / reps * 1000.0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--backbone", default="mobilenetv2", choices=("mobilenetv2", "resnet50"))
    ap.add_argument("--size", type=int, default=None)
    ap.add_argument("--reps", type=int, default=10)
    args = ap.parse_args()
    size = args.size or (112 if args.backbone == "mobilenetv2" else 224)
    model = _model(args.backbone, size)
    crops = np.random.RandomState(0).randint(0, 256, (8, size, size, 3)).astype(np.uint8)
    print(f"{args.backbone} {size}px, predict_crops, ms per call (mean of {args.reps})")
    print("faces  exact  padded-to-bucket")
    for n in (1, 2, 3, 5, 8):
        bucket = 1 << (n - 1).bit_length()
        exact = _ms(lambda: model.predict_crops(crops[:n]), args.reps)
        padded = _ms(lambda: model.predict_crops(np.concatenate([crops[:n], crops[:bucket - n]]))[:n], args.reps)
        print(f"{n:5d}  {exact:5.1f}  {padded:5.1f}")
    sizes = [1, 2, 3]
    steady = np.mean([_ms(lambda: model.predict_crops(crops[:n]), args.reps) for n in sizes])
    k = [0]

    def switching():
        model.predict_crops(crops[:sizes[k[0] % 3]])
        k[0] += 1

    print(f"batch size changing every call (1,2,3,...): {_ms(switching, 3 * args.reps):.1f} ms, "
          f"same sizes without changes: {steady:.1f} ms")


if __name__ == "__main__":
    main()
