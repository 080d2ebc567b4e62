"""`gazenet annotate-corpus`: the one-line errors that come before any work (no cluster needed for most)."""

from __future__ import annotations

import socket
import threading
import time

import pytest

from fixtures.clips import synthetic_frames, write_clip
from gazenet_app.cli.main import main


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def clip(tmp_path):
    (tmp_path / "in").mkdir()
    return write_clip(tmp_path / "in" / "clip.avi", synthetic_frames(3))


def one_error_line(capsys) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: "), err
    return err[0]


def test_unreachable_scheduler_is_one_line(clip, tmp_path, capsys):
    pytest.importorskip("distributed")
    address = f"tcp://127.0.0.1:{free_port()}"
    threads = {t.ident for t in threading.enumerate()}
    t0 = time.monotonic()
    code = main(["-q", "annotate-corpus", str(clip), "-o", str(tmp_path / "out"), "--scheduler", address,
                 "--timeout", "2"])
    assert code == 2 and time.monotonic() - t0 < 60
    assert one_error_line(capsys).startswith(f"error: cannot reach the Dask scheduler at {address} within 2 s")
    left = [t.name for t in threading.enumerate() if t.ident not in threads and t.name != "tqdm_monitor"]
    assert not left, f"a failed connection left threads running: {left}"


def test_missing_scheduler_file_is_one_line(clip, tmp_path, capsys):
    pytest.importorskip("distributed")
    code = main(["-q", "annotate-corpus", str(clip), "-o", str(tmp_path / "out"), "--scheduler",
                 str(tmp_path / "scheduler.json")])
    assert code == 2 and "scheduler file not found" in one_error_line(capsys)


def test_missing_input_fails_before_any_cluster(tmp_path, capsys):
    assert main(["-q", "annotate-corpus", str(tmp_path / "nope.avi"), "-o", str(tmp_path / "out")]) == 2
    assert one_error_line(capsys) == f"error: input not found: {tmp_path / 'nope.avi'}"


def test_partials_need_resume(clip, tmp_path, capsys):
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "clip.avi.csv.partial").write_text("source\n")
    assert main(["-q", "annotate-corpus", str(clip), "-o", str(tmp_path / "out")]) == 2
    assert "exists from an interrupted run: pass --resume" in one_error_line(capsys)


def test_a_scheduler_that_is_still_starting_is_waited_for():
    """The reachability check waits up to the timeout, as the Client does (`dask scheduler` started just before)."""
    from gazenet_app.corpus.cluster import _check_listening

    port = free_port()
    server = socket.socket()
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    starting = threading.Timer(0.6, lambda: (server.bind(("127.0.0.1", port)), server.listen()))
    starting.start()
    try:
        t0 = time.monotonic()
        _check_listening(f"tcp://127.0.0.1:{port}", "the test scheduler", timeout_s=20)
        assert 0.5 <= time.monotonic() - t0 < 20
    finally:
        starting.join()
        server.close()
