"""UMIST end to end: is a face found, and do the sequences' opening profiles read as profiles?

Every UMIST sequence (20 people) starts at a profile and turns toward frontal. The protocol of issue 16: each of the
380 grey images upscaled 2x and centred on a 300x300 grey canvas (`profile_detection.umist_canvas`), then the app's
own path (`build_pipeline`: the default detector and model, precision auto, each photo on its own). Prints the share
of images with a face found, and per sequence the |yaw| read on its first two frames (the profiles) and their mean.
Usage: PYTHONPATH=. python scripts/umist_profiles.py [--model NAME] [--preset accurate] [--shared ../shared]
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path

import numpy as np

from gazenet_app.core.video import Frame
from gazenet_app.pipeline import PipelineConfig, build_pipeline
from profile_detection import umist_canvas


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default=None)
    ap.add_argument("--precision", default=None)
    ap.add_argument("--preset", default="accurate")
    ap.add_argument("--shared", default=str(Path(__file__).resolve().parents[1].parent / "shared"))
    a = ap.parse_args()
    pipe = build_pipeline(PipelineConfig(model=a.model, precision=a.precision, preset=a.preset))
    paths = sorted((Path(a.shared) / "data/faces_extra/face_databases_yuzhounh/UMIST").glob("s*_*.png"))
    found, first_two = 0, {}
    for i, p in enumerate(paths):
        seq, idx = re.match(r"(s\d+)_(\d+)\.png$", p.name).groups()
        pipe.reset()
        result = pipe.process(Frame(i, 0.0, umist_canvas(p), str(p)))
        # the face nearest the canvas centre (the photo is centred on it)
        faces = sorted(result.faces, key=lambda f: np.hypot(*(np.array(f.box.center) - 150.0)))
        if faces:
            found += 1
        if int(idx) <= 2:
            yaw = faces[0].pose.yaw if faces and faces[0].pose is not None else float("nan")
            first_two.setdefault(seq, []).append(abs(yaw))
    info = pipe.describe()
    print(f"model {(info['model'] or {}).get('name')}, detector {info['detector'].get('detector')} preset {a.preset}")
    print(f"face found in {found} of {len(paths)} UMIST images ({100.0 * found / len(paths):.1f} %)")
    reads = np.array([v for vals in first_two.values() for v in vals], dtype=float)
    print("first two frames of each sequence, |yaw| read: " + ", ".join(
        f"{s} {' / '.join(f'{v:.0f}' for v in vals)}" for s, vals in sorted(first_two.items())))
    print(f"mean |yaw| on the first two frames: {np.nanmean(reads):.1f} (n = {int(np.isfinite(reads).sum())} "
          f"answered of {len(reads)}; a frame with no face found counts as unanswered)")


if __name__ == "__main__":
    main()
