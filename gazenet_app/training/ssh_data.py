"""Face-detection data in WIDER FACE's annotation format: reader, writer, and a composite set built here.

WIDER format (`wider_face_train_bbx_gt.txt`): per image, its path relative to the images folder, the number
of faces n, then n lines `x y w h blur expression illumination invalid occlusion pose` (an image with no face
has n = 0 followed by one line of zeros). `invalid` = 1 marks a box to ignore.

No WIDER FACE exists on this machine, so `build_composite` makes a WIDER-format set by pasting real faces of
the *train split* of ../shared/data/faces_extra/mtfl_80px (net_7876 and lfw_5590; never AFLW/, the held-out
test set) at many scales, counts and positions onto procedural backgrounds; the true boxes are gazenet's
canonical boxes of the pasted faces (from their five landmarks), known by construction. Source faces are
split by a hash of their path, so the `val` composites use faces the `train` composites never show.
"""

from __future__ import annotations

import csv
import hashlib
import tarfile
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, List, Optional, Sequence, Tuple, Union

import cv2
import numpy as np

from gazenet_app.core.errors import GazenetError
from gazenet_app.core.transforms import canonical_box_from_landmarks

__all__ = ["WiderImage", "read_wider", "write_wider", "WiderDataset", "load_mtfl_train_faces", "build_composite",
           "photo_backgrounds", "DetectionDataError"]

PathLike = Union[str, Path]


class DetectionDataError(GazenetError):
    """A detection data set is missing or malformed; the message says what and where."""


@dataclass(frozen=True)
class WiderImage:
    """One annotated image: path relative to the images folder, boxes (N, 4) x1y1x2y2, ignore flags (N,)."""

    path: str
    boxes: np.ndarray
    ignore: np.ndarray


def read_wider(annotation_file: PathLike) -> List[WiderImage]:
    """Parse a WIDER FACE bbx_gt file; boxes become x1, y1, x2, y2; `invalid` boxes are flagged ignore."""
    p = Path(annotation_file)
    if not p.is_file():
        raise DetectionDataError(f"WIDER annotation file not found: {p}")
    lines = [ln.strip() for ln in p.read_text(encoding="utf-8").splitlines()]
    out: List[WiderImage] = []
    i = 0
    try:
        while i < len(lines):
            if not lines[i]:
                i += 1
                continue
            name = lines[i]
            n = int(lines[i + 1])
            rows = lines[i + 2:i + 2 + max(n, 1)]
            i += 2 + max(n, 1)
            vals = np.array([[float(v) for v in r.split()[:8]] for r in rows[:n]], dtype=np.float64).reshape(-1, 8)
            boxes = np.column_stack([vals[:, 0], vals[:, 1], vals[:, 0] + vals[:, 2], vals[:, 1] + vals[:, 3]])
            out.append(WiderImage(name, boxes, vals[:, 7] > 0))
    except (ValueError, IndexError) as e:
        raise DetectionDataError(f"{p}: malformed WIDER annotation near line {i + 1}: {e}") from None
    return out


def write_wider(images: Sequence[WiderImage], annotation_file: PathLike) -> Path:
    """Write images' boxes in WIDER format (blur..pose written as 0, invalid from `ignore`)."""
    p = Path(annotation_file)
    lines = []
    for im in images:
        lines.append(im.path)
        lines.append(str(len(im.boxes)))
        if len(im.boxes) == 0:
            lines.append("0 0 0 0 0 0 0 0 0 0")
        for b, ig in zip(im.boxes, im.ignore):
            lines.append(f"{b[0]:.1f} {b[1]:.1f} {b[2] - b[0]:.1f} {b[3] - b[1]:.1f} 0 0 0 {int(ig)} 0 0")
    p.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return p


class WiderDataset:
    """A WIDER-format set: `len`, `[i] -> (rgb, boxes, ignore)`; images are read on demand."""

    def __init__(self, annotation_file: PathLike, images_dir: PathLike) -> None:
        self.images_dir = Path(images_dir)
        if not self.images_dir.is_dir():
            raise DetectionDataError(f"images folder not found: {self.images_dir}")
        self.items = read_wider(annotation_file)
        if not self.items:
            raise DetectionDataError(f"no images listed in {annotation_file}")

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, i: int) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
        from gazenet_app.core.video import read_image

        it = self.items[i]
        return read_image(self.images_dir / it.path), it.boxes, it.ignore


