"""Cameras: an index that does not exist, a camera that stops delivering frames mid-stream (the real
`CameraSource` over a fake capture device), and reconnecting by choosing the camera again."""

from __future__ import annotations

import json

import cv2
import pytest

from faults.support import cli, open_fails, rows_of
from fixtures.clips import synthetic_frames

LOST_AFTER = 6
LOST = "camera 3 stopped delivering frames"


class FakeCapture:
    """Stands in for `cv2.VideoCapture(index)`: index 3 delivers `LOST_AFTER` frames, then none; others fail."""

    made: list = []

    def __init__(self, index, *args) -> None:
        self.index = index
        self.frames = [cv2.cvtColor(f, cv2.COLOR_RGB2BGR) for f in synthetic_frames(LOST_AFTER)]
        self.reads = 0
        self.released = False
        FakeCapture.made.append(self)

    def isOpened(self) -> bool:
        return self.index == 3 and not self.released

    def get(self, prop) -> float:
        return 30.0 if prop == cv2.CAP_PROP_FPS else 0.0

    def set(self, prop, value) -> bool:
        return True

    def read(self):
        self.reads += 1
        if self.released or self.reads > len(self.frames):
            return False, None
        return True, self.frames[self.reads - 1].copy()

    def grab(self) -> bool:
        return self.read()[0]

    def release(self) -> None:
        self.released = True


@pytest.fixture
def fake_camera(monkeypatch):
    """cv2.VideoCapture as seen by gazenet's sources: camera 3 exists and is lost after six frames."""
    import gazenet_app.core.video as video

    FakeCapture.made = []
    monkeypatch.setattr(video.cv2, "VideoCapture", FakeCapture)
    return FakeCapture


def test_missing_camera_cli(fake_camera, fake_cli, tmp_path, capsys):
    code, stdout, err = cli(["annotate", "cam:97", "-o", tmp_path / "o.csv", "--no-progress"], capsys)
    assert code == 2 and stdout == ""
    assert err == "error: camera 97 cannot be opened (no such camera, or it is in use)\n"
    assert list(tmp_path.iterdir()) == [] and all(c.released for c in fake_camera.made)


def test_missing_camera_real_device_cli(fake_cli, tmp_path, capsys):
    # no fake: OpenCV itself is asked for a camera index that no machine has
    code, _, err = cli(["annotate", "cam:97", "-o", tmp_path / "o.csv", "--no-progress"], capsys)
    assert code == 2 and err.splitlines()[-1] == "error: camera 97 cannot be opened (no such camera, or it is in use)"


@pytest.mark.parametrize("spec", ["cam:97", {"camera": 97, "size": (640, 480), "fps": 30}])
def test_missing_camera_worker(spec, fake_camera, start_worker, qtbot):
    ctl = start_worker()
    assert open_fails(qtbot, ctl, spec) == "camera 97 cannot be opened (no such camera, or it is in use)"
    assert ctl.worker._source is None and all(c.released for c in fake_camera.made)


def test_camera_lost_mid_stream_cli(fake_camera, fake_cli, tmp_path, capsys, figures):
    out = tmp_path / "cam.csv"
    code, stdout, err = cli(["annotate", "cam:3", "-o", out, "--jsonl", tmp_path / "cam.jsonl", "--no-progress"],
                            capsys)
    assert code == 0, err
    figures.csv_rows("camera lost mid-stream (cli)", 2 * LOST_AFTER, out)
    assert stdout == f"{LOST_AFTER} frames, {2 * LOST_AFTER} faces, {2 * LOST_AFTER} rows -> {out}\n"
    assert f"warning: the input ended early: {LOST}; the outputs cover the frames before it" in err
    # a camera cannot be resumed: what it delivered is the whole record, finished under its final name
    assert sorted({int(r[1]) for r in rows_of(out)[1:]}) == list(range(LOST_AFTER))
    assert len(rows_of(out)) == 1 + 2 * LOST_AFTER
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cam.csv", "cam.jsonl", "cam.meta.json"]
    meta = json.loads((tmp_path / "cam.meta.json").read_text())
    assert meta["status"] == "ended_early" and meta["ended_early"] == LOST and meta["source"]["kind"] == "camera"
    assert [c.released for c in fake_camera.made] == [True]


def test_camera_lost_then_reconnected_worker(fake_camera, start_worker, qtbot, tmp_path, figures):
    ctl = start_worker()
    record = tmp_path / "rec.csv"
    results, failures = [], []
    ctl.events.frame_processed.connect(results.append)
    ctl.events.failed.connect(failures.append)
    with qtbot.waitSignal(ctl.events.end_of_stream, timeout=20000) as ended:
        ctl.open_source("cam:3", record_to=str(record))
    assert ended.args[0] == LOST  # the worker says why, and stops cleanly
    assert [r.index for r in results] == list(range(LOST_AFTER))
    with qtbot.waitSignal(ctl.events.state_changed, timeout=10000) as state:
        ctl.set_options(show_cube=True)
    assert state.args[0].playing is False and state.args[0].recording == str(record)
    # the recording keeps every frame the camera delivered
    with qtbot.waitSignal(ctl.events.state_changed, timeout=10000, check_params_cb=lambda s: s.recording is None):
        ctl.stop_recording()
    figures.csv_rows("camera lost mid-stream, recording (app)", 2 * LOST_AFTER, record)
    assert [int(r[1]) for r in rows_of(record)[1:]] == [i for i in range(LOST_AFTER) for _ in range(2)]
    # reconnect: choosing the camera again opens a new device and plays
    results.clear()
    with qtbot.waitSignal(ctl.events.end_of_stream, timeout=20000) as ended:
        ctl.open_source("cam:3")
    assert ended.args[0] == LOST and [r.index for r in results] == list(range(LOST_AFTER))
    assert failures == [] and len(fake_camera.made) == 2 and fake_camera.made[0].released
    assert ctl.stop() and all(c.released for c in fake_camera.made)
