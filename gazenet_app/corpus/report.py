"""What happened to each input of a corpus run: `ItemResult`, `OUTDIR/corpus.csv` and the summary line."""

from __future__ import annotations

import csv
import io
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Dict, List, Sequence

from gazenet_app.core.atomic_files import write_atomic
from gazenet_app.core.results import FINAL_STATUSES

__all__ = ["ItemResult", "SUMMARY_NAME", "write_corpus_csv", "summary_line"]

#: The per-input summary, at the top of OUTDIR.
SUMMARY_NAME = "corpus.csv"

#: Statuses: complete and ended_early (the input broke off; what came before it is annotated: FINAL_STATUSES) are
#: done; failed is recorded and skipped; stopped (Ctrl-C / stop, partials kept) and pending are left for --resume.


@dataclass
class ItemResult:
    """One input's outcome (a row of corpus.csv). `frames`/`faces`/`rows` count the whole output, resumed
    prefix included; `seconds`, `processed` (frames annotated) and `load_s` (model load, 0: cached) are the
    last attempt's; `resumed_after`: the frame it resumed after, when it continued partials."""

    input: str
    status: str = "pending"
    reason: str = ""
    frames: int = 0
    faces: int = 0
    rows: int = 0
    seconds: float = 0.0
    worker: str = ""
    processed: int = 0
    load_s: float = 0.0
    resumed_after: str = ""

    @property
    def done(self) -> bool:
        """True when the input needs no more work (its outputs are finished)."""
        return self.status in FINAL_STATUSES


COLUMNS = tuple(f.name for f in fields(ItemResult))


def write_corpus_csv(path: Path, results: Sequence[ItemResult]) -> Path:
    """Write corpus.csv atomically (temp file + rename): one row per input, in the corpus order."""
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=COLUMNS, lineterminator="\n")
    w.writeheader()
    for r in results:
        row = asdict(r)
        row["seconds"] = f"{r.seconds:.2f}"
        row["load_s"] = f"{r.load_s:.2f}"
        w.writerow(row)
    return write_atomic(path, buf.getvalue())


def summary_line(results: Sequence[ItemResult], processed: int, wall_s: float) -> str:
    """`N inputs: a complete, b ended early, c failed, d left; F frames, R rows; P frames in S s (X fps)`.

    `processed`: the frames annotated by this run (a resumed prefix not counted), for the rate."""
    counts: Dict[str, int] = {}
    for r in results:
        counts[r.status] = counts.get(r.status, 0) + 1
    parts: List[str] = [f"{counts.get('complete', 0)} complete"]
    if counts.get("ended_early"):
        parts.append(f"{counts['ended_early']} ended early")
    parts.append(f"{counts.get('failed', 0)} failed")
    left = counts.get("stopped", 0) + counts.get("pending", 0)
    if left:
        parts.append(f"{left} left for --resume")
    fps = processed / wall_s if wall_s > 0 else 0.0
    return (f"{len(results)} inputs: {', '.join(parts)}; {sum(r.frames for r in results)} frames, "
            f"{sum(r.rows for r in results)} rows; {processed} frames annotated in {wall_s:.1f} s ({fps:.1f} fps)")

