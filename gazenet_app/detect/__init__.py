"""Face detectors behind one interface (`FaceDetector`), chosen by name through `get_detector`."""

from gazenet_app.detect.base import FaceDetector
from gazenet_app.detect.registry import DEFAULT_DETECTOR, get_detector, get_detector_list

__all__ = ["FaceDetector", "DEFAULT_DETECTOR", "get_detector", "get_detector_list"]
