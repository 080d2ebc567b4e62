"""A UMIST head turn (frontal -> profile -> frontal) moving across a textured frame, for tracking tests."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from gazenet_app.core.video import read_image


@pytest.fixture(scope="module")
def umist_turn(shared_dir):
    """(frames, face_centres, background): subject s01's 19 images played 19..1..19, 4 px right per frame."""
    umist = shared_dir / "data/faces_extra/face_databases_yuzhounh/UMIST"
    rng = np.random.default_rng(0)
    bg = cv2.GaussianBlur(rng.integers(0, 255, size=(300, 400, 3), dtype=np.uint8), (0, 0), 3)
    bg = cv2.normalize(bg, None, 60, 200, cv2.NORM_MINMAX)
    frames, centres = [], []
    for i, k in enumerate(list(range(19, 0, -1)) + list(range(2, 20))):
        face = read_image(umist / f"s01_{k:02d}.png")  # 112 x 92
        x0, y0 = 40 + 4 * i, 60 + int(round(10 * np.sin(i / 5.0)))
        f = bg.copy()
        f[y0:y0 + 112, x0:x0 + 92] = face
        frames.append(f)
        centres.append((x0 + 46, y0 + 56))
    return frames, np.array(centres, float), bg
