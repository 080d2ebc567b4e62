"""The network rows of the bench: a PyTorch Hopenet of the original layout and gazenet's modes of it.

Same-architecture rows: the reference network (`model_zoo.torch_reference.TorchHopenet`, random weights: speed
does not depend on training) and the same weights converted into gazenet's Gluon Hopenet, run as fp32
(hybridized, static_alloc/static_shape), fused (oneDNN, `optimize_for(backend='MKLDNN')`) and int8
(`quantize_net`, full mode, naive calibration, then hybridized static). Default-model rows: the installed
model's fp32 and its shipped fused/int8 exports (their cards carry the accuracy cost). Every candidate takes
the same network-ready batch; a call is host array in -> forward -> host array out.
"""

from __future__ import annotations

import logging
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, Iterator, List, Optional, Sequence, Union

import numpy as np

from gazenet_app.benchmark.timing import median, paired_ratio, paired_rounds
from gazenet_app.model_zoo.model_card import ModelCard

__all__ = [
    "Candidate",
    "network_input",
    "reference_candidates",
    "model_candidates",
    "measure_candidates",
    "NOT_APPLICABLE",
]

log = logging.getLogger(__name__)

#: mae_delta of rows whose weights are random: an accuracy cost means nothing there.
NOT_APPLICABLE = "not applicable (random weights)"


@dataclass
class Candidate:
    """One thing to time: `forward(batch)` on the batches `make_input(n)` gives."""

    mode: str  # torch | fp32 | fused | int8
    backbone: str
    input: int
    same_architecture: bool
    label: str
    forward: Optional[Callable[[np.ndarray], Any]] = None
    make_input: Optional[Callable[[int], np.ndarray]] = None
    mae_delta: Union[float, str, None] = None
    model: Optional[str] = None
    skipped: Optional[str] = None  # why there is no figure
    notes: Dict[str, Any] = field(default_factory=dict)


def network_input(card: ModelCard, crops: np.ndarray) -> np.ndarray:
    """What a pose model's graph takes for uint8 NHWC RGB crops (mirrors PoseEstimator: colour order, normalisation
    in the graph or by `core.transforms.normalize`)."""
    from gazenet_app.core.transforms import normalize

    x = np.asarray(crops)
    if card.color_order == "BGR":
        x = x[..., ::-1]
    if card.normalization_in_graph:
        return np.ascontiguousarray(x, dtype=np.float32)
    return normalize(x, card.mean, card.std)


