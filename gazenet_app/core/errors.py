"""Expected errors: each carries a message fit to show a user as is (CLI prints it, the app shows it)."""

from __future__ import annotations

__all__ = [
    "GazenetError",
    "ModelNotFoundError",
    "ModelLoadError",
    "CardError",
    "SourceError",
    "DetectorError",
    "ExportError",
    "DependencyError",
]


class GazenetError(Exception):
    """Base class of every error gazenet expects; its message is for the user, no traceback needed."""


class ModelNotFoundError(GazenetError):
    """A model name or file could not be resolved; the message says where we looked."""


class ModelLoadError(GazenetError):
    """Weights exist but do not fit: wrong architecture, shapes, checksum or file format."""


class CardError(ModelLoadError):
    """A model card (NAME.json) fails the schema."""


class SourceError(GazenetError):
    """An input (image, folder, video, camera) cannot be opened or stops delivering frames."""


class DetectorError(GazenetError):
    """A face detector cannot be built or run."""


class ExportError(GazenetError):
    """An output file cannot be written (permissions, full disk, ...)."""


class DependencyError(GazenetError):
    """An optional dependency is missing; the message says what to install."""
