"""Long runs: 10,000 small frames through the pipeline and the annotation loop (fake detector and pose model,
the real tracker and writers) with a generous bound on RSS growth, and 50 open/close cycles of sources in the
app's worker (plus worker start/stop cycles) without leaked threads or file handles.

The bound only catches leaks (a frame's worth of memory kept per frame would be ~90 MB here); the figures
(RSS growth, time) are printed by scripts/reliability_report.py.
"""

from __future__ import annotations

import gc
import os
import threading
import time

import cv2
import pytest

from faults.support import CountingSource, rows_of
from fixtures.clips import synthetic_frames
from fixtures.fakes import FakeDetector, FakePoseModel
from gazenet_app.core.types import FaceBox

SOAK_FRAMES = 10_000
WARMUP_FRAMES = 1_000
RSS_BOUND_MB = 64.0
CYCLES = 50


def rss_mb() -> float:
    """Resident set size of this process (MB), from /proc."""
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024.0
    raise RuntimeError("no VmRSS in /proc/self/status")


def open_fds() -> list:
    """The targets of this process's open file descriptors."""
    out = []
    for fd in os.listdir("/proc/self/fd"):
        try:
            out.append(os.readlink(f"/proc/self/fd/{fd}"))
        except OSError:  # the descriptor listdir itself used, closed since
            pass
    return sorted(out)


def thread_count() -> int:
    """OS threads of this process (Python's and native ones: Qt, OpenCV, MXNet)."""
    return len(os.listdir("/proc/self/task"))


def _moving_boxes(rgb):
    """Two faces in a 64x48 frame that move with the frame's code, so tracks and smoothing stay busy."""
    from fixtures.clips import frame_code

    i = abs(frame_code(rgb) % 32 - 16)  # 0..16..0: one pixel per frame, no jumps
    return [FaceBox(2.0 + i, 4.0, 26.0 + i, 28.0, 0.9), FaceBox(40.0 - i, 14.0, 62.0 - i, 40.0, 0.8)]


@pytest.mark.skipif(not os.path.exists("/proc/self/status"), reason="needs /proc")
def test_soak_10000_frames_rss_bounded_and_no_row_lost(tmp_path, figures):
    from gazenet_app.pipeline import AnnotateOutputs, Pipeline, annotate

    pipeline = Pipeline(FakeDetector(_moving_boxes), FakePoseModel(input_size=32))
    outputs = AnnotateOutputs(csv=tmp_path / "soak.csv", jsonl=tmp_path / "soak.jsonl")
    marks = {}

    def progress(done, total):
        if done == WARMUP_FRAMES:
            gc.collect()
            marks["rss_warm"] = rss_mb()
            marks["t_warm"] = time.perf_counter()

    gc.collect()
    rss_start = rss_mb()
    with CountingSource(SOAK_FRAMES, size=(64, 48)) as source:
        summary = annotate(source, pipeline, outputs, progress=progress)
    gc.collect()
    rss_end = rss_mb()
    rows = rows_of(outputs.csv)
    jsonl_lines = sum(1 for _ in open(outputs.jsonl, encoding="utf-8"))
    growth = rss_end - marks["rss_warm"]
    figures.csv_rows("soak: 10,000 frames (pipeline + writers)", 2 * SOAK_FRAMES, outputs.csv)
    figures.record("soak", frames=summary.frames,
                   rss_start_mb=round(rss_start, 1), rss_after_warmup_mb=round(marks["rss_warm"], 1),
                   rss_end_mb=round(rss_end, 1), rss_growth_mb=round(growth, 1),
                   frames_per_s=round((SOAK_FRAMES - WARMUP_FRAMES) / (time.perf_counter() - marks["t_warm"]), 1))
    assert summary.status == "complete" and summary.frames == SOAK_FRAMES and summary.rows == 2 * SOAK_FRAMES
    assert len(rows) == 1 + 2 * SOAK_FRAMES and jsonl_lines == SOAK_FRAMES
    assert [int(r[1]) for r in rows[1::2]] == list(range(SOAK_FRAMES))
    assert len({r[3] for r in rows[1:]}) == 2  # the two faces keep their ids over all 10,000 frames
    assert growth < RSS_BOUND_MB, f"RSS grew {growth:.1f} MB over {SOAK_FRAMES - WARMUP_FRAMES} frames"


