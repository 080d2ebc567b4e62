"""Output guards: outputs that are one file or an input are refused, one run at a time per output, same input on
resume."""

from __future__ import annotations

import os

import pytest

from gazenet_app.core.errors import ExportError
from gazenet_app.core.outputs_guard import OutputLock, check_outputs, check_same_input, input_identity, lock_path


def test_same_file_and_input_are_refused(tmp_path):
    clip = tmp_path / "clip.avi"
    clip.write_bytes(b"x")
    with pytest.raises(ExportError, match=r"^--video .*clip\.avi is the input .*clip\.avi: writing it would "):
        check_outputs([("-o", tmp_path / "o.csv"), ("--video", tmp_path / "sub" / ".." / "clip.avi")], [clip])
    with pytest.raises(ExportError, match=r"^-o .*x\.csv and --jsonl .*x\.csv are the same file"):
        check_outputs([("-o", tmp_path / "x.csv"), ("--jsonl", tmp_path / "x.csv")], [clip])
    os.link(clip, tmp_path / "hard.avi")  # a hard link is the same file under another name
    with pytest.raises(ExportError, match="is the input"):
        check_outputs([("--video", tmp_path / "hard.avi")], [clip])
    (tmp_path / "folder").mkdir()
    (tmp_path / "folder" / "a.png").write_bytes(b"x")
    with pytest.raises(ExportError, match="is the input"):
        check_outputs([("--save", tmp_path / "folder" / "a.png")], [tmp_path / "folder"])
    check_outputs([("-o", tmp_path / "o.csv"), ("--jsonl", tmp_path / "o.jsonl"), ("--video", None)],
                  [clip, tmp_path / "folder"])


def test_a_second_lock_on_any_output_is_refused_and_released_locks_leave_no_file(tmp_path):
    a, b = tmp_path / "o.csv", tmp_path / "o.jsonl"
    with OutputLock([a, b]):
        assert lock_path(a).exists()
        with pytest.raises(ExportError, match=r"o\.jsonl is being written by another gazenet run"):
            OutputLock([tmp_path / "other.csv", b]).acquire()
        assert not lock_path(tmp_path / "other.csv").exists()  # all or nothing
    assert not lock_path(a).exists() and not lock_path(b).exists()
    lock_path(a).write_text("123\n")  # left by a killed run: the lock is the kernel's, not the file's
    with OutputLock([a]):
        pass


def test_resume_refused_for_another_input(tmp_path):
    clip = tmp_path / "clip.avi"
    clip.write_bytes(b"12345")
    then = input_identity([clip], 90)
    check_same_input(then, input_identity([clip], 90), "o.csv.partial")
    check_same_input(None, input_identity([clip], 90), "o.csv.partial")  # sidecars from before the record
    with pytest.raises(ExportError, match=r"cannot resume o\.csv\.partial: it was made from another input "
                                          r"\(size 5 then, 6 now; frame_count 90 then, 91 now\)"):
        clip.write_bytes(b"123456")
        check_same_input(then, input_identity([clip], 91), "o.csv.partial")
