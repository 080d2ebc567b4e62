"""The annotated video's write checks: free space before a frame, every frame read back after release."""

from __future__ import annotations

from collections import namedtuple

import cv2
import numpy as np
import pytest

from gazenet_app.core import video_check
from gazenet_app.core.errors import ExportError


def test_read_back_counts_frames(tmp_path):
    path = tmp_path / "v.avi"
    w = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 30, (32, 24))
    for i in range(5):
        w.write(np.full((24, 32, 3), i * 40, np.uint8))
    w.release()
    assert video_check.video_problem(path, 5) is None
    assert video_check.video_problem(path, 6) == f"{path} holds 5 of the 6 frames written (cut by a full disk?)"
    path.write_bytes(path.read_bytes()[:300])
    assert "cut by a full disk" in video_check.video_problem(path, 5)


def test_space_check(tmp_path, monkeypatch):
    video_check.ensure_space(tmp_path / "v.avi", 1000)  # this disk has a megabyte free
    Stat = namedtuple("Stat", "f_bavail f_frsize")
    monkeypatch.setattr(video_check.os, "statvfs", lambda p: Stat(50, 4096))
    with pytest.raises(ExportError, match=r"^cannot write .*v\.avi: no space left on the device "
                                          r"\(204800 bytes free, a frame needs up to 230400 \+ 1048576 reserved\)"):
        video_check.ensure_space(tmp_path / "v.avi", 320 * 240 * 3)
