"""Corpus throughput figures for docs/scaling.md: `gazenet annotate-corpus`'s engine on 8 generated 640x480 clips.

Four clips with one face and four with five (faces cut from ../shared/data/faces by gazenet_app.benchmark.clips),
annotated with the default model and detector by `run_corpus`:
  1. a LocalCluster of 1 worker process, 2. of 2 worker processes (one thread and cores/2 OpenMP threads each),
  3. a `dask scheduler` plus two `dask worker` processes started by hand on loopback (the multi-machine path).
Also the per-task overhead (a no-op task's round trip through the scheduler; the model load, paid once per
worker) and a paper estimate of the hours 1,000 hours of 30 fps video take on N such machines.

    python scripts/measure_corpus.py [--frames 60] [--preset accurate|live] [--detect-every N] [--json OUT.json]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Iterator, List

ROOT = Path(__file__).resolve().parents[1]
FACES = ROOT.parent / "shared" / "data" / "faces"
HOURS_OF_VIDEO, VIDEO_FPS = 1000, 30.0


def make_corpus(folder: Path, frames: int) -> List[Path]:
    """one_face_{0..3}.avi and five_faces_{0..3}.avi, `frames` frames each at 640x480."""
    from gazenet_app.benchmark.clips import face_patches, write_face_clip

    patches = face_patches(FACES, 5)
    clips = []
    for k in range(4):
        clips.append(write_face_clip(folder / f"one_face_{k}.avi", [patches[k]], frames=frames))
        clips.append(write_face_clip(folder / f"five_faces_{k}.avi", patches[k:] + patches[:k], frames=frames))
    return clips


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def hand_started_cluster(workers: int) -> Iterator[str]:
    """`dask scheduler` + `dask worker` processes on loopback, as one would start them over SSH."""
    from gazenet_app import usable_cpus

    port = free_port()
    address = f"tcp://127.0.0.1:{port}"
    env = dict(os.environ, OMP_NUM_THREADS=str(max(1, usable_cpus() // workers)))
    dask = [sys.executable, "-m", "dask"]
    procs = [subprocess.Popen([*dask, "scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"],
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)]
    procs += [subprocess.Popen([*dask, "worker", address, "--nthreads", "1", "--no-dashboard", "--name", f"w{i}"],
                               env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for i in range(workers)]
    try:
        yield address
    finally:
        for p in reversed(procs):
            p.terminate()
        for p in procs:
            try:
                p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                p.kill()


def run_once(label: str, clips: List[Path], spec, out: Path, config) -> dict:
    from gazenet_app.corpus import CorpusJob, discover_inputs, run_corpus

    t0 = time.perf_counter()
    report = run_corpus(CorpusJob(config, str(out)), discover_inputs([str(c) for c in clips]),
                        cluster=spec)
    wall = time.perf_counter() - t0
    if report.interrupted:
        raise KeyboardInterrupt
    workers = {w: {"inputs": v["inputs"], "frames": v["frames"], "busy_s": round(v["busy_s"], 2),
                   "load_s": round(v["load_s"], 2),
                   "fps": round(v["frames"] / (v["busy_s"] - v["load_s"]), 2) if v["busy_s"] > v["load_s"] else None}
               for w, v in report.per_worker.items()}
    row = {"setup": label, "cluster": report.cluster, "frames": report.processed_frames, "wall_s": round(wall, 2),
           "fps": round(report.processed_frames / wall, 2), "workers": workers,
           "failed": [r.input for r in report.results if r.status != "complete"]}
    print(json.dumps(row), flush=True)
    return row


def task_round_trip(address: str, n: int = 20) -> float:
    """Median ms for a no-op task submitted and gathered one at a time (scheduling + transfer)."""
    from distributed import Client

    with Client(address) as client:
        client.submit(int, 0, pure=False).result()  # warm the connection
        times = []
        for i in range(n):
            t0 = time.perf_counter()
            client.submit(int, i, pure=False).result()
            times.append((time.perf_counter() - t0) * 1000.0)
    return statistics.median(times)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--frames", type=int, default=60, help="frames per clip (default 60)")
    ap.add_argument("--json", metavar="PATH", default=None, help="also write the figures as JSON")
    ap.add_argument("--preset", default=None, help="detector preset (default: the detector's own, accurate)")
    ap.add_argument("--detect-every", type=int, default=1, help="detect every Nth frame, track between (default 1)")
    args = ap.parse_args(argv)
    if not FACES.is_dir():
        print(f"error: needs the face photos at {FACES}", file=sys.stderr)
        return 2

    from gazenet_app import usable_cpus
    from gazenet_app.corpus import ClusterSpec
    from gazenet_app.pipeline import PipelineConfig

    config = PipelineConfig(preset=args.preset, detect_every=args.detect_every)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        clips = make_corpus(tmp, args.frames)
        for n in (1, 2):
            rows.append(run_once(f"LocalCluster, {n} worker{'s' if n > 1 else ''}", clips,
                                 ClusterSpec(workers=n, dashboard_address=":0"), tmp / f"local{n}", config))
        with hand_started_cluster(2) as address:
            rows.append(run_once("dask scheduler + 2 dask workers started by hand (loopback)", clips,
                                 ClusterSpec(scheduler=address, timeout_s=60), tmp / "hand", config))
            round_trip = task_round_trip(address)
    best = max(r["fps"] for r in rows)
    frames_total = HOURS_OF_VIDEO * 3600 * VIDEO_FPS
    estimate = {n: round(frames_total / (best * n) / 3600, 1) for n in (1, 10, 50, 100)}
    loads = [w["load_s"] for r in rows for w in r["workers"].values() if w["load_s"]]
    doc = {"clips": "8 x 640x480 MJPG (4 with one face, 4 with five)", "frames_per_clip": args.frames,
           "preset": args.preset, "detect_every": args.detect_every,
           "usable_cpus": usable_cpus(), "load_average": os.getloadavg(), "runs": rows,
           "task_round_trip_ms": round(round_trip, 1), "model_load_s_per_worker": [round(x, 1) for x in loads],
           "hours_for_1000h_of_30fps_video_by_machines": estimate, "machine_fps_used": best}
    print(f"\nno-op task round trip: {round_trip:.1f} ms; model load per worker: "
          f"{', '.join(f'{x:.1f}' for x in loads)} s; load average {os.getloadavg()[0]:.1f}")
    print("| setup | frames | wall s | corpus fps | per-worker fps (busy, load excluded) |")
    print("|---|---|---|---|---|")
    for r in rows:
        per = ", ".join(str(w["fps"]) for w in r["workers"].values())
        print(f"| {r['setup']} | {r['frames']} | {r['wall_s']} | {r['fps']} | {per} |")
    print(f"\n1,000 h of 30 fps video at {best} fps per machine: "
          + ", ".join(f"{n} machine{'s' if n > 1 else ''}: {h} h" for n, h in estimate.items()))
    if args.json:
        Path(args.json).write_text(json.dumps(doc, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
