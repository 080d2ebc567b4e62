"""Pre-decoded training data: one uint8 memmap of context crops + label arrays, and a threaded batch loader.

On a 2-core machine JPEG/PNG decoding competes with training, so each dataset is decoded once into
`<pack>/images.npy` (N, S, S, 3): a square region of side `context` x the face box around its centre, resized
to S. Boxes and landmarks are stored in that frame, so augmentation (`training.augment`) works on the pack
exactly as on the original image. `labels.npz` holds poses, boxes, landmarks, split, source, identity,
synthetic; `pack.json` records what was packed (re-packed only when the labels file changes).
"""

from __future__ import annotations

import json
import queue
import threading
import time
from pathlib import Path
from typing import Dict, Iterator, List, Optional, Sequence, Tuple, Union

import numpy as np

from gazenet_app.core.results import write_sidecar
from gazenet_app.core.transforms import crop_face, get_crop_preset, normalize
from gazenet_app.training.augment import AugmentConfig, augment_sample, crop_region, landmarks_in_crop
from gazenet_app.training.losses import LANDMARK_COLUMNS
from gazenet_app.training.readers import DatasetError, PoseTable

__all__ = [
    "PACK_VERSION",
    "pack_table",
    "ensure_pack",
    "PackedDataset",
    "BatchLoader",
    "NO_TURN",
    "turn_from_class",
    "landmark_targets",
    "measure_loader",
]

PACK_VERSION = 1


#: `turn` of a row without a human pose class (outside -2..2; a mirror flip keeps it outside).
NO_TURN = 9.0


def turn_from_class(pose_class: np.ndarray) -> np.ndarray:
    """MTFL's human class 1..5 as a signed turn 2..-2 (> 0: nose toward image-left, the sign of yaw);
    rows without a class get NO_TURN."""
    c = np.asarray(pose_class)
    return np.where((c >= 1) & (c <= 5), 3.0 - c, NO_TURN).astype(np.float32)


def landmark_targets(lm: Optional[np.ndarray], size: int) -> np.ndarray:
    """The landmark term's 11 target columns (`losses.LandmarkLoss`) of crop-pixel landmarks (5, 2) or None:
    x1..x5, y1..y5 in percent of the crop side from its centre, then 1 (or eleven zeros without landmarks)."""
    out = np.zeros(LANDMARK_COLUMNS, dtype=np.float32)
    if lm is not None:
        out[:10] = (np.asarray(lm, dtype=np.float32).T.reshape(10) / float(size) - 0.5) * 100.0
        out[10] = 1.0
    return out


def _context_region(box: np.ndarray, context: float) -> Tuple[float, float, float, float]:
    x1, y1, x2, y2 = (float(v) for v in box)
    cx, cy = (x1 + x2) / 2.0, (y1 + y2) / 2.0
    h = context * max(x2 - x1, y2 - y1) / 2.0
    return (cx - h, cy - h, cx + h, cy + h)


