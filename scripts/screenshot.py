"""Regenerate docs/screenshot.png: the real window playing a clip made from a real face photo.

    xvfb-run -a python scripts/screenshot.py            # X11 (xcb) under Xvfb, as a user sees it
    QT_QPA_PLATFORM=offscreen python scripts/screenshot.py

The clip is a slow pan/zoom/tilt over ../shared/data/faces/ulfd_13.jpg (two faces), written to a temp folder
(nothing from ../shared is stored in the repo: only the screenshot). The window uses the installed default pose
model, or `--model NAME_OR_PATH`; when no model is installed it builds a random-weight MobileNetV2 Hopenet in a
temp folder so the axes can be drawn (the angles are then meaningless: regenerate once a trained model ships).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def make_clip(photo: Path, out: Path, frames: int = 120, size=(960, 540), fps: float = 15.0) -> Path:
    """A 16:9 clip: the photo slowly panning and tilting over a blurred, dimmed copy of itself."""
    from gazenet_app.core.video import read_image

    rgb = read_image(photo)
    h, w = rgb.shape[:2]
    W, H = size
    cover = max(W / w, H / h)
    back = cv2.resize(rgb, (int(w * cover) + 1, int(h * cover) + 1), interpolation=cv2.INTER_LINEAR)
    back = back[:H, :W]
    back = (cv2.GaussianBlur(back, (0, 0), 18) * 0.45).astype(np.uint8)
    fit = 0.94 * min(W / w, H / h)
    writer = cv2.VideoWriter(str(out), cv2.VideoWriter_fourcc(*"MJPG"), fps, (W, H))
    for i in range(frames):
        t = i / max(1, frames - 1)
        angle = 8.0 * np.sin(2 * np.pi * t)
        scale = fit * (1.0 + 0.04 * np.sin(np.pi * t))
        dx = 0.06 * W * np.sin(2 * np.pi * t + 0.6)
        m = cv2.getRotationMatrix2D((w / 2, h / 2), angle, scale)
        m[0, 2] += W / 2 - w / 2 + dx
        m[1, 2] += H / 2 - h / 2
        fg = cv2.warpAffine(rgb, m, (W, H), flags=cv2.INTER_LINEAR, borderValue=(0, 0, 0))
        mask = cv2.warpAffine(np.ones((h, w), np.uint8), m, (W, H), flags=cv2.INTER_NEAREST)
        frame = np.where(mask[..., None] > 0, fg, back)
        writer.write(cv2.cvtColor(frame, cv2.COLOR_RGB2BGR))
    writer.release()
    return out


def random_model(folder: Path) -> str:
    """A random-weight MobileNetV2 Hopenet with a valid card (only to draw axes when no model is installed)."""
    import mxnet as mx

    from gazenet_app.core.geometry import ANGLE_OFFSET, BIN_WIDTH, NUM_BINS
    from gazenet_app.core.transforms import IMAGENET_MEAN, IMAGENET_STD
    from gazenet_app.model_zoo.card import SCHEMA_VERSION
    from gazenet_app.model_zoo.hopenet import get_hopenet
    from gazenet_app.model_zoo.weights_io import save_model

    mx.random.seed(3)
    net = get_hopenet("mobilenetv2", input_size=112)
    card = {"schema_version": SCHEMA_VERSION, "kind": "pose", "name": "random_weights_demo", "format": "params",
            "precision": "fp32", "architecture": "hopenet_mobilenetv2", "backbone": "mobilenetv2",
            "input_size": 112, "bins": NUM_BINS, "bin_width": BIN_WIDTH, "angle_offset": ANGLE_OFFSET,
            "mean": list(IMAGENET_MEAN), "std": list(IMAGENET_STD), "color_order": "RGB",
            "normalization_in_graph": False, "crop": "gazenet",
            "training": {"data": "none", "license": "none (random weights)", "epochs": 0},
            "eval": {}, "source": "scripts/screenshot.py: random weights, for the screenshot only"}
    return str(save_model(net, card, folder))


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--photo", default=str(ROOT.parent / "shared" / "data" / "faces" / "ulfd_13.jpg"))
    p.add_argument("--model", help="pose model name or path (default: the installed default, else random weights)")
    p.add_argument("--detector", default="mtcnn")
    p.add_argument("-o", "--output", default=str(ROOT / "docs" / "screenshot.png"))
    p.add_argument("--frames", type=int, default=90, help="frames to play before the picture is taken")
    p.add_argument("--size", default="1440x900", help="window size")
    args = p.parse_args(argv)

    from PySide6.QtCore import QCoreApplication, QEventLoop, QSettings, QTimer
    from PySide6.QtWidgets import QApplication

    from gazenet_app.ui.backend import PipelineBackend, WorkerOptions
    from gazenet_app.ui.main_window import MainWindow

    QCoreApplication.setOrganizationName("gazenet")
    QCoreApplication.setApplicationName("gazenet-app")
    app = QApplication.instance() or QApplication([sys.argv[0]])
    tmp = Path(tempfile.mkdtemp(prefix="gazenet-shot-"))
    clip = make_clip(Path(args.photo), tmp / f"{Path(args.photo).stem}_pan.avi")
    model = args.model or PipelineBackend().default_model() or random_model(tmp / "models")
    print(f"clip {clip}, model {model}")

    settings = QSettings(str(tmp / "settings.ini"), QSettings.Format.IniFormat)
    settings.setValue("view/seconds", True)
    options = WorkerOptions(detector=args.detector, model=model, realtime=True, smoothing=True)
    window = MainWindow(options=options, settings=settings)
    w, h = (int(v) for v in args.size.split("x"))
    window.resize(w, h)
    window.show()

    def wait(cond, timeout_s: float) -> bool:
        deadline = time.monotonic() + timeout_s
        loop = QEventLoop()
        timer = QTimer()
        timer.timeout.connect(lambda: loop.quit() if cond() or time.monotonic() > deadline else None)
        timer.start(20)
        loop.exec()
        return cond()

    if not wait(lambda: window.state is not None, 120):
        print("the worker did not start", file=sys.stderr)
        return 1
    window.splitter.setSizes([int(h * 0.58), int(h * 0.42)])
    window.open_source(str(clip))
    if not wait(lambda: window.frames_received >= args.frames or window.errors, 300):
        print(f"only {window.frames_received} frames arrived", file=sys.stderr)
    window.controller.pause()
    wait(lambda: False, 1.0)  # let the last image, timelines and face table settle
    window.timeline.redraw()
    app.processEvents()
    out = Path(args.output)
    out.parent.mkdir(parents=True, exist_ok=True)
    ok = window.grab().save(str(out), "PNG")
    errors = list(window.errors)
    window.shutdown()
    window.close()
    print(f"{'saved' if ok else 'could not save'} {out}; {window.frames_received} frames; errors: {errors or 'none'}")
    return 0 if ok and not errors else 1


if __name__ == "__main__":
    sys.exit(main())
