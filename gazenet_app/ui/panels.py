"""The window's smaller parts: the message banner, the transport bar and the copyable Faces table."""

from __future__ import annotations

from pathlib import Path
from typing import Dict, Optional

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QColor, QGuiApplication, QIcon, QKeySequence, QPainter, QPixmap
from PySide6.QtWidgets import (QAbstractItemView, QComboBox, QFrame, QHBoxLayout, QHeaderView, QLabel, QSlider,
                               QStatusBar, QStyle, QTableWidget, QTableWidgetItem, QToolButton, QWidget)

from gazenet_app.core.draw import face_color
from gazenet_app.core.types import FrameResult

__all__ = ["Banner", "TransportBar", "FacesTable", "StatusLabels", "format_angle", "frame_label", "record_icon",
           "fit_to_screen"]


def format_angle(value: float) -> str:
    """Degrees with one decimal and a sign; a value that rounds to zero reads 0.0, never -0.0."""
    rounded = round(float(value), 1)
    return "0.0" if rounded == 0 else f"{rounded:+.1f}"


def _clock(seconds: float) -> str:
    m, s = divmod(max(0.0, seconds), 60.0)
    return f"{int(m):02d}:{s:05.2f}"


def frame_label(index: int, seconds: float, frame_count: Optional[int], fps: Optional[float]) -> str:
    """The transport's position text; frames are numbered from 0, as in the timeline and the CSV."""
    if not frame_count:
        return f"frame {index}  {_clock(seconds)}"
    total = frame_count / fps if fps else 0.0
    return f"frame {index} of 0–{frame_count - 1}  {_clock(seconds)} / {_clock(total)}"


class Banner(QFrame):
    """A dismissable message strip above the video (errors in red, notices in amber)."""

    COLORS = {"error": ("#5c1f24", "#ffd7d9"), "notice": ("#4d3b0f", "#ffe9b0")}

    def __init__(self, parent: Optional[QWidget] = None) -> None:
        super().__init__(parent)
        self.label = QLabel()
        self.label.setWordWrap(True)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        close = QToolButton()
        close.setText("✕")
        close.setAutoRaise(True)
        close.clicked.connect(self.hide)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(10, 6, 6, 6)
        layout.addWidget(self.label, 1)
        layout.addWidget(close, 0, Qt.AlignmentFlag.AlignTop)
        self.kind = ""
        self.hide()

    def show_message(self, text: str, kind: str = "error") -> None:
        """Show `text` (kind 'error' or 'notice'); an empty text hides the banner."""
        self.kind = kind if text else ""
        if not text:
            self.hide()
            return
        bg, fg = self.COLORS.get(kind, self.COLORS["notice"])
        self.setStyleSheet(f"Banner {{ background: {bg}; border-radius: 4px; }} QLabel {{ color: {fg}; }}")
        self.label.setText(text)
        self.show()

    def text(self) -> str:
        """The message shown (or last shown)."""
        return self.label.text()


