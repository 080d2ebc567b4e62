"""Box overlap and non-maximum suppression on numpy arrays of (x1, y1, x2, y2) boxes."""

from __future__ import annotations

import numpy as np

__all__ = ["box_iou", "box_ios", "nms", "grown_boxes", "suppress_nested", "suppress_beside"]


def _areas_and_intersections(a: np.ndarray, b: np.ndarray):
    """Areas of boxes a (N,) and b (M,) and their pairwise intersection areas (N, M)."""
    a = np.asarray(a, dtype=np.float64).reshape(-1, 4)
    b = np.asarray(b, dtype=np.float64).reshape(-1, 4)
    area_a = np.clip(a[:, 2] - a[:, 0], 0, None) * np.clip(a[:, 3] - a[:, 1], 0, None)
    area_b = np.clip(b[:, 2] - b[:, 0], 0, None) * np.clip(b[:, 3] - b[:, 1], 0, None)
    iw = np.clip(np.minimum(a[:, None, 2], b[None, :, 2]) - np.maximum(a[:, None, 0], b[None, :, 0]), 0, None)
    ih = np.clip(np.minimum(a[:, None, 3], b[None, :, 3]) - np.maximum(a[:, None, 1], b[None, :, 1]), 0, None)
    return area_a, area_b, iw * ih


def box_iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Pairwise IoU of boxes a (N, 4) and b (M, 4) -> (N, M); empty boxes have IoU 0."""
    area_a, area_b, inter = _areas_and_intersections(a, b)
    union = area_a[:, None] + area_b[None, :] - inter
    return np.where(union > 0, inter / np.maximum(union, 1e-12), 0.0)


def nms(boxes: np.ndarray, scores: np.ndarray, iou_threshold: float = 0.3, top_k: int = -1) -> np.ndarray:
    """Indices of the boxes kept by greedy NMS, best score first (ties keep the lower index)."""
    boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    scores = np.asarray(scores, dtype=np.float64).reshape(-1)
    if boxes.shape[0] == 0:
        return np.zeros((0,), dtype=np.int64)
    order = np.argsort(-scores, kind="stable")
    b = boxes[order]
    x1, y1, x2, y2 = b[:, 0], b[:, 1], b[:, 2], b[:, 3]
    area = np.clip(x2 - x1, 0, None) * np.clip(y2 - y1, 0, None)
    alive = np.ones(len(order), dtype=bool)
    keep = []
    for i in range(len(order)):
        if not alive[i]:
            continue
        keep.append(order[i])
        if 0 < top_k <= len(keep):
            break
        rest = np.nonzero(alive[i + 1:])[0] + i + 1
        if rest.size == 0:
            break
        iw = np.clip(np.minimum(x2[i], x2[rest]) - np.maximum(x1[i], x1[rest]), 0, None)
        ih = np.clip(np.minimum(y2[i], y2[rest]) - np.maximum(y1[i], y1[rest]), 0, None)
        inter = iw * ih
        union = area[i] + area[rest] - inter
        iou = np.where(union > 0, inter / np.maximum(union, 1e-12), 0.0)
        alive[rest[iou > iou_threshold]] = False
    return np.asarray(keep, dtype=np.int64)


def box_ios(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Pairwise intersection over the smaller box's area of boxes a (N, 4) and b (M, 4) -> (N, M).

    1.0 when one box lies inside the other, whatever their sizes; empty boxes give 0.
    """
    area_a, area_b, inter = _areas_and_intersections(a, b)
    smaller = np.minimum(area_a[:, None], area_b[None, :])
    return np.where(smaller > 0, inter / np.maximum(smaller, 1e-12), 0.0)


def grown_boxes(boxes: np.ndarray, reach: float) -> np.ndarray:
    """Each (x1, y1, x2, y2) box grown on every edge by `reach` times its side (square root of its area): the
    region of the head around a face box (ears, hair, chin and neck lie in it)."""
    boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    side = np.sqrt(np.clip(boxes[:, 2] - boxes[:, 0], 0, None) * np.clip(boxes[:, 3] - boxes[:, 1], 0, None))
    return boxes + np.outer(reach * side, [-1.0, -1.0, 1.0, 1.0])


def _drop_parts(area: np.ndarray, part_of) -> np.ndarray:
    """Indices kept when, biggest box first, every box that is `part_of(i, j)` a bigger kept box j is dropped
    (so the outermost box of a head survives); kept indices come in input order."""
    kept: list = []
    for i in np.argsort(-area, kind="stable"):
        if not any(part_of(i, j) for j in kept):
            kept.append(int(i))
    return np.asarray(sorted(kept), dtype=np.int64)


def suppress_nested(boxes: np.ndarray, ios_threshold: float = 0.6) -> np.ndarray:
    """Indices of the boxes kept when every box lying inside a bigger one (intersection over its own area >=
    `ios_threshold`) is dropped: a second box over part of a face (its glasses, its eye) is not a second face.
    Bigger boxes are judged first, so the outermost box of a nest survives; kept indices come in input order."""
    area, _, _ = _areas_and_intersections(boxes, boxes)
    ios = box_ios(boxes, boxes)
    return _drop_parts(area, lambda i, j: ios[i, j] >= ios_threshold)


def suppress_beside(boxes: np.ndarray, side_ratio: float = 0.5, reach: float = 0.25) -> np.ndarray:
    """Indices of the boxes kept when every small box lying against a bigger one is dropped: a box whose side
    (square root of its area) is at most `side_ratio` of another's and which lies, by at least half its area,
    within that box grown by `reach` of its side on every edge is part of that head (an ear, a lock of hair, a
    hand on it), not a face of its own. Bigger boxes are judged first; kept indices come in input order."""
    boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    side = np.sqrt(np.clip(boxes[:, 2] - boxes[:, 0], 0, None) * np.clip(boxes[:, 3] - boxes[:, 1], 0, None))
    area, _, inter = _areas_and_intersections(boxes, grown_boxes(boxes, reach))
    return _drop_parts(area, lambda i, j: area[i] > 0 and side[i] <= side_ratio * side[j]
                       and inter[i, j] >= 0.5 * area[i])
