"""Annotation writers and readers: CSV and JSON Lines written incrementally, a sidecar, an annotated video.

Durability rules (shared by every writer):
- rows go to `OUT.partial` (`OUT.partial.avi` for videos), flushed after every frame and fsync'ed at least
  once a second, so a crash, a kill or Ctrl-C loses at most the frame being written;
- `close()` renames the partial onto `OUT` with `os.replace` (atomic), so a file with the final name is always
  complete; `abort()` leaves the partial in place for `resume`;
- `resume` reads the partial, drops a trailing incomplete line and reports the last frame known complete, so
  the loop restarts after it without duplicate rows (see `resume_writers`);
- PermissionError, a full disk (ENOSPC) and other OSErrors become `ExportError` with the path and the reason.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import math
import os
import time
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple, Union

import cv2
import numpy as np

from gazenet_app import __version__
from gazenet_app.core.atomic_files import export_error, write_atomic
from gazenet_app.core.draw import draw_frame_result
from gazenet_app.core.errors import ExportError
from gazenet_app.core.input_files import InputFileError, read_json_file
from gazenet_app.core.outputs_guard import OutputLock, check_outputs, check_same_input
from gazenet_app.core.types import FaceBox, FaceResult, FrameResult, HeadPose
from gazenet_app.core.video import Frame
from gazenet_app.core.video_check import ensure_space, readable_frames, video_problem

__all__ = [
    "CSV_COLUMNS",
    "RAW_COLUMNS",
    "csv_columns",
    "partial_path",
    "sidecar_path",
    "CsvWriter",
    "JsonlWriter",
    "VideoWriter",
    "OutputSet",
    "FORMAT_VERSION",
    "resume_writers",
    "write_sidecar",
    "read_sidecar",
    "read_annotations",
    "read_jsonl",
    "VIDEO_CODECS",
    "FINAL_STATUSES",
]

log = logging.getLogger(__name__)

#: The statuses of a run whose outputs are finished (renamed to their final names): it ran to the end of its
#: input, or the input ended early and the outputs cover the frames before. Every other status keeps the partials.
FINAL_STATUSES: Tuple[str, ...] = ("complete", "ended_early")

#: The fixed CSV header. `tracked_only`: true where no detection backed the box (the tracker carried it).
CSV_COLUMNS: Tuple[str, ...] = ("source", "frame", "timestamp_ms", "face_id", "x1", "y1", "x2", "y2",
                                "det_score", "yaw", "pitch", "roll", "pose_valid", "tracked_only")
#: Columns format 1 lacked (files written before them read as false).
_ADDED_COLUMNS = ("tracked_only",)
#: Appended when smoothing is on: the unsmoothed angles.
RAW_COLUMNS: Tuple[str, ...] = ("yaw_raw", "pitch_raw", "roll_raw")

#: Version of the output format (CSV columns, JSON Lines records, sidecar), written into every sidecar:
#: 2 added the CSV column `tracked_only`.
FORMAT_VERSION = 2

#: Annotated-video codecs by extension (OpenCV headless has no H.264 encoder).
VIDEO_CODECS: Dict[str, str] = {".avi": "MJPG", ".mp4": "mp4v"}

FSYNC_INTERVAL_S = 1.0
PathLike = Union[str, os.PathLike]


def csv_columns(smoothing: bool = False) -> Tuple[str, ...]:
    """The fixed CSV header, with the raw-angle columns when smoothing is on."""
    return CSV_COLUMNS + (RAW_COLUMNS if smoothing else ())


def partial_path(path: PathLike) -> Path:
    """Where a writer for `path` writes until it is closed: `OUT.partial` (`OUT.partial.avi` for videos)."""
    p = Path(path)
    if p.suffix.lower() in VIDEO_CODECS:
        return p.with_name(p.stem + ".partial" + p.suffix)
    return p.with_name(p.name + ".partial")


def sidecar_path(path: PathLike) -> Path:
    """The provenance sidecar of an output: `clip.csv` -> `clip.meta.json`."""
    p = Path(path)
    return p.with_name(p.stem + ".meta.json")


def _fmt(v: Optional[float], digits: int) -> str:
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return ""
    return f"{float(v):.{digits}f}"


def _bool(v: bool) -> str:
    return "true" if v else "false"


def _float(s: str) -> Optional[float]:
    return float(s) if s not in ("", None) else None


class _IncrementalWriter:
    """Shared machinery: open the partial, write whole frames, flush, fsync, rename or keep on abort."""

    def __init__(self, path: PathLike) -> None:
        self.path = Path(path)
        self.partial = partial_path(self.path)
        self._fh: Optional[io.TextIOBase] = None
        self._last_sync = 0.0
        self.frames_written = 0
        self.rows_written = 0
        self._write_failed = False  # a failed write may have left a cut line: the partial must not be finished

    # -- opening ---------------------------------------------------------------------------------------
    def open(self, resume: bool = False) -> None:
        """Open the partial: truncated, or for appending when resuming (after `last_complete_frame`)."""
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            if resume and self.partial.exists():
                self._trim_incomplete_tail()
                self._fh = open(self.partial, "a", encoding="utf-8", newline="")
            else:
                self._fh = open(self.partial, "w", encoding="utf-8", newline="")
                self._write_header()
        except OSError as e:
            raise export_error("write", self.partial, e) from None

    def _write_header(self) -> None:
        pass

    def _trim_incomplete_tail(self) -> None:
        """Cut a last line that has no newline (a write cut by a kill or a full disk)."""
        with open(self.partial, "rb+") as fh:
            data = fh.read()
            cut = data.rfind(b"\n") + 1
            if cut < len(data):
                fh.truncate(cut)
                log.info("dropped an incomplete last line of %s", self.partial)

    def _complete_lines(self) -> List[str]:
        if not self.partial.exists():
            return []
        data = self.partial.read_bytes()
        cut = data.rfind(b"\n") + 1
        return data[:cut].decode("utf-8", errors="replace").splitlines()

    # -- resuming --------------------------------------------------------------------------------------
    def last_complete_frame(self) -> Tuple[Optional[int], bool]:
        """(frame, bounded): every frame <= `frame` is complete in the partial.

        `bounded` False means this writer sets no limit (e.g. a CSV with no rows yet).
        """
        raise NotImplementedError

    def rollback(self, last_frame: Optional[int]) -> None:
        """Rewrite the partial keeping only records of frames <= last_frame (None: keep none)."""
        raise NotImplementedError

    def _rewrite_partial(self, lines: List[str]) -> None:
        write_atomic(self.partial, "".join(line + "\n" for line in lines))

    # -- writing ---------------------------------------------------------------------------------------
    def write(self, result: FrameResult) -> None:
        """Append one frame's records and flush them."""
        if self._fh is None:
            raise ExportError(f"{self.path} is not open for writing")
        if self._write_failed:
            raise ExportError(self._unfinished_message())
        text = self._format(result)
        try:
            if text:
                self._fh.write(text)
            self._fh.flush()
            now = time.monotonic()
            if now - self._last_sync >= FSYNC_INTERVAL_S:
                os.fsync(self._fh.fileno())
                self._last_sync = now
        except OSError as e:
            self._write_failed = True
            raise export_error("write", self.partial, e) from None
        self.frames_written += 1

    def _format(self, result: FrameResult) -> str:
        raise NotImplementedError

    # -- closing ---------------------------------------------------------------------------------------
    def _close_handle(self) -> None:
        fh, self._fh = self._fh, None
        if fh is None:
            return
        try:
            fh.flush()
            os.fsync(fh.fileno())
        except OSError as e:
            try:
                fh.close()
            except OSError:
                pass
            raise export_error("write", self.partial, e) from None
        fh.close()

    def _unfinished_message(self) -> str:
        return (f"cannot finish {self.path}: an earlier write failed; the rows written before it are kept "
                f"in {self.partial}")

    def close(self) -> None:
        """Finish: flush, fsync and rename the partial onto the final name (atomic).

        After a failed write the partial is kept instead (ExportError): a final name never holds a cut file.
        """
        if self._write_failed:
            self.abort()
            raise ExportError(self._unfinished_message())
        self._close_handle()
        if not self.partial.exists():
            return
        try:
            os.replace(self.partial, self.path)
        except OSError as e:
            raise export_error("rename the finished file to", self.path, e) from None

    def abort(self) -> None:
        """Stop without finishing: the partial stays on disk for `resume`; errors are logged, not raised."""
        try:
            self._close_handle()
        except ExportError as e:
            log.error("%s", e)

    def __enter__(self):
        if self._fh is None:
            self.open()
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()


