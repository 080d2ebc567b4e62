"""Peak resident memory of a command, run as a child process (its own interpreter, nothing shared with the bench).

`peak_rss(argv)` samples VmRSS and VmHWM (the kernel's high-water mark of the child's own memory) from /proc while
the child runs; the peak is the last VmHWM seen. (`ru_maxrss` is not used: Linux carries the parent's peak across
fork + exec, so a bench that has loaded PyTorch would report its own size.) The RSS samples show growth: a leak
over a long clip shows as a last quarter well above the first.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence

__all__ = ["peak_rss", "annotate_command", "app_command", "child_env"]


def _status_mb(pid: int) -> Dict[str, float]:
    """VmRSS and VmHWM of a process in MB (empty when it is gone or /proc is unavailable)."""
    out: Dict[str, float] = {}
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith(("VmRSS:", "VmHWM:")):
                    out[line.split(":")[0]] = int(line.split()[1]) / 1024.0
    except (OSError, ValueError, IndexError):
        return {}
    return out


def peak_rss(argv: Sequence[str], env: Optional[Dict[str, str]] = None, timeout_s: float = 3600.0,
             interval_s: float = 0.25, cwd: Optional[str] = None) -> Dict[str, Any]:
    """Run argv; its exit code, wall time, peak RSS (MB) and the RSS samples' first/last-quarter maxima."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(list(argv), env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    samples: List[float] = []
    hwm = 0.0
    status = None
    try:
        while True:
            mem = _status_mb(proc.pid)  # read before reaping: a zombie has no memory figures
            pid, status, _ = os.wait4(proc.pid, os.WNOHANG)
            if pid == proc.pid:
                break
            if "VmRSS" in mem:
                samples.append(mem["VmRSS"])
            hwm = max(hwm, mem.get("VmHWM", 0.0))
            if time.perf_counter() - t0 > timeout_s:
                proc.kill()
                _, status, _ = os.wait4(proc.pid, 0)
                break
            time.sleep(interval_s)
    finally:
        proc.returncode = os.waitstatus_to_exitcode(status) if status is not None else None
        err = proc.stderr.read().decode("utf-8", "replace") if proc.stderr else ""
        if proc.stderr:
            proc.stderr.close()
    q = max(1, len(samples) // 4)
    out = {"returncode": proc.returncode, "wall_s": round(time.perf_counter() - t0, 2),
           "peak_rss_mb": round(hwm, 1) if hwm else None,
           "rss_first_quarter_max_mb": round(max(samples[:q]), 1) if samples else None,
           "rss_last_quarter_max_mb": round(max(samples[-q:]), 1) if samples else None,
           "samples": len(samples)}
    if proc.returncode != 0:
        out["error"] = err.strip().splitlines()[-1][:300] if err.strip() else f"exit code {proc.returncode}"
    return out


def _env() -> Dict[str, str]:
    env = dict(os.environ)
    root = str(Path(__file__).resolve().parents[2])
    env["PYTHONPATH"] = root + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    return env


def annotate_command(clip: str, out_csv: str, model: Optional[str], preset: str = "live",
                     detect_every: int = 1) -> List[str]:
    """argv of `gazenet annotate CLIP -o OUT.csv` in this interpreter."""
    argv = [sys.executable, "-m", "gazenet_app.cli.main", "-q", "annotate", clip, "-o", out_csv, "--preset", preset,
            "--detect-every", str(detect_every), "--no-progress"]
    return argv + (["--model", model] if model else [])


def app_command(clip: str, out_csv: str, model: Optional[str]) -> List[str]:
    """argv of the desktop app's headless run (`python -m gazenet_app --smoke-test CLIP -o OUT.csv`)."""
    argv = [sys.executable, "-m", "gazenet_app", "--smoke-test", clip, "-o", out_csv, "--timeout", "3000"]
    return argv + (["--model", model] if model else [])


def child_env(**extra: str) -> Dict[str, str]:
    """This environment with the package importable from a checkout, plus `extra`."""
    env = _env()
    env.update(extra)
    return env
