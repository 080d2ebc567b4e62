"""The bench's output: the machine it ran on, the JSON document and the printed table."""

from __future__ import annotations

import os
import platform
import sys
import time
from typing import Any, Dict, List, Optional

from gazenet_app import usable_cpus

__all__ = ["machine_info", "thread_info", "bench_document", "format_table"]


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _load() -> Optional[List[float]]:
    try:
        return [round(v, 2) for v in os.getloadavg()]
    except (OSError, AttributeError):
        return None


def machine_info() -> Dict[str, Any]:
    """CPU, cores usable by this process, load average, OS, Python and library versions, oneDNN availability."""
    info: Dict[str, Any] = {
        "cpu": _cpu_model(), "logical_cpus": os.cpu_count(),
        "usable_cpus": usable_cpus(),
        "load_average_start": _load(), "os": platform.platform(), "python": platform.python_version(),
        "time_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    try:
        import mxnet as mx

        info["mxnet"] = mx.__version__
        info["mxnet_onednn"] = bool(mx.runtime.Features().is_enabled("MKLDNN"))
    except Exception as exc:  # pragma: no cover - mxnet is a dependency
        info["mxnet"] = f"unavailable ({exc})"
    if "torch" in sys.modules:
        info["torch"] = sys.modules["torch"].__version__
    import numpy as np

    info["numpy"] = np.__version__
    return info


def thread_info(requested: Optional[int], applied_before_mxnet: bool) -> Dict[str, Any]:
    """The thread counts in force: OMP_NUM_THREADS (MXNet's oneDNN/OpenMP pool) and torch's intra-op threads."""
    out: Dict[str, Any] = {"requested": requested, "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS"),
                           "MXNET_CPU_WORKER_NTHREADS": os.environ.get("MXNET_CPU_WORKER_NTHREADS"),
                           "mxnet_threads_applied": applied_before_mxnet}
    if "torch" in sys.modules:
        out["torch_num_threads"] = sys.modules["torch"].get_num_threads()
    return out


def bench_document(machine: Dict[str, Any], threads: Dict[str, Any], rows: List[Dict[str, Any]],
                   pipeline: List[Dict[str, Any]], memory: Dict[str, Any], settings: Dict[str, Any],
                   notes: List[str]) -> Dict[str, Any]:
    """The `--json` document: {"machine", "threads", "settings", "rows", "pipeline", "memory", "notes"}."""
    machine = dict(machine)
    machine["load_average_end"] = _load()
    return {"machine": machine, "threads": threads, "settings": settings, "rows": rows, "pipeline": pipeline,
            "memory": memory, "notes": notes}


def _fmt(v: Any, spec: str = ".2f") -> str:
    if v is None:
        return "-"
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return format(v, spec)
    return str(v)


def format_table(doc: Dict[str, Any]) -> str:
    """Markdown tables of the rows, the pipeline runs and the memory figures."""
    lines = []
    m, t = doc["machine"], doc["threads"]
    lines.append(f"machine: {m.get('cpu')}, {m.get('usable_cpus')} usable cores, load average "
                 f"{m.get('load_average_start')} -> {m.get('load_average_end')}; mxnet {m.get('mxnet')} "
                 f"(oneDNN {m.get('mxnet_onednn')}), torch {m.get('torch', '-')}")
    lines.append(f"threads: OMP_NUM_THREADS={t.get('OMP_NUM_THREADS')}, torch {t.get('torch_num_threads', '-')}"
                 + ("" if t.get("mxnet_threads_applied", True) else " (MXNet was loaded before the thread count was set)"))
    lines.append("")
    lines.append("| what | mode | batch | ms/face | faces/s | x PyTorch (paired median) | MAE cost (deg) |")
    lines.append("|---|---|---|---|---|---|---|")
    for r in doc["rows"]:
        if r.get("skipped"):
            lines.append(f"| {r['what']} | {r['mode']} | - | - | - | - | skipped: {r['skipped']} |")
            continue
        mae = r["mae_delta"]
        lines.append(f"| {r['what']} | {r['mode']} | {r['batch']} | {_fmt(r['ms_per_face'])} | "
                     f"{_fmt(r['faces_per_s'], '.1f')} | {_fmt(r['ratio_to_torch'], '.3f')} | "
                     f"{_fmt(mae, '+.3f') if isinstance(mae, (int, float)) else _fmt(mae)} |")
    if doc["pipeline"]:
        lines.append("")
        lines.append("| pipeline (640x480) | faces | preset | detect every | FPS | model | median ms: decode / detect "
                     "/ track / crop / pose / draw |")
        lines.append("|---|---|---|---|---|---|---|")
        for p in doc["pipeline"]:
            if p.get("skipped"):
                lines.append(f"| end to end | {p['faces']} | {p['preset']} | {p['detect_every']} | - | "
                             f"{p.get('model', '-')} | skipped: {p['skipped']} |")
                continue
            s = p.get("stage_ms_median", {})
            stages = " / ".join(_fmt(s.get(k), ".1f") for k in ("decode", "detect", "track", "crop", "pose", "draw"))
            lines.append(f"| end to end | {p['faces']} | {p['preset']} | {p['detect_every']} | {_fmt(p['fps'], '.1f')} "
                         f"| {p.get('model', '-')} ({p.get('mode', '-')}) | {stages} |")
    mem = doc.get("memory") or {}
    if mem:
        lines.append("")
        lines.append("| memory | frames | peak RSS MB | RSS first / last quarter max MB | wall s | note |")
        lines.append("|---|---|---|---|---|---|")
        for key, v in mem.items():
            if not isinstance(v, dict):
                continue
            if v.get("skipped"):
                lines.append(f"| {key} | {v.get('frames', '-')} | - | - | - | skipped: {v['skipped']} |")
                continue
            lines.append(f"| {key} | {v.get('frames')} | {_fmt(v.get('peak_rss_mb'), '.0f')} | "
                         f"{_fmt(v.get('rss_first_quarter_max_mb'), '.0f')} / {_fmt(v.get('rss_last_quarter_max_mb'), '.0f')} "
                         f"| {_fmt(v.get('wall_s'), '.0f')} | {v.get('error') or v.get('note') or ''} |")
    for n in doc.get("notes", []):
        lines.append(f"note: {n}")
    return "\n".join(lines)
