"""The window's smaller parts: the message banner, the transport bar and the copyable Faces table."""

from __future__ import annotations

from typing import Optional

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QColor, QGuiApplication, QKeySequence
from PySide6.QtWidgets import (QAbstractItemView, QComboBox, QFrame, QHBoxLayout, QHeaderView, QLabel, QSlider,
                               QStyle, QTableWidget, QTableWidgetItem, QToolButton, QWidget)

from gazenet_app.core.draw import face_color
from gazenet_app.core.types import FrameResult

__all__ = ["Banner", "TransportBar", "FacesTable", "format_angle", "frame_label"]


def format_angle(value: float) -> str:
    """Degrees with one decimal and a sign; a value that rounds to zero reads 0.0, never -0.0."""
    rounded = round(float(value), 1)
    return "0.0°" if rounded == 0 else f"{rounded:+.1f}°"


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

    HEADERS = ("face", "yaw", "pitch", "roll", "score")

    def __init__(self, parent: Optional[QWidget] = None) -> None:
        super().__init__(0, len(self.HEADERS), parent)
        self.setHorizontalHeaderLabels(list(self.HEADERS))
        self.verticalHeader().setVisible(False)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.horizontalHeader().setStretchLastSection(True)
        self.setToolTip("Select rows and press Ctrl+C to copy them (tab-separated); * = followed by the tracker "
                        "on a frame where the detector did not run or missed the face")

    def sizeHint(self) -> QSize:  # noqa: N802 (Qt naming)
        return QSize(200, 160)  # narrow: the video gets the width (the columns fit "#12*", "+123.4°")

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
