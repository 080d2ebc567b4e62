"""Original Hopenet checkpoints (.pkl, PyTorch) -> a Gluon Hopenet and its model card."""

from __future__ import annotations

from pathlib import Path
from typing import Mapping, Optional, Tuple, Union

import mxnet as mx
import numpy as np

from gazenet_app.core.errors import ModelLoadError
from gazenet_app.model_zoo.card import pose_card, validate_card
from gazenet_app.model_zoo.model_card import ModelCard
from gazenet_app.model_zoo.hopenet import BACKBONES, Hopenet, get_hopenet
from gazenet_app.model_zoo.weights_io import (file_sha256, hopenet_to_gluon, load_params_checked,
                                              read_torch_checkpoint)

__all__ = ["guess_backbone", "convert_hopenet_checkpoint", "converted_card", "DEFAULT_CONVERTED_CROP"]

#: The original's crop around a landmark-sized box (its AFLW2000 test rule); the canonical box is landmark-sized.
DEFAULT_CONVERTED_CROP = "hopenet_test"


def guess_backbone(state_dict: Mapping[str, np.ndarray]) -> str:
    """`resnet50` for the original layout (conv1/layer1...), `mobilenetv2` for a `features.*` body."""
    keys = [k[len("backbone."):] if k.startswith("backbone.") else k for k in state_dict]
    if any(k.startswith("layer1.") for k in keys):
        return "resnet50"
    if any(k.startswith("features.") for k in keys):
        return "mobilenetv2"
    raise ModelLoadError("the checkpoint is neither a ResNet (layer1.*) nor a MobileNetV2 (features.*) Hopenet; "
                         f"its first names are {', '.join(list(state_dict)[:4])}")


def converted_card(name: str, backbone: str, input_size: int, checkpoint: Union[str, Path], sha256: str,
                   crop: str = DEFAULT_CONVERTED_CROP) -> ModelCard:
    """The card of a converted original Hopenet (params_sha256 is filled in when the weights are written)."""
    checkpoint = Path(checkpoint)
    return validate_card(pose_card(
        name, backbone, input_size, crop=crop, params_sha256=sha256,
        training={
            "data": "as the source checkpoint (original Hopenet weights were trained on 300W-LP)",
            "license": "as the source checkpoint (natanielruiz/deep-head-pose; 300W-LP is for research use)",
            "teacher": None,
            "synthesis": None,
            "epochs": None,
            "checkpoint": checkpoint.name,
            "checkpoint_sha256": sha256,
        },
        source=f"converted from the PyTorch checkpoint {checkpoint.name} (sha256 {sha256}) by gazenet convert"))


def convert_hopenet_checkpoint(path: Union[str, Path], name: Optional[str] = None, backbone: Optional[str] = None,
                               input_size: Optional[int] = None, crop: str = DEFAULT_CONVERTED_CROP,
                               ctx: Optional[mx.Context] = None) -> Tuple[Hopenet, ModelCard]:
    """Read a Hopenet .pkl (no torch needed), load it into a Gluon Hopenet and build its card.

    `backbone` defaults to what the checkpoint's names say; a wrong one fails with both shapes named.
    """
    path = Path(path)
    state = read_torch_checkpoint(path)
    backbone = backbone or guess_backbone(state)
    if backbone not in BACKBONES:
        raise ModelLoadError(f"unknown backbone {backbone!r}; valid: {', '.join(sorted(BACKBONES))}")
    net = get_hopenet(backbone, initialize=False, input_size=input_size)
    load_params_checked(net, hopenet_to_gluon(state), ctx=ctx, what=f"the weights in {path.name}")
    card = converted_card(name or path.stem, backbone, net.input_size, path, file_sha256(path), crop)
    return net, card
