"""Outputs under hostile use (issue 20, items 1, 3, 7 and 8): an output that is an input or another output is
refused before any work; an annotated video cut by a full disk is noticed (partial kept, status failed, exit 2);
a second run on the same outputs is refused while the first runs; a resume from another input is refused;
SIGTERM is Ctrl-C; a start that failed leaves nothing that blocks the next run."""

from __future__ import annotations

import builtins
import errno
import json
import os
import signal
import subprocess
from collections import namedtuple

import numpy as np
import pytest

from faults.runner import finish, lines_in, start_slow_gazenet, wait_until
from faults.support import cli, data_rows, rows_of
from fixtures.clips import synthetic_frames, write_clip
from gazenet_app.core.errors import ExportError


@pytest.fixture
def clip(synthetic_clip, tmp_path):
    """A private copy of the 30-frame synthetic clip (some cases try to overwrite it)."""
    path = tmp_path / "clip.avi"
    path.write_bytes(synthetic_clip.path.read_bytes())
    return path


@pytest.fixture
def reference(clip, fake_cli, tmp_path, capsys):
    ref = tmp_path / "ref" / "r.csv"
    assert cli(["annotate", clip, "-o", ref, "--no-progress"], capsys)[0] == 0
    return data_rows(ref)


# ---- 1. an output that is an input or another output ----------------------------------------------------

def _photo(tmp_path):
    import cv2

    path = tmp_path / "photo.jpg"
    cv2.imwrite(str(path), synthetic_frames(1)[0])
    return path


@pytest.mark.parametrize("case", ["video_is_input", "csv_is_photo", "csv_is_jsonl", "csv_is_json", "predict_json"])
def test_output_that_is_an_input_or_another_output_is_refused_cli(case, clip, fake_cli, tmp_path, capsys):
    photo = _photo(tmp_path)
    argv, message = {
        "video_is_input": (["annotate", clip, "--end", "20", "-o", tmp_path / "o.csv", "--video", clip],
                           f"--video {clip} is the input {clip}: writing it would destroy the input; choose another "
                           "output path"),
        "csv_is_photo": (["annotate", photo, "-o", photo],
                         f"-o {photo} is the input {photo}: writing it would destroy the input; choose another "
                         "output path"),
        "csv_is_jsonl": (["annotate", clip, "-o", tmp_path / "x.csv", "--jsonl", tmp_path / "x.csv"],
                         f"-o {tmp_path / 'x.csv'} and --jsonl {tmp_path / 'x.csv'} are the same file; give each "
                         "output its own path"),
        "csv_is_json": (["annotate", clip, "-o", tmp_path / "y.csv", "--json", tmp_path / "sub" / ".." / "y.csv"],
                        f"-o {tmp_path / 'y.csv'} and --json {tmp_path / 'sub' / '..' / 'y.csv'} are the same file; "
                        "give each output its own path"),
        "predict_json": (["predict", photo, "--json", photo],
                         f"--json {photo} is the input {photo}: writing it would destroy the input; choose another "
                         "output path"),
    }[case]
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir() if p.is_file()}
    code, out, err = cli(argv, capsys)
    assert code == 2 and out == ""
    assert err == f"error: {message}\n"
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir() if p.is_file()} == before  # nothing written
    assert fake_cli == []  # refused before the pipeline was built


def test_output_that_is_an_input_is_refused_by_the_annotation_loop(clip, tmp_path):
    """The app's batch and recordings write through pipeline.annotate / OutputSet: the same refusal there."""
    from fixtures.fakes import make_fake_pipeline
    from gazenet_app.core.results import OutputSet
    from gazenet_app.core.video import open_source
    from gazenet_app.pipeline import AnnotateOutputs, annotate

    before = clip.read_bytes()
    with open_source(clip) as source:
        with pytest.raises(ExportError, match=r"^the video .*clip\.avi is the input .*clip\.avi: writing it would"):
            annotate(source, make_fake_pipeline(), AnnotateOutputs(csv=tmp_path / "o.csv", video=clip))
    assert clip.read_bytes() == before
    with pytest.raises(ExportError, match=r"^the CSV .*r\.csv and the JSON Lines .*r\.csv are the same file"):
        OutputSet(csv=tmp_path / "r.csv", jsonl=tmp_path / "r.csv").open()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["clip.avi"]


# ---- 3. an annotated video cut by a full disk ---------------------------------------------------------------

