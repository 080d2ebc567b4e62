"""What every task of a corpus run is given (`CorpusJob`, pickled to the workers) and where one input's outputs go.

A job carries the pipeline's `PipelineConfig` (the model by name or by a path every worker can read, never the
weights), the output choices and OUTDIR; each worker builds its pipeline from it once and reuses it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import List, Optional

from gazenet_app.core.results import FINAL_STATUSES, partial_path, read_sidecar, sidecar_path
from gazenet_app.corpus.inputs import CorpusItem
from gazenet_app.corpus.report import ItemResult
from gazenet_app.pipeline import AnnotateOutputs, PipelineConfig

__all__ = ["CorpusJob"]


@dataclass(frozen=True)
class CorpusJob:
    """The same settings for every input: pipeline config, outputs beside the CSV, stride, provenance."""

    config: PipelineConfig
    outdir: str
    jsonl: bool = False
    video: Optional[str] = None  # an annotated video's extension, "avi" or "mp4" (core.results.VIDEO_CODECS)
    show_cube: bool = False
    stride: int = 1
    command: str = ""

    def outputs(self, item: CorpusItem) -> AnnotateOutputs:
        """`OUTDIR/<relative>.csv` (+ `.jsonl`, `.avi|.mp4`); the sidecar is `OUTDIR/<relative>.meta.json`."""
        out = Path(self.outdir)
        return AnnotateOutputs(csv=item.output(out, ".csv"),
                               jsonl=item.output(out, ".jsonl") if self.jsonl else None,
                               video=item.output(out, f".{self.video}") if self.video else None,
                               show_cube=self.show_cube, meta={"command": self.command})

    def finals(self, item: CorpusItem) -> List[Path]:
        """The item's finished output files (sidecar excluded)."""
        o = self.outputs(item)
        return [Path(p) for p in (o.csv, o.jsonl, o.video) if p is not None]

    def partials(self, item: CorpusItem) -> List[Path]:
        """The item's `.partial` files left by an interrupted attempt."""
        return [p for p in map(partial_path, self.finals(item)) if p.exists()]

    def finished(self, item: CorpusItem) -> Optional[ItemResult]:
        """The item's result read back from its sidecar when every output is finished and no partial is left
        (the rule `annotate --resume` uses for 'nothing to resume'); None when work is left."""
        finals = self.finals(item)
        if self.partials(item) or not all(p.exists() for p in finals):
            return None
        try:
            meta = read_sidecar(sidecar_path(finals[0]))
        except (OSError, ValueError):
            meta = {}
        status = meta.get("status") if meta.get("status") in FINAL_STATUSES else "complete"
        last = meta.get("last_frame")
        frames = 0 if last is None else int(last) // self.stride + 1
        rows = int(meta.get("rows") or 0)
        return ItemResult(item.relative, status, str(meta.get("ended_early") or ""), frames, rows, rows)
