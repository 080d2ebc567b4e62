"""Limits and conversions of decoded still images: a pixel cap read from the file's header before decoding, and
one rule for turning any decoded depth into uint8.

A 20000x20000 PNG is 1.7 MB on disk and 1.2 GB decoded (2.6 GB at peak): `header_size` reads the dimensions
from the first bytes (PNG, JPEG, GIF, BMP, WebP, TIFF, PNM) so `check_pixels` can refuse it before OpenCV
allocates anything. Formats whose header is not parsed here are bounded by OpenCV's own limit (2^30 pixels).
"""

from __future__ import annotations

import struct
from typing import Optional, Tuple

import numpy as np

__all__ = ["MAX_IMAGE_PIXELS", "MAX_IMAGE_FILE_BYTES", "header_size", "pixel_problem", "to_uint8"]

#: The largest still image decoded: 100 megapixels (a 12000x8000 photo fits; 0.3 GB as RGB uint8).
MAX_IMAGE_PIXELS = 100_000_000
#: The largest image file read into memory before decoding.
MAX_IMAGE_FILE_BYTES = 1 << 30


def _png(d: bytes) -> Optional[Tuple[int, int]]:
    if d[:8] == b"\x89PNG\r\n\x1a\n" and d[12:16] == b"IHDR" and len(d) >= 24:
        return struct.unpack(">II", d[16:24])
    return None


def _gif(d: bytes) -> Optional[Tuple[int, int]]:
    if d[:6] in (b"GIF87a", b"GIF89a") and len(d) >= 10:
        return struct.unpack("<HH", d[6:10])
    return None


def _bmp(d: bytes) -> Optional[Tuple[int, int]]:
    if d[:2] == b"BM" and len(d) >= 26:
        w, h = struct.unpack("<ii", d[18:26])
        return abs(w), abs(h)
    return None


def _jpeg(d: bytes) -> Optional[Tuple[int, int]]:
    if d[:2] != b"\xff\xd8":
        return None
    i = 2
    while i + 9 <= len(d):
        if d[i] != 0xFF:
            return None
        marker = d[i + 1]
        if marker == 0xFF:  # fill byte
            i += 1
            continue
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):  # start of frame
            h, w = struct.unpack(">HH", d[i + 5:i + 9])
            return w, h
        i += 2 + struct.unpack(">H", d[i + 2:i + 4])[0]
    return None


def _webp(d: bytes) -> Optional[Tuple[int, int]]:
    if d[:4] != b"RIFF" or d[8:12] != b"WEBP" or len(d) < 30:
        return None
    chunk = d[12:16]
    if chunk == b"VP8X":
        return 1 + int.from_bytes(d[24:27], "little"), 1 + int.from_bytes(d[27:30], "little")
    if chunk == b"VP8L":
        b = int.from_bytes(d[21:25], "little")
        return 1 + (b & 0x3FFF), 1 + ((b >> 14) & 0x3FFF)
    if chunk == b"VP8 ":
        w, h = struct.unpack("<HH", d[26:30])
        return w & 0x3FFF, h & 0x3FFF
    return None


def _tiff(d: bytes) -> Optional[Tuple[int, int]]:
    order = {b"II*\x00": "<", b"MM\x00*": ">"}.get(d[:4])
    if order is None:
        return None
    try:
        (ifd,) = struct.unpack(order + "I", d[4:8])
        (count,) = struct.unpack(order + "H", d[ifd:ifd + 2])
        dims = {}
        for k in range(count):
            tag, typ, _, value = struct.unpack(order + "HHI4s", d[ifd + 2 + 12 * k:ifd + 14 + 12 * k])
            if tag in (256, 257):
                dims[tag] = struct.unpack(order + ("H" if typ == 3 else "I"), value[:2 if typ == 3 else 4])[0]
        return (dims[256], dims[257]) if len(dims) == 2 else None
    except (struct.error, KeyError):
        return None


def _pnm(d: bytes) -> Optional[Tuple[int, int]]:
    if len(d) < 3 or d[0:1] != b"P" or d[1:2] not in b"123456":
        return None
    tokens = []
    for line in d[2:512].split(b"\n"):
        tokens += line.split(b"#", 1)[0].split()
        if len(tokens) >= 2:
            try:
                return int(tokens[0]), int(tokens[1])
            except ValueError:
                return None
    return None


def header_size(data: bytes) -> Optional[Tuple[int, int]]:
    """(width, height) from an encoded image's header, or None for a format (or damage) not parsed here."""
    for parse in (_png, _jpeg, _gif, _bmp, _webp, _tiff, _pnm):
        size = parse(data)
        if size is not None:
            return size
    return None


def pixel_problem(data: bytes) -> Optional[str]:
    """Why an encoded image is not decoded (its header says more than MAX_IMAGE_PIXELS), or None."""
    size = header_size(data)
    if size is not None and size[0] * size[1] > MAX_IMAGE_PIXELS:
        return (f"{size[0]}x{size[1]} pixels is more than the {MAX_IMAGE_PIXELS // 1_000_000} megapixels gazenet "
                "decodes; downscale it first")
    return None


def to_uint8(image: np.ndarray) -> np.ndarray:
    """Any decoded depth as uint8: 16-bit by its top byte; float scaled by the data's range (0..max(1, peak),
    negatives lifted to 0), so a float image a little above 1.0 stays bright instead of turning black; NaN is 0."""
    if image.dtype == np.uint8:
        return image
    if image.dtype == np.uint16:
        return (image >> 8).astype(np.uint8)
    if np.issubdtype(image.dtype, np.floating):
        data = np.nan_to_num(image.astype(np.float32), nan=0.0, posinf=0.0, neginf=0.0)
        low = min(0.0, float(data.min())) if data.size else 0.0
        high = max(1.0, float(data.max())) if data.size else 1.0
        return np.clip((data - low) * (255.0 / (high - low)) + 0.5, 0, 255).astype(np.uint8)
    return np.clip(image, 0, 255).astype(np.uint8)
