"""Hopenet (Ruiz et al. 2018) in Gluon: a backbone, global average pooling and three Dense(66) bin heads.

`forward(x)` returns logits (N, 3, 66) stacked as yaw, pitch, roll; angles come from
`gazenet_app.core.geometry.decode_bins` (3 * sum(softmax(z) * i) - 99, the original's convention).
Parameter names: `backbone.*` (the torchvision-layout backbone), `fc_yaw.*`, `fc_pitch.*`, `fc_roll.*` (as the
original), and, with `normalization_in_graph`, the constants `input_mean`/`input_std`.
With `normalization_in_graph=True` the net takes raw NHWC RGB (uint8 or float 0..255) and scales, normalises
and transposes inside the graph (GluonCV export_helper habit), so exported models carry their preprocessing.
"""

from __future__ import annotations

from typing import Callable, Dict, Optional, Sequence

import mxnet as mx
from mxnet.gluon import HybridBlock, nn

from gazenet_app.core.geometry import NUM_BINS
from gazenet_app.core.transforms import IMAGENET_MEAN, IMAGENET_STD
from gazenet_app.model_zoo.mobilenetv2 import mobilenet_v2
from gazenet_app.model_zoo.resnet import resnet50

__all__ = [
    "Hopenet",
    "BACKBONES",
    "DEFAULT_INPUT_SIZE",
    "get_hopenet",
    "hopenet_resnet50",
    "hopenet_mobilenetv2",
]

#: Backbone name -> constructor of the feature extractor (pooled features, no classifier).
BACKBONES: Dict[str, Callable[[], HybridBlock]] = {
    "resnet50": lambda: resnet50(classes=0),
    "mobilenetv2": lambda: mobilenet_v2(classes=0),
}

#: The input size each backbone uses unless told otherwise.
DEFAULT_INPUT_SIZE: Dict[str, int] = {"resnet50": 224, "mobilenetv2": 112}


class _Constant(mx.init.Initializer):
    """Initialises a constant-like parameter to fixed values (kept in .params, never trained)."""

    def __init__(self, value: Sequence[float]):
        super().__init__(value=list(value))
        self.value = list(value)

    def _init_weight(self, _, arr):
        arr[:] = mx.nd.array(self.value).reshape(arr.shape)


class Hopenet(HybridBlock):
    """Backbone (by name) + global average pool + `fc_yaw`, `fc_pitch`, `fc_roll` (Dense(bins) each)."""

    def __init__(self, backbone: str = "resnet50", input_size: Optional[int] = None, bins: int = NUM_BINS,
                 normalization_in_graph: bool = False, mean: Sequence[float] = IMAGENET_MEAN,
                 std: Sequence[float] = IMAGENET_STD, **kwargs):
        super().__init__(**kwargs)
        if backbone not in BACKBONES:
            raise ValueError(f"unknown Hopenet backbone {backbone!r}; valid: {', '.join(sorted(BACKBONES))}")
        self.backbone_name = backbone
        self._input_size = int(input_size or DEFAULT_INPUT_SIZE[backbone])
        self.bins = int(bins)
        self.normalization_in_graph = bool(normalization_in_graph)
        self.mean = tuple(float(m) for m in mean)
        self.std = tuple(float(s) for s in std)
        with self.name_scope():
            self.backbone = BACKBONES[backbone]()
            feat = self.backbone.last_channels
            self.fc_yaw = nn.Dense(self.bins, in_units=feat)
            self.fc_pitch = nn.Dense(self.bins, in_units=feat)
            self.fc_roll = nn.Dense(self.bins, in_units=feat)
            if self.normalization_in_graph:
                # In the 0..255 scale of the raw input: (x - 255 mean) / (255 std).
                self.input_mean = self.params.get("input_mean", shape=(1, 1, 1, 3), grad_req="null",
                                                  init=_Constant([255.0 * m for m in self.mean]),
                                                  differentiable=False)
                self.input_std = self.params.get("input_std", shape=(1, 1, 1, 3), grad_req="null",
                                                 init=_Constant([255.0 * s for s in self.std]),
                                                 differentiable=False)

    @property
    def input_size(self) -> int:
        """Side in pixels of the square crops the model was built for."""
        return self._input_size

    def hybrid_forward(self, F, x, input_mean=None, input_std=None):
        if self.normalization_in_graph:
            x = F.cast(x, dtype="float32")
            x = F.broadcast_div(F.broadcast_sub(x, input_mean), input_std)
            x = F.transpose(x, axes=(0, 3, 1, 2))
        f = self.backbone(x)
        return F.stack(self.fc_yaw(f), self.fc_pitch(f), self.fc_roll(f), axis=1)


def get_hopenet(backbone: str = "resnet50", ctx: Optional[mx.Context] = None, initialize: bool = True,
                **kwargs) -> Hopenet:
    """A Hopenet on `ctx` (default CPU), randomly initialised unless `initialize=False` (load weights next)."""
    net = Hopenet(backbone, **kwargs)
    if initialize:
        # He init (fan-in): plain Xavier averages fans and vanishes through depthwise convs.
        net.initialize(mx.init.Xavier(rnd_type="gaussian", factor_type="in", magnitude=2.0), ctx=ctx or mx.cpu())
    return net


def hopenet_resnet50(**kwargs) -> Hopenet:
    """Hopenet with the original ResNet-50 backbone (input 224 by default)."""
    return get_hopenet("resnet50", **kwargs)


def hopenet_mobilenetv2(**kwargs) -> Hopenet:
    """Hopenet with a MobileNetV2 1.0 backbone (input 112 by default) for CPU speed."""
    return get_hopenet("mobilenetv2", **kwargs)
