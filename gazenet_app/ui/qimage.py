"""The one checked conversion from numpy images to QImage."""

from __future__ import annotations

import numpy as np
from PySide6.QtGui import QImage

__all__ = ["ndarray_to_qimage"]


def ndarray_to_qimage(arr: np.ndarray, copy: bool = True) -> QImage:
    """Convert an RGB/RGBA/grey uint8 array (H, W[, C]) to a QImage.

    With ``copy=True`` (the default, and the only safe choice across threads) the QImage owns its pixels.
    With ``copy=False`` the QImage borrows ``arr``'s buffer: the caller must keep ``arr`` alive and unchanged
    for as long as the QImage (and every shallow copy of it) is used.
    """
    if not isinstance(arr, np.ndarray):
        raise TypeError(f"expected a numpy array, got {type(arr).__name__}")
    if arr.dtype != np.uint8:
        raise TypeError(f"expected a uint8 image, got dtype {arr.dtype}")
    if arr.ndim == 2:
        fmt, channels = QImage.Format.Format_Grayscale8, 1
    elif arr.ndim == 3 and arr.shape[2] == 3:
        fmt, channels = QImage.Format.Format_RGB888, 3
    elif arr.ndim == 3 and arr.shape[2] == 4:
        fmt, channels = QImage.Format.Format_RGBA8888, 4
    else:
        raise ValueError(f"expected an (H, W), (H, W, 3) or (H, W, 4) image, got shape {arr.shape}")
    h, w = arr.shape[:2]
    if h == 0 or w == 0:
        raise ValueError(f"empty image of shape {arr.shape}")
    # QImage needs each row contiguous; the row stride may be padded, the pixel stride may not.
    if arr.strides[-1] != 1 or (arr.ndim == 3 and arr.strides[1] != channels):
        arr = np.ascontiguousarray(arr)
    image = QImage(arr.data, w, h, arr.strides[0], fmt)
    if copy:
        return image.copy()
    image._gazenet_buffer = arr  # keep the borrowed buffer alive with the image object
    return image
