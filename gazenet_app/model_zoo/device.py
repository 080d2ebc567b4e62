"""Device strings (`cpu`, `gpu:0`) -> MXNet contexts, with a clear error when the GPU is not there."""

from __future__ import annotations

import re
from typing import Union

import mxnet as mx

from gazenet_app.core.errors import ModelLoadError

__all__ = ["get_context", "device_string"]

_GPU_RE = re.compile(r"^(?:gpu|cuda)(?::(\d+))?$")


def get_context(device: Union[str, mx.Context, None] = "cpu") -> mx.Context:
    """`cpu` -> mx.cpu(); `gpu:N` (or `gpu`, `cuda:N`) -> mx.gpu(N) when MXNet sees that GPU.

    A list (`gpu:0,gpu:1`, the CLI's multi-device form) gives its first device: one pose model runs on one.
    """
    if isinstance(device, mx.Context):
        return device
    spec = (device or "cpu").strip().lower().split(",")[0].strip()
    if spec == "cpu":
        return mx.cpu()
    m = _GPU_RE.match(spec)
    if not m:
        raise ModelLoadError(f"unknown device {device!r}; use cpu or gpu:N (e.g. gpu:0)")
    index = int(m.group(1) or 0)
    try:
        count = mx.context.num_gpus()
    except mx.base.MXNetError:
        count = 0
    if index >= count:
        have = f"{count} GPU(s)" if count else "no GPU (this MXNet build may be CPU-only)"
        raise ModelLoadError(f"device {device!r} is not available: MXNet sees {have}; use --device cpu")
    return mx.gpu(index)


def device_string(ctx: mx.Context) -> str:
    """The device string of a context (`cpu` or `gpu:N`)."""
    return "cpu" if ctx.device_type == "cpu" else f"gpu:{ctx.device_id}"
