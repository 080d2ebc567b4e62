"""Face detectors by name: `get_detector(name, preset=None, **kw)`, `get_detector_list()`."""

from __future__ import annotations

from typing import Callable, Dict, List, Optional

from gazenet_app.detect.base import FaceDetector

__all__ = ["DEFAULT_DETECTOR", "get_detector", "get_detector_list", "get_preset_list"]

DEFAULT_DETECTOR = "mtcnn"


def _mtcnn(**kw) -> FaceDetector:
    from gazenet_app.detect.mtcnn import MtcnnDetector
    return MtcnnDetector(**kw)


def _cascade(**kw) -> FaceDetector:
    from gazenet_app.detect.cascade import CascadeDetector
    return CascadeDetector(**kw)


def _ssh(**kw) -> FaceDetector:
    from gazenet_app.detect.ssh import SshDetector
    return SshDetector(**kw)


_detectors: Dict[str, Callable[..., FaceDetector]] = {
    "mtcnn": _mtcnn,
    "cascade": _cascade,
    "ssh": _ssh,
}

#: Presets every detector provides.
PRESETS = ("accurate", "live")


def get_detector_list() -> List[str]:
    """Registered detector names, sorted."""
    return sorted(_detectors)


def get_preset_list() -> List[str]:
    """Preset names every detector accepts."""
    return list(PRESETS)


def get_detector(name: Optional[str] = None, preset: Optional[str] = None, **kw) -> FaceDetector:
    """A detector by (case-insensitive) name; an unknown name raises ValueError listing the valid ones."""
    key = (name or DEFAULT_DETECTOR).lower()
    if key not in _detectors:
        raise ValueError(f"unknown detector {name!r}; valid: {', '.join(get_detector_list())}")
    return _detectors[key](preset=preset, **kw)
