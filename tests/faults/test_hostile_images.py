"""Hostile still images and inputs (issue 20, item 8): a header claiming more than 100 megapixels is refused before
decoding, a float image a little above 1.0 keeps its brightness, a FIFO named like a video or image is refused
instead of hanging, and a `--save` image that fails to write leaves no cut file under its final name."""

from __future__ import annotations

import builtins
import errno
import os
import struct
import threading
import zlib

import cv2
import numpy as np
import pytest

from faults.support import cli
from gazenet_app.core.errors import ExportError, SourceError
from gazenet_app.core.image_limits import header_size
from gazenet_app.core.video import open_source, read_image, write_image


def _png_claiming(width: int, height: int) -> bytes:
    """A small PNG whose IHDR (with a valid CRC) claims `width` x `height`: what a 1.7 MB 20000x20000 PNG
    looks like to a header reader, without the test holding gigabytes."""
    data = cv2.imencode(".png", np.zeros((8, 8, 3), np.uint8))[1].tobytes()
    ihdr = b"IHDR" + struct.pack(">II", width, height) + data[24:29]
    return data[:8] + struct.pack(">I", 13) + ihdr + struct.pack(">I", zlib.crc32(ihdr)) + data[33:]


def test_header_over_100_megapixels_is_refused_before_decoding(tmp_path, monkeypatch):
    path = tmp_path / "huge.png"
    path.write_bytes(_png_claiming(20000, 20000))
    decoded = []
    real = cv2.imdecode
    monkeypatch.setattr(cv2, "imdecode", lambda *a: decoded.append(1) or real(*a))
    with pytest.raises(SourceError, match=r"^cannot read image .*huge\.png: 20000x20000 pixels is more than the "
                                          r"100 megapixels gazenet decodes; downscale it first$"):
        read_image(path)
    assert decoded == []


@pytest.mark.parametrize("ext", [".png", ".jpg", ".bmp", ".webp", ".tif", ".ppm", ".pgm"])
def test_header_sizes_of_every_format(ext):
    image = np.zeros((37, 53, 3 if ext != ".pgm" else 1), np.uint8)
    assert header_size(cv2.imencode(ext, image)[1].tobytes()) == (53, 37)


def test_float_tiff_slightly_above_one_keeps_its_brightness(tmp_path):
    ramp = np.linspace(0.0, 1.02, 64 * 48, dtype=np.float32).reshape(48, 64)
    path = tmp_path / "hdr.tif"
    assert cv2.imwrite(str(path), np.dstack([ramp] * 3))
    rgb = read_image(path)
    decoded = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)[..., 2].astype(np.float64)  # as OpenCV decodes it
    assert 1.0 < decoded.max() < 1.1
    expected = np.clip(decoded / decoded.max() * 255 + 0.5, 0, 255).astype(np.uint8)
    np.testing.assert_allclose(rgb[..., 0], expected, atol=1)
    assert rgb.mean() > 120  # it was black (0 or 1) before


@pytest.mark.parametrize("name", ["live.avi", "live.png"])
def test_fifo_input_is_refused_not_waited_on(tmp_path, fake_cli, capsys, name):
    fifo = tmp_path / name
    os.mkfifo(fifo)
    done = []
    worker = threading.Thread(target=lambda: done.append(cli(["annotate", fifo, "-o", tmp_path / "o.csv"], capsys)),
                              daemon=True)
    worker.start()
    worker.join(20)
    if not done:  # unblock the reader so the thread can end, then fail
        with open(fifo, "wb"):
            pass
        pytest.fail("annotate waited on a FIFO")
    code, _, err = done[0]
    assert code == 2
    assert err.strip() == f"error: {fifo} is a FIFO (named pipe), not a regular file"
    assert not list(tmp_path.glob("o.*"))
    with pytest.raises(SourceError, match="is a FIFO"):
        open_source(fifo)


def test_save_on_a_full_disk_leaves_no_cut_image(tmp_path, monkeypatch):
    from gazenet_app.core import atomic_files

    class HalfWrite:
        def __init__(self, fh):
            self.fh = fh

        def write(self, data):
            self.fh.write(data[:len(data) // 2])
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.fh.close()

    monkeypatch.setattr(atomic_files, "open", lambda path, mode="r", *a, **k: HalfWrite(builtins.open(path, mode, *a, **k)),
                        raising=False)
    out = tmp_path / "faces.png"
    with pytest.raises(ExportError, match=r"^cannot write .*faces\.png: no space left on the device$"):
        write_image(out, np.zeros((16, 16, 3), np.uint8))
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("command", [["predict"], ["detect", "--detector", "cascade"]])
def test_bad_image_in_a_folder_is_skipped_and_json_written_for_the_rest(command, fake_cli, tmp_path, capsys):
    """predict and detect read images by annotate's rule: the bad one is skipped with a note naming it."""
    folder = tmp_path / "photos"
    folder.mkdir()
    for name in ("a.png", "c.png"):
        cv2.imwrite(str(folder / name), np.full((64, 64, 3), 90, np.uint8))  # 64 px: the fake detector reads a code
    (folder / "b.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 100)  # a PNG cut after its signature
    report = tmp_path / "r.json"
    code, out, err = cli([*command, folder, "--json", report], capsys)
    assert code == 0, err
    assert "skipped frame 1: cannot read image" in err and "b.png" in err
    doc = __import__("json").loads(report.read_text())
    assert [os.path.basename(r["image"]) for r in doc["images"]] == ["a.png", "c.png"]
    assert len(doc["skipped"]) == 1 and "b.png: not an image or corrupt" in doc["skipped"][0]


def test_a_single_bad_image_is_still_an_error(fake_cli, tmp_path, capsys):
    bad = tmp_path / "b.png"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 100)
    code, _, err = cli(["predict", bad], capsys)
    assert code == 2 and err == f"error: cannot read image {bad}: not an image or corrupt\n"
    assert fake_cli == []


def test_a_gif_is_a_video_everywhere(fake_cli, tmp_path, capsys):
    """One rule: annotate reads every frame of an animated GIF; predict and detect refuse it as not a still image
    (they refused it as 'not an image or corrupt' while annotate read it); a folder skips it with its note."""
    from faults.crafted import write_gif

    gif = tmp_path / "anim.gif"
    write_gif(gif, [np.full((24, 32), k % 4, np.uint8) for k in range(5)])
    message = (f"error: {gif} is a video (.gif), not a still image: `gazenet annotate anim.gif -o OUT.csv` reads its "
               "frames\n")
    for command in (["predict", gif], ["detect", gif, "--detector", "cascade"]):
        code, _, err = cli(command, capsys)
        assert (code, err) == (2, message)
    code, _, err = cli(["annotate", gif, "--jsonl", tmp_path / "o.jsonl", "--no-progress"], capsys)
    assert code == 0, err
    assert len((tmp_path / "o.jsonl").read_text().splitlines()) == 5
    cv2.imwrite(str(tmp_path / "still.png"), np.zeros((24, 32, 3), np.uint8))
    folder = open_source(tmp_path)
    assert [p.name for p in folder.paths] == ["still.png"] and "anim.gif" in folder.notes[0]
