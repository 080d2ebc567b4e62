"""What `gazenet` does around every command: refuse, before any work, outputs that are an input or one another
(`core.outputs_guard.check_outputs` over the shared output flags), and treat SIGTERM as Ctrl-C, so a terminated
run keeps its partials with status `interrupted` instead of dying with the sidecar left `running`."""

from __future__ import annotations

import argparse
import contextlib
import signal
import threading
from typing import Iterator

from gazenet_app.core.outputs_guard import check_outputs

__all__ = ["OUTPUT_FLAGS", "INPUT_DESTS", "check_command_outputs", "sigterm_as_interrupt"]

#: (argparse dest, flag shown to the user) of every option that names an output file.
OUTPUT_FLAGS = (("output", "-o"), ("jsonl", "--jsonl"), ("video", "--video"), ("json", "--json"))
#: argparse dests that name input files (one or a list).
INPUT_DESTS = ("input", "inputs", "checkpoint")


def check_command_outputs(args: argparse.Namespace) -> None:
    """ExportError when two of the command's output flags name one file, or one names an input."""
    outputs = [(flag, getattr(args, dest, None)) for dest, flag in OUTPUT_FLAGS]
    inputs = []
    for dest in INPUT_DESTS:
        value = getattr(args, dest, None)
        if isinstance(value, (list, tuple)):
            inputs.extend(str(v) for v in value)
        elif isinstance(value, str):
            inputs.append(value)
    check_outputs(outputs, inputs)


def _interrupt(signum, frame) -> None:
    raise KeyboardInterrupt


@contextlib.contextmanager
def sigterm_as_interrupt() -> Iterator[None]:
    """While inside, SIGTERM raises KeyboardInterrupt in the main thread (the Ctrl-C path); restored after."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, _interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
