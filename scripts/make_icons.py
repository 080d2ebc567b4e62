"""Render resources/gazenet.svg to the bitmap icons: gazenet.png (Linux, 256 px), .ico (Windows), .icns (macOS).

    QT_QPA_PLATFORM=offscreen python scripts/make_icons.py
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> int:
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QImage, QPainter
    from PySide6.QtSvg import QSvgRenderer
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication([])  # QPainter needs an application
    renderer = QSvgRenderer(str(ROOT / "resources" / "gazenet.svg"))
    if not renderer.isValid():
        print("resources/gazenet.svg is not a valid SVG", file=sys.stderr)
        return 1
    ok = True
    for name, size in (("gazenet.png", 256), ("gazenet.ico", 256), ("gazenet.icns", 512)):
        image = QImage(size, size, QImage.Format.Format_ARGB32)
        image.fill(Qt.GlobalColor.transparent)
        painter = QPainter(image)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        renderer.render(painter)
        painter.end()
        saved = image.save(str(ROOT / "resources" / name))
        print(f"{name}: {'written' if saved else 'FAILED'}")
        ok = ok and saved
    app.processEvents()
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
