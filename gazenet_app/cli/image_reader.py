"""The images of `predict` and `detect`, read by the same rule as `annotate`: an unreadable image among several is
skipped with a note (`core.video.ImageSequenceSource`), so one bad file no longer aborts a whole folder."""

from __future__ import annotations

from itertools import chain
from pathlib import Path
from typing import Iterator, List, Sequence, Tuple

import numpy as np

from gazenet_app.core.errors import SourceError
from gazenet_app.core.video import ImageSequenceSource, read_image

__all__ = ["readable_images"]


def readable_images(paths: Sequence[Path]) -> Tuple[Iterator[Tuple[int, Path, np.ndarray]], List[str]]:
    """(iterator of (position, path, RGB) for every readable image in order, the notes of those skipped; the list
    fills as the iterator runs). A single image that cannot be read, or none readable at all, raises SourceError
    at once, before any model is loaded."""
    if len(paths) == 1:
        return iter([(0, paths[0], read_image(paths[0]))]), []
    source = ImageSequenceSource(paths)
    frames = source.frames()
    first = next(frames, None)
    if first is None:
        raise SourceError(f"none of the {len(paths)} images can be read; the first: {source.notes[0]}")
    return ((f.index, paths[f.index], f.rgb) for f in chain([first], frames)), source.notes
