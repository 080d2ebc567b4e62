"""Modal dialogs, each behind a classmethod that returns plain values (tests patch these, never `exec()`)."""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Sequence

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (QCheckBox, QComboBox, QDialog, QDialogButtonBox, QFileDialog, QFormLayout,
                               QLabel, QMessageBox, QSpinBox, QTextBrowser, QVBoxLayout, QWidget)

__all__ = ["CameraChoice", "CameraDialog", "FileDialogs", "AboutDialog", "IMAGE_FILTER", "VIDEO_FILTER"]

IMAGE_FILTER = "Images (*.jpg *.jpeg *.png *.bmp *.tif *.tiff *.webp);;All files (*)"
VIDEO_FILTER = "Videos (*.mp4 *.avi *.mov *.mkv *.webm *.m4v *.mpg *.mpeg *.wmv);;All files (*)"
WEIGHTS_FILTER = "Pose weights (*.params *.json *.pkl *.pth);;All files (*)"
CSV_FILTER = "Annotations (*.csv);;All files (*)"

RESOLUTIONS = [("camera default", None), ("640 × 480", (640, 480)), ("1280 × 720", (1280, 720)),
               ("1920 × 1080", (1920, 1080)), ("320 × 240", (320, 240))]


@dataclass(frozen=True)
class CameraChoice:
    """A webcam, its capture size and rate (None = camera default), and whether to mirror the view."""

    index: int
    size: Optional[tuple] = None
    fps: Optional[int] = None
    mirror: bool = True


class FileDialogs:
    """File choosers returning paths (empty/None when cancelled)."""

    @classmethod
    def open_images(cls, parent: QWidget, folder: str) -> List[str]:
        files, _ = QFileDialog.getOpenFileNames(parent, "Open image(s)", folder, IMAGE_FILTER)
        return list(files)

    @classmethod
    def open_any(cls, parent: QWidget, folder: str) -> List[str]:
        both = ("Images and videos (*.jpg *.jpeg *.png *.bmp *.tif *.tiff *.webp *.mp4 *.avi *.mov *.mkv *.webm "
                "*.m4v *.mpg *.mpeg *.wmv);;" + IMAGE_FILTER.split(";;")[0] + ";;" + VIDEO_FILTER)
        files, _ = QFileDialog.getOpenFileNames(parent, "Open", folder, both)
        return list(files)

    @classmethod
    def open_video(cls, parent: QWidget, folder: str) -> Optional[str]:
        path, _ = QFileDialog.getOpenFileName(parent, "Open video", folder, VIDEO_FILTER)
        return path or None

    @classmethod
    def open_videos(cls, parent: QWidget, folder: str) -> List[str]:
        files, _ = QFileDialog.getOpenFileNames(parent, "Add clips", folder, VIDEO_FILTER)
        return list(files)

    @classmethod
    def open_folder(cls, parent: QWidget, folder: str, title: str = "Open folder of images") -> Optional[str]:
        path = QFileDialog.getExistingDirectory(parent, title, folder)
        return path or None

    @classmethod
    def open_weights(cls, parent: QWidget, folder: str) -> Optional[str]:
        path, _ = QFileDialog.getOpenFileName(parent, "Load pose weights", folder, WEIGHTS_FILTER)
        return path or None

    @classmethod
    def open_annotations(cls, parent: QWidget, folder: str) -> Optional[str]:
        path, _ = QFileDialog.getOpenFileName(parent, "Review annotations", folder, CSV_FILTER)
        return path or None

    @classmethod
    def save_path(cls, parent: QWidget, title: str, suggested: str, filters: str) -> Optional[str]:
        path, _ = QFileDialog.getSaveFileName(parent, title, suggested, filters)
        return path or None

    @classmethod
    def confirm(cls, parent: QWidget, title: str, text: str) -> bool:
        answer = QMessageBox.question(parent, title, text)
        return answer == QMessageBox.StandardButton.Yes


