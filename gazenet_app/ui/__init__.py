"""The PySide6/pyqtgraph desktop app: the only package of gazenet that imports Qt.

Nothing here holds pipeline logic: the window talks to a `PipelineWorker` on its own QThread through signals
that carry plain values (FrameResult dataclasses, copied QImages, strings).
"""

__all__: list = []
