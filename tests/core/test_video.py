"""Sources: images (colour order, grey, alpha, 16 bit, odd paths), folders, videos (seek, stride, cut), cameras."""

from __future__ import annotations

import shutil

import cv2
import numpy as np
import pytest

from fixtures.clips import frame_code, synthetic_frames, truncate_file, write_clip
from gazenet_app.core.errors import SourceError
from gazenet_app.core.video import (CameraSource, ImageSequenceSource, VideoFileSource, list_cameras,
                                    open_source, read_image)


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


def test_non_ascii_and_space_paths(tmp_path):
    folder = tmp_path / "Gesichter und Köpfe 顔"
    folder.mkdir()
    path = write_bgr(folder / "bild ä 1.jpg", np.full((16, 16, 3), 200, np.uint8))
    assert read_image(path).shape == (16, 16, 3)
    clip = write_clip(folder / "clip ü.avi", synthetic_frames(3))
    with open_source(str(clip)) as src:
        assert [f.index for f in src] == [0, 1, 2]


@pytest.mark.parametrize("content,message", [
    (None, "image not found: "), (b"", "the file is empty"), (b"\xff\xd8\xff garbage" * 10, "not an image or corrupt"),
])
def test_bad_images_raise_source_error(tmp_path, content, message):
    path = tmp_path / "bad.jpg"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(SourceError, match=message):
        read_image(path)
    with pytest.raises(SourceError, match=message if content is not None else "input not found"):
        open_source(path)


def test_image_source(tmp_path):
    path = write_bgr(tmp_path / "one.png", np.zeros((5, 9, 3), np.uint8))
    with open_source(path) as src:
        assert isinstance(src, ImageSequenceSource) and src.frame_count == 1
        frames = list(src)
    assert [(f.index, f.source, f.rgb.shape) for f in frames] == [(0, "one.png", (5, 9, 3))]


def test_folder_skips_non_images_and_corrupt_images_with_notes(tmp_path):
    for i in (10, 2, 1):
        write_bgr(tmp_path / f"f{i}.png", np.full((4, 4, 3), i, np.uint8))
    (tmp_path / "readme.txt").write_text("hello")
    (tmp_path / "f3.jpg").write_bytes(b"not a jpeg")
    with open_source(tmp_path) as src:
        assert src.frame_count == 4  # f1, f2, f3 (corrupt), f10 in natural order
        frames = list(src)
    assert [(f.index, f.source) for f in frames] == [(0, "f1.png"), (1, "f2.png"), (3, "f10.png")]
    assert [int(f.rgb[0, 0, 0]) for f in frames] == [1, 2, 10]
    assert any("readme.txt" in n and "not images" in n for n in src.notes)
    assert any("f3.jpg" in n and "skipped frame 2" in n for n in src.notes)
    assert frames[1].timestamp_ms == pytest.approx(1000.0 / 30)


def test_list_of_images_and_missing_member(tmp_path):
    a = write_bgr(tmp_path / "a.png", np.zeros((4, 4, 3), np.uint8))
    b = write_bgr(tmp_path / "b.png", np.zeros((4, 4, 3), np.uint8))
    with open_source([a, b]) as src:
        assert [f.source for f in src] == ["a.png", "b.png"]
    with pytest.raises(SourceError, match="image not found: .*c.png"):
        open_source([a, tmp_path / "c.png"])


def test_empty_folder(tmp_path):
    with pytest.raises(SourceError, match=r"no images in folder .*"):
        open_source(tmp_path)
    (tmp_path / "x.txt").write_text("x")
    with pytest.raises(SourceError, match=r"no images in folder .* \(1 other files skipped\)"):
        open_source(tmp_path)


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


def test_cut_video_ends_cleanly_with_reason(synthetic_clip, tmp_path):
    cut = truncate_file(synthetic_clip.path, tmp_path / "cut.avi", 0.6)
    with open_source(cut) as src:
        frames = list(src)
    assert len(frames) == 18 and [frame_code(f.rgb) for f in frames] == list(range(18))
    assert src.ended_early
    assert src.error == "cut.avi: frame 18 of 30 could not be decoded (file cut or corrupt); stopped there"


@pytest.mark.parametrize("content,message", [
    (b"", "cannot open video .*: the file is empty"),
    (b"RIFF\x00\x00\x00\x00AVI garbage" * 50, "cannot (open|read) video"),
])
def test_broken_video_files(tmp_path, content, message):
    path = tmp_path / "bad.avi"
    path.write_bytes(content)
    with pytest.raises(SourceError, match=message):
        open_source(path)


def test_missing_inputs(tmp_path):
    with pytest.raises(SourceError, match="input not found: .*nothing.mp4"):
        open_source(tmp_path / "nothing.mp4")
    with pytest.raises(SourceError, match="video not found"):
        VideoFileSource(tmp_path / "nothing.mp4")


def test_unknown_extension_is_sniffed(tmp_path, synthetic_clip):
    img = write_bgr(tmp_path / "pic.png", np.zeros((4, 4, 3), np.uint8))
    shutil.copy(img, tmp_path / "pic.data")
    shutil.copy(synthetic_clip.path, tmp_path / "clip.data")
    assert isinstance(open_source(tmp_path / "pic.data"), ImageSequenceSource)
    assert isinstance(open_source(tmp_path / "clip.data"), VideoFileSource)
    (tmp_path / "junk.data").write_bytes(b"junk" * 10)
    with pytest.raises(SourceError, match="neither an image nor a video"):
        open_source(tmp_path / "junk.data")


def test_missing_camera():
    with pytest.raises(SourceError, match="camera 97 cannot be opened"):
        open_source("cam:97")
    with pytest.raises(SourceError, match="camera 98 cannot be opened"):
        CameraSource(98)


def test_list_cameras_returns_indices():
    found = list_cameras(max_index=1)
    assert isinstance(found, list) and all(isinstance(i, int) and 0 <= i < 1 for i in found)