class CameraDialog(QDialog):
    """Pick a webcam among those that open, with size, rate and mirroring."""

    def __init__(self, cameras: Sequence[int], current: Optional[CameraChoice], parent: Optional[QWidget]) -> None:
        super().__init__(parent)
        self.setWindowTitle("Webcam")
        form = QFormLayout()
        self.camera = QComboBox()
        for i in cameras:
            self.camera.addItem(f"Camera {i}", i)
        self.size = QComboBox()
        for label, size in RESOLUTIONS:
            self.size.addItem(label, size)
        self.fps = QSpinBox()
        self.fps.setRange(0, 120)
        self.fps.setSpecialValueText("camera default")
        self.mirror = QCheckBox("Mirror the view (angles keep the subject's signs)")
        self.mirror.setChecked(True if current is None else current.mirror)
        if current is not None:
            self.camera.setCurrentIndex(max(0, self.camera.findData(current.index)))
            self.fps.setValue(current.fps or 0)
        form.addRow("Camera", self.camera)
        form.addRow("Resolution", self.size)
        form.addRow("Frame rate", self.fps)
        form.addRow("", self.mirror)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(bool(cameras))
        layout = QVBoxLayout(self)
        if not cameras:
            layout.addWidget(QLabel("No camera could be opened (none connected, or all are in use)."))
        layout.addLayout(form)
        layout.addWidget(buttons)

    def choice(self) -> CameraChoice:
        """The values shown."""
        return CameraChoice(int(self.camera.currentData()), self.size.currentData(),
                            self.fps.value() or None, self.mirror.isChecked())

    @classmethod
    def ask(cls, parent: QWidget, cameras: Sequence[int], current: Optional[CameraChoice] = None
            ) -> Optional[CameraChoice]:
        """Show the dialog; the choice, or None when cancelled."""
        dialog = cls(cameras, current, parent)
        if dialog.exec() == QDialog.DialogCode.Accepted and cameras:
            return dialog.choice()
        return None


def about_html(version: str, model_name: Optional[str], card: Dict[str, Any], licences: str,
               log_path: str) -> str:
    """The About text: version, the active model's card (data, terms), third-party licences, the log file."""
    e = html.escape
    parts = [f"<h2>gazenet {e(version)}</h2>",
             "<p>Head-pose estimation without facial keypoints: Hopenet (Ruiz, Chong &amp; Rehg, CVPR-W 2018) "
             "re-implemented in MXNet/Gluon, with face detection, tracking and smoothing.</p>"]
    if model_name:
        parts.append(f"<h3>Active model: {e(model_name)}</h3><table>")
        for key in ("description", "architecture", "backbone", "input_size", "precision", "training", "eval",
                    "source"):
            if key in card and card[key] not in (None, "", [], {}):
                value = card[key]
                if isinstance(value, dict):
                    value = ", ".join(f"{k}: {v}" for k, v in value.items())
                elif isinstance(value, list):
                    value = ", ".join(str(v) for v in value)
                parts.append(f"<tr><td><b>{e(key.replace('_', ' '))}</b>&nbsp;</td><td>{e(str(value))}</td></tr>")
        parts.append("</table>")
    else:
        parts.append("<h3>No pose model active</h3><p>Face detection only.</p>")
    parts.append(f"<h3>Third-party software</h3><pre>{e(licences)}</pre>")
    parts.append(f"<p>Log file: <code>{e(log_path)}</code></p>")
    return "\n".join(parts)


class AboutDialog(QDialog):
    """Help ▸ About: rich text in a scrollable browser."""

    def __init__(self, text_html: str, parent: Optional[QWidget]) -> None:
        super().__init__(parent)
        self.setWindowTitle("About gazenet")
        self.resize(560, 520)
        browser = QTextBrowser()
        browser.setOpenExternalLinks(True)
        browser.setHtml(text_html)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(browser)
        layout.addWidget(buttons)
        self.browser = browser

    @classmethod
    def show_about(cls, parent: QWidget, text_html: str) -> None:
        """Show the About dialog (modal)."""
        cls(text_html, parent).exec()
