"""Dataset readers: each returns a `PoseTable` in the project's convention (Hopenet's degrees, RGB images).

Formats:
- the project's own (`labels.csv` beside a folder of images; gazenet data issue, item 4),
- 300W-LP and AFLW2000-3D (`NAME.jpg` + `NAME.mat` with `Pose_Para` = pitch, yaw, roll in radians and
  `pt2d` (2, K) / `pt3d_68` (3, 68) landmarks): Hopenet reads these angles as they are, so do we,
- BIWI Kinect: either the FSA-Net / Biwi+ label files (`images`, `ypr` in degrees, `bbox` x,y,w,h) joined with
  the `faces_0` image folder, or the raw `XX/frame_NNNNN_pose.txt` rotation matrices converted as Hopenet does.

`filter_pose_range` applies the standard protocol filter (drop any |angle| > 99 degrees).
Boxes are canonical face boxes (`core.transforms.canonical_box_from_landmarks`) wherever five landmarks are
known, so training, evaluation and prediction see the same region; otherwise the dataset's own box is kept
and `box_kind` says so.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable, Dict, List, Optional, Sequence, Tuple, Union

import numpy as np

from gazenet_app.core.errors import GazenetError
from gazenet_app.core.transforms import canonical_box_from_landmarks
from gazenet_app.training.dataset_format import LABEL_COLUMNS, LABELS_NAME

__all__ = [
    "PoseTable",
    "DatasetError",
    "LABEL_COLUMNS",
    "read_labels_csv",
    "write_labels_csv",
    "read_mat_folder",
    "read_300w_lp",
    "read_aflw2000",
    "read_biwi",
    "biwi_angles_from_matrix",
    "five_from_68",
    "five_from_aflw21",
    "filter_pose_range",
    "read_dataset",
    "get_reader_list",
]


PathLike = Union[str, Path]


class DatasetError(GazenetError):
    """A dataset folder or label file is missing or malformed; the message says which and what to do."""


@dataclass
class PoseTable:
    """Labelled faces, columnar: image paths relative to `root`, poses (N, 3) degrees yaw/pitch/roll,
    boxes (N, 4) x1,y1,x2,y2, landmarks (N, 5, 2) (NaN where unknown) and per-face metadata."""

    root: Path
    paths: List[str]
    poses: np.ndarray
    boxes: np.ndarray
    landmarks: np.ndarray
    source: List[str]
    identity: List[str]
    synthetic: np.ndarray
    split: List[str]
    box_kind: str = "canonical"
    meta: Dict[str, object] = field(default_factory=dict)
    pose_class: Optional[np.ndarray] = None  # MTFL's human 5-class pose label (1..5) where known, else 0

    def __post_init__(self) -> None:
        n = len(self.paths)
        self.poses = np.asarray(self.poses, dtype=np.float32).reshape(n, 3)
        self.boxes = np.asarray(self.boxes, dtype=np.float32).reshape(n, 4)
        self.landmarks = np.asarray(self.landmarks, dtype=np.float32).reshape(n, 5, 2)
        self.synthetic = np.asarray(self.synthetic, dtype=bool).reshape(n)
        self.pose_class = (np.zeros(n, dtype=np.int8) if self.pose_class is None
                           else np.asarray(self.pose_class, dtype=np.int8).reshape(n))
        for name in ("source", "identity", "split"):
            if len(getattr(self, name)) != n:
                raise ValueError(f"PoseTable column {name} has {len(getattr(self, name))} rows, expected {n}")

    def __len__(self) -> int:
        return len(self.paths)

    def subset(self, index) -> "PoseTable":
        """The rows selected by a boolean mask or an index array (a new table sharing nothing)."""
        idx = np.arange(len(self))[np.asarray(index)] if np.asarray(index).dtype == bool else np.asarray(
            index, dtype=np.int64)
        pick = lambda seq: [seq[i] for i in idx]  # noqa: E731
        return replace(self, paths=pick(self.paths), poses=self.poses[idx].copy(), boxes=self.boxes[idx].copy(),
                       landmarks=self.landmarks[idx].copy(), source=pick(self.source),
                       identity=pick(self.identity), synthetic=self.synthetic[idx].copy(),
                       split=pick(self.split), meta=dict(self.meta), pose_class=self.pose_class[idx].copy())

    def with_split(self, split: Optional[Union[str, Sequence[str]]]) -> "PoseTable":
        """Rows whose split is `split` (a name or several); None keeps all."""
        if split is None:
            return self
        wanted = {split} if isinstance(split, str) else set(split)
        return self.subset(np.array([s in wanted for s in self.split], dtype=bool))

    def image_path(self, i: int) -> Path:
        """Absolute path of row i's image."""
        return self.root / self.paths[i]

    def load_image(self, i: int) -> np.ndarray:
        """Row i's image as RGB uint8 (raises DatasetError when it cannot be read)."""
        import cv2

        p = self.image_path(i)
        bgr = cv2.imread(str(p), cv2.IMREAD_COLOR)
        if bgr is None:
            raise DatasetError(f"cannot read image {p}")
        return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)


