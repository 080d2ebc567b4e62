"""`run_corpus` on a real LocalCluster (2 worker processes, loopback only) with the tiny random model and MTCNN,
reached by its scheduler address (the `--scheduler` path; the workers keep their model between the tests, which
keeps the module's time down): the outputs equal single-process `gazenet annotate`, a corrupt input is recorded
as failed, a worker killed by PID mid-task has its input resumed from the partials with no row lost or doubled,
and `gazenet annotate-corpus` stopped by Ctrl-C (SIGINT to its process) leaves only the rest to `--resume`."""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from fixtures.clips import face_frames, write_clip
from gazenet_app.cli.main import main

pytest.importorskip("distributed")

pytestmark = pytest.mark.slow

#: (relative path, first frame, frames) of the generated face clips; bad/corrupt.avi is not a video.
CLIPS = (("a/one.avi", 0, 16), ("a/two.avi", 6, 10), ("three.avi", 3, 30))
CORRUPT = "bad/corrupt.avi"


def rows_of(path: Path):
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.reader(fh))


def without_face_id(path: Path):
    """CSV rows minus face_id (a resumed run numbers new tracks after the ids already written)."""
    rows = rows_of(path)
    fid = rows[0].index("face_id")
    return [tuple(v for i, v in enumerate(r) if i != fid) for r in rows]


def jsonl_without_timing(path: Path):
    return [{k: v for k, v in json.loads(line).items() if k != "timing_ms"} for line in path.read_text().splitlines()]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory, faces_dir, tiny_pose_model):
    """A corpus folder of three face clips and a corrupt file, and each clip annotated by `gazenet annotate`."""
    root = tmp_path_factory.mktemp("corpus")
    frames, _ = face_frames(faces_dir, n=max(s + n for _, s, n in CLIPS))
    for rel, start, n in CLIPS:
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        write_clip(root / rel, frames[start:start + n])
    (root / CORRUPT).parent.mkdir()
    (root / CORRUPT).write_bytes(b"\x00not a video\x00" * 64)
    ref = tmp_path_factory.mktemp("reference")
    for rel, _, _ in CLIPS:
        out = ref / f"{rel}.csv"
        assert main(["annotate", str(root / rel), "-o", str(out), "--jsonl", str(ref / f"{rel}.jsonl"),
                     "--model", str(tiny_pose_model), "--no-progress"]) == 0
    return root, ref


@pytest.fixture(scope="module")
def scheduler():
    """The scheduler address of `connect`'s LocalCluster: 2 single-thread worker processes on loopback."""
    from gazenet_app.corpus.cluster import ClusterSpec, connect

    with connect(ClusterSpec(workers=2, dashboard_address=":0")) as (client, info):
        assert info.workers == 2 and "2 worker processes x 1 thread" in info.description
        yield client.scheduler.address


def job_for(outdir: Path, model: Path):
    from gazenet_app.corpus import CorpusJob
    from gazenet_app.pipeline import PipelineConfig

    return CorpusJob(PipelineConfig(model=str(model)), str(outdir), jsonl=True, command="gazenet annotate-corpus")


def test_two_workers_match_single_process_annotate(corpus, scheduler, tiny_pose_model, tmp_path):
    from gazenet_app.corpus import ClusterSpec, discover_inputs, run_corpus

    root, ref = corpus
    seen = []
    report = run_corpus(job_for(tmp_path, tiny_pose_model), discover_inputs([str(root)]),
                        cluster=ClusterSpec(scheduler=scheduler), progress=seen.append)
    status = {r.input: r for r in report.results}
    assert status[CORRUPT].status == "failed" and "cannot open video" in status[CORRUPT].reason
    for rel, _, n in CLIPS:
        assert status[rel].status == "complete" and status[rel].frames == n
        assert (tmp_path / f"{rel}.csv").read_bytes() == (ref / f"{rel}.csv").read_bytes()
        assert jsonl_without_timing(tmp_path / f"{rel}.jsonl") == jsonl_without_timing(ref / f"{rel}.jsonl")
        ours, theirs = (json.loads((d / f"{rel}.meta.json").read_text()) for d in (tmp_path, ref))
        assert ours.pop("command") == "gazenet annotate-corpus"
        assert theirs.pop("command").startswith("gazenet annotate ")
        assert ours == theirs
    assert seen[-1].frames_done == seen[-1].frames_total == sum(n for _, _, n in CLIPS)
    assert [r["status"] for r in csv.DictReader(open(tmp_path / "corpus.csv"))] == [
        "complete", "complete", "failed", "complete"]


