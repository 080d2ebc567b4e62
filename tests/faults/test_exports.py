"""Exports: an output folder that is not writable, a full disk, a failed rename, a kill mid-clip.

CI runs as root, so chmod proves nothing: the writers' own `open`, `write` and `os.replace` (in
`gazenet_app.core.results`) are made to raise `PermissionError` / `OSError(ENOSPC)` for one output file. A
write that fails does so after writing half its text, as a real full disk does. Promise held in every case:
the rows already produced are on disk in the `.partial` file, a file with the final name is never
half-written, and `--resume` finishes the job without duplicate or missing rows.
"""

from __future__ import annotations

import builtins
import errno
import json
import os
import signal
from pathlib import Path

import pytest

from faults.runner import finish, lines_in, start_slow_gazenet, wait_until
from faults.support import cli, data_rows, rows_of

ERRORS = {
    "EACCES": (lambda: PermissionError(errno.EACCES, "Permission denied"), "permission denied"),
    "ENOSPC": (lambda: OSError(errno.ENOSPC, "No space left on device"), "no space left on the device"),
}


class _FailingFile:
    """A text file whose `fail_at`-th write (1-based) writes half its text, then raises."""

    def __init__(self, fh, fail_at: int, make_error) -> None:
        self._fh, self._fail_at, self._make_error, self._n = fh, fail_at, make_error, 0

    def write(self, text: str) -> int:
        self._n += 1
        if self._n >= self._fail_at:
            self._fh.write(text[:len(text) // 2])
            self._fh.flush()
            raise self._make_error()
        return self._fh.write(text)

    def __getattr__(self, name):
        return getattr(self._fh, name)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self._fh.close()


class DiskFaults:
    """Make `core.results` and `core.atomic_files` (gazenet's file writers) fail for files whose name is `name` (or
    its partial): on open, on the n-th write, or on the rename of the finished file."""

    def __init__(self, patch: pytest.MonkeyPatch) -> None:
        from gazenet_app.core import atomic_files, results

        self.writers = (results, atomic_files)
        self.monkeypatch = patch

    def _patch(self, attr: str, value) -> None:
        for module in self.writers:
            self.monkeypatch.setattr(module, attr, value, raising=False)

    def on_open(self, name: str, error: str) -> None:
        make = ERRORS[error][0]

        def fake_open(path, *args, **kwargs):
            if Path(path).name in (name, name + ".partial"):
                raise make()
            return builtins.open(path, *args, **kwargs)

        self._patch("open", fake_open)

    def on_write(self, name: str, error: str, fail_at: int) -> None:
        make = ERRORS[error][0]

        def fake_open(path, mode="r", *args, **kwargs):
            fh = builtins.open(path, mode, *args, **kwargs)
            if Path(path).name == name + ".partial" and mode in ("w", "a"):
                return _FailingFile(fh, fail_at, make)
            return fh

        self._patch("open", fake_open)

    def on_rename(self, name: str, error: str) -> None:
        make = ERRORS[error][0]

        class OsProxy:
            def __getattr__(self, attr):
                return getattr(os, attr)

            @staticmethod
            def replace(src, dst):
                if Path(dst).name == name:
                    raise make()
                return os.replace(src, dst)

        self._patch("os", OsProxy())

    def heal(self) -> None:
        """The disk has room again / the folder is writable again."""
        self.monkeypatch.undo()


@pytest.fixture
def disk():
    """Disk faults on their own monkeypatch (healing undoes them, not the test's other patches)."""
    patch = pytest.MonkeyPatch()
    yield DiskFaults(patch)
    patch.undo()


def _no_duplicates(path, n_rows):
    rows = rows_of(path)[1:]
    keys = [(r[1], r[3]) for r in rows]
    assert len(keys) == len(set(keys)) == n_rows


@pytest.fixture
def reference(synthetic_clip, fake_cli, tmp_path, capsys):
    """An uninterrupted run's CSV rows (what every interrupted-then-resumed run must end with)."""
    ref = tmp_path / "ref" / "r.csv"
    assert cli(["annotate", synthetic_clip.path, "-o", ref, "--no-progress"], capsys)[0] == 0
    return data_rows(ref)


def _annotate(clip, out_dir, capsys, *extra):
    return cli(["annotate", clip, "-o", out_dir / "o.csv", "--jsonl", out_dir / "o.jsonl", "--no-progress", *extra],
               capsys)


@pytest.mark.parametrize("error", sorted(ERRORS))
def test_output_cannot_be_opened_cli(error, disk, synthetic_clip, fake_cli, tmp_path, capsys):
    disk.on_open("o.csv", error)
    out = tmp_path / "out"
    code, stdout, err = _annotate(synthetic_clip.path, out, capsys)
    assert code == 2 and stdout == ""
    assert err == f"error: cannot write {out / 'o.csv.partial'}: {ERRORS[error][1]}\n"
    assert list(out.iterdir()) == []


@pytest.mark.parametrize("error", sorted(ERRORS))
def test_disk_full_mid_clip_then_resume_cli(error, disk, reference, synthetic_clip, fake_cli, tmp_path, capsys,
                                            figures):
    out = tmp_path / "out"
    disk.on_write("o.csv", error, fail_at=1 + 12)  # the header, frames 0..10, then frame 11 is cut
    code, stdout, err = _annotate(synthetic_clip.path, out, capsys)
    assert code == 2 and stdout == ""
    assert err == f"error: cannot write {out / 'o.csv.partial'}: {ERRORS[error][1]}\n"
    assert sorted(p.name for p in out.iterdir()) == ["o.csv.partial", "o.jsonl.partial", "o.meta.json"]
    kept = (out / "o.csv.partial").read_text().split("\n")
    # frames 0..10 (2 rows each) are on disk, then frame 11 as cut by the full disk: a row and a half
    assert len(kept) == 1 + 22 + 2 and kept[-1] != "" and kept[-2].startswith("synthetic.avi,11,")
    assert data_rows(out / "o.csv.partial")[:23] == reference[:23]
    meta = json.loads((out / "o.meta.json").read_text())
    assert meta["status"] == "failed" and meta["frames"] == 11 and meta["rows"] == 22

    disk.heal()
    code, stdout, err = _annotate(synthetic_clip.path, out, capsys, "--resume")
    assert code == 0, err
    figures.csv_rows(f"disk full ({error}) mid-clip, then --resume (cli)", 60, out / "o.csv")
    assert stdout == f"19 frames, 38 faces, 60 rows -> {out / 'o.csv'} (resumed after frame 10)\n"
    assert data_rows(out / "o.csv") == reference  # none lost, none twice
    _no_duplicates(out / "o.csv", 60)
    assert [json.loads(line)["frame"] for line in (out / "o.jsonl").read_text().splitlines()] == list(range(30))
    assert sorted(p.name for p in out.iterdir()) == ["o.csv", "o.jsonl", "o.meta.json"]


@pytest.mark.parametrize("error", sorted(ERRORS))
def test_rename_fails_at_the_end_then_resume_cli(error, disk, reference, synthetic_clip, fake_cli, tmp_path,
                                                 capsys, figures):
    out = tmp_path / "out"
    disk.on_rename("o.csv", error)
    code, stdout, err = _annotate(synthetic_clip.path, out, capsys)
    assert code == 2 and stdout == ""
    assert err == f"error: cannot rename the finished file to {out / 'o.csv'}: {ERRORS[error][1]}\n"
    assert not (out / "o.csv").exists()  # never a final name on an unfinished file
    assert data_rows(out / "o.csv.partial") == reference  # every row is on disk
    assert [json.loads(line)["frame"] for line in (out / "o.jsonl.partial").read_text().splitlines()] == \
        list(range(30))  # the other output is kept as a partial too, closed
    meta = json.loads((out / "o.meta.json").read_text())
    assert meta["status"] == "failed" and meta["partials"] == ["o.csv.partial", "o.jsonl.partial"]

    disk.heal()
    code, stdout, err = _annotate(synthetic_clip.path, out, capsys, "--resume")
    assert code == 0, err
    figures.csv_rows(f"final rename fails ({error}), then --resume (cli)", 60, out / "o.csv")
    assert data_rows(out / "o.csv") == reference
    _no_duplicates(out / "o.csv", 60)
    assert sorted(p.name for p in out.iterdir()) == ["o.csv", "o.jsonl", "o.meta.json"]


def test_sigkill_mid_clip_then_resume_cli(reference, synthetic_clip, fake_cli, tmp_path, capsys, figures):
    out = tmp_path / "out"
    part = out / "o.csv.partial"
    proc = start_slow_gazenet(tmp_path, ["annotate", synthetic_clip.path, "-o", out / "o.csv", "--jsonl",
                                         out / "o.jsonl", "--no-progress"])
    assert wait_until(proc, lambda: lines_in(part) >= 1 + 2 * 8), finish(proc)  # wait for rows, not for a time
    proc.send_signal(signal.SIGKILL)
    assert finish(proc)[0] == -signal.SIGKILL
    assert not (out / "o.csv").exists() and not (out / "o.jsonl").exists()
    kept = data_rows(part)
    assert 16 <= len(kept) < 60 and kept == reference[:len(kept)]  # what was produced is on disk, in order

    code, stdout, err = _annotate(synthetic_clip.path, out, capsys, "--resume")
    assert code == 0, err
    figures.csv_rows("SIGKILL mid-clip, then --resume (cli)", 60, out / "o.csv")
    assert not part.exists()
    assert data_rows(out / "o.csv") == reference
    _no_duplicates(out / "o.csv", 60)
    assert [json.loads(line)["frame"] for line in (out / "o.jsonl").read_text().splitlines()] == list(range(30))


# ---- the app's recording ---------------------------------------------------------------------------------

@pytest.mark.parametrize("error", sorted(ERRORS))
def test_recording_cannot_be_opened_worker(error, disk, start_worker, qtbot, synthetic_clip, tmp_path):
    ctl = start_worker()
    disk.on_open("rec.csv", error)
    with qtbot.waitSignal(ctl.events.frame_processed, timeout=20000):
        ctl.open_source(str(synthetic_clip.path), play=False)
    with qtbot.waitSignal(ctl.events.failed, timeout=20000) as failed:
        ctl.start_recording(str(tmp_path / "rec.csv"))
    assert failed.args[0] == f"cannot write {tmp_path / 'rec.csv.partial'}: {ERRORS[error][1]}"
    with qtbot.waitSignal(ctl.events.frame_processed, timeout=20000) as more:
        ctl.step()  # the worker goes on without recording
    assert more.args[0].index == 1 and ctl.worker._recording_path is None
    assert not any(p.name.startswith("rec.") for p in tmp_path.iterdir())


@pytest.mark.parametrize("error", sorted(ERRORS))
def test_disk_full_while_recording_worker(error, disk, start_worker, qtbot, synthetic_clip, tmp_path, figures):
    ctl = start_worker()
    rec = tmp_path / "rec.csv"
    disk.on_write("rec.csv", error, fail_at=1 + 6)  # the header, frames 0..4, then frame 5 is cut
    results = []
    ctl.events.frame_processed.connect(results.append)
    with qtbot.waitSignal(ctl.events.failed, timeout=20000) as failed:
        ctl.open_source(str(synthetic_clip.path), record_to=str(rec))
    assert failed.args[0] == f"cannot write {tmp_path / 'rec.csv.partial'}: {ERRORS[error][1]}"
    assert [r.index for r in results] == [0, 1, 2, 3, 4]  # playback stops at the frame it could not record
    with qtbot.waitSignal(ctl.events.state_changed, timeout=10000) as state:
        ctl.set_options(show_cube=True)
    assert state.args[0].playing is False
    # the rows recorded are on disk, frame 5 as the full disk cut it (a row and a half)
    partial = tmp_path / "rec.csv.partial"
    figures.csv_rows(f"disk full ({error}) while recording (app)", 2 * 5 + 1, partial)  # frame 5's first row too
    lines = partial.read_text().split("\n")
    assert [int(r[1]) for r in rows_of(partial)[1:11]] == [i for i in range(5) for _ in range(2)]
    assert len(lines) == 1 + 10 + 2 and lines[-2].startswith("synthetic.avi,5,") and lines[-1] != ""
    # stopping the recording does not pass the cut file off as finished: it stays the partial
    disk.heal()
    with qtbot.waitSignal(ctl.events.failed, timeout=10000) as failed:
        ctl.stop_recording()
    assert failed.args[0] == (f"cannot finish {rec}: an earlier write failed; the rows written before it are "
                              f"kept in {partial}")
    assert not rec.exists() and partial.read_text().split("\n") == lines
    with qtbot.waitSignal(ctl.events.state_changed, timeout=10000) as state:
        ctl.set_options(show_cube=False)
    assert state.args[0].recording is None


@pytest.mark.parametrize("error", sorted(ERRORS))
def test_recording_rename_fails_worker(error, disk, start_worker, qtbot, synthetic_clip, tmp_path, figures):
    ctl = start_worker()
    rec = tmp_path / "rec.csv"
    with qtbot.waitSignal(ctl.events.end_of_stream, timeout=20000):
        ctl.open_source(str(synthetic_clip.path), record_to=str(rec))
    disk.on_rename("rec.csv", error)
    with qtbot.waitSignal(ctl.events.failed, timeout=20000) as failed:
        ctl.stop_recording()
    assert failed.args[0] == f"cannot rename the finished file to {rec}: {ERRORS[error][1]}"
    figures.csv_rows(f"recording rename fails ({error}) (app)", 60, tmp_path / "rec.csv.partial")
    assert not rec.exists() and len(rows_of(tmp_path / "rec.csv.partial")) == 1 + 60
    with qtbot.waitSignal(ctl.events.state_changed, timeout=10000) as state:
        ctl.set_options(show_cube=True)
    assert state.args[0].recording is None


# ---- Ctrl-C and other write faults (moved here from tests/cli, tests/pipeline and tests/core) -------------

def test_ctrl_c_keeps_partial_and_says_how_to_resume_cli(monkeypatch, synthetic_clip, tmp_path, capsys):
    import gazenet_app.cli.common as common
    from fixtures.fakes import make_fake_pipeline

    monkeypatch.setattr(common, "build_pipeline", lambda args, **kw: make_fake_pipeline(interrupt_at_call=4))
    out = tmp_path / "o.csv"
    code, stdout, err = cli(["annotate", synthetic_clip.path, "-o", out, "--no-progress"], capsys)
    assert code == 130 and stdout == ""
    assert err == (f"interrupted: the rows written so far are kept in the .partial files of {out}; run the same "
                   f"command with --resume to finish\n")
    assert len(rows_of(tmp_path / "o.csv.partial")) == 1 + 8 and not out.exists()
    assert json.loads((tmp_path / "o.meta.json").read_text())["status"] == "interrupted"


def test_file_where_the_output_folder_should_be_cli(fake_cli, synthetic_clip, tmp_path, capsys):
    (tmp_path / "file").write_text("x")
    code, stdout, err = cli(["annotate", synthetic_clip.path, "-o", tmp_path / "file" / "o.csv", "--no-progress"],
                            capsys)
    assert code == 2 and err.startswith(f"error: cannot write {tmp_path / 'file' / 'o.csv.partial'}: ")
    assert (tmp_path / "file").read_text() == "x"


@pytest.mark.parametrize("error", sorted(ERRORS))
def test_sidecar_replace_fails_keeps_the_old_one(error, disk, tmp_path):
    from gazenet_app.core.errors import ExportError
    from gazenet_app.core.results import write_sidecar

    path = tmp_path / "o.meta.json"
    write_sidecar(path, {"a": 1})
    disk.on_rename("o.meta.json", error)
    with pytest.raises(ExportError) as info:
        write_sidecar(path, {"a": 2})
    assert str(info.value) == f"cannot write {path}: {ERRORS[error][1]}"
    assert json.loads(path.read_text()) == {"a": 1} and os.listdir(tmp_path) == ["o.meta.json"]  # no temp file
