"""Modal dialogs, each behind a classmethod that returns plain values (tests patch these, never `exec()`)."""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import Any, Dict, Iterable, List, Optional, Sequence

from PySide6.QtWidgets import (QCheckBox, QComboBox, QDialog, QDialogButtonBox, QDoubleSpinBox, QFileDialog,
                               QFormLayout, QGroupBox, QLabel, QLineEdit, QMessageBox, QSpinBox, QTextBrowser,
                               QVBoxLayout, QWidget)

from gazenet_app.core.video import IMAGE_EXTENSIONS, VIDEO_EXTENSIONS
from gazenet_app.model_zoo.store import CHECKPOINT_SUFFIXES

__all__ = ["CameraChoice", "CameraDialog", "FileDialogs", "AboutDialog", "PreferencesDialog", "IMAGE_FILTER",
           "VIDEO_FILTER", "MEDIA_FILTER", "name_filter"]


def name_filter(label: str, suffixes: Iterable[str]) -> str:
    """A Qt file-dialog name filter, `Label (*.a *.b)`, from a list of suffixes kept elsewhere."""
    return f"{label} ({' '.join('*' + s for s in sorted(suffixes))})"


ALL_FILES = "All files (*)"
#: What the app opens, from the lists that decide it (core.video, model_zoo.store): never a second copy.
IMAGES = name_filter("Images", IMAGE_EXTENSIONS)
VIDEOS = name_filter("Videos", VIDEO_EXTENSIONS)
IMAGE_FILTER = ";;".join((IMAGES, ALL_FILES))
VIDEO_FILTER = ";;".join((VIDEOS, ALL_FILES))
MEDIA_FILTER = ";;".join((name_filter("Images and videos", IMAGE_EXTENSIONS | VIDEO_EXTENSIONS), IMAGES, VIDEOS,
                          ALL_FILES))
#: A model card or its .params, or an original PyTorch checkpoint (converted in memory).
WEIGHTS_FILTER = ";;".join((name_filter("Pose weights", (".params", ".json") + CHECKPOINT_SUFFIXES), ALL_FILES))
CSV_FILTER = ";;".join((name_filter("Annotations", (".csv",)), ALL_FILES))

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
        files, _ = QFileDialog.getOpenFileNames(parent, "Open", folder, MEDIA_FILTER)
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


#: Works a gazenet model builds on, cited in About (a card's own `citations` list comes first).
CITATIONS = (
    "N. Ruiz, E. Chong, J. M. Rehg. Fine-Grained Head Pose Estimation Without Keypoints. CVPR Workshops 2018 "
    "(Hopenet).",
    "M. Sandler et al. MobileNetV2: Inverted Residuals and Linear Bottlenecks. CVPR 2018.",
    "Z. Zhang, P. Luo, C. C. Loy, X. Tang. Facial Landmark Detection by Deep Multi-task Learning. ECCV 2014 "
    "(MTFL).",
    "M. Koestinger et al. Annotated Facial Landmarks in the Wild (AFLW). ICCV Workshops 2011.",
    "G. B. Huang et al. Labeled Faces in the Wild. UMass Amherst TR 07-49, 2007.",
    "Y. Kartynnik et al. Real-time Facial Surface Geometry from Monocular Video on Mobile GPUs. CVPR Workshops "
    "2019 (MediaPipe FaceMesh).",
)