# ---------------------------------------------------------------------------------------------- composites

def _split_of(path: str, val_fraction: float) -> str:
    h = int(hashlib.sha1(path.encode("utf-8")).hexdigest()[:8], 16)
    return "val" if (h % 1000) < val_fraction * 1000 else "train"


def load_mtfl_train_faces(mtfl_dir: PathLike, split: str, val_fraction: float = 0.1,
                          limit: Optional[int] = None) -> List[Tuple[np.ndarray, np.ndarray]]:
    """(RGB 80x80 image, landmarks (5, 2)) of MTFL's train split (never AFLW/), the `train` or `val` share."""
    root = Path(mtfl_dir)
    labels = root / "labels.csv"
    if not labels.is_file():
        raise DetectionDataError(f"MTFL labels not found: {labels}")
    rows = []
    with open(labels, newline="", encoding="utf-8") as f:
        for r in csv.DictReader(f):
            if r["split"] != "train" or r["path"].startswith("AFLW/"):
                continue  # AFLW is the held-out test set: never used here
            if _split_of(r["path"], val_fraction) != split:
                continue
            lm = np.array([[float(r[f"x_{k}"]), float(r[f"y_{k}"])] for k in
                           ("leye", "reye", "nose", "lmouth", "rmouth")])
            rows.append((r["path"], lm))
    rows.sort(key=lambda t: t[0])
    if limit:
        rng = np.random.default_rng(0)
        rows = [rows[i] for i in sorted(rng.choice(len(rows), size=min(limit, len(rows)), replace=False))]
    tar = None
    tar_path = root / "lfw_5590.tar"
    out = []
    try:
        for path, lm in rows:
            if path.startswith("lfw_5590/"):
                if tar is None:
                    if not tar_path.is_file():
                        continue
                    tar = tarfile.open(tar_path)
                try:
                    data = tar.extractfile(path).read()
                except (KeyError, AttributeError):
                    continue
                buf = np.frombuffer(data, np.uint8)
            else:
                fp = root / path
                if not fp.is_file():
                    continue
                buf = np.fromfile(str(fp), np.uint8)
            img = cv2.imdecode(buf, cv2.IMREAD_COLOR)
            if img is None:
                continue
            out.append((cv2.cvtColor(img, cv2.COLOR_BGR2RGB), lm))
    finally:
        if tar is not None:
            tar.close()
    if not out:
        raise DetectionDataError(f"no MTFL train-split faces could be read under {root}")
    return out


