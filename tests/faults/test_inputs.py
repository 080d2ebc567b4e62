"""Bad inputs in the CLI and in the app's worker: damaged images and videos, cut videos, mixed folders, odd
paths, huge and tiny frames, grey and 4-channel images, frames without faces and with twenty.

Damaged files are made from good ones (empty, cut in half, 20 bytes flipped); what OpenCV can still decode
from each is asked of OpenCV itself (`_expected`), and gazenet must then do exactly that: refuse the file
with its one-line message (exit 2 / `failed`), or process the decodable frames and say where it stopped.
"""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from faults.support import cli, grid_boxes, open_fails, play_to_end, rows_of
from fixtures.clips import synthetic_frames, write_clip
from gazenet_app.core.types import FaceBox

CLIP_FRAMES = 30
DAMAGES = ("empty", "cut", "bitflip")
KINDS = (".jpg", ".png", ".avi", ".mp4")


def _good_bytes(ext: str, folder: Path) -> bytes:
    frames = synthetic_frames(CLIP_FRAMES)
    if ext in (".jpg", ".png"):
        ok, buf = cv2.imencode(ext, cv2.cvtColor(frames[0], cv2.COLOR_RGB2BGR))
        assert ok
        return buf.tobytes()
    path = folder / f"good{ext}"
    fourcc = "MJPG" if ext == ".avi" else "mp4v"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*fourcc), 15.0, (320, 240))
    assert writer.isOpened()
    for f in frames:
        writer.write(cv2.cvtColor(f, cv2.COLOR_RGB2BGR))
    writer.release()
    return path.read_bytes()