def _card_html(name: str, card: Dict[str, Any]) -> List[str]:
    """The active model's card as readable sections: what it is, its terms, data, evaluation, citations."""
    e = html.escape
    training = card.get("training") if isinstance(card.get("training"), dict) else {}
    parts = [f"<h3>Active model: {e(name)}</h3>"]
    if card.get("description"):
        parts.append(f"<p>{e(str(card['description']))}</p>")
    rows = [(label, card.get(key)) for label, key in (("architecture", "architecture"), ("input size", "input_size"),
                                                      ("precision", "precision"), ("source", "source"))]
    parts.append("<table>" + "".join(f"<tr><td><b>{e(k)}</b>&nbsp;</td><td>{e(str(v))}</td></tr>"
                                      for k, v in rows if v not in (None, "")) + "</table>")
    terms = training.get("license")
    if terms:
        parts.append(f"<h4>Terms of use</h4><p style='color:#b8860b'><b>{e(str(terms))}</b></p>")
    data = training.get("data")
    if data:
        items = data if isinstance(data, list) else [data]
        parts.append("<h4>Training data</h4><ul>" + "".join(f"<li>{e(str(d))}</li>" for d in items) + "</ul>")
    evals = []
    for dataset, metrics in (card.get("eval") or {}).items():
        for metric, entry in (metrics.items() if isinstance(metrics, dict) else ()):
            value = entry.get("value") if isinstance(entry, dict) else entry
            n = entry.get("n") if isinstance(entry, dict) else None
            if isinstance(value, (int, float)):
                evals.append(f"<tr><td>{e(dataset)}&nbsp;</td><td>{e(metric.replace('_', ' '))}&nbsp;</td>"
                             f"<td align='right'>{value:.2f}</td><td>{f'&nbsp;(n={n})' if n else ''}</td></tr>")
    if evals:
        parts.append("<h4>Evaluation (degrees)</h4><table>" + "".join(evals[:12]) + "</table>")
    cites = list(card.get("citations") or []) + list(CITATIONS)
    parts.append("<h4>Citations</h4><ol>" + "".join(f"<li>{e(str(c))}</li>" for c in cites) + "</ol>")
    return parts


def about_html(version: str, model_name: Optional[str], card: Dict[str, Any], licences: str,
               log_path: str, notices_path: Optional[str] = None) -> str:
    """The About text: version, the active model's card (terms, data, citations), licences, the log file."""
    e = html.escape
    parts = [f"<h2>gazenet {e(version)}</h2>",
             "<p>Head-pose estimation without facial keypoints: Hopenet (Ruiz, Chong &amp; Rehg, CVPR-W 2018) "
             "re-implemented in MXNet/Gluon, with face detection, tracking and smoothing.</p>"]
    if model_name:
        parts += _card_html(model_name, card)
    else:
        parts.append("<h3>No pose model active</h3><p>Face detection only.</p>")
    rows = "".join(f"<tr><td>{e(name)}&nbsp;&nbsp;</td><td>{e(lic)}</td></tr>"
                   for name, _, lic in (line.partition(": ") for line in licences.splitlines()))
    parts.append(f"<h3>Third-party software</h3><table>{rows}</table>")
    if notices_path:
        url = "file://" + e(str(notices_path))
        parts.append(f'<p>Full notices and licence texts: <a href="{url}">{e(str(notices_path))}</a></p>')
    parts.append(f"<p>Log file: <code>{e(log_path)}</code></p>")
    return "\n".join(parts)


class AboutDialog(QDialog):
    """Help ▸ About (and the F1 shortcut list): rich text in a scrollable browser."""

    def __init__(self, text_html: str, parent: Optional[QWidget], title: str = "About gazenet") -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.resize(620, 560)
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
    def show_about(cls, parent: QWidget, text_html: str, title: str = "About gazenet") -> None:
        """Show the dialog (modal)."""
        cls(text_html, parent, title).exec()


def dask_missing() -> Optional[str]:
    """Why the batch queue cannot run on Dask here (the optional `gazenet[cluster]` extra is not installed), or
    None when it can."""
    from gazenet_app.core.errors import DependencyError
    from gazenet_app.corpus import cluster

    try:
        cluster.import_distributed()
    except DependencyError:
        return f"Running the batch queue on Dask needs the cluster extra: {cluster.INSTALL_HINT}"
    return None


