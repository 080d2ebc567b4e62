"""Reference PyTorch networks in torchvision's / the original Hopenet's layout, defined here in code.

For equivalence tests, `gazenet convert --verify` and the bench: torchvision does not run beside torch 2.13 here,
so ResNet-50, MobileNetV2 and Hopenet are written out. Importing this module imports torch; the app never does,
callers import it lazily. Without torch it raises DependencyError saying what to install.
"""

from __future__ import annotations

from typing import Dict, Optional

from gazenet_app.core.errors import DependencyError

try:
    import torch
    from torch import nn
except ImportError:  # pragma: no cover - depends on the environment
    raise DependencyError("PyTorch is needed for the reference networks: "
                          "pip install -c constraints.txt '.[convert]'") from None

import numpy as np

__all__ = [
    "TorchBottleneck",
    "TorchResNet50",
    "TorchMobileNetV2",
    "TorchHopenet",
    "randomize_",
    "state_dict_numpy",
    "run_numpy",
]


class TorchBottleneck(nn.Module):
    """torchvision's Bottleneck (stride on conv2)."""

    expansion = 4

    def __init__(self, inplanes: int, planes: int, stride: int = 1, downsample: Optional[nn.Module] = None):
        super().__init__()
        self.conv1 = nn.Conv2d(inplanes, planes, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, stride, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv3 = nn.Conv2d(planes, planes * 4, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(planes * 4)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample

    def forward(self, x):
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        return self.relu(out + identity)


def _resnet_body(module: nn.Module, layers=(3, 4, 6, 3)) -> None:
    """Adds conv1, bn1, relu, maxpool, layer1..4 (torchvision names) to `module`."""
    module.conv1 = nn.Conv2d(3, 64, 7, 2, 3, bias=False)
    module.bn1 = nn.BatchNorm2d(64)
    module.relu = nn.ReLU(inplace=True)
    module.maxpool = nn.MaxPool2d(3, 2, 1)
    inplanes = 64
    for i, (planes, n) in enumerate(zip((64, 128, 256, 512), layers)):
        stride = 1 if i == 0 else 2
        down = nn.Sequential(nn.Conv2d(inplanes, planes * 4, 1, stride, bias=False), nn.BatchNorm2d(planes * 4))
        blocks = [TorchBottleneck(inplanes, planes, stride, down)]
        inplanes = planes * 4
        blocks += [TorchBottleneck(inplanes, planes) for _ in range(1, n)]
        setattr(module, f"layer{i + 1}", nn.Sequential(*blocks))


def _resnet_features(m: nn.Module, x):
    x = m.maxpool(m.relu(m.bn1(m.conv1(x))))
    x = m.layer4(m.layer3(m.layer2(m.layer1(x))))
    return torch.flatten(m.avgpool(x), 1)


class TorchResNet50(nn.Module):
    """torchvision resnet50 (v1.5)."""

    def __init__(self, num_classes: int = 1000):
        super().__init__()
        _resnet_body(self)
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(2048, num_classes)

    def forward(self, x):
        return self.fc(_resnet_features(self, x))


def _conv_bn_relu6(cin: int, cout: int, k: int = 3, stride: int = 1, groups: int = 1) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(cin, cout, k, stride, (k - 1) // 2, groups=groups, bias=False),
                         nn.BatchNorm2d(cout), nn.ReLU6(inplace=True))


class _TorchInvertedResidual(nn.Module):
    def __init__(self, cin: int, cout: int, stride: int, expand: int):
        super().__init__()
        hidden = int(round(cin * expand))
        self.use_res = stride == 1 and cin == cout
        layers = [] if expand == 1 else [_conv_bn_relu6(cin, hidden, 1)]
        layers += [_conv_bn_relu6(hidden, hidden, 3, stride, hidden), nn.Conv2d(hidden, cout, 1, bias=False),
                   nn.BatchNorm2d(cout)]
        self.conv = nn.Sequential(*layers)

    def forward(self, x):
        return x + self.conv(x) if self.use_res else self.conv(x)


def _mobilenet_features() -> nn.Sequential:
    setting = ((1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1), (6, 160, 3, 2),
               (6, 320, 1, 1))
    layers = [_conv_bn_relu6(3, 32, 3, 2)]
    cin = 32
    for t, c, n, s in setting:
        for i in range(n):
            layers.append(_TorchInvertedResidual(cin, c, s if i == 0 else 1, t))
            cin = c
    layers.append(_conv_bn_relu6(cin, 1280, 1))
    return nn.Sequential(*layers)


class TorchMobileNetV2(nn.Module):
    """torchvision mobilenet_v2 (width 1.0): `features`, `classifier` (Dropout, Linear)."""

    def __init__(self, num_classes: int = 1000):
        super().__init__()
        self.features = _mobilenet_features()
        self.classifier = nn.Sequential(nn.Dropout(0.2), nn.Linear(1280, num_classes))

    def forward(self, x):
        x = nn.functional.adaptive_avg_pool2d(self.features(x), 1)
        return self.classifier(torch.flatten(x, 1))


class TorchHopenet(nn.Module):
    """The original Hopenet layout (ResNet-50 names at the top level, fc_yaw/pitch/roll, unused fc_finetune);
    with backbone "mobilenetv2" the body is `features`. Returns logits (N, 3, bins) as the Gluon Hopenet.

    The original pools with AvgPool2d(7), which equals global pooling at its 224 input; global pooling here
    lets small test inputs run.
    """

    def __init__(self, backbone: str = "resnet50", num_bins: int = 66):
        super().__init__()
        self.backbone_name = backbone
        if backbone == "resnet50":
            _resnet_body(self)
            feat = 2048
        elif backbone == "mobilenetv2":
            self.features = _mobilenet_features()
            feat = 1280
        else:
            raise ValueError(f"unknown backbone {backbone!r}; valid: mobilenetv2, resnet50")
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc_yaw = nn.Linear(feat, num_bins)
        self.fc_pitch = nn.Linear(feat, num_bins)
        self.fc_roll = nn.Linear(feat, num_bins)
        if backbone == "resnet50":
            self.fc_finetune = nn.Linear(feat + 3, 3)

    def forward(self, x):
        if self.backbone_name == "resnet50":
            f = _resnet_features(self, x)
        else:
            f = torch.flatten(self.avgpool(self.features(x)), 1)
        return torch.stack([self.fc_yaw(f), self.fc_pitch(f), self.fc_roll(f)], dim=1)


@torch.no_grad()
def randomize_(module: nn.Module, seed: int = 0) -> nn.Module:
    """Give EVERY parameter and BatchNorm buffer random values (positive running_var), in place.

    A fresh BatchNorm is nearly the identity and would hide a swapped gamma/beta or mean/var in a converter.
    """
    g = torch.Generator().manual_seed(seed)
    for name, p in module.named_parameters():
        fan_in = int(np.prod(p.shape[1:])) if p.dim() > 1 else 1
        scale = 1.0 / np.sqrt(fan_in) if p.dim() > 1 else 0.5
        p.copy_(torch.randn(p.shape, generator=g) * scale)
        if name.endswith("weight") and p.dim() == 1:  # BatchNorm gamma: keep away from zero
            p.copy_(1.0 + 0.2 * torch.randn(p.shape, generator=g))
    for m in module.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.running_mean.copy_(0.1 * torch.randn(m.running_mean.shape, generator=g))
            m.running_var.copy_(0.5 + torch.rand(m.running_var.shape, generator=g))
            m.num_batches_tracked.fill_(int(torch.randint(1, 1000, (1,), generator=g)))
    return module


def state_dict_numpy(module: nn.Module) -> Dict[str, np.ndarray]:
    """The module's state dict as numpy arrays."""
    return {k: v.detach().cpu().numpy() for k, v in module.state_dict().items()}


@torch.no_grad()
def run_numpy(module: nn.Module, x: np.ndarray) -> np.ndarray:
    """Eval-mode forward of a float32 NCHW numpy batch; returns numpy."""
    module.eval()
    return module(torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32))).numpy()
