"""UI fixtures: a backend with the fake detector/pose model (fast, exact), a window on throwaway QSettings."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import pytest

pytest.importorskip("PySide6")
pytest.importorskip("pytestqt")

from PySide6.QtCore import QSettings  # noqa: E402

from gazenet_app.core.errors import ModelLoadError, ModelNotFoundError  # noqa: E402
from gazenet_app.ui.backend import PipelineBackend, WorkerOptions  # noqa: E402


class FakeBackend(PipelineBackend):
    """The real sources, pipeline, tracker, overlays and writers; fake detector and pose model.

    Model names: "fake-pose" (and "other-pose") load; a path to an existing file that is not a model raises
    ModelLoadError (like a broken weights file); anything else raises ModelNotFoundError. The loaded model's card
    names the precision asked for ("auto" loads the "int8" export, as the store's fastest mode would).
    """

    def __init__(self, models=("fake-pose", "other-pose"), default: Optional[str] = "fake-pose",
                 detector_boxes=None) -> None:
        super().__init__()
        self.models = list(models)
        self.default = default
        self.detector_boxes = detector_boxes
        self.loaded = []

    def default_model(self):
        return self.default

    def no_model_message(self):
        return "No pose model installed (fake store): running face detection only."

    def catalog(self):
        return {"models": [{"name": m, "backbone": "fake", "input_size": 32, "eval": "", "default": m == self.default}
                           for m in self.models],
                "detectors": ["fake", "fake2"], "presets": ["accurate", "live"], "gpus": 0}

    def load_pose_model(self, name_or_path, device, precision=None):
        from fixtures.fakes import FakePoseModel
        if name_or_path in self.models:
            model = FakePoseModel()
            model.name = name_or_path
            chosen = "int8" if precision in (None, "auto") else precision
            model.card = {**FakePoseModel.card, "name": name_or_path, "precision": chosen}
            self.loaded.append((name_or_path, chosen))
            return model
        if Path(str(name_or_path)).exists():
            raise ModelLoadError(f"{name_or_path} is not a gazenet model (no valid card or weights)")
        raise ModelNotFoundError(f"no model named {name_or_path!r}")

    def build_pipeline(self, options):
        """The batch's and export's pipeline from the same fakes (a fresh tracker: never the worker's)."""
        name = options.model or self.default_model()
        model = self.load_pose_model(name, options.device) if name else None
        detector = self.make_detector(options.detector, options.preset, options.detector_threshold)
        return PipelineBackend().make_pipeline(detector, model, options)

    def make_detector(self, name, preset, threshold):
        from fixtures.fakes import FakeDetector
        if name not in ("fake", "fake2"):
            raise ValueError(f"unknown detector {name!r}; valid: fake, fake2")
        det = FakeDetector() if self.detector_boxes is None else FakeDetector(self.detector_boxes)
        det.name = name
        return det


@pytest.fixture
def fake_backend():
    return FakeBackend()


@pytest.fixture
def qsettings(tmp_path) -> QSettings:
    """Settings in a temp ini file (the user's real settings are never touched)."""
    return QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)


@pytest.fixture
def fast_options() -> WorkerOptions:
    return WorkerOptions(detector="fake", realtime=False)


@pytest.fixture
def make_window(qtbot, qsettings, fake_backend, fast_options):
    """Build a MainWindow on the fake backend; waits until its worker reported its state; stops it after."""
    from gazenet_app.ui.main_window import MainWindow
    windows = []

    def make(backend=None, options=None, settings=None):
        window = MainWindow(backend=backend or fake_backend, options=options or fast_options,
                            settings=settings or qsettings)
        qtbot.addWidget(window)
        windows.append(window)
        qtbot.waitUntil(lambda: window.session.state is not None, timeout=30000)  # first MXNet import: slow
        return window

    yield make
    for w in windows:
        assert w.shutdown(), "worker thread did not stop"
        assert not w.controller.thread.isRunning()
