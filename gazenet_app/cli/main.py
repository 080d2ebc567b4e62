"""`gazenet`: the command line. `main(argv=None) -> int`; one module per subcommand.

Each subcommand module exposes `add_parser(subparsers)` and `run(args) -> int` and imports anything heavy
(MXNet, the detectors, training) inside `run`, so `gazenet --help` stays fast. Expected errors
(`GazenetError`) print `error: <message>` on stderr and exit with 2, without a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from typing import Optional, Sequence

from gazenet_app import __version__
from gazenet_app.cli.run_guard import check_command_outputs, sigterm_as_interrupt
from gazenet_app.core.errors import GazenetError

__all__ = ["main", "build_parser", "SUBCOMMANDS", "EXIT_ERROR", "EXIT_INTERRUPTED"]

log = logging.getLogger("gazenet")

#: (command, module under gazenet_app.cli), in the order `gazenet --help` lists them.
SUBCOMMANDS = (
    ("predict", "predict"),
    ("annotate", "annotate"),
    ("annotate-corpus", "annotate_corpus"),
    ("detect", "detect"),
    ("convert", "convert"),
    ("models", "models"),
    ("data", "data"),
    ("train", "train"),
    ("evaluate", "evaluate"),
    ("train-detector", "train_detector"),
    ("evaluate-detector", "evaluate_detector"),
    ("bench", "bench"),
)

EXIT_ERROR = 2
EXIT_INTERRUPTED = 130


class _Formatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        msg = record.getMessage()
        if record.levelno >= logging.WARNING:
            msg = f"{record.levelname.lower()}: {msg}"
        if record.exc_info and record.levelno >= logging.ERROR and log.isEnabledFor(logging.DEBUG):
            msg += "\n" + self.formatException(record.exc_info)
        return msg


def _configure_logging(verbosity: int) -> None:
    level = logging.WARNING if verbosity < 0 else logging.INFO if verbosity == 0 else logging.DEBUG
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_Formatter())
    root = logging.getLogger()
    for h in list(root.handlers):
        if getattr(h, "_gazenet", False):
            root.removeHandler(h)
    handler._gazenet = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(level)


def _load_subcommands(subparsers) -> None:
    """Register every subcommand of SUBCOMMANDS (its module's `add_parser`; `run` is the default `func`)."""
    for command, module in SUBCOMMANDS:
        mod = importlib.import_module(f"gazenet_app.cli.{module}")
        before = set(subparsers.choices)
        parser = mod.add_parser(subparsers)
        added = set(subparsers.choices) - before
        for key in added or ([command] if command in subparsers.choices else []):
            p = subparsers.choices[key]
            if p.get_default("func") is None:
                p.set_defaults(func=mod.run)
        if parser is not None and parser.get_default("func") is None:
            parser.set_defaults(func=mod.run)


def build_parser() -> argparse.ArgumentParser:
    """The `gazenet` argument parser with every available subcommand."""
    parser = argparse.ArgumentParser(
        prog="gazenet", description="Head-pose estimation without keypoints (Hopenet in MXNet/Gluon).")
    parser.add_argument("--version", action="version", version=f"gazenet {__version__}")
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more log output (-vv: debug)")
    parser.add_argument("-q", "--quiet", action="store_true", help="only warnings and errors")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    _load_subcommands(sub)
    return parser


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Run `gazenet` with `argv` (default: sys.argv[1:]); returns the exit code."""
    parser = build_parser()
    try:
        args = parser.parse_args(list(argv) if argv is not None else None)
    except SystemExit as e:  # --help, --version, usage errors
        return int(e.code or 0) if not isinstance(e.code, str) else EXIT_ERROR
    args.argv = list(argv) if argv is not None else sys.argv[1:]
    _configure_logging(-1 if args.quiet else args.verbose)
    try:
        check_command_outputs(args)  # before any work: no output may be an input or another output
        with sigterm_as_interrupt():
            return int(args.func(args) or 0)
    except GazenetError as e:
        sys.stderr.write(f"error: {e}\n")
        return EXIT_ERROR
    except KeyboardInterrupt:
        sys.stderr.write("interrupted\n")
        return EXIT_INTERRUPTED


if __name__ == "__main__":
    sys.exit(main())
