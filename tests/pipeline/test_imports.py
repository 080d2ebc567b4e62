"""The pipeline and the CLI entry point load no Qt and no MXNet (the CLI imports heavy modules inside run())."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _run(code: str) -> str:
    """stdout of `code` in a fresh interpreter on the source tree."""
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT,
                          env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"}, timeout=120)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.strip()


def test_pipeline_and_cli_import_no_qt_and_no_mxnet():
    code = ("import sys; import gazenet_app.pipeline, gazenet_app.cli.main as m; m.build_parser(); "
            "bad = sorted(k for k in sys.modules if k.split('.')[0] in ('PySide6', 'pyqtgraph', 'mxnet', 'torch') "
            "or k.startswith('gazenet_app.ui') or k.startswith('gazenet_app.training')); print(bad)")
    assert _run(code) == "[]"


def test_detection_only_never_imports_the_pose_loader():
    code = ("import sys; from gazenet_app.pipeline import PipelineConfig, _load_model; "
            "assert _load_model(PipelineConfig(estimate_pose=False)) is None; "
            "print(sorted(k for k in sys.modules if k == 'gazenet_app.model_zoo.pose' or k.split('.')[0] == 'mxnet'))")
    assert _run(code) == "[]"
