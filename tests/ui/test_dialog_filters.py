"""The file dialogs offer exactly what the app opens: their filters come from core.video and model_zoo.store."""

from __future__ import annotations

import re

from gazenet_app.core.video import IMAGE_EXTENSIONS, VIDEO_EXTENSIONS
from gazenet_app.model_zoo.store import CHECKPOINT_SUFFIXES
from gazenet_app.ui.dialogs import IMAGE_FILTER, MEDIA_FILTER, VIDEO_FILTER, WEIGHTS_FILTER, name_filter


def _patterns(qt_filter: str) -> list:
    """The suffixes of each `Label (*.a *.b)` entry of a Qt filter string."""
    return [set(p[1:] for p in re.search(r"\((.*)\)", entry).group(1).split()) for entry in qt_filter.split(";;")]


def test_name_filter_format():
    assert name_filter("Annotations", (".csv", ".jsonl")) == "Annotations (*.csv *.jsonl)"


def test_filters_follow_the_extension_lists():
    assert _patterns(IMAGE_FILTER) == [set(IMAGE_EXTENSIONS), {""}]  # "*" for All files
    assert _patterns(VIDEO_FILTER) == [set(VIDEO_EXTENSIONS), {""}]
    both, images, videos, _ = _patterns(MEDIA_FILTER)
    assert both == set(IMAGE_EXTENSIONS) | set(VIDEO_EXTENSIONS) and images == set(IMAGE_EXTENSIONS)
    assert videos == set(VIDEO_EXTENSIONS)
    assert set(CHECKPOINT_SUFFIXES) | {".params", ".json"} == _patterns(WEIGHTS_FILTER)[0]
