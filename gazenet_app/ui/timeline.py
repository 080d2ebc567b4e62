"""Yaw/pitch/roll timelines: one pyqtgraph curve per face and angle over fixed numpy buffers, redrawn by a QTimer."""

from __future__ import annotations

from typing import Dict, List, Optional, Tuple

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from gazenet_app.core.draw import face_color
from gazenet_app.core.types import FrameResult

__all__ = ["TimelineWidget", "SeriesBuffer", "ANGLES"]

ANGLES: Tuple[str, ...] = ("yaw", "pitch", "roll")


class SeriesBuffer:
    """Frame, seconds and three angle columns in a preallocated array; a ring of `capacity` points, or growing.

    Both x units are stored, so switching between frames and seconds redraws the same points. Storage is twice
    the capacity so the live window is always one contiguous slice (no np.roll per point).
    """

    def __init__(self, capacity: int, bounded: bool) -> None:
        self.capacity = max(16, int(capacity))
        self.bounded = bounded
        self._data = np.full((2 * self.capacity, 5), np.nan, dtype=np.float64)  # frame, s, yaw, pitch, roll
        self._start = 0
        self._end = 0

    def __len__(self) -> int:
        return self._end - self._start

    def append(self, frame: int, seconds: float, angles: Tuple[float, float, float]) -> None:
        """Add one point (angles may be NaN to break the line)."""
        if self._end == self._data.shape[0]:
            if self.bounded:
                keep = self.capacity - 1
                self._data[:keep] = self._data[self._end - keep:self._end]
                self._start, self._end = 0, keep
            else:
                grown = np.full((self._data.shape[0] * 2, 5), np.nan, dtype=np.float64)
                grown[: self._end] = self._data[: self._end]
                self._data = grown
        self._data[self._end] = (frame, seconds, *angles)
        self._end += 1
        if self.bounded and len(self) > self.capacity:
            self._start = self._end - self.capacity

    def drop_frame(self, frame: int) -> None:
        """Remove the last point if it belongs to `frame` (that frame was processed again)."""
        if len(self) and self._data[self._end - 1, 0] == frame:
            self._end -= 1
            self._data[self._end] = np.nan

    def view(self) -> np.ndarray:
        """The stored points as an (N, 5) array view: frame, seconds, yaw, pitch, roll."""
        return self._data[self._start:self._end]

    def last_frame(self) -> Optional[int]:
        """The frame of the last finite point (None when there is none)."""
        data = self.view()
        finite = np.flatnonzero(np.isfinite(data[:, 2]))
        return int(data[finite[-1], 0]) if len(finite) else None

    def last_is_gap(self) -> bool:
        """True when empty or the last point is a line break."""
        return len(self) == 0 or bool(np.isnan(self._data[self._end - 1, 2]))


