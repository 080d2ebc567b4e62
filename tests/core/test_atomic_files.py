"""core.atomic_files: one writer for whole files; a failed write keeps the previous file and leaves no temp file."""

from __future__ import annotations

import errno
import os

import pytest

from gazenet_app.core import atomic_files
from gazenet_app.core.atomic_files import export_error, write_atomic
from gazenet_app.core.errors import ExportError


def test_text_is_utf8_and_bytes_are_kept(tmp_path):
    assert write_atomic(tmp_path / "a.txt", "é\n") == tmp_path / "a.txt"
    assert (tmp_path / "a.txt").read_bytes() == "é\n".encode("utf-8")
    write_atomic(tmp_path / "b.bin", b"\x00\xff")
    assert (tmp_path / "b.bin").read_bytes() == b"\x00\xff"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.txt", "b.bin"]


def test_failed_rename_keeps_the_previous_file(tmp_path, monkeypatch):
    path = tmp_path / "report.csv"
    write_atomic(path, "old\n")

    def refuse(src, dst):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(atomic_files.os, "replace", refuse)
    with pytest.raises(ExportError, match=r"^cannot write .*report\.csv: no space left on the device$"):
        write_atomic(path, "new\n")
    monkeypatch.undo()
    assert path.read_text() == "old\n" and [p.name for p in tmp_path.iterdir()] == ["report.csv"]


def test_error_words():
    assert str(export_error("write", "x", PermissionError(errno.EACCES, "Permission denied"))) == \
        "cannot write x: permission denied"
    assert str(export_error("rename the finished file to", "y", OSError(errno.EIO, "I/O error"))) == \
        "cannot rename the finished file to y: I/O error"