def test_worker_killed_mid_task_is_retried_and_resumed(corpus, scheduler, tiny_pose_model, tmp_path):
    import psutil

    from gazenet_app.corpus import ClusterSpec, discover_inputs, run_corpus

    root, ref = corpus
    victim, killed = "three.avi", []

    def kill_victims_worker(p) -> None:
        worker = p.running.get(victim)
        if killed or worker is None or not 4 <= _frames(tmp_path / f"{victim}.csv.partial") < 20:
            return
        port = int(worker.rsplit(":", 1)[1])
        for child in psutil.Process().children(recursive=True):
            if any(c.laddr and c.laddr.port == port and c.status == psutil.CONN_LISTEN
                   for c in child.net_connections(kind="tcp")):
                killed.append(child.pid)
                os.kill(child.pid, signal.SIGKILL)

    report = run_corpus(job_for(tmp_path, tiny_pose_model), discover_inputs([str(root)]),
                        cluster=ClusterSpec(scheduler=scheduler), progress=kill_victims_worker)
    assert len(killed) == 1, "the victim's worker was not found mid-task"
    result = {r.input: r for r in report.results}[victim]
    assert result.status == "complete" and result.resumed_after, result
    # same rows; within a frame their order follows the track ids, which restart at the resume point
    assert sorted(without_face_id(tmp_path / f"{victim}.csv")) == sorted(without_face_id(ref / f"{victim}.csv"))
    assert [r["frame"] for r in jsonl_without_timing(tmp_path / f"{victim}.jsonl")] == list(range(30))
    assert not list(tmp_path.rglob("*.partial"))


@pytest.fixture
def stoppable_corpus(tmp_path, faces_dir):
    """short.avi (10 frames) and long.avi (120 frames, the face clip played back and forth): with two workers
    the short one is finished while the long one is still running."""
    root = tmp_path / "corpus"
    root.mkdir()
    frames, _ = face_frames(faces_dir, n=30)
    write_clip(root / "short.avi", frames[:10])
    write_clip(root / "long.avi", (frames + frames[::-1]) * 2)
    return root


def test_ctrl_c_then_resume_does_only_what_is_left(stoppable_corpus, scheduler, tiny_pose_model, tmp_path, capsys):
    out = tmp_path / "out"
    args = ["annotate-corpus", str(stoppable_corpus), "-o", str(out), "--model", str(tiny_pose_model), "--jsonl",
            "--no-progress", "--scheduler", scheduler]
    proc = subprocess.Popen([sys.executable, "-m", "gazenet_app.cli.main", *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline and proc.poll() is None and not (
                (out / "short.avi.csv").exists() and _frames(out / "long.avi.csv.partial") >= 2):
            time.sleep(0.05)  # Ctrl-C once short.avi is finished and long.avi has rows
        assert proc.poll() is None, proc.communicate()
        proc.send_signal(signal.SIGINT)
        stdout, stderr = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 130, stderr
    assert "run the same command with --resume" in stderr
    first = {r["input"]: r["status"] for r in csv.DictReader(open(out / "corpus.csv"))}
    assert first == {"long.avi": "stopped", "short.avi": "complete"}, (first, stdout)
    assert (out / "long.avi.csv.partial").exists() and not (out / "long.avi.csv").exists()
    kept = (out / "short.avi.csv").stat().st_mtime_ns

    assert main([*args, "--resume"]) == 0
    assert "resuming: 1 of 2 inputs already done, 1 left" in capsys.readouterr().err
    assert (out / "short.avi.csv").stat().st_mtime_ns == kept  # the finished input was not redone
    rows = {r["input"]: r for r in csv.DictReader(open(out / "corpus.csv"))}
    assert {k: r["status"] for k, r in rows.items()} == {"long.avi": "complete", "short.avi": "complete"}
    assert rows["long.avi"]["resumed_after"] != "" and rows["short.avi"]["worker"] == ""
    assert [r["frame"] for r in jsonl_without_timing(out / "long.avi.jsonl")] == list(range(120))
    keys = [(r[1], r[3]) for r in rows_of(out / "long.avi.csv")[1:]]  # (frame, face_id): none twice
    assert len(keys) == len(set(keys))
    assert not list(out.rglob("*.partial"))


def _frames(partial: Path) -> int:
    """Distinct frames with rows in a partial CSV (0 when absent)."""
    if not partial.exists():
        return 0
    return len({r[1] for r in rows_of(partial)[1:] if len(r) > 1})