class TimelineWidget(QWidget):
    """Three stacked plots (yaw, pitch, roll) sharing the x axis; clicking one asks to seek there.

    `add_result` only stores numbers; a QTimer pushes them to the curves at UI rate (`setData` once per tick).
    The legend sits above the plots and names only the faces seen lately (at most `LEGEND_MAX`). The mouse
    wheel zooms both axes; the plots' context menu exports them; single points are drawn as markers.
    """

    #: the frame index nearest to where the user clicked
    seek_requested = Signal(int)
    #: faces named in the legend at most (the most recently seen)
    LEGEND_MAX = 12
    #: a face counts as recent while seen within this many frames of the newest one
    RECENT_FRAMES = 150

    def __init__(self, parent: Optional[QWidget] = None, refresh_ms: int = 66) -> None:
        super().__init__(parent)
        self._unit = "frame"
        self._live = False
        self._window = 600  # points kept per face in live mode
        self._series: Dict[int, SeriesBuffer] = {}
        self._curves: Dict[int, List[pg.PlotDataItem]] = {}
        self._dirty = False
        self._last: Optional[Tuple[int, float]] = None  # (frame, seconds) of the newest result
        self.points_added = 0

        self.legend = QLabel()
        self.legend.setTextFormat(Qt.TextFormat.RichText)
        self.legend.setStyleSheet("QLabel { background: rgb(24, 26, 30); color: #c8ccd4; padding: 2px 6px; }")
        self._graphics = pg.GraphicsLayoutWidget()
        self._graphics.setBackground((24, 26, 30))
        self._plots: List[pg.PlotItem] = []
        for row, name in enumerate(ANGLES):
            plot = self._graphics.addPlot(row=row, col=0)
            plot.setLabel("left", name)  # short: three plots share a small window's height
            plot.showGrid(x=True, y=True, alpha=0.25)
            plot.setMouseEnabled(x=True, y=True)
            plot.setLimits(yMin=-200, yMax=200)
            plot.enableAutoRange(axis="y")
            plot.hideButtons()
            plot.setDownsampling(auto=True, mode="peak")
            plot.setClipToView(True)
            plot.addLine(y=0, pen=pg.mkPen((110, 110, 120), width=1, style=Qt.PenStyle.DashLine))
            if row > 0:
                plot.setXLink(self._plots[0])
            if row < len(ANGLES) - 1:
                plot.getAxis("bottom").setStyle(showValues=False)
            self._plots.append(plot)
        self._cursors = [plot.addLine(x=0, pen=pg.mkPen((240, 240, 240, 160), width=1)) for plot in self._plots]
        self._update_x_label()
        self._graphics.scene().sigMouseClicked.connect(self._on_click)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.legend)
        layout.addWidget(self._graphics, 1)

        self._timer = QTimer(self)
        self._timer.setInterval(refresh_ms)
        self._timer.timeout.connect(self.redraw)
        self._timer.start()

    # configuration -------------------------------------------------------------------------------------------
    def configure(self, live: bool, unit: str = "frame", window: int = 600) -> None:
        """Start over for a new source: a rolling window of `window` points (live) or the whole clip (files)."""
        self._check_unit(unit)
        self._live, self._unit, self._window = live, unit, int(window)
        self._update_x_label()
        self.clear()

    @staticmethod
    def _check_unit(unit: str) -> None:
        if unit not in ("frame", "s"):
            raise ValueError(f"unit must be 'frame' or 's', not {unit!r}")

    def unit(self) -> str:
        """'frame' or 's' (seconds)."""
        return self._unit

    def set_unit(self, unit: str) -> None:
        """Switch the x axis between frames and seconds; the same points are drawn again."""
        self._check_unit(unit)
        self._unit = unit
        self._update_x_label()
        self._dirty = True
        self.redraw()
        self._plots[0].enableAutoRange(axis="x")

    def clear(self) -> None:
        """Remove every face's curves and data."""
        for curves in self._curves.values():
            for plot, curve in zip(self._plots, curves):
                plot.removeItem(curve)
        self._series.clear()
        self._curves.clear()
        self.legend.setText("")
        self._last = None
        self.points_added = 0
        self._dirty = True

    def _update_x_label(self) -> None:
        self._plots[-1].setLabel("bottom", "time (s)" if self._unit == "s" else "frame (from 0)")

    # data ----------------------------------------------------------------------------------------------------
    def face_ids(self) -> List[int]:
        """The ids of the faces that have a curve."""
        return sorted(self._series)

    def series(self, face_id: int) -> np.ndarray:
        """(N, 5) array x (in the axis unit), frame, yaw, pitch, roll for one face (gaps are NaN rows)."""
        data = self._series[face_id].view()
        return np.column_stack([data[:, 1] if self._unit == "s" else data[:, 0], data[:, 0], data[:, 2:]])

    def add_result(self, result: FrameResult) -> None:
        """Store one frame's angles for each of its faces (no drawing here); a frame again replaces its points."""
        frame, seconds = int(result.index), result.timestamp_ms / 1000.0
        if self._last is not None and frame == self._last[0]:
            for buf in self._series.values():
                buf.drop_frame(frame)
        elif self._last is not None and frame < self._last[0]:
            # The source went back (seek): break every line instead of drawing across.
            for buf in self._series.values():
                if not buf.last_is_gap():
                    buf.append(frame, seconds, (np.nan, np.nan, np.nan))
        present = set()
        for face in result.faces:
            present.add(face.face_id)
            buf = self._series.get(face.face_id)
            if buf is None:
                buf = self._series[face.face_id] = SeriesBuffer(self._window, bounded=self._live)
                self._add_curves(face.face_id)
            pose = face.pose if face.pose_valid else None
            buf.append(frame, seconds, pose.as_tuple() if pose is not None else (np.nan, np.nan, np.nan))
            self.points_added += 1
        for face_id, buf in self._series.items():
            if face_id not in present and not buf.last_is_gap():
                buf.append(frame, seconds, (np.nan, np.nan, np.nan))
        self._last = (frame, seconds)
        self._dirty = True

    def _add_curves(self, face_id: int) -> None:
        pen = pg.mkPen(color=face_color(face_id), width=2)
        self._curves[face_id] = [plot.plot(pen=pen, connect="finite") for plot in self._plots]

    def recent_faces(self) -> List[int]:
        """Faces seen within RECENT_FRAMES of the newest frame, most recent first, at most LEGEND_MAX."""
        if self._last is None:
            return []
        seen = [(f, buf.last_frame()) for f, buf in self._series.items()]
        recent = [(last, f) for f, last in seen if last is not None and self._last[0] - last <= self.RECENT_FRAMES]
        return [f for _, f in sorted(recent, key=lambda t: (-t[0], t[1]))][: self.LEGEND_MAX]

    def _update_legend(self) -> None:
        recent = self.recent_faces()
        entries = " ".join(f"<span style='color: rgb{face_color(f)}'>■ #{f}</span>" for f in sorted(recent))
        older = len(self._series) - len(recent)
        self.legend.setText("angles in degrees; faces " + entries + (f"  <i>(+{older} not seen lately)</i>" if older > 0 else "")
                            if self._series else "")

    def set_cursor(self, x: float) -> None:
        """Move the vertical 'now' line (in the axis unit)."""
        for line in self._cursors:
            line.setValue(x)

    def redraw(self) -> None:
        """Push the buffers to the curves if anything changed since the last tick."""
        if not self._dirty:
            return
        self._dirty = False
        for face_id in self._series:
            data = self.series(face_id)
            few = int(np.isfinite(data[:, 2]).sum()) < 3  # a single image or two: markers, or nothing shows
            color = face_color(face_id)
            for col, curve in enumerate(self._curves[face_id]):
                curve.setData(data[:, 0], data[:, 2 + col], connect="finite", symbol="o" if few else None,
                              symbolSize=8, symbolBrush=color, symbolPen=color)
        self._update_legend()
        if self._last is not None:
            x_now = self._last[1] if self._unit == "s" else float(self._last[0])
            self.set_cursor(x_now)
            if self._live:
                xs = [self.series(f)[0, 0] for f, buf in self._series.items() if len(buf)]
                lo = min(xs, default=x_now)
                self._plots[0].setXRange(max(lo, x_now - self._window_span()), x_now, padding=0.01)
            else:
                self._plots[0].enableAutoRange(axis="x")

    def _window_span(self) -> float:
        if self._unit == "s":
            steps = [np.diff(buf.view()[:, 1]) for buf in self._series.values() if len(buf) > 1]
            if steps:
                step = np.nanmedian(np.concatenate(steps))
                if np.isfinite(step) and step > 0:
                    return float(step * self._window)
            return 20.0
        return float(self._window)

    def save_png(self, path: str) -> bool:
        """Save the legend and the three plots as they are shown."""
        self.redraw()
        return bool(self.grab().save(path, "PNG"))

    # interaction ---------------------------------------------------------------------------------------------
    def frame_at(self, x: float) -> Optional[int]:
        """The stored frame index whose x is nearest to `x` (None when there is no data)."""
        best: Optional[Tuple[float, int]] = None
        for face_id in self._series:
            data = self.series(face_id)
            if not len(data):
                continue
            i = int(np.argmin(np.abs(data[:, 0] - x)))
            dist = abs(data[i, 0] - x)
            if best is None or dist < best[0]:
                best = (dist, int(data[i, 1]))
        return None if best is None else best[1]

    def _on_click(self, event) -> None:
        if getattr(event, "button", lambda: Qt.MouseButton.LeftButton)() != Qt.MouseButton.LeftButton:
            return  # the right button opens the plots' menu (export)
        for plot in self._plots:
            if plot.sceneBoundingRect().contains(event.scenePos()):
                x = plot.vb.mapSceneToView(event.scenePos()).x()
                frame = self.frame_at(x)
                if frame is not None:
                    self.seek_requested.emit(frame)
                return