class PreferencesDialog(QDialog):
    """Detector preset and threshold, detection cadence, One-Euro smoothing parameters, where the batch queue
    runs (in-process or on Dask: `dask_scheduler`, `dask_workers` as in settings.BATCH_PREFERENCES)."""

    def __init__(self, options: Dict[str, Any], presets: Sequence[str], parent: Optional[QWidget]) -> None:
        super().__init__(parent)
        self.setWindowTitle("Preferences")
        self.preset = QComboBox()
        self.preset.addItem("detector default", None)
        for p in presets:
            self.preset.addItem(p, p)
        self.preset.setCurrentIndex(max(0, self.preset.findData(options.get("preset"))))
        self.threshold = QDoubleSpinBox()
        self.threshold.setRange(0.0, 1.0)
        self.threshold.setSingleStep(0.05)
        self.threshold.setDecimals(2)
        self.threshold.setSpecialValueText("preset default")
        self.threshold.setValue(options.get("detector_threshold") or 0.0)
        self.detect_every = QSpinBox()
        self.detect_every.setRange(1, 30)
        self.detect_every.setValue(int(options.get("detect_every") or 1))
        self.detect_every.setToolTip("Run the detector on every Nth frame; the tracker follows faces in between")
        self.smoothing = QCheckBox("Smooth angles and boxes (One-Euro)")
        self.smoothing.setChecked(bool(options.get("smoothing")))
        self.min_cutoff = QDoubleSpinBox()
        self.min_cutoff.setRange(0.01, 20.0)
        self.min_cutoff.setSingleStep(0.1)
        self.min_cutoff.setValue(float(options.get("smooth_min_cutoff", 1.0)))
        self.min_cutoff.setToolTip("Lower: steadier when still, more lag")
        self.beta = QDoubleSpinBox()
        self.beta.setRange(0.0, 5.0)
        self.beta.setDecimals(3)
        self.beta.setSingleStep(0.01)
        self.beta.setValue(float(options.get("smooth_beta", 0.05)))
        self.beta.setToolTip("Higher: less lag on fast turns")
        det = QGroupBox("Detection")
        f1 = QFormLayout(det)
        f1.addRow("Preset", self.preset)
        f1.addRow("Score threshold", self.threshold)
        f1.addRow("Detect every", self.detect_every)
        smooth = QGroupBox("Smoothing")
        f2 = QFormLayout(smooth)
        f2.addRow("", self.smoothing)
        f2.addRow("Min cutoff (Hz)", self.min_cutoff)
        f2.addRow("Beta", self.beta)
        self.dask_scheduler = QLineEdit(str(options.get("dask_scheduler") or ""))
        self.dask_scheduler.setPlaceholderText("empty: in-process")
        self.dask_scheduler.setToolTip("Where Batch annotate runs: empty = in this process; local = a Dask "
                                       "LocalCluster on this machine; tcp://HOST:8786 or a scheduler file = a "
                                       "running Dask scheduler (inputs and output folder on a shared filesystem)")
        self.dask_workers = QSpinBox()
        self.dask_workers.setRange(0, 256)
        self.dask_workers.setSpecialValueText("one per usable core")
        self.dask_workers.setValue(int(options.get("dask_workers") or 0))
        self.dask_workers.setToolTip("Worker processes of the local cluster (each loads the model once)")
        missing = dask_missing()
        for widget in (self.dask_scheduler, self.dask_workers):
            if missing:
                widget.setEnabled(False)
                widget.setToolTip(missing)
        batch = QGroupBox("Batch queue")
        f3 = QFormLayout(batch)
        f3.addRow("Dask scheduler", self.dask_scheduler)
        f3.addRow("Local workers", self.dask_workers)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(det)
        layout.addWidget(smooth)
        layout.addWidget(batch)
        layout.addWidget(buttons)

    def values(self) -> Dict[str, Any]:
        """The options shown, as WorkerOptions fields, and the batch queue's preferences."""
        return {"preset": self.preset.currentData(),
                "detector_threshold": self.threshold.value() or None,
                "detect_every": self.detect_every.value(), "smoothing": self.smoothing.isChecked(),
                "smooth_min_cutoff": self.min_cutoff.value(), "smooth_beta": self.beta.value(),
                "dask_scheduler": self.dask_scheduler.text().strip(), "dask_workers": self.dask_workers.value()}

    @classmethod
    def ask(cls, parent: QWidget, options: Dict[str, Any], presets: Sequence[str]) -> Optional[Dict[str, Any]]:
        """Show the dialog; the changed options (possibly empty), or None when cancelled."""
        dialog = cls(options, presets, parent)
        if dialog.exec() != QDialog.DialogCode.Accepted:
            return None
        return {k: v for k, v in dialog.values().items() if options.get(k) != v}
