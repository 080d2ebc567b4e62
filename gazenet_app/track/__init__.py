"""Face tracks across frames (stable ids, following missed faces) and pose/box smoothing."""

__all__: list = []