class TransportBar(QWidget):
    """Play/pause, step back and forward, the seek slider, the position and the speed mode."""

    seek_requested = Signal(int)
    realtime_changed = Signal(bool)

    def __init__(self, parent: Optional[QWidget] = None) -> None:
        super().__init__(parent)
        style = self.style()
        self.play_button = QToolButton()
        self.play_button.setIcon(style.standardIcon(QStyle.StandardPixmap.SP_MediaPlay))
        self.back_button = QToolButton()
        self.back_button.setIcon(style.standardIcon(QStyle.StandardPixmap.SP_MediaSeekBackward))
        self.step_button = QToolButton()
        self.step_button.setIcon(style.standardIcon(QStyle.StandardPixmap.SP_MediaSeekForward))
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setEnabled(False)
        self.slider.sliderReleased.connect(lambda: self.seek_requested.emit(self.slider.value()))
        self.slider.valueChanged.connect(self._on_slider_value)
        self.label = QLabel("--:--")
        self.label.setToolTip("Frames are numbered from 0, as in the timelines and the exported CSV")
        self.label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.speed = QComboBox()
        self.speed.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.speed.addItem("Real time", True)
        self.speed.addItem("Every frame", False)
        self.speed.setItemData(0, "Keep the clip's speed: frames are skipped when processing is slower "
                                  "(the status bar says how many)", Qt.ItemDataRole.ToolTipRole)
        self.speed.setItemData(1, "Process every frame as fast as possible (slower than the clip when "
                                  "processing is slow)", Qt.ItemDataRole.ToolTipRole)
        self.speed.activated.connect(lambda i: self.realtime_changed.emit(bool(self.speed.itemData(i))))
        layout = QHBoxLayout(self)
        layout.setContentsMargins(6, 2, 6, 2)
        for w in (self.play_button, self.back_button, self.step_button):
            layout.addWidget(w)
        layout.addWidget(self.slider, 1)
        layout.addWidget(self.label)
        layout.addWidget(self.speed)

    def set_playing(self, playing: bool) -> None:
        """Show the pause icon while playing."""
        icon = QStyle.StandardPixmap.SP_MediaPause if playing else QStyle.StandardPixmap.SP_MediaPlay
        self.play_button.setIcon(self.style().standardIcon(icon))

    def set_realtime(self, realtime: bool) -> None:
        """Select the speed mode without emitting."""
        self.speed.setCurrentIndex(0 if realtime else 1)

    def configure(self, frame_count: Optional[int], live: bool) -> None:
        """A new source: the slider spans its frames (cameras cannot seek)."""
        n = frame_count or 0
        self.slider.setEnabled(not live and n > 1)
        self.slider.blockSignals(True)
        self.slider.setRange(0, max(0, n - 1))
        self.slider.setValue(0)
        self.slider.blockSignals(False)

    def show_position(self, index: int, text: str) -> None:
        """Move the slider (unless the user holds it) and show the position text."""
        if not self.slider.isSliderDown():
            self.slider.blockSignals(True)
            self.slider.setValue(index)
            self.slider.blockSignals(False)
        self.label.setText(text)

    def _on_slider_value(self, value: int) -> None:
        # clicks and keys on the slider (programmatic moves block signals; dragging seeks on release)
        if not self.slider.isSliderDown():
            self.seek_requested.emit(value)


class FacesTable(QTableWidget):
    """The faces of the frame shown: id, yaw, pitch, roll, detector score; rows can be selected and copied."""

    HEADERS = ("face", "yaw°", "pitch°", "roll°", "score")

    def __init__(self, parent: Optional[QWidget] = None) -> None:
        super().__init__(0, len(self.HEADERS), parent)
        self.setHorizontalHeaderLabels(list(self.HEADERS))
        self.verticalHeader().setVisible(False)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.horizontalHeader().setMinimumSectionSize(36)
        self.setToolTip("Select rows and press Ctrl+C to copy them (tab-separated); * = followed by the tracker "
                        "on a frame where the detector did not run or missed the face")

    def sizeHint(self) -> QSize:  # noqa: N802 (Qt naming)
        return QSize(280, 160)  # narrow: the video gets the width (five columns fit "#12*", "+123.4")

    def show_result(self, result: FrameResult) -> None:
        """Fill one row per face of `result`, ordered by id."""
        faces = sorted(result.faces, key=lambda f: f.face_id)
        self.setRowCount(len(faces))
        for row, face in enumerate(faces):
            values = [f"#{face.face_id}" + ("*" if face.tracked_only else "")]
            if face.pose is not None and face.pose_valid:
                values += [format_angle(a) for a in face.pose.as_tuple()]
            else:
                values += ["—", "—", "—"]
            values.append(f"{face.box.score:.2f}")
            for col, text in enumerate(values):
                item = self.item(row, col)
                if item is None:
                    item = QTableWidgetItem()
                    item.setTextAlignment(Qt.AlignmentFlag.AlignCenter)
                    self.setItem(row, col, item)
                item.setText(text)
                if col == 0:
                    item.setForeground(QColor(*face_color(face.face_id)))

    def selected_text(self) -> str:
        """The selected rows (all rows when none is selected) as tab-separated text with a header line."""
        rows = sorted({i.row() for i in self.selectedIndexes()}) or list(range(self.rowCount()))
        lines = ["\t".join(self.HEADERS)]
        for r in rows:
            lines.append("\t".join(self.item(r, c).text() if self.item(r, c) else "" for c in range(self.columnCount())))
        return "\n".join(lines)

    def keyPressEvent(self, event) -> None:  # noqa: N802 (Qt naming)
        if event.matches(QKeySequence.StandardKey.Copy):
            QGuiApplication.clipboard().setText(self.selected_text())
            event.accept()
            return
        super().keyPressEvent(event)