def _damage(data: bytes, how: str) -> bytes:
    if how == "empty":
        return b""
    if how == "cut":
        return data[:len(data) // 2]
    flipped = bytearray(data)
    for i in np.random.default_rng(0).integers(len(data) // 4, len(data), 20):
        flipped[i] ^= 0xFF
    return bytes(flipped)


@pytest.fixture(scope="module")
def damaged(tmp_path_factory):
    """{(ext, damage): path} of damaged images and videos."""
    folder = tmp_path_factory.mktemp("damaged")
    out = {}
    for ext in KINDS:
        good = _good_bytes(ext, folder)
        for how in DAMAGES:
            path = folder / f"{how}{ext}"
            path.write_bytes(_damage(good, how))
            out[(ext, how)] = path
    return out


def _expected(path: Path):
    """What gazenet must do with `path`, from OpenCV's own decoding: ("error", message) or ("frames", k, why)."""
    if path.suffix in (".jpg", ".png"):
        if path.stat().st_size == 0:
            return ("error", f"cannot read image {path}: the file is empty")
        if cv2.imdecode(np.fromfile(str(path), np.uint8), cv2.IMREAD_UNCHANGED) is None:
            return ("error", f"cannot read image {path}: not an image or corrupt")
        return ("frames", 1, "")
    if path.stat().st_size == 0:
        return ("error", f"cannot open video {path}: the file is empty")
    cap = cv2.VideoCapture(str(path))
    try:
        if not cap.isOpened():
            return ("error", f"cannot open video {path}: not a video OpenCV can read, or corrupt")
        declared = int(cap.get(cv2.CAP_PROP_FRAME_COUNT) or 0)
        k = 0
        while cap.read()[0]:
            k += 1
    finally:
        cap.release()
    if k == 0:
        return ("error", f"cannot read video {path}: no frame could be decoded")
    why = (f"{path.name}: frame {k} of {declared} could not be decoded (file cut or corrupt); stopped there"
           if k < declared else "")
    return ("frames", k, why)


CASES = [pytest.param(ext, how, id=f"{how}{ext}") for ext in KINDS for how in DAMAGES]


@pytest.mark.parametrize("ext,how", CASES)
def test_damaged_file_cli(ext, how, damaged, fake_cli, tmp_path, capsys, figures):
    path = damaged[(ext, how)]
    want = _expected(path)
    out = tmp_path / "o.csv"
    code, stdout, err = cli(["annotate", path, "-o", out, "--no-progress"], capsys)
    assert "Traceback" not in err
    if want[0] == "error":
        assert code == 2 and err.splitlines()[-1] == f"error: {want[1]}"
        assert list(tmp_path.iterdir()) == []  # nothing written, not even a partial
        return
    _, k, why = want
    assert code == 0, err
    figures.csv_rows(f"damaged {how}{ext} (cli)", 2 * k, out)
    assert stdout == f"{k} frames, {2 * k} faces, {2 * k} rows -> {out}\n"
    assert len(rows_of(out)) == 1 + 2 * k and not (tmp_path / "o.csv.partial").exists()
    meta = json.loads((tmp_path / "o.meta.json").read_text())
    assert meta["status"] == ("ended_early" if why else "complete") and meta["ended_early"] == (why or None)
    if why:
        assert f"warning: the input ended early: {why}; the outputs cover the frames before it" in err


@pytest.mark.parametrize("ext,how", CASES)
def test_damaged_file_worker(ext, how, damaged, start_worker, qtbot):
    path = damaged[(ext, how)]
    want = _expected(path)
    ctl = start_worker()
    if want[0] == "error":
        assert open_fails(qtbot, ctl, str(path)) == want[1]
        assert ctl.worker._source is None and ctl.is_running()
        return
    _, k, why = want
    results, reason, failures = play_to_end(qtbot, ctl, str(path))
    assert [r.index for r in results] == list(range(k)) and all(len(r.faces) == 2 for r in results)
    assert reason == why and failures == []


def test_open_failure_keeps_the_current_source(start_worker, qtbot, synthetic_clip, damaged):
    ctl = start_worker()
    with qtbot.waitSignal(ctl.events.frame_processed, timeout=20000):
        ctl.open_source(str(synthetic_clip.path), play=False)
    before = ctl.worker._source
    assert open_fails(qtbot, ctl, str(damaged[(".mp4", "empty")])).endswith("the file is empty")
    assert ctl.worker._source is before and not before._closed
    with qtbot.waitSignal(ctl.events.frame_processed, timeout=20000) as more:
        ctl.step()
    assert more.args[0].index == 1 and more.args[0].source == "synthetic.avi"


def _write(path: Path, rgb_or_raw: np.ndarray) -> Path:
    ok, buf = cv2.imencode(path.suffix, rgb_or_raw)
    assert ok
    buf.tofile(str(path))
    return path


@pytest.fixture
def mixed_folder(tmp_path):
    folder = tmp_path / "mixed"
    folder.mkdir()
    frames = synthetic_frames(2)
    _write(folder / "a.png", cv2.cvtColor(frames[0], cv2.COLOR_RGB2BGR))
    _write(folder / "b.jpg", cv2.cvtColor(frames[1], cv2.COLOR_RGB2BGR))
    (folder / "c.jpg").write_bytes(b"")
    (folder / "d.png").write_bytes((folder / "a.png").read_bytes()[:100])
    (folder / "notes.txt").write_text("not an image")
    (folder / "clip.gif").write_bytes(b"GIF89a")
    (folder / "sub").mkdir()
    return folder


def test_mixed_folder_cli(mixed_folder, fake_cli, tmp_path, capsys, figures):
    out = tmp_path / "o.csv"
    code, stdout, err = cli(["annotate", mixed_folder, "-o", out, "--no-progress"], capsys)
    figures.csv_rows("mixed folder (cli)", 4, out)
    assert code == 0 and stdout == f"2 frames, 4 faces, 4 rows -> {out}\n"
    assert [(r[0], r[1]) for r in rows_of(out)[1:]] == [("a.png", "0"), ("a.png", "0"), ("b.jpg", "1"),
                                                        ("b.jpg", "1")]
    skipped_other = f"skipped 2 files in {mixed_folder} that are not images: clip.gif, notes.txt"
    skipped_c = f"skipped frame 2: cannot read image {mixed_folder / 'c.jpg'}: the file is empty"
    skipped_d = f"skipped frame 3: cannot read image {mixed_folder / 'd.png'}: not an image or corrupt"
    lines = err.splitlines()
    assert skipped_other in lines and f"warning: {skipped_c}" in lines and f"warning: {skipped_d}" in lines
    meta = json.loads((tmp_path / "o.meta.json").read_text())
    assert meta["status"] == "complete" and meta["notes"] == [skipped_other, skipped_c, skipped_d]


def test_mixed_folder_worker(mixed_folder, start_worker, qtbot):
    ctl = start_worker()
    messages = []
    ctl.events.message.connect(messages.append)
    results, reason, failures = play_to_end(qtbot, ctl, str(mixed_folder))
    assert [(r.index, r.source) for r in results] == [(0, "a.png"), (1, "b.jpg")]
    assert reason == "" and failures == []
    assert f"skipped 2 files in {mixed_folder} that are not images: clip.gif, notes.txt" in messages


def test_non_ascii_and_space_paths_cli(fake_cli, tmp_path, capsys):
    folder = tmp_path / "Köpfe und Gesichter 顔"
    folder.mkdir()
    clip = write_clip(folder / "clip ü 1.avi", synthetic_frames(5))
    out = tmp_path / "Ausgabe ä" / "o ü.csv"
    code, stdout, err = cli(["annotate", clip, "-o", out, "--jsonl", out.with_suffix(".jsonl"), "--no-progress"],
                            capsys)
    assert code == 0, err
    assert stdout == f"5 frames, 10 faces, 10 rows -> {out}\n"
    assert {r[0] for r in rows_of(out)[1:]} == {"clip ü 1.avi"} and len(rows_of(out)) == 11
    assert sorted(p.name for p in out.parent.iterdir()) == ["o ü.csv", "o ü.jsonl", "o ü.meta.json"]
    image = _write(folder / "bild ß 2.png", cv2.cvtColor(synthetic_frames(1)[0], cv2.COLOR_RGB2BGR))
    code, stdout, err = cli(["predict", image, "--save", tmp_path / "Bilder ö"], capsys)
    assert code == 0, err
    assert [line.split()[0] for line in stdout.splitlines()[1:]] == ["bild", "bild"]
    assert (tmp_path / "Bilder ö" / "bild ß 2_pose.jpg").stat().st_size > 0


def test_non_ascii_and_space_paths_worker(start_worker, qtbot, tmp_path):
    folder = tmp_path / "Bilder mit Leerzeichen ä 顔"
    folder.mkdir()
    for i, f in enumerate(synthetic_frames(3)):
        _write(folder / f"bild {i} ü.png", cv2.cvtColor(f, cv2.COLOR_RGB2BGR))
    results, reason, failures = play_to_end(qtbot, start_worker(), str(folder))
    assert [r.source for r in results] == [f"bild {i} ü.png" for i in range(3)] and reason == "" and not failures


HUGE = (6000, 8000)  # height, width


@pytest.fixture(scope="module")
def huge_image(tmp_path_factory):
    img = np.zeros(HUGE + (3,), np.uint8)
    img[..., 0] = np.linspace(0, 255, HUGE[1], dtype=np.uint8)[None, :]
    img[..., 1] = 90
    return _write(tmp_path_factory.mktemp("huge") / "huge.jpg", img)


@pytest.fixture
def detector_spy(monkeypatch):
    """Record the frame shape every real detector's `_detect` receives (after the base class downscales)."""
    from gazenet_app.detect.cascade import CascadeDetector

    seen = []
    real = CascadeDetector._detect

    def spy(self, rgb):
        seen.append(rgb.shape)
        return real(self, rgb)

    monkeypatch.setattr(CascadeDetector, "_detect", spy)
    return seen


def test_huge_image_is_downscaled_before_detection_cli(huge_image, detector_spy, tiny_pose_model, tmp_path,
                                                      capsys):
    code, stdout, err = cli(["predict", huge_image, "--detector", "cascade", "--model", tiny_pose_model,
                             "--json", tmp_path / "r.json"], capsys)
    assert code == 0, err
    assert detector_spy == [(768, 1024, 3)]  # cascade 'accurate': max_side 1024
    assert stdout.splitlines()[1] == f"{'huge.jpg':<28} no face"
    report = json.loads((tmp_path / "r.json").read_text())
    assert (report["images"][0]["width"], report["images"][0]["height"]) == (8000, 6000)


def test_huge_image_is_downscaled_before_detection_worker(huge_image, detector_spy, start_worker, make_backend,
                                                         qtbot):
    from gazenet_app.ui.backend import WorkerOptions

    ctl = start_worker(make_backend(), WorkerOptions(detector="cascade", preset="live", realtime=False))
    results, reason, failures = play_to_end(qtbot, ctl, str(huge_image))
    assert detector_spy == [(240, 320, 3)]  # cascade 'live': max_side 320
    assert [r.shape for r in results] == [HUGE] and reason == "" and not failures
    _, image = ctl.worker.latest.take()
    assert (image.width(), image.height()) == (8000, 6000)


def test_tiny_image_cli(fake_detector_cli, tiny_pose_model, tmp_path, capsys):
    fake_detector_cli.boxes_for = staticmethod(lambda rgb: [FaceBox(0.0, 0.0, 16.0, 16.0, 0.9)])
    tiny = _write(tmp_path / "tiny.png", np.full((16, 16, 3), 128, np.uint8))
    code, stdout, err = cli(["predict", tiny, "--model", tiny_pose_model, "--json", tmp_path / "r.json"], capsys)
    assert code == 0, err
    faces = json.loads((tmp_path / "r.json").read_text())["images"][0]["faces"]
    assert len(faces) == 1 and all(np.isfinite(faces[0][k]) for k in ("yaw", "pitch", "roll"))
    assert stdout.splitlines()[1].startswith(f"{'tiny.png':<28}    1 ")


def test_tiny_image_real_detector_worker(start_worker, make_backend, qtbot, tmp_path, detector_spy):
    from gazenet_app.ui.backend import WorkerOptions

    tiny = _write(tmp_path / "tiny.png", np.full((16, 16, 3), 128, np.uint8))
    ctl = start_worker(make_backend(), WorkerOptions(detector="cascade", realtime=False))
    results, reason, failures = play_to_end(qtbot, ctl, str(tiny))
    assert detector_spy == [(16, 16, 3)] and [(r.shape, r.faces) for r in results] == [((16, 16), ())]
    assert reason == "" and not failures


GREY_AND_ALPHA = [
    pytest.param(np.full((320, 320), 77, np.uint8), (-23.0, -23.0, -23.0), id="grey"),
    pytest.param(np.dstack([np.full((320, 320), v, np.uint8) for v in (10, 20, 30, 128)]), (-70.0, -80.0, -90.0),
                 id="bgra"),
    pytest.param(np.full((320, 320), 30000, np.uint16), (17.0, 17.0, 17.0), id="grey16"),  # 30000 >> 8 = 117
]


@pytest.mark.parametrize("raw,angles", GREY_AND_ALPHA)
def test_grey_and_four_channel_images_cli(raw, angles, fake_cli, tmp_path, capsys):
    # the fake pose model answers mean(R, G, B) - 100 of each crop: the angles show the colour order it got
    path = _write(tmp_path / "img.png", raw)
    code, _, err = cli(["predict", path, "--json", tmp_path / "r.json"], capsys)
    assert code == 0, err
    image = json.loads((tmp_path / "r.json").read_text())["images"][0]
    assert (image["width"], image["height"]) == (320, 320)
    assert [(f["yaw"], f["pitch"], f["roll"]) for f in image["faces"]] == [angles, angles]


@pytest.mark.parametrize("raw,angles", GREY_AND_ALPHA)
def test_grey_and_four_channel_images_worker(raw, angles, start_worker, qtbot, tmp_path):
    path = _write(tmp_path / "img.png", raw)
    results, reason, failures = play_to_end(qtbot, start_worker(), str(path))
    assert len(results) == 1 and results[0].shape == (320, 320) and not failures
    assert [f.pose.as_tuple() for f in results[0].faces] == [pytest.approx(angles)] * 2


def test_frames_without_faces_cli(fake_detector_cli, tiny_pose_model, synthetic_clip, tmp_path, capsys):
    fake_detector_cli.boxes_for = staticmethod(lambda rgb: [])
    out = tmp_path / "o.csv"
    code, stdout, err = cli(["annotate", synthetic_clip.path, "-o", out, "--jsonl", tmp_path / "o.jsonl",
                             "--model", tiny_pose_model, "--no-progress"], capsys)
    assert code == 0, err
    assert stdout == f"30 frames, 0 faces, 0 rows -> {out}\n"
    assert len(rows_of(out)) == 1  # the header only
    records = [json.loads(line) for line in (tmp_path / "o.jsonl").read_text().splitlines()]
    assert [(r["frame"], r["faces"]) for r in records] == [(i, []) for i in range(30)]
    blank = _write(tmp_path / "blank.png", np.zeros((64, 64, 3), np.uint8))
    code, stdout, err = cli(["predict", blank, "--model", tiny_pose_model], capsys)
    assert code == 0 and stdout.splitlines()[1] == f"{'blank.png':<28} no face"


def test_frames_without_faces_worker(start_worker, make_backend, qtbot, synthetic_clip):
    ctl = start_worker(make_backend(boxes_for=lambda rgb: []))
    results, reason, failures = play_to_end(qtbot, ctl, str(synthetic_clip.path))
    assert [(r.index, r.faces) for r in results] == [(i, ()) for i in range(30)] and reason == "" and not failures


@pytest.fixture
def batch_spy(monkeypatch):
    """The crop batch shapes the real PoseEstimator receives."""
    from gazenet_app.model_zoo.pose import PoseEstimator

    shapes = []
    real = PoseEstimator.predict_crops

    def spy(self, crops):
        shapes.append(tuple(crops.shape))
        return real(self, crops)

    monkeypatch.setattr(PoseEstimator, "predict_crops", spy)
    return shapes


def test_twenty_faces_cli(fake_detector_cli, tiny_pose_model, synthetic_clip, batch_spy, tmp_path, capsys):
    fake_detector_cli.boxes_for = staticmethod(grid_boxes(20, 320, 240))
    out = tmp_path / "o.csv"
    code, stdout, err = cli(["annotate", synthetic_clip.path, "-o", out, "--model", tiny_pose_model, "--end", "3",
                             "--no-progress"], capsys)
    assert code == 0, err
    assert stdout == f"3 frames, 60 faces, 60 rows -> {out}\n"
    assert batch_spy == [(20, 64, 64, 3)] * 3  # one forward per frame for all twenty faces
    rows = rows_of(out)
    body = [dict(zip(rows[0], r)) for r in rows[1:]]
    ids = [sorted(int(r["face_id"]) for r in body if r["frame"] == frame) for frame in ("0", "1", "2")]
    assert len(set(ids[0])) == 20 and ids[0] == ids[1] == ids[2]  # twenty faces, twenty stable ids
    assert all(abs(float(r[k])) <= 99 for r in body for k in ("yaw", "pitch", "roll"))


def test_twenty_faces_worker(start_worker, make_backend, qtbot, synthetic_clip, tiny_pose_model, batch_spy):
    from gazenet_app.ui.backend import WorkerOptions

    ctl = start_worker(make_backend(boxes_for=grid_boxes(20, 320, 240), default=None),
                       WorkerOptions(detector="fake", realtime=False, model=str(tiny_pose_model)))
    assert ctl.worker._model_name == "tiny_mobilenetv2_random"
    with qtbot.waitSignal(ctl.events.frame_processed, timeout=20000) as first:
        ctl.open_source(str(synthetic_clip.path), play=False)
    faces = first.args[0].faces
    assert len({f.face_id for f in faces}) == 20 and all(f.pose is not None for f in faces)
    assert batch_spy == [(20, 64, 64, 3)]


# ---- missing and empty inputs (moved here from tests/cli/test_main.py and tests/core/test_video.py) -------

def test_missing_and_empty_inputs_cli(tmp_path, capsys):
    # the real pipeline: a bad input fails before any model or detector loads
    missing = tmp_path / "nope.jpg"
    assert cli(["predict", missing], capsys) == (2, "", f"error: image not found: {missing}\n")
    out = tmp_path / "out"
    assert cli(["annotate", tmp_path / "nope.mp4", "-o", out / "o.csv"], capsys) == (
        2, "", f"error: input not found: {tmp_path / 'nope.mp4'}\n")
    (tmp_path / "empty").mkdir()
    assert cli(["annotate", tmp_path / "empty", "-o", out / "o.csv"], capsys) == (
        2, "", f"error: no images in folder {tmp_path / 'empty'}\n")
    (tmp_path / "empty" / "x.txt").write_text("x")
    assert cli(["annotate", tmp_path / "empty", "-o", out / "o.csv"], capsys) == (
        2, "", f"error: no images in folder {tmp_path / 'empty'} (1 other files skipped)\n")
    assert not out.exists()


def test_missing_and_empty_inputs_worker(start_worker, qtbot, tmp_path):
    ctl = start_worker()
    assert open_fails(qtbot, ctl, str(tmp_path / "missing.avi")) == f"input not found: {tmp_path / 'missing.avi'}"
    (tmp_path / "empty").mkdir()
    assert open_fails(qtbot, ctl, str(tmp_path / "empty")) == f"no images in folder {tmp_path / 'empty'}"
    good = _write(tmp_path / "a.png", np.zeros((8, 8, 3), np.uint8))
    assert open_fails(qtbot, ctl, [str(good), str(tmp_path / "c.png")]) == f"image not found: {tmp_path / 'c.png'}"


def test_random_bytes_named_mp4_cli(tmp_path, capsys):
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(b"\x00\x00\x00\x18ftypmp42" + np.random.default_rng(0).bytes(2000))
    code, stdout, err = cli(["annotate", bad, "-o", tmp_path / "o.csv"], capsys)
    assert code == 2 and stdout == "" and err in (
        f"error: cannot open video {bad}: not a video OpenCV can read, or corrupt\n",
        f"error: cannot read video {bad}: no frame could be decoded\n")
    assert not (tmp_path / "o.csv").exists() and not (tmp_path / "o.csv.partial").exists()


# ---- a detector that fails mid-clip (an unexpected bug, not a user error) -------------------------------

def _explodes_at_5(rgb):
    from fixtures.clips import frame_code

    if frame_code(rgb) == 5:
        raise RuntimeError("detector exploded")
    return [FaceBox(10, 10, 60, 60, 0.9)]


def test_exception_mid_clip_keeps_rows_and_resume_cli(fake_detector_cli, tiny_pose_model, synthetic_clip, tmp_path,
                                                      capsys, figures):
    fake_detector_cli.boxes_for = staticmethod(_explodes_at_5)
    out = tmp_path / "o.csv"
    argv = ["annotate", synthetic_clip.path, "-o", out, "--model", tiny_pose_model, "--no-progress"]
    with pytest.raises(RuntimeError, match="detector exploded"):  # a bug gets its traceback, after saving rows
        cli(argv, capsys)
    assert not out.exists() and [int(r[1]) for r in rows_of(tmp_path / "o.csv.partial")[1:]] == [0, 1, 2, 3, 4]
    assert json.loads((tmp_path / "o.meta.json").read_text())["status"] == "failed"
    fake_detector_cli.boxes_for = staticmethod(lambda rgb: [FaceBox(10, 10, 60, 60, 0.9)])  # fixed
    code, stdout, err = cli([*argv, "--resume"], capsys)
    assert code == 0, err
    figures.csv_rows("detector exception mid-clip, then --resume (cli)", 30, out)
    assert stdout == f"26 frames, 26 faces, 30 rows -> {out} (resumed after frame 3)\n"  # frame 4 may lack rows
    assert [int(r[1]) for r in rows_of(out)[1:]] == list(range(30))


def test_exception_mid_clip_becomes_failed_worker(start_worker, make_backend, qtbot, synthetic_clip):
    # moved here from tests/ui/test_worker.py
    ctl = start_worker(make_backend(boxes_for=_explodes_at_5))
    results = []
    ctl.events.frame_processed.connect(results.append)
    with qtbot.waitSignal(ctl.events.failed, timeout=20000) as failed:
        ctl.open_source(str(synthetic_clip.path))
    assert failed.args[0] == "RuntimeError: detector exploded"
    assert [r.index for r in results] == [0, 1, 2, 3, 4]
    with qtbot.waitSignal(ctl.events.frame_processed, timeout=20000) as more:
        ctl.seek(10)  # the last good state is kept and the worker keeps serving
    assert more.args[0].index == 10


def test_missing_inputs_by_class():
    # moved here from tests/core/test_video.py: the source classes say the same as open_source
    from gazenet_app.core.errors import SourceError
    from gazenet_app.core.video import CameraSource, VideoFileSource

    with pytest.raises(SourceError, match=r"^video not found: .*nothing\.mp4$"):
        VideoFileSource("/nonexistent/nothing.mp4")
    with pytest.raises(SourceError, match=r"^camera 98 cannot be opened \(no such camera, or it is in use\)$"):
        CameraSource(98)
