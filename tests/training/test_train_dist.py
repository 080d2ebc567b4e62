"""MXNet's parameter-server training on loopback: 1 scheduler + 1 server + 2 workers, launched as
tools/launch.py --launcher local does, through `gazenet train --kvstore dist_sync --launch-local 2`."""

from __future__ import annotations

import json
import socket
import sys

import mxnet as mx
import pytest

from gazenet_app.cli.main import main
from gazenet_app.training.distributed import dist_env, free_port, launch_local

pytestmark = pytest.mark.skipif(not mx.runtime.Features().is_enabled("DIST_KVSTORE"),
                                reason="this MXNet build has no distributed kvstore")


def test_free_port_is_bindable_and_env_names_roles():
    port = free_port()
    with socket.socket() as s:
        s.bind(("127.0.0.1", port))
    env = dist_env("worker", 2, 1, "127.0.0.1", port)
    assert env["DMLC_ROLE"] == "worker" and env["DMLC_NUM_WORKER"] == "2" and env["DMLC_PS_ROOT_PORT"] == str(port)


def test_a_failing_worker_stops_the_job_with_its_code():
    rc = launch_local([sys.executable, "-c", "import sys; sys.exit(3)"], num_workers=2, timeout=60)
    assert rc == 3


@pytest.mark.slow
def test_dist_sync_two_workers_train_and_checkpoint(tiny_pose_dataset, tmp_path):
    runs = tmp_path / "runs"
    rc = main(["train", "--data", str(tiny_pose_dataset), "--runs-dir", str(runs), "--name", "dist",
               "--input-size", "32", "--pack-size", "40", "--epochs", "2", "--batch-size", "4",
               "--max-batches", "2", "--pretrained", "none", "--kvstore", "dist_sync", "--launch-local", "2",
               "--no-progress"])
    assert rc == 0
    run = runs / "dist"
    ck = json.loads((run / "checkpoint.json").read_text())
    assert (ck["epoch"], ck["batch"]) == (2, 0)
    hist = [json.loads(line) for line in (run / "history.jsonl").read_text().splitlines()]
    assert [h["epoch"] for h in hist] == [1, 2] and all(h["batches"] == 2 for h in hist)
    log = (run / "log.txt").read_text()
    assert "kvstore dist_sync (worker 0 of 2)" in log
    assert (run / "epoch-0002.params").is_file()
