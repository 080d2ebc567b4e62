"""640x480 benchmark clips with real faces: face patches cut from photos, drifting over a plain background.

The patches come from ../shared/data/faces (found with the MTCNN `accurate` preset, largest first); nothing from
there is stored anywhere but the temporary clip. Faces are scaled to ~110 px so the `live` preset (which looks
at the frame downscaled to 320 px) finds them, and move a pixel or two per frame so tracking has work to do.
"""

from __future__ import annotations

from pathlib import Path
from typing import List, Sequence, Tuple, Union

import numpy as np

from gazenet_app.core.errors import SourceError

__all__ = ["CLIP_SIZE", "FACE_PHOTOS", "face_patches", "write_face_clip"]

CLIP_SIZE = (640, 480)  # width, height
#: Photos tried in order for frontal, well-lit faces (group photos of ../shared/data/faces).
FACE_PHOTOS = ("ulfd_19.jpg", "ulfd_12.jpg", "ulfd_2.jpg", "ulfd_13.jpg")
_FACE_PX = 110


def face_patches(faces_dir: Union[str, Path], count: int, face_px: int = _FACE_PX) -> List[np.ndarray]:
    """`count` RGB patches (a face with a margin, the face ~`face_px` wide); SourceError when too few are found."""
    import cv2

    from gazenet_app.core.video import read_image
    from gazenet_app.detect.registry import get_detector

    faces_dir = Path(faces_dir)
    if not faces_dir.is_dir():
        raise SourceError(f"no face photos at {faces_dir}")
    detector = get_detector("mtcnn", preset="accurate")
    patches: List[np.ndarray] = []
    for name in FACE_PHOTOS:
        path = faces_dir / name
        if not path.is_file():
            continue
        rgb = read_image(path)
        boxes = sorted((b for b in detector.detect(rgb) if b.score >= 0.95),
                       key=lambda b: -(b.x2 - b.x1) * (b.y2 - b.y1))
        for b in boxes:
            w, h = b.x2 - b.x1, b.y2 - b.y1
            if min(w, h) < 40:
                continue
            mx, my = 0.35 * w, 0.35 * h
            x1, y1 = int(max(0, b.x1 - mx)), int(max(0, b.y1 - my))
            x2, y2 = int(min(rgb.shape[1], b.x2 + mx)), int(min(rgb.shape[0], b.y2 + my))
            scale = face_px / w
            patch = cv2.resize(rgb[y1:y2, x1:x2], (max(1, int((x2 - x1) * scale)), max(1, int((y2 - y1) * scale))),
                               interpolation=cv2.INTER_AREA)
            patches.append(patch)
            if len(patches) == count:
                return patches
    raise SourceError(f"found only {len(patches)} of {count} clear faces in {faces_dir} ({', '.join(FACE_PHOTOS)})")


def _slots(n: int, size: Tuple[int, int], patch_shapes: Sequence[Tuple[int, int]]) -> List[Tuple[int, int]]:
    """Top-left corners spreading n patches over the frame (a row of three and a row of two for five)."""
    w, h = size
    per_row = n if n <= 3 else 3
    rows = (n + per_row - 1) // per_row
    out = []
    for i, (ph, pw) in enumerate(patch_shapes):
        r, c = divmod(i, per_row)
        in_row = min(per_row, n - r * per_row)
        cx = int((c + 0.5) * w / in_row)
        cy = int((r + 0.5) * h / rows)
        out.append((cx - pw // 2, cy - ph // 2))
    return out


def write_face_clip(path: Union[str, Path], patches: Sequence[np.ndarray], frames: int = 150,
                    size: Tuple[int, int] = CLIP_SIZE, fps: float = 30.0) -> Path:
    """Write an MJPG .avi of `frames` frames with the patches drifting (a few px, back and forth) on grey."""
    import cv2

    path = Path(path)
    w, h = size
    background = np.empty((h, w, 3), np.uint8)
    background[...] = np.linspace(90, 150, w, dtype=np.uint8)[None, :, None]
    slots = _slots(len(patches), size, [p.shape[:2] for p in patches])
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), fps, (w, h))
    if not writer.isOpened():
        raise SourceError(f"cannot write the benchmark clip {path}")
    try:
        for i in range(frames):
            f = background.copy()
            for k, (patch, (sx, sy)) in enumerate(zip(patches, slots)):
                phase = (i + 7 * k) % 60
                dx = (phase if phase < 30 else 60 - phase) - 15  # -15..15 px, triangle wave
                dy = ((i // 3 + 5 * k) % 20) - 10
                ph, pw = patch.shape[:2]
                x, y = sx + dx, sy + dy
                xa, ya = max(0, x), max(0, y)
                xb, yb = min(w, x + pw), min(h, y + ph)
                if xb > xa and yb > ya:
                    f[ya:yb, xa:xb] = patch[ya - y:yb - y, xa - x:xb - x]
            writer.write(cv2.cvtColor(f, cv2.COLOR_RGB2BGR))
    finally:
        writer.release()
    return path
