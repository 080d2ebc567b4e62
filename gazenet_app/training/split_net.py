"""A Hopenet cut for training: the frozen prefix (run outside autograd, which is where the speed comes from) and the
trained tail (later stages, pooling, the three bin heads and the optional training-only landmark head)."""

from __future__ import annotations

from typing import List

import mxnet as mx
from mxnet.gluon import HybridBlock, nn

__all__ = ["backbone_stages", "ResNetStem", "TrainedTail", "SplitNet"]


class ResNetStem(HybridBlock):
    """conv1 + bn1 + relu + maxpool of the torchvision-layout ResNet (shares its parameters)."""

    def __init__(self, backbone):
        super().__init__(prefix=backbone.prefix + "stem_")
        self.conv1, self.bn1, self.maxpool = backbone.conv1, backbone.bn1, backbone.maxpool

    def hybrid_forward(self, F, x):
        return self.maxpool(F.relu(self.bn1(self.conv1(x))))


def backbone_stages(net) -> list:
    """The backbone as an ordered list of blocks (stage 0 = the stem), for freezing a prefix."""
    bb = net.backbone
    if net.backbone_name == "mobilenetv2":
        return list(bb.features._children.values())
    stages = [ResNetStem(bb)]
    for i in range(1, 5):
        stages.extend(getattr(bb, f"layer{i}")._children.values())
    return stages


class TrainedTail(HybridBlock):
    """The trained stages, pooling and the three bin heads (+ the landmark head's (N, 10) output when given)."""

    def __init__(self, stages: List[HybridBlock], pool, heads, aux=None):
        super().__init__(prefix="gz_tail_")
        self.body = nn.HybridSequential(prefix="gz_body_")
        for b in stages:
            self.body.add(b)
        self.pool = pool
        self.fc_yaw, self.fc_pitch, self.fc_roll = heads
        self.aux = aux

    def hybrid_forward(self, F, x):
        f = F.flatten(self.pool(self.body(x)))
        logits = F.stack(self.fc_yaw(f), self.fc_pitch(f), self.fc_roll(f), axis=1)
        return logits if self.aux is None else (logits, self.aux(f))


def _walk(block):
    yield block
    for c in block._children.values():
        yield from _walk(c)


class SplitNet:
    """A Hopenet cut in two: `prefix` (frozen stages, run outside autograd) and `tail` (trained), sharing the
    Hopenet's parameters, so `net.save_parameters` saves the trained weights under the usual names.

    With `aux_landmarks` the tail also returns (N, 10) landmarks from a Dense head on the pooled features
    (`self.aux`, parameters apart from the Hopenet's: training only, never exported)."""

    def __init__(self, net, freeze_blocks: int, freeze_bn: bool = False, hybridize: bool = True,
                 aux_landmarks: bool = False):
        stages = backbone_stages(net)
        k = max(0, min(int(freeze_blocks), len(stages)))
        self.net = net
        self.freeze_blocks = k
        self.prefix = nn.HybridSequential(prefix="gz_prefix_")
        for b in stages[:k]:
            self.prefix.add(b)
        heads = (net.fc_yaw, net.fc_pitch, net.fc_roll)
        self.aux = None
        if aux_landmarks:
            self.aux = nn.Dense(10, prefix="gz_aux_landmarks_")
            self.aux.initialize(mx.init.Xavier(), ctx=list(net.fc_yaw.weight.list_ctx()))
        self.tail = TrainedTail(stages[k:], net.backbone.pool, heads, self.aux)
        frozen = set()
        for b in stages[:k]:
            for p in b.collect_params().values():
                p.grad_req = "null"
                frozen.add(p.name)
        if freeze_bn:
            for blk in _walk(self.tail):
                if isinstance(blk, nn.BatchNorm):
                    blk._kwargs["use_global_stats"] = True  # running stats used and kept as they are
        self.trainable = [p for p in net.collect_params().values()
                          if p.grad_req != "null" and p.name not in frozen]
        if self.aux is not None:
            self.trainable += list(self.aux.collect_params().values())
            heads = heads + (self.aux,)
        head_names = {p.name for h in heads for p in h.collect_params().values()}
        self.head_params = [p for p in self.trainable if p.name in head_names]
        if hybridize:
            self.prefix.hybridize(static_alloc=True, static_shape=True)
            self.tail.hybridize(static_alloc=True, static_shape=True)

    def features(self, x):
        """The frozen prefix's output (call outside autograd.record)."""
        return self.prefix(x) if self.freeze_blocks else x

    def __call__(self, x):
        """Bin logits (N, 3, bins) of a normalised batch (the landmark head's output, if any, is dropped)."""
        out = self.tail(self.features(x))
        return out[0] if self.aux is not None else out
