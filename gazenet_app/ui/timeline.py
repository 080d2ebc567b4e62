"""Yaw/pitch/roll timelines: one pyqtgraph curve per face and angle over fixed numpy buffers, redrawn by a QTimer."""

from __future__ import annotations

from typing import Dict, List, Optional, Tuple

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import QVBoxLayout, QWidget

from gazenet_app.core.draw import face_color
from gazenet_app.core.types import FrameResult

__all__ = ["TimelineWidget", "SeriesBuffer", "ANGLES"]

ANGLES: Tuple[str, ...] = ("yaw", "pitch", "roll")
_RANGE = {"yaw": 99.0, "pitch": 99.0, "roll": 99.0}


class SeriesBuffer:
    """x plus three angle columns in a preallocated array; a ring of `capacity` points, or growing when unbounded.

    Storage is twice the capacity so the live window is always one contiguous slice (no np.roll per point).
    """

    def __init__(self, capacity: int, bounded: bool) -> None:
        self.capacity = max(16, int(capacity))
        self.bounded = bounded
        self._data = np.full((2 * self.capacity, 5), np.nan, dtype=np.float64)  # x, frame, yaw, pitch, roll
        self._start = 0
        self._end = 0

    def __len__(self) -> int:
        return self._end - self._start

    def append(self, x: float, frame: int, angles: Tuple[float, float, float]) -> None:
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
        self._data[self._end] = (x, frame, *angles)
        self._end += 1
        if self.bounded and len(self) > self.capacity:
            self._start = self._end - self.capacity

    def view(self) -> np.ndarray:
        """The stored points as an (N, 5) array view: x, frame, yaw, pitch, roll."""
        return self._data[self._start:self._end]

    def last_is_gap(self) -> bool:
        """True when empty or the last point is a line break."""
        return len(self) == 0 or bool(np.isnan(self._data[self._end - 1, 2]))