@pytest.fixture
def cycle_inputs(tmp_path):
    """A clip, a folder of images and one image: the kinds of source the app opens."""
    from fixtures.clips import write_clip

    frames = synthetic_frames(4)
    clip = write_clip(tmp_path / "clip.avi", frames)
    folder = tmp_path / "images"
    folder.mkdir()
    for i, f in enumerate(frames):
        cv2.imwrite(str(folder / f"{i}.png"), cv2.cvtColor(f, cv2.COLOR_RGB2BGR))
    return [str(clip), str(folder), str(folder / "0.png")]


@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="needs /proc")
def test_50_source_cycles_leak_no_threads_or_file_handles(start_worker, qtbot, cycle_inputs, tmp_path, figures):
    ctl = start_worker()

    def cycle(k: int) -> None:
        spec = cycle_inputs[k % len(cycle_inputs)]
        record = str(tmp_path / f"rec{k}.csv") if k % 5 == 0 else None  # a recording now and then, too
        with qtbot.waitSignal(ctl.events.frame_processed, timeout=20000):
            ctl.open_source(spec, record_to=record, play=(k % 2 == 0))
        ctl.close_source()

        def closed():
            assert ctl.worker._source is None and ctl.worker._recorder is None

        qtbot.waitUntil(closed, timeout=20000)

    for k in range(len(cycle_inputs)):  # warm-up: codecs, image plugins and thread pools load on first use
        cycle(k)
    gc.collect()
    fds, threads, py_threads = open_fds(), thread_count(), threading.active_count()
    for k in range(CYCLES):
        cycle(k)
    gc.collect()
    fds_after, threads_after = open_fds(), thread_count()
    figures.record("source_cycles", cycles=CYCLES, fds_before=len(fds), fds_after=len(fds_after),
                   threads_before=threads, threads_after=threads_after)
    assert fds_after == fds, "file handles leaked: " + ", ".join(sorted(set(fds_after) - set(fds)))
    assert threads_after == threads and threading.active_count() == py_threads
    finished = sorted(p.name for p in tmp_path.glob("rec*.csv"))
    assert finished == sorted(f"rec{k}.csv" for k in range(0, CYCLES, 5))
    assert not list(tmp_path.glob("*.partial"))  # every recording was finished when its source closed


@pytest.mark.skipif(not os.path.isdir("/proc/self/task"), reason="needs /proc")
def test_worker_start_stop_cycles_leak_no_threads(qtbot, cycle_inputs, figures):
    from faults.support import make_backend
    from gazenet_app.ui.backend import WorkerOptions
    from gazenet_app.ui.worker import PipelineWorker, WorkerController

    def one() -> None:
        worker = PipelineWorker(make_backend(), WorkerOptions(detector="fake", realtime=False))
        ctl = WorkerController(worker)
        sig = ctl.events
        with qtbot.waitSignal(sig.state_changed, timeout=20000):
            ctl.start()
        with qtbot.waitSignal(sig.frame_processed, timeout=20000):
            ctl.open_source(cycle_inputs[0])
        assert ctl.stop(timeout_ms=20000) and not ctl.thread.isRunning()
        assert worker._source is None

    one()
    gc.collect()
    threads, fds = thread_count(), open_fds()
    for _ in range(10):
        one()
    gc.collect()
    figures.record("worker_cycles", cycles=10, threads_before=threads, threads_after=thread_count())
    assert thread_count() == threads and open_fds() == fds
