"""Where a corpus run's tasks go: a `LocalCluster` of worker processes here, or a running Dask scheduler.

Dask is imported only in here and only when a run starts (the `gazenet[cluster]` extra). Local workers run one
thread each with OpenMP threads = usable cores / workers, so N workers share the machine instead of
oversubscribing it, and ignore SIGINT so that Ctrl-C reaches the client, which stops them cleanly.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import socket
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, List, Optional, Tuple

from gazenet_app import usable_cpus
from gazenet_app.core.errors import DependencyError, ExportError, GazenetError

__all__ = ["ClusterSpec", "ClusterInfo", "connect", "check_shared_paths", "import_distributed"]

log = logging.getLogger(__name__)

INSTALL_HINT = "pip install -c constraints.txt 'gazenet[cluster]'"


@dataclass(frozen=True)
class ClusterSpec:
    """`scheduler`: None for a LocalCluster of `workers` processes (default: one per usable core), else a
    scheduler address (`tcp://HOST:8786`, `HOST:8786`) or a scheduler file written by `dask scheduler
    --scheduler-file`. `timeout_s`: how long to try to reach it and to wait for a worker."""

    workers: Optional[int] = None
    scheduler: Optional[str] = None
    timeout_s: float = 20.0
    dashboard_address: str = ":8787"  # a local cluster's dashboard (":0": any free port)


@dataclass(frozen=True)
class ClusterInfo:
    """What the run is using, for the log and the report."""

    description: str
    dashboard: Optional[str]
    workers: int


def import_distributed():
    """`distributed`, or DependencyError naming the extra to install."""
    try:
        import distributed
    except ImportError:
        raise DependencyError(f"annotate-corpus needs Dask: {INSTALL_HINT}") from None
    return distributed


def local_threads(workers: int) -> int:
    """OpenMP threads per local worker: the usable cores shared out (at least 1)."""
    return max(1, usable_cpus() // workers)


def _ignore_sigint() -> None:
    """Worker-process setup: Ctrl-C goes to the client, which stops the tasks through the run's stop event."""
    import signal

    with contextlib.suppress(ValueError):  # not the main thread: nothing to change
        signal.signal(signal.SIGINT, signal.SIG_IGN)


def _scheduler_target(spec: str) -> Tuple[str, Optional[str]]:
    """(address, scheduler_file): a path that exists is a scheduler file, anything else an address."""
    if "://" not in spec and Path(spec).is_file():
        return "", spec
    if "://" not in spec and (spec.endswith(".json") or os.sep in spec):
        raise GazenetError(f"scheduler file not found: {spec}")
    return (spec if "://" in spec else f"tcp://{spec}"), None


def _describe_workers(client) -> Tuple[int, str]:
    info = client.scheduler_info(n_workers=-1)["workers"]
    threads = sum(w.get("nthreads", 1) for w in info.values())
    hosts = sorted({w.get("host", "?") for w in info.values()})
    return len(info), f"{len(info)} workers, {threads} threads on {', '.join(hosts)}"


@contextlib.contextmanager
def connect(spec: ClusterSpec) -> Iterator[Tuple[object, ClusterInfo]]:
    """(client, info) for the spec; the local cluster (if any) is shut down on exit. A scheduler that cannot be
    reached, or has no worker within the timeout, is a one-line GazenetError."""
    distributed = import_distributed()
    timeout = f"{spec.timeout_s:g}s"
    if spec.scheduler is None:
        n = spec.workers or usable_cpus()
        if n < 1:
            raise GazenetError(f"--workers must be >= 1, got {n}")
        omp = local_threads(n)
        with distributed.LocalCluster(n_workers=n, threads_per_worker=1, processes=True,
                                      dashboard_address=spec.dashboard_address,
                                      env={"OMP_NUM_THREADS": str(omp)}) as cluster, \
                distributed.Client(cluster, timeout=timeout) as client:
            client.register_worker_callbacks(_ignore_sigint)
            desc = (f"local cluster: {n} worker processes x 1 thread, OMP_NUM_THREADS={omp} each "
                    f"({usable_cpus()} usable cores)")
            yield client, ClusterInfo(desc, client.dashboard_link, n)
        return
    address, scheduler_file = _scheduler_target(spec.scheduler)
    where = scheduler_file or address
    _check_listening(scheduler_address(address, scheduler_file), where, spec.timeout_s)
    try:
        client = (distributed.Client(scheduler_file=scheduler_file, timeout=timeout) if scheduler_file
                  else distributed.Client(address, timeout=timeout))
    except (OSError, TimeoutError, ValueError) as e:
        reason = str(e).splitlines()[0] if str(e) else type(e).__name__
        raise GazenetError(f"cannot reach the Dask scheduler at {where} within {spec.timeout_s:g} s "
                           f"({reason}): is `dask scheduler` running there and its port open?") from None
    with client:
        try:
            client.wait_for_workers(1, timeout=spec.timeout_s)
        except (TimeoutError, OSError):
            raise GazenetError(f"the Dask scheduler at {where} has no worker after {spec.timeout_s:g} s: start "
                               f"some with `dask worker {client.scheduler.address}`") from None
        n, desc = _describe_workers(client)
        yield client, ClusterInfo(f"scheduler {client.scheduler.address}: {desc}", client.dashboard_link, n)


