"""The window's actions and menus, declared as tables (napari's qactions habit) and built in one loop.

Each `ActionSpec` names the window method it triggers (or the worker option a checkable action toggles), its
shortcuts and its menu. The F1 help and the README's shortcut list come from the same table.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import Dict, Tuple

from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMainWindow, QMenu

__all__ = ["ActionSpec", "ACTIONS", "MENUS", "build_actions", "build_menus", "shortcut_rows",
           "shortcut_html"]


@dataclass(frozen=True)
class ActionSpec:
    """One action: `slot` names what it calls, from the window ("ask_open", "controller.seek") with `args`;
    `option` makes it a checkable toggle of a worker option."""

    name: str
    text: str
    slot: str = ""
    shortcuts: Tuple[str, ...] = ()
    option: str = ""
    checkable: bool = False
    tip: str = ""
    args: Tuple = ()


ACTIONS: Tuple[ActionSpec, ...] = (
    ActionSpec("open", "&Open…", "ask_open", ("Ctrl+O",), tip="Open images, a folder's images or a video"),
    ActionSpec("open_folder", "Open &folder…", "ask_open_folder"),
    ActionSpec("webcam", "&Webcam…", "ask_webcam", ("Ctrl+Shift+W",)),
    ActionSpec("review", "&Review annotations…", "ask_review",
               tip="Show an annotation CSV over its video (nothing recomputed)"),
    ActionSpec("stop_review", "S&top review", "session.stop_review", tip="Run the pipeline again on the open input"),
    ActionSpec("quit", "&Quit", "close", ("Ctrl+Q",)),
    ActionSpec("play", "Play / pause", "controller.toggle_play", ("Space",)),
    ActionSpec("step", "Next frame", "controller.step", ("Right", ".")),
    ActionSpec("step_back", "Previous frame", "controller.step", ("Left", ","), args=(-1,)),
    ActionSpec("first", "First frame", "controller.seek", ("Home",), args=(0,)),
    ActionSpec("last", "Last frame", "controller.seek", ("End",), args=(-1,)),
    ActionSpec("export_csv", "Export &CSV…", "ask_export", ("Ctrl+E",), args=("csv",)),
    ActionSpec("export_jsonl", "Export &JSON Lines…", "ask_export", args=("jsonl",)),
    ActionSpec("export_video", "Export annotated &video…", "ask_export_video",
               tip="Write the open file with its overlays (runs in the background)"),
    ActionSpec("export_plots", "Export &timelines as PNG…", "ask_export_plots"),
    ActionSpec("screenshot", "&Screenshot of the frame…", "ask_screenshot", ("Ctrl+Shift+S",)),
    ActionSpec("record", "&Record while playing", "toggle_recording", ("Ctrl+R",), checkable=True,
               tip="Write every processed frame's rows to a CSV as it plays"),
    ActionSpec("batch", "&Batch annotate…", "show_batch", ("Ctrl+B",)),
    ActionSpec("load_weights", "&Load weights…", "ask_load_weights", ("Ctrl+L",)),
    ActionSpec("smoothing", "&Smoothing (One-Euro)", option="smoothing", checkable=True),
    ActionSpec("sequence", "Treat a folder as one &video (sequence)", option="sequence", checkable=True,
               tip="Off: the photos of a folder are independent images. On: they are the frames of one video "
                   "(faces tracked and smoothed from one to the next)"),
    ActionSpec("cube", "Show &cube", option="show_cube", checkable=True),
    ActionSpec("text", "Show &numbers", option="show_text", checkable=True),
    ActionSpec("mirror", "&Mirror view", option="mirror", checkable=True),
    ActionSpec("seconds", "Timeline in s&econds", "set_seconds", checkable=True),
    ActionSpec("faces", "&Faces panel", "face_table.setVisible", ("Ctrl+Shift+F",), checkable=True,
               tip="Show or hide the table of the faces in the frame shown"),
    ActionSpec("fullscreen", "&Full screen", "toggle_fullscreen", ("F11",), checkable=True),
    ActionSpec("prefs", "&Preferences…", "ask_preferences", ("Ctrl+,",)),
    ActionSpec("help", "&Keyboard shortcuts", "show_help", ("F1",)),
    ActionSpec("about", "&About gazenet", "show_about"),
    ActionSpec("log", "Open &log file", "open_log"),
)

#: Menu title -> action names ("-" a separator, "@recent" the recent-files submenu).
MENUS: Dict[str, Tuple[str, ...]] = {
    "&File": ("open", "open_folder", "webcam", "@recent", "-", "review", "stop_review", "-", "quit"),
    "&Playback": ("play", "step", "step_back", "first", "last"),
    "&Export": ("export_csv", "export_jsonl", "export_video", "export_plots", "screenshot", "-", "record", "batch"),
    "&Model": ("load_weights",),
    "&View": ("smoothing", "sequence", "cube", "text", "mirror", "seconds", "-", "faces", "fullscreen", "-",
              "prefs"),
    "&Help": ("help", "about", "log"),
}


def build_actions(window: QMainWindow, specs: Tuple[ActionSpec, ...] = ACTIONS) -> Dict[str, QAction]:
    """QActions for `specs`, added to the window (their shortcuts work even with the menu bar hidden)."""
    actions: Dict[str, QAction] = {}
    for spec in specs:
        action = QAction(spec.text, window)
        action.setObjectName(spec.name)
        action.setShortcuts([QKeySequence(s) for s in spec.shortcuts])
        action.setCheckable(spec.checkable)
        if spec.tip:
            action.setStatusTip(spec.tip)
            action.setToolTip(spec.tip)
        if spec.option:
            action.toggled.connect(lambda on, key=spec.option: window.session.set_options(**{key: on}))
        elif spec.checkable:
            action.toggled.connect(_resolve(window, spec.slot))
        else:
            action.triggered.connect(lambda _=False, spec=spec: _resolve(window, spec.slot)(*spec.args))
        window.addAction(action)
        actions[spec.name] = action
    return actions


def _resolve(window: QMainWindow, slot: str):
    """The callable a dotted slot name names, from the window ("controller.seek" -> window.controller.seek)."""
    target = window
    for part in slot.split("."):
        target = getattr(target, part)
    return target


def build_menus(window: QMainWindow, actions: Dict[str, QAction], extra: Dict[str, object]) -> Dict[str, QMenu]:
    """The menu bar from MENUS; `extra` maps '@name' entries to a QMenu or QAction."""
    menus: Dict[str, QMenu] = {}
    for title, names in MENUS.items():
        menu = window.menuBar().addMenu(title)
        for name in names:
            if name == "-":
                menu.addSeparator()
            elif name.startswith("@"):
                item = extra[name]
                menu.addMenu(item) if isinstance(item, QMenu) else menu.addAction(item)
            else:
                menu.addAction(actions[name])
        menus[title] = menu
    return menus


def shortcut_rows(specs: Tuple[ActionSpec, ...] = ACTIONS) -> Tuple[Tuple[str, str], ...]:
    """(keys, what they do) for every action with a shortcut, plus the Faces table's copy."""
    rows = tuple((" or ".join(spec.shortcuts), spec.text.replace("&", "").rstrip("…"))
                 for spec in specs if spec.shortcuts)
    return rows + (("Ctrl+C", "Copy the selected rows of the Faces table"),)


def shortcut_html() -> str:
    """The F1 help: the shortcut table."""
    rows = "".join(f"<tr><td><b>{html.escape(k)}</b>&nbsp;&nbsp;</td><td>{html.escape(v)}</td></tr>"
                   for k, v in shortcut_rows())
    return f"<h3>Keyboard shortcuts</h3><table>{rows}</table>"
