"""Frame sources: an image, a list of images, a folder, a video file or a camera, as one iterator of `Frame`.

OpenCV's BGR becomes RGB here and nowhere else on the reading side. Grayscale, 16-bit and 4-channel images
are converted to 8-bit RGB. Paths may contain spaces and non-ASCII characters (images are read with
`np.fromfile` + `cv2.imdecode`). A source that cannot be opened raises `SourceError`; a video or camera that
stops delivering frames mid-stream ends the iteration cleanly and records why in `source.error` (with
`source.ended_early` set), so the frames already processed are never lost to an exception.
Huge frames are not resized here: detectors downscale for detection themselves.
"""

from __future__ import annotations

import logging
import os
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, Iterator, List, Optional, Sequence, Tuple, Union

import cv2
import numpy as np

from gazenet_app.core.atomic_files import write_atomic
from gazenet_app.core.errors import ExportError, SourceError
from gazenet_app.core.image_limits import MAX_IMAGE_FILE_BYTES, pixel_problem, to_uint8
from gazenet_app.core.input_files import InputFileError, read_regular_file, require_regular_file

__all__ = [
    "Frame",
    "FrameSource",
    "ImageSequenceSource",
    "VideoFileSource",
    "CameraSource",
    "open_source",
    "read_image",
    "write_image",
    "to_rgb",
    "list_cameras",
    "classify_paths",
    "IMAGE_EXTENSIONS",
    "VIDEO_EXTENSIONS",
    "DEFAULT_IMAGE_FPS",
]

log = logging.getLogger(__name__)

IMAGE_EXTENSIONS = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp", ".ppm", ".pgm",
                              ".pbm", ".jp2"})
#: A GIF is a video everywhere (FFmpeg decodes every frame; OpenCV's still-image reader has no GIF decoder):
#: annotate and the app read all its frames, predict/detect refuse it as not a still image, a folder skips it.
VIDEO_EXTENSIONS = frozenset({".gif", ".avi", ".mp4", ".mov", ".mkv", ".webm", ".m4v", ".mpg", ".mpeg",
                              ".wmv", ".flv", ".3gp", ".ts"})
#: Nominal rate of image sequences; it only spaces their timestamps (smoothing needs time to advance).
DEFAULT_IMAGE_FPS = 30.0

SourceSpec = Union[str, os.PathLike, int, Sequence[Union[str, os.PathLike]]]


@dataclass(frozen=True)
class Frame:
    """One RGB uint8 frame: its index in the source, its time in ms and the file (or camera) it came from."""

    index: int
    timestamp_ms: float
    rgb: np.ndarray
    source: str


def to_rgb(image: np.ndarray) -> np.ndarray:
    """An image as decoded by OpenCV (gray, BGR or BGRA; any depth: `image_limits.to_uint8`) -> contiguous RGB
    uint8."""
    image = to_uint8(image)
    if image.ndim == 2:
        return cv2.cvtColor(image, cv2.COLOR_GRAY2RGB)
    if image.ndim == 3 and image.shape[2] == 1:
        return cv2.cvtColor(image[:, :, 0], cv2.COLOR_GRAY2RGB)
    if image.ndim == 3 and image.shape[2] == 3:
        return cv2.cvtColor(image, cv2.COLOR_BGR2RGB)
    if image.ndim == 3 and image.shape[2] == 4:
        return cv2.cvtColor(image, cv2.COLOR_BGRA2RGB)
    raise SourceError(f"unsupported image layout {image.shape}")


def read_image(path: Union[str, os.PathLike]) -> np.ndarray:
    """An image file as RGB uint8; a missing, unreadable or corrupt file raises SourceError.

    Only a regular file is read (a FIFO is refused, never waited on), and one whose header says more than
    `image_limits.MAX_IMAGE_PIXELS` is refused before decoding."""
    p = Path(path)
    if not p.exists():
        raise SourceError(f"image not found: {p}")
    if p.is_dir():
        raise SourceError(f"{p} is a folder, not an image")
    if p.suffix.lower() in VIDEO_EXTENSIONS:
        raise SourceError(f"{p} is a video ({p.suffix.lower()}), not a still image: `gazenet annotate {p.name} -o "
                          "OUT.csv` reads its frames")
    try:
        raw = read_regular_file(p, MAX_IMAGE_FILE_BYTES)
    except InputFileError as e:
        raise SourceError(str(e)) from None
    if not raw:
        raise SourceError(f"cannot read image {p}: the file is empty")
    too_big = pixel_problem(raw)
    if too_big:
        raise SourceError(f"cannot read image {p}: {too_big}")
    image = cv2.imdecode(np.frombuffer(raw, dtype=np.uint8), cv2.IMREAD_UNCHANGED)
    if image is None or image.size == 0:
        raise SourceError(f"cannot read image {p}: not an image or corrupt")
    return to_rgb(image)


