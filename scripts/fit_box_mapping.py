"""Fit a detector's box -> canonical-box mapping against MTCNN's landmark (canonical) boxes on shared photos.

For every detector box that overlaps an MTCNN box (IoU >= 0.4), measure the canonical box's centre offset and
side relative to sqrt(w * h) of the detector box; print the medians, to be pasted into the detector's
`box_mapping`, and the IoU with the canonical boxes before and after the mapping. Usage:
    PYTHONPATH=. python scripts/fit_box_mapping.py cascade [--shared ../shared]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from gazenet_app.core.video import read_image
from gazenet_app.detect.base import BoxMapping
from gazenet_app.detect.nms import box_iou
from gazenet_app.detect.registry import get_detector


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("detector")
    ap.add_argument("--preset", default="accurate")
    ap.add_argument("--shared", default=str(Path(__file__).resolve().parents[1].parent / "shared"))
    a = ap.parse_args()
    ref = get_detector("mtcnn", "accurate")
    det = get_detector(a.detector, a.preset)
    rows, pairs = [], []
    for path in sorted((Path(a.shared) / "data/faces").iterdir()):
        rgb = read_image(path)
        mb = ref.detect(rgb)
        db = det.detect(rgb)
        if not mb or not db:
            continue
        iou = box_iou([b.as_tuple() for b in db], [b.as_tuple() for b in mb])
        for i, j in zip(*np.nonzero(iou >= 0.4)):
            if iou[i].argmax() != j:
                continue
            c = ref.to_canonical(mb[j])
            d = db[i]
            s = np.sqrt(d.width * d.height)
            rows.append(((c.center[0] - d.center[0]) / s, (c.center[1] - d.center[1]) / s, c.width / s))
            pairs.append((d, c))
    r = np.array(rows)
    fit = BoxMapping(*[float(round(v, 3)) for v in np.median(r, axis=0)])
    before = np.median([box_iou([BoxMapping().apply(d).as_tuple()], [c.as_tuple()])[0, 0] for d, c in pairs])
    after = np.median([box_iou([fit.apply(d).as_tuple()], [c.as_tuple()])[0, 0] for d, c in pairs])
    print(f"{a.detector}/{a.preset}: {len(rows)} boxes matched to MTCNN; fitted {fit}")
    print(f"median IoU with MTCNN's canonical box: {before:.3f} (identity mapping) -> {after:.3f} (fitted)")


if __name__ == "__main__":
    main()
