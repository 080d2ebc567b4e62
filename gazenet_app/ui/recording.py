"""Writing FrameResults from the app: incremental recording (worker thread) and export of what was processed."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Dict, Iterable, Optional, Sequence

from gazenet_app.core.errors import ExportError
from gazenet_app.core.results import OutputSet, read_sidecar, sidecar_path
from gazenet_app.core.types import FrameResult

__all__ = ["Recorder", "export_results", "output_set_for", "sidecar_for", "sidecar_of", "video_for_annotations"]


def _describes(sidecar: Path, output: Path) -> bool:
    """True when `sidecar` is missing, unreadable or names `output` among its outputs (it may be replaced)."""
    try:
        outputs = read_sidecar(sidecar).get("outputs") or {}
    except (OSError, ValueError):
        return True
    return output.name in (outputs.values() if isinstance(outputs, dict) else outputs)


def sidecar_for(path: str) -> Path:
    """The sidecar an app export or recording writes: `OUT.meta.json` (the CLI's name) unless that file
    describes another output (a CSV exported before a JSON Lines file of the same name): then `OUT.EXT.meta.json`,
    so no export overwrites another's provenance."""
    output = Path(path)
    default = sidecar_path(output)
    if not default.exists() or _describes(default, output):
        return default
    return output.with_name(output.name + ".meta.json")


def sidecar_of(path: str) -> Optional[Path]:
    """The existing sidecar that describes the output `path` (either name `sidecar_for` writes), or None."""
    output = Path(path)
    return next((p for p in (output.with_name(output.name + ".meta.json"), sidecar_path(output))
                 if p.exists() and _describes(p, output)), None)


def output_set_for(path: str, meta: Dict[str, Any], smoothing: bool) -> OutputSet:
    """core's OutputSet writing CSV, or JSON Lines for `.jsonl`/`.ndjson` paths (not yet opened)."""
    ext = Path(path).suffix.lower()
    kind = "jsonl" if ext in (".jsonl", ".ndjson") else "csv" if ext in (".csv", ".txt", "") else None
    if kind is None:
        raise ExportError(f"cannot export to {path}: use a .csv or .jsonl file")
    return OutputSet(**{kind: path}, sidecar=sidecar_for(path), smoothing=smoothing,
                     meta={"written_by": "gazenet-app", **meta})


class Recorder:
    """Rows written frame by frame while the video plays: a crash loses nothing already shown."""

    def __init__(self, path: str, meta: Dict[str, Any], smoothing: bool, inputs: Sequence[Path] = ()) -> None:
        self.path = Path(path)
        self.outputs = output_set_for(path, meta, smoothing)
        self.outputs.open(inputs=inputs)  # never the input being played

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
    outputs.open(inputs=sorted({r.source for r in results if Path(r.source).is_file()}))  # never an input
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
    side = sidecar_of(csv_path)
    if side is None:
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