def pack_table(table: PoseTable, out_dir: Union[str, Path], size: int = 128, context: float = 2.0,
               progress: bool = True, fingerprint: Optional[dict] = None) -> Path:
    """Decode every row of `table` once into `out_dir` (images.npy memmap + labels.npz + pack.json)."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    n = len(table)
    if n == 0:
        raise DatasetError("nothing to pack: the dataset has no rows")
    if not np.isfinite(table.boxes).all():
        raise DatasetError("cannot pack rows without face boxes (the dataset gives none; use --detect)")
    tmp = out_dir / "images.npy.partial"
    images = np.lib.format.open_memmap(str(tmp), mode="w+", dtype=np.uint8, shape=(n, size, size, 3))
    boxes = np.zeros((n, 4), dtype=np.float32)
    lms = np.full((n, 5, 2), np.nan, dtype=np.float32)
    it = range(n)
    if progress:
        from tqdm import tqdm

        it = tqdm(it, desc=f"packing {out_dir.name}", unit="img", mininterval=1.0)
    for i in it:
        rgb = table.load_image(i)
        region = _context_region(table.boxes[i], context)
        images[i] = crop_face(rgb, region, size)
        s = size / (region[2] - region[0])
        boxes[i] = (table.boxes[i] - np.array(region[:2] * 2, dtype=np.float32)) * s
        lms[i] = (table.landmarks[i] - np.array(region[:2], dtype=np.float32)) * s
    images.flush()
    del images
    np.savez(out_dir / "labels.npz", poses=table.poses, boxes=boxes, landmarks=lms,
             split=np.array(table.split), source=np.array(table.source), identity=np.array(table.identity),
             synthetic=table.synthetic, paths=np.array(table.paths), pose_class=table.pose_class)
    tmp.replace(out_dir / "images.npy")
    meta = {"version": PACK_VERSION, "n": n, "size": size, "context": context, "root": str(table.root),
            "fingerprint": fingerprint or {}, "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    write_sidecar(out_dir / "pack.json", meta)
    return out_dir


def _fingerprint(labels_csv: Path) -> dict:
    st = labels_csv.stat()
    return {"labels": str(labels_csv.resolve()), "size": st.st_size, "mtime": st.st_mtime}


def ensure_pack(data_dir: Union[str, Path], size: int = 128, context: float = 2.0,
                out_dir: Optional[Union[str, Path]] = None, progress: bool = True) -> Path:
    """The pack of a labels.csv dataset folder (`<data_dir>/packed-<size>` unless `out_dir`), made or
    re-made when missing or stale."""
    from gazenet_app.training.readers import read_labels_csv

    data_dir = Path(data_dir)
    labels = data_dir / "labels.csv"
    if not labels.is_file():
        raise DatasetError(f"no labels.csv in {data_dir}; make the data with `gazenet data ...` first")
    out = Path(out_dir) if out_dir else data_dir / f"packed-{size}"
    fp = _fingerprint(labels)
    meta_path = out / "pack.json"
    if meta_path.is_file() and (out / "images.npy").is_file():
        meta = json.loads(meta_path.read_text())
        if (meta.get("version") == PACK_VERSION and meta.get("fingerprint") == fp
                and meta.get("size") == size and meta.get("context") == context):
            return out
    return pack_table(read_labels_csv(data_dir), out, size=size, context=context, progress=progress,
                      fingerprint=fp)


class PackedDataset:
    """One or more packs seen as one dataset, optionally restricted to some splits (memory-mapped)."""

    def __init__(self, packs: Union[str, Path, Sequence[Union[str, Path]]],
                 split: Optional[Union[str, Sequence[str]]] = None):
        packs = [packs] if isinstance(packs, (str, Path)) else list(packs)
        if not packs:
            raise DatasetError("no packed datasets given")
        self.images: List[np.ndarray] = []
        parts = []
        wanted = None if split is None else ({split} if isinstance(split, str) else set(split))
        for k, p in enumerate(packs):
            p = Path(p)
            if not (p / "images.npy").is_file():
                raise DatasetError(f"{p} is not a packed dataset (no images.npy)")
            self.images.append(np.load(p / "images.npy", mmap_mode="r"))
            z = np.load(p / "labels.npz")
            sel = np.ones(len(z["poses"]), dtype=bool) if wanted is None else np.isin(z["split"], list(wanted))
            idx = np.nonzero(sel)[0]
            cls = z["pose_class"][idx] if "pose_class" in z.files else np.zeros(len(idx), dtype=np.int64)
            parts.append({"pack": np.full(len(idx), k, dtype=np.int32), "row": idx.astype(np.int64),
                          "turn": turn_from_class(cls),
                          "poses": z["poses"][idx], "boxes": z["boxes"][idx], "landmarks": z["landmarks"][idx],
                          "source": z["source"][idx], "identity": z["identity"][idx],
                          "synthetic": z["synthetic"][idx], "split": z["split"][idx]})
        cat = {k: np.concatenate([q[k] for q in parts]) for k in parts[0]}
        self.pack_index, self.rows = cat["pack"], cat["row"]
        self.poses, self.boxes, self.landmarks = cat["poses"], cat["boxes"], cat["landmarks"]
        self.source, self.identity = cat["source"], cat["identity"]
        self.synthetic, self.split = cat["synthetic"], cat["split"]
        self.turn = cat["turn"]  # signed human turn class per row (NO_TURN without one)
        self.paths = [str(Path(p)) for p in packs]

    def __len__(self) -> int:
        return len(self.rows)

    def image(self, i: int) -> np.ndarray:
        """Row i's packed context image (S, S, 3) uint8 RGB."""
        return np.asarray(self.images[self.pack_index[i]][self.rows[i]])


