"""Hostile PyTorch checkpoints written with Python's own pickle and zipfile (no torch needed).

A tensor is pickled as torch does it: `torch._utils._rebuild_tensor_v2(storage, offset, size, stride, ...)`,
the storage a persistent id `("storage", torch.FloatStorage, key, "cpu", numel[, view])`. The classes are
pickled under placeholder names and renamed in the bytes (protocol-2 GLOBAL opcodes are plain text).
"""

from __future__ import annotations

import collections
import io
import pickle
import struct
import sys
import types
import zipfile
from typing import Dict, Mapping, Optional, Sequence, Tuple

import numpy as np

LEGACY_MAGIC = 0x1950A86A20F9469CFC6C


class Tensor:
    """A tensor as the pickle names it: storage key, offset, size, stride (and an optional old-style view)."""

    def __init__(self, key: str, offset: int, size: Sequence[int], stride: Sequence[int],
                 view: Optional[Tuple[str, int, int]] = None) -> None:
        self.key, self.offset, self.size, self.stride, self.view = key, offset, tuple(size), tuple(stride), view


def _pickle_state(tensors: Mapping[str, Tensor], numels: Mapping[str, int]) -> bytes:
    class FloatStorage:
        pass

    def _rebuild_tensor_v2(*args):
        raise AssertionError("never called while writing")

    class Ref:
        def __init__(self, key, view):
            self.key, self.view = key, view

    class Pickled:
        def __init__(self, t: Tensor):
            self.t = t

        def __reduce__(self):
            t = self.t
            return (_rebuild_tensor_v2, (Ref(t.key, t.view), t.offset, t.size, t.stride, False,
                                         collections.OrderedDict()))

    fake = types.ModuleType("gzcrafted")
    fake.FloatStorage, fake._rebuild_tensor_v2 = FloatStorage, _rebuild_tensor_v2
    for obj, name in ((FloatStorage, "FloatStorage"), (_rebuild_tensor_v2, "_rebuild_tensor_v2")):
        obj.__module__, obj.__qualname__ = "gzcrafted", name

    class P(pickle.Pickler):
        def persistent_id(self, obj):
            if isinstance(obj, Ref):
                pid = ("storage", FloatStorage, obj.key, "cpu", numels.get(obj.key, 0))
                return pid + ((obj.view,) if obj.view else ())
            return None

    buf = io.BytesIO()
    sys.modules["gzcrafted"] = fake
    try:
        P(buf, protocol=2).dump(collections.OrderedDict((k, Pickled(t)) for k, t in tensors.items()))
    finally:
        del sys.modules["gzcrafted"]
    body = buf.getvalue()
    body = body.replace(b"gzcrafted\nFloatStorage", b"torch\nFloatStorage")
    return body.replace(b"gzcrafted\n_rebuild_tensor_v2", b"torch._utils\n_rebuild_tensor_v2")


def write_zip_checkpoint(path, tensors: Mapping[str, Tensor], storages: Mapping[str, np.ndarray]) -> None:
    """A torch >= 1.6 zip checkpoint: archive/data.pkl + archive/data/KEY (float32 little-endian)."""
    numels = {k: int(v.size) for k, v in storages.items()}
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("archive/data.pkl", _pickle_state(tensors, numels))
        z.writestr("archive/byteorder", "little")
        for key, arr in storages.items():
            z.writestr(f"archive/data/{key}", np.asarray(arr, "<f4").tobytes())


def write_legacy_checkpoint(path, tensors: Mapping[str, Tensor], storages: Mapping[str, np.ndarray],
                            claimed: Optional[Dict[str, int]] = None) -> None:
    """A legacy (pre-zip) checkpoint; `claimed` overrides the element count written before a storage's bytes."""
    claimed = claimed or {}
    numels = {k: int(v.size) for k, v in storages.items()}
    with open(path, "wb") as f:
        f.write(pickle.dumps(LEGACY_MAGIC, protocol=2))
        f.write(pickle.dumps(1001, protocol=2))
        f.write(pickle.dumps({"protocol_version": 1001, "little_endian": True,
                              "type_sizes": {"short": 2, "int": 4, "long": 8}}, protocol=2))
        f.write(_pickle_state(tensors, numels))
        f.write(pickle.dumps(list(storages), protocol=2))
        for key, arr in storages.items():
            f.write(struct.pack("<q", claimed.get(key, arr.size)) + np.asarray(arr, "<f4").tobytes())


def write_hopenet_checkpoint(path, gluon_params: Mapping[str, np.ndarray]) -> None:
    """A sound original-layout Hopenet zip checkpoint holding `gluon_params` (a gazenet model's .params arrays)
    under torch's names (backbone prefix dropped, BatchNorm gamma/beta -> weight/bias)."""
    tensors, storages = {}, {}
    for i, (name, arr) in enumerate(gluon_params.items()):
        if name.rsplit(".", 1)[-1] in ("input_mean", "input_std"):
            continue
        module, _, leaf = name[len("backbone."):].rpartition(".") if name.startswith("backbone.") \
            else name.rpartition(".")
        leaf = {"gamma": "weight", "beta": "bias"}.get(leaf, leaf)
        shape = tuple(int(d) for d in arr.shape)
        stride = tuple(int(np.prod(shape[k + 1:])) for k in range(len(shape)))
        tensors[f"{module}.{leaf}"] = Tensor(str(i), 0, shape, stride)
        storages[str(i)] = np.asarray(arr, np.float32).ravel()
    write_zip_checkpoint(path, tensors, storages)


def write_gif(path, frames: Sequence[np.ndarray]) -> None:
    """An animated GIF of 2-D frames of palette indices 0..3 (black, grey, white, red), written without an encoder
    library (OpenCV writes no GIF): LZW codes stay 3 bits wide by clearing the table every 2 pixels."""
    h, w = frames[0].shape
    body = b"GIF89a" + struct.pack("<HHBBB", w, h, 0xF1, 0, 0) + bytes([0, 0, 0, 128, 128, 128, 255, 255, 255,
                                                                        255, 0, 0])
    body += b"\x21\xff\x0bNETSCAPE2.0\x03\x01\x00\x00\x00"  # loop forever
    for frame in frames:
        codes = []
        pixels = [int(v) for v in np.asarray(frame).ravel()]
        for i in range(0, len(pixels), 2):  # clear (4), then 2 pixels: the table never reaches 8 entries
            codes += [4] + pixels[i:i + 2]
        codes.append(5)  # end of information
        bits = nbits = 0
        data = bytearray()
        for code in codes:
            bits |= code << nbits
            nbits += 3
            while nbits >= 8:
                data.append(bits & 0xFF)
                bits >>= 8
                nbits -= 8
        if nbits:
            data.append(bits & 0xFF)
        blocks = b"".join(bytes([len(data[i:i + 255])]) + bytes(data[i:i + 255]) for i in range(0, len(data), 255))
        body += b"\x21\xf9\x04\x00\x0a\x00\x00\x00"  # 0.1 s per frame
        body += b"\x2c" + struct.pack("<HHHHB", 0, 0, w, h, 0) + b"\x02" + blocks + b"\x00"
    with open(path, "wb") as f:
        f.write(body + b"\x3b")
