"""Training side of gazenet: teacher labels, face profiling, datasets, evaluation (imported lazily by the CLI).

Never imported by the app; submodules load their heavy dependencies (mediapipe, OpenCV) on demand.
"""

__all__: list = []
