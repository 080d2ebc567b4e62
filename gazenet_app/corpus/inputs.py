"""The corpus: which videos to annotate and where each one's outputs go.

Inputs are video files, folders (searched recursively for videos), text files listing one path per line
(`.txt` / `.lst`; blank lines and `#` comments skipped; relative paths are relative to the list) and globs
(`**` recursive). Each video's outputs are `OUTDIR/<path relative to the inputs' common folder>.csv` (+ `.jsonl`,
`.avi|.mp4`, `.meta.json`), so a corpus keeps its folder layout and two inputs never share an output.
"""

from __future__ import annotations

import glob
import os
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import List, Optional, Sequence

from gazenet_app.core.errors import SourceError
from gazenet_app.core.video import VIDEO_EXTENSIONS

__all__ = ["CorpusItem", "LIST_EXTENSIONS", "discover_inputs"]

#: A text file with one input path per line.
LIST_EXTENSIONS = frozenset({".txt", ".lst"})


@dataclass(frozen=True)
class CorpusItem:
    """One video of the corpus: its absolute path and its path relative to the corpus root (POSIX form)."""

    path: Path
    relative: str

    def output(self, outdir: Path, suffix: str) -> Path:
        """`OUTDIR/<relative path><suffix>`, e.g. `out/day1/cam2.mp4.csv`."""
        return Path(outdir).joinpath(*PurePosixPath(self.relative + suffix).parts)


def _is_glob(text: str) -> bool:
    return any(c in text for c in "*?[")


def _videos_under(folder: Path) -> List[Path]:
    found = []
    for root, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        found += [Path(root) / f for f in sorted(files)  # regular files only: a FIFO named x.avi is no video
                  if Path(f).suffix.lower() in VIDEO_EXTENSIONS and not f.startswith(".")
                  and (Path(root) / f).is_file()]
    return sorted(found)


def _read_list(path: Path) -> List[str]:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as e:
        raise SourceError(f"cannot read the input list {path}: {e}") from None
    entries = []
    for line in lines:
        line = line.strip()
        if line and not line.startswith("#"):
            p = Path(line).expanduser()
            entries.append(str(p if p.is_absolute() else path.parent / p))
    return entries


def _expand(spec: str, in_list: Optional[Path] = None) -> List[Path]:
    """The videos one input names; SourceError when it names none."""
    where = f" (listed in {in_list})" if in_list else ""
    if _is_glob(spec):
        matches = [Path(m) for m in sorted(glob.glob(os.path.expanduser(spec), recursive=True))]
        videos = [v for m in matches for v in (_videos_under(m) if m.is_dir() else [m])
                  if v.suffix.lower() in VIDEO_EXTENSIONS]
        if not videos:
            raise SourceError(f"no videos match {spec}{where}")
        return videos
    p = Path(spec).expanduser()
    if p.is_dir():
        videos = _videos_under(p)
        if not videos:
            raise SourceError(f"no videos in folder {p}{where} (looked for {', '.join(sorted(VIDEO_EXTENSIONS))})")
        return videos
    if p.is_file() and p.suffix.lower() in LIST_EXTENSIONS and in_list is None:
        return [v for entry in _read_list(p) for v in _expand(entry, in_list=p)]
    if p.is_file():
        return [p]
    raise SourceError(f"input not found: {p}{where}")


def discover_inputs(inputs: Sequence[str], exclude: Optional[Path] = None) -> List[CorpusItem]:
    """Every video the inputs name, once each, in a stable order, with its path relative to the corpus root.

    The root is the deepest folder holding all of them. Videos under `exclude` (OUTDIR: annotated videos of an
    earlier run) are left out. SourceError when an input is missing or names no video.
    """
    if not inputs:
        raise SourceError("no inputs given: name videos, folders, globs or a .txt list of paths")
    skip = Path(exclude).resolve() if exclude is not None else None
    seen, paths = set(), []
    for spec in inputs:
        for p in _expand(str(spec)):
            resolved = p.resolve()
            if skip is not None and resolved.is_relative_to(skip):
                continue
            if resolved not in seen:
                seen.add(resolved)
                paths.append(resolved)
    if not paths:
        raise SourceError(f"no videos to annotate: every one named is inside the output folder {skip}")
    root = Path(os.path.commonpath([str(p.parent) for p in paths]))
    return [CorpusItem(p, p.relative_to(root).as_posix()) for p in paths]

