"""`gazenet data synth`: face profiling of teacher-labelled faces into a flat-yaw training set.

For each usable source face (near-frontal by the teacher), `per_face` target poses are drawn: yaw uniform over
+-yaw_range (so the label histogram is flat in yaw, like 300W-LP's), pitch and roll uniform over their ranges.
The offset is `R_off = R_target @ R_source.T` (rotations compose as matrices), the head is rendered turned by it
(gazenet_app.training.render), and the label is `R_off @ R_source`. Deterministic by seed (each source face has
its own generator seeded by (seed, its row)), resumable (chunks of faces are written as parts/part_NNNNN.csv,
done chunks are skipped), parallel over processes.
"""

from __future__ import annotations

import json
import multiprocessing as mp
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Dict, List, Sequence

import cv2
import numpy as np

from gazenet_app.core.errors import GazenetError
from gazenet_app.core.geometry import euler_to_matrix, matrix_to_euler
from gazenet_app.core.results import write_sidecar
from gazenet_app.training.dataset_format import (ALL_COLUMNS, LABELS_NAME, MESHES_NAME, make_row, read_labels,
                                                 write_labels)
from gazenet_app.training.render import HeadModel, build_head, render_head

__all__ = ["SynthConfig", "sample_targets", "select_sources", "source_rotation", "render_at", "synthesize"]


@dataclass(frozen=True)
class SynthConfig:
    """What a synthesis run draws; stored in the output folder so a resume cannot mix two configurations."""

    per_face: int = 8
    seed: int = 0
    max_source_yaw: float = 30.0
    max_source_pitch: float = 25.0
    yaw_range: float = 90.0
    pitch_range: float = 30.0
    roll_range: float = 30.0
    chunk: int = 100


def sample_targets(rng: np.random.Generator, n: int, cfg: SynthConfig) -> np.ndarray:
    """n target poses (yaw, pitch, roll) in degrees: uniform in yaw, pitch and roll over the config's ranges."""
    return np.column_stack([rng.uniform(-cfg.yaw_range, cfg.yaw_range, n),
                            rng.uniform(-cfg.pitch_range, cfg.pitch_range, n),
                            rng.uniform(-cfg.roll_range, cfg.roll_range, n)])


def select_sources(rows: List[Dict[str, str]], cfg: SynthConfig) -> List[int]:
    """Row indices usable as sources: near-frontal by the teacher (|yaw|, |pitch| within the config's limits)."""
    return [i for i, r in enumerate(rows)
            if abs(float(r["yaw"])) <= cfg.max_source_yaw and abs(float(r["pitch"])) <= cfg.max_source_pitch]


def source_rotation(row: Dict[str, str]) -> np.ndarray:
    """The source face's labelled rotation (its labels.csv angles: FaceMesh's, yaw fused with human landmarks)."""
    return euler_to_matrix(float(row["yaw"]), float(row["pitch"]), float(row["roll"]))


def render_at(image: np.ndarray, head: HeadModel, R_source: np.ndarray, target_pose: Sequence[float]) -> tuple:
    """Render a source face at a target pose: (rgb, landmarks 5x2, label (yaw, pitch, roll), offset euler).

    The offset comes from the source's label, `R_off = R_target @ R_source.T`, so the label is
    `R_off @ R_source = R_target` (matrices compose; Euler angles do not add).
    """
    R_off = euler_to_matrix(*target_pose) @ R_source.T
    rgb, lm, _ = render_head(image, head, R_off)
    return rgb, lm, matrix_to_euler(R_off @ R_source), matrix_to_euler(R_off)


_STATE: Dict = {}
#: labels.csv is rewritten from the finished parts every this many chunks.
MERGE_EVERY = 10


def _init_worker(src_dir: str, out_dir: str, cfg: dict) -> None:
    cv2.setNumThreads(1)
    src = Path(src_dir)
    rows = read_labels(src / LABELS_NAME)
    meshes = dict(np.load(src / MESHES_NAME))
    by_path = {str(p): i for i, p in enumerate(meshes["path"])}
    _STATE.update(src=src, out=Path(out_dir), rows=rows, meshes=meshes, by_path=by_path, cfg=SynthConfig(**cfg))


