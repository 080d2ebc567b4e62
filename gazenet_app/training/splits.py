"""Train/val/test splits by identity: stable (hash-based), so a person never lands on both sides."""

from __future__ import annotations

import hashlib
from typing import Iterable, Mapping

__all__ = ["SPLITS", "identity_fraction", "assign_split", "check_disjoint"]

SPLITS = ("train", "val", "test")


def identity_fraction(identity: str, seed: int = 0) -> float:
    """A number in [0, 1) fixed by the identity string and the seed (md5, platform independent)."""
    h = hashlib.md5(f"{seed}:{identity}".encode("utf-8")).digest()
    return int.from_bytes(h[:8], "big") / 2.0 ** 64


def assign_split(identity: str, source_split: str, val_fraction: float = 0.1, seed: int = 0) -> str:
    """`test` stays `test` (held out); a train identity goes to `val` with probability `val_fraction`."""
    if source_split == "test":
        return "test"
    if source_split not in ("train", "val"):
        raise ValueError(f"unknown source split {source_split!r}; valid: train, val, test")
    return "val" if identity_fraction(identity, seed) < val_fraction else "train"


def check_disjoint(rows: Iterable[Mapping[str, str]]) -> None:
    """Raise ValueError when an identity (per source) appears in more than one split."""
    seen = {}
    for r in rows:
        key = (r["source"], r["identity"])
        s = seen.setdefault(key, r["split"])
        if s != r["split"]:
            raise ValueError(f"identity {key[1]!r} of {key[0]!r} is in both {s!r} and {r['split']!r}")
