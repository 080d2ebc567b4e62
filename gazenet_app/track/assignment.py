"""Minimum-cost assignment (the Hungarian method) in numpy, so tracking does not need scipy."""

from __future__ import annotations

from typing import List, Tuple

import numpy as np

__all__ = ["linear_assignment", "match_by_iou", "iou_matrix", "inside_fraction"]


def linear_assignment(cost: np.ndarray) -> List[Tuple[int, int]]:
    """Row/column pairs of a minimum-cost assignment of a rectangular cost matrix (min(n, m) pairs).

    Shortest augmenting paths with potentials (Jonker-Volgenant form of the Hungarian method), O(n^2 m).
    """
    c = np.asarray(cost, dtype=np.float64)
    if c.ndim != 2 or c.size == 0:
        return []
    transposed = c.shape[0] > c.shape[1]
    if transposed:
        c = c.T
    n, m = c.shape  # n <= m
    INF = np.inf
    u = np.zeros(n + 1)
    v = np.zeros(m + 1)
    p = np.zeros(m + 1, dtype=np.int64)  # p[j]: row (1-based) assigned to column j; 0 = free
    way = np.zeros(m + 1, dtype=np.int64)
    for i in range(1, n + 1):
        p[0] = i
        j0 = 0
        minv = np.full(m + 1, INF)
        used = np.zeros(m + 1, dtype=bool)
        while True:
            used[j0] = True
            i0 = p[j0]
            free = ~used[1:]
            cur = c[i0 - 1] - u[i0] - v[1:]
            better = free & (cur < minv[1:])
            minv[1:][better] = cur[better]
            way[1:][better] = j0
            cand = np.where(free, minv[1:], INF)
            j1 = int(np.argmin(cand)) + 1
            delta = cand[j1 - 1]
            u[p[used]] += delta
            v[used] -= delta
            minv[1:][free] -= delta
            j0 = j1
            if p[j0] == 0:
                break
        while True:
            j1 = way[j0]
            p[j0] = p[j1]
            j0 = j1
            if j0 == 0:
                break
    pairs = [(int(p[j]) - 1, j - 1) for j in range(1, m + 1) if p[j] != 0]
    if transposed:
        pairs = [(b, a) for a, b in pairs]
    return sorted(pairs)


def _areas(a: np.ndarray, b: np.ndarray):
    """Pairwise intersection areas (N, M) of x1, y1, x2, y2 boxes, and each box's own area."""
    a = np.asarray(a, dtype=np.float64).reshape(-1, 4)
    b = np.asarray(b, dtype=np.float64).reshape(-1, 4)
    iw = np.clip(np.minimum(a[:, None, 2], b[None, :, 2]) - np.maximum(a[:, None, 0], b[None, :, 0]), 0, None)
    ih = np.clip(np.minimum(a[:, None, 3], b[None, :, 3]) - np.maximum(a[:, None, 1], b[None, :, 1]), 0, None)
    area_a = np.clip(a[:, 2] - a[:, 0], 0, None) * np.clip(a[:, 3] - a[:, 1], 0, None)
    area_b = np.clip(b[:, 2] - b[:, 0], 0, None) * np.clip(b[:, 3] - b[:, 1], 0, None)
    return iw * ih, area_a, area_b


def iou_matrix(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Pairwise IoU of (N, 4) and (M, 4) x1, y1, x2, y2 boxes -> (N, M)."""
    inter, area_a, area_b = _areas(a, b)
    union = area_a[:, None] + area_b[None, :] - inter
    return np.where(union > 0, inter / np.maximum(union, 1e-12), 0.0)


def inside_fraction(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Share of each box of `a` (N, 4) that lies inside each box of `b` (M, 4) -> (N, M); 0 for empty boxes."""
    inter, area_a, _ = _areas(a, b)
    return np.where(area_a[:, None] > 0, inter / np.maximum(area_a[:, None], 1e-12), 0.0)


def match_by_iou(iou: np.ndarray, threshold: float) -> List[Tuple[int, int]]:
    """Pairs (row, col) maximising total IoU among pairs with IoU >= threshold."""
    iou = np.asarray(iou, dtype=np.float64)
    if iou.size == 0:
        return []
    cost = np.where(iou >= threshold, 1.0 - iou, 10.0)  # a forbidden pair costs more than any allowed one
    return [(i, j) for i, j in linear_assignment(cost) if iou[i, j] >= threshold]
