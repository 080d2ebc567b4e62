"""Architectures by name: a plain dict of constructors (GluonCV's model_zoo habit)."""

from __future__ import annotations

from typing import Callable, Dict, List

from mxnet.gluon import HybridBlock

from gazenet_app.model_zoo.hopenet import hopenet_mobilenetv2, hopenet_resnet50
from gazenet_app.model_zoo.mobilenetv2 import mobilenet_v2
from gazenet_app.model_zoo.resnet import resnet50

__all__ = ["get_model", "get_model_list", "register_model"]

_models: Dict[str, Callable[..., HybridBlock]] = {
    "hopenet_resnet50": hopenet_resnet50,
    "hopenet_mobilenetv2": hopenet_mobilenetv2,
    "resnet50": resnet50,
    "mobilenetv2": mobilenet_v2,
}


def get_model(name: str, **kwargs) -> HybridBlock:
    """Build the architecture `name` (case-insensitive); unknown names raise ValueError listing valid ones."""
    key = str(name).lower()
    if key not in _models:
        raise ValueError(f"unknown model architecture {name!r}; valid names: {', '.join(sorted(_models))}")
    return _models[key](**kwargs)


def get_model_list() -> List[str]:
    """The registered architecture names, sorted (for CLI choices and help text)."""
    return sorted(_models)


def register_model(name: str, constructor: Callable[..., HybridBlock]) -> None:
    """Add an architecture (e.g. a detector family) under a lowercase name; a taken name raises ValueError."""
    key = name.lower()
    if key in _models and _models[key] is not constructor:
        raise ValueError(f"model architecture {name!r} is already registered")
    _models[key] = constructor