class TimelineWidget(QWidget):
    """Three stacked plots (yaw, pitch, roll) sharing the x axis; clicking one asks to seek there.

    `add_result` only stores numbers; a QTimer pushes them to the curves at UI rate (`setData` once per tick).
    """

    #: the frame index nearest to where the user clicked
    seek_requested = Signal(int)

    def __init__(self, parent: Optional[QWidget] = None, refresh_ms: int = 66) -> None:
        super().__init__(parent)
        self._unit = "frame"
        self._live = False
        self._window = 600  # points kept per face in live mode
        self._series: Dict[int, SeriesBuffer] = {}
        self._curves: Dict[int, List[pg.PlotDataItem]] = {}
        self._dirty = False
        self._last_x: Optional[float] = None
        self.points_added = 0

        self._graphics = pg.GraphicsLayoutWidget()
        self._graphics.setBackground((24, 26, 30))
        self._plots: List[pg.PlotItem] = []
        for row, name in enumerate(ANGLES):
            plot = self._graphics.addPlot(row=row, col=0)
            plot.setLabel("left", f"{name} (°)")
            plot.showGrid(x=True, y=True, alpha=0.25)
            plot.setYRange(-_RANGE[name], _RANGE[name], padding=0.02)
            plot.setMouseEnabled(x=True, y=False)
            plot.setMenuEnabled(False)
            plot.hideButtons()
            plot.setDownsampling(auto=True, mode="peak")
            plot.setClipToView(True)
            plot.addLine(y=0, pen=pg.mkPen((110, 110, 120), width=1, style=pg.QtCore.Qt.PenStyle.DashLine))
            if row > 0:
                plot.setXLink(self._plots[0])
            if row < len(ANGLES) - 1:
                plot.getAxis("bottom").setStyle(showValues=False)
            self._plots.append(plot)
        self._legend = self._plots[0].addLegend(offset=(-10, 4), colCount=8, labelTextSize="8pt")
        self._legend.setBrush(pg.mkBrush(24, 26, 30, 200))
        self._cursors = [plot.addLine(x=0, pen=pg.mkPen((240, 240, 240, 160), width=1)) for plot in self._plots]
        self._update_x_label()
        self._graphics.scene().sigMouseClicked.connect(self._on_click)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self._graphics)

        self._timer = QTimer(self)
        self._timer.setInterval(refresh_ms)
        self._timer.timeout.connect(self.redraw)
        self._timer.start()

    # configuration -------------------------------------------------------------------------------------------
    def configure(self, live: bool, unit: str = "frame", window: int = 600) -> None:
        """Start over for a new source: a rolling window of `window` points (live) or the whole clip (files)."""
        if unit not in ("frame", "s"):
            raise ValueError(f"unit must be 'frame' or 's', not {unit!r}")
        self._live, self._unit, self._window = live, unit, int(window)
        self._update_x_label()
        self.clear()

    def unit(self) -> str:
        """'frame' or 's' (seconds)."""
        return self._unit

    def set_unit(self, unit: str) -> None:
        """Switch the x axis between frames and seconds (clears the plots)."""
        self.configure(self._live, unit, self._window)

    def clear(self) -> None:
        """Remove every face's curves and data."""
        for curves in self._curves.values():
            for plot, curve in zip(self._plots, curves):
                plot.removeItem(curve)
        self._series.clear()
        self._curves.clear()
        self._legend.clear()
        self._last_x = None
        self.points_added = 0
        self._dirty = True

    def _update_x_label(self) -> None:
        self._plots[-1].setLabel("bottom", "time (s)" if self._unit == "s" else "frame")

    # data ----------------------------------------------------------------------------------------------------
    def face_ids(self) -> List[int]:
        """The ids of the faces that have a curve."""
        return sorted(self._series)

    def series(self, face_id: int) -> np.ndarray:
        """(N, 5) array x, frame, yaw, pitch, roll for one face (gaps are NaN rows)."""
        return self._series[face_id].view()

    def add_result(self, result: FrameResult) -> None:
        """Store one frame's angles for each of its faces (no drawing here)."""
        x = result.timestamp_ms / 1000.0 if self._unit == "s" else float(result.index)
        if self._last_x is not None and x < self._last_x:
            # The source went back (seek): break every line instead of drawing across.
            for buf in self._series.values():
                if not buf.last_is_gap():
                    buf.append(x, result.index, (np.nan, np.nan, np.nan))
        present = set()
        for face in result.faces:
            present.add(face.face_id)
            buf = self._series.get(face.face_id)
            if buf is None:
                buf = self._series[face.face_id] = SeriesBuffer(self._window, bounded=self._live)
                self._add_curves(face.face_id)
            pose = face.pose if face.pose_valid else None
            angles = pose.as_tuple() if pose is not None else (np.nan, np.nan, np.nan)
            buf.append(x, result.index, angles)
            self.points_added += 1
        for face_id, buf in self._series.items():
            if face_id not in present and not buf.last_is_gap():
                buf.append(x, result.index, (np.nan, np.nan, np.nan))
        self._last_x = x
        self._dirty = True

    def _add_curves(self, face_id: int) -> None:
        color = face_color(face_id)
        pen = pg.mkPen(color=color, width=2)
        curves = []
        for row, plot in enumerate(self._plots):
            # only the top plot's curves carry a legend entry
            curve = plot.plot(pen=pen, connect="finite", name=f"#{face_id}" if row == 0 else None)
            curves.append(curve)
        self._curves[face_id] = curves

    def set_cursor(self, x: float) -> None:
        """Move the vertical 'now' line (in the axis unit)."""
        for line in self._cursors:
            line.setValue(x)

    def redraw(self) -> None:
        """Push the buffers to the curves if anything changed since the last tick."""
        if not self._dirty:
            return
        self._dirty = False
        for face_id, buf in self._series.items():
            data = buf.view()
            for col, curve in enumerate(self._curves[face_id]):
                curve.setData(data[:, 0], data[:, 2 + col], connect="finite")
        if self._last_x is not None:
            self.set_cursor(self._last_x)
            if self._live:
                lo = min((buf.view()[0, 0] for buf in self._series.values() if len(buf)), default=self._last_x)
                self._plots[0].setXRange(max(lo, self._last_x - self._window_span()), self._last_x, padding=0.01)
            else:
                self._plots[0].enableAutoRange(axis="x")

    def _window_span(self) -> float:
        if self._unit == "s":
            xs = [buf.view()[:, 0] for buf in self._series.values() if len(buf) > 1]
            if xs:
                step = np.nanmedian(np.concatenate([np.diff(x) for x in xs]))
                if np.isfinite(step) and step > 0:
                    return float(step * self._window)
            return 20.0
        return float(self._window)

    # interaction ---------------------------------------------------------------------------------------------
    def frame_at(self, x: float) -> Optional[int]:
        """The stored frame index whose x is nearest to `x` (None when there is no data)."""
        best: Optional[Tuple[float, int]] = None
        for buf in self._series.values():
            data = buf.view()
            if not len(data):
                continue
            i = int(np.argmin(np.abs(data[:, 0] - x)))
            dist = abs(data[i, 0] - x)
            if best is None or dist < best[0]:
                best = (dist, int(data[i, 1]))
        return None if best is None else best[1]

    def _on_click(self, event) -> None:
        for plot in self._plots:
            if plot.sceneBoundingRect().contains(event.scenePos()):
                x = plot.vb.mapSceneToView(event.scenePos()).x()
                frame = self.frame_at(x)
                if frame is not None:
                    self.seek_requested.emit(frame)
                return
