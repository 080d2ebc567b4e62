"""Writing FrameResults from the app: incremental recording (worker thread) and export of what was processed."""

from __future__ import annotations

import datetime as _dt
from pathlib import Path
from typing import Any, Dict, Iterable, Optional

from gazenet_app import __version__
from gazenet_app.core.errors import ExportError
from gazenet_app.core.results import CsvWriter, JsonlWriter, read_sidecar, sidecar_path, write_sidecar
from gazenet_app.core.types import FrameResult

__all__ = ["Recorder", "export_results", "writer_for", "video_for_annotations"]


def writer_for(path: str, smoothing: bool):
    """A CsvWriter, or a JsonlWriter for `.jsonl`/`.ndjson` paths (not yet opened)."""
    ext = Path(path).suffix.lower()
    if ext in (".jsonl", ".ndjson"):
        return JsonlWriter(path)
    if ext in (".csv", ".txt", ""):
        return CsvWriter(path, smoothing=smoothing)
    raise ExportError(f"cannot export to {path}: use a .csv or .jsonl file")


def _sidecar(path: str, meta: Dict[str, Any]) -> Dict[str, Any]:
    out = {"written_by": f"gazenet-app {__version__}",
           "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")}
    out.update(meta)
    out["output"] = Path(path).name
    return out


class Recorder:
    """Rows written frame by frame while the video plays: a crash loses nothing already shown."""

    def __init__(self, path: str, meta: Dict[str, Any], smoothing: bool) -> None:
        self.path = Path(path)
        self.writer = writer_for(path, smoothing)
        self.writer.open()
        self.meta = _sidecar(path, meta)
        write_sidecar(sidecar_path(self.path), self.meta)

    def write(self, result: FrameResult) -> None:
        """Append one frame's rows (flushed)."""
        self.writer.write(result)

    def close(self) -> None:
        """Finish the file (atomic rename of the partial)."""
        self.meta["frames"] = self.writer.frames_written
        write_sidecar(sidecar_path(self.path), self.meta)
        self.writer.close()


def export_results(path: str, results: Iterable[FrameResult], meta: Dict[str, Any],
                   smoothing: Optional[bool] = None) -> int:
    """Write every given FrameResult (ordered by source and frame) to CSV/JSON Lines with a sidecar; returns rows."""
    results = sorted(results, key=lambda r: (r.source, r.index))
    if smoothing is None:
        smoothing = bool(meta.get("smoothing"))
    writer = writer_for(path, smoothing)
    writer.open()
    try:
        for result in results:
            writer.write(result)
    except Exception:
        writer.abort()
        raise
    writer.close()
    info = _sidecar(path, meta)
    info["frames"] = len(results)
    write_sidecar(sidecar_path(path), info)
    return sum(len(r.faces) for r in results)


def video_for_annotations(csv_path: str) -> Optional[str]:
    """The input named in an annotation CSV's sidecar, if it exists (as named, or next to the CSV)."""
    side = sidecar_path(csv_path)
    if not side.exists():
        return None
    try:
        meta = read_sidecar(side)
    except (OSError, ValueError):
        return None
    src = meta.get("source") or meta.get("input") or {}
    name = src.get("name") if isinstance(src, dict) else src
    if not name:
        return None
    for candidate in (Path(name), Path(csv_path).parent / Path(name).name):
        if candidate.exists():
            return str(candidate)
    return None
