"""A non-editable install must carry the shipped models and resources inside the package."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_wheel_holds_models_and_resources_as_package_data(tmp_path):
    """`pip wheel .` puts models/ and resources/ under gazenet_app/ (setup.py maps them)."""
    proc = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path), str(ROOT)],
                          capture_output=True, text=True, timeout=600)
    if proc.returncode != 0:
        pytest.fail(f"pip wheel failed: {proc.stderr[-2000:]}")
    wheel = next(tmp_path.glob("gazenet-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    shipped = sorted(p.name for p in (ROOT / "models").iterdir() if p.suffix in (".json", ".params"))
    assert shipped, "no model files in models/"
    for name in shipped:
        assert f"gazenet_app/models/{name}" in names
    for name in ("THIRD_PARTY_NOTICES.md", "canonical_face_model_vertices.txt", "gazenet.desktop"):
        assert f"gazenet_app/resources/{name}" in names
    assert not any(n.startswith(("models/", "resources/", "tests/")) for n in names)
