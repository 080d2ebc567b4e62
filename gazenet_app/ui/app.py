"""`gazenet-app` (and `python -m gazenet_app`): the QApplication, logging, the exception hook, the smoke test."""

from __future__ import annotations

import argparse
import logging
import os
import sys
import traceback
from typing import List, Optional

__all__ = ["main", "build_parser"]

log = logging.getLogger("gazenet_app.ui")


def build_parser() -> argparse.ArgumentParser:
    """The app's command line."""
    p = argparse.ArgumentParser(prog="gazenet-app", description="gazenet desktop app: live head pose on images, "
                                "videos and webcams, with timelines and annotation export.")
    p.add_argument("inputs", nargs="*", help="an image, images, a folder or a video to open ('cam:0' for a webcam)")
    p.add_argument("--model", help="pose model name or weights file (default: the installed default, if any)")
    p.add_argument("--detector", help="face detector (default: mtcnn)")
    p.add_argument("--device", default=None, help="cpu or gpu:0")
    p.add_argument("--smooth", action="store_true", help="One-Euro smoothing of angles and boxes")
    p.add_argument("--smoke-test", metavar="INPUT", help="headless self-check: run INPUT through the real window "
                   "and worker thread, write the CSV, compare with the annotation loop, exit 0 when all is well")
    p.add_argument("-o", "--output", help="CSV written by --smoke-test")
    p.add_argument("--timeout", type=float, default=300.0, help="--smoke-test time limit in seconds")
    p.add_argument("--version", action="store_true", help="print the version and exit")
    return p


def _options(args) -> dict:
    """WorkerOptions fields given on the command line."""
    kw = {}
    if args.model:
        kw["model"] = args.model
    if args.detector:
        kw["detector"] = args.detector
    if args.device:
        kw["device"] = args.device
    if args.smooth:
        kw["smoothing"] = True
    return kw


def _install_excepthook(window_getter):
    from PySide6.QtCore import QObject, Signal

    class ExceptionHandler(QObject):
        """Logs uncaught exceptions of the GUI thread and shows them in the window instead of aborting."""

        error = Signal(str)

        def __call__(self, etype, value, tb) -> None:
            text = "".join(traceback.format_exception(etype, value, tb))
            log.error("uncaught exception:\n%s", text)
            self.error.emit(f"{etype.__name__}: {value}")

    handler = ExceptionHandler()

    def show(message: str) -> None:
        window = window_getter()
        if window is not None:
            window.session.report_error(f"internal error: {message} (details in the log file)")

    handler.error.connect(show)
    sys.excepthook = handler
    return handler


def main(argv: Optional[List[str]] = None) -> int:
    """Start the desktop app; returns the process exit code."""
    args = build_parser().parse_args(argv)
    if args.version:
        from gazenet_app import __version__
        print(f"gazenet-app {__version__}")
        return 0
    if args.smoke_test and not args.output:
        print("error: --smoke-test needs -o/--output CSV", file=sys.stderr)
        return 2
    if args.smoke_test:
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

    from PySide6.QtCore import QCoreApplication
    from PySide6.QtWidgets import QApplication

    from gazenet_app.ui.logs import quiet_native_logs, route_qt_messages, setup_logging
    quiet_native_logs()
    QCoreApplication.setOrganizationName("gazenet")
    QCoreApplication.setApplicationName("gazenet-app")
    log_path = setup_logging()  # before Qt speaks: its messages go to this file
    route_qt_messages()
    app = QApplication.instance() or QApplication(sys.argv[:1])
    log.info("gazenet-app starting; log file %s", log_path)

    from gazenet_app.ui.backend import WorkerOptions

    if args.smoke_test:
        from gazenet_app.ui.smoke import run_smoke_test
        code, message = run_smoke_test(args.smoke_test, args.output, timeout_s=args.timeout,
                                       options=WorkerOptions(**_options(args)))
        print(("smoke test passed: " if code == 0 else "smoke test FAILED: ") + message,
              file=sys.stdout if code == 0 else sys.stderr)
        return code

    from gazenet_app.ui.main_window import MainWindow
    from gazenet_app.ui.logs import resource_path
    from PySide6.QtGui import QIcon

    icon = resource_path("gazenet.svg")
    if icon is not None:
        app.setWindowIcon(QIcon(str(icon)))
    holder = {}
    app._gazenet_excepthook = _install_excepthook(lambda: holder.get("window"))  # kept alive with the app
    window = MainWindow(overrides=_options(args))
    holder["window"] = window
    window.show()
    if args.inputs:
        inputs = args.inputs
        if inputs[0].startswith("cam:"):
            window.open_source(inputs[0])
        else:
            window.open_paths(inputs)
    code = app.exec()
    if not window.shutdown():
        # A worker stuck in a blocking call (e.g. a hung camera): leave without running Qt's destructors.
        log.error("exiting with a pipeline thread still running")
        logging.shutdown()
        os._exit(int(code) or 1)
    return int(code)


if __name__ == "__main__":
    sys.exit(main())
