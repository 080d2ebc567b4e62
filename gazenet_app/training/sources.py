"""Readers of the face sources the teacher labels: MTFL's labels.csv, the UMIST/ORL/IMM set, plain images.

Each yields `SourceRecord`s: an image path, the human five landmarks where known (image pixels, image-left eye,
image-right eye, nose, mouth left, mouth right: MTFL's README order), the dataset's split and identity.
"""

from __future__ import annotations

import csv
import re
import tarfile
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, List, Optional

import numpy as np

from gazenet_app.core.errors import SourceError
from gazenet_app.core.video import IMAGE_EXTENSIONS
from gazenet_app.training.paths import data_dir

__all__ = ["SourceRecord", "detect_kind", "read_source"]


@dataclass(frozen=True)
class SourceRecord:
    """One face to label: `landmarks` is 5x2 pixels or None (then the mesh gives them)."""

    image: Path
    orig: str
    source: str
    identity: str
    split: str
    landmarks: Optional[np.ndarray] = None
    pose_class: str = ""


def detect_kind(path: Path) -> str:
    """`mtfl`, `facedb` (UMIST/ORL/IMM labels.csv), `images` (folder/image/list file)."""
    path = Path(path)
    if path.suffix.lower() == ".csv":
        with open(path, newline="") as fh:
            header = next(csv.reader(fh), [])
        if "x_leye" in header and "pose_class" in header:
            return "mtfl"
        if "database" in header and "subject" in header:
            return "facedb"
        raise SourceError(f"{path}: unknown CSV (expected MTFL's or the face databases' labels.csv)")
    return "images"


def _mtfl_lfw_dir(root: Path) -> Path:
    """MTFL's lfw_5590 images, unpacked once from its tar into the data dir (../shared is read-only)."""
    if (root / "lfw_5590").is_dir():
        return root
    dest = data_dir() / "sources" / "mtfl_80px"
    if not (dest / "lfw_5590").is_dir():
        tar = root / "lfw_5590.tar"
        if not tar.is_file():
            raise SourceError(f"{tar} not found: MTFL's LFW images are packed there")
        dest.mkdir(parents=True, exist_ok=True)
        with tarfile.open(tar) as tf:
            tf.extractall(dest / ".unpack")
        (dest / ".unpack" / "lfw_5590").rename(dest / "lfw_5590")
    return dest


def _mtfl_identity(rel: str) -> str:
    sub, name = rel.split("/", 1)
    stem = Path(name).stem
    if sub == "lfw_5590":  # Firstname_Lastname_0001 -> the person
        return "lfw:" + re.sub(r"_\d+$", "", stem)
    if sub == "net_7876":  # <image>_<k>_<m>: faces of one web photo share the first number
        return "net:" + stem.split("_")[0]
    return f"{sub.lower()}:{stem}"


def _read_mtfl(path: Path, split: str) -> Iterator[SourceRecord]:
    root = path.parent
    lfw_root = None
    with open(path, newline="") as fh:
        rows = list(csv.DictReader(fh))
    for r in rows:
        if split != "all" and r["split"] != split:
            continue
        rel = r["path"]
        if rel.startswith("lfw_5590/"):
            lfw_root = lfw_root or _mtfl_lfw_dir(root)
            img = lfw_root / rel
        else:
            img = root / rel
        lm = np.array([[float(r[f"x_{k}"]), float(r[f"y_{k}"])]
                       for k in ("leye", "reye", "nose", "lmouth", "rmouth")])
        src = "mtfl_" + rel.split("/", 1)[0].lower()
        yield SourceRecord(img, rel, src, _mtfl_identity(rel), r["split"], lm, r.get("pose_class", ""))


def _read_facedb(path: Path, databases: Optional[List[str]]) -> Iterator[SourceRecord]:
    root = path.parent
    with open(path, newline="") as fh:
        for r in csv.DictReader(fh):
            if databases and r["database"] not in databases:
                continue
            # No split of their own: labelled for evaluation, kept apart from training (split test).
            yield SourceRecord(root / r["path"], r["path"], r["database"].lower(),
                               f"{r['database'].lower()}:s{int(r['subject']):02d}", "test")


def _read_images(path: Path, source: str) -> Iterator[SourceRecord]:
    path = Path(path)
    if path.is_dir():
        files = sorted(p for p in path.rglob("*") if p.suffix.lower() in IMAGE_EXTENSIONS)
        base = path
    elif path.suffix.lower() in IMAGE_EXTENSIONS:
        files, base = [path], path.parent
    elif path.suffix.lower() == ".txt":
        files = [Path(line.strip()) for line in path.read_text().splitlines() if line.strip()]
        base = None
    else:
        raise SourceError(f"{path}: expected an image, a folder of images, a .txt list or a labels CSV")
    for f in files:
        rel = str(f.relative_to(base)) if base is not None else str(f)
        yield SourceRecord(f, rel, source, f"{source}:{rel}", "train")


def read_source(path: Path, split: str = "all", databases: Optional[List[str]] = None,
                source: str = "images") -> List[SourceRecord]:
    """All records of a source (MTFL csv, face-database csv, image/folder/list), filtered by MTFL split."""
    path = Path(path)
    if not path.exists():
        raise SourceError(f"{path}: no such file or folder")
    kind = detect_kind(path)
    if kind == "mtfl":
        return list(_read_mtfl(path, split))
    if kind == "facedb":
        return list(_read_facedb(path, databases))
    return list(_read_images(path, source))
