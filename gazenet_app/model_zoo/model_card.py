"""`ModelCard`: a validated model card (NAME.json) as a frozen, typed value; `card.validate_card` makes one.

Fields follow the schema in `model_zoo.card` (its docstring lists them); a field the card does not carry is None.
`to_dict()` gives the JSON document back with the card's own key order, so an unchanged card is rewritten
byte for byte. To change a card, edit `to_dict()` and validate again (`card.validate_card`): the one way.
The nested objects (training, eval, extra, detector) are the validator's own copies; read them, never edit them.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field, fields
from typing import Any, Dict, Mapping, Optional, Tuple

__all__ = ["ModelCard"]

#: Fields stored as tuples here and written as JSON lists.
_LIST_FIELDS = ("mean", "std")


def _number(value: Any) -> Optional[float]:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


@dataclass(frozen=True)
class ModelCard:
    """A model card that passed the schema: common fields, pose fields (None on a detector that lacks them),
    optional fields (None when absent) and typed reads of the `extra` keys gazenet uses."""

    schema_version: int
    kind: str
    name: str
    format: str
    precision: str
    architecture: str
    params_sha256: str
    source: str
    training: Mapping[str, Any]
    eval: Mapping[str, Mapping[str, Mapping[str, Any]]]
    backbone: Optional[str] = None
    input_size: Optional[int] = None
    bins: Optional[int] = None
    bin_width: Optional[float] = None
    angle_offset: Optional[float] = None
    mean: Optional[Tuple[float, float, float]] = None
    std: Optional[Tuple[float, float, float]] = None
    color_order: Optional[str] = None
    normalization_in_graph: Optional[bool] = None
    crop: Optional[str] = None
    symbol_sha256: Optional[str] = None
    default: Optional[bool] = None
    description: Any = None
    extra: Optional[Mapping[str, Any]] = None
    detector: Optional[Mapping[str, Any]] = None
    flip_average: Optional[bool] = None
    #: The JSON document's key order (fields missing from it are written after it, in declaration order).
    key_order: Tuple[str, ...] = field(default=(), repr=False, compare=False)

    @classmethod
    def from_dict(cls, card: Mapping[str, Any]) -> "ModelCard":
        """The card of a dict that passed `card.validate_card` (call that instead: it checks first)."""
        values = {k: tuple(v) if k in _LIST_FIELDS else copy.deepcopy(v) for k, v in card.items()}
        return cls(**values, key_order=tuple(card))

    def to_dict(self) -> Dict[str, Any]:
        """The JSON document of the card (a deep copy): its own keys in its own order, then new fields."""
        declared = [f.name for f in fields(self) if f.name != "key_order"]
        keys = list(self.key_order) + [k for k in declared if k not in self.key_order and getattr(self, k) is not None]
        doc: Dict[str, Any] = {}
        for key in keys:
            value = getattr(self, key)
            doc[key] = list(value) if key in _LIST_FIELDS and value is not None else copy.deepcopy(value)
        return doc

    def _extra(self, key: str) -> Any:
        return (self.extra or {}).get(key)

    @property
    def mode_of(self) -> Optional[str]:
        """The fp32 model a fused/int8 export was made from (`extra.mode_of`), or None for an ordinary model."""
        base = self._extra("mode_of")
        return base if isinstance(base, str) and base else None

    @property
    def base_params_sha256(self) -> Optional[str]:
        """The weights an export was made from (`extra.base_params_sha256`), or None."""
        sha = self._extra("base_params_sha256")
        return sha if isinstance(sha, str) else None

    @property
    def mae_delta_deg(self) -> Optional[float]:
        """An export's accuracy cost against fp32, degrees of mean MAE (`extra.mae_delta_deg`), or None."""
        return _number(self._extra("mae_delta_deg"))

    @property
    def ms_per_face(self) -> Optional[float]:
        """An export's measured batch-1 latency (`extra.ms_per_face`), or None."""
        return _number(self._extra("ms_per_face"))

    @property
    def fp32_ms_per_face(self) -> Optional[float]:
        """The fp32 model's batch-1 latency measured beside an export's (`extra.fp32_ms_per_face`), or None."""
        return _number(self._extra("fp32_ms_per_face"))

    @property
    def val_n(self) -> Optional[int]:
        """How many validation faces `mae_delta_deg` was measured on (`extra.val_n`), or None."""
        n = self._extra("val_n")
        return n if isinstance(n, int) and not isinstance(n, bool) else None
