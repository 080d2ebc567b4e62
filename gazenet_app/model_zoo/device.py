"""Device strings (`cpu`, `gpu:0`) -> MXNet contexts, with a clear error when the GPU is not there."""

from __future__ import annotations

from typing import Union

import mxnet as mx

from gazenet_app.core.devices import parse_devices
from gazenet_app.core.errors import ModelLoadError

__all__ = ["get_context", "device_string"]

def get_context(device: Union[str, mx.Context, None] = "cpu") -> mx.Context:
    """`cpu` -> mx.cpu(); `gpu:N` -> mx.gpu(N) when MXNet sees that GPU (`core.devices.parse_devices`).

    A list (`gpu:0,gpu:1`, the CLI's multi-device form) gives its first device: one pose model runs on one.
    """
    if isinstance(device, mx.Context):
        return device
    try:
        spec = parse_devices(device or "cpu")[0]
    except ValueError as e:
        raise ModelLoadError(str(e)) from None
    if spec == "cpu":
        return mx.cpu()
    index = int(spec.split(":")[1])
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
