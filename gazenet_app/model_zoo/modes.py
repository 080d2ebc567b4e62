"""Precision modes of a pose model: fp32 (the model itself) and its shipped fused / int8 exports.

A fast mode is a separate model (format symbol) whose card says what it was made from, in `extra`:
  `mode_of` (the fp32 model's name), `base_params_sha256` (its weights, so a stale export is never used),
  `mae_delta_deg` (mean-angle MAE of this mode minus the fp32 model's, on the validation split; the
  accuracy cost), `mae_delta` (per angle), `val_n`, and `ms_per_face` (batch-1 latency measured in the
  same run as `fp32_ms_per_face`). `scripts/build_fast_modes.py` writes them as NAME_fused / NAME_int8.

`choose_mode` picks the fastest mode whose accuracy cost is within `MAX_MAE_DELTA` (0.3 degrees MAE); the
setting `precision` (or `$GAZENET_PRECISION`, read by `requested_precision`) overrides it: `auto`, `fp32`,
`fused` or `int8`. Pure choices over store entries: `pose.load_pose_model` is the one loader that applies them.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Dict, List, Optional, Union

from gazenet_app.core.errors import ModelNotFoundError
from gazenet_app.model_zoo.store import ModelInfo, resolve_model

__all__ = [
    "MAX_MAE_DELTA",
    "PRECISION_CHOICES",
    "ENV_PRECISION",
    "MODE_ORDER",
    "mode_model_name",
    "is_mode_variant",
    "list_modes",
    "choose_mode",
    "DEFAULT_PRECISION",
    "requested_precision",
]

_log = logging.getLogger(__name__)

#: The largest accuracy cost (degrees of mean MAE against fp32, validation split) `auto` accepts.
MAX_MAE_DELTA = 0.3
#: What the `precision` setting accepts.
PRECISION_CHOICES = ("auto", "fp32", "fused", "int8")
#: Environment variable read when no precision is passed.
ENV_PRECISION = "GAZENET_PRECISION"
#: The precision used when neither the caller nor `$GAZENET_PRECISION` names one.
DEFAULT_PRECISION = "auto"
#: Fastest first, used when the cards carry no measured latency (MXNet on CPU: int8 < fused < fp32).
MODE_ORDER = ("int8", "fused", "fp32")


def mode_model_name(base: str, precision: str) -> str:
    """The name of `base`'s export in `precision` (`base` itself for fp32)."""
    return base if precision == "fp32" else f"{base}_{precision}"


def is_mode_variant(info: ModelInfo) -> bool:
    """True for a fused/int8 export of another model (not a model to pick as the default by itself)."""
    return info.card.mode_of is not None


def list_modes(base: ModelInfo) -> Dict[str, ModelInfo]:
    """precision -> model for `base` (always `fp32`: base) and each export made from exactly these weights.

    Exports are looked up by name (NAME_fused, NAME_int8) beside the base first, then anywhere in the store;
    one made from other weights (`base_params_sha256` differs) is skipped with a warning.
    """
    modes: Dict[str, ModelInfo] = {"fp32": base}
    for precision in ("fused", "int8"):
        name = mode_model_name(base.name, precision)
        candidates: List[Union[str, Path]] = [base.card_path.parent / f"{name}.json", name]
        for spec in candidates:
            if isinstance(spec, Path) and not spec.is_file():
                continue
            try:
                info = resolve_model(spec, verify=False)
            except ModelNotFoundError:
                continue
            if info.kind != "pose" or info.card.precision != precision or info.card.mode_of != base.name:
                continue
            if info.card.base_params_sha256 != base.card.params_sha256:
                _log.warning("ignoring %s: it was exported from other weights than %s (rebuild it with "
                             "scripts/build_fast_modes.py)", info.card_path, base.name)
                continue
            modes[precision] = info
            break
    return modes


def _mae_delta(info: ModelInfo) -> Optional[float]:
    if info.card.precision == "fp32" and not is_mode_variant(info):
        return 0.0
    return info.card.mae_delta_deg


def _speed_key(modes: Dict[str, ModelInfo]):
    """Sort key, fastest first: measured batch-1 ms when every candidate has it, else MODE_ORDER."""
    ms: Dict[str, float] = {}
    for precision, info in modes.items():
        if precision == "fp32":
            others = [m.card.fp32_ms_per_face for p, m in modes.items() if p != "fp32"]
            others = [v for v in others if v is not None]
            if others:
                ms["fp32"] = min(others)
        elif info.card.ms_per_face is not None:
            ms[precision] = info.card.ms_per_face
    if len(ms) == len(modes):
        return lambda p: (ms[p], MODE_ORDER.index(p))
    return lambda p: (MODE_ORDER.index(p),)


def choose_mode(modes: Dict[str, ModelInfo], precision: str = "auto",
                max_mae_delta: float = MAX_MAE_DELTA, device: str = "cpu") -> ModelInfo:
    """The model to run: the named `precision`, or for `auto` the fastest within `max_mae_delta` degrees.

    fused/int8 run on the CPU only (oneDNN); on a GPU `auto` gives fp32. A named precision that is not
    available raises ModelNotFoundError saying how to build it.
    """
    if precision not in PRECISION_CHOICES:
        raise ValueError(f"unknown precision {precision!r}; valid: {', '.join(PRECISION_CHOICES)}")
    base = modes["fp32"]
    if precision != "auto":
        if precision not in modes:
            raise ModelNotFoundError(
                f"model {base.name!r} has no {precision} export ({mode_model_name(base.name, precision)}.json); "
                f"build it with `python scripts/build_fast_modes.py --model {base.name} --data DATASET`, "
                "or choose --precision auto")
        return modes[precision]
    if not device.startswith("cpu"):
        return base
    ok = {"fp32": base}  # the model itself costs nothing
    for p, info in modes.items():
        if p == "fp32":
            continue
        delta = _mae_delta(info)
        if delta is not None and delta <= max_mae_delta:
            ok[p] = info
        else:
            _log.info("not using %s: its accuracy cost %s is above %.2f deg", info.name,
                      "is unknown" if delta is None else f"{delta:.3f} deg", max_mae_delta)
    key = _speed_key(ok)
    return ok[sorted(ok, key=key)[0]]


def requested_precision(precision: Optional[str] = None) -> str:
    """`precision` as given, or for None `$GAZENET_PRECISION`, else `DEFAULT_PRECISION` (`choose_mode` checks it)."""
    if precision is None:
        value = (os.environ.get(ENV_PRECISION) or DEFAULT_PRECISION).strip().lower()
        if value not in PRECISION_CHOICES:  # a setting, not a bug: one line, not choose_mode's ValueError
            raise ModelNotFoundError(f"${ENV_PRECISION}={value!r} is not a precision; valid: "
                                     f"{', '.join(PRECISION_CHOICES)}")
        return value
    return precision
