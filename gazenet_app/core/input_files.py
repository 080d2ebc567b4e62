"""Reading files a user (or anyone writing into a watched folder) may have made hostile: regular files only.

A FIFO named `x.json` or `clip.avi` blocks a plain `open()` forever, a device or a 10 GB "card" exhausts memory,
and JSON with a 5,000-digit number or 200,000 nested brackets raises ValueError/RecursionError deep in the
parser. Every reader here opens without blocking, checks the opened descriptor (no race between a check and the
open), caps the size, and turns each of these into an `InputFileError` with a one-line reason.
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from typing import Any, Union

__all__ = ["InputFileError", "MAX_JSON_BYTES", "MAX_JSON_DEPTH", "require_regular_file", "read_regular_file",
           "read_json_file"]

#: The largest JSON document read (model cards, sidecars): real ones are a few KB.
MAX_JSON_BYTES = 1 << 20
#: The deepest nesting accepted in such a document (a card is 4 levels deep); deeper would exhaust the recursion
#: of whatever walks it later (validation, deepcopy).
MAX_JSON_DEPTH = 32


class InputFileError(ValueError):
    """A file that is missing, not a regular file, too large or unparsable; the message says which and why."""


def _kind(mode: int) -> str:
    for test, name in ((stat.S_ISDIR, "a folder"), (stat.S_ISFIFO, "a FIFO (named pipe)"),
                       (stat.S_ISSOCK, "a socket"), (stat.S_ISCHR, "a character device"),
                       (stat.S_ISBLK, "a block device")):
        if test(mode):
            return name
    return "not a regular file"


def require_regular_file(path: Union[str, Path]) -> os.stat_result:
    """The file's stat when `path` is a regular file (symlinks followed); otherwise InputFileError."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise InputFileError(f"{path} does not exist") from None
    except OSError as exc:
        raise InputFileError(f"cannot read {path}: {exc.strerror or exc}") from None
    if not stat.S_ISREG(st.st_mode):
        raise InputFileError(f"{path} is {_kind(st.st_mode)}, not a regular file")
    return st


def read_regular_file(path: Union[str, Path], max_bytes: int) -> bytes:
    """The bytes of a regular file of at most `max_bytes`; opening never blocks (a FIFO is refused, not read)."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    except FileNotFoundError:
        raise InputFileError(f"{path} does not exist") from None
    except OSError as exc:
        raise InputFileError(f"cannot read {path}: {exc.strerror or exc}") from None
    with os.fdopen(fd, "rb") as fh:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise InputFileError(f"{path} is {_kind(st.st_mode)}, not a regular file")
        if st.st_size > max_bytes:
            raise InputFileError(f"{path} is {st.st_size} bytes, more than the {max_bytes} read here")
        data = fh.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise InputFileError(f"{path} grew past {max_bytes} bytes while being read")
    return data


def read_json_file(path: Union[str, Path], max_bytes: int = MAX_JSON_BYTES) -> Any:
    """A JSON document from a regular file of at most `max_bytes`, nested at most MAX_JSON_DEPTH levels; any
    problem is an InputFileError.

    Numbers Python refuses to convert (more than 4300 digits) and nesting past the parser's recursion limit are
    reported as not valid JSON, like a syntax error.
    """
    data = read_regular_file(path, max_bytes)
    try:
        doc = json.loads(data.decode("utf-8"))
    except RecursionError:
        raise InputFileError(f"{path} is not valid JSON: nested too deeply") from None
    except (UnicodeDecodeError, ValueError) as exc:  # JSONDecodeError, and int() past the digit limit
        raise InputFileError(f"{path} is not valid JSON: {exc}") from None
    if _depth(doc) > MAX_JSON_DEPTH:
        raise InputFileError(f"{path} is nested more than {MAX_JSON_DEPTH} levels deep")
    return doc


def _depth(doc: Any) -> int:
    """Nesting depth of a JSON value (iterative, so any depth is measured without recursion)."""
    deepest, stack = 0, [(doc, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, (dict, list)):
            deepest = max(deepest, depth)
            stack.extend((v, depth + 1) for v in (value.values() if isinstance(value, dict) else value))
    return deepest
