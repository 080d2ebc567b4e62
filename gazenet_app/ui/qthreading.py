"""One worker pattern for every background job of the app (the pipeline worker and the batch runner).

superqt/napari shape: a worker's signals live on a separate `WorkerSignals` QObject made in the GUI thread, so
plain callables connected to them run in the GUI thread. `WorkerBase.execute(name, args)` is the one command
entry point: it runs a command named in the worker's `COMMANDS` and turns every exception into `failed(str)`.
`WorkerThread` (GUI side) moves a worker to its own QThread, sends it commands, and stops it: flag, then wait.
"""

from __future__ import annotations

import logging
import threading
import traceback
from typing import Any, ClassVar, FrozenSet, List, Optional, Tuple

from PySide6.QtCore import QCoreApplication, QObject, QThread, Signal, Slot

from gazenet_app.core.errors import GazenetError

__all__ = ["WorkerSignals", "WorkerBase", "WorkerThread", "error_text"]

log = logging.getLogger(__name__)

#: Threads that did not stop in time (kept referenced: destroying a running QThread aborts the process).
_STUCK: List[Tuple[QThread, QObject]] = []


def error_text(exc: BaseException) -> str:
    """What the user reads for an exception: the message of expected errors, else its type and message.

    Registries reject unknown names with a ValueError that lists the valid ones, so it reads as a user error.
    """
    if isinstance(exc, (GazenetError, ValueError)):
        return str(exc)
    return f"{type(exc).__name__}: {exc}"


class WorkerSignals(QObject):
    """Signals every worker has; subclasses add their own. Made in the GUI thread, never moved."""

    failed = Signal(str)  # one command failed; the worker goes on
    finished = Signal()  # the worker is done; its thread quits right after


class WorkerBase(QObject):
    """A worker living on a `WorkerThread`: commands arrive through `execute`, results leave through `events`."""

    #: The methods `execute` may run.
    COMMANDS: ClassVar[FrozenSet[str]] = frozenset({"shutdown"})
    #: Commands after which the worker is finished (its thread quits).
    FINAL: ClassVar[FrozenSet[str]] = frozenset({"shutdown"})
    signals_class = WorkerSignals

    def __init__(self) -> None:
        super().__init__()
        self.events = self.signals_class()  # not a child: it stays in the GUI thread when the worker moves
        self.abort = threading.Event()  # set from any thread; long jobs check it between steps

    def request_stop(self) -> None:
        """Ask a running command to stop at its next check (thread-safe)."""
        self.abort.set()

    def guard(self, method, *args: Any, **kwargs: Any) -> Any:
        """Run `method(...)`; any exception becomes `failed(text)` (logged with its traceback if unexpected)."""
        try:
            return method(*args, **kwargs)
        except Exception as e:  # noqa: BLE001 - a worker survives anything and reports it
            if isinstance(e, (GazenetError, ValueError)):
                log.warning("%s: %s", getattr(method, "__name__", method), e)
            else:
                log.error("%s failed:\n%s", getattr(method, "__name__", method), traceback.format_exc())
            self.events.failed.emit(error_text(e))
            return None

    @Slot(str, object)
    def execute(self, name: str, call: Tuple[tuple, dict] = ((), {})) -> None:
        """The one command entry point (queued from the GUI thread): run `name(*args, **kwargs)` guarded."""
        if name not in self.COMMANDS:
            self.events.failed.emit(f"unknown command {name!r}")
            return
        args, kwargs = call
        try:
            self.guard(getattr(self, name), *args, **kwargs)
        finally:
            if name in self.FINAL:
                self.events.finished.emit()
                thread = QThread.currentThread()
                app = QCoreApplication.instance()
                if app is None or thread != app.thread():
                    thread.quit()  # the worker's own thread (never the GUI's): its loop ends after this slot

    def shutdown(self) -> None:
        """Release what the worker holds (idempotent; also called from the GUI thread after its thread ended)."""
        self.close()

    def close(self) -> None:
        """Release resources; workers holding files or devices override this."""


class WorkerThread(QObject):
    """GUI side of a worker: its QThread, the command signal, and a clean stop (flag, shutdown, wait)."""

    _command = Signal(str, object)

    def __init__(self, worker: WorkerBase, name: str, parent: Optional[QObject] = None) -> None:
        super().__init__(parent)
        self.worker = worker
        self.events = worker.events
        self.thread = QThread()
        self.thread.setObjectName(name)
        worker.moveToThread(self.thread)
        self._command.connect(worker.execute)
        self._stopped = False

    def start(self, first: Optional[str] = None, *args: Any) -> None:
        """Start the thread, then run the command `first` in it (if given)."""
        self.thread.start()
        if first:
            self.send(first, *args)

    def is_running(self) -> bool:
        """True while the worker's thread runs."""
        return self.thread.isRunning()

    def send(self, name: str, *args: Any, **kwargs: Any) -> None:
        """Queue one command; the worker runs it between two frames (or steps)."""
        self._command.emit(name, (args, kwargs))

    def stop(self, timeout_ms: int = 10000) -> bool:
        """Flag the worker, ask it to shut down, wait for its thread; True when it stopped in time."""
        if self._stopped:
            return True
        self.worker.request_stop()
        finished = True
        if self.thread.isRunning():
            self.send("shutdown")
            finished = self.thread.wait(timeout_ms)
        if not finished:
            # Stuck in a blocking call (a hung camera): never destroy a running QThread; keep it referenced.
            log.error("the %s thread did not stop within %d ms", self.thread.objectName(), timeout_ms)
            _STUCK.append((self.thread, self.worker))
            return False
        self._stopped = True
        self.worker.close()  # the thread is gone: anything still open (shutdown never ran) is closed here
        return True