class CsvWriter(_IncrementalWriter):
    """One row per face with the fixed columns (`csv_columns`); a frame's rows are written in one go."""

    def __init__(self, path: PathLike, smoothing: bool = False) -> None:
        super().__init__(path)
        self.smoothing = smoothing
        self.columns = csv_columns(smoothing)

    def _write_header(self) -> None:
        self._fh.write(",".join(self.columns) + "\n")
        self._fh.flush()

    def _check_header(self, lines: List[str]) -> None:
        if not lines:
            return
        header = tuple(next(csv.reader([lines[0]])))
        if header != self.columns:
            other = "on" if header == csv_columns(not self.smoothing) else "different"
            raise ExportError(f"cannot resume {self.partial}: its columns do not match this run "
                              f"(smoothing was {other}); delete it or run with the same options")

    def _rows(self) -> Tuple[List[str], List[int]]:
        lines = self._complete_lines()
        self._check_header(lines)
        frames = []
        col = self.columns.index("frame")
        for row in csv.reader(lines[1:]):
            try:
                frames.append(int(row[col]))
            except (IndexError, ValueError):
                frames.append(-1)
        return lines, frames

    def last_complete_frame(self) -> Tuple[Optional[int], bool]:
        _, frames = self._rows()
        if not frames:
            return None, False
        # the last frame with rows may have lost rows to the interruption: only frames before it are sure
        return frames[-1] - 1, True

    def max_face_id(self) -> Optional[int]:
        """The largest face id in the partial (None when it has no rows)."""
        lines, _ = self._rows()
        col = self.columns.index("face_id")
        ids = []
        for row in csv.reader(lines[1:]):
            try:
                ids.append(int(row[col]))
            except (IndexError, ValueError):
                pass
        return max(ids) if ids else None

    def rollback(self, last_frame: Optional[int]) -> None:
        lines, frames = self._rows()
        keep = [lines[0]] if lines else [",".join(self.columns)]
        if last_frame is not None:
            keep += [line for line, f in zip(lines[1:], frames) if 0 <= f <= last_frame]
        self.rows_written = len(keep) - 1
        self._rewrite_partial(keep)

    def _format(self, result: FrameResult) -> str:
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        for face in result.faces:
            b, p = face.box, face.pose
            row = [result.source, result.index, _fmt(result.timestamp_ms, 3), face.face_id,
                   _fmt(b.x1, 2), _fmt(b.y1, 2), _fmt(b.x2, 2), _fmt(b.y2, 2), _fmt(b.score, 4),
                   _fmt(p.yaw if p else None, 3), _fmt(p.pitch if p else None, 3),
                   _fmt(p.roll if p else None, 3), _bool(face.pose_valid), _bool(face.tracked_only)]
            if self.smoothing:
                r = face.pose_raw
                row += [_fmt(r.yaw if r else None, 3), _fmt(r.pitch if r else None, 3),
                        _fmt(r.roll if r else None, 3)]
            w.writerow(row)
            self.rows_written += 1
        return buf.getvalue()


