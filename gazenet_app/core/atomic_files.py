"""Whole-file writes that never leave a cut file under the final name, and the one-line error when a write fails.

gazenet's one rule for small outputs written in one go (JSON sidecars and cards, saved images, corpus reports,
label files): write `NAME.tmp`, fsync, rename onto `NAME`. Streamed outputs (CSV/JSONL rows, videos) keep their
own `.partial` files in `core.results`, with the same error wording from `export_error`.
"""

from __future__ import annotations

import errno
import os
from pathlib import Path
from typing import Union

from gazenet_app.core.errors import ExportError

__all__ = ["export_error", "write_atomic"]


def export_error(action: str, path: Union[str, os.PathLike], e: OSError) -> ExportError:
    """`cannot ACTION PATH: WHY`, WHY in words a user reads (permission denied, no space left on the device)."""
    if isinstance(e, PermissionError):
        why = "permission denied"
    elif e.errno == errno.ENOSPC:
        why = "no space left on the device"
    else:
        why = e.strerror or str(e)
    return ExportError(f"cannot {action} {path}: {why}")


def write_atomic(path: Union[str, os.PathLike], data: Union[bytes, str]) -> Path:
    """Write `data` (str as UTF-8) to `path` under a temporary name, fsync and rename; ExportError naming the file.

    A full disk or a crash leaves the previous file (or none) under the final name, never a cut one."""
    p = Path(path)
    tmp = p.with_name(p.name + ".tmp")
    raw = data.encode("utf-8") if isinstance(data, str) else data
    try:
        with open(tmp, "wb") as fh:
            fh.write(raw)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, p)
    except OSError as e:
        try:
            tmp.unlink()
        except OSError:
            pass
        raise export_error("write", p, e) from None
    return p
