"""Device strings, parsed in one place: `cpu`, or `gpu:N` (several: `gpu:0,gpu:1`); training also takes `cpu:N`."""

from __future__ import annotations

import re
from typing import Tuple

__all__ = ["parse_devices"]

_DEVICE_RE = re.compile(r"^(cpu|gpu)(?::(\d+))?$")


def parse_devices(text: str, several_cpus: bool = False) -> Tuple[str, ...]:
    """The devices of `text`, normalised (`cpu`, `gpu:N`); ValueError saying what is accepted otherwise.

    `several_cpus` is training's grammar (one Trainer over several contexts): `cpu`, `cpu:N`, `gpu` or `gpu:N`,
    mixed and comma-separated, empty items skipped; every device comes back with its index (`cpu:0`, `gpu:0`).
    """
    spec = (text or "cpu").strip().lower().replace(" ", "")
    tokens = [t for t in spec.split(",") if t] if several_cpus else spec.split(",")
    out = []
    for token in tokens:
        m = _DEVICE_RE.match(token)
        if several_cpus and m:
            out.append(f"{m.group(1)}:{int(m.group(2) or 0)}")
        elif several_cpus:
            raise ValueError(f"bad device {token!r}: use cpu, cpu:N or gpu:N (comma-separated for several)")
        elif token == "cpu" and spec == "cpu":
            out.append("cpu")
        elif m and m.group(1) == "gpu" and m.group(2) is not None:
            out.append(f"gpu:{int(m.group(2))}")
        else:
            raise ValueError(f"unknown device {text!r}: use cpu or gpu:0 (several: gpu:0,gpu:1)")
    if not out:
        raise ValueError("no device given")
    return tuple(out)