def record_icon() -> QIcon:
    """A red dot: the usual 'record' sign."""
    pixmap = QPixmap(32, 32)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setBrush(QColor(220, 40, 40))
    painter.setPen(QColor(120, 20, 20))
    painter.drawEllipse(5, 5, 22, 22)
    painter.end()
    return QIcon(pixmap)


class StatusLabels:
    """The status bar's permanent fields: source, model (and precision, or the reviewed file), detector, rates."""

    TIPS = (("source", "Source"), ("model", "Pose model"), ("detector", "Face detector"),
            ("fps", "Frames per second processed"), ("latency", "Pipeline time per frame"))

    def __init__(self, bar: QStatusBar) -> None:
        self.labels: Dict[str, QLabel] = {}
        for key, tip in self.TIPS:
            label = QLabel("")
            label.setToolTip(tip)
            label.setContentsMargins(6, 0, 6, 0)
            bar.addPermanentWidget(label)
            self.labels[key] = label
        self.labels["source"].setText("no source")

    def __getitem__(self, key: str) -> QLabel:
        return self.labels[key]

    def show_state(self, state) -> None:
        """Model and detector of a WorkerState; in review, those that wrote the reviewed file."""
        if state.review:
            meta = state.provenance.get("review_meta") or {}
            self.labels["model"].setText(f"reviewing {Path(state.review).name}: model {meta.get('model') or '?'}")
            self.labels["detector"].setText(f"detector: {meta.get('detector') or '?'}")
            return
        precision = f" ({state.precision})" if state.model and state.precision else ""
        self.labels["model"].setText(f"model: {state.model or 'none (detection only)'}{precision}")
        self.labels["detector"].setText(f"detector: {state.detector or 'none'}")

    def show_rates(self, fps: Optional[float], result: Optional[FrameResult]) -> None:
        """Frames per second and the last frame's pipeline time (with its detect/pose parts)."""
        self.labels["fps"].setText(f"{fps:5.1f} fps" if fps else "")
        total = result.timing.get("total") if result is not None else None
        if total is not None:
            parts = [f"{k} {v:.0f} ms" for k, v in result.timing.items() if k in ("detect", "pose")]
            self.labels["latency"].setText(f"{total:.0f} ms/frame")
            self.labels["latency"].setToolTip("Pipeline time per frame" + (f": {', '.join(parts)}" if parts else ""))


def fit_to_screen(window: QWidget, size=(1280, 860), share: float = 0.9) -> None:
    """Resize `window` to `size`, shrunk to `share` of the screen's free area, and centre it."""
    screen = window.screen() or QGuiApplication.primaryScreen()
    free = screen.availableGeometry() if screen is not None else None
    w, h = size
    if free is not None and free.width() > 0:
        w, h = min(w, int(free.width() * share)), min(h, int(free.height() * share))
    window.resize(w, h)
    if free is not None and free.width() > 0:
        window.move(free.center() - window.rect().center())
