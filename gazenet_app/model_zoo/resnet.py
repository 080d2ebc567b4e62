"""ResNet-50 in torchvision's layout (stride on the 3x3 conv, as GluonCV resnet50_v1b), names 1:1 with torch.

Structured parameter names: `conv1.weight`, `bn1.gamma`, `layer1.0.conv1.weight`, ..., `layerK.0.downsample.0.weight`
(and `.1.*` its BatchNorm), `fc.*` for the ImageNet classifier. Original Hopenet checkpoints use the same names
for the backbone, so they load through weights_io's name map.
"""

from __future__ import annotations

from typing import Optional, Sequence

from mxnet.gluon import HybridBlock, nn

__all__ = ["Bottleneck", "ResNet", "resnet50"]


def _bn(channels: int) -> nn.BatchNorm:
    return nn.BatchNorm(in_channels=channels, epsilon=1e-5, momentum=0.9)


def _relu(F, x):
    """ReLU as the `Activation` operator: oneDNN's graph passes (fusion, INT8) fold conv + BN + Activation and
    conv + sum + Activation into one primitive, but leave the bare `relu` operator (F.relu) outside, so an
    INT8 graph would dequantize to fp32 and quantize again around every ReLU."""
    return F.Activation(x, act_type="relu")


class Bottleneck(HybridBlock):
    """1x1 -> 3x3 (stride here) -> 1x1 (x4 channels), plus a projected shortcut when shapes change."""

    expansion = 4

    def __init__(self, in_channels: int, planes: int, strides: int = 1, downsample: bool = False, **kwargs):
        super().__init__(**kwargs)
        out = planes * self.expansion
        with self.name_scope():
            self.conv1 = nn.Conv2D(planes, 1, use_bias=False, in_channels=in_channels)
            self.bn1 = _bn(planes)
            self.conv2 = nn.Conv2D(planes, 3, strides, 1, use_bias=False, in_channels=planes)
            self.bn2 = _bn(planes)
            self.conv3 = nn.Conv2D(out, 1, use_bias=False, in_channels=planes)
            self.bn3 = _bn(out)
            if downsample:
                self.downsample = nn.HybridSequential()
                self.downsample.add(nn.Conv2D(out, 1, strides, use_bias=False, in_channels=in_channels))
                self.downsample.add(_bn(out))
            else:
                self.downsample = None

    def hybrid_forward(self, F, x):
        out = _relu(F, self.bn1(self.conv1(x)))
        out = _relu(F, self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        identity = self.downsample(x) if self.downsample is not None else x
        return _relu(F, out + identity)


class ResNet(HybridBlock):
    """Bottleneck ResNet; `classes=0` drops `fc` and returns the pooled (N, 2048) features."""

    def __init__(self, layers: Sequence[int] = (3, 4, 6, 3), classes: int = 1000, **kwargs):
        super().__init__(**kwargs)
        self.classes = classes
        self.last_channels = 512 * Bottleneck.expansion
        with self.name_scope():
            self.conv1 = nn.Conv2D(64, 7, 2, 3, use_bias=False, in_channels=3)
            self.bn1 = _bn(64)
            self.maxpool = nn.MaxPool2D(3, 2, 1)
            in_c = 64
            for i, (planes, n) in enumerate(zip((64, 128, 256, 512), layers)):
                stage = nn.HybridSequential()
                strides = 1 if i == 0 else 2
                for j in range(n):
                    stage.add(Bottleneck(in_c, planes, strides if j == 0 else 1, downsample=(j == 0)))
                    in_c = planes * Bottleneck.expansion
                setattr(self, f"layer{i + 1}", stage)
            self.pool = nn.GlobalAvgPool2D()
            if classes:
                self.fc = nn.Dense(classes, in_units=self.last_channels)

    def hybrid_forward(self, F, x):
        x = self.maxpool(_relu(F, self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        x = F.flatten(self.pool(x))
        if self.classes:
            x = self.fc(x)
        return x


def resnet50(classes: Optional[int] = 1000, **kwargs) -> ResNet:
    """ResNet-50 in torchvision layout (ImageNet head when `classes`, features only with classes=0/None)."""
    return ResNet((3, 4, 6, 3), classes=classes or 0, **kwargs)