def _face_record(face: FaceResult) -> dict:
    rec = {"face_id": face.face_id,
           "box": [round(v, 2) for v in face.box.as_tuple()],
           "det_score": round(float(face.box.score), 4),
           "pose": None if face.pose is None else [round(v, 3) for v in face.pose.as_tuple()],
           "pose_valid": bool(face.pose_valid),
           "tracked_only": bool(face.tracked_only)}
    if face.pose_raw is not None and face.pose_raw != face.pose:
        rec["pose_raw"] = [round(v, 3) for v in face.pose_raw.as_tuple()]
    if face.box.landmarks is not None:
        rec["landmarks"] = [[round(x, 2), round(y, 2)] for x, y in face.box.landmarks]
    return rec


class JsonlWriter(_IncrementalWriter):
    """One JSON object per processed frame (frames without faces too), with its faces and timings."""

    def _records(self) -> Tuple[List[str], List[int]]:
        lines, frames = [], []
        for line in self._complete_lines():
            try:
                frames.append(int(json.loads(line)["frame"]))
                lines.append(line)
            except (ValueError, KeyError, TypeError):
                break  # a damaged line: keep what precedes it
        return lines, frames

    def last_complete_frame(self) -> Tuple[Optional[int], bool]:
        _, frames = self._records()
        return (frames[-1] if frames else None), True

    def max_face_id(self) -> Optional[int]:
        """The largest face id in the partial (None when it has no faces)."""
        lines, _ = self._records()
        ids = [f["face_id"] for line in lines for f in json.loads(line).get("faces", [])]
        return max(ids) if ids else None

    def rollback(self, last_frame: Optional[int]) -> None:
        lines, frames = self._records()
        keep = [] if last_frame is None else [ln for ln, f in zip(lines, frames) if f <= last_frame]
        self.rows_written = len(keep)
        self._rewrite_partial(keep)

    def _format(self, result: FrameResult) -> str:
        rec = {"source": result.source, "frame": result.index, "timestamp_ms": round(result.timestamp_ms, 3),
               "shape": list(result.shape), "faces": [_face_record(f) for f in result.faces],
               "timing_ms": {k: round(float(v), 3) for k, v in result.timing.items()}}
        self.rows_written += 1
        return json.dumps(rec, separators=(",", ":")) + "\n"