def write_image(path: Union[str, os.PathLike], rgb: np.ndarray) -> Path:
    """Write an RGB image (format by extension, non-ASCII paths too); ExportError when it cannot.

    Written atomically (`core.atomic_files`), so a full disk never leaves a cut image under the final name."""
    p = Path(path)
    ok, buf = cv2.imencode(p.suffix or ".png", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
    if not ok:
        raise ExportError(f"cannot encode {p} (unknown image type {p.suffix!r}?)")
    return write_atomic(p, buf.tobytes())


def _natural_key(name: str):
    return [int(t) if t.isdigit() else t.lower() for t in re.split(r"(\d+)", name)]


class FrameSource:
    """Base of every source: iterate for `Frame`s from the current position; `seek`, `close`, `with`.

    `fps` (None when unknown), `frame_count` (None for cameras), `name` (for messages and sidecars),
    `error` (why the stream ended early, or None), `ended_early`, and `notes` (things skipped on the way).
    """

    kind = "source"

    def __init__(self, name: str) -> None:
        self.name = name
        self.error: Optional[str] = None
        self.notes: List[str] = []
        self._pos = 0
        self._closed = False

    @property
    def ended_early(self) -> bool:
        """True when the stream stopped before its end (a broken or cut video, a lost camera)."""
        return self.error is not None

    @property
    def fps(self) -> Optional[float]:
        """Frames per second, None when unknown."""
        return None

    @property
    def frame_count(self) -> Optional[int]:
        """Number of frames, None when unknown (cameras)."""
        return None

    @property
    def position(self) -> int:
        """Index of the next frame the iterator yields."""
        return self._pos

    def seek(self, index: int) -> None:
        """Make the next yielded frame the one with this index."""
        if index < 0:
            raise SourceError(f"cannot seek to frame {index}")
        n = self.frame_count
        if n is not None and index > n:
            raise SourceError(f"cannot seek to frame {index}: {self.name} has {n} frames")
        self._seek(index)
        self._pos = index

    def _seek(self, index: int) -> None:
        raise SourceError(f"cannot seek in {self.name}")

    def frames(self, start: int = 0, end: Optional[int] = None, stride: int = 1) -> Iterator[Frame]:
        """Frames start, start+stride, ... before `end` (exclusive; None = to the end)."""
        if stride < 1:
            raise SourceError(f"stride must be >= 1, got {stride}")
        if start:
            self.seek(start)
        for frame in self:
            if end is not None and frame.index >= end:
                return
            if (frame.index - start) % stride == 0:
                yield frame
            if stride > 1:
                self._skip(stride - 1, end)

    def _skip(self, count: int, end: Optional[int]) -> None:
        """Advance past `count` frames without decoding them where the source allows it."""

    def __iter__(self) -> Iterator[Frame]:
        while not self._closed:
            frame = self._read()
            if frame is None:
                return
            self._pos = frame.index + 1
            yield frame

    def _read(self) -> Optional[Frame]:
        raise NotImplementedError

    def close(self) -> None:
        """Release the file or device."""
        self._closed = True

    def __enter__(self) -> "FrameSource":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def describe(self) -> dict:
        """Provenance for sidecars."""
        return {"kind": self.kind, "name": self.name, "fps": self.fps, "frame_count": self.frame_count}


class ImageSequenceSource(FrameSource):
    """A list of image files (an image, a list or a folder); unreadable images are skipped with a note."""

    kind = "images"

    def __init__(self, paths: Sequence[Union[str, os.PathLike]], name: Optional[str] = None,
                 fps: float = DEFAULT_IMAGE_FPS) -> None:
        self.paths = [Path(p) for p in paths]
        if not self.paths:
            raise SourceError("no images given")
        super().__init__(name or (self.paths[0].name if len(self.paths) == 1 else f"{len(self.paths)} images"))
        self._fps = float(fps)

    @property
    def fps(self) -> Optional[float]:
        return self._fps

    @property
    def frame_count(self) -> Optional[int]:
        return len(self.paths)

    def _seek(self, index: int) -> None:
        pass

    def _skip(self, count: int, end: Optional[int]) -> None:
        self._pos += count

    def _read(self) -> Optional[Frame]:
        while self._pos < len(self.paths):
            i = self._pos
            path = self.paths[i]
            try:
                rgb = read_image(path)
            except SourceError as e:
                note = f"skipped frame {i}: {e}"
                log.warning(note)
                self.notes.append(note)
                self._pos += 1
                continue
            return Frame(i, i * 1000.0 / self._fps, rgb, path.name)
        return None


class VideoFileSource(FrameSource):
    """A video file read with OpenCV; a frame that fails to decode before the end stops the stream."""

    kind = "video"

    def __init__(self, path: Union[str, os.PathLike]) -> None:
        p = Path(path)
        super().__init__(p.name)
        self.path = p
        if not p.exists():
            raise SourceError(f"video not found: {p}")
        if p.is_file() and p.stat().st_size == 0:
            raise SourceError(f"cannot open video {p}: the file is empty")
        self._cap = cv2.VideoCapture(str(p))
        if not self._cap.isOpened():
            self._cap.release()
            raise SourceError(f"cannot open video {p}: not a video OpenCV can read, or corrupt")
        fps = float(self._cap.get(cv2.CAP_PROP_FPS) or 0.0)
        self._fps = fps if np.isfinite(fps) and fps > 0 else None
        n = int(self._cap.get(cv2.CAP_PROP_FRAME_COUNT) or 0)
        self._count = n if n > 0 else None
        ok, first = self._cap.read()
        if not ok or first is None:
            self._cap.release()
            raise SourceError(f"cannot read video {p}: no frame could be decoded")
        self._pending: Optional[np.ndarray] = first

    @property
    def fps(self) -> Optional[float]:
        return self._fps

    @property
    def frame_count(self) -> Optional[int]:
        return self._count

    def _seek(self, index: int) -> None:
        self._pending = None
        self.error = None
        if not self._cap.set(cv2.CAP_PROP_POS_FRAMES, float(index)):
            raise SourceError(f"cannot seek to frame {index} in {self.name}")

    def _skip(self, count: int, end: Optional[int]) -> None:
        for _ in range(count):
            if end is not None and self._pos >= end:
                return
            if self._pending is not None:
                self._pending = None
            elif not self._cap.grab():
                return  # the next read reports the end or the failure
            self._pos += 1

    def _timestamp(self, index: int) -> float:
        if self._fps:
            return index * 1000.0 / self._fps
        return float(self._cap.get(cv2.CAP_PROP_POS_MSEC) or 0.0)

    def _read(self) -> Optional[Frame]:
        i = self._pos
        if self._pending is not None:
            bgr, self._pending = self._pending, None
        else:
            try:
                ok, bgr = self._cap.read()
            except cv2.error as e:  # pragma: no cover - depends on the backend
                ok, bgr = False, None
                log.debug("decode error: %s", e)
            if not ok or bgr is None:
                if self._count is not None and i < self._count:
                    self.error = (f"{self.name}: frame {i} of {self._count} could not be decoded "
                                  f"(file cut or corrupt); stopped there")
                    log.warning(self.error)
                return None
        try:
            rgb = to_rgb(bgr)
        except SourceError as e:
            self.error = f"{self.name}: frame {i}: {e}"
            return None
        return Frame(i, self._timestamp(i), rgb, self.name)

    def close(self) -> None:
        super().close()
        self._cap.release()


class CameraSource(FrameSource):
    """A camera by index; a camera that stops delivering frames ends the stream with `error` set."""

    kind = "camera"

    def __init__(self, index: int, retries: int = 10) -> None:
        super().__init__(f"cam:{index}")
        self.index = int(index)
        self._cap = cv2.VideoCapture(self.index)
        if not self._cap.isOpened():
            self._cap.release()
            raise SourceError(f"camera {index} cannot be opened (no such camera, or it is in use)")
        fps = float(self._cap.get(cv2.CAP_PROP_FPS) or 0.0)
        self._fps = fps if np.isfinite(fps) and fps > 0 else None
        self._retries = retries
        self._t0: Optional[float] = None

    @property
    def fps(self) -> Optional[float]:
        return self._fps

    def configure(self, size: Optional[Tuple[int, int]] = None, fps: Optional[float] = None) -> None:
        """Ask for a capture size (width, height) and rate; the driver may pick the nearest it supports."""
        if size is not None:
            self._cap.set(cv2.CAP_PROP_FRAME_WIDTH, float(size[0]))
            self._cap.set(cv2.CAP_PROP_FRAME_HEIGHT, float(size[1]))
        if fps:
            self._cap.set(cv2.CAP_PROP_FPS, float(fps))
            got = float(self._cap.get(cv2.CAP_PROP_FPS) or 0.0)
            self._fps = got if np.isfinite(got) and got > 0 else self._fps

    def _read(self) -> Optional[Frame]:
        for _ in range(max(1, self._retries)):
            ok, bgr = self._cap.read()
            if ok and bgr is not None:
                now = time.monotonic()
                if self._t0 is None:
                    self._t0 = now
                return Frame(self._pos, (now - self._t0) * 1000.0, to_rgb(bgr), self.name)
        self.error = f"camera {self.index} stopped delivering frames"
        log.warning(self.error)
        return None

    def close(self) -> None:
        super().close()
        self._cap.release()


def list_cameras(max_index: int = 4) -> List[int]:
    """Indices below `max_index` of cameras that open and deliver a frame."""
    found = []
    for i in range(max_index):
        cap = cv2.VideoCapture(i)
        try:
            if cap.isOpened() and cap.read()[0]:
                found.append(i)
        finally:
            cap.release()
    return found


def _folder_images(folder: Path, fps: float = DEFAULT_IMAGE_FPS) -> ImageSequenceSource:
    files = sorted((p for p in folder.iterdir() if p.is_file()), key=lambda p: _natural_key(p.name))
    images = [p for p in files if p.suffix.lower() in IMAGE_EXTENSIONS]
    others = [p.name for p in files if p.suffix.lower() not in IMAGE_EXTENSIONS]
    if not images:
        extra = f" ({len(others)} other files skipped)" if others else ""
        raise SourceError(f"no images in folder {folder}{extra}")
    src = ImageSequenceSource(images, name=folder.name or str(folder), fps=fps)
    if others:
        shown = ", ".join(others[:5]) + (", ..." if len(others) > 5 else "")
        note = f"skipped {len(others)} files in {folder} that are not images: {shown}"
        log.info(note)
        src.notes.append(note)
    return src


def _camera_index(spec) -> Optional[int]:
    if isinstance(spec, bool):
        return None
    if isinstance(spec, int):
        return spec
    if isinstance(spec, str):
        m = re.fullmatch(r"(?:cam|camera):(\d+)", spec.strip())
        if m:
            return int(m.group(1))
    return None


def classify_paths(paths: Sequence[Union[str, os.PathLike]]) -> Dict[str, List[str]]:
    """Split opened or dropped paths by extension (`IMAGE_EXTENSIONS`, `VIDEO_EXTENSIONS`): folders, videos,
    images, csv (annotation files) and other."""
    out: Dict[str, List[str]] = {"folders": [], "videos": [], "images": [], "csv": [], "other": []}
    for p in paths:
        path = Path(p)
        ext = path.suffix.lower()
        kind = ("folders" if path.is_dir() else "videos" if ext in VIDEO_EXTENSIONS else
                "images" if ext in IMAGE_EXTENSIONS else "csv" if ext == ".csv" else "other")
        out[kind].append(str(path))
    return out


def open_source(spec: SourceSpec, fps: float = DEFAULT_IMAGE_FPS) -> FrameSource:
    """The source for an image file, a list of images, a folder, a video file or a camera (`0`, `"cam:0"`)."""
    cam = _camera_index(spec)
    if cam is not None:
        return CameraSource(cam)
    if isinstance(spec, (list, tuple)):
        paths = [Path(p) for p in spec]
        if len(paths) == 1:
            return open_source(paths[0], fps)
        missing = [str(p) for p in paths if not p.is_file()]
        if missing:
            raise SourceError(f"image not found: {missing[0]}" + (f" (and {len(missing) - 1} more)"
                                                                 if len(missing) > 1 else ""))
        return ImageSequenceSource(paths, fps=fps)
    p = Path(spec)
    if not p.exists():
        raise SourceError(f"input not found: {p}")
    if p.is_dir():
        return _folder_images(p, fps)
    try:
        require_regular_file(p)  # a FIFO or device would block OpenCV forever
    except InputFileError as e:
        raise SourceError(str(e)) from None
    ext = p.suffix.lower()
    if ext in VIDEO_EXTENSIONS:
        return VideoFileSource(p)
    if ext in IMAGE_EXTENSIONS:
        read_image(p)  # fail now, with a clear message, rather than yield nothing
        return ImageSequenceSource([p], fps=fps)
    # unknown extension: an image if it decodes as one, else a video
    try:
        read_image(p)
        return ImageSequenceSource([p], fps=fps)
    except SourceError:
        pass
    try:
        return VideoFileSource(p)
    except SourceError:
        raise SourceError(f"cannot read {p}: neither an image nor a video OpenCV can decode") from None
