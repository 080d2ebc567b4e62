"""Numeric sanity of a model card: every number finite, every numeric field inside the range the loader can use.

The schema (card.py) checks types; this checks values, because a card that types correctly can still carry NaN,
Infinity or 1e400 in mean/std (garbage angles marked valid) or an `input_size` of 1 or 1e12 (a net that cannot
run, or a MemoryError). JSON allows all of these.
"""

from __future__ import annotations

import math
from typing import Any, Dict, List, Tuple

__all__ = ["FIELD_BOUNDS", "numeric_problems"]

#: field -> (lowest, highest) allowed, both inclusive; a list field bounds each element.
FIELD_BOUNDS: Dict[str, Tuple[float, float]] = {
    "input_size": (32, 2048),      # ResNet-50 and MobileNetV2 downsample 32x; 2048 px is far past any crop
    "bins": (2, 3600),
    "bin_width": (1e-3, 360.0),
    "angle_offset": (-360.0, 360.0),
    "mean": (0.0, 1.0),            # 0..1 pixel scale
    "std": (1e-3, 1.0),
}

_EPOCHS = (0, 1e6)
_EVAL_N = (1, 10 ** 9)


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _non_finite(value: Any, where: str) -> List[str]:
    """Paths of every NaN or infinite float in a JSON value (iterative: nesting depth costs no recursion)."""
    found, stack = [], [(where, value)]
    while stack:
        path, v = stack.pop()
        if isinstance(v, float) and not math.isfinite(v):
            found.append(path)
        elif isinstance(v, dict):
            stack.extend((f"{path}.{k}" if path else str(k), x) for k, x in v.items())
        elif isinstance(v, list):
            stack.extend((f"{path}[{i}]", x) for i, x in enumerate(v))
    return sorted(found)


def _outside(value: Any, low: float, high: float) -> bool:
    values = value if isinstance(value, list) else [value]
    return any(_is_number(v) and not low <= v <= high for v in values)


def numeric_problems(card: Dict[str, Any]) -> List[str]:
    """One line per number that is not finite or is outside its field's range ([] when all are sound)."""
    bad = _non_finite(card, "")
    problems = [f"{', '.join(bad[:3])} must be finite (NaN/Infinity/overflowing numbers are not allowed)"] \
        if bad else []
    for key, (low, high) in FIELD_BOUNDS.items():
        if key in card and _outside(card[key], low, high):
            problems.append(f"{key} must be within [{low:g}, {high:g}]")
    training = card.get("training")
    if isinstance(training, dict) and _outside(training.get("epochs"), *_EPOCHS):
        problems.append(f"training.epochs must be within [{_EPOCHS[0]:g}, {_EPOCHS[1]:g}]")
    ev = card.get("eval")
    for dataset, metrics in (ev.items() if isinstance(ev, dict) else ()):
        for metric, entry in (metrics.items() if isinstance(metrics, dict) else ()):
            if isinstance(entry, dict) and _outside(entry.get("n"), *_EVAL_N):
                problems.append(f"eval.{dataset}.{metric}.n must be within [1, {_EVAL_N[1]}]")
    return problems
