"""Guards around a run's output files: no output may be an input or another output, only one run writes a set of
outputs at a time, and a resumed run reads the same input as the run that made the partials.

- `check_outputs(outputs, inputs)`: before any work, refuse two outputs that resolve to the same file (realpath,
  or `os.path.samefile` for hard links) and an output that is an input (a file given, or a file in a folder
  given); both would destroy data with exit 0 otherwise.
- `OutputLock(paths)`: an exclusive `fcntl.flock` on `OUT.lock` beside each output, held for the run; a second
  run on the same outputs is refused instead of renaming the first one's partials under it.
- `input_identity(...)` / `check_same_input(recorded, current)`: the input's path, size and frame count, kept in
  the sidecar; `--resume` of partials made from another input is refused.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple, Union

from gazenet_app.core.errors import ExportError

try:  # POSIX; on Windows outputs are not locked
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

__all__ = ["check_outputs", "OutputLock", "lock_path", "source_files", "input_identity", "check_same_input"]

PathLike = Union[str, "os.PathLike[str]"]


def _same(a: Path, b: Path) -> bool:
    if os.path.realpath(a) == os.path.realpath(b):
        return True
    try:
        return os.path.samefile(a, b)
    except OSError:  # one of them does not exist (yet)
        return False


def _input_files(inputs: Sequence[PathLike]) -> List[Path]:
    files: List[Path] = []
    for spec in inputs:
        p = Path(spec)
        if p.is_dir():
            try:
                files.extend(q for q in p.iterdir() if q.is_file())
            except OSError:
                pass
        else:
            files.append(p)
    return files


def check_outputs(outputs: Sequence[Tuple[str, Optional[PathLike]]], inputs: Sequence[PathLike] = ()) -> None:
    """Refuse (ExportError) two outputs that are one file, or an output that is an input; `outputs` are
    (label shown to the user, path or None) pairs, e.g. ("-o", "x.csv"), ("--video", "v.avi")."""
    given = [(label, Path(p)) for label, p in outputs if p is not None and str(p) != ""]
    for i, (label, path) in enumerate(given):
        for other_label, other in given[:i]:
            if _same(path, other):
                raise ExportError(f"{other_label} {other} and {label} {path} are the same file; give each output "
                                  "its own path")
    files = _input_files(inputs)
    for label, path in given:
        for src in files:
            if _same(path, src):
                raise ExportError(f"{label} {path} is the input {src}: writing it would destroy the input; "
                                  "choose another output path")


def lock_path(path: PathLike) -> Path:
    """The lock file of an output: `OUT.lock` beside it."""
    p = Path(path)
    return p.with_name(p.name + ".lock")


class OutputLock:
    """Exclusive locks on a set of outputs for the life of a run (`with OutputLock(paths): ...`).

    Each output gets `OUT.lock`, locked without waiting: a second run on any of the same outputs gets
    ExportError at once. The lock files are removed on release; the kernel drops the locks when the process
    dies (SIGKILL included), so a stale lock file never blocks a later run.
    """

    def __init__(self, paths: Sequence[PathLike]) -> None:
        self.paths = sorted({lock_path(p) for p in paths if p is not None})
        self._held: List[Tuple[Path, int]] = []

    def acquire(self) -> "OutputLock":
        """Take every lock or none (ExportError naming the output that another run holds)."""
        if fcntl is None:
            return self
        try:
            for path in self.paths:
                fd = self._lock_one(path)
                if fd is not None:
                    self._held.append((path, fd))
        except BaseException:
            self.release()
            raise
        return self

    @staticmethod
    def _lock_one(path: Path) -> Optional[int]:
        """The locked descriptor of `path`; None when no lock file can be made there (an unwritable or missing
        folder): the output's own writer then reports why it cannot write."""
        while True:
            try:
                path.parent.mkdir(parents=True, exist_ok=True)  # the writers would make it next
                fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
            except OSError:
                return None
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                os.close(fd)
                out = path.with_name(path.name[: -len(".lock")])
                raise ExportError(f"{out} is being written by another gazenet run (it holds {path}); wait for "
                                  "it to finish or stop it first") from None
            try:  # the holder may have removed the file between our open and our lock: lock the current one
                if os.fstat(fd).st_ino == os.stat(path).st_ino:
                    os.write(fd, f"{os.getpid()}\n".encode())
                    return fd
            except OSError:
                pass
            os.close(fd)

    def release(self) -> None:
        """Remove the lock files and drop the locks (idempotent)."""
        while self._held:
            path, fd = self._held.pop()
            try:
                path.unlink()
            except OSError:
                pass
            os.close(fd)

    def __enter__(self) -> "OutputLock":
        return self.acquire()

    def __exit__(self, *exc) -> None:
        self.release()


def source_files(source: Any) -> List[Path]:
    """The files a frame source reads: a video's `path`, an image sequence's `paths`; [] for a camera."""
    path = getattr(source, "path", None)
    if path is not None:
        return [Path(path)]
    return [Path(p) for p in getattr(source, "paths", None) or ()]


def input_identity(files: Sequence[PathLike], frame_count: Optional[int]) -> Dict[str, Any]:
    """What identifies an input across runs: its resolved path (the first file's, and how many files), its size
    in bytes (all files together) and its frame count (None where it has none, e.g. a camera)."""
    size = 0
    for f in files:
        try:
            size += os.stat(f).st_size
        except OSError:
            pass
    return {"path": os.path.realpath(files[0]) if files else None, "files": len(files),
            "size": size if files else None, "frame_count": frame_count}


def check_same_input(recorded: Optional[Mapping[str, Any]], current: Mapping[str, Any], partial: PathLike) -> None:
    """Refuse (ExportError) to resume `partial` when the sidecar recorded another input; a sidecar without the
    record (made before it existed), or a run that records none (the app's recordings), is accepted."""
    if not recorded or not current:
        return
    diffs = [f"{key} {recorded.get(key)!r} then, {current.get(key)!r} now"
             for key in ("path", "files", "size", "frame_count")
             if key in recorded and recorded.get(key) != current.get(key)]
    if diffs:
        raise ExportError(f"cannot resume {partial}: it was made from another input ({'; '.join(diffs)}); "
                          "resume with the same input, or remove the partial files to start over")