def resume_writers(writers: Sequence[_IncrementalWriter], also: Sequence[Optional[int]] = ()) -> Optional[int]:
    """Open every writer to resume: the common last complete frame (None: start over); later records dropped.

    The returned frame is complete in every writer and within the bounds `also` (the last frame other outputs,
    such as the annotated video, hold whole; None: none); the loop restarts after it.
    """
    bounds = list(also)
    for w in writers:
        if not w.partial.exists():
            bounds.append(None)  # nothing of this output survived: start over
            continue
        frame, bounded = w.last_complete_frame()
        if bounded:
            bounds.append(frame)
    if any(b is None for b in bounds) or not bounds:
        last = None
    else:
        last = min(bounds)
    for w in writers:
        if w.partial.exists():
            w.rollback(last)
            w.open(resume=True)
        else:
            w.open(resume=False)
    return last


class VideoWriter:
    """Annotated video (RGB frames in), codec by extension: `.avi` MJPG, `.mp4` mp4v.

    The writers' contract: `open(resume)`, `write`, `close()` renames `OUT.partial.avi|mp4` onto the final
    name, `abort()` releases it (readable) and keeps it for a resume.
    """

    def __init__(self, path: PathLike, fps: float = 30.0) -> None:
        self.path = Path(path)
        ext = self.path.suffix.lower()
        if ext not in VIDEO_CODECS:
            raise ExportError(f"cannot write video {self.path}: use .avi (MJPG) or .mp4 (mp4v)")
        self.codec = VIDEO_CODECS[ext]
        self.fps = float(fps) if fps and fps > 0 else 30.0
        self.partial = partial_path(self.path)
        self._writer: Optional[cv2.VideoWriter] = None
        self._size: Optional[Tuple[int, int]] = None
        self.frames_written = 0

    def open(self, resume: bool = False, keep_frames: int = 0) -> int:
        """Start the partial; resuming keeps its first `keep_frames` frames (copied into a fresh partial).

        Returns the frames kept (fewer than asked when the interrupted partial holds fewer readable ones).
        """
        if not (resume and keep_frames > 0 and self.partial.exists()):
            return 0
        old = self.partial.with_name(self.partial.stem + ".old" + self.partial.suffix)
        self.partial.replace(old)
        cap = cv2.VideoCapture(str(old))
        try:
            while self.frames_written < keep_frames:
                ok, bgr = cap.read()
                if not ok or bgr is None:
                    break
                self.write(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))
        finally:
            cap.release()
        old.unlink()
        return self.frames_written

    def _start(self, width: int, height: int) -> None:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with open(self.partial, "wb"):  # surfaces PermissionError / ENOSPC as OSError
                pass
        except OSError as e:
            raise export_error("write", self.partial, e) from None
        writer = cv2.VideoWriter(str(self.partial), cv2.VideoWriter_fourcc(*self.codec), self.fps,
                                 (width, height))
        if not writer.isOpened():
            writer.release()
            raise ExportError(f"cannot write video {self.partial}: OpenCV could not open a {self.codec} writer")
        self._writer, self._size = writer, (width, height)

    def write(self, rgb: np.ndarray) -> None:
        """Append one RGB frame (resized to the first frame's size when it differs)."""
        h, w = rgb.shape[:2]
        if self._writer is None:
            self._start(w, h)
        if (w, h) != self._size:
            rgb = cv2.resize(rgb, self._size, interpolation=cv2.INTER_AREA)
        ensure_space(self.partial, rgb.nbytes)  # OpenCV's write() drops frames silently on a full disk
        self._writer.write(cv2.cvtColor(np.ascontiguousarray(rgb), cv2.COLOR_RGB2BGR))
        self.frames_written += 1

    def _release(self) -> None:
        if self._writer is not None:
            self._writer.release()
            self._writer = None

    def close(self) -> None:
        """Release, check the file holds every frame written, and rename the partial onto the final name.

        A video that does not read back whole stays a partial (ExportError): a final name never holds a cut file.
        """
        self._release()
        problem = video_problem(self.partial, self.frames_written) if self.frames_written else None
        if problem:
            raise ExportError(f"cannot finish {self.path}: {problem}; the frames written are kept in "
                              f"{self.partial}")
        if self.partial.exists():
            try:
                os.replace(self.partial, self.path)
            except OSError as e:
                raise export_error("rename the finished video to", self.path, e) from None

    def abort(self) -> None:
        """Release (so the file stays readable) and keep the partial."""
        self._release()

    def describe(self) -> dict:
        """Provenance for the sidecar."""
        return {"path": self.path.name, "codec": self.codec, "fps": self.fps}


