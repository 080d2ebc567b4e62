"""A loaded head-pose model: crops in, degrees out, in one batched forward.

`load_pose_model(name_or_path, device, precision)` resolves a model through the store, picks its precision
mode (`modes.choose_mode`), checks the chosen weights' sha256 once, builds the network named by its card
(format params) or imports the exported graph (format symbol: fused / int8), and returns a `PoseEstimator`.
Nothing here ever runs on random weights.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Dict, Optional, Union

import mxnet as mx
import numpy as np

from gazenet_app.core.errors import CardError, ModelLoadError, ModelNotFoundError
from gazenet_app.core.geometry import decode_bins
from gazenet_app.core.transforms import CropPreset, get_crop_preset, normalize
from gazenet_app.model_zoo.card import validate_card
from gazenet_app.model_zoo.conversion import DEFAULT_CONVERTED_CROP, convert_hopenet_checkpoint
from gazenet_app.model_zoo.device import device_string, get_context
from gazenet_app.model_zoo.model_card import ModelCard
from gazenet_app.model_zoo.registry import get_model, get_model_list
from gazenet_app.model_zoo.modes import choose_mode, is_mode_variant, list_modes, requested_precision
from gazenet_app.model_zoo.store import (CHECKPOINT_SUFFIXES, HOW_TO_GET_A_MODEL, ModelInfo, default_model_name,
                                         list_models, resolve_model, search_dirs, verify_model)
from gazenet_app.model_zoo.weights_io import load_params_checked

__all__ = ["PoseEstimator", "load_pose_model", "load_hopenet_checkpoint", "no_default_message", "MAX_BATCH"]

#: Larger batches are split into forwards of at most this many crops.
MAX_BATCH = 32


class PoseEstimator:
    """A pose network and its card: `predict_crops(uint8 NHWC RGB) -> (N, 3)` yaw, pitch, roll in degrees.

    Batches run at their exact size: with static_alloc/static_shape MXNet re-plans memory when the batch size
    changes, which costs a few milliseconds once per change (MKLDNN keeps its primitives per shape), far less
    than padding a batch would; batches above MAX_BATCH are split.
    """

    def __init__(self, net: mx.gluon.HybridBlock, card: ModelCard, ctx: Optional[mx.Context] = None,
                 info: Optional[ModelInfo] = None, flip_average: Optional[bool] = None):
        self.card = card
        if card.kind != "pose":
            raise ModelLoadError(f"model {card.name!r} is a {card.kind} model, not a pose model")
        self.net = net
        self.ctx = ctx or mx.cpu()
        self.info = info
        self._crop_preset = get_crop_preset(card.crop)
        self._in_graph = bool(card.normalization_in_graph)
        self._bgr = card.color_order == "BGR"
        #: Average each crop's angles with its mirror image's (yaw, roll negated), in the same forward; the
        #: card's `flip_average` unless overridden (its eval numbers were measured with the card's setting).
        self.flip_average = bool(card.flip_average) if flip_average is None else flip_average

    @property
    def name(self) -> str:
        """The model's name (its card's)."""
        return self.card.name

    @property
    def input_size(self) -> int:
        """Side of the square crops the model takes."""
        return int(self.card.input_size)

    @property
    def crop_preset(self) -> CropPreset:
        """The crop preset the model was trained with (core.transforms)."""
        return self._crop_preset

    @property
    def precision(self) -> str:
        """What runs: `fp32`, `fused` or `int8` (the card's)."""
        return self.card.precision

    @property
    def device(self) -> str:
        """`cpu` or `gpu:N`."""
        return device_string(self.ctx)

    def describe(self) -> Dict[str, Any]:
        """Provenance for sidecars: name, sha256, precision, network, input size, crop preset, device, path."""
        return {"name": self.name, "params_sha256": self.card.params_sha256,
                "precision": self.precision, "architecture": self.card.architecture,
                "backbone": self.card.backbone,
                "input_size": self.input_size, "crop": self.card.crop, "device": self.device,
                "flip_average": self.flip_average,
                "path": str(self.info.card_path) if self.info else None}

    def _prepare(self, crops: np.ndarray) -> np.ndarray:
        x = np.asarray(crops)
        if x.ndim == 3:
            x = x[None]
        s = self.input_size
        if x.ndim != 4 or x.shape[1:] != (s, s, 3):
            raise ValueError(f"crops must be N x {s} x {s} x 3 RGB (model {self.name!r}), got shape {x.shape}")
        if self._bgr:
            x = x[..., ::-1]
        if self._in_graph:
            return np.ascontiguousarray(x, dtype=np.float32)
        return normalize(x, self.card.mean, self.card.std)

    def predict_logits(self, crops: np.ndarray) -> np.ndarray:
        """Logits (N, 3, bins) of yaw, pitch, roll for N crops (uint8 NHWC RGB at input_size)."""
        x = self._prepare(crops)
        bins = int(self.card.bins)
        if len(x) == 0:
            return np.zeros((0, 3, bins), dtype=np.float32)
        out = [self.net(mx.nd.array(x[i:i + MAX_BATCH], ctx=self.ctx)).asnumpy()
               for i in range(0, len(x), MAX_BATCH)]
        logits = np.concatenate(out, axis=0)
        if logits.shape[1:] != (3, bins):
            raise ModelLoadError(f"model {self.name!r} returns shape {logits.shape[1:]} per crop, "
                                 f"its card promises (3, {bins})")
        return logits

    def predict_crops(self, crops: np.ndarray) -> np.ndarray:
        """Yaw, pitch, roll in degrees (N, 3) for N crops (uint8 NHWC RGB at input_size).

        With `flip_average` the crops and their mirror images go through one forward: a mirrored head has
        yaw and roll negated, so the mean of the two reads cancels the net's left/right asymmetries.
        """
        x = np.asarray(crops)
        if x.ndim == 3:
            x = x[None]
        n = len(x)
        if self.flip_average and n:
            x = np.concatenate([x, x[:, :, ::-1]], axis=0)
        logits = self.predict_logits(x)
        if len(logits) == 0:
            return np.zeros((0, 3), dtype=np.float64)
        angles = decode_bins(logits, float(self.card.bin_width), float(self.card.angle_offset))
        if self.flip_average:
            angles = 0.5 * (angles[:n] + angles[n:] * np.array([-1.0, 1.0, -1.0]))
        return angles

    def __repr__(self) -> str:
        flip = ", flip-averaged" if self.flip_average else ""
        return (f"PoseEstimator({self.name!r}, {self.card.architecture}, {self.input_size}px, "
                f"{self.card.precision}, {self.device}{flip})")


def _build_params_net(info: ModelInfo, ctx: mx.Context) -> mx.gluon.HybridBlock:
    card = info.card
    arch = card.architecture.lower()
    if arch not in get_model_list() or not arch.startswith("hopenet"):
        raise CardError(f"model {info.name!r}: architecture {card.architecture!r} is not a pose network "
                        f"gazenet knows ({', '.join(n for n in get_model_list() if n.startswith('hopenet'))})")
    if arch != f"hopenet_{card.backbone}":
        raise CardError(f"model {info.name!r}: architecture {arch!r} and backbone {card.backbone!r} disagree")
    net = get_model(arch, initialize=False, input_size=card.input_size, bins=card.bins,
                    normalization_in_graph=card.normalization_in_graph, mean=card.mean, std=card.std)
    load_params_checked(net, info.params_path, ctx=ctx)
    return net


def _import_symbol_net(info: ModelInfo, ctx: mx.Context) -> mx.gluon.HybridBlock:
    import warnings

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return mx.gluon.SymbolBlock.imports(str(info.symbol_path), ["data"], str(info.params_path), ctx=ctx)
    except Exception as exc:  # MXNetError / AssertionError from a damaged or mismatched export
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise ModelLoadError(f"model {info.name!r}: cannot load the exported graph {info.symbol_path.name} with "
                             f"{info.params_path.name}: {first[:200]}") from None


def _ready(net: mx.gluon.HybridBlock, card: ModelCard, ctx: mx.Context) -> None:
    """Hybridize (static) and run one warm-up forward so the first real frame is not slow."""
    net.hybridize(static_alloc=True, static_shape=True)
    s = int(card.input_size)
    shape = (1, s, s, 3) if card.normalization_in_graph else (1, 3, s, s)
    try:
        out = net(mx.nd.zeros(shape, ctx=ctx))
        out.wait_to_read()
    except mx.base.MXNetError as exc:
        first = (str(exc).strip().splitlines() or ["MXNetError"])[0]
        raise ModelLoadError(f"model {card.name!r} does not run on a {shape} input: {first[:200]}") from None


def load_pose_model(name_or_path: Union[str, Path, ModelInfo, None] = None, device: str = "cpu",
                    precision: Optional[str] = "auto") -> PoseEstimator:
    """The one way to load a pose model: by name or path (NAME.json / NAME.params / folder) on `device`.

    None means the default model (`store.default_model_name`; none marked: `no_default_message`). `precision`
    (`auto`, `fp32`, `fused`, `int8`; None: `$GAZENET_PRECISION`, else auto) picks among the model's shipped
    exports (`modes.choose_mode`); a named export, or a `ModelInfo`, is loaded as it is. An original Hopenet
    checkpoint (`store.CHECKPOINT_SUFFIXES`) is converted in memory, fp32 (`load_hopenet_checkpoint`, no torch).
    The chosen weights are hashed once. Raises ModelNotFoundError (with where it looked and how to get a model),
    ModelLoadError or CardError.
    """
    if name_or_path is None or (isinstance(name_or_path, str) and not name_or_path.strip()):
        name_or_path = default_model_name()
        if name_or_path is None:
            raise ModelNotFoundError(no_default_message())
    if isinstance(name_or_path, ModelInfo):
        info = name_or_path if name_or_path.sha_ok else verify_model(name_or_path)
    elif str(name_or_path).lower().endswith(CHECKPOINT_SUFFIXES):
        if not Path(name_or_path).is_file():
            raise ModelNotFoundError(f"checkpoint {name_or_path} does not exist")
        return load_hopenet_checkpoint(name_or_path, device=device)
    else:
        info = resolve_model(name_or_path, verify=False)
        if info.kind == "pose" and not is_mode_variant(info):
            info = choose_mode(list_modes(info), requested_precision(precision), device=device)
        info = verify_model(info)
    if info.kind != "pose":
        raise ModelLoadError(f"model {info.name!r} is a {info.kind} model, not a pose model")
    ctx = get_context(device)
    if info.card.format == "symbol":
        net = _import_symbol_net(info, ctx)
    else:
        net = _build_params_net(info, ctx)
    _ready(net, info.card, ctx)
    return PoseEstimator(net, info.card, ctx, info)


def no_default_message() -> str:
    """Why no model was chosen when none was named: several installed and none marked default, or none at all."""
    installed = [m.name for m in list_models(kind="pose") if not is_mode_variant(m)]
    where = ", ".join(str(p) for p, _ in search_dirs())
    if installed:
        return (f"no default pose model: several are installed ({', '.join(installed)}); choose one with "
                "--model NAME")
    return f"no pose model is installed (looked in {where}); {HOW_TO_GET_A_MODEL}"


def load_hopenet_checkpoint(path: Union[str, Path], backbone: Optional[str] = None, device: str = "cpu",
                            input_size: Optional[int] = None,
                            crop: str = DEFAULT_CONVERTED_CROP) -> PoseEstimator:
    """Convert an original Hopenet .pkl on the fly (no files written, no torch) and return its estimator."""
    ctx = get_context(device)
    name = re.sub(r"[^A-Za-z0-9_.+-]", "_", Path(path).stem).lstrip("._+-") or "hopenet"
    net, converted = convert_hopenet_checkpoint(path, name=name, backbone=backbone, input_size=input_size,
                                                crop=crop, ctx=ctx)
    card = validate_card({**converted.to_dict(), "source": f"{converted.source}, loaded on the fly from {path}"})
    _ready(net, card, ctx)
    return PoseEstimator(net, card, ctx)