def test_video_on_a_disk_that_fills_is_failed_and_kept_as_partial_cli(clip, fake_cli, tmp_path, monkeypatch, capsys):
    """OpenCV's write() says nothing when the disk is full: the space check before each frame notices."""
    from gazenet_app.core import video_check

    Stat = namedtuple("Stat", "f_bavail f_frsize")
    calls = []
    real = os.statvfs

    def statvfs(path):
        calls.append(path)
        return real(path) if len(calls) <= 10 else Stat(50, 4096)  # 200 KiB left after the 10th frame

    monkeypatch.setattr(video_check.os, "statvfs", statvfs)
    code, out, err = cli(["annotate", clip, "--end", "40", "-o", tmp_path / "ok.csv", "--video",
                          tmp_path / "v.avi", "--no-progress"], capsys)
    assert code == 2
    assert err.startswith(f"error: cannot write {tmp_path / 'v.partial.avi'}: no space left on the device "
                          "(204800 bytes free")
    assert not (tmp_path / "v.avi").exists() and (tmp_path / "v.partial.avi").exists()
    meta = json.loads((tmp_path / "ok.meta.json").read_text())
    assert meta["status"] == "failed" and "v.partial.avi" in meta["partials"]


def test_video_that_does_not_read_back_whole_stays_a_partial_cli(clip, fake_cli, tmp_path, monkeypatch, capsys):
    """The read-back after release: a writer that drops frames silently (as on a full disk) is caught too."""
    import cv2

    from gazenet_app.core import results

    real = cv2.VideoWriter

    class DroppingWriter:
        def __init__(self, *args):
            self._w, self._n = real(*args), 0

        def write(self, bgr):
            self._n += 1
            if self._n <= 10:
                self._w.write(bgr)

        def __getattr__(self, name):
            return getattr(self._w, name)

    monkeypatch.setattr(results.cv2, "VideoWriter", DroppingWriter)
    code, out, err = cli(["annotate", clip, "-o", tmp_path / "ok.csv", "--video", tmp_path / "v.avi",
                          "--no-progress"], capsys)
    assert code == 2
    assert err == (f"error: cannot finish {tmp_path / 'v.avi'}: {tmp_path / 'v.partial.avi'} holds 10 of the 30 frames "
                   f"written (cut by a full disk?); the frames written are kept in {tmp_path / 'v.partial.avi'}\n")
    assert not (tmp_path / "v.avi").exists() and (tmp_path / "v.partial.avi").exists()
    assert json.loads((tmp_path / "ok.meta.json").read_text())["status"] == "failed"


@pytest.fixture
def full_disk(tmp_path):
    """A real 200 KiB tmpfs (needs root with mount rights: skipped elsewhere)."""
    folder = tmp_path / "full"
    folder.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=200k", "tmpfs", str(folder)],
                      capture_output=True).returncode != 0:
        pytest.skip("cannot mount a small tmpfs here")
    yield folder
    subprocess.run(["umount", str(folder)], capture_output=True)


@pytest.mark.parametrize("ext", [".avi", ".mp4"])
def test_video_on_a_real_full_disk_cli(ext, clip, fake_cli, full_disk, tmp_path, capsys):
    """The issue's case: 200 KiB cannot hold one raw frame and the reserve, so the run fails at its first frame:
    exit 2, no file under the final name, status failed, the CSV's rows of that frame kept for --resume."""
    code, _, err = cli(["annotate", clip, "--end", "40", "-o", tmp_path / "ok.csv", "--video",
                        full_disk / f"v{ext}", "--no-progress"], capsys)
    assert code == 2 and "no space left on the device" in err
    assert not (full_disk / f"v{ext}").exists()
    assert json.loads((tmp_path / "ok.meta.json").read_text())["status"] == "failed"
    assert (tmp_path / "ok.csv.partial").exists() and not (tmp_path / "ok.csv").exists()


# ---- 7. one run per set of outputs; resume reads the same input ----------------------------------------------

def test_second_run_on_the_same_outputs_is_refused_while_the_first_runs(clip, reference, fake_cli, tmp_path, capsys):
    out = tmp_path / "out"
    out.mkdir()
    first = start_slow_gazenet(tmp_path, ["annotate", clip, "-o", out / "o.csv", "--jsonl", out / "o.jsonl",
                                          "--no-progress"])
    try:
        assert wait_until(first, lambda: lines_in(out / "o.csv.partial") >= 1 + 2 * 5), finish(first)
        code, _, err = cli(["annotate", clip, "-o", out / "o2.csv", "--jsonl", out / "o.jsonl", "--resume",
                            "--no-progress"], capsys)
        assert code == 2
        assert err == (f"error: {out / 'o.jsonl'} is being written by another gazenet run (it holds "
                       f"{out / 'o.jsonl.lock'}); wait for it to finish or stop it first\n")
    finally:
        rc, _, first_err = finish(first)
    assert rc == 0, first_err
    assert data_rows(out / "o.csv") == reference  # the first run's rows are whole: nothing renamed under it
    assert sorted(p.name for p in out.iterdir()) == ["o.csv", "o.jsonl", "o.meta.json"]