def _json_default(value: Any) -> Any:
    """What JSON cannot write itself: numpy scalars and arrays as numbers and lists, sets as lists, else str."""
    if hasattr(value, "tolist"):
        return value.tolist()
    if isinstance(value, (set, frozenset)):
        return sorted(value, key=str)
    return str(value)


def write_sidecar(path: PathLike, meta: dict) -> Path:
    """Write a JSON document atomically (`core.atomic_files`), 2-space indented with a final newline: gazenet's one
    JSON file writer (sidecars, cards, reports, training state); ExportError naming the file."""
    p = Path(path)
    try:
        p.parent.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise export_error("write", p, e) from None
    return write_atomic(p, json.dumps(meta, indent=2, sort_keys=False, default=_json_default) + "\n")


class OutputSet:
    """The outputs of one run behind one interface: CSV, JSON Lines, annotated video and their sidecar.

    `open(resume)` -> the first frame to process (after the last frame complete in every output when
    resuming), `write(frame, result)`, `finish(status)`. The sidecar (`OUT.meta.json` beside the first of
    csv/jsonl/video unless given) has one schema for every writer (CLI, app recording and export):
    `format_version`, `gazenet_version`, `status` (running, then one of STATUSES), the provenance `meta`,
    `outputs`, and the counts. `finish` renames every partial onto its final name for a final status
    (`complete`, `ended_early`; `final=True` for a camera that was stopped) and keeps the partials otherwise.
    """

    #: Statuses `finish` accepts; the first two finish the outputs unless told otherwise.
    STATUSES = FINAL_STATUSES + ("stopped", "interrupted", "failed")

    def __init__(self, csv: Optional[PathLike] = None, jsonl: Optional[PathLike] = None,
                 video: Optional[PathLike] = None, sidecar: Optional[PathLike] = None, *, smoothing: bool = False,
                 video_fps: float = 30.0, show_cube: bool = False, meta: Optional[dict] = None) -> None:
        self.writers: List[_IncrementalWriter] = []
        if csv is not None:
            self.writers.append(CsvWriter(csv, smoothing=smoothing))
        if jsonl is not None:
            self.writers.append(JsonlWriter(jsonl))
        self.video = VideoWriter(video, fps=video_fps) if video is not None else None
        paths = [w.path for w in self.writers] + ([self.video.path] if self.video else [])
        if not paths:
            raise ExportError("no output given: pass a CSV, JSON Lines or video path")
        self.sidecar = Path(sidecar) if sidecar else sidecar_path(paths[0])
        self.show_cube = show_cube
        self.meta = {"format_version": FORMAT_VERSION, "gazenet_version": __version__, "status": "running",
                     **(meta or {})}
        self.frames = self.faces = self.rows = 0
        self.first_frame: Optional[int] = None
        self.last_frame: Optional[int] = None
        self.resumed_after: Optional[int] = None
        self.status = "running"
        self.finished = False
        self.notes: List[str] = []
        self._lock = OutputLock(list(self.paths().values()))
        self._before: set = set()  # output files that existed before open(): never removed by this run

    def partials(self) -> List[Path]:
        """Every output's partial file, existing or not."""
        return [w.partial for w in self.writers] + ([self.video.partial] if self.video else [])

    def paths(self) -> Dict[str, str]:
        """kind -> final path of every output, the sidecar included."""
        out = {"csv" if isinstance(w, CsvWriter) else "jsonl": str(w.path) for w in self.writers}
        if self.video is not None:
            out["video"] = str(self.video.path)
        out["sidecar"] = str(self.sidecar)
        return out

    def open(self, resume: bool = False, start: int = 0, stride: int = 1, inputs: Sequence[PathLike] = ()) -> int:
        """Guard, then open every output (`_open`): no output may be another output or one of `inputs`
        (`core.outputs_guard`), each output is locked for this run, and a resume must read the input recorded
        in the sidecar (`meta["input"]`). What a failed open created is removed and the locks released.
        """
        labels = {"csv": "the CSV", "jsonl": "the JSON Lines", "video": "the video", "sidecar": "the sidecar"}
        check_outputs([(labels[k], p) for k, p in self.paths().items()], inputs)
        self._lock.acquire()
        before = self._before = {p for p in self.partials() + [self.sidecar] if p.exists()}
        try:
            existing = [p for p in self.partials() if p.exists()]
            if resume and existing and self.sidecar.exists():
                try:
                    old = read_json_file(self.sidecar)
                except InputFileError:
                    old = {}
                check_same_input(old.get("input") if isinstance(old, dict) else None, self.meta.get("input"),
                                 existing[0])
            return self._open(resume, start, stride)
        except BaseException:
            self._remove_new(before)
            self._lock.release()
            raise

    def _wrote_nothing(self) -> bool:
        """True when no output has had a record or frame started (an interrupt may land mid-frame)."""
        return not any(w.rows_written for w in self.writers) and not (self.video and self.video.frames_written)

    def _remove_new(self, before) -> None:
        """Remove the partials and sidecar that are not in `before` (what this run created)."""
        for p in self.partials() + [self.sidecar]:
            if p not in before and p.exists():
                try:
                    p.unlink()
                except OSError:
                    pass

    def _open(self, resume: bool, start: int, stride: int) -> int:
        """Open every output and write the sidecar (status running); the first frame to process.

        A partial left by an interrupted run needs `resume` (ExportError otherwise); resuming keeps the rows of
        the frames complete in every output and returns the next frame on the grid start, start+stride, ...
        """
        existing = [p for p in self.partials() if p.exists()]
        if existing and not resume:
            raise ExportError(f"{existing[0]} exists from an interrupted run: pass --resume to continue it, "
                              f"or delete it to start over")
        if resume and not existing and self.writers and all(w.path.exists() for w in self.writers):
            raise ExportError(f"nothing to resume: {self.writers[0].path} is already complete")
        first = start
        if resume and existing:
            also = [self._video_bound(start, stride)] if self.video is not None else []
            self.resumed_after = resume_writers(self.writers, also) if self.writers else None
            if self.resumed_after is not None:
                first = start + max(0, (self.resumed_after - start) // stride + 1) * stride
                log.info("resuming after frame %d (next: %d)", self.resumed_after, first)
            self.rows = self.writers[0].rows_written if self.writers else 0
        else:
            for w in self.writers:
                w.open(resume=False)
        if self.video is not None:
            want = (first - start + stride - 1) // stride
            got = self.video.open(resume=resume, keep_frames=want)
            if got < want:
                note = (f"annotated video: only {got} of {want} frames before the resume point could be "
                        f"recovered; the video misses {want - got} frames")
                log.warning(note)
                self.notes.append(note)
        self.first_frame = first
        outputs: Dict[str, object] = {k: Path(v).name for k, v in self.paths().items() if k in ("csv", "jsonl")}
        if self.video is not None:
            outputs["video"] = self.video.describe()
        self.meta["outputs"] = outputs
        write_sidecar(self.sidecar, self.meta)
        return first

    def _video_bound(self, start: int, stride: int) -> Optional[int]:
        """The last frame the interrupted video partial holds whole (None: none). A killed writer leaves frames
        still in its buffers unwritten, so the video may end before the CSV; its last readable frame may be cut,
        so, as for a CSV, only the frames before it count."""
        n = readable_frames(self.video.partial) if self.video.partial.exists() else 0
        last = start + (n - 1) * stride - 1
        return last if n and last >= start else None

    def next_face_id(self) -> int:
        """The first face id not used in the resumed partials (0 when none)."""
        ids = [i for i in (w.max_face_id() for w in self.writers) if i is not None]
        return max(ids) + 1 if ids else 0

    def write(self, frame: Optional[Frame], result: FrameResult) -> None:
        """Append one frame's records to every output (the annotated video draws on `frame.rgb`)."""
        for w in self.writers:
            w.write(result)
        if self.video is not None:
            if frame is None:
                raise ExportError(f"{self.video.path}: an annotated video needs the frame's pixels")
            self.video.write(draw_frame_result(frame.rgb, result, show_cube=self.show_cube))
        self.frames += 1
        self.faces += len(result.faces)
        self.rows = self.writers[0].rows_written if self.writers else self.frames
        self.last_frame = result.index

    def finish(self, status: str, final: Optional[bool] = None, notes: Sequence[str] = (), **fields) -> None:
        """End the run (`_finish`) and release the outputs' locks. A run that kept its partials without having
        written a frame removes the files it created (a bad --start, a disk full at open or at the first frame):
        they hold nothing, and would only block the next run."""
        try:
            self._finish(status, final, notes, **fields)
        finally:
            if not self.finished and self.resumed_after is None and self._wrote_nothing():
                self._remove_new(self._before)
            self._lock.release()

    def _finish(self, status: str, final: Optional[bool] = None, notes: Sequence[str] = (), **fields) -> None:
        """End the run: the sidecar gets `status`, the counts, `notes` and `fields`; final names or kept partials.

        `final` (default: status complete or ended_early) renames every partial; a failed rename keeps them
        all (status failed) and raises ExportError. Otherwise the partials stay for a resume.
        """
        if status not in self.STATUSES:
            raise ValueError(f"unknown status {status!r}; valid: {', '.join(self.STATUSES)}")
        final = status in FINAL_STATUSES if final is None else final
        self.status, self.finished = status, final
        self.meta.update(status=status, frames=self.frames, rows=self.rows, faces=self.faces,
                         resumed_after=self.resumed_after, last_frame=self.last_frame, **fields)
        self.notes.extend(notes)
        self.meta["notes"] = self.notes
        closing_error = None
        if final:
            try:
                for w in self.writers:
                    w.close()
                if self.video is not None:
                    self.video.close()
            except ExportError as e:  # a final rename failed: what was not renamed stays a partial, for resume
                closing_error = e
                self.status, self.finished = "failed", False
                self.meta["status"] = "failed"
        if final and closing_error is None:
            write_sidecar(self.sidecar, self.meta)
            return
        for w in self.writers:
            w.abort()
        if self.video is not None:
            self.video.abort()
        self.meta["partials"] = [p.name for p in self.partials() if p.exists()]
        try:
            write_sidecar(self.sidecar, self.meta)
        except ExportError as e:  # the error that stopped the run matters more
            log.error("%s", e)
        if closing_error is not None:
            raise closing_error


def read_sidecar(path: PathLike) -> dict:
    """A sidecar's contents."""
    with open(path, encoding="utf-8") as fh:
        return json.load(fh)


def _pose(row: dict, suffix: str = "") -> Optional[HeadPose]:
    vals = [_float(row.get(k + suffix, "")) for k in ("yaw", "pitch", "roll")]
    if any(v is None for v in vals):
        return None
    return HeadPose(*vals)


def read_annotations(path: PathLike) -> Dict[Tuple[str, int], List[FaceResult]]:
    """A gazenet CSV as {(source, frame): [FaceResult, ...]} (a `.partial` reads the same way)."""
    p = Path(path)
    if not p.exists():
        raise ExportError(f"annotations not found: {p}")
    out: Dict[Tuple[str, int], List[FaceResult]] = {}
    with open(p, encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        missing = [c for c in CSV_COLUMNS if c not in (reader.fieldnames or []) and c not in _ADDED_COLUMNS]
        if missing:
            raise ExportError(f"{p} is not a gazenet CSV: missing columns {', '.join(missing)}")
        for row in reader:
            try:
                box = FaceBox(float(row["x1"]), float(row["y1"]), float(row["x2"]), float(row["y2"]),
                              _float(row["det_score"]) or 0.0)
                pose = _pose(row)
                raw = _pose(row, "_raw") if "yaw_raw" in row else pose
                face = FaceResult(int(row["face_id"]), box, pose, raw, row["pose_valid"] == "true",
                                  row.get("tracked_only") == "true")
                key = (row["source"], int(row["frame"]))
            except (TypeError, ValueError):
                continue  # an incomplete last row of a partial
            out.setdefault(key, []).append(face)
    return out


def read_jsonl(path: PathLike) -> List[dict]:
    """The complete records of a gazenet JSON Lines file (a damaged last line is ignored)."""
    recs = []
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            try:
                recs.append(json.loads(line))
            except ValueError:
                break
    return recs