def _crops(n: int, size: int, seed: int = 0) -> np.ndarray:
    """Deterministic uint8 crops with image-like statistics (smooth noise, not flat)."""
    import cv2

    rng = np.random.RandomState(seed)
    small = rng.randint(0, 256, size=(n, max(4, size // 8), max(4, size // 8), 3)).astype(np.uint8)
    return np.stack([cv2.resize(s, (size, size), interpolation=cv2.INTER_LINEAR) for s in small])


def _mx_forward(net) -> Callable[[np.ndarray], Any]:
    import mxnet as mx

    def forward(x: np.ndarray):
        return net(mx.nd.array(x)).asnumpy()

    return forward


def _flip_averaged(forward: Callable[[np.ndarray], Any], card: ModelCard) -> Callable[[np.ndarray], Any]:
    """`forward` on the batch and its mirror image in one call, as `PoseEstimator.flip_average` runs it."""
    width_axis = 2 if card.normalization_in_graph else 3  # NHWC in graph, else NCHW

    def both(x: np.ndarray):
        return forward(np.concatenate([x, np.flip(x, axis=width_axis)], axis=0))

    return both


@contextmanager
def torch_threads(n: Optional[int]) -> Iterator[None]:
    """PyTorch intra-op threads = n inside the block, the previous count restored after.

    PyTorch and MXNet share one OpenMP runtime: `torch.set_num_threads` changes the calling thread's OpenMP
    count, and oneDNN kernels MXNet created under the old count then return wrong numbers. So the count is
    changed only while the bench's own networks (created inside the block) run, and only if it differs.
    """
    try:
        import torch
    except Exception:  # no (working) torch: the reference rows say so themselves
        yield
        return
    prev = torch.get_num_threads()
    change = bool(n) and int(n) != prev
    if change:
        torch.set_num_threads(int(n))
    try:
        yield
    finally:
        if change:
            torch.set_num_threads(prev)


def reference_candidates(backbone: str = "resnet50", input_size: int = 224,
                         modes: Sequence[str] = ("torch", "fp32", "fused", "int8"), calib: int = 32,
                         seed: int = 0) -> List[Candidate]:
    """The same-architecture rows: torch reference + gazenet fp32/fused/int8 with the same random weights."""
    from gazenet_app.model_zoo.hopenet import get_hopenet
    from gazenet_app.model_zoo.precision import fuse_net, quantize_net_int8
    from gazenet_app.model_zoo.weights_io import hopenet_to_gluon, load_params_checked

    from gazenet_app.core.geometry import decode_bins
    from gazenet_app.model_zoo.card import pose_card, validate_card

    what = f"same architecture ({backbone} {input_size}px, random weights)"
    card = validate_card(pose_card("reference", backbone, input_size, training={"data": "none", "license": "none"},
                                   source="random weights (gazenet bench)"))  # gazenet's preprocessing conventions

    def make_input(n: int) -> np.ndarray:
        return network_input(card, _crops(n, input_size, seed + n))

    out: List[Candidate] = []
    try:
        from gazenet_app.model_zoo import torch_reference as tr
    except Exception as exc:  # DependencyError without torch, or a broken torch install
        reason = f"PyTorch is not available ({exc})"
        return [Candidate(m, backbone, input_size, True, what, skipped=reason if m == "torch" else
                          "needs the PyTorch reference weights: " + reason, mae_delta=NOT_APPLICABLE)
                for m in modes]
    tnet = tr.randomize_(tr.TorchHopenet(backbone), seed).eval()
    weights = hopenet_to_gluon(tr.state_dict_numpy(tnet))

    def torch_forward(x: np.ndarray):
        with tr.torch.inference_mode():
            return tnet(tr.torch.from_numpy(x)).numpy()

    shape = (1, 3, input_size, input_size)
    for mode in modes:
        c = Candidate(mode, backbone, input_size, True, what, make_input=make_input, mae_delta=NOT_APPLICABLE,
                      model=f"hopenet_{backbone} (random weights, seed {seed})")
        if mode == "torch":
            c.forward = torch_forward
            c.label = f"PyTorch original layout, eager ({backbone} {input_size}px)"
            c.notes["torch_threads"] = tr.torch.get_num_threads()
        else:
            net = get_hopenet(backbone, initialize=False, input_size=input_size)
            load_params_checked(net, weights, what="the reference weights")
            try:
                if mode == "fp32":
                    net.hybridize(static_alloc=True, static_shape=True)
                elif mode == "fused":
                    net = fuse_net(net, shape)
                elif mode == "int8":
                    net = quantize_net_int8(net, make_input(calib))
                else:
                    raise ValueError(f"unknown mode {mode!r}")
            except Exception as exc:  # an MXNet build without oneDNN/quantization: say so, keep the rest
                c.skipped = f"{mode} could not be built: {exc}"
                out.append(c)
                continue
            c.forward = _mx_forward(net)
            if mode in ("fp32", "int8"):
                x = make_input(2)
                ref = torch_forward(x)
                c.notes["max_angle_diff_vs_torch_deg"] = float(
                    np.abs(decode_bins(c.forward(x)) - decode_bins(ref)).max())
        out.append(c)
    return out


def model_candidates(base_info, modes: Sequence[str] = ("fp32", "fused", "int8")) -> List[Candidate]:
    """The default-model rows: the fp32 model and its shipped exports (`model_zoo.modes.list_modes`).

    A mode that is not shipped gets a row with the reason and how to build it; nothing is calibrated here.
    """
    from gazenet_app.model_zoo.modes import list_modes
    from gazenet_app.model_zoo.pose import load_pose_model
    from gazenet_app.model_zoo.store import resolve_model

    available = list_modes(base_info)
    card = base_info.card
    size = int(card.input_size)
    what = f"default model {base_info.name} ({card.backbone} {size}px)"
    out = []
    for mode in modes:
        info = available.get(mode)
        c = Candidate(mode, card.backbone, size, False, what, model=base_info.name)
        if info is None:
            c.skipped = (f"no {mode} export of {base_info.name} is installed; build it with "
                         f"`python scripts/build_fast_modes.py --model {base_info.name} --data DATASET`")
            out.append(c)
            continue
        est = load_pose_model(resolve_model(info.card_path))
        c.model = info.name
        c.forward = _mx_forward(est.net)
        if est.flip_average:  # the model reads every crop and its mirror: time the doubled batch per face
            c.forward = _flip_averaged(c.forward, est.card)
            c.notes["flip_average"] = True
        c.make_input = (lambda cd: (lambda n: network_input(cd, _crops(n, size, 7 + n))))(est.card)
        measured = info.card.mae_delta_deg
        c.mae_delta = 0.0 if mode == "fp32" else (
            "not measured (card has no mae_delta_deg)" if measured is None else measured)
        if mode != "fp32" and info.card.val_n is not None:
            c.notes["mae_delta_val_n"] = info.card.val_n
        out.append(c)
    return out


def measure_candidates(candidates: Sequence[Candidate], batches: Sequence[int] = (1, 8, 32), rounds: int = 30,
                       warmup: int = 3, reference: str = "torch", burst: int = 1,
                       progress: Optional[Callable[[str], None]] = None) -> List[Dict[str, Any]]:
    """Time every runnable candidate at each batch size in paired rounds; rows for the JSON/table.

    Rounds shrink with the batch (at least 3) so a ResNet-50 batch of 32 does not take minutes; the
    ratio to the torch reference is the median of per-round ratios at the same batch.
    """
    runnable = [c for c in candidates if c.skipped is None and c.forward is not None]
    ref = next((c for c in runnable if c.mode == reference), None)
    rows: List[Dict[str, Any]] = []
    for batch in batches:
        n_rounds = max(3, int(round(rounds / max(1, batch) ** 0.5))) if batch > 1 else rounds
        inputs = {id(c): c.make_input(batch) for c in runnable}
        calls = {str(i): (lambda c=c: c.forward(inputs[id(c)])) for i, c in enumerate(runnable)}
        if progress is not None:
            progress(f"batch {batch}: {len(calls)} candidates x {n_rounds} rounds")
        times = paired_rounds(calls, n_rounds, warmup=warmup, burst=burst)
        ref_times = times.get(str(runnable.index(ref))) if ref is not None else None
        for i, c in enumerate(runnable):
            t = times[str(i)]
            med = median(t)
            rows.append({
                "mode": c.mode, "backbone": c.backbone, "input": c.input, "batch": batch,
                "ms_per_face": 1000.0 * med / batch, "faces_per_s": batch / med if med > 0 else None,
                "ratio_to_torch": (paired_ratio(t, ref_times) if ref_times is not None and c is not ref
                                   else (1.0 if c is ref else None)),
                "same_architecture": c.same_architecture, "mae_delta": c.mae_delta,
                "what": c.label if c.mode == "torch" else f"{c.label}: {c.mode}", "model": c.model,
                "rounds": len(t), "ms_per_call_min": 1000.0 * min(t), "ms_per_call_max": 1000.0 * max(t),
                **({"notes": c.notes} if c.notes else {}),
            })
    for c in candidates:
        if c.skipped is not None:
            rows.append({"mode": c.mode, "backbone": c.backbone, "input": c.input, "batch": None,
                         "ms_per_face": None, "faces_per_s": None, "ratio_to_torch": None,
                         "same_architecture": c.same_architecture, "mae_delta": c.mae_delta,
                         "what": f"{c.label}: {c.mode}", "model": c.model, "skipped": c.skipped})
    return rows
