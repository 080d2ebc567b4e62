"""SSH: Single Stage Headless face detector (Najibi et al., ICCV 2017) in Gluon, with a VGG-16 or MobileNetV2 trunk.

Three detection modules read two trunk features, C8 (stride 8: VGG conv4_3) and C16 (stride 16: VGG conv5_3):
- M1, stride 8: 1x1 reductions of C8 and of C16 (2x nearest upsampled) summed, then a 3x3 conv (128 channels);
- M2, stride 16: C16;
- M3, stride 32: C16 after a 2x2 max-pool.
Each module is a 3x3 conv (X channels) concatenated with a context module (a 3x3 conv of X/2, then a 3x3 branch
and a two-3x3 branch of X/2 each), followed by 1x1 convs for the per-anchor face/background logits and the box
regression. Anchors are squares of sizes {16, 32}, {64, 128}, {256, 512} (two per position per module).
`forward(x) -> (logits (N, A, 2), deltas (N, A, 4))` over all anchors in module order, each module's anchors in
(row, column, size) order, as `ssh_anchors` lists them. Input sides must be multiples of 32.
The MobileNetV2 trunk is torchvision's `features.0`-`features.13` (C8 = after block 6, 32 channels; C16 = after
block 13, 96 channels), named `trunk.features.N.*` so torchvision ImageNet weights load by name.
"""

from __future__ import annotations

from typing import List, Optional, Sequence, Tuple

import numpy as np
from mxnet.gluon import HybridBlock, nn

__all__ = [
    "SSH", "ContextModule", "DetectionModule", "VGG16Trunk", "MobileNetV2Trunk", "TinyTrunk", "get_ssh", "ssh_vgg16",
    "ssh_mobilenetv2", "ssh_anchors", "module_anchors", "encode_boxes", "decode_boxes", "SSH_STRIDES",
    "SSH_ANCHOR_SIZES",
]

SSH_STRIDES = (8, 16, 32)
SSH_ANCHOR_SIZES = ((16, 32), (64, 128), (256, 512))