def _mixed_order(rng: np.random.Generator, real: np.ndarray, fraction: Optional[float],
                 fixed: Sequence[Tuple[np.ndarray, float]] = ()) -> np.ndarray:
    """len(real) row indices drawn with replacement so that (in expectation) each `fixed` group (a row mask and a
    share, e.g. one source's rows) makes its share, and of the remaining draws real rows make `fraction` (None:
    uniform over the remaining rows)."""
    n = len(real)
    p = np.zeros(n, dtype=np.float64)
    rest = np.ones(n, dtype=bool)
    for mask, share in fixed:
        mask = np.asarray(mask, dtype=bool) & rest
        if not 0.0 < share < 1.0 or not mask.any():
            raise DatasetError(f"a source share must be within 0..1 and name rows of the data, got {share} "
                               f"for {int(mask.sum())} rows")
        p[mask] = share / mask.sum()
        rest &= ~mask
    left = 1.0 - p.sum()
    if left <= 0 or not rest.any():
        raise DatasetError("the source shares leave nothing for the other rows")
    if fraction is None:
        p[rest] = left / rest.sum()
    else:
        if not 0.0 <= fraction <= 1.0:
            raise DatasetError(f"real fraction must be within 0..1, got {fraction}")
        r, s = rest & real, rest & ~real
        if (fraction > 0 and not r.any()) or (fraction < 1 and not s.any()):
            raise DatasetError(f"real fraction {fraction} asked of a dataset with {int(r.sum())} real rows of "
                               f"{int(rest.sum())}")
        p[r] = left * fraction / max(int(r.sum()), 1)
        p[s] = left * (1.0 - fraction) / max(int(s.sum()), 1)
    return rng.choice(n, size=n, replace=True, p=p / p.sum())