def _table(root: Path, rows: List[dict], box_kind: str = "canonical", **meta) -> PoseTable:
    nan5 = np.full((5, 2), np.nan, dtype=np.float32)
    return PoseTable(
        root=Path(root),
        paths=[r["path"] for r in rows],
        poses=np.array([r["pose"] for r in rows], dtype=np.float32).reshape(-1, 3),
        boxes=np.array([r["box"] for r in rows], dtype=np.float32).reshape(-1, 4),
        landmarks=np.array([r.get("landmarks", nan5) if r.get("landmarks") is not None else nan5
                            for r in rows], dtype=np.float32).reshape(-1, 5, 2),
        source=[r.get("source", "") for r in rows],
        identity=[r.get("identity", "") for r in rows],
        synthetic=np.array([bool(r.get("synthetic", False)) for r in rows], dtype=bool),
        split=[r.get("split", "") for r in rows],
        box_kind=box_kind,
        meta=dict(meta),
        pose_class=np.array([int(r.get("pose_class", 0)) for r in rows], dtype=np.int8),
    )


# ----------------------------------------------------------------------------------------------------- labels.csv
def read_labels_csv(path: PathLike, split: Optional[Union[str, Sequence[str]]] = None) -> PoseTable:
    """The project's dataset format: a folder with labels.csv (or the csv itself); `split` filters rows."""
    path = Path(path)
    csv_path = path / LABELS_NAME if path.is_dir() else path
    if not csv_path.is_file():
        raise DatasetError(f"no labels.csv at {csv_path}; make one with `gazenet data label` / `gazenet data synth`")
    rows = []
    with open(csv_path, newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        missing = [c for c in LABEL_COLUMNS if c not in (reader.fieldnames or [])]
        if missing:
            raise DatasetError(f"{csv_path} lacks the columns {', '.join(missing)}")
        for line_no, r in enumerate(reader, start=2):
            try:
                lm = None
                if all(r.get(f"lx{i}") not in (None, "") for i in range(1, 6)):
                    lm = [(float(r[f"lx{i}"]), float(r[f"ly{i}"])) for i in range(1, 6)]
                rows.append({
                    "path": r["path"],
                    "pose": (float(r["yaw"]), float(r["pitch"]), float(r["roll"])),
                    "box": (float(r["x1"]), float(r["y1"]), float(r["x2"]), float(r["y2"])),
                    "landmarks": lm,
                    "source": r.get("source") or "",
                    "identity": r.get("identity") or "",
                    "synthetic": str(r.get("synthetic") or "0").strip() in ("1", "true", "True"),
                    "split": r.get("split") or "",
                    "pose_class": int(r["pose_class"]) if (r.get("pose_class") or "").strip() else 0,
                })
            except (TypeError, ValueError) as exc:
                raise DatasetError(f"{csv_path}:{line_no}: bad value ({exc})") from None
    table = _table(csv_path.parent, rows, format="labels_csv", labels=str(csv_path))
    return table.with_split(split)


def write_labels_csv(table: PoseTable, path: PathLike) -> Path:
    """Write a table in the project's labels.csv format (paths stay relative to the table's root)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".partial")
    with open(tmp, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(LABEL_COLUMNS)
        for i in range(len(table)):
            lm = table.landmarks[i]
            lx = ["" if np.isnan(v) else f"{v:.2f}" for v in lm[:, 0]]
            ly = ["" if np.isnan(v) else f"{v:.2f}" for v in lm[:, 1]]
            w.writerow([table.paths[i]] + [f"{v:.4f}" for v in table.poses[i]]
                       + [f"{v:.2f}" for v in table.boxes[i]] + lx + ly
                       + [table.source[i], table.identity[i], int(table.synthetic[i]), table.split[i]])
    tmp.replace(path)
    return path


# --------------------------------------------------------------------------------------- 300W-LP and AFLW2000 .mat
def five_from_68(pts: np.ndarray) -> np.ndarray:
    """Five landmarks (image-left eye, image-right eye, nose tip, mouth image-left, image-right) of 68 points."""
    p = np.asarray(pts, dtype=np.float64).reshape(-1, 2)
    if p.shape[0] != 68:
        raise ValueError(f"expected 68 points, got {p.shape[0]}")
    return np.stack([p[36:42].mean(axis=0), p[42:48].mean(axis=0), p[30], p[48], p[54]])


def five_from_aflw21(pts: np.ndarray) -> Optional[np.ndarray]:
    """Five landmarks of AFLW's 21 points (eye centres 8/11, nose 15, mouth corners 18/20, 1-based);
    None when any of them is marked invisible (negative)."""
    p = np.asarray(pts, dtype=np.float64).reshape(-1, 2)
    if p.shape[0] != 21:
        raise ValueError(f"expected 21 points, got {p.shape[0]}")
    five = p[[7, 10, 14, 17, 19]]
    return None if (five < 0).any() else five


def _points_2xk(arr) -> np.ndarray:
    a = np.asarray(arr, dtype=np.float64)
    if a.ndim == 2 and a.shape[0] in (2, 3) and a.shape[1] not in (2, 3):
        a = a[:2].T
    elif a.ndim == 2 and a.shape[1] in (2, 3):
        a = a[:, :2]
    return a.reshape(-1, 2)


def _mat_row(mat_path: Path, image_ext: str, root: Path, source: str) -> Optional[dict]:
    from scipy.io import loadmat

    m = loadmat(str(mat_path))
    if "Pose_Para" not in m:
        raise DatasetError(f"{mat_path} has no Pose_Para")
    pitch, yaw, roll = (float(v) * 180.0 / math.pi for v in np.asarray(m["Pose_Para"]).ravel()[:3])
    five = None
    pts = None
    if "pt3d_68" in m:
        pts = _points_2xk(m["pt3d_68"])
    elif "pt2d" in m:
        pts = _points_2xk(m["pt2d"])
    if pts is not None:
        if pts.shape[0] == 68:
            five = five_from_68(pts)
        elif pts.shape[0] == 21:
            five = five_from_aflw21(pts)
    if five is not None:
        b = canonical_box_from_landmarks(five)
        box, kind = (b.x1, b.y1, b.x2, b.y2), "canonical"
    elif pts is not None:
        v = pts[(pts >= 0).all(axis=1)]
        if len(v) == 0:
            return None
        box, kind = (v[:, 0].min(), v[:, 1].min(), v[:, 0].max(), v[:, 1].max()), "landmark"
    else:
        return None
    img = mat_path.with_suffix(image_ext)
    return {"path": str(img.relative_to(root)), "pose": (yaw, pitch, roll), "box": box,
            "landmarks": None if five is None else five.tolist(), "source": source,
            "identity": mat_path.stem.rsplit("_", 1)[0] if source == "300w_lp" else mat_path.stem,
            "synthetic": source == "300w_lp", "split": "train" if source == "300w_lp" else "test",
            "kind": kind}


def read_mat_folder(root: PathLike, source: str, image_ext: str = ".jpg",
                    filenames: Optional[Sequence[str]] = None) -> PoseTable:
    """Every `NAME.mat` (with `NAME<image_ext>` beside it) under root, or those listed in `filenames`
    (Hopenet's file lists: paths without extension, relative to root)."""
    root = Path(root)
    if not root.is_dir():
        raise DatasetError(f"dataset folder {root} does not exist")
    if filenames is not None:
        mats = [root / (f.strip() + ".mat") for f in filenames if f.strip()]
    else:
        mats = sorted(p for p in root.rglob("*.mat") if p.with_suffix(image_ext).is_file())
    if not mats:
        raise DatasetError(f"no .mat labels with {image_ext} images under {root}")
    rows = [r for r in (_mat_row(p, image_ext, root, source) for p in mats) if r is not None]
    kinds = {r["kind"] for r in rows}
    return _table(root, rows, box_kind="canonical" if kinds == {"canonical"} else "mixed", format="mat",
                  dropped_no_box=len(mats) - len(rows))


def read_300w_lp(root: PathLike, filenames: Optional[Sequence[str]] = None) -> PoseTable:
    """300W-LP (Zhu et al. 2016): `*.jpg` + `*.mat` (Pose_Para, pt2d with 68 points); split 'train'."""
    return read_mat_folder(root, "300w_lp", filenames=filenames)


def read_aflw2000(root: PathLike, filenames: Optional[Sequence[str]] = None) -> PoseTable:
    """AFLW2000-3D: `imageNNNNN.jpg` + `.mat` (Pose_Para, pt3d_68); split 'test'."""
    return read_mat_folder(root, "aflw2000", filenames=filenames)


# ------------------------------------------------------------------------------------------------------------ BIWI
def biwi_angles_from_matrix(R: np.ndarray) -> Tuple[float, float, float]:
    """(yaw, pitch, roll) in degrees of a BIWI `_pose.txt` rotation (3x3 as written in the file), as
    Hopenet's BIWI loader computes them (transpose, then roll/yaw/pitch from the matrix)."""
    R = np.asarray(R, dtype=np.float64).reshape(3, 3).T
    roll = -math.atan2(R[1, 0], R[0, 0])
    yaw = -math.atan2(-R[2, 0], math.sqrt(R[2, 1] ** 2 + R[2, 2] ** 2))
    pitch = math.atan2(R[2, 1], R[2, 2])
    return tuple(math.degrees(v) for v in (yaw, pitch, roll))


def _read_biwi_pose_txt(path: Path) -> np.ndarray:
    vals = [[float(t) for t in line.split()] for line in path.read_text().splitlines() if line.strip()]
    if len(vals) < 3 or any(len(v) != 3 for v in vals[:3]):
        raise DatasetError(f"{path}: expected a 3x3 rotation matrix (then the translation)")
    return np.array(vals[:3])


def read_biwi(root: PathLike, labels: Optional[PathLike] = None) -> PoseTable:
    """BIWI Kinect head pose. With `labels` (an FSA-Net / Biwi+ `.npz`: images, ypr degrees, bbox x,y,w,h)
    joined with the image folder `root` (BIWI's faces_0); without, the raw layout
    `root/XX/frame_NNNNN_rgb.png` + `frame_NNNNN_pose.txt` (no boxes: evaluate with --detect)."""
    root = Path(root)
    if not root.is_dir():
        raise DatasetError(f"BIWI image folder {root} does not exist")
    rows = []
    if labels is not None:
        z = np.load(str(labels), allow_pickle=True)
        for key in ("images", "ypr", "bbox"):
            if key not in z.files:
                raise DatasetError(f"{labels} lacks {key!r} (expected the FSA-Net/Biwi+ label format)")
        for img, ypr, (x, y, w, h) in zip(z["images"], z["ypr"], z["bbox"]):
            rows.append({"path": str(img), "pose": tuple(float(v) for v in ypr),
                         "box": (float(x), float(y), float(x + w), float(y + h)),
                         "source": "biwi", "identity": str(img).split("/")[0], "split": "test"})
        return _table(root, rows, box_kind="dataset", format="biwi_npz", labels=str(labels))
    for pose_txt in sorted(root.glob("*/frame_*_pose.txt")):
        img = pose_txt.with_name(pose_txt.name.replace("_pose.txt", "_rgb.png"))
        if not img.is_file():
            continue
        rows.append({"path": str(img.relative_to(root)),
                     "pose": biwi_angles_from_matrix(_read_biwi_pose_txt(pose_txt)),
                     "box": (np.nan,) * 4, "source": "biwi", "identity": pose_txt.parent.name,
                     "split": "test"})
    if not rows:
        raise DatasetError(f"no BIWI frames (XX/frame_NNNNN_rgb.png + _pose.txt) under {root}")
    return _table(root, rows, box_kind="none", format="biwi_raw")


# --------------------------------------------------------------------------------------------------------- filters
def filter_pose_range(table: PoseTable, max_abs: float = 99.0) -> Tuple[PoseTable, int]:
    """The standard protocol filter: drop rows with any |angle| > max_abs; returns (kept, n_dropped)."""
    keep = (np.abs(table.poses) <= max_abs).all(axis=1)
    return table.subset(keep), int((~keep).sum())


_READERS: Dict[str, Callable[..., PoseTable]] = {
    "labels": read_labels_csv,
    "300w_lp": read_300w_lp,
    "aflw2000": read_aflw2000,
    "biwi": read_biwi,
}


def get_reader_list() -> List[str]:
    """Dataset format names `read_dataset` knows, sorted."""
    return sorted(_READERS)


def read_dataset(fmt: str, data_dir: PathLike, **kwargs) -> PoseTable:
    """Read `data_dir` in format `fmt` (see get_reader_list); unknown names raise ValueError listing them."""
    key = fmt.lower().replace("-", "_")
    if key not in _READERS:
        raise ValueError(f"unknown dataset format {fmt!r}; valid: {', '.join(get_reader_list())}")
    return _READERS[key](data_dir, **kwargs)
