"""Regenerate docs/screenshot.png and docs/screenshots/: the real window on clips made from one real photo.

    xvfb-run -a -s "-screen 0 1600x1000x24" python scripts/screenshot.py     # X11 (xcb) under Xvfb
    QT_QPA_PLATFORM=offscreen python scripts/screenshot.py                   # without a display
    python scripts/screenshot.py --only review small_800x600                 # some of them

Every clip is made in a temp folder from ../shared/data/faces/ulfd_13.jpg (two faces): a slow pan/zoom/tilt
(the main shot, the small windows; a shorter one for review mode), the same photo tiled 2x2 with its own motion per tile (eight
faces, for the timelines), and short pans for the batch queue. The profile shot plays one Pointing'04 train
person turning from frontal to a full profile (true yaw 90 on the last frame; Gourier, Hall, Crowley 2004). Nothing from ../shared is stored in the repo:
only the PNGs. The window uses the installed default pose model, or `--model NAME_OR_PATH`.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable, Dict

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SHOTS = ("screenshot", "profile", "timelines", "review", "batch", "small_800x600", "small_1024x700")
#: The profile shot's person: a Pointing'04 train person (persons 10-12 are held out), series 1, pitch 0.
PROFILE_PERSON = 2


def _motion(rgb: np.ndarray, size, t: float, phase: float, fit_share: float = 0.94) -> tuple:
    """The photo warped for time t in [0, 1]: rotation, zoom and pan (a matrix and the output size)."""
    h, w = rgb.shape[:2]
    W, H = size
    fit = fit_share * min(W / w, H / h)
    m = cv2.getRotationMatrix2D((w / 2, h / 2), 8.0 * np.sin(2 * np.pi * t + phase),
                                fit * (1.0 + 0.04 * np.sin(np.pi * t)))
    m[0, 2] += W / 2 - w / 2 + 0.06 * W * np.sin(2 * np.pi * t + 0.6 + phase)
    m[1, 2] += H / 2 - h / 2
    return m


def _panned(rgb: np.ndarray, size, t: float, phase: float = 0.0) -> np.ndarray:
    """One frame: the photo moving over a blurred, dimmed copy of itself."""
    h, w = rgb.shape[:2]
    W, H = size
    cover = max(W / w, H / h)
    back = cv2.resize(rgb, (int(w * cover) + 1, int(h * cover) + 1), interpolation=cv2.INTER_LINEAR)[:H, :W]
    back = (cv2.GaussianBlur(back, (0, 0), 18) * 0.45).astype(np.uint8)
    m = _motion(rgb, size, t, phase)
    fg = cv2.warpAffine(rgb, m, (W, H), flags=cv2.INTER_LINEAR, borderValue=(0, 0, 0))
    mask = cv2.warpAffine(np.ones((h, w), np.uint8), m, (W, H), flags=cv2.INTER_NEAREST)
    return np.where(mask[..., None] > 0, fg, back)


def make_clip(photo: Path, out: Path, frames: int = 120, size=(960, 540), fps: float = 15.0,
              tiles: int = 1) -> Path:
    """A 16:9 MJPG clip of the photo panning; `tiles` 2 puts four moving copies side by side (2x2)."""
    from gazenet_app.core.video import read_image

    rgb = read_image(photo)
    W, H = size
    writer = cv2.VideoWriter(str(out), cv2.VideoWriter_fourcc(*"MJPG"), fps, (W, H))
    for i in range(frames):
        t = i / max(1, frames - 1)
        if tiles == 1:
            frame = _panned(rgb, size, t)
        else:
            tw, th = W // tiles, H // tiles
            rows = [np.concatenate([_panned(rgb, (tw, th), t, phase=1.3 * (r * tiles + c)) for c in range(tiles)],
                                   axis=1) for r in range(tiles)]
            frame = np.concatenate(rows, axis=0)
        writer.write(cv2.cvtColor(np.ascontiguousarray(frame), cv2.COLOR_RGB2BGR))
    writer.release()
    return out


def make_turn_clip(pointing04: Path, out: Path, person: int = PROFILE_PERSON, hold: int = 4,
                   size=(768, 576), fps: float = 8.0) -> Path:
    """A clip of one Pointing'04 person turning from frontal to a full profile (yaw 0, 15, ..., 90 at pitch 0,
    each photo held `hold` frames, the 90-degree one last), upscaled 2x: the true yaw of its last frame is 90."""
    import csv

    with open(pointing04 / "labels.csv", newline="", encoding="utf-8") as f:
        rows = [r for r in csv.DictReader(f) if int(r["person"]) == person and r["series"] == "1"
                and int(r["pitch"]) == 0 and int(r["yaw"]) >= 0]
    if not rows or rows[0]["split"] == "test":
        raise SystemExit(f"error: no train photos of Pointing'04 person {person} in {pointing04}")
    writer = cv2.VideoWriter(str(out), cv2.VideoWriter_fourcc(*"MJPG"), fps, size)
    for r in sorted(rows, key=lambda r: int(r["yaw"])):
        frame = cv2.resize(cv2.imread(str(pointing04 / r["path"])), size, interpolation=cv2.INTER_CUBIC)
        for _ in range(hold):
            writer.write(frame)
    writer.release()
    return out


def wait(cond: Callable[[], bool], timeout_s: float) -> bool:
    """Run the Qt event loop until `cond()` or the time limit (a script, not a test: no pytest-qt here)."""
    from PySide6.QtCore import QEventLoop, QTimer

    deadline = time.monotonic() + timeout_s
    loop = QEventLoop()
    timer = QTimer()
    timer.timeout.connect(lambda: loop.quit() if cond() or time.monotonic() > deadline else None)
    timer.start(20)
    loop.exec()
    return cond()


class Shooter:
    """Builds a fresh window per shot (throwaway settings), drives it, saves what it shows."""

    def __init__(self, tmp: Path, model: str, detector: str, preset, out_dir: Path) -> None:
        self.tmp, self.model, self.detector, self.preset, self.out_dir = tmp, model, detector, preset, out_dir
        self.errors: Dict[str, list] = {}

    def window(self, name: str, size, seconds: bool = True, realtime: bool = False):
        from PySide6.QtCore import QSettings

        from gazenet_app.ui.backend import WorkerOptions
        from gazenet_app.ui.main_window import MainWindow

        settings = QSettings(str(self.tmp / f"{name}.ini"), QSettings.Format.IniFormat)
        settings.setValue("view/seconds", seconds)
        options = WorkerOptions(detector=self.detector, preset=self.preset, model=self.model, realtime=realtime,
                                smoothing=True)
        window = MainWindow(options=options, settings=settings)
        window.resize(*size)
        window.show()
        if not wait(lambda: window.session.state is not None, 120):
            raise RuntimeError("the worker did not start")
        return window

    def play(self, window, spec, frames: int, record_to=None) -> None:
        window.open_source(str(spec)) if record_to is None else window.session.open(str(spec), record_to=record_to)
        wait(lambda: window.session.frames_received >= frames or window.session.ended_reason is not None
             or bool(window.session.errors), 1800)
        window.controller.pause()
        wait(lambda: False, 1.0)  # the last image, timelines and Faces table settle

    def save(self, widget, name: str, window=None) -> Path:
        from PySide6.QtWidgets import QApplication

        window = window or widget
        window.timeline.redraw()
        QApplication.processEvents()
        out = self.out_dir / "screenshot.png" if name == "screenshot" else self.out_dir / "screenshots" / f"{name}.png"
        out.parent.mkdir(parents=True, exist_ok=True)
        if not widget.grab().save(str(out), "PNG"):
            raise RuntimeError(f"could not save {out}")
        self.errors[name] = list(window.session.errors)
        print(f"saved {out} ({window.session.frames_received} frames; errors: {self.errors[name] or 'none'})")
        return out

    @staticmethod
    def close(window) -> None:
        window.shutdown()
        window.close()
        window.deleteLater()


def shoot(name: str, shooter: Shooter, clips: Dict[str, Path]) -> None:
    """Take one of SHOTS."""
    if name in ("screenshot", "small_800x600", "small_1024x700"):
        size = {"screenshot": (1440, 900), "small_800x600": (800, 600), "small_1024x700": (1024, 700)}[name]
        window = shooter.window(name, size)
        shooter.play(window, clips["pan"], 40 if name == "screenshot" else 20)
        shooter.save(window, name)
    elif name == "profile":
        window = shooter.window(name, (1280, 860))
        shooter.play(window, clips["turn"], 10 ** 6)  # to the end: the full profile (true yaw 90)
        shooter.save(window, name)
    elif name == "timelines":
        window = shooter.window(name, (1440, 900))
        window.splitter.setSizes([400, 500])
        shooter.play(window, clips["tiles"], 10 ** 6)
        shooter.save(window, name)
    elif name == "review":
        csv_path = shooter.tmp / "pan_annotations.csv"
        window = shooter.window("review_record", (1440, 900))
        shooter.play(window, clips["review"], 10 ** 6, record_to=str(csv_path))  # the whole clip
        window.controller.stop_recording()
        wait(lambda: csv_path.exists(), 60)
        shooter.close(window)
        window = shooter.window(name, (1440, 900))
        window.session.open(str(clips["review"]), play=False)
        wait(lambda: window.session.frames_received >= 1, 600)
        window.review(str(csv_path))  # plays the file's rows from frame 0 (nothing recomputed)
        wait(lambda: window.session.state.review is not None and window.session.ended_reason is not None
             and window.session.frames_received > 20, 600)
        window.controller.seek(20)
        wait(lambda: window.session.last_result is not None and window.session.last_result.index == 20, 60)
        wait(lambda: False, 1.0)
        shooter.save(window, name)
    elif name == "batch":
        window = shooter.window(name, (1440, 900))
        window.show_batch()
        batch = window.batch_window
        batch.resize(760, 460)
        batch.add_paths([str(p) for p in clips["batch"]])
        batch.out_edit.setText(str(shooter.tmp / "batch_out"))
        batch.start()
        wait(lambda: len(batch.results) >= 2 and batch.file_bar.value() >= 8, 300)
        shooter.save(batch, name, window=window)
        batch.cancel()
        wait(lambda: not batch.is_running(), 60)
    shooter.close(window)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--photo", default=str(ROOT.parent / "shared" / "data" / "faces" / "ulfd_13.jpg"))
    p.add_argument("--model", help="pose model name or path (default: the installed default)")
    p.add_argument("--detector", default="mtcnn")
    p.add_argument("--preset", default=None, help="detector preset (default: the detector's own)")
    p.add_argument("--out-dir", default=str(ROOT / "docs"))
    p.add_argument("--only", nargs="*", choices=SHOTS, help="take only these shots")
    args = p.parse_args(argv)

    from PySide6.QtCore import QCoreApplication
    from PySide6.QtWidgets import QApplication

    from gazenet_app.ui.backend import PipelineBackend
    from gazenet_app.ui.logs import quiet_native_logs, route_qt_messages

    quiet_native_logs()
    route_qt_messages()
    QCoreApplication.setOrganizationName("gazenet")
    QCoreApplication.setApplicationName("gazenet-app")
    app = QApplication.instance() or QApplication([sys.argv[0]])
    app.setStyle("Fusion")
    photo = Path(args.photo)
    if not photo.is_file():
        print(f"error: photo not found: {photo} (needs ../shared)", file=sys.stderr)
        return 2
    model = args.model or PipelineBackend().default_model()
    if model is None:
        print("error: no pose model installed: pass --model NAME_OR_PATH", file=sys.stderr)
        return 2
    tmp = Path(tempfile.mkdtemp(prefix="gazenet-shot-"))
    clips = {"pan": make_clip(photo, tmp / f"{photo.stem}_pan.avi", frames=45),
             "review": make_clip(photo, tmp / f"{photo.stem}_review.avi", frames=30, size=(640, 360)),
             "tiles": make_clip(photo, tmp / f"{photo.stem}_tiles.avi", frames=30, size=(1280, 720), tiles=2),
             "turn": make_turn_clip(ROOT.parent / "shared" / "data" / "pose" / "pointing04", tmp / "turn.avi"),
             "batch": [make_clip(photo, tmp / f"{photo.stem}_clip{i}.avi", frames=16 + 8 * i, size=(320, 180))
                       for i in range(4)]}
    shooter = Shooter(tmp, model, args.detector, args.preset, Path(args.out_dir))
    for name in args.only or SHOTS:
        shoot(name, shooter, clips)
    failed = {k: v for k, v in shooter.errors.items() if v}
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
