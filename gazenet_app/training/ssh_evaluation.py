"""Detector evaluation for SSH and every registered detector: hits/misses/false positives and AP at IoU 0.5.

Matching is greedy by score (the PASCAL/WIDER rule): each detection, best first, takes the unmatched true box it
overlaps most if IoU >= the threshold; otherwise it is a false positive, unless its centre lies in an `ignore`
region (a head turned past profile, a face too small to label), where it counts as neither.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, List, Optional, Sequence, Tuple

import numpy as np

from gazenet_app.detect.nms import box_iou

__all__ = ["MatchResult", "match_detections", "average_precision", "evaluate_detections", "evaluate_detector"]

Box = Tuple[float, float, float, float]


@dataclass(frozen=True)
class MatchResult:
    """One image's matching: per-detection (score, is_hit, is_ignored), and the count of true boxes."""

    scores: np.ndarray
    hits: np.ndarray
    ignored: np.ndarray
    n_true: int

    @property
    def found(self) -> int:
        return int(self.hits.sum())

    @property
    def false_positives(self) -> int:
        return int((~self.hits & ~self.ignored).sum())

    @property
    def misses(self) -> int:
        return self.n_true - self.found


def match_detections(dets: Sequence[Box], scores: Sequence[float], truth: Sequence[Box],
                     ignore: Sequence[Box] = (), iou_threshold: float = 0.5) -> MatchResult:
    """Greedy best-score-first matching of detections to true boxes (see the module docstring)."""
    dets = np.asarray(dets, dtype=np.float64).reshape(-1, 4)
    scores = np.asarray(scores, dtype=np.float64).reshape(-1)
    truth = np.asarray(truth, dtype=np.float64).reshape(-1, 4)
    ign = np.asarray(ignore, dtype=np.float64).reshape(-1, 4)
    order = np.argsort(-scores, kind="stable")
    dets, scores = dets[order], scores[order]
    hits = np.zeros(len(dets), dtype=bool)
    ignored = np.zeros(len(dets), dtype=bool)
    iou = box_iou(dets, truth)
    taken = np.zeros(len(truth), dtype=bool)
    for i in range(len(dets)):
        if len(truth):
            cand = np.where(taken, -1.0, iou[i])
            j = int(np.argmax(cand))
            if cand[j] >= iou_threshold:
                taken[j] = True
                hits[i] = True
                continue
        if len(ign):
            cx, cy = (dets[i, 0] + dets[i, 2]) / 2, (dets[i, 1] + dets[i, 3]) / 2
            inside = (ign[:, 0] <= cx) & (cx <= ign[:, 2]) & (ign[:, 1] <= cy) & (cy <= ign[:, 3])
            ignored[i] = bool(inside.any())
    return MatchResult(scores, hits, ignored, len(truth))


def average_precision(results: Iterable[MatchResult]) -> float:
    """Area under the interpolated precision/recall curve (VOC 2010+ all-points) over many images."""
    results = list(results)
    n_true = sum(r.n_true for r in results)
    if n_true == 0:
        return float("nan")
    scores = np.concatenate([r.scores[~r.ignored] for r in results]) if results else np.zeros(0)
    hits = np.concatenate([r.hits[~r.ignored] for r in results]) if results else np.zeros(0, bool)
    if scores.size == 0:
        return 0.0
    order = np.argsort(-scores, kind="stable")
    tp = np.cumsum(hits[order])
    fp = np.cumsum(~hits[order])
    recall = tp / n_true
    precision = tp / np.maximum(tp + fp, 1)
    mrec = np.concatenate([[0.0], recall, [recall[-1]]])
    mpre = np.concatenate([[1.0], precision, [0.0]])
    mpre = np.maximum.accumulate(mpre[::-1])[::-1]
    idx = np.nonzero(mrec[1:] != mrec[:-1])[0]
    return float(np.sum((mrec[idx + 1] - mrec[idx]) * mpre[idx + 1]))


def evaluate_detections(per_image: Iterable[Tuple[Sequence[Box], Sequence[float], Sequence[Box], Sequence[Box]]],
                        iou_threshold: float = 0.5) -> dict:
    """AP, faces found, misses and false positives over (dets, scores, truth, ignore) per image."""
    results: List[MatchResult] = [match_detections(d, s, t, i, iou_threshold) for d, s, t, i in per_image]
    return {"ap": average_precision(results), "faces": sum(r.n_true for r in results),
            "found": sum(r.found for r in results), "misses": sum(r.misses for r in results),
            "false_positives": sum(r.false_positives for r in results), "images": len(results),
            "iou_threshold": iou_threshold}


def evaluate_detector(detector, dataset, canonical: bool = True, iou_threshold: float = 0.5,
                      limit: Optional[int] = None, progress=None) -> dict:
    """AP and counts of a FaceDetector on a dataset of (rgb, boxes, ignore); `canonical` maps its boxes first.

    Also returns ms per image. The composite sets' true boxes are canonical boxes, so `canonical=True` is the
    fair comparison between detectors whose own boxes are drawn differently.
    """
    import time

    per_image = []
    n = len(dataset) if limit is None else min(limit, len(dataset))
    t_total = 0.0
    for i in range(n):
        rgb, boxes, ignore = dataset[i]
        t0 = time.perf_counter()
        dets = detector.detect(rgb)
        t_total += time.perf_counter() - t0
        if canonical:
            dets = [detector.to_canonical(d) for d in dets]
        ign = np.asarray(boxes).reshape(-1, 4)[np.asarray(ignore, bool).reshape(-1)]
        truth = np.asarray(boxes).reshape(-1, 4)[~np.asarray(ignore, bool).reshape(-1)]
        per_image.append(([d.as_tuple() for d in dets], [d.score for d in dets], truth, ign))
        if progress is not None:
            progress(i + 1, n)
    out = evaluate_detections(per_image, iou_threshold)
    out["ms_per_image"] = 1000.0 * t_total / max(n, 1)
    out["canonical"] = canonical
    return out
