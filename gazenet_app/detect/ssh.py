"""The SSH network detector (gazenet_app.model_zoo.ssh) behind the FaceDetector interface.

Loads trained weights by name through the model store (a `kind: detector` card whose `detector` dict names
the trunk and channels) or from a `.params` file (`trunk=` says which net it is). The frame is scaled so its
longer side is the preset's `max_side`, padded to multiples of 32, normalised as ImageNet; anchors are decoded
(vectorised), scored by softmax, cut at the preset's score and merged by NMS at IoU 0.3. SSH is trained on
gazenet's canonical boxes, so `to_canonical` returns its boxes unchanged.
"""

from __future__ import annotations

from pathlib import Path
from typing import Dict, List, Optional, Sequence

import cv2
import numpy as np

from gazenet_app.core.errors import DetectorError, ModelNotFoundError
from gazenet_app.core.transforms import normalize
from gazenet_app.core.types import FaceBox
from gazenet_app.detect.base import DetectorPreset, FaceDetector
from gazenet_app.detect.nms import nms

__all__ = ["SshDetector", "SSH_PRESETS", "load_ssh_net"]

SSH_PRESETS: Dict[str, DetectorPreset] = {
    p.name: p for p in (
        DetectorPreset("accurate", min_face=16, max_side=640, score_threshold=0.5,
                       description="frame scaled to 640 px, all three modules (faces from 16 px there)"),
        DetectorPreset("live", min_face=32, max_side=320, score_threshold=0.5,
                       description="frame scaled to 320 px"),
    )
}


def load_ssh_net(model: str, trunk: Optional[str] = None, channels: Optional[Sequence[int]] = None):
    """(net, card or None): an SSH net with weights from a store name, a card .json or a .params file."""
    import mxnet as mx

    from gazenet_app.model_zoo.ssh import get_ssh
    from gazenet_app.model_zoo.weights_io import load_params_checked

    p = Path(model)
    card = None
    if p.suffix == ".params":
        if not p.is_file():
            raise ModelNotFoundError(f"SSH weights not found: {p} (train them with `gazenet train-detector`)")
        params = p
    else:
        from gazenet_app.model_zoo.store import resolve_model

        info = resolve_model(model)
        if info.kind != "detector":
            raise ModelNotFoundError(f"{model!r} is a {info.kind} model, not a face detector")
        card = info.card
        params = info.params_path
        trunk = trunk or card.detector.get("trunk")
        channels = channels or card.detector.get("channels")
    net = get_ssh(trunk or "mobilenetv2", channels=channels)
    net(mx.nd.zeros((1, 3, 64, 64)))  # resolve deferred shapes so every parameter can be checked
    load_params_checked(net, params, ctx=mx.cpu())
    net.hybridize(static_alloc=True)
    return net, card


class SshDetector(FaceDetector):
    """SSH (MobileNetV2 or VGG-16 trunk) with trained weights: `model` is a store name or a .params path."""

    name = "ssh"
    presets = SSH_PRESETS

    def __init__(self, preset: Optional[str] = None, *, model: Optional[str] = None, trunk: Optional[str] = None,
                 channels: Optional[Sequence[int]] = None, nms_threshold: float = 0.3, net=None, **kw) -> None:
        super().__init__(preset, **kw)
        self._model = model
        if net is None:
            if model is None:
                from gazenet_app.model_zoo.store import list_models

                found = [m.name for m in list_models(kind="detector") if m.card.architecture.startswith("ssh")]
                if not found:
                    raise ModelNotFoundError("no trained SSH detector is installed: train one with "
                                             "`gazenet train-detector` and pass its .params with model=")
                model = self._model = found[0]
            try:
                net, _ = load_ssh_net(model, trunk, channels)
            except ImportError as e:
                raise DetectorError(f"the SSH detector needs MXNet: {e}") from None
        self._net = net
        self._nms_threshold = float(nms_threshold)
        self._anchor_cache: Dict[tuple, np.ndarray] = {}

    def _anchors(self, h: int, w: int) -> np.ndarray:
        from gazenet_app.model_zoo.ssh import ssh_anchors

        key = (h, w)
        if key not in self._anchor_cache:
            self._anchor_cache[key] = ssh_anchors(h, w)[0]
        return self._anchor_cache[key]

    def _detect(self, rgb: np.ndarray) -> List[FaceBox]:
        import mxnet as mx

        from gazenet_app.model_zoo.ssh import decode_boxes

        h, w = rgb.shape[:2]
        # the base class already shrank frames above max_side; pad to multiples of 32 (bottom/right)
        ph, pw = max(32, -(-h // 32) * 32), max(32, -(-w // 32) * 32)
        padded = cv2.copyMakeBorder(rgb, 0, ph - h, 0, pw - w, cv2.BORDER_CONSTANT, value=(0, 0, 0))
        x = mx.nd.array(normalize(padded[None]))
        logits, deltas = self._net(x)
        logits, deltas = logits[0].asnumpy(), deltas[0].asnumpy()
        z = logits - logits.max(axis=1, keepdims=True)
        prob = np.exp(z[:, 1]) / np.exp(z).sum(axis=1)
        keep = np.nonzero(prob >= self.settings.score_threshold)[0]
        if keep.size == 0:
            return []
        boxes = decode_boxes(deltas[keep], self._anchors(ph, pw)[keep])
        sides = np.minimum(boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1])
        ok = sides >= 0.75 * self.settings.min_face
        boxes, scores = boxes[ok], prob[keep][ok]
        idx = nms(boxes, scores, self._nms_threshold, top_k=500)
        return [FaceBox(*map(float, boxes[i]), float(scores[i])) for i in idx]

    def to_canonical(self, box: FaceBox) -> FaceBox:
        """The box itself: SSH is trained on gazenet's canonical boxes."""
        return box

    def metadata(self) -> dict:
        """Provenance: preset values, the weights used and the NMS threshold."""
        meta = super().metadata()
        meta.update({"model": self._model, "nms_threshold": self._nms_threshold})
        return meta
