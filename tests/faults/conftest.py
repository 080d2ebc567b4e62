"""Fault-suite fixtures: the CLI with fakes (all of the pipeline, or only the detector), the app's worker."""

from __future__ import annotations

import json
import os
from typing import Dict, List

import pytest

from faults.support import make_backend as _make_backend
from faults.support import rows_of
from fixtures.fakes import FakeDetector, FakePoseModel, code_boxes


# ---- figures ---------------------------------------------------------------------------------------------

class Figures:
    """Numbers the fault cases measure (rows expected and on disk, RSS, handles), for docs/reliability.md.

    Written as JSON to $GAZENET_FAULT_FIGURES at the end of the session (scripts/reliability_report.py).
    """

    def __init__(self) -> None:
        self.cases: Dict[str, dict] = {}

    def record(self, case: str, **values) -> None:
        """Store one case's figures (a later record of the same case replaces it)."""
        self.cases[case] = values

    def csv_rows(self, case: str, expected: int, path) -> None:
        """Rows a case must end with, against the whole rows of a gazenet CSV on disk (and their duplicates:
        rows with the same source, frame and face id)."""
        rows = rows_of(path)
        whole = [tuple(r) for r in rows[1:] if len(r) == len(rows[0])]
        keys = {(r[0], r[1], r[3]) for r in whole}
        self.record(case, rows_expected=expected, rows_on_disk=len(keys), duplicates=len(whole) - len(keys))


@pytest.fixture(scope="session")
def figures():
    """The session's `Figures`; dumped to $GAZENET_FAULT_FIGURES when that is set."""
    figs = Figures()
    yield figs
    path = os.environ.get("GAZENET_FAULT_FIGURES")
    if path:
        with open(path, "w", encoding="utf-8") as fh:
            json.dump(figs.cases, fh, indent=1, sort_keys=True)


# ---- the CLI ---------------------------------------------------------------------------------------------

@pytest.fixture
def fake_cli(monkeypatch):
    """`gazenet` with its whole pipeline replaced by the fakes; returns the list of pipelines it built."""
    import gazenet_app.cli.common as common
    from gazenet_app.pipeline import Pipeline

    built = []

    def build(args, smoothing=False, detect_every=1, boxes_for=None):
        pipe = Pipeline(FakeDetector(), FakePoseModel(), detect_every=detect_every)
        built.append(pipe)
        return pipe

    monkeypatch.setattr(common, "build_pipeline", build)
    return built


@pytest.fixture
def fake_detector_cli(monkeypatch):
    """`gazenet` with a fake detector but the real model loading (`--model` faults reach the real loader).

    Set `.boxes_for` on the returned object to change what the detector finds.
    """
    import gazenet_app.cli.common as common

    class Hook:
        boxes_for = staticmethod(code_boxes)
        detectors: List[FakeDetector] = []

    def build_detector(args):
        det = FakeDetector(Hook.boxes_for)
        Hook.detectors.append(det)
        return det

    Hook.detectors = []
    monkeypatch.setattr(common, "build_detector", build_detector)
    return Hook


# ---- the app's worker ----------------------------------------------------------------------------------------

@pytest.fixture
def make_backend():
    """Factory of the fault backend (`faults.support.make_backend`)."""
    pytest.importorskip("PySide6")
    return _make_backend


@pytest.fixture
def start_worker(qtbot):
    """Start a PipelineWorker + controller (no window) on the fault backend; every one must stop after the test."""
    pytest.importorskip("pytestqt")
    from fixtures.workers import worker_controllers

    yield from worker_controllers(qtbot, _make_backend, timeout=20000)


