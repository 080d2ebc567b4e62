"""The real thing: scripts/build_and_smoke.sh builds the one-folder app with PyInstaller and smoke-tests the built
binary on a real face clip. About 1-2 minutes; set GAZENET_SKIP_BUNDLE=1 to skip it."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SKIP_ENV = "GAZENET_SKIP_BUNDLE"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.shared,
    pytest.mark.skipif(os.environ.get(SKIP_ENV, "") not in ("", "0"), reason=f"{SKIP_ENV} is set"),
    pytest.mark.skipif(sys.platform == "win32" or shutil.which("bash") is None, reason="the build script is bash"),
]


def test_build_and_smoke_the_bundle(faces_dir, tmp_path):
    pytest.importorskip("PyInstaller", reason="install the build extra: pip install -e '.[build]'")
    out = tmp_path / "dist"
    env = dict(os.environ, PYTHON=sys.executable, TMPDIR=str(tmp_path))
    env.pop("QT_QPA_PLATFORM", None)  # the script and the app set offscreen themselves
    env.pop("GAZENET_MODELS_DIR", None)
    proc = subprocess.run(["bash", str(ROOT / "scripts" / "build_and_smoke.sh"), "--out", str(out),
                           "--work", str(tmp_path / "work"), "--no-archive"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=1800)
    log = proc.stdout + proc.stderr
    assert proc.returncode == 0, log[-6000:]
    print(log)  # build time, sizes and smoke figures in the test log (-s / -rP)
    assert "bundle checks passed" in log
    assert re.search(r"smoke test passed: [1-9]\d* frames, [1-9]\d* faces", log), log[-3000:]
    assert re.search(r"csv: [1-9]\d* rows, all with yaw/pitch/roll", log), log[-3000:]
    app = out / "gazenet-app"
    assert (app / "gazenet-app").is_file()
    # The test model was only lent to the bundle for the smoke test: nothing random ships.
    assert not list(app.rglob("smoke_tiny_random*"))
    shutil.rmtree(out, ignore_errors=True)  # ~520 MiB: do not keep it in pytest's kept tmp dirs
    shutil.rmtree(tmp_path / "work", ignore_errors=True)
