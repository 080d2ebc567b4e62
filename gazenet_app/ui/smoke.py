"""`gazenet-app --smoke-test INPUT -o CSV`: the real window and worker thread, every frame, compared with core.

The window opens (offscreen when there is no display), the worker records INPUT to CSV in annotation mode (no
pacing, every frame processed, nothing dropped on the results path). The same input then goes through the
Qt-free annotation loop (`gazenet_app.pipeline.annotate`, what `gazenet annotate` runs) with a fresh pipeline
built from the same options, and the two CSVs must agree: same rows, angles within 0.5 degrees.
"""

from __future__ import annotations

import csv
import logging
import tempfile
import time
from pathlib import Path
from typing import Dict, List, Optional, Tuple

from PySide6.QtCore import QEventLoop, QSettings, QTimer
from PySide6.QtWidgets import QApplication

from gazenet_app.core.results import FINAL_STATUSES
from gazenet_app.ui.backend import PipelineBackend, WorkerOptions

__all__ = ["run_smoke_test", "compare_csv", "ANGLE_TOLERANCE_DEG"]

log = logging.getLogger(__name__)

ANGLE_TOLERANCE_DEG = 0.5
_ANGLES = ("yaw", "pitch", "roll")
_BOX = ("x1", "y1", "x2", "y2")


def _rows(path: str) -> List[Dict[str, str]]:
    with open(path, encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def compare_csv(app_csv: str, reference_csv: str, tol: float = ANGLE_TOLERANCE_DEG) -> Tuple[bool, str]:
    """True when both CSVs have the same rows (source, frame, face, box) and angles within `tol` degrees."""
    a, b = _rows(app_csv), _rows(reference_csv)
    if len(a) != len(b):
        return False, f"{len(a)} rows from the app, {len(b)} from the annotation loop"
    key = lambda r: (r["source"], int(r["frame"]), int(r["face_id"]))  # noqa: E731
    a.sort(key=key)
    b.sort(key=key)
    worst = 0.0
    for ra, rb in zip(a, b):
        if key(ra) != key(rb):
            return False, f"row mismatch: app {key(ra)} vs annotate {key(rb)}"
        for col in _BOX:
            if abs(float(ra[col]) - float(rb[col])) > 1.0:
                return False, f"frame {ra['frame']} face {ra['face_id']}: {col} {ra[col]} vs {rb[col]}"
        if ra["pose_valid"] != rb["pose_valid"]:
            return False, f"frame {ra['frame']} face {ra['face_id']}: pose_valid differs"
        for col in _ANGLES:
            if (ra[col] == "") != (rb[col] == ""):
                return False, f"frame {ra['frame']} face {ra['face_id']}: {col} present in only one file"
            if ra[col] != "":
                d = abs(float(ra[col]) - float(rb[col]))
                worst = max(worst, d)
                if d > tol:
                    return False, f"frame {ra['frame']} face {ra['face_id']}: {col} {ra[col]} vs {rb[col]}"
    return True, f"{len(a)} rows identical, angles within {worst:.3f} deg"


def _wait(condition, timeout_s: float) -> bool:
    """Run the event loop until `condition()` or the time limit; True when the condition held."""
    deadline = time.monotonic() + timeout_s
    loop = QEventLoop()
    timer = QTimer()
    timer.setInterval(20)
    timer.timeout.connect(lambda: loop.quit() if condition() or time.monotonic() > deadline else None)
    timer.start()
    if not condition():
        loop.exec()
    timer.stop()
    return condition()


def run_smoke_test(input_spec: str, output_csv: str, timeout_s: float = 300.0,
                   options: Optional[WorkerOptions] = None,
                   backend: Optional[PipelineBackend] = None) -> Tuple[int, str]:
    """(exit code, reason): 0 only if frames, faces and rows arrived, no worker error, and rows match core's loop."""
    from gazenet_app.ui.main_window import MainWindow

    app = QApplication.instance()
    if app is None:
        raise RuntimeError("a QApplication must exist")
    options = options or WorkerOptions()
    from dataclasses import replace
    options = replace(options, realtime=False)
    backend = backend or PipelineBackend()
    t0 = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="gazenet-smoke-") as tmp:
        settings = QSettings(str(Path(tmp) / "settings.ini"), QSettings.Format.IniFormat)  # user settings untouched
        window = MainWindow(backend=backend, options=options, settings=settings)
        window.show()
        session = window.session
        try:
            if not _wait(lambda: session.state is not None or session.errors, min(timeout_s, 120.0)):
                return 1, "the worker did not start (no state reported)"
            if session.errors:
                return 1, f"worker error at start: {session.errors[0]}"
            output_csv = str(Path(output_csv).resolve())
            t_open = time.monotonic()
            session.open(input_spec, record_to=output_csv)
            left = max(1.0, timeout_s - (time.monotonic() - t0))
            if not _wait(lambda: session.ended_reason is not None or session.errors, left):
                return 1, f"timed out after {timeout_s:.0f} s ({session.frames_received} frames processed)"
            run_s = time.monotonic() - t_open
            if session.errors:
                return 1, f"worker error: {session.errors[0]}"
            session.controller.stop_recording()
            if not _wait(lambda: Path(output_csv).exists() or session.errors, 30.0):
                return 1, "the recording was not finished: " + (session.errors[0] if session.errors else "no file")
            frames = session.frames_received
            faces = sum(len(r.faces) for r in session.results.values())
            images = window.images_shown
            stats = (f"{frames} frames, {faces} faces, {images} images shown "
                     f"({session.worker.latest.dropped} stale images skipped), {frames / max(run_s, 1e-6):.1f} "
                     f"frames/s through the worker")
        finally:
            stopped = window.shutdown()
            window.close()
            window.deleteLater()
            app.processEvents()
        if not stopped:
            return 1, "the worker thread did not stop"
        if frames == 0:
            return 1, "no frame arrived"
        if faces == 0:
            return 1, f"no face was found in {input_spec} ({stats})"
        rows = len(_rows(output_csv))
        if rows == 0:
            return 1, f"the CSV has no rows ({stats})"
        reference = str(Path(tmp) / "reference.csv")
        summary = backend.annotate_file(input_spec, options, reference)
        if summary.status not in FINAL_STATUSES:
            return 1, f"the reference annotation loop did not complete: {summary.status}"
        ok, detail = compare_csv(output_csv, reference)
        if not ok:
            return 1, f"rows differ from the annotation loop: {detail}"
    return 0, f"{stats}; {rows} rows in {output_csv}; {detail} ({time.monotonic() - t0:.1f} s)"
