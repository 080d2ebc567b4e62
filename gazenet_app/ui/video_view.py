"""The central video view: paints the newest frame scaled to fit, keeping the aspect ratio."""

from __future__ import annotations

from typing import Optional

from PySide6.QtCore import QRect, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFont, QImage, QPainter, QPaintEvent
from PySide6.QtWidgets import QSizePolicy, QWidget

__all__ = ["VideoView"]

_BACKGROUND = QColor(24, 26, 30)
_HINT = QColor(150, 156, 166)


class VideoView(QWidget):
    """Shows one QImage at a time, letterboxed; a hint text when empty."""

    def __init__(self, parent: Optional[QWidget] = None) -> None:
        super().__init__(parent)
        self._image: Optional[QImage] = None
        self._hint = "Open an image, a folder, a video or a webcam (File menu, Ctrl+O)\nor drop files here"
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(320, 240)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)

    def sizeHint(self) -> QSize:  # noqa: N802 (Qt naming)
        return QSize(800, 600)

    def image(self) -> Optional[QImage]:
        """The image shown now (None when empty)."""
        return self._image

    def set_image(self, image: Optional[QImage]) -> None:
        """Show `image` (a QImage that owns its pixels) at the next repaint."""
        self._image = image
        self.update()

    def set_hint(self, text: str) -> None:
        """The text shown while there is no image."""
        self._hint = text
        if self._image is None:
            self.update()

    def clear(self) -> None:
        """Forget the image and show the hint."""
        self.set_image(None)

    def image_rect(self) -> QRect:
        """Where the image is drawn in widget coordinates (empty when there is no image)."""
        if self._image is None or self._image.isNull():
            return QRect()
        size = self._image.size().scaled(self.size(), Qt.AspectRatioMode.KeepAspectRatio)
        x = (self.width() - size.width()) // 2
        y = (self.height() - size.height()) // 2
        return QRect(x, y, size.width(), size.height())

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 (Qt naming)
        painter = QPainter(self)
        painter.fillRect(self.rect(), _BACKGROUND)
        if self._image is None or self._image.isNull():
            painter.setPen(_HINT)
            font = QFont(self.font())
            font.setPointSizeF(font.pointSizeF() * 1.15)
            painter.setFont(font)
            painter.drawText(QRectF(self.rect()), Qt.AlignmentFlag.AlignCenter, self._hint)
        else:
            painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
            painter.drawImage(self.image_rect(), self._image)
        painter.end()