def _background(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    kind = rng.integers(0, 3)
    if kind == 0:  # coloured noise blurred at a random scale
        small = rng.integers(0, 255, size=(max(2, h // int(rng.integers(4, 40))), max(2, w // int(rng.integers(4, 40))), 3))
        bg = cv2.resize(small.astype(np.uint8), (w, h), interpolation=cv2.INTER_CUBIC)
    elif kind == 1:  # gradient with shapes
        a, b = rng.integers(0, 255, size=3), rng.integers(0, 255, size=3)
        t = np.linspace(0, 1, w)[None, :, None]
        bg = np.broadcast_to((a * (1 - t) + b * t), (h, w, 3)).astype(np.uint8).copy()
        for _ in range(int(rng.integers(3, 15))):
            c = tuple(int(v) for v in rng.integers(0, 255, size=3))
            p1 = (int(rng.integers(0, w)), int(rng.integers(0, h)))
            if rng.random() < 0.5:
                cv2.rectangle(bg, p1, (int(rng.integers(0, w)), int(rng.integers(0, h))), c, -1)
            else:
                cv2.circle(bg, p1, int(rng.integers(3, max(4, w // 4))), c, -1)
    else:  # stripes/texture
        period = int(rng.integers(3, 30))
        x = np.arange(w)[None, :] + np.arange(h)[:, None] * rng.uniform(-1, 1)
        s = (np.sin(2 * np.pi * x / period) * 0.5 + 0.5)[..., None]
        a, b = rng.integers(0, 255, size=3), rng.integers(0, 255, size=3)
        bg = (a * s + b * (1 - s)).astype(np.uint8)
    noise = rng.normal(0, rng.uniform(0, 8), size=bg.shape)
    return np.clip(bg.astype(np.float64) + noise, 0, 255).astype(np.uint8)


def photo_backgrounds(paths: Sequence[PathLike], size: int = 256, per_photo: int = 40, seed: int = 0,
                      margin: float = 1.5) -> List[np.ndarray]:
    """Face-free size x size crops of real photos (faces found by MTCNN-accurate, widened by `margin`, avoided).

    Real clutter (clothes, hands, furniture, text) teaches the detector what is *not* a face; the procedural
    backgrounds alone leave it firing on such things in real photos.
    """
    from gazenet_app.core.video import read_image
    from gazenet_app.detect.registry import get_detector

    det = get_detector("mtcnn", "accurate", min_face=12)
    rng = np.random.default_rng(seed)
    crops: List[np.ndarray] = []
    for path in paths:
        rgb = read_image(path)
        h, w = rgb.shape[:2]
        mask = np.zeros((h, w), bool)
        for b in det.detect(rgb):
            cx, cy = b.center
            r = margin * max(b.width, b.height)
            mask[int(max(0, cy - r)):int(min(h, cy + r)), int(max(0, cx - r)):int(min(w, cx + r))] = True
        integral = np.pad(mask.astype(np.int64).cumsum(0).cumsum(1), ((1, 0), (1, 0)))
        got = 0
        for _ in range(per_photo * 20):
            side = int(rng.integers(size // 2, max(size // 2 + 1, min(h, w, 3 * size))))
            if side > min(h, w):
                continue
            y, x = int(rng.integers(0, h - side + 1)), int(rng.integers(0, w - side + 1))
            if integral[y + side, x + side] - integral[y, x + side] - integral[y + side, x] + integral[y, x]:
                continue
            crop = cv2.resize(rgb[y:y + side, x:x + side], (size, size), interpolation=cv2.INTER_AREA)
            crops.append(crop[:, ::-1].copy() if rng.random() < 0.5 else crop)
            got += 1
            if got >= per_photo:
                break
    return crops


def _paste_face(canvas: np.ndarray, face: np.ndarray, lm: np.ndarray, side: float, cx: float, cy: float,
                rng: np.random.Generator) -> Tuple[float, float, float, float]:
    """Paste the face so its canonical box has `side` and centre (cx, cy); returns that box."""
    c = canonical_box_from_landmarks(lm)
    k = side / c.width
    if rng.random() < 0.5:  # mirror
        face = face[:, ::-1]
        ccx = face.shape[1] - c.center[0]
    else:
        ccx = c.center[0]
    ccy = c.center[1]
    # whole 80x80 source placed so its canonical centre lands on (cx, cy), feathered elliptical alpha
    H, W = canvas.shape[:2]
    M = np.array([[k, 0, cx - k * ccx], [0, k, cy - k * ccy]], dtype=np.float64)
    warped = cv2.warpAffine(np.ascontiguousarray(face), M, (W, H), flags=cv2.INTER_LINEAR,
                            borderMode=cv2.BORDER_REFLECT)
    alpha = np.zeros((H, W), np.float32)
    ax, ay = 0.5 * side * rng.uniform(1.1, 1.35), 0.5 * side * rng.uniform(1.2, 1.5)
    cv2.ellipse(alpha, (int(round(cx)), int(round(cy))), (max(1, int(ax)), max(1, int(ay))), 0, 0, 360, 1.0, -1)
    alpha = cv2.GaussianBlur(alpha, (0, 0), max(0.8, side / 12.0))[..., None]
    gain = rng.uniform(0.7, 1.3)
    canvas[:] = np.clip(canvas * (1 - alpha) + np.clip(warped * gain, 0, 255) * alpha, 0, 255).astype(np.uint8)
    h = side / 2.0
    return (cx - h, cy - h, cx + h, cy + h)


def composite_images(faces: Sequence[Tuple[np.ndarray, np.ndarray]], n_images: int, size: int = 256,
                     min_side: float = 12.0, max_side: float = 160.0, max_faces: int = 8, seed: int = 0,
                     backgrounds: Sequence[np.ndarray] = ()) -> Iterator[Tuple[np.ndarray, np.ndarray]]:
    """Yield (RGB image, canonical boxes (N, 4)) composites with 0..max_faces faces each; half of them on
    `backgrounds` (face-free photo crops of the same size) when given, the rest on procedural ones."""
    rng = np.random.default_rng(seed)
    for _ in range(n_images):
        if len(backgrounds) and rng.random() < 0.5:
            canvas = backgrounds[int(rng.integers(0, len(backgrounds)))].copy()
        else:
            canvas = _background(rng, size, size)
        boxes: List[Tuple[float, float, float, float]] = []
        n = int(rng.integers(0, max_faces + 1)) if rng.random() > 0.05 else 0
        for _ in range(n):
            side = float(np.exp(rng.uniform(np.log(min_side), np.log(max_side))))
            for _attempt in range(10):
                cx = rng.uniform(side * 0.3, size - side * 0.3)
                cy = rng.uniform(side * 0.3, size - side * 0.3)
                cand = (cx - side / 2, cy - side / 2, cx + side / 2, cy + side / 2)
                if all(_overlap(cand, b) < 0.15 for b in boxes):
                    break
            else:
                continue
            img, lm = faces[int(rng.integers(0, len(faces)))]
            boxes.append(_paste_face(canvas, img, lm, side, cx, cy, rng))
        if rng.random() < 0.3:
            canvas = cv2.GaussianBlur(canvas, (0, 0), rng.uniform(0.5, 1.2))
        b = np.array(boxes, dtype=np.float64).reshape(-1, 4)
        yield canvas, b


def _overlap(a, b) -> float:
    iw = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    ih = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = iw * ih
    return inter / min((a[2] - a[0]) * (a[3] - a[1]), (b[2] - b[0]) * (b[3] - b[1]))


def build_composite(out_dir: PathLike, mtfl_dir: PathLike, n_train: int = 2000, n_val: int = 300,
                    size: int = 256, seed: int = 0, face_limit: Optional[int] = None,
                    background_photos: Sequence[PathLike] = ()) -> dict:
    """Write a WIDER-format composite set: out/images/{train,val}/*.jpg + wider_face_{train,val}_bbx_gt.txt.

    `background_photos`: photos whose face-free regions become half of the *train* backgrounds (the val
    composites keep procedural backgrounds, so the two stay comparable with earlier runs).
    """
    out = Path(out_dir)
    summary = {}
    bgs = photo_backgrounds(background_photos, size=size, seed=seed) if background_photos else []
    if bgs:
        summary["photo_backgrounds"] = {"photos": [Path(p).name for p in background_photos], "crops": len(bgs)}
    for split, n, s in (("train", n_train, seed), ("val", n_val, seed + 1)):
        if n <= 0:
            continue
        faces = load_mtfl_train_faces(mtfl_dir, split, limit=face_limit)
        img_dir = out / "images" / split
        img_dir.mkdir(parents=True, exist_ok=True)
        items = []
        nfaces = 0
        for i, (rgb, boxes) in enumerate(composite_images(faces, n, size=size, seed=s,
                                                          backgrounds=bgs if split == "train" else ())):
            rel = f"{split}/{i:06d}.jpg"
            ok, buf = cv2.imencode(".jpg", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 92])
            buf.tofile(str(out / "images" / rel))
            items.append(WiderImage(rel, boxes, np.zeros(len(boxes), bool)))
            nfaces += len(boxes)
        write_wider(items, out / f"wider_face_{split}_bbx_gt.txt")
        summary[split] = {"images": n, "faces": nfaces, "source_faces": len(faces)}
    return summary
