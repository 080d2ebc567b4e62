"""Writing FrameResults from the app: incremental recording (worker thread) and export of what was processed."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Dict, Iterable, Optional

from gazenet_app.core.errors import ExportError
from gazenet_app.core.results import OutputSet, read_sidecar, sidecar_path
from gazenet_app.core.types import FrameResult

__all__ = ["Recorder", "export_results", "output_set_for", "video_for_annotations"]


def output_set_for(path: str, meta: Dict[str, Any], smoothing: bool) -> OutputSet:
    """core's OutputSet writing CSV, or JSON Lines for `.jsonl`/`.ndjson` paths (not yet opened)."""
    ext = Path(path).suffix.lower()
    if ext in (".jsonl", ".ndjson"):
        return OutputSet(jsonl=path, smoothing=smoothing, meta={"written_by": "gazenet-app", **meta})
    if ext in (".csv", ".txt", ""):
        return OutputSet(csv=path, smoothing=smoothing, meta={"written_by": "gazenet-app", **meta})
    raise ExportError(f"cannot export to {path}: use a .csv or .jsonl file")


class Recorder:
    """Rows written frame by frame while the video plays: a crash loses nothing already shown."""

    def __init__(self, path: str, meta: Dict[str, Any], smoothing: bool) -> None:
        self.path = Path(path)
        self.outputs = output_set_for(path, meta, smoothing)
        self.outputs.open()

    def write(self, result: FrameResult) -> None:
        """Append one frame's rows (flushed)."""
        self.outputs.write(None, result)

    def close(self) -> None:
        """Finish the file (atomic rename of the partial) and its sidecar (status complete)."""
        self.outputs.finish("complete")


def export_results(path: str, results: Iterable[FrameResult], meta: Dict[str, Any],
                   smoothing: Optional[bool] = None) -> int:
    """Write every given FrameResult (ordered by source and frame) to CSV/JSON Lines with a sidecar; returns rows."""
    results = sorted(results, key=lambda r: (r.source, r.index))
    if smoothing is None:
        smoothing = bool(meta.get("smoothing"))
    outputs = output_set_for(path, meta, smoothing)
    outputs.open()
    try:
        for result in results:
            outputs.write(None, result)
    except BaseException:
        outputs.finish("failed")
        raise
    outputs.finish("complete")
    return outputs.faces


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