def _conv(channels: int, kernel: int = 3, relu: bool = True) -> nn.HybridSequential:
    blk = nn.HybridSequential()
    blk.add(nn.Conv2D(channels, kernel, padding=kernel // 2))
    if relu:
        blk.add(nn.Activation("relu"))
    return blk


class ContextModule(HybridBlock):
    """3x3 conv (X/2) -> [3x3 (X/2)] and [3x3, 3x3 (X/2)], concatenated (X channels)."""

    def __init__(self, channels: int, **kw):
        super().__init__(**kw)
        half = channels // 2
        with self.name_scope():
            self.reduce = _conv(half)
            self.branch3 = _conv(half)
            self.branch5 = nn.HybridSequential()
            self.branch5.add(_conv(half), _conv(half))

    def hybrid_forward(self, F, x):
        x = self.reduce(x)
        return F.concat(self.branch3(x), self.branch5(x), dim=1)


class DetectionModule(HybridBlock):
    """3x3 conv (X) || context module (X), then per-anchor logits (2 each) and box deltas (4 each)."""

    def __init__(self, channels: int, num_anchors: int = 2, **kw):
        super().__init__(**kw)
        self.num_anchors = num_anchors
        with self.name_scope():
            self.conv = _conv(channels)
            self.context = ContextModule(channels)
            self.cls = nn.Conv2D(2 * num_anchors, 1)
            self.box = nn.Conv2D(4 * num_anchors, 1)

    def hybrid_forward(self, F, x):
        x = F.relu(F.concat(self.conv(x), self.context(x), dim=1))
        cls = F.reshape(F.transpose(self.cls(x), axes=(0, 2, 3, 1)), shape=(0, -1, 2))
        box = F.reshape(F.transpose(self.box(x), axes=(0, 2, 3, 1)), shape=(0, -1, 4))
        return cls, box


class VGG16Trunk(HybridBlock):
    """VGG-16 without its FC layers: returns (conv4_3, conv5_3), strides 8 and 16."""

    c8_channels, c16_channels = 512, 512

    def __init__(self, **kw):
        super().__init__(**kw)
        with self.name_scope():
            self.stage8 = nn.HybridSequential()
            for i, (n, c) in enumerate(((2, 64), (2, 128), (3, 256), (3, 512))):
                for _ in range(n):
                    self.stage8.add(_conv(c))
                if i < 3:
                    self.stage8.add(nn.MaxPool2D(2, 2))
            self.stage16 = nn.HybridSequential()
            self.stage16.add(nn.MaxPool2D(2, 2))
            for _ in range(3):
                self.stage16.add(_conv(512))

    def hybrid_forward(self, F, x):
        c8 = self.stage8(x)
        return c8, self.stage16(c8)


class MobileNetV2Trunk(HybridBlock):
    """torchvision MobileNetV2 `features.0`-`features.13`: returns (block 6: 32 ch, block 13: 96 ch)."""

    c8_channels, c16_channels = 32, 96

    def __init__(self, **kw):
        super().__init__(**kw)
        from gazenet_app.model_zoo.mobilenetv2 import MobileNetV2

        full = MobileNetV2(classes=0)
        with self.name_scope():
            self.features = nn.HybridSequential()
            for i in range(14):
                self.features.add(full.features[i])

    def hybrid_forward(self, F, x):
        c8 = None
        for i in range(14):
            x = self.features[i](x)
            if i == 6:
                c8 = x
        return c8, x


class TinyTrunk(HybridBlock):
    """A few plain convs (strides 8 and 16, 16/32 channels): for tests of the training loop, not for use."""

    c8_channels, c16_channels = 16, 32

    def __init__(self, **kw):
        super().__init__(**kw)
        with self.name_scope():
            self.stage8 = nn.HybridSequential()
            for c in (8, 16, 16):
                self.stage8.add(nn.Conv2D(c, 3, 2, 1), nn.Activation("relu"))
            self.stage16 = nn.HybridSequential()
            self.stage16.add(nn.Conv2D(32, 3, 2, 1), nn.Activation("relu"))

    def hybrid_forward(self, F, x):
        c8 = self.stage8(x)
        return c8, self.stage16(c8)


_TRUNKS = {"vgg16": VGG16Trunk, "mobilenetv2": MobileNetV2Trunk, "tiny": TinyTrunk}


class SSH(HybridBlock):
    """SSH detector: trunk -> M1/M2/M3 -> (logits (N, A, 2), deltas (N, A, 4)); x is normalised NCHW."""

    def __init__(self, trunk: str = "mobilenetv2", channels: Sequence[int] = (128, 256, 256), **kw):
        super().__init__(**kw)
        self.trunk_name = trunk
        self.channels = tuple(int(c) for c in channels)
        with self.name_scope():
            if trunk not in _TRUNKS:
                raise ValueError(f"unknown SSH trunk {trunk!r}; valid: {', '.join(sorted(_TRUNKS))}")
            self.trunk = _TRUNKS[trunk]()
            c1 = self.channels[0]
            self.m1_lateral = nn.Conv2D(c1, 1)
            self.m1_top = nn.Conv2D(c1, 1)
            self.m1_merge = _conv(c1)
            self.m3_pool = nn.MaxPool2D(2, 2)
            self.m1 = DetectionModule(self.channels[0])
            self.m2 = DetectionModule(self.channels[1])
            self.m3 = DetectionModule(self.channels[2])

    def hybrid_forward(self, F, x):
        c8, c16 = self.trunk(x)
        lat = F.relu(self.m1_lateral(c8))
        top = F.UpSampling(F.relu(self.m1_top(c16)), scale=2, sample_type="nearest")
        f1 = self.m1_merge(lat + F.slice_like(top, lat, axes=(2, 3)))
        outs = [self.m1(f1), self.m2(c16), self.m3(self.m3_pool(c16))]
        return F.concat(*[o[0] for o in outs], dim=1), F.concat(*[o[1] for o in outs], dim=1)


def get_ssh(trunk: str = "mobilenetv2", ctx=None, channels: Optional[Sequence[int]] = None,
            initialize: bool = True, **kw) -> SSH:
    """An SSH net with `trunk` (mobilenetv2, vgg16; tiny for tests), Xavier-initialised on ctx (load weights afterwards)."""
    import mxnet as mx

    if channels is None:
        channels = {"vgg16": (128, 256, 256), "tiny": (16, 16, 16)}.get(trunk, (64, 128, 128))
    net = SSH(trunk, channels, **kw)
    if initialize:
        net.initialize(mx.init.Xavier(rnd_type="gaussian", factor_type="out", magnitude=2), ctx=ctx or mx.cpu())
        for m in (net.m1, net.m2, net.m3):  # small heads: start near "no face, no offset"
            for head in (m.cls, m.box):
                head.weight.initialize(mx.init.Normal(0.01), ctx=ctx or mx.cpu(), force_reinit=True)
                head.bias.initialize(mx.init.Zero(), ctx=ctx or mx.cpu(), force_reinit=True)
    return net


def ssh_vgg16(**kw) -> SSH:
    """SSH with the paper's VGG-16 trunk (channels 128/256/256)."""
    return get_ssh("vgg16", **kw)


def ssh_mobilenetv2(**kw) -> SSH:
    """SSH with a MobileNetV2 trunk (channels 64/128/128): the variant gazenet trains."""
    return get_ssh("mobilenetv2", **kw)


def module_anchors(height: int, width: int, stride: int, sizes: Sequence[float]) -> np.ndarray:
    """(height * width * len(sizes), 4) square anchors centred on each cell, in (row, column, size) order."""
    ys = (np.arange(height, dtype=np.float64) + 0.5) * stride
    xs = (np.arange(width, dtype=np.float64) + 0.5) * stride
    cy, cx = np.meshgrid(ys, xs, indexing="ij")
    half = np.asarray(sizes, dtype=np.float64) / 2.0
    cx, cy = cx[:, :, None], cy[:, :, None]
    boxes = np.stack([cx - half, cy - half, cx + half, cy + half], axis=-1)
    return boxes.reshape(-1, 4)


def ssh_anchors(image_height: int, image_width: int, strides: Sequence[int] = SSH_STRIDES,
                sizes: Sequence[Sequence[float]] = SSH_ANCHOR_SIZES) -> Tuple[np.ndarray, List[int]]:
    """All anchors of an input (sides multiples of 32) in the net's output order, and the count per module."""
    if image_height % 32 or image_width % 32:
        raise ValueError(f"SSH input sides must be multiples of 32, got {image_height}x{image_width}")
    parts = [module_anchors(image_height // s, image_width // s, s, z) for s, z in zip(strides, sizes)]
    return np.concatenate(parts, axis=0), [len(p) for p in parts]


#: Largest log-scale a decoded box may take (boxes at most 1000/16 times their anchor).
_MAX_LOG_SCALE = float(np.log(1000.0 / 16.0))


def encode_boxes(boxes: np.ndarray, anchors: np.ndarray) -> np.ndarray:
    """Regression targets (dx, dy, dw, dh) of boxes relative to anchors (row-aligned, both (N, 4) x1y1x2y2)."""
    boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    anchors = np.asarray(anchors, dtype=np.float64).reshape(-1, 4)
    aw, ah = anchors[:, 2] - anchors[:, 0], anchors[:, 3] - anchors[:, 1]
    ax, ay = anchors[:, 0] + aw / 2, anchors[:, 1] + ah / 2
    bw = np.maximum(boxes[:, 2] - boxes[:, 0], 1e-6)
    bh = np.maximum(boxes[:, 3] - boxes[:, 1], 1e-6)
    bx, by = boxes[:, 0] + bw / 2, boxes[:, 1] + bh / 2
    return np.stack([(bx - ax) / aw, (by - ay) / ah, np.log(bw / aw), np.log(bh / ah)], axis=1)


def decode_boxes(deltas: np.ndarray, anchors: np.ndarray) -> np.ndarray:
    """Boxes (x1, y1, x2, y2) from regression deltas and their anchors; vectorised, any leading shape."""
    deltas = np.asarray(deltas, dtype=np.float64)
    anchors = np.asarray(anchors, dtype=np.float64)
    aw, ah = anchors[..., 2] - anchors[..., 0], anchors[..., 3] - anchors[..., 1]
    ax, ay = anchors[..., 0] + aw / 2, anchors[..., 1] + ah / 2
    cx, cy = ax + deltas[..., 0] * aw, ay + deltas[..., 1] * ah
    w = aw * np.exp(np.minimum(deltas[..., 2], _MAX_LOG_SCALE))
    h = ah * np.exp(np.minimum(deltas[..., 3], _MAX_LOG_SCALE))
    return np.stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], axis=-1)