def test_resume_from_another_input_is_refused(clip, fake_cli, tmp_path, monkeypatch, capsys):
    import gazenet_app.cli.common as common
    from fixtures.fakes import make_fake_pipeline

    monkeypatch.setattr(common, "build_pipeline", lambda args, **kw: make_fake_pipeline(interrupt_at_call=4))
    out = tmp_path / "o.csv"
    assert cli(["annotate", clip, "-o", out, "--no-progress"], capsys)[0] == 130
    other = tmp_path / "other.avi"
    write_clip(other, synthetic_frames(20))
    monkeypatch.setattr(common, "build_pipeline", lambda args, **kw: make_fake_pipeline())
    partial = tmp_path / "o.csv.partial"
    kept = partial.read_bytes()
    code, _, err = cli(["annotate", other, "-o", out, "--resume", "--no-progress"], capsys)
    assert code == 2
    assert err.startswith(f"error: cannot resume {partial}: it was made from another input (path "
                          f"{str(clip)!r} then, {str(other)!r} now; size ")
    assert "frame_count 30 then, 20 now" in err
    assert partial.read_bytes() == kept
    assert cli(["annotate", clip, "-o", out, "--resume", "--no-progress"], capsys)[0] == 0


# ---- 8. SIGTERM is Ctrl-C; a failed start leaves nothing behind ----------------------------------------------

def test_sigterm_is_handled_as_ctrl_c_then_resume(clip, reference, fake_cli, tmp_path, capsys):
    out = tmp_path / "out"
    out.mkdir()
    proc = start_slow_gazenet(tmp_path, ["annotate", clip, "-o", out / "o.csv", "--jsonl", out / "o.jsonl",
                                         "--no-progress"])
    assert wait_until(proc, lambda: lines_in(out / "o.csv.partial") >= 1 + 2 * 5), finish(proc)
    proc.send_signal(signal.SIGTERM)
    rc, _, err = finish(proc)
    assert rc == 130, err
    assert err.strip().endswith("run the same command with --resume to finish")
    assert json.loads((out / "o.meta.json").read_text())["status"] == "interrupted"
    code, _, err = cli(["annotate", clip, "-o", out / "o.csv", "--jsonl", out / "o.jsonl", "--resume",
                        "--no-progress"], capsys)
    assert code == 0, err
    assert data_rows(out / "o.csv") == reference


def test_bad_start_leaves_nothing_that_blocks_the_next_run(clip, fake_cli, tmp_path, capsys):
    out = tmp_path / "out"
    code, _, err = cli(["annotate", clip, "-o", out / "o.csv", "--jsonl", out / "o.jsonl", "--start", "100",
                        "--no-progress"], capsys)
    assert code == 2 and err == f"error: cannot seek to frame 100: {clip.name} has 30 frames\n"
    assert not out.exists() or list(out.iterdir()) == []
    assert cli(["annotate", clip, "-o", out / "o.csv", "--jsonl", out / "o.jsonl", "--no-progress"], capsys)[0] == 0


def test_disk_full_at_open_leaves_nothing_that_blocks_the_next_run(clip, fake_cli, tmp_path, monkeypatch, capsys):
    from gazenet_app.core import results

    full = [True]

    def fake_open(path, *args, **kwargs):
        if full[0] and str(path).endswith("o.jsonl.partial"):
            raise OSError(errno.ENOSPC, "No space left on device")
        return builtins.open(path, *args, **kwargs)

    monkeypatch.setattr(results, "open", fake_open, raising=False)
    out = tmp_path / "out"
    code, _, err = cli(["annotate", clip, "-o", out / "o.csv", "--jsonl", out / "o.jsonl", "--no-progress"], capsys)
    assert code == 2 and "no space left on the device" in err
    assert list(out.iterdir()) == []  # the CSV partial it had opened is gone
    full[0] = False
    assert cli(["annotate", clip, "-o", out / "o.csv", "--jsonl", out / "o.jsonl", "--no-progress"], capsys)[0] == 0
    assert len(rows_of(out / "o.csv")) == 1 + 60
    assert np.array_equal(sorted(p.name for p in out.iterdir()), ["o.csv", "o.jsonl", "o.meta.json"])


def test_app_recording_and_export_never_write_over_their_input(clip, tmp_path):
    """The app's recorder refuses the file being played and its export the files its results came from (a video
    whose name has no extension is recordable-looking: the only way its path could reach the CSV writer)."""
    pytest.importorskip("PySide6")
    from gazenet_app.core.types import FrameResult
    from gazenet_app.core.video import open_source
    from gazenet_app.ui.backend import PipelineBackend
    from gazenet_app.ui.recording import export_results

    bare = tmp_path / "take1"
    bare.write_bytes(clip.read_bytes())
    before = bare.read_bytes()
    with open_source(str(bare)) as source:
        with pytest.raises(ExportError, match="is the input"):
            PipelineBackend().make_recorder(str(bare), {}, smoothing=False, source=source)
    result = FrameResult(index=0, timestamp_ms=0.0, source=str(bare), faces=(), timing={}, shape=(48, 64, 3))
    with pytest.raises(ExportError, match="is the input"):
        export_results(str(bare), [result], {})
    assert bare.read_bytes() == before
    assert export_results(str(tmp_path / "ok.csv"), [result], {}) == 0  # any other path still exports