def scheduler_address(address: str, scheduler_file: Optional[str]) -> str:
    """The address to connect to: `address`, or the one a scheduler file names ("" when it names none)."""
    if not scheduler_file:
        return address
    try:
        with open(scheduler_file, encoding="utf-8") as f:
            return str(json.load(f).get("address") or "")
    except (OSError, ValueError, AttributeError) as e:
        raise GazenetError(f"cannot read the scheduler file {scheduler_file}: {e}") from None


def _check_listening(address: str, where: str, timeout_s: float) -> None:
    """A TCP scheduler address nobody listens on is a one-line GazenetError before any Client exists (a Client
    that fails to connect leaves its event-loop thread running in this process: distributed 2026.8)."""
    host, sep, port = address.partition("://")[2].rpartition(":")
    if not address.startswith("tcp://") or not sep or not port.isdigit():
        return  # tls://, inproc:// and the like: the Client says what is wrong
    deadline = time.monotonic() + timeout_s
    while True:  # like the Client, wait up to the timeout for a scheduler that is still starting
        left = deadline - time.monotonic()
        try:
            with socket.create_connection((host.strip("[]"), int(port)), timeout=max(0.1, min(2.0, left))):
                return
        except OSError as e:
            if left > 0.5:
                time.sleep(0.25)
                continue
            reason = e.strerror or type(e).__name__
        raise GazenetError(f"cannot reach the Dask scheduler at {where} within {timeout_s:g} s ({reason}): is "
                           f"`dask scheduler` running there and its port open?")


def _probe(token_path: str, token: str, inputs: List[str]) -> dict:
    """Run on each worker: can it read the client's token in OUTDIR, write there, and see the inputs?"""
    out = {"host": socket.gethostname(), "outdir": False, "writable": False, "missing": []}
    try:
        out["outdir"] = Path(token_path).read_text() == token
        mark = Path(token_path).with_name(f"{Path(token_path).name}.{os.getpid()}")
        mark.write_text(token)
        mark.unlink()
        out["writable"] = True
    except OSError:
        pass
    out["missing"] = [p for p in inputs if not os.access(p, os.R_OK)]
    return out


def check_shared_paths(client, outdir: Path, inputs: List[Path]) -> None:
    """Every worker must read the inputs and write OUTDIR at the same paths as this machine (a shared
    filesystem): checked with a token file in OUTDIR; ExportError saying which worker sees what."""
    token = uuid.uuid4().hex
    token_path = outdir / f".gazenet-probe-{token}"
    try:
        token_path.write_text(token)
    except OSError as e:
        raise ExportError(f"cannot write in {outdir}: {e.strerror or e}") from None
    try:
        sample = [str(p) for p in inputs[:1] + inputs[-1:]]
        answers = client.run(_probe, str(token_path), token, sample)
    finally:
        token_path.unlink(missing_ok=True)
    for worker, a in sorted(answers.items()):
        if not a["outdir"] or not a["writable"]:
            raise ExportError(f"the output folder {outdir} is not shared with worker {worker} (host {a['host']}): "
                              f"OUTDIR must be on a filesystem every worker reaches at the same path "
                              f"(NFS, Lustre, ...)")
        if a["missing"]:
            raise ExportError(f"worker {worker} (host {a['host']}) cannot read {a['missing'][0]}: the inputs must "
                              f"be on a filesystem every worker reaches at the same path")