def _run_chunk(job) -> tuple:
    chunk_id, row_ids = job
    st = _STATE
    cfg: SynthConfig = st["cfg"]
    out_rows = []
    for ri in row_ids:
        r = st["rows"][ri]
        mi = st["by_path"][r["path"]]
        mesh = {k: st["meshes"][k][mi] for k in ("vertices", "rotation", "scale", "translation")}
        bgr = cv2.imread(str(st["src"] / r["path"]), cv2.IMREAD_COLOR)
        rgb = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
        head = build_head(mesh["vertices"], mesh["rotation"], float(mesh["scale"]), mesh["translation"])
        R_src = source_rotation(r)
        rng = np.random.default_rng([cfg.seed, ri])
        for k, tgt in enumerate(sample_targets(rng, cfg.per_face, cfg)):
            img, lm, label, off = render_at(rgb, head, R_src, tgt)
            rel = f"images/{ri:06d}_{k:02d}.jpg"
            cv2.imwrite(str(st["out"] / rel), cv2.cvtColor(img, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 95])
            out_rows.append(make_row(rel, label, lm, r["source"], r["identity"], True, r["split"],
                                     pose_class="", orig=r["path"], offset_yaw=off[0], offset_pitch=off[1],
                                     offset_roll=off[2]))
    write_labels(st["out"] / "parts" / f"part_{chunk_id:05d}.csv", out_rows)
    return chunk_id, len(row_ids), len(out_rows)


def synthesize(labels: Path, out_dir: Path, cfg: SynthConfig, workers: int = 1, limit: int = 0,
               progress: bool = True) -> Dict:
    """Render the usable faces of a labelled folder into out_dir; resumes finished chunks; returns a summary."""
    labels = Path(labels)
    src = labels.parent if labels.suffix == ".csv" else labels
    if not (src / LABELS_NAME).is_file() or not (src / MESHES_NAME).is_file():
        raise GazenetError(f"{src}: needs labels.csv and meshes.npz from `gazenet data label`")
    rows = read_labels(src / LABELS_NAME)
    splits = {r["split"] for r in rows}
    if "test" in splits and splits - {"test"}:
        raise GazenetError(f"{src}: mixes held-out test rows with {sorted(splits - {'test'})}: label the test "
                           "split into its own folder and synthesise it into its own output")
    out_dir = Path(out_dir)
    (out_dir / "images").mkdir(parents=True, exist_ok=True)
    (out_dir / "parts").mkdir(exist_ok=True)
    cfg_path = out_dir / "synth_config.json"
    meta = {"config": asdict(cfg), "source": str(src.resolve()), "limit": limit}
    if cfg_path.is_file():
        old = json.loads(cfg_path.read_text())
        if old != meta:
            raise GazenetError(f"{out_dir} holds a run with another configuration ({cfg_path}); "
                               "use a new output folder")
    else:
        write_sidecar(cfg_path, meta)
    sel = select_sources(rows, cfg)
    if limit:
        sel = sel[:limit]
    chunks = [(c, sel[c * cfg.chunk:(c + 1) * cfg.chunk]) for c in range((len(sel) + cfg.chunk - 1) // cfg.chunk)]
    todo = [j for j in chunks if not (out_dir / "parts" / f"part_{j[0]:05d}.csv").is_file()]
    from tqdm import tqdm

    t0 = time.time()
    n_faces_done = sum(len(j[1]) for j in chunks) - sum(len(j[1]) for j in todo)
    n_images = 0
    init = (str(src), str(out_dir), asdict(cfg))
    done = 0
    with tqdm(total=len(sel), initial=n_faces_done, unit="face", disable=not progress, dynamic_ncols=True) as bar:
        if workers <= 1:
            _init_worker(*init)
            results = map(_run_chunk, todo)
            pool = None
        else:
            pool = mp.get_context("spawn").Pool(workers, initializer=_init_worker, initargs=init)
            results = pool.imap_unordered(_run_chunk, todo)
        try:
            for _, nf, ni in results:
                bar.update(nf)
                n_images += ni
                done += 1
                if done % MERGE_EVERY == 0:  # labels.csv usable while a long run goes on
                    _merge_parts(out_dir, len(chunks))
        finally:
            if pool is not None:
                pool.close()
                pool.join()
    elapsed = time.time() - t0
    total = _merge_parts(out_dir, len(chunks))
    summary = {"source_faces": len(sel), "images_total": total, "images_this_run": n_images,
               "seconds_this_run": round(elapsed, 1),
               "images_per_second": round(n_images / elapsed, 2) if elapsed > 0 and n_images else None,
               "workers": workers, "output": str(out_dir)}
    write_sidecar(out_dir / "synth_summary.json", summary)
    return summary


def _merge_parts(out_dir: Path, n_chunks: int) -> int:
    """labels.csv from all finished parts, in chunk order; returns its row count."""
    import csv

    rows = []
    for c in range(n_chunks):
        p = out_dir / "parts" / f"part_{c:05d}.csv"
        if p.is_file():
            with open(p, newline="") as fh:
                rows += [{k: r.get(k, "") for k in ALL_COLUMNS} for r in csv.DictReader(fh)]
    return write_labels(out_dir / LABELS_NAME, rows)
