"""Twelve kills at random points (SIGKILL, SIGINT and SIGTERM, four each, in a seeded random order) of one
`annotate` writing CSV + JSON Lines + an annotated video, each followed by `--resume`: the end result has exactly
the rows, records and video frames of an uninterrupted run (issue 20)."""

from __future__ import annotations

import json
import random
import signal

import cv2
import pytest

from faults.runner import finish, lines_in, start_slow_gazenet, wait_until
from faults.support import cli, data_rows, rows_of
from fixtures.clips import synthetic_frames, write_clip

FRAMES = 60
KILLS = [signal.SIGKILL, signal.SIGINT, signal.SIGTERM] * 4


def _video_frames(path) -> int:
    cap = cv2.VideoCapture(str(path))
    n = 0
    while cap.read()[0]:
        n += 1
    cap.release()
    return n


def _outputs(folder):
    return ["-o", folder / "o.csv", "--jsonl", folder / "o.jsonl", "--video", folder / "o.avi", "--no-progress"]


@pytest.mark.slow
def test_twelve_random_kills_then_resume_equal_an_uninterrupted_run(fake_cli, tmp_path, capsys, figures):
    clip = tmp_path / "clip.avi"
    write_clip(clip, synthetic_frames(FRAMES))
    ref = tmp_path / "ref"
    assert cli(["annotate", clip, *_outputs(ref)], capsys)[0] == 0

    rng = random.Random(20)
    kills = rng.sample(KILLS, len(KILLS))
    out = tmp_path / "out"
    out.mkdir()
    codes = []
    for k, sig in enumerate(kills):
        done = lines_in(out / "o.jsonl.partial")  # one record per frame processed so far
        # a random point: after 1 to 4 more frames than the last run left (some land mid-write)
        target = min(done + rng.randint(1, 4), FRAMES - (len(kills) - k))
        proc = start_slow_gazenet(tmp_path, ["annotate", clip, *_outputs(out), *(["--resume"] if k else [])],
                                  delay_s=0.02)
        reached = wait_until(proc, lambda: lines_in(out / "o.jsonl.partial") >= target)
        assert reached, finish(proc)
        proc.send_signal(sig)
        rc, _, err = finish(proc)
        codes.append(rc)
        assert rc == {signal.SIGKILL: -signal.SIGKILL, signal.SIGINT: 130, signal.SIGTERM: 130}[sig], err
        assert not (out / "o.csv").exists() and not (out / "o.avi").exists()
        if sig != signal.SIGKILL:
            assert json.loads((out / "o.meta.json").read_text())["status"] == "interrupted"

    code, _, err = cli(["annotate", clip, *_outputs(out), "--resume"], capsys)
    assert code == 0, err
    assert data_rows(out / "o.csv") == data_rows(ref / "o.csv")
    keys = [(r[1], r[3]) for r in rows_of(out / "o.csv")[1:]]
    assert len(keys) == len(set(keys))
    assert [json.loads(ln)["frame"] for ln in (out / "o.jsonl").read_text().splitlines()] == list(range(FRAMES))
    assert _video_frames(out / "o.avi") == _video_frames(ref / "o.avi") == FRAMES
    assert sorted(p.name for p in out.iterdir()) == ["o.avi", "o.csv", "o.jsonl", "o.meta.json"]
    figures.csv_rows("12 kills (SIGKILL/SIGINT/SIGTERM) then --resume, CSV + JSONL + video (cli)", 2 * FRAMES,
                     out / "o.csv")
