"""Fault-suite helpers: in-memory sources, a CLI runner, the app's worker backend with fakes, signal waits.

Every fault is tried in both front ends: `gazenet ...` through `cli.main.main` (exit code, `error: ...` on
stderr, rows on disk) and the app's `PipelineWorker` on its QThread (`failed`, `end_of_stream`, the rows of a
recording). The fakes come from tests/fixtures/fakes.py; where the fault is in the weights, the real loader runs.
"""

from __future__ import annotations

import csv
from typing import Callable, Dict, List, Optional, Sequence

import numpy as np

from fixtures.clips import synthetic_frames
from fixtures.fakes import FakeDetector, FakePoseModel, code_boxes
from gazenet_app.core.types import FaceBox
from gazenet_app.core.video import Frame, FrameSource

FAKE_MODEL = "fake-pose"


def rows_of(path) -> List[List[str]]:
    """A CSV file as lists of strings (header first)."""
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.reader(fh))


def data_rows(path) -> List[tuple]:
    """A gazenet CSV's rows without face_id (a resumed run numbers new tracks after the ids already written)."""
    rows = rows_of(path)
    fid = rows[0].index("face_id")
    return [tuple(v for i, v in enumerate(r) if i != fid) for r in rows[1:]]


def cli(argv: Sequence[str], capsys) -> tuple:
    """Run `gazenet argv` in-process: (exit code, stdout, stderr)."""
    import logging

    from gazenet_app.cli.main import main

    try:
        code = main([str(a) for a in argv])
    finally:
        root = logging.getLogger()
        for handler in [h for h in root.handlers if getattr(h, "_gazenet", False)]:
            root.removeHandler(handler)  # it writes to this test's captured stderr, closed after the test
    cap = capsys.readouterr()
    return code, cap.out, cap.err


class ArraySource(FrameSource):
    """Frames from memory: a file-like source (`frame_count` known), or `live` like a camera (no length).

    With `fail_after=k` it stops delivering after k frames and records `error` (an unplugged camera).
    """

    def __init__(self, frames: Sequence[np.ndarray], name: str = "mem", live: bool = False,
                 fail_after: Optional[int] = None, error: str = "camera 7 stopped delivering frames") -> None:
        super().__init__(name)
        self.kind = "camera" if live else "video"
        self._frames = list(frames)
        self._live = live
        self._fail_after = fail_after
        self._message = error
        self.closed_count = 0

    @property
    def fps(self) -> Optional[float]:
        return 30.0

    @property
    def frame_count(self) -> Optional[int]:
        return None if self._live else len(self._frames)

    def _seek(self, index: int) -> None:
        pass

    def _skip(self, count: int, end: Optional[int]) -> None:
        self._pos += count

    def _read(self) -> Optional[Frame]:
        i = self._pos
        if self._fail_after is not None and i >= self._fail_after:
            self.error = self._message
            return None
        if i >= len(self._frames):
            return None
        return Frame(i, i * 1000.0 / 30.0, self._frames[i], self.name)

    def close(self) -> None:
        super().close()
        self.closed_count += 1


class CountingSource(ArraySource):
    """An endless-looking file source of `n` frames generated on the fly (nothing kept in memory)."""

    def __init__(self, n: int, size=(64, 48), name: str = "soak") -> None:
        super().__init__([], name=name)
        self._n = n
        w, h = size
        self._base = synthetic_frames(1, size=(max(64, w), h))[0][:, :w]

    @property
    def frame_count(self) -> Optional[int]:
        return self._n

    def _read(self) -> Optional[Frame]:
        i = self._pos
        if i >= self._n:
            return None
        rgb = self._base.copy()
        rgb[0:8, 0:64] = 0
        for b in range(8):
            if ((i % 256) >> b) & 1:
                rgb[0:8, 8 * b:8 * b + 8] = 255
        return Frame(i, i * 1000.0 / 30.0, rgb, self.name)


def grid_boxes(n: int, width: int = 640, height: int = 480) -> Callable[[np.ndarray], List[FaceBox]]:
    """A detector function returning `n` non-overlapping boxes laid out on a grid."""
    cols = int(np.ceil(np.sqrt(n * width / height)))
    rows = int(np.ceil(n / cols))
    cw, ch = width / cols, height / rows
    boxes = [FaceBox(c * cw + 4, r * ch + 4, (c + 1) * cw - 4, (r + 1) * ch - 4, 0.99 - 0.01 * k)
             for k, (r, c) in enumerate((k // cols, k % cols) for k in range(n))]
    return lambda rgb: list(boxes)


# ---- the app's worker ------------------------------------------------------------------------------------

def make_backend(**kw):
    """A `PipelineBackend` for the worker: real sources/pipeline/writers/loader, fake detector, fake model."""
    from gazenet_app.ui.backend import PipelineBackend

    class FaultBackend(PipelineBackend):
        """The real sources, pipeline, tracker, writers and model loader; a fake detector (unless a real one
        is named) and the fake pose model under the name "fake-pose"; `sources` maps specs to factories."""

        def __init__(self, boxes_for=code_boxes, sources: Optional[Dict[str, Callable[[], FrameSource]]] = None,
                     default: Optional[str] = FAKE_MODEL) -> None:
            super().__init__()
            self.boxes_for = boxes_for
            self.sources = dict(sources or {})
            self.default = default
            self.opened: List[FrameSource] = []
            self.detectors: List = []

        def default_model(self):
            return self.default

        def catalog(self):
            return {"models": [], "detectors": ["fake", "cascade"], "presets": ["accurate", "live"], "gpus": 0}

        def open_source(self, spec):
            key = spec if isinstance(spec, str) else None
            source = self.sources[key]() if key in self.sources else super().open_source(spec)
            self.opened.append(source)
            return source

        def load_pose_model(self, name_or_path, device, precision=None):
            if name_or_path == FAKE_MODEL:
                return FakePoseModel()
            return super().load_pose_model(name_or_path, device, precision)

        def make_detector(self, name, preset, threshold):
            det = FakeDetector(self.boxes_for) if name == "fake" else super().make_detector(name, preset, threshold)
            self.detectors.append(det)
            return det

    return FaultBackend(**kw)


def play_to_end(qtbot, ctl, spec, timeout: int = 30000):
    """Open `spec` in the worker and play it to its end: (results, end_of_stream reason, failed messages)."""
    results, failures = [], []
    ctl.events.frame_processed.connect(results.append)
    ctl.events.failed.connect(failures.append)
    try:
        with qtbot.waitSignal(ctl.events.end_of_stream, timeout=timeout) as ended:
            ctl.open_source(spec)
    finally:
        ctl.events.frame_processed.disconnect(results.append)
        ctl.events.failed.disconnect(failures.append)
    return results, ended.args[0], failures


def open_fails(qtbot, ctl, spec, timeout: int = 20000) -> str:
    """Open `spec` in the worker, expecting `failed`; returns the message."""
    with qtbot.waitSignal(ctl.events.failed, timeout=timeout) as failed:
        ctl.open_source(spec)
    return failed.args[0]
