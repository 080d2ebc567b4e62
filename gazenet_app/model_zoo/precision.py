"""Faster CPU variants of a network: fused (MKLDNN graph fusion) and int8 (quantized), saved as format symbol.

Both export through `weights_io.save_model(net, card with format "symbol")` and load back as a SymbolBlock.
"""

from __future__ import annotations

import warnings
from typing import Iterable, Optional, Sequence, Tuple

import mxnet as mx
import numpy as np

from gazenet_app.core.errors import ModelLoadError

__all__ = ["fuse_net", "quantize_net_int8", "optimize_net"]


def fuse_net(net: mx.gluon.HybridBlock, input_shape: Tuple[int, ...], ctx: Optional[mx.Context] = None):
    """Fuse conv+BN+activation with the MKLDNN backend, in place; returns the net (hybridized, static)."""
    ctx = ctx or mx.cpu()
    x = mx.nd.zeros(input_shape, ctx=ctx)
    net.hybridize(static_alloc=True, static_shape=True)
    try:
        net.optimize_for(x, backend="MKLDNN", static_alloc=True, static_shape=True)
    except mx.base.MXNetError as exc:
        first = (str(exc).strip().splitlines() or ["MXNetError"])[0]
        raise ModelLoadError(f"this MXNet build cannot fuse the graph (MKLDNN): {first[:200]}") from None
    return net


def quantize_net_int8(net: mx.gluon.HybridBlock, calib: Sequence[np.ndarray] | np.ndarray,
                      ctx: Optional[mx.Context] = None, batch_size: int = 8):
    """Quantize to int8 (full mode, naive calibration on `calib`, network-ready inputs); returns the new net."""
    from mxnet.contrib.quantization import quantize_net

    ctx = ctx or mx.cpu()
    calib = np.asarray(calib, dtype=np.float32)
    if len(calib) == 0:
        raise ModelLoadError("int8 quantization needs calibration inputs (a few representative crops)")
    loader = mx.gluon.data.DataLoader(mx.gluon.data.SimpleDataset([(mx.nd.array(c),) for c in calib]),
                                      batch_size=min(batch_size, len(calib)))
    net.hybridize()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        qnet = quantize_net(net, quantized_dtype="auto", quantize_mode="full", calib_mode="naive",
                            calib_data=loader, num_calib_examples=len(calib), ctx=ctx)
    qnet.hybridize(static_alloc=True, static_shape=True)  # without this int8 runs several times slower
    return qnet


def optimize_net(net: mx.gluon.HybridBlock, precision: str, input_shape: Tuple[int, ...],
                 calib: Optional[Iterable[np.ndarray]] = None, ctx: Optional[mx.Context] = None):
    """The net for a card precision: fp32 (as is, hybridized), fused or int8 (needs `calib`)."""
    if precision == "fp32":
        net.hybridize(static_alloc=True, static_shape=True)
        return net
    if precision == "fused":
        return fuse_net(net, input_shape, ctx)
    if precision == "int8":
        if calib is None:
            raise ModelLoadError("int8 quantization needs calibration inputs")
        return quantize_net_int8(net, list(calib), ctx)
    raise ValueError(f"unknown precision {precision!r}; valid: fp32, fused, int8")
