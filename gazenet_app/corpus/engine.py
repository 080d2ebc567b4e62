"""`run_corpus`: annotate many inputs on a Dask cluster, one task per input; Qt-free (the CLI and the app use it).

The client plans (what is done, what is left), checks that the workers share OUTDIR and the inputs, submits the
inputs longest first, follows the tasks' progress events, and writes `OUTDIR/corpus.csv`. Faults: a worker
that dies has its task re-run by the scheduler, which resumes from the `.partial` files; an input that kills
its worker `distributed.scheduler.allowed-failures` times (3) is recorded as failed, as is an input that fails
on its own; Ctrl-C or `should_stop()` sets the run's stop event, the tasks keep their partials, and a run with
`resume=True` does only what is left.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Dict, List, Optional, Sequence

from gazenet_app.core.errors import ExportError, GazenetError
from gazenet_app.corpus.cluster import ClusterInfo, ClusterSpec, check_shared_paths, connect
from gazenet_app.corpus.inputs import CorpusItem
from gazenet_app.corpus.job import CorpusJob
from gazenet_app.corpus.report import SUMMARY_NAME, ItemResult, summary_line, write_corpus_csv
from gazenet_app.corpus.task import CONFIG_ERRORS, annotate_item, progress_topic, stop_event_name

__all__ = ["CorpusProgress", "CorpusReport", "run_corpus", "count_frames"]

log = logging.getLogger(__name__)

#: Seconds the client waits for running tasks to stop and keep their partials after Ctrl-C / should_stop.
STOP_GRACE_S = 30.0


@dataclass
class CorpusProgress:
    """Where a run stands: frames over the whole corpus (resumed prefixes included) and inputs finished; `input`
    is the one this update is about, with its frames, and `result` is set when it has just finished (the app
    shows each input's row from these)."""

    frames_done: int
    frames_total: int
    inputs_done: int
    inputs_total: int
    running: Dict[str, str] = field(default_factory=dict)  # input -> worker
    input: str = ""
    input_done: int = 0
    input_total: int = 0
    result: Optional[ItemResult] = None


@dataclass
class CorpusReport:
    """A run's outcome: one `ItemResult` per input (corpus order), the summary line, corpus.csv's path."""

    results: List[ItemResult]
    summary: str
    csv: Path
    cluster: str
    dashboard: Optional[str]
    interrupted: bool = False
    processed_frames: int = 0
    wall_s: float = 0.0
    per_worker: Dict[str, dict] = field(default_factory=dict)


def count_frames(item: CorpusItem, stride: int = 1) -> int:
    """The input's frames on the stride grid (0 when it cannot be opened: the task will say why)."""
    from gazenet_app.core.video import open_source

    try:
        with open_source(item.path) as src:
            return -(-(src.frame_count or 0) // stride)
    except GazenetError:
        return 0


class _Tracker:
    """The client's view of the tasks: frames per input from their progress events (thread-safe)."""

    def __init__(self, totals: Dict[str, int], callback: Optional[Callable[[CorpusProgress], None]]) -> None:
        self.totals, self.callback = totals, callback
        self.frames: Dict[str, int] = dict.fromkeys(totals, 0)
        self.running: Dict[str, str] = {}
        self.done_inputs = 0
        self.lock = threading.Lock()

    def event(self, event) -> None:
        """A task's progress event, `(time, {input, done, worker, pid})` (called from the client's loop)."""
        msg = event[1]
        with self.lock:
            self.frames[msg["input"]] = int(msg["done"])
            self.running[msg["input"]] = msg["worker"]
        self._report(msg["input"])

    def finished(self, result: ItemResult) -> None:
        """A task returned: a finished input counts all its frames."""
        with self.lock:
            self.running.pop(result.input, None)
            self.done_inputs += 1
            if result.done:
                self.frames[result.input] = self.totals[result.input]
        self._report(result.input, result)

    def _report(self, name: str, result: Optional[ItemResult] = None) -> None:
        if self.callback is None:
            return
        with self.lock:
            p = CorpusProgress(sum(self.frames.values()), sum(self.totals.values()), self.done_inputs,
                               len(self.totals), dict(self.running), name, self.frames[name], self.totals[name],
                               result)
        self.callback(p)


def _plan(items: Sequence[CorpusItem], job: CorpusJob, resume: bool) -> Dict[str, ItemResult]:
    """Inputs already finished (only with `resume`); ExportError when partials exist and `resume` is off."""
    done: Dict[str, ItemResult] = {}
    for item in items:
        partials = job.partials(item)
        if partials and not resume:
            raise ExportError(f"{partials[0]} exists from an interrupted run: pass --resume to continue the corpus, "
                              f"or delete it to start that input over")
        finished = job.finished(item) if resume else None
        if finished is not None:
            done[item.relative] = finished
    return done


def _outcome(fut, item: CorpusItem) -> ItemResult:
    """A finished task's result; a task that raised a settings error re-raises it (the run stops)."""
    from distributed import KilledWorker

    if fut.status == "finished":
        return fut.result()
    if fut.status == "cancelled":
        return ItemResult(item.relative, "stopped", "cancelled")
    exc = fut.exception()
    if isinstance(exc, CONFIG_ERRORS):
        raise exc
    if isinstance(exc, KilledWorker):
        return ItemResult(item.relative, "failed", "the worker annotating it died too often (killed, out of "
                          "memory, or crashed on this input); see distributed.scheduler.allowed-failures")
    return ItemResult(item.relative, "failed", f"{type(exc).__name__}: {exc}")


def _stop(client, futures: Dict[object, CorpusItem], results: Dict[str, ItemResult]) -> None:
    """After the stop event is set: let the tasks close their partials (a grace period), record every task the
    loop had not taken yet (finished ones included), cancel the rest."""
    from distributed import wait

    try:
        wait([f for f in futures if not f.done()], timeout=STOP_GRACE_S)
    except TimeoutError:
        pass
    for fut, item in futures.items():
        if results[item.relative].status != "pending":
            continue  # taken by the loop already
        results[item.relative] = (_outcome(fut, item) if fut.done()
                                  else ItemResult(item.relative, "stopped", "did not stop in time"))
    client.cancel([f for f in futures if not f.done()], force=True)


def _account(per_worker: Dict[str, dict], result: ItemResult) -> None:
    w = per_worker[result.worker]
    w["inputs"] += 1
    w["frames"] += result.processed
    w["busy_s"] += result.seconds
    w["load_s"] += result.load_s


def _log_worker_rates(per_worker: Dict[str, dict]) -> None:
    for worker, w in sorted(per_worker.items()):
        fps = w["frames"] / w["busy_s"] if w["busy_s"] > 0 else 0.0
        log.info("worker %s: %d inputs, %d frames in %.1f s busy (%.1f fps), model load %.1f s",
                 worker, w["inputs"], w["frames"], w["busy_s"], fps, w["load_s"])


def run_corpus(job: CorpusJob, items: Sequence[CorpusItem], *, cluster: ClusterSpec = ClusterSpec(),
               resume: bool = False, progress: Optional[Callable[[CorpusProgress], None]] = None,
               should_stop: Optional[Callable[[], bool]] = None,
               on_cluster: Optional[Callable[[ClusterInfo], None]] = None) -> CorpusReport:
    """Annotate `items` with `job` on `cluster`; writes OUTDIR/corpus.csv and returns the report.

    `progress(CorpusProgress)` on every progress event (from a Dask thread); `should_stop()` is polled about
    five times a second (True: stop like Ctrl-C); `on_cluster(info)` once the cluster is up (its dashboard).
    Raises GazenetError for a setting every input would fail on (model, detector) or a cluster problem. After
    Ctrl-C (KeyboardInterrupt) or a stop the report has `interrupted` set; `resume=True` does what is left.
    """
    t_begin = time.perf_counter()
    outdir = Path(job.outdir)
    try:
        outdir.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise ExportError(f"cannot create folder {outdir}: {e.strerror or e}") from None
    results: Dict[str, ItemResult] = {i.relative: ItemResult(i.relative) for i in items}
    results.update(_plan(items, job, resume))
    todo = [i for i in items if not results[i.relative].done]
    if len(todo) < len(items):
        log.info("resuming: %d of %d inputs already done, %d left", len(items) - len(todo), len(items), len(todo))
    totals = {i.relative: count_frames(i, job.stride) for i in todo}
    tracker = _Tracker(totals, progress)
    per_worker: Dict[str, dict] = defaultdict(lambda: {"inputs": 0, "frames": 0, "busy_s": 0.0, "load_s": 0.0})
    interrupted, run_id = False, uuid.uuid4().hex[:12]
    info = ClusterInfo("nothing left to do", None, 0)
    if todo:
        from distributed import Event, as_completed

        with connect(cluster) as (client, info):
            log.info("%s", info.description)
            if info.dashboard:
                log.info("dashboard: %s", info.dashboard)
            if on_cluster is not None:
                on_cluster(info)
            check_shared_paths(client, outdir, [i.path for i in todo])
            stop = Event(stop_event_name(run_id), client=client)
            client.subscribe_topic(progress_topic(run_id), tracker.event)
            # longest inputs first, so the last tasks are short and the workers finish together
            futures = {client.submit(annotate_item, item, job, run_id, key=f"annotate-{run_id}-{n}",
                                     priority=totals[item.relative], pure=False): item
                       for n, item in enumerate(todo)}
            pending = as_completed(futures)
            try:
                while not pending.is_empty():
                    if should_stop is not None and should_stop():
                        raise KeyboardInterrupt
                    for fut in (pending.next_batch(block=False) if pending.has_ready() else ()):
                        item = futures[fut]
                        result = results[item.relative] = _outcome(fut, item)
                        tracker.finished(result)
                        if result.worker:
                            _account(per_worker, result)
                        log.info("%s: %s%s, %d frames, %.1f s on %s", item.relative, result.status,
                                 f" ({result.reason})" if result.reason else "", result.frames, result.seconds,
                                 result.worker or "-")
                    time.sleep(0.2)
            except KeyboardInterrupt:
                interrupted = True
                log.warning("stopping: the running inputs keep their .partial files for --resume")
                stop.set()
                _stop(client, futures, results)
            finally:
                client.unsubscribe_topic(progress_topic(run_id))
    processed = sum(results[k].processed for k in totals)
    wall = time.perf_counter() - t_begin
    _log_worker_rates(per_worker)
    ordered = [results[i.relative] for i in items]
    csv_path = write_corpus_csv(outdir / SUMMARY_NAME, ordered)
    return CorpusReport(ordered, summary_line(ordered, processed, wall), csv_path, info.description,
                        info.dashboard, interrupted, processed, wall, dict(per_worker))
