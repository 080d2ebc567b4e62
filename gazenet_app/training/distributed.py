"""Local launcher for MXNet's parameter-server training (`--kvstore dist_sync`), as MXNet's tools/launch.py
`--launcher local` does: one scheduler, S servers and W workers, each a process told its role through the
DMLC_* environment variables. Scheduler and servers are plain `import mxnet` processes (MXNet starts the
server loop on import when DMLC_ROLE is server/scheduler); workers run the training command.

On several machines, start the same processes by hand (or with MXNet's tools/launch.py and ssh): every process
gets DMLC_PS_ROOT_URI/DMLC_PS_ROOT_PORT (the scheduler's address), DMLC_NUM_SERVER, DMLC_NUM_WORKER and its
DMLC_ROLE; see docs/training.md.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Dict, List, Optional, Sequence

__all__ = ["free_port", "dist_env", "launch_local"]

log = logging.getLogger("gazenet.train")


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port that is free on `host` right now (bound to port 0, then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def dist_env(role: str, num_workers: int, num_servers: int, host: str, port: int) -> Dict[str, str]:
    """The DMLC_* variables of one process of a parameter-server job."""
    return {
        "DMLC_ROLE": role,
        "DMLC_PS_ROOT_URI": host,
        "DMLC_PS_ROOT_PORT": str(port),
        "DMLC_NUM_SERVER": str(num_servers),
        "DMLC_NUM_WORKER": str(num_workers),
        "DMLC_NODE_HOST": host,
        "PS_VERBOSE": os.environ.get("PS_VERBOSE", "0"),
    }


def _start(cmd: Sequence[str], env: Dict[str, str], log_path: Optional[str]) -> subprocess.Popen:
    full = dict(os.environ)
    full.update(env)
    # the workers import gazenet_app from where this process found it (installed or a checkout)
    root = str(Path(__file__).resolve().parents[2])
    full["PYTHONPATH"] = os.pathsep.join([root] + [p for p in full.get("PYTHONPATH", "").split(os.pathsep) if p])
    out = open(log_path, "ab") if log_path else subprocess.DEVNULL
    try:
        return subprocess.Popen(list(cmd), env=full, stdout=out, stderr=subprocess.STDOUT if log_path else None)
    finally:
        if log_path:
            out.close()


def launch_local(worker_cmd: Sequence[str], num_workers: int = 2, num_servers: int = 1,
                 host: str = "127.0.0.1", port: Optional[int] = None, timeout: Optional[float] = None,
                 log_dir: Optional[str] = None) -> int:
    """Run a dist_sync job on this machine; returns the first non-zero worker exit code, else 0.

    Scheduler and servers are stopped when the workers finish (or fail, or `timeout` seconds pass).
    Worker i's output goes to the console (or `log_dir/worker-i.log`); server/scheduler output to `log_dir`.
    """
    port = port or free_port(host)
    ps_cmd = [sys.executable, "-c", "import mxnet"]
    lp = (lambda name: os.path.join(log_dir, name)) if log_dir else (lambda name: None)
    if log_dir:
        os.makedirs(log_dir, exist_ok=True)
    procs: List[subprocess.Popen] = []
    workers: List[subprocess.Popen] = []
    if threading.current_thread() is threading.main_thread():
        # `kill PID` of the launcher still stops its scheduler, servers and workers (the finally below)
        previous = signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    else:
        previous = None
    log.info("dist_sync on %s:%d: 1 scheduler, %d server(s), %d worker(s)", host, port, num_servers, num_workers)
    try:
        procs.append(_start(ps_cmd, dist_env("scheduler", num_workers, num_servers, host, port), lp("scheduler.log")))
        for i in range(num_servers):
            procs.append(_start(ps_cmd, dist_env("server", num_workers, num_servers, host, port),
                                lp(f"server-{i}.log")))
        for i in range(num_workers):
            workers.append(_start(worker_cmd, dist_env("worker", num_workers, num_servers, host, port),
                                  lp(f"worker-{i}.log")))
        deadline = None if timeout is None else time.monotonic() + timeout
        rc = 0
        pending = list(workers)
        while pending:
            for w in list(pending):
                code = w.poll()
                if code is not None:
                    pending.remove(w)
                    if code != 0 and rc == 0:
                        rc = code
            if rc != 0:
                break  # one worker failed: the others would wait for it forever
            if any(p.poll() not in (None, 0) for p in procs):
                log.error("a parameter-server process died; stopping the job")
                rc = 1
                break
            if deadline is not None and time.monotonic() > deadline:
                log.error("dist_sync job timed out after %.0f s", timeout)
                rc = 124
                break
            time.sleep(0.1)
        return rc
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
        for p in workers + procs:
            if p.poll() is None:
                p.terminate()
        for p in workers + procs:
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
