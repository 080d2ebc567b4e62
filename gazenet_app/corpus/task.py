"""The worker side of a corpus run: one task per input, the same annotation loop as `gazenet annotate`.

Each worker thread builds its pipeline once per job config (the model loads once per worker, not per task) and
reuses it. A task resumes from the input's `.partial` files when an earlier attempt left them (the scheduler
re-runs the tasks of a worker that died), so no row is lost or written twice. A failure of the input itself
(unreadable video, an output that cannot be written) is returned as a `failed` result, never raised: the
scheduler does not retry it. Progress goes to the client as Dask events on the run's topic.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from typing import Dict, Optional, Tuple

from gazenet_app.core.errors import (CardError, DependencyError, DetectorError, GazenetError, ModelLoadError,
                                     ModelNotFoundError)
from gazenet_app.corpus.inputs import CorpusItem
from gazenet_app.corpus.job import CorpusJob
from gazenet_app.corpus.report import ItemResult
from gazenet_app.pipeline import Pipeline, PipelineConfig, annotate, build_pipeline

__all__ = ["annotate_item", "cached_pipeline", "progress_topic", "stop_event_name", "CONFIG_ERRORS",
           "PROGRESS_INTERVAL_S"]

log = logging.getLogger(__name__)

#: Errors of the job's settings rather than of one input: the run stops on the first (every input would fail).
CONFIG_ERRORS = (ModelNotFoundError, ModelLoadError, CardError, DetectorError, DependencyError)
#: Seconds between two progress events of a task (and between two looks at the run's stop flag).
PROGRESS_INTERVAL_S = 0.5

_local = threading.local()


def progress_topic(run_id: str) -> str:
    """The Dask event topic a run's tasks report progress on."""
    return f"gazenet-corpus-progress-{run_id}"


def stop_event_name(run_id: str) -> str:
    """The `distributed.Event` the client sets to stop a run's tasks (Ctrl-C, the app's Stop)."""
    return f"gazenet-corpus-stop-{run_id}"


def cached_pipeline(config: PipelineConfig) -> Tuple[Pipeline, float]:
    """(pipeline, seconds spent building it): built once per worker thread and config, then reused (0 s)."""
    cache: Dict[PipelineConfig, Pipeline] = getattr(_local, "pipelines", None) or {}
    _local.pipelines = cache
    if config in cache:
        return cache[config], 0.0
    cache.clear()  # one model per thread: a new job's config replaces the last one
    t0 = time.perf_counter()
    cache[config] = build_pipeline(config)
    return cache[config], time.perf_counter() - t0


def _worker_name() -> str:
    try:
        from distributed import get_worker

        return get_worker().address
    except (ImportError, ValueError):
        return f"{socket.gethostname()}:{os.getpid()}"


class _Reporter:
    """One task's progress events and stop flag, through its worker (inert when not run on a Dask worker).

    `frames`: the input's frames on the stride grid, so a resumed attempt reports the frames already done too.
    """

    def __init__(self, run_id: Optional[str], item: CorpusItem, frames: int) -> None:
        self.item, self.frames = item, frames
        self._sent = self._checked = 0.0
        self._stopped = False
        self._offset: Optional[int] = None
        try:
            from distributed import Event, get_worker

            self._worker = get_worker()
        except (ImportError, ValueError):
            self._worker = None
            return
        self._topic, self._stop = progress_topic(run_id), Event(stop_event_name(run_id))

    def progress(self, done: int, total: Optional[int]) -> None:
        """`annotate`'s progress(done, total) -> an event {input, done, worker, pid} at most every interval."""
        if self._worker is None:
            return
        if self._offset is None:  # `total` counts what this attempt has left: the rest was done before
            self._offset = max(0, self.frames - (total or 0))
        now = time.monotonic()
        if done == 0 or done == total or now - self._sent >= PROGRESS_INTERVAL_S:
            self._sent = now
            self._worker.log_event(self._topic, {"input": self.item.relative, "done": self._offset + done,
                                                 "worker": self._worker.address, "pid": os.getpid()})

    def should_stop(self) -> bool:
        """True once the client set the run's stop event (looked up at most every interval)."""
        now = time.monotonic()
        if self._worker is not None and not self._stopped and now - self._checked >= PROGRESS_INTERVAL_S:
            self._checked = now
            self._stopped = self._stop.is_set()
        return self._stopped


def annotate_item(item: CorpusItem, job: CorpusJob, run_id: Optional[str] = None) -> ItemResult:
    """Annotate one input into OUTDIR (resuming its partials); its `ItemResult`, failures included."""
    from gazenet_app.core.video import open_source

    t0 = time.perf_counter()
    result = ItemResult(item.relative, worker=_worker_name())
    done = job.finished(item)
    if done is not None:  # an earlier attempt finished it (its worker died before reporting)
        done.worker = result.worker
        return done
    try:
        source = open_source(item.path)
        try:
            reporter = _Reporter(run_id, item, -(-(source.frame_count or 0) // job.stride))
            if reporter.should_stop():  # the run was stopped before this input started: leave it untouched
                result.status = "stopped"
                return result
            pipeline, result.load_s = cached_pipeline(job.config)
            summary = annotate(source, pipeline, job.outputs(item), stride=job.stride,
                               resume=bool(job.partials(item)), progress=reporter.progress,
                               should_stop=reporter.should_stop)
        finally:
            source.close()
    except CONFIG_ERRORS:
        raise  # the client stops the run: every input would fail the same way
    except GazenetError as e:
        result.status, result.reason = "failed", str(e)
    except Exception as e:  # noqa: BLE001 - a decoder or writer bug on one input must not sink the corpus
        log.exception("annotating %s failed", item.path)
        result.status, result.reason = "failed", f"{type(e).__name__}: {e}"
    else:
        result.status = summary.status
        result.reason = summary.ended_early or ""
        first = summary.first_frame or 0
        result.frames = -(-first // job.stride) + summary.frames
        result.processed = summary.frames
        result.rows = result.faces = summary.rows
        if summary.resumed_after is not None:
            result.resumed_after = str(summary.resumed_after)
    result.seconds = time.perf_counter() - t0
    return result
