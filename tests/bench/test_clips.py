"""Benchmark clips: 640x480, the patches placed apart and moving; real faces from ../shared when present."""

from __future__ import annotations

import numpy as np
import pytest

from gazenet_app.benchmark.clips import face_patches, write_face_clip
from gazenet_app.core.errors import SourceError
from gazenet_app.core.video import open_source


def test_clip_has_the_frames_size_and_moving_patches(tmp_path):
    patches = [np.full((120, 100, 3), 40 * (k + 1), np.uint8) for k in range(5)]
    clip = write_face_clip(tmp_path / "c.avi", patches, frames=12)
    with open_source(str(clip)) as src:
        frames = [f.rgb for f in src]
    assert len(frames) == 12 and frames[0].shape == (480, 640, 3)
    assert np.abs(frames[0].astype(int) - frames[6].astype(int)).mean() > 1  # the faces moved


def test_missing_photos_raise_a_source_error(tmp_path):
    with pytest.raises(SourceError, match="no face photos"):
        face_patches(tmp_path / "absent", 1)


@pytest.mark.shared
def test_five_real_faces_are_found_and_the_live_preset_sees_them(faces_dir, tmp_path):
    from gazenet_app.detect.registry import get_detector

    patches = face_patches(faces_dir, 5)
    assert len(patches) == 5 and all(p.shape[1] >= 110 for p in patches)
    clip = write_face_clip(tmp_path / "five.avi", patches, frames=3)
    det = get_detector("mtcnn", preset="live")
    with open_source(str(clip)) as src:
        counts = [len(det.detect(f.rgb)) for f in src]
    assert counts == [5, 5, 5]