class BatchLoader:
    """Batches of (uint8 NHWC crops, float32 (N, 3) poses) from a PackedDataset, prepared in a thread.

    With `with_turn` the labels are (N, 4): the pose and the signed human turn class (flipped with the crop).
    With `with_landmarks` 11 more columns follow: the five landmarks in the crop (`landmark_targets`: moved,
    scaled and flipped with it) for the training-only landmark head.

    `augment=None` gives the deterministic test crops. Order is a permutation seeded by (seed, epoch), so a
    resumed run sees the same batches; with `real_fraction` it is instead a draw (with replacement, same seeding)
    in which real rows (synthetic == 0) make that share of the epoch, whatever their share of the data;
    `source_fractions` ({source: share}) draws each named source's rows as a fixed share first (real_fraction then
    splits the rest);
    `start_batch` skips the batches already trained; `shard`=(rank, n) gives worker `rank` every n-th
    batch-sized slice (dist kvstore); every shard has the same length.
    """

    def __init__(self, dataset: PackedDataset, batch_size: int, size: int, preset: str = "gazenet",
                 augment: Optional[AugmentConfig] = None, shuffle: bool = True, seed: int = 0, epoch: int = 0,
                 start_batch: int = 0, drop_last: bool = True, prefetch: int = 3,
                 shard: Tuple[int, int] = (0, 1), max_batches: Optional[int] = None, with_turn: bool = False,
                 real_fraction: Optional[float] = None, with_landmarks: bool = False,
                 source_fractions: Optional[Dict[str, float]] = None):
        self.dataset = dataset
        self.with_turn = bool(with_turn)
        self.with_landmarks = bool(with_landmarks)
        self.batch_size = int(batch_size)
        self.size = int(size)
        self.preset = preset
        self.augment = augment
        self.seed, self.epoch = int(seed), int(epoch)
        self.start_batch = int(start_batch)
        self.prefetch = max(1, int(prefetch))
        rng = np.random.default_rng([self.seed, self.epoch])
        if not shuffle:
            order = np.arange(len(dataset))
        elif real_fraction is None and not source_fractions:
            order = rng.permutation(len(dataset))
        else:
            fixed = [(np.asarray(dataset.source) == name, float(share))
                     for name, share in sorted((source_fractions or {}).items())]
            order = _mixed_order(rng, np.asarray(dataset.synthetic) == 0,
                                 None if real_fraction is None else float(real_fraction), fixed)
        rank, nshard = shard
        nb = len(order) // self.batch_size if drop_last else -(-len(order) // self.batch_size)
        nb = nb // nshard
        if max_batches is not None:
            nb = min(nb, int(max_batches))
        self._batches = [order[(b * nshard + rank) * self.batch_size:(b * nshard + rank + 1) * self.batch_size]
                         for b in range(nb)]

    def __len__(self) -> int:
        return len(self._batches)

    def _make(self, b: int):
        idx = self._batches[b]
        crops = np.empty((len(idx), self.size, self.size, 3), dtype=np.uint8)
        n_pose = 4 if self.with_turn else 3
        poses = np.empty((len(idx), n_pose + (LANDMARK_COLUMNS if self.with_landmarks else 0)), dtype=np.float32)
        rng = np.random.default_rng([self.seed, self.epoch, b, 7])
        ds = self.dataset
        for j, i in enumerate(idx):
            img = ds.image(i)
            label = np.append(ds.poses[i], ds.turn[i]) if self.with_turn else ds.poses[i]
            if self.augment is None:  # the test crop (`augment.eval_crop`), its region kept for the landmarks
                region = crop_region(ds.boxes[i], get_crop_preset(self.preset))
                crops[j] = crop_face(img, region, self.size)
                poses[j, :n_pose] = label
                lm = landmarks_in_crop(ds.landmarks[i], region, self.size) if self.with_landmarks else None
            else:
                crops[j], poses[j, :n_pose], lm = augment_sample(img, ds.boxes[i], label, rng, self.augment,
                                                                 ds.landmarks[i])
            if self.with_landmarks:
                poses[j, n_pose:] = landmark_targets(lm, self.size)
        return crops, poses

    def __iter__(self) -> Iterator[Tuple[np.ndarray, np.ndarray]]:
        q: "queue.Queue" = queue.Queue(maxsize=self.prefetch)
        stop = threading.Event()

        def work():
            try:
                for b in range(self.start_batch, len(self._batches)):
                    if stop.is_set():
                        return
                    q.put(self._make(b))
                q.put(None)
            except BaseException as exc:  # handed to the consumer, re-raised there
                q.put(exc)

        t = threading.Thread(target=work, name="gazenet-batch-loader", daemon=True)
        t.start()
        try:
            while True:
                item = q.get()
                if item is None:
                    return
                if isinstance(item, BaseException):
                    raise item
                yield item
        finally:
            stop.set()
            while t.is_alive():
                try:
                    q.get_nowait()
                except queue.Empty:
                    t.join(timeout=0.05)


def measure_loader(dataset: PackedDataset, batch_size: int = 64, size: int = 112, batches: int = 20,
                   augment: Optional[AugmentConfig] = None) -> float:
    """Images per second of the loader alone (augmentation + normalisation, no network)."""
    loader = BatchLoader(dataset, batch_size, size, augment=augment or AugmentConfig(size=size),
                         max_batches=batches)
    t0 = time.perf_counter()
    n = 0
    for crops, _ in loader:
        normalize(crops)
        n += len(crops)
    return n / max(time.perf_counter() - t0, 1e-9)
