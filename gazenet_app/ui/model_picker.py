"""`ModelPicker`: one toolbar widget for the pose model, its precision, the face detector and the device.

It shows the worker's catalog and state (never its own guess of them) and asks for changes through one signal;
after a failed change the session re-sends the state, so the picker falls back to what is really active.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Dict, Optional

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QWidget

__all__ = ["ModelPicker", "DETECTOR_NOTES", "PRECISIONS"]

#: What a user should know about each detector (the combo's tooltips).
DETECTOR_NOTES = {
    "mtcnn": "MTCNN: the default; finds frontal and turned faces",
    "ssh": "SSH: a single-stage detector for small faces in crowds",
    "cascade": "Haar cascade: for comparison only. It often boxes an eye or a chin instead of the face and "
               "takes about 1 s a frame on large images",
}
#: The precision choices, as `--precision` takes them (the model store's fused/int8 exports of a model).
PRECISIONS = ("auto", "fp32", "fused", "int8")
NO_MODEL = "none (detection only)"


def _combo(tip: str) -> QComboBox:
    combo = QComboBox()
    combo.setToolTip(tip)
    combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)  # never cut the names
    return combo


class ModelPicker(QWidget):
    """Model, precision, detector and device combos over the worker's catalog and state."""

    #: option changes to apply: {"model": name or ""}, {"precision": p}, {"detector": n} or {"device": d}
    changes_requested = Signal(dict)

    def __init__(self, parent: Optional[QWidget] = None) -> None:
        super().__init__(parent)
        self.model = _combo("Pose model (Model ▸ Load weights… for a file)")
        self.precision = _combo("Precision of the pose model: auto picks the fastest export within 0.3° of "
                                "fp32 accuracy; fused and int8 are faster exports of the same model")
        self.detector = _combo("Face detector")
        self.device = _combo("Where the pose model runs")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        for label, combo in (("Model", self.model), ("Precision", self.precision), ("Detector", self.detector),
                             ("Device", self.device)):
            text = QLabel(label)
            text.setBuddy(combo)
            layout.addWidget(text)
            layout.addWidget(combo)
            if combo is self.device:
                self._device_label = text
        self.model.activated.connect(lambda i: self.changes_requested.emit({"model": self.model.itemData(i)}))
        self.precision.activated.connect(
            lambda i: self.changes_requested.emit({"precision": self.precision.itemData(i)}))
        self.detector.activated.connect(
            lambda i: self.changes_requested.emit({"detector": self.detector.itemData(i)}))
        self.device.activated.connect(lambda i: self.changes_requested.emit({"device": self.device.itemData(i)}))
        self._catalog: Dict[str, Any] = {}
        self._state = None
        self._refill()

    def set_catalog(self, catalog: Dict[str, Any]) -> None:
        """What can be chosen: installed pose models, detectors that can run here, GPUs."""
        self._catalog = dict(catalog)
        self._refill()

    def set_state(self, state) -> None:
        """What is active (a WorkerState): the combos show it."""
        self._state = state
        self._refill()

    def _refill(self) -> None:
        state, catalog = self._state, self._catalog
        options = state.options if state is not None else {}
        active = state.model if state is not None else None
        models = [(NO_MODEL, "", "Run face detection only")]
        for m in catalog.get("models", []):
            bits = [str(x) for x in (m.get("backbone"), f"{m['input_size']} px" if m.get("input_size") else None,
                                     m.get("eval")) if x]
            models.append((m["name"], m["name"], ", ".join(bits)))
        if active and active not in [data for _, data, _ in models]:
            models.append((Path(active).name, active, active))
        _fill(self.model, models, active or "")
        loaded = state.precision if state is not None else None
        _fill(self.precision, [(f"auto ({loaded})" if p == "auto" and loaded else p, p, "") for p in PRECISIONS],
              options.get("precision", "auto"))
        self.precision.setEnabled(bool(active))
        detectors = catalog.get("detectors") or []
        current = state.detector if state is not None else None
        entries = [(n, n, DETECTOR_NOTES.get(n, "")) for n in detectors]
        if current is None:
            entries.insert(0, ("none", None, "No face detector could be built: frames are shown without faces"))
        _fill(self.detector, entries, current)
        self.detector.setToolTip(DETECTOR_NOTES.get(current or "", "Face detector"))
        gpus = int(catalog.get("gpus", 0) or 0)
        _fill(self.device, [(d.upper(), d, "") for d in ["cpu"] + [f"gpu:{i}" for i in range(gpus)]],
              options.get("device", "cpu"))
        self.device.setVisible(gpus > 0)
        self._device_label.setVisible(gpus > 0)


def _fill(combo: QComboBox, entries, current) -> None:
    """Replace the combo's (text, data, tooltip) entries and select `current`, without emitting `activated`."""
    combo.blockSignals(True)
    combo.clear()
    for text, data, tip in entries:
        combo.addItem(text, data)
        if tip:
            combo.setItemData(combo.count() - 1, tip, Qt.ItemDataRole.ToolTipRole)
    combo.setCurrentIndex(max(0, combo.findData(current)))
    combo.blockSignals(False)
