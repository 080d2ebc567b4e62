"""`gazenet` in a child process with the fake pipeline slowed per frame, for faults that need a real process: kills,
signals, and two runs at once."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path
from typing import Callable, Sequence

ROOT = Path(__file__).resolve().parents[2]

_SCRIPT = r"""
import sys
sys.path[:0] = [{root!r}, {tests!r}]
import gazenet_app.cli.common as common
from fixtures.fakes import make_fake_pipeline
common.build_pipeline = lambda args, **kw: make_fake_pipeline(delay_s={delay!r})
from gazenet_app.cli.main import main
sys.exit(main(sys.argv[1:]))
"""


def start_slow_gazenet(folder: Path, argv: Sequence, delay_s: float = 0.05) -> subprocess.Popen:
    """Start `gazenet argv` (fake pipeline, `delay_s` per frame) in a child; stdout/stderr piped."""
    script = folder / "slow_gazenet.py"
    script.write_text(_SCRIPT.format(root=str(ROOT), tests=str(ROOT / "tests"), delay=delay_s))
    return subprocess.Popen([sys.executable, str(script), *[str(a) for a in argv]],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def wait_until(proc: subprocess.Popen, ready: Callable[[], bool], timeout: float = 120.0) -> bool:
    """Poll `ready()` until it holds (True) or the child ends / the timeout passes (False)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and proc.poll() is None:
        if ready():
            return True
        time.sleep(0.01)
    return False


def lines_in(path: Path) -> int:
    """Complete lines in a file (0 when it does not exist)."""
    try:
        return path.read_bytes().count(b"\n")
    except OSError:
        return 0


def finish(proc: subprocess.Popen, timeout: float = 60.0):
    """Wait for the child (killing it if it overruns): (return code, stdout, stderr)."""
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
    return proc.returncode, out, err
