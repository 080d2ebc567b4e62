"""Device strings, parsed in one place: `cpu`, or `gpu:N` (several: `gpu:0,gpu:1`)."""

from __future__ import annotations

import re
from typing import Tuple

__all__ = ["parse_devices"]

_GPU_RE = re.compile(r"^gpu:(\d+)$")


def parse_devices(text: str) -> Tuple[str, ...]:
    """The devices of `text`, normalised (`cpu`, `gpu:N`); ValueError saying what is accepted otherwise."""
    spec = (text or "cpu").strip().lower().replace(" ", "")
    out = []
    for token in spec.split(","):
        m = _GPU_RE.match(token)
        if token == "cpu" and spec == "cpu":
            out.append("cpu")
        elif m:
            out.append(f"gpu:{int(m.group(1))}")
        else:
            raise ValueError(f"unknown device {text!r}: use cpu or gpu:0 (several: gpu:0,gpu:1)")
    return tuple(out)
