"""Noticing a failed annotated-video write: OpenCV's `VideoWriter.write` returns nothing and drops frames silently
when the disk is full, leaving a cut AVI or an MP4 without its index ("moov atom not found").

Two checks, so neither a prediction nor a read-back alone has to be right:
- `ensure_space(path, frame_bytes)` before each frame: the file system must have room for the frame raw plus a
  reserve for the container's index (ENOSPC as ExportError otherwise);
- `video_problem(path, frames)` after the writer is released: the file must open and hold every frame written.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Optional, Union

import cv2

from gazenet_app.core.errors import ExportError

__all__ = ["RESERVE_BYTES", "ensure_space", "video_problem", "readable_frames"]

#: Room kept free beyond one raw frame: the container's index and headers, written when the file is finished.
RESERVE_BYTES = 1 << 20


def ensure_space(path: Union[str, os.PathLike], frame_bytes: int) -> None:
    """ExportError (no space left) when the file system holding `path` has less than one raw frame plus
    RESERVE_BYTES free for an unprivileged writer."""
    try:
        st = os.statvfs(Path(path).parent)
    except (OSError, AttributeError):  # no statvfs (Windows) or the folder vanished: the read-back still checks
        return
    free = st.f_bavail * st.f_frsize
    if free < frame_bytes + RESERVE_BYTES:
        raise ExportError(f"cannot write {path}: no space left on the device ({free} bytes free, a frame "
                          f"needs up to {frame_bytes} + {RESERVE_BYTES} reserved)")


def video_problem(path: Union[str, os.PathLike], frames: int) -> Optional[str]:
    """Why the finished video at `path` is not whole (it does not open, or holds fewer than `frames` frames),
    or None when it is."""
    cap = cv2.VideoCapture(str(path))
    try:
        if not cap.isOpened():
            return f"{path} cannot be opened after writing (cut by a full disk?)"
        count = int(cap.get(cv2.CAP_PROP_FRAME_COUNT) or 0)
        if count != frames:
            return f"{path} holds {count} of the {frames} frames written (cut by a full disk?)"
        return None
    finally:
        cap.release()


def readable_frames(path: Union[str, os.PathLike]) -> int:
    """How many frames of the video at `path` decode, from the start (0 when it does not open): what a cut
    file (no index after a kill) still holds, where the container's frame count cannot be trusted."""
    cap = cv2.VideoCapture(str(path))
    n = 0
    try:
        while cap.isOpened() and cap.grab():
            n += 1
    finally:
        cap.release()
    return n
