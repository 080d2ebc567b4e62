"""Sources: images (colour order, grey, alpha, 16 bit), folders, videos (seek, stride), cameras.

Broken, cut, missing and odd-path inputs and lost cameras are tried in tests/faults/ (CLI and app).
"""

from __future__ import annotations

import shutil

import cv2
import numpy as np
import pytest

from fixtures.clips import frame_code, synthetic_frames
from gazenet_app.core.errors import SourceError
from gazenet_app.core.video import ImageSequenceSource, VideoFileSource, list_cameras, open_source, read_image


def write_bgr(path, bgr):
    ok, buf = cv2.imencode(path.suffix, bgr)
    assert ok
    buf.tofile(str(path))
    return path


def test_read_image_is_rgb(tmp_path):
    bgr = np.zeros((8, 10, 3), np.uint8)
    bgr[..., 2] = 255  # red in OpenCV's BGR
    rgb = read_image(write_bgr(tmp_path / "red.png", bgr))
    assert rgb.shape == (8, 10, 3) and rgb.dtype == np.uint8
    assert tuple(rgb[0, 0]) == (255, 0, 0)


@pytest.mark.parametrize("image,expect", [
    (np.full((6, 7), 77, np.uint8), (77, 77, 77)),                              # grayscale
    (np.dstack([np.full((6, 7), v, np.uint8) for v in (10, 20, 30, 128)]), (30, 20, 10)),  # BGRA
    (np.full((6, 7, 3), 40000, np.uint16), (156, 156, 156)),                  # 16 bit
])
def test_grey_alpha_and_16bit_become_rgb8(tmp_path, image, expect):
    rgb = read_image(write_bgr(tmp_path / "x.png", image))
    assert rgb.shape == (6, 7, 3) and rgb.dtype == np.uint8 and tuple(rgb[3, 3]) == expect


def test_image_source(tmp_path):
    path = write_bgr(tmp_path / "one.png", np.zeros((5, 9, 3), np.uint8))
    with open_source(path) as src:
        assert isinstance(src, ImageSequenceSource) and src.frame_count == 1
        frames = list(src)
    assert [(f.index, f.source, f.rgb.shape) for f in frames] == [(0, "one.png", (5, 9, 3))]


def test_list_of_images(tmp_path):
    a = write_bgr(tmp_path / "a.png", np.zeros((4, 4, 3), np.uint8))
    b = write_bgr(tmp_path / "b.png", np.zeros((4, 4, 3), np.uint8))
    with open_source([a, b]) as src:
        assert [f.source for f in src] == ["a.png", "b.png"]


def test_video_source(synthetic_clip):
    with open_source(synthetic_clip.path) as src:
        assert isinstance(src, VideoFileSource)
        assert src.fps == pytest.approx(15.0) and src.frame_count == 30
        frames = list(src)
    assert [f.index for f in frames] == list(range(30))
    assert [frame_code(f.rgb) for f in frames] == list(range(30))
    assert frames[3].timestamp_ms == pytest.approx(200.0)
    assert frames[0].source == "synthetic.avi" and frames[0].rgb.shape == (240, 320, 3)
    assert not src.ended_early and src.error is None


def test_video_seek_and_stride(synthetic_clip):
    with open_source(synthetic_clip.path) as src:
        src.seek(10)
        f = next(iter(src))
        assert f.index == 10 and frame_code(f.rgb) == 10
        got = [(f.index, frame_code(f.rgb)) for f in src.frames(start=3, end=20, stride=4)]
    assert got == [(i, i) for i in (3, 7, 11, 15, 19)]
    with open_source(synthetic_clip.path) as src:
        with pytest.raises(SourceError, match="cannot seek to frame 31"):
            src.seek(31)


def test_image_sequence_stride(tmp_path):
    for i, f in enumerate(synthetic_frames(7)):
        write_bgr(tmp_path / f"{i:02d}.png", cv2.cvtColor(f, cv2.COLOR_RGB2BGR))
    with open_source(tmp_path) as src:
        assert [frame_code(f.rgb) for f in src.frames(1, None, 3)] == [1, 4]


def test_unknown_extension_is_sniffed(tmp_path, synthetic_clip):
    img = write_bgr(tmp_path / "pic.png", np.zeros((4, 4, 3), np.uint8))
    shutil.copy(img, tmp_path / "pic.data")
    shutil.copy(synthetic_clip.path, tmp_path / "clip.data")
    assert isinstance(open_source(tmp_path / "pic.data"), ImageSequenceSource)
    assert isinstance(open_source(tmp_path / "clip.data"), VideoFileSource)
    (tmp_path / "junk.data").write_bytes(b"junk" * 10)
    with pytest.raises(SourceError, match="neither an image nor a video"):
        open_source(tmp_path / "junk.data")


def test_list_cameras_returns_indices():
    found = list_cameras(max_index=1)
    assert isinstance(found, list) and all(isinstance(i, int) and 0 <= i < 1 for i in found)


def test_classify_paths_uses_the_one_extension_list(tmp_path):
    from gazenet_app.core.video import IMAGE_EXTENSIONS, VIDEO_EXTENSIONS, classify_paths

    assert ".flv" in VIDEO_EXTENSIONS and ".ts" in VIDEO_EXTENSIONS and ".webp" in IMAGE_EXTENSIONS
    got = classify_paths([tmp_path, "a.MP4", "b.3gp", "c.png", "d.csv", "e.txt"])
    assert got == {"folders": [str(tmp_path)], "videos": ["a.MP4", "b.3gp"], "images": ["c.png"],
                   "csv": ["d.csv"], "other": ["e.txt"]}
