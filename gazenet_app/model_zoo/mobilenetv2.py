"""MobileNetV2 (width 1.0) in torchvision's layout, so torchvision state dicts map 1:1 onto it.

Structured parameter names (`Block._collect_params_with_prefix`) follow torchvision's module tree:
`features.0.0.weight` (stem conv), `features.0.1.gamma` (its BatchNorm), `features.N.conv.*` (inverted
residual blocks 1-17), `features.18.*` (last 1x1 conv), `classifier.1.*` (the ImageNet Dense after Dropout).
Only the BatchNorm names differ (torch weight/bias = Gluon gamma/beta); weights_io maps them.
"""

from __future__ import annotations

from typing import Optional

from mxnet.gluon import HybridBlock, nn

__all__ = ["MobileNetV2", "InvertedResidual", "ConvBNReLU6", "mobilenet_v2"]

#: (expand ratio t, output channels c, repeats n, first stride s), as torchvision's inverted_residual_setting.
_SETTING = ((1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1), (6, 160, 3, 2),
            (6, 320, 1, 1))


class _ReLU6(HybridBlock):
    """min(max(x, 0), 6)."""

    def hybrid_forward(self, F, x):
        return F.clip(x, 0.0, 6.0)


class ConvBNReLU6(nn.HybridSequential):
    """torchvision's Conv2dNormActivation: conv (no bias) at 0, BatchNorm at 1, ReLU6 at 2."""

    def __init__(self, in_channels: int, channels: int, kernel_size: int = 3, strides: int = 1,
                 groups: int = 1, **kwargs):
        super().__init__(**kwargs)
        pad = (kernel_size - 1) // 2
        with self.name_scope():
            self.add(nn.Conv2D(channels, kernel_size, strides, pad, groups=groups, use_bias=False,
                               in_channels=in_channels))
            self.add(nn.BatchNorm(in_channels=channels, epsilon=1e-5, momentum=0.9))
            self.add(_ReLU6())


class InvertedResidual(HybridBlock):
    """Expand (1x1) -> depthwise 3x3 -> project (1x1, linear), residual when shapes allow; `conv` as torchvision."""

    def __init__(self, in_channels: int, channels: int, strides: int, expand_ratio: int, **kwargs):
        super().__init__(**kwargs)
        hidden = int(round(in_channels * expand_ratio))
        self.use_res = strides == 1 and in_channels == channels
        with self.name_scope():
            self.conv = nn.HybridSequential()
            if expand_ratio != 1:
                self.conv.add(ConvBNReLU6(in_channels, hidden, kernel_size=1))
            self.conv.add(ConvBNReLU6(hidden, hidden, 3, strides, groups=hidden))
            self.conv.add(nn.Conv2D(channels, 1, 1, 0, use_bias=False, in_channels=hidden))
            self.conv.add(nn.BatchNorm(in_channels=channels, epsilon=1e-5, momentum=0.9))

    def hybrid_forward(self, F, x):
        out = self.conv(x)
        return x + out if self.use_res else out


class MobileNetV2(HybridBlock):
    """MobileNetV2 1.0; `classes=0` drops the classifier and returns the pooled (N, 1280) features."""

    last_channels = 1280

    def __init__(self, classes: int = 1000, dropout: float = 0.2, **kwargs):
        super().__init__(**kwargs)
        self.classes = classes
        with self.name_scope():
            self.features = nn.HybridSequential()
            in_c = 32
            self.features.add(ConvBNReLU6(3, in_c, 3, 2))
            for t, c, n, s in _SETTING:
                for i in range(n):
                    self.features.add(InvertedResidual(in_c, c, s if i == 0 else 1, t))
                    in_c = c
            self.features.add(ConvBNReLU6(in_c, self.last_channels, kernel_size=1))
            self.pool = nn.GlobalAvgPool2D()
            if classes:
                self.classifier = nn.HybridSequential()
                self.classifier.add(nn.Dropout(dropout))
                self.classifier.add(nn.Dense(classes, in_units=self.last_channels))

    def hybrid_forward(self, F, x):
        x = F.flatten(self.pool(self.features(x)))
        if self.classes:
            x = self.classifier(x)
        return x


def mobilenet_v2(classes: Optional[int] = 1000, **kwargs) -> MobileNetV2:
    """MobileNetV2 1.0 (ImageNet head when `classes`, features only with classes=0/None)."""
    return MobileNetV2(classes=classes or 0, **kwargs)
